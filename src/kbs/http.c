/* http.c — libmicrohttpd front end (see http.h).
 *
 * Per-connection flow with MHD:
 *   1. the URI-log callback sees the raw request-target first and creates the
 *      request context (so the handler gets the exact URI, query included,
 *      which the admin ACL matches against);
 *   2. first access-handler call: headers only; we note Content-Length and
 *      return without a response (answering here would close keep-alive);
 *   3. body chunks: appended until `max_body`; past it the request is marked
 *      too big, the rest is drained and 413 answered at the end (a client
 *      streaming more than 64 MiB is answered at once and disconnected);
 *   4. final call: the handler runs and its response is queued. */
#include "kbs/http.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "core/buf.h"
#include "core/log.h"

#define MAX_DAEMONS 16
#define DRAIN_MAX ((size_t)64 << 20)

struct kbs_http_server {
  struct MHD_Daemon *d[MAX_DAEMONS];
  unsigned port[MAX_DAEMONS];
  size_t n;
  kbs_http_opts opts;
  char *cert;
  char *key;
  char *prio;
  atomic_uint_fast64_t next_request_id; /* tags every log line of one request */
};

typedef struct {
  char *uri;
  tr_buf body;
  bool started;
  bool too_big;
  size_t drained;
  bool has_len;
  size_t content_length;
  struct timespec t0;
} req_ctx;

void kbs_http_resp_set(kbs_http_resp *r, int status, const char *content_type, char *body, size_t len) {
  free(r->body);
  r->status = status;
  r->content_type = content_type;
  r->body = (uint8_t *)body;
  r->body_len = body ? len : 0;
}

void kbs_http_resp_clear(kbs_http_resp *r) {
  free(r->body);
  free(r->set_cookie);
  memset(r, 0, sizeof *r);
}

/* Requests built by tests/fuzzers carry their headers in fake_headers. */
static const char *fake_lookup(const kbs_http_req *req, const char *prefix, const char *name) {
  size_t pl = strlen(prefix);
  for (const char *const *h = req->fake_headers; h && h[0] && h[1]; h += 2)
    if (strncasecmp(h[0], prefix, pl) == 0 && strcasecmp(h[0] + pl, name) == 0) return h[1];
  return NULL;
}

const char *kbs_http_header(const kbs_http_req *req, const char *name) {
  if (!req->conn) return fake_lookup(req, "", name);
  return MHD_lookup_connection_value((struct MHD_Connection *)req->conn, MHD_HEADER_KIND, name);
}

const char *kbs_http_cookie(const kbs_http_req *req, const char *name) {
  if (!req->conn) return fake_lookup(req, "Cookie:", name);
  return MHD_lookup_connection_value((struct MHD_Connection *)req->conn, MHD_COOKIE_KIND, name);
}

static void *uri_log_cb(void *cls, const char *uri, struct MHD_Connection *con) {
  (void)cls;
  (void)con;
  req_ctx *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  c->uri = strdup(uri ? uri : "/");
  clock_gettime(CLOCK_MONOTONIC, &c->t0);
  return c;
}

static void completed_cb(void *cls, struct MHD_Connection *con, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
  (void)cls;
  (void)con;
  (void)toe;
  req_ctx *c = *con_cls;
  if (!c) return;
  free(c->uri);
  tr_buf_free(&c->body);
  free(c);
  *con_cls = NULL;
}

static enum MHD_Result send_resp(struct MHD_Connection *con, kbs_http_resp *r) {
  struct MHD_Response *resp;
  if (r->body)
    resp = MHD_create_response_from_buffer(r->body_len, r->body, MHD_RESPMEM_MUST_FREE);
  else
    resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
  if (!resp) return MHD_NO;
  r->body = NULL; /* now owned by MHD */
  if (r->content_type) MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->content_type);
  if (r->set_cookie) MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, r->set_cookie);
  enum MHD_Result ret = MHD_queue_response(con, (unsigned)r->status, resp);
  MHD_destroy_response(resp);
  return ret;
}

static double elapsed(const req_ctx *c) {
  struct timespec t1;
  clock_gettime(CLOCK_MONOTONIC, &t1);
  return (double)(t1.tv_sec - c->t0.tv_sec) + (double)(t1.tv_nsec - c->t0.tv_nsec) / 1e9;
}

/* One line per request: failures at INFO with the error body (what the
 * client was told), successes at DEBUG so the hot path stays quiet. */
static void log_request(const kbs_http_req *req, const kbs_http_resp *r, double secs) {
  if (r->status < 400) {
    TR_DEBUG("http", "%s %s -> %d (%.2f ms)", req->method, req->uri, r->status, secs * 1e3);
    return;
  }
  int shown = r->body && r->body_len ? (int)(r->body_len > 300 ? 300 : r->body_len) : 0;
  TR_INFO("http", "%s %s -> %d (%.2f ms) %.*s", req->method, req->uri, r->status, secs * 1e3, shown,
          shown ? (const char *)r->body : "");
}

static enum MHD_Result access_cb(void *cls, struct MHD_Connection *con, const char *url, const char *method,
                                 const char *version, const char *upload_data, size_t *upload_data_size,
                                 void **con_cls) {
  (void)url;
  (void)version;
  kbs_http_server *s = cls;
  req_ctx *c = *con_cls;
  if (!c) return MHD_NO; /* allocation failed in uri_log_cb */
  kbs_http_req req = {.method = method, .uri = c->uri ? c->uri : "/", .conn = con};
  if (!c->started) {
    c->started = true;
    const char *cl = MHD_lookup_connection_value(con, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl) {
      char *end = NULL;
      unsigned long long v = strtoull(cl, &end, 10);
      if (end && *end == 0) {
        c->has_len = true;
        c->content_length = (size_t)v;
        if (v > s->opts.max_body) c->too_big = true;
      }
    }
    return MHD_YES;
  }
  if (*upload_data_size) {
    if (!c->too_big && c->body.len + *upload_data_size > s->opts.max_body) {
      c->too_big = true;
      tr_buf_free(&c->body);
    }
    if (c->too_big) {
      /* Drain (and drop) a moderately oversized body so the client reads
       * the 413 on a healthy connection; past DRAIN_MAX answer at once
       * (MHD then closes the connection). */
      c->drained += *upload_data_size;
      *upload_data_size = 0;
      if (c->drained <= DRAIN_MAX) return MHD_YES;
      kbs_http_resp r = {.status = 413};
      enum MHD_Result ret = send_resp(con, &r);
      if (s->opts.observer) s->opts.observer(s->opts.ctx, &req, &r, elapsed(c));
      kbs_http_resp_clear(&r);
      return ret;
    }
    if (!tr_buf_append(&c->body, upload_data, *upload_data_size)) return MHD_NO;
    *upload_data_size = 0;
    return MHD_YES;
  }
  kbs_http_resp r = {0};
  if (c->too_big) {
    r.status = 413;
  } else {
    req.body = c->body.data ? c->body.data : (const uint8_t *)"";
    req.body_len = c->body.len;
    req.has_content_length = c->has_len;
    req.content_length = c->content_length;
    char rid[24];
    snprintf(rid, sizeof rid, "%" PRIx64, (uint64_t)atomic_fetch_add(&s->next_request_id, 1) + 1);
    tr_log_set_request_id(rid);
    s->opts.handler(s->opts.ctx, &req, &r);
    if (!r.status) r.status = 500;
    log_request(&req, &r, elapsed(c));
    tr_log_set_request_id(NULL);
  }
  enum MHD_Result ret = send_resp(con, &r);
  if (s->opts.observer) s->opts.observer(s->opts.ctx, &req, &r, elapsed(c));
  kbs_http_resp_clear(&r);
  return ret;
}

tr_err *kbs_http_parse_socket(const char *text, char *ip, size_t iplen, unsigned *port, bool *v6) {
  const char *colon;
  const char *host = text;
  size_t hlen;
  *v6 = false;
  if (text[0] == '[') {
    const char *rb = strchr(text, ']');
    if (!rb || rb[1] != ':') return tr_err_new(TR_E_INVALID, "socket `%s`: expected [IPv6]:port", text);
    host = text + 1;
    hlen = (size_t)(rb - host);
    colon = rb + 1;
    *v6 = true;
  } else {
    colon = strrchr(text, ':');
    if (!colon) return tr_err_new(TR_E_INVALID, "socket `%s`: expected IP:port", text);
    hlen = (size_t)(colon - text);
  }
  if (hlen == 0 || hlen >= iplen) return tr_err_new(TR_E_INVALID, "socket `%s`: bad address", text);
  memcpy(ip, host, hlen);
  ip[hlen] = 0;
  if (strcmp(ip, "localhost") == 0) snprintf(ip, iplen, "127.0.0.1");
  char *end = NULL;
  unsigned long p = strtoul(colon + 1, &end, 10);
  if (!colon[1] || !end || *end || p > 65535) return tr_err_new(TR_E_INVALID, "socket `%s`: bad port", text);
  *port = (unsigned)p;
  if (!*v6 && strchr(ip, ':')) *v6 = true;
  unsigned char tmp[16];
  if (inet_pton(*v6 ? AF_INET6 : AF_INET, ip, tmp) != 1)
    return tr_err_new(TR_E_INVALID, "socket `%s`: `%s` is not an IP address", text, ip);
  return NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap) {
  (void)cls;
  char line[512];
  vsnprintf(line, sizeof line, fmt, ap);
  size_t n = strlen(line);
  while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
    line[--n] = 0;
  TR_DEBUG("http", "%s", line);
}

tr_err *kbs_http_start(const kbs_http_opts *opts, kbs_http_server **out) {
  if (!opts->nsockets) return tr_err_new(TR_E_INVALID, "http_server.sockets is empty");
  if (opts->nsockets > MAX_DAEMONS) return tr_err_new(TR_E_LIMIT, "at most %d sockets", MAX_DAEMONS);
  bool tls = opts->cert_pem != NULL;
  if (tls && !MHD_is_feature_supported(MHD_FEATURE_TLS))
    return tr_err_new(TR_E_UNSUPPORTED, "this libmicrohttpd was built without TLS support");
  kbs_http_server *s = calloc(1, sizeof *s);
  if (!s) return tr_err_new(TR_E_NOMEM, "out of memory");
  s->opts = *opts;
  if (tls) {
    s->cert = strdup(opts->cert_pem);
    s->key = strdup(opts->key_pem ? opts->key_pem : "");
    s->prio = opts->tls_priorities ? strdup(opts->tls_priorities) : NULL;
  }
  for (size_t i = 0; i < opts->nsockets; i++) {
    char ip[64];
    unsigned port;
    bool v6;
    tr_err *e = kbs_http_parse_socket(opts->sockets[i], ip, sizeof ip, &port, &v6);
    if (e) {
      kbs_http_stop(s);
      return e;
    }
    struct sockaddr_in sa4 = {0};
    struct sockaddr_in6 sa6 = {0};
    struct sockaddr *sa;
    if (v6) {
      sa6.sin6_family = AF_INET6;
      sa6.sin6_port = htons((uint16_t)port);
      inet_pton(AF_INET6, ip, &sa6.sin6_addr);
      sa = (struct sockaddr *)&sa6;
    } else {
      sa4.sin_family = AF_INET;
      sa4.sin_port = htons((uint16_t)port);
      inet_pton(AF_INET, ip, &sa4.sin_addr);
      sa = (struct sockaddr *)&sa4;
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
    if (v6) flags |= MHD_USE_IPv6;
    if (tls) flags |= MHD_USE_TLS;
    struct MHD_OptionItem o[16];
    size_t k = 0;
    o[k++] = (struct MHD_OptionItem){MHD_OPTION_SOCK_ADDR, 0, sa};
    o[k++] = (struct MHD_OptionItem){MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)uri_log_cb, NULL};
    o[k++] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)completed_cb, NULL};
    o[k++] = (struct MHD_OptionItem){MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)mhd_log, NULL};
    o[k++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_TIMEOUT, 120, NULL};
    /* Request head limit (answered 431 beyond). MHD zeroes the whole pool
     * after every request, so this costs per request: 128 KiB is actix's
     * request-head buffer limit, room for large Bearer tokens. */
    o[k++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_MEMORY_LIMIT, 128 * 1024, NULL};
    o[k++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_LIMIT, 4096, NULL};
    if (opts->workers > 1)
      o[k++] = (struct MHD_OptionItem){MHD_OPTION_THREAD_POOL_SIZE, (intptr_t)opts->workers, NULL};
    if (tls) {
      o[k++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, s->cert};
      o[k++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, s->key};
      if (s->prio) o[k++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_PRIORITIES, 0, s->prio};
    }
    o[k++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
    s->d[i] = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, access_cb, s, MHD_OPTION_ARRAY, o,
                               MHD_OPTION_END);
    if (!s->d[i]) {
      kbs_http_stop(s);
      return tr_err_new(TR_E_IO,
                        "cannot listen on %s%s (address in use, bad TLS key/certificate or TLS settings?)",
                        opts->sockets[i], tls ? " with TLS" : "");
    }
    s->n = i + 1;
    const union MHD_DaemonInfo *inf = MHD_get_daemon_info(s->d[i], MHD_DAEMON_INFO_BIND_PORT);
    s->port[i] = inf ? inf->port : port;
  }
  *out = s;
  return NULL;
}

unsigned kbs_http_port(const kbs_http_server *s, size_t i) { return i < s->n ? s->port[i] : 0; }

void kbs_http_stop(kbs_http_server *s) {
  if (!s) return;
  for (size_t i = 0; i < MAX_DAEMONS; i++)
    if (s->d[i]) MHD_stop_daemon(s->d[i]);
  free(s->cert);
  free(s->key);
  free(s->prio);
  free(s);
}
