/* server.c — unary gRPC server on the C core API (see server.h).
 *
 * Design: one completion queue shared by the worker threads, every call a
 * small state machine whose stage travels as the event tag:
 *   NEW  (grpc_server_request_call matched a call) -> start RECV_MESSAGE
 *   RECV (request bytes arrived) -> run the handler on this thread, start
 *        SEND_INITIAL_METADATA + SEND_MESSAGE? + SEND_STATUS + RECV_CLOSE
 *   SEND (answer delivered or call gone) -> release the call
 * Whichever worker polls the queue handles the event itself, so a call does
 * not hop between threads (an earlier one-queue-per-worker design spent a
 * tenth of its time in context switches). Bounds: `workers` threads run
 * handlers; at most max_calls (= 4 x workers) calls are accepted at once:
 * a new request_call is posted only while fewer are active, so further
 * calls wait inside gRPC (transport flow control), not in our memory.
 * Shutdown: grpc_server_shutdown_and_notify fails the posted request_calls
 * (their contexts are freed), running calls finish or are cancelled after
 * the grace period, the server is destroyed, then the queue is shut down,
 * which ends the threads. */
#include "grpc/server.h"

#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/slice.h>
#include <grpc/support/time.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/log.h"
#include "grpc/health.pb-c.h"
#include "grpc/rpc.h"

#define TAG_SHUTDOWN ((void *)1)

typedef enum { STAGE_NEW, STAGE_RECV, STAGE_SEND } stage;

typedef struct call_ctx {
  stage stage;
  grpc_call *call;
  grpc_call_details details;
  grpc_metadata_array md;
  grpc_byte_buffer *payload;
  grpc_byte_buffer *out;
  grpc_slice status_details;
  int cancelled;
} call_ctx;

struct tr_grpc_server {
  grpc_server *server;
  grpc_completion_queue *cq;
  bool started;
  uint16_t port;
  tr_grpc_method *methods;
  size_t nmethods;
  char **health;
  size_t nhealth;
  pthread_t *threads;
  size_t nthreads, nstarted;
  pthread_mutex_t mu;  /* guards the counters below */
  pthread_cond_t idle; /* signalled when active drops to 0 */
  size_t active, posted, max_calls;
  bool shutting_down;
  char name[32];
};

static grpc_event next_event(grpc_completion_queue *cq) {
  return grpc_completion_queue_next(cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
}

/* Reads a whole byte buffer into a malloc'd copy. */
static uint8_t *buffer_bytes(grpc_byte_buffer *bb, size_t *len) {
  grpc_byte_buffer_reader r;
  *len = 0;
  if (!grpc_byte_buffer_reader_init(&r, bb)) return NULL;
  grpc_slice sl = grpc_byte_buffer_reader_readall(&r);
  grpc_byte_buffer_reader_destroy(&r);
  size_t n = GRPC_SLICE_LENGTH(sl);
  uint8_t *out = malloc(n ? n : 1);
  if (out) {
    if (n) memcpy(out, GRPC_SLICE_START_PTR(sl), n);
    *len = n;
  }
  grpc_slice_unref(sl);
  return out;
}

static bool slice_eq(grpc_slice s, const char *str) {
  size_t n = strlen(str);
  return GRPC_SLICE_LENGTH(s) == n && memcmp(GRPC_SLICE_START_PTR(s), str, n) == 0;
}

/* grpc.health.v1.Health/Check */
static tr_err *health_check(tr_grpc_server *s, const uint8_t *req, size_t len, uint8_t **resp, size_t *rlen) {
  ProtobufCMessage *m = NULL;
  tr_err *e = tr_grpc_unpack(&grpc__health__v1__health_check_request__descriptor, req, len, &m);
  if (e) return e;
  const char *svc = ((Grpc__Health__V1__HealthCheckRequest *)m)->service;
  bool known = !svc || !*svc;
  for (size_t i = 0; !known && i < s->nhealth; i++)
    known = strcmp(s->health[i], svc) == 0;
  if (!known) e = tr_err_new(TR_E_NOTFOUND, "unknown service `%s`", svc);
  tr_grpc_msg_free(m);
  if (e) return e;
  Grpc__Health__V1__HealthCheckResponse r = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__INIT;
  r.status = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING;
  return tr_grpc_pack(&r.base, resp, rlen);
}

static tr_err *dispatch(tr_grpc_server *s, grpc_slice method, const uint8_t *req, size_t len, uint8_t **resp,
                        size_t *rlen) {
  for (size_t i = 0; i < s->nmethods; i++)
    if (slice_eq(method, s->methods[i].path))
      return s->methods[i].fn(s->methods[i].ctx, req, len, resp, rlen);
  if (slice_eq(method, "/grpc.health.v1.Health/Check")) return health_check(s, req, len, resp, rlen);
  return tr_err_new(TR_E_UNSUPPORTED, "unknown method %.*s", (int)GRPC_SLICE_LENGTH(method),
                    (const char *)GRPC_SLICE_START_PTR(method));
}

static void ctx_free(call_ctx *c) {
  if (c->call) grpc_call_unref(c->call);
  if (c->payload) grpc_byte_buffer_destroy(c->payload);
  if (c->out) grpc_byte_buffer_destroy(c->out);
  if (c->stage == STAGE_SEND) grpc_slice_unref(c->status_details);
  grpc_call_details_destroy(&c->details);
  grpc_metadata_array_destroy(&c->md);
  free(c);
}

static void call_done(tr_grpc_server *s) {
  pthread_mutex_lock(&s->mu);
  if (--s->active == 0) pthread_cond_broadcast(&s->idle);
  pthread_mutex_unlock(&s->mu);
}

/* Posts request_calls until `posted + active` reaches max_calls. */
static void post_requests(tr_grpc_server *s) {
  for (;;) {
    pthread_mutex_lock(&s->mu);
    bool more = !s->shutting_down && s->posted + s->active < s->max_calls;
    if (more) s->posted++;
    pthread_mutex_unlock(&s->mu);
    if (!more) return;
    call_ctx *c = calloc(1, sizeof(*c));
    if (c) {
      c->stage = STAGE_NEW;
      grpc_call_details_init(&c->details);
      grpc_metadata_array_init(&c->md);
    }
    if (!c ||
        grpc_server_request_call(s->server, &c->call, &c->details, &c->md, s->cq, s->cq, c) != GRPC_CALL_OK) {
      if (c) ctx_free(c);
      pthread_mutex_lock(&s->mu);
      s->posted--;
      pthread_mutex_unlock(&s->mu);
      return;
    }
  }
}

/* RECV done: run the handler and send the answer. */
static void answer(tr_grpc_server *s, call_ctx *c, bool ok) {
  const grpc_call_details *d = &c->details;
  uint8_t *resp = NULL;
  size_t rlen = 0;
  tr_err *e = NULL;
  grpc_status_code status = GRPC_STATUS_OK;
  if (!ok || !c->payload) {
    /* Oversized messages never reach us: gRPC has already failed the call
     * with RESOURCE_EXHAUSTED, and whatever we send is dropped. */
    e = tr_err_new(TR_E_INVALID, "no request message");
  } else if (gpr_time_cmp(d->deadline, gpr_now(d->deadline.clock_type)) < 0) {
    e = tr_err_new(TR_E_IO, "deadline exceeded before the call was handled");
    status = GRPC_STATUS_DEADLINE_EXCEEDED;
  } else {
    size_t len = 0;
    uint8_t *req = buffer_bytes(c->payload, &len);
    if (!req)
      e = tr_err_new(TR_E_NOMEM, "out of memory reading the request");
    else
      e = dispatch(s, d->method, req, len, &resp, &rlen);
    free(req);
  }
  if (e) {
    if (status == GRPC_STATUS_OK) status = (grpc_status_code)tr_grpc_status_from_code(tr_err_code(e));
    int ml = (int)GRPC_SLICE_LENGTH(d->method);
    const char *mp = (const char *)GRPC_SLICE_START_PTR(d->method);
    if (status == GRPC_STATUS_INTERNAL || status == GRPC_STATUS_UNKNOWN)
      TR_ERROR(s->name, "%.*s: %s", ml, mp, tr_err_msg(e));
    else
      TR_INFO(s->name, "%.*s: %s: %s", ml, mp, tr_grpc_status_name(status), tr_err_msg(e));
  }
  c->status_details = grpc_slice_from_copied_string(e ? tr_err_msg(e) : "");
  tr_err_free(e);
  if (status == GRPC_STATUS_OK) {
    grpc_slice sl = rlen ? grpc_slice_new(resp, rlen, free) : grpc_empty_slice();
    if (!rlen) free(resp);
    resp = NULL;
    c->out = grpc_raw_byte_buffer_create(&sl, 1);
    grpc_slice_unref(sl);
  }
  free(resp);
  grpc_op ops[4];
  memset(ops, 0, sizeof(ops));
  size_t n = 0;
  ops[n].op = GRPC_OP_SEND_INITIAL_METADATA;
  ops[n++].data.send_initial_metadata.count = 0;
  if (c->out) {
    ops[n].op = GRPC_OP_SEND_MESSAGE;
    ops[n++].data.send_message.send_message = c->out;
  }
  ops[n].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
  ops[n].data.send_status_from_server.status = status;
  ops[n].data.send_status_from_server.status_details = &c->status_details;
  ops[n++].data.send_status_from_server.trailing_metadata_count = 0;
  ops[n].op = GRPC_OP_RECV_CLOSE_ON_SERVER;
  ops[n++].data.recv_close_on_server.cancelled = &c->cancelled;
  c->stage = STAGE_SEND;
  if (grpc_call_start_batch(c->call, ops, n, c, NULL) != GRPC_CALL_OK) {
    TR_ERROR(s->name, "cannot start the answer batch");
    ctx_free(c);
    call_done(s);
  }
}

static void on_event(tr_grpc_server *s, call_ctx *c, bool ok) {
  switch (c->stage) {
  case STAGE_NEW:
    pthread_mutex_lock(&s->mu);
    s->posted--;
    if (ok) s->active++;
    pthread_mutex_unlock(&s->mu);
    if (!ok) { /* shutting down */
      ctx_free(c);
      return;
    }
    post_requests(s); /* keep accepting while this one is handled */
    c->stage = STAGE_RECV;
    grpc_op recv;
    memset(&recv, 0, sizeof(recv));
    recv.op = GRPC_OP_RECV_MESSAGE;
    recv.data.recv_message.recv_message = &c->payload;
    if (grpc_call_start_batch(c->call, &recv, 1, c, NULL) != GRPC_CALL_OK) answer(s, c, false);
    return;
  case STAGE_RECV: answer(s, c, ok); return;
  case STAGE_SEND:
    ctx_free(c);
    call_done(s);
    post_requests(s);
    return;
  }
}

static void *worker_main(void *arg) {
  tr_grpc_server *s = arg;
  for (;;) {
    grpc_event ev = next_event(s->cq);
    if (ev.type == GRPC_QUEUE_SHUTDOWN) return NULL;
    if (ev.type == GRPC_OP_COMPLETE) on_event(s, ev.tag, ev.success != 0);
  }
}

void tr_grpc_format_addr(const char *listen, uint16_t port, char *buf, size_t size) {
  const char *colon = strrchr(listen, ':');
  int hostlen = colon ? (int)(colon - listen) : (int)strlen(listen);
  snprintf(buf, size, "%.*s:%u", hostlen, listen, (unsigned)port);
}

static tr_err *server_creds(const tr_grpc_server_config *cfg, grpc_server_credentials **out) {
  if (!(cfg->tls_cert && cfg->tls_key)) {
    *out = grpc_insecure_server_credentials_create();
    return NULL;
  }
  uint8_t *cert = NULL, *key = NULL;
  size_t clen = 0, klen = 0;
  tr_err *e = tr_read_file(cfg->tls_cert, 1 << 20, &cert, &clen);
  if (e) return tr_err_wrap(e, "TLS certificate");
  if ((e = tr_read_file(cfg->tls_key, 1 << 20, &key, &klen))) {
    free(cert);
    return tr_err_wrap(e, "TLS private key");
  }
  grpc_ssl_pem_key_cert_pair pair = {(const char *)key, (const char *)cert};
  *out = grpc_ssl_server_credentials_create(NULL, &pair, 1, 0, NULL);
  free(cert);
  free(key);
  return *out ? NULL
              : tr_err_new(TR_E_CRYPTO, "cannot create TLS credentials from %s and %s", cfg->tls_cert,
                           cfg->tls_key);
}

static void free_server(tr_grpc_server *s) {
  for (size_t i = 0; i < s->nmethods; i++)
    free((char *)s->methods[i].path);
  free(s->methods);
  for (size_t i = 0; i < s->nhealth; i++)
    free(s->health[i]);
  free(s->health);
  free(s->threads);
  pthread_mutex_destroy(&s->mu);
  pthread_cond_destroy(&s->idle);
  free(s);
}

static void shutdown_and_free(tr_grpc_server *s, int grace_ms) {
  pthread_mutex_lock(&s->mu);
  s->shutting_down = true;
  pthread_mutex_unlock(&s->mu);
  if (s->started) {
    grpc_completion_queue *scq = grpc_completion_queue_create_for_pluck(NULL);
    grpc_server_shutdown_and_notify(s->server, scq, TAG_SHUTDOWN);
    gpr_timespec until =
        gpr_time_add(gpr_now(GPR_CLOCK_REALTIME), gpr_time_from_millis(grace_ms, GPR_TIMESPAN));
    grpc_event ev = grpc_completion_queue_pluck(scq, TAG_SHUTDOWN, until, NULL);
    if (ev.type == GRPC_QUEUE_TIMEOUT) {
      TR_WARN(s->name, "calls still running after %d ms: cancelling them", grace_ms);
      grpc_server_cancel_all_calls(s->server);
      grpc_completion_queue_pluck(scq, TAG_SHUTDOWN, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
    }
    grpc_completion_queue_shutdown(scq);
    grpc_completion_queue_destroy(scq); /* its only event was plucked above */
  }
  /* A call cancelled by its deadline counts as finished for gRPC, but its
   * handler may still be running and will post its answer on our queue:
   * wait for every handler before the queue goes away. */
  pthread_mutex_lock(&s->mu);
  while (s->active > 0)
    pthread_cond_wait(&s->idle, &s->mu);
  pthread_mutex_unlock(&s->mu);
  grpc_server_destroy(s->server);
  if (s->cq) {
    grpc_completion_queue_shutdown(s->cq); /* the workers drain it and return */
    for (size_t i = 0; i < s->nstarted; i++)
      pthread_join(s->threads[i], NULL);
    if (!s->nstarted)
      while (next_event(s->cq).type != GRPC_QUEUE_SHUTDOWN) {
      }
    grpc_completion_queue_destroy(s->cq);
  }
  free_server(s);
  grpc_shutdown();
}

tr_err *tr_grpc_server_start(const tr_grpc_server_config *cfg, tr_grpc_server **out) {
  *out = NULL;
  tr_grpc_server *s = calloc(1, sizeof(*s));
  if (!s) return tr_err_new(TR_E_NOMEM, "out of memory");
  pthread_mutex_init(&s->mu, NULL);
  pthread_cond_init(&s->idle, NULL);
  snprintf(s->name, sizeof(s->name), "%s", cfg->name ? cfg->name : "grpc");
  s->methods = calloc(cfg->nmethods ? cfg->nmethods : 1, sizeof(*s->methods));
  s->health = calloc(cfg->nhealth ? cfg->nhealth : 1, sizeof(char *));
  long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
  s->nthreads = cfg->workers ? cfg->workers : (size_t)(ncpu > 2 ? 2 * ncpu : 4);
  s->max_calls = 4 * s->nthreads;
  s->threads = calloc(s->nthreads, sizeof(*s->threads));
  if (!s->methods || !s->health || !s->threads) {
    free_server(s);
    return tr_err_new(TR_E_NOMEM, "out of memory");
  }
  for (size_t i = 0; i < cfg->nmethods; i++) {
    s->methods[i] = cfg->methods[i];
    s->methods[i].path = strdup(cfg->methods[i].path);
    s->nmethods = i + 1;
  }
  for (size_t i = 0; i < cfg->nhealth; i++) {
    s->health[i] = strdup(cfg->health_services[i]);
    s->nhealth = i + 1;
  }
  grpc_server_credentials *creds = NULL;
  tr_err *e = server_creds(cfg, &creds);
  if (e) {
    free_server(s);
    return e;
  }
  grpc_init();
  size_t maxmsg = cfg->max_message ? cfg->max_message : TR_GRPC_DEFAULT_MAX_MESSAGE;
  grpc_arg args[3];
  args[0].type = GRPC_ARG_INTEGER;
  args[0].key = GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH;
  args[0].value.integer = maxmsg > INT32_MAX ? INT32_MAX : (int)maxmsg;
  args[1].type = GRPC_ARG_INTEGER;
  args[1].key = GRPC_ARG_MAX_SEND_MESSAGE_LENGTH;
  args[1].value.integer = -1;
  args[2].type = GRPC_ARG_INTEGER; /* a second server on the same port must fail, not share it */
  args[2].key = GRPC_ARG_ALLOW_REUSEPORT;
  args[2].value.integer = 0;
  grpc_channel_args ca = {3, args};
  s->server = grpc_server_create(&ca, NULL);
  s->cq = grpc_completion_queue_create_for_next(NULL);
  grpc_server_register_completion_queue(s->server, s->cq, NULL);
  int port = grpc_server_add_http2_port(s->server, cfg->listen, creds);
  grpc_server_credentials_release(creds);
  if (port <= 0) {
    e = tr_err_new(TR_E_IO, "cannot listen on %s (address in use or invalid)", cfg->listen);
  } else {
    s->port = (uint16_t)port;
    grpc_server_start(s->server);
    s->started = true;
    for (size_t i = 0; i < s->nthreads && !e; i++) {
      if (pthread_create(&s->threads[i], NULL, worker_main, s) != 0)
        e = tr_err_new(TR_E_INTERNAL, "cannot start worker thread");
      else
        s->nstarted++;
    }
    if (!e) post_requests(s);
  }
  if (e) {
    shutdown_and_free(s, 0);
    return e;
  }
  *out = s;
  return NULL;
}

uint16_t tr_grpc_server_port(const tr_grpc_server *s) { return s->port; }

void tr_grpc_server_stop(tr_grpc_server *s, int grace_ms) {
  if (s) shutdown_and_free(s, grace_ms < 0 ? 0 : grace_ms);
}
