/* http_server.c — see http_server.h.
 *
 * MHD calls the access handler repeatedly per request: first with no body
 * (we allocate the per-request state and return), then once per body chunk
 * (appended, bounded by max_body), then a final time with an empty chunk,
 * when the response is queued. Queuing on the first call would make MHD
 * close the connection, so it is never done. */
#include "as/http_server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <inttypes.h>
#include <stdatomic.h>

#include "core/buf.h"
#include "core/json.h"
#include "core/log.h"

typedef struct req_state req_state;

struct tr_http_server {
  struct MHD_Daemon *d;
  tr_http_handler h;
  void *ctx;
  size_t max_body;
  char **cors;
  size_t ncors;
  char **inline_paths;
  char *cert, *key;
  uint16_t port;
  /* handler threads and their queue of suspended requests */
  pthread_t *workers;
  unsigned nworkers;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  req_state *head, *tail;
  bool stopping;
  atomic_uint_fast64_t next_request_id; /* tags every log line of one request */
};

struct req_state {
  tr_buf body;
  bool too_big;
  /* offloaded request: queued → handled → resumed and answered */
  bool done;
  struct MHD_Connection *conn;
  char *method, *url;
  tr_http_response resp;
  req_state *next;
};

const char *tr_http_header(const tr_http_request *r, const char *name) {
  return MHD_lookup_connection_value((struct MHD_Connection *)r->conn, MHD_HEADER_KIND, name);
}

void tr_http_reply(tr_http_response *resp, int status, const char *content_type, char *body) {
  free(resp->body);
  resp->status = status;
  resp->content_type = content_type;
  resp->body = body;
  resp->body_len = body ? strlen(body) : 0;
}

void tr_http_error(tr_http_response *resp, int status, const char *msg) {
  json_t *j = json_pack("{s:s}", "error", msg ? msg : "");
  tr_http_reply(resp, status, "application/json", j ? tr_json_dump_compact(j) : NULL);
  json_decref(j);
}

static const char *allowed_origin(const tr_http_server *s, struct MHD_Connection *c) {
  if (!s->ncors) return NULL;
  const char *o = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
  if (!o) return NULL;
  for (size_t i = 0; i < s->ncors; i++)
    if (strcmp(s->cors[i], o) == 0 || strcmp(s->cors[i], "*") == 0) return o;
  return NULL;
}

static enum MHD_Result send_response(struct MHD_Connection *c, const tr_http_server *s, tr_http_response *r) {
  struct MHD_Response *m = MHD_create_response_from_buffer(
      r->body_len, r->body ? r->body : (void *)"", r->body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
  if (!m) {
    free(r->body);
    return MHD_NO;
  }
  r->body = NULL; /* owned by MHD now */
  if (r->content_type) MHD_add_response_header(m, MHD_HTTP_HEADER_CONTENT_TYPE, r->content_type);
  const char *o = allowed_origin(s, c);
  if (o) {
    MHD_add_response_header(m, "Access-Control-Allow-Origin", o);
    MHD_add_response_header(m, "Vary", "Origin");
  }
  enum MHD_Result ret = MHD_queue_response(c, (unsigned)r->status, m);
  MHD_destroy_response(m);
  return ret;
}

static bool is_inline(const tr_http_server *s, const char *url) {
  for (char **p = s->inline_paths; p && *p; p++)
    if (strcmp(*p, url) == 0) return true;
  return false;
}

/* Runs the handler with a request id set for this thread's log lines. */
static void run_handler(tr_http_server *s, const tr_http_request *q, tr_http_response *r) {
  char rid[24];
  snprintf(rid, sizeof rid, "%" PRIx64, (uint64_t)atomic_fetch_add(&s->next_request_id, 1) + 1);
  tr_log_set_request_id(rid);
  s->h(s->ctx, q, r);
  tr_log_set_request_id(NULL);
}

static enum MHD_Result access_cb(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                 const char *version, const char *upload, size_t *upload_size,
                                 void **con_cls) {
  (void)version;
  tr_http_server *s = cls;
  req_state *st = *con_cls;
  if (!st) {
    st = calloc(1, sizeof(*st));
    if (!st) return MHD_NO;
    *con_cls = st;
    /* A body declared larger than the limit is refused before it is sent
     * when the client waits for "100 Continue", or when it is absurdly
     * large (no draining gigabytes). Answering on this first call makes MHD
     * close the connection. A moderately oversized body sent without
     * Expect is drained and answered 413 below, so that a simple client
     * still reads the answer instead of a reset. */
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    const char *expect = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_EXPECT);
    if (cl) {
      char *end = NULL;
      unsigned long long n = strtoull(cl, &end, 10);
      unsigned long long absurd = s->max_body * 4ull > (64ull << 20) ? s->max_body * 4ull : 64ull << 20;
      if (end != cl && *end == 0 && n > s->max_body && (expect || n > absurd)) {
        tr_http_response r = {0};
        char msg[96];
        snprintf(msg, sizeof(msg), "request body larger than %zu bytes", s->max_body);
        tr_http_error(&r, 413, msg);
        return send_response(c, s, &r);
      }
    }
    return MHD_YES;
  }
  if (*upload_size) {
    if (!st->too_big) {
      if (st->body.len + *upload_size > s->max_body) {
        st->too_big = true;
        tr_buf_free(&st->body);
      } else if (!tr_buf_append(&st->body, upload, *upload_size)) {
        return MHD_NO;
      }
    }
    *upload_size = 0;
    return MHD_YES;
  }
  tr_http_response r = {0};
  if (st->too_big) {
    char msg[96];
    snprintf(msg, sizeof(msg), "request body larger than %zu bytes", s->max_body);
    tr_http_error(&r, 413, msg);
    return send_response(c, s, &r);
  }
  if (strcmp(method, "OPTIONS") == 0 && s->ncors) {
    struct MHD_Response *m = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (!m) return MHD_NO;
    const char *o = allowed_origin(s, c);
    if (o) {
      MHD_add_response_header(m, "Access-Control-Allow-Origin", o);
      MHD_add_response_header(m, "Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS");
      MHD_add_response_header(m, "Access-Control-Allow-Headers", "content-type, authorization");
      MHD_add_response_header(m, "Access-Control-Max-Age", "86400");
      MHD_add_response_header(m, "Vary", "Origin");
    }
    enum MHD_Result ret = MHD_queue_response(c, o ? 204 : 400, m);
    MHD_destroy_response(m);
    return ret;
  }
  if (st->done) { /* handled by a handler thread, connection resumed */
    r = st->resp;
    memset(&st->resp, 0, sizeof(st->resp));
    return send_response(c, s, &r);
  }
  if (!tr_buf_append(&st->body, "", 0)) return MHD_NO; /* ensure a NUL-terminated buffer */
  if (s->nworkers && !is_inline(s, url)) {
    st->conn = c;
    st->method = strdup(method);
    st->url = strdup(url);
    if (!st->method || !st->url) return MHD_NO;
    pthread_mutex_lock(&s->mu);
    if (s->stopping) {
      pthread_mutex_unlock(&s->mu);
      return MHD_NO;
    }
    MHD_suspend_connection(c); /* before a worker can resume it */
    st->next = NULL;
    if (s->tail)
      s->tail->next = st;
    else
      s->head = st;
    s->tail = st;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    return MHD_YES;
  }
  tr_http_request q = {.method = method,
                       .url = url,
                       .body = st->body.data ? (const char *)st->body.data : "",
                       .body_len = st->body.len,
                       .conn = c};
  run_handler(s, &q, &r);
  if (!r.status) tr_http_error(&r, 500, "handler produced no response");
  return send_response(c, s, &r);
}

static void *worker_main(void *arg) {
  tr_http_server *s = arg;
  for (;;) {
    pthread_mutex_lock(&s->mu);
    while (!s->head && !s->stopping)
      pthread_cond_wait(&s->cv, &s->mu);
    req_state *st = s->head;
    if (!st) { /* stopping and drained */
      pthread_mutex_unlock(&s->mu);
      return NULL;
    }
    s->head = st->next;
    if (!s->head) s->tail = NULL;
    pthread_mutex_unlock(&s->mu);
    tr_http_request q = {.method = st->method,
                         .url = st->url,
                         .body = st->body.data ? (const char *)st->body.data : "",
                         .body_len = st->body.len,
                         .conn = st->conn};
    run_handler(s, &q, &st->resp);
    if (!st->resp.status) tr_http_error(&st->resp, 500, "handler produced no response");
    st->done = true;
    MHD_resume_connection(st->conn); /* MHD calls access_cb again to answer */
  }
}

static void completed_cb(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode t) {
  (void)cls;
  (void)c;
  (void)t;
  req_state *st = *con_cls;
  if (st) {
    tr_buf_free(&st->body);
    free(st->method);
    free(st->url);
    free(st->resp.body);
    free(st);
    *con_cls = NULL;
  }
}

/* URL unescaping: as MHD's own, except that %00 stays literal. MHD hands
 * the path to us as a C string, so a decoded NUL would silently cut it
 * ("DELETE /policy/default_cpu%00x" would act on default_cpu); kept as
 * "%00" it fails the id checks instead. */
static int hexval(char ch) {
  if (ch >= '0' && ch <= '9') return ch - '0';
  if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
  if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
  return -1;
}

static size_t unescape_cb(void *cls, struct MHD_Connection *c, char *str) {
  (void)cls;
  (void)c;
  char *w = str;
  for (const char *r = str; *r;) {
    int hi, lo;
    if (r[0] == '%' && (hi = hexval(r[1])) >= 0 && (lo = hexval(r[2])) >= 0 && (hi | lo)) {
      *w++ = (char)(hi * 16 + lo);
      r += 3;
    } else {
      *w++ = *r++;
    }
  }
  *w = 0;
  return (size_t)(w - str);
}

static tr_err *parse_listen(const char *listen, struct sockaddr_storage *ss, bool *v6) {
  memset(ss, 0, sizeof(*ss));
  const char *colon = strrchr(listen, ':');
  if (!colon) return tr_err_new(TR_E_INVALID, "socket `%s`: expected IP:port", listen);
  char *end = NULL;
  long port = strtol(colon + 1, &end, 10);
  if (!colon[1] || *end || port < 0 || port > 65535)
    return tr_err_new(TR_E_INVALID, "socket `%s`: invalid port", listen);
  char host[128];
  size_t hl = (size_t)(colon - listen);
  if (hl >= sizeof(host)) return tr_err_new(TR_E_INVALID, "socket `%s`: address too long", listen);
  memcpy(host, listen, hl);
  host[hl] = 0;
  if (host[0] == '[' && hl >= 2 && host[hl - 1] == ']') {
    memmove(host, host + 1, hl - 2);
    host[hl - 2] = 0;
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
    a->sin6_family = AF_INET6;
    a->sin6_port = htons((uint16_t)port);
    if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
      return tr_err_new(TR_E_INVALID, "socket `%s`: invalid IPv6 address", listen);
    *v6 = true;
    return NULL;
  }
  struct sockaddr_in *a = (struct sockaddr_in *)ss;
  a->sin_family = AF_INET;
  a->sin_port = htons((uint16_t)port);
  if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
    return tr_err_new(TR_E_INVALID, "socket `%s`: invalid IPv4 address", listen);
  *v6 = false;
  return NULL;
}

tr_err *tr_http_start(const tr_http_config *cfg, tr_http_handler h, void *ctx, tr_http_server **out) {
  *out = NULL;
  struct sockaddr_storage ss;
  bool v6 = false;
  tr_err *e = parse_listen(cfg->listen ? cfg->listen : "127.0.0.1:8080", &ss, &v6);
  if (e) return e;
  tr_http_server *s = calloc(1, sizeof(*s));
  if (!s) return tr_err_new(TR_E_NOMEM, "out of memory");
  pthread_mutex_init(&s->mu, NULL);
  pthread_cond_init(&s->cv, NULL);
  s->h = h;
  s->ctx = ctx;
  s->max_body = cfg->max_body ? cfg->max_body : 8u << 20;
  if (cfg->ncors) {
    s->cors = calloc(cfg->ncors, sizeof(char *));
    for (size_t i = 0; s->cors && i < cfg->ncors; i++)
      s->cors[i] = strdup(cfg->cors_origins[i]);
    s->ncors = cfg->ncors;
  }
  bool tls = cfg->tls_cert && cfg->tls_key;
  if (tls) {
    size_t l;
    if ((e = tr_read_file(cfg->tls_cert, 1 << 20, (uint8_t **)&s->cert, &l)) ||
        (e = tr_read_file(cfg->tls_key, 1 << 20, (uint8_t **)&s->key, &l))) {
      tr_http_stop(s);
      return tr_err_wrap(e, "HTTPS");
    }
  }
  unsigned threads = cfg->threads;
  if (!threads) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    threads = n > 0 ? (unsigned)n : 1;
  }
  for (const char *const *p = cfg->inline_paths; p && *p; p++) {
    char **n = realloc(s->inline_paths, (size_t)(p - cfg->inline_paths + 2) * sizeof(char *));
    if (!n || !(n[p - cfg->inline_paths] = strdup(*p))) {
      if (n) s->inline_paths = n;
      tr_http_stop(s);
      return tr_err_new(TR_E_NOMEM, "out of memory");
    }
    n[p - cfg->inline_paths + 1] = NULL;
    s->inline_paths = n;
  }
  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
  if (cfg->handler_threads) flags |= MHD_ALLOW_SUSPEND_RESUME;
  if (v6) flags |= MHD_USE_IPv6;
  if (tls) flags |= MHD_USE_TLS;
  struct MHD_OptionItem o[14];
  size_t k = 0;
  o[k++] = (struct MHD_OptionItem){MHD_OPTION_SOCK_ADDR, 0, &ss};
  o[k++] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)completed_cb, NULL};
  o[k++] = (struct MHD_OptionItem){MHD_OPTION_UNESCAPE_CALLBACK, (intptr_t)unescape_cb, NULL};
  o[k++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_TIMEOUT, 60, NULL};
  o[k++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_LIMIT, 4096, NULL};
  o[k++] = (struct MHD_OptionItem){MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024, NULL};
  if (threads > 1) o[k++] = (struct MHD_OptionItem){MHD_OPTION_THREAD_POOL_SIZE, threads, NULL};
  if (tls) {
    o[k++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, s->cert};
    o[k++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, s->key};
  }
  o[k++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
  /* handler threads before the daemon: s->nworkers is read-only once MHD runs */
  if (cfg->handler_threads) {
    s->workers = calloc(cfg->handler_threads, sizeof(*s->workers));
    for (unsigned i = 0; s->workers && i < cfg->handler_threads; i++) {
      if (pthread_create(&s->workers[i], NULL, worker_main, s) != 0) break;
      s->nworkers++;
    }
    if (s->nworkers != cfg->handler_threads) {
      tr_http_stop(s);
      return tr_err_new(TR_E_NOMEM, "cannot start %u handler threads", cfg->handler_threads);
    }
  }
  s->d = MHD_start_daemon(flags, 0, NULL, NULL, access_cb, s, MHD_OPTION_ARRAY, o, MHD_OPTION_END);
  if (!s->d) {
    tr_http_stop(s);
    return tr_err_new(TR_E_IO, "cannot listen on %s%s", cfg->listen ? cfg->listen : "127.0.0.1:8080",
                      tls ? " (check the TLS certificate and key)" : "");
  }
  const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
  s->port = di ? di->port : 0;

  *out = s;
  return NULL;
}

uint16_t tr_http_port(const tr_http_server *s) { return s->port; }

void tr_http_stop(tr_http_server *s) {
  if (!s) return;
  /* Handler threads first: they finish the queued requests and resume
   * their connections, so none is left suspended when MHD stops. */
  pthread_mutex_lock(&s->mu);
  s->stopping = true;
  pthread_cond_broadcast(&s->cv);
  pthread_mutex_unlock(&s->mu);
  for (unsigned i = 0; i < s->nworkers; i++)
    pthread_join(s->workers[i], NULL);
  free(s->workers);
  if (s->d) MHD_stop_daemon(s->d);
  for (char **p = s->inline_paths; p && *p; p++)
    free(*p);
  free(s->inline_paths);
  pthread_mutex_destroy(&s->mu);
  pthread_cond_destroy(&s->cv);
  for (size_t i = 0; i < s->ncors && s->cors; i++)
    free(s->cors[i]);
  free(s->cors);
  if (s->key) memset(s->key, 0, strlen(s->key));
  free(s->cert);
  free(s->key);
  free(s);
}
