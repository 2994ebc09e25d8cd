/* server.c — unary gRPC server on the C core API (see server.h).
 *
 * Design: one completion queue shared by the worker threads, every call a
 * small state machine whose stage travels as the event tag:
 *   NEW  (a registered method's call arrived WITH its request message:
 *        grpc_server_register_method(GRPC_SRM_PAYLOAD_READ_INITIAL_BYTE_BUFFER)
 *        + grpc_server_request_registered_call) -> run the handler on this
 *        thread, start SEND_INITIAL_METADATA + SEND_MESSAGE? + SEND_STATUS +
 *        RECV_CLOSE
 *   NEW  (an unregistered method, via grpc_server_request_call) -> start
 *        RECV_MESSAGE; RECV -> answer UNIMPLEMENTED the same way
 *   SEND (answer delivered or call gone) -> release the call
 * Registered methods save one batch and one completion-queue round trip per
 * call compared with request_call + RECV_MESSAGE (bench/grpc). Whichever
 * worker polls the queue handles the event itself, so a call does not hop
 * between threads (an earlier one-queue-per-worker design spent a tenth of
 * its time in context switches). Each method keeps `workers` requests posted
 * (the generic one, 1). Bounds: `workers` threads run handlers; requests are
 * reposted only while fewer than max_calls (= 4 x workers) calls are active,
 * so at most max_calls + the posted requests are accepted at once; further
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

typedef enum { STAGE_NEW, STAGE_RECV, STAGE_SEND, STAGE_WATCH } stage;

/* Method slots: the handlers' methods 0..nmethods-1, then the built-in
 * health Check (SLOT_CHECK) and Watch (SLOT_WATCH), then the generic
 * (unregistered) slot. */
#define SLOT_CHECK(s) ((s)->nmethods)
#define SLOT_WATCH(s) ((s)->nmethods + 1)
#define MAX_WATCHERS 256
/* A Watch call has two batches in flight at times: sends carry the context
 * as tag, its RECV_CLOSE_ON_SERVER the context with the low bit set. */
#define CLOSE_TAG(c) ((void *)((uintptr_t)(c) | 1))
typedef struct {
  void *reg;     /* grpc_server_register_method handle; NULL = generic slot */
  size_t posted; /* requests outstanding for this method */
  size_t want;   /* how many to keep posted */
} method_slot;

typedef struct call_ctx {
  stage stage;
  size_t slot; /* method_slot index */
  grpc_call *call;
  gpr_timespec deadline;     /* registered calls */
  grpc_call_details details; /* generic calls */
  grpc_metadata_array md;
  grpc_byte_buffer *payload;
  grpc_byte_buffer *out;
  grpc_slice status_details;
  int cancelled;
  /* Watch streams (guarded by the server's mu): */
  struct call_ctx *next_watch, *prev_watch;
  int pending; /* batches in flight */
  bool sending, closed, ended;
  grpc_byte_buffer *out2; /* the NOT_SERVING update */
} call_ctx;

struct tr_grpc_server {
  grpc_server *server;
  grpc_completion_queue *cq;
  bool started;
  uint16_t port;
  tr_grpc_method *methods;
  size_t nmethods;
  method_slot *slots; /* nmethods + 2 */
  size_t nslots;
  char **health;
  size_t nhealth;
  pthread_t *threads;
  size_t nthreads, nstarted;
  pthread_mutex_t mu;  /* guards the counters below */
  pthread_cond_t idle; /* signalled when active and nwatchers are both 0 */
  size_t active, max_calls;
  call_ctx *watchers; /* open Watch streams */
  size_t nwatchers;
  bool shutting_down;
  char name[32];
};

static grpc_event next_event(grpc_completion_queue *cq) {
  return grpc_completion_queue_next(cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
}

/* The request bytes as one slice (a new reference; unref it): an
 * uncompressed single-slice message (the usual case) is not copied;
 * anything else is flattened (and decompressed) by the reader. */
static bool buffer_slice(grpc_byte_buffer *bb, grpc_slice *out) {
  if (bb->type == GRPC_BB_RAW && bb->data.raw.compression == GRPC_COMPRESS_NONE &&
      bb->data.raw.slice_buffer.count == 1) {
    *out = grpc_slice_ref(bb->data.raw.slice_buffer.slices[0]);
    return true;
  }
  grpc_byte_buffer_reader r;
  if (!grpc_byte_buffer_reader_init(&r, bb)) return false;
  *out = grpc_byte_buffer_reader_readall(&r);
  grpc_byte_buffer_reader_destroy(&r);
  return true;
}

/* grpc.health.v1.Health/Check */
/* Decodes a HealthCheckRequest; *known: the service is "" or listed. */
static tr_err *health_request(tr_grpc_server *s, const uint8_t *req, size_t len, bool *known) {
  ProtobufCMessage *m = NULL;
  tr_err *e = tr_grpc_unpack(&grpc__health__v1__health_check_request__descriptor, req, len, &m);
  if (e) return e;
  const char *svc = ((Grpc__Health__V1__HealthCheckRequest *)m)->service;
  *known = !svc || !*svc;
  for (size_t i = 0; !*known && i < s->nhealth; i++)
    *known = strcmp(s->health[i], svc) == 0;
  if (!*known) e = tr_err_new(TR_E_NOTFOUND, "unknown service `%s`", svc);
  tr_grpc_msg_free(m);
  return e;
}

static tr_err *health_response(Grpc__Health__V1__HealthCheckResponse__ServingStatus st, uint8_t **resp,
                               size_t *rlen) {
  Grpc__Health__V1__HealthCheckResponse r = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__INIT;
  r.status = st;
  return tr_grpc_pack(&r.base, resp, rlen);
}

/* grpc.health.v1.Health/Check */
static tr_err *health_check(tr_grpc_server *s, const uint8_t *req, size_t len, uint8_t **resp, size_t *rlen) {
  bool known;
  tr_err *e = health_request(s, req, len, &known);
  return e ? e
           : health_response(GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING, resp, rlen);
}

/* A byte buffer holding a HealthCheckResponse; NULL when out of memory. */
static grpc_byte_buffer *health_buffer(Grpc__Health__V1__HealthCheckResponse__ServingStatus st) {
  uint8_t *resp = NULL;
  size_t rlen = 0;
  tr_err *e = health_response(st, &resp, &rlen);
  if (e) {
    tr_err_free(e);
    return NULL;
  }
  grpc_slice sl = rlen ? grpc_slice_new(resp, rlen, free) : grpc_empty_slice();
  if (!rlen) free(resp);
  grpc_byte_buffer *bb = grpc_raw_byte_buffer_create(&sl, 1);
  grpc_slice_unref(sl);
  return bb;
}

#define HEALTH_CHECK "/grpc.health.v1.Health/Check"
#define HEALTH_WATCH "/grpc.health.v1.Health/Watch"

static tr_err *dispatch(tr_grpc_server *s, const call_ctx *c, const uint8_t *req, size_t len, uint8_t **resp,
                        size_t *rlen) {
  if (c->slot < s->nmethods) return s->methods[c->slot].fn(s->methods[c->slot].ctx, req, len, resp, rlen);
  if (c->slot == SLOT_CHECK(s)) return health_check(s, req, len, resp, rlen);
  grpc_slice method = c->details.method;
  return tr_err_new(TR_E_UNSUPPORTED, "unknown method %.*s", (int)GRPC_SLICE_LENGTH(method),
                    (const char *)GRPC_SLICE_START_PTR(method));
}

/* The method's path, for log lines. */
static const char *method_name(const tr_grpc_server *s, const call_ctx *c, int *len) {
  if (c->slot < s->nmethods) {
    *len = (int)strlen(s->methods[c->slot].path);
    return s->methods[c->slot].path;
  }
  if (c->slot == SLOT_CHECK(s) || c->slot == SLOT_WATCH(s)) {
    const char *m = c->slot == SLOT_CHECK(s) ? HEALTH_CHECK : HEALTH_WATCH;
    *len = (int)strlen(m);
    return m;
  }
  *len = (int)GRPC_SLICE_LENGTH(c->details.method);
  return (const char *)GRPC_SLICE_START_PTR(c->details.method);
}

static void ctx_free(call_ctx *c) {
  if (c->call) grpc_call_unref(c->call);
  if (c->payload) grpc_byte_buffer_destroy(c->payload);
  if (c->out) grpc_byte_buffer_destroy(c->out);
  if (c->out2) grpc_byte_buffer_destroy(c->out2);
  if (c->stage == STAGE_SEND) grpc_slice_unref(c->status_details);
  grpc_call_details_destroy(&c->details);
  grpc_metadata_array_destroy(&c->md);
  free(c);
}

static void call_done(tr_grpc_server *s) {
  pthread_mutex_lock(&s->mu);
  if (--s->active == 0 && s->nwatchers == 0) pthread_cond_broadcast(&s->idle);
  pthread_mutex_unlock(&s->mu);
}

static grpc_call_error post_one(tr_grpc_server *s, call_ctx *c) {
  method_slot *m = &s->slots[c->slot];
  if (m->reg)
    return grpc_server_request_registered_call(s->server, m->reg, &c->call, &c->deadline, &c->md, &c->payload,
                                               s->cq, s->cq, c);
  return grpc_server_request_call(s->server, &c->call, &c->details, &c->md, s->cq, s->cq, c);
}

/* Tops up every method's posted requests while fewer than max_calls calls
 * are active. */
static void post_requests(tr_grpc_server *s) {
  for (size_t i = 0; i < s->nslots; i++) {
    for (;;) {
      pthread_mutex_lock(&s->mu);
      method_slot *m = &s->slots[i];
      bool more = !s->shutting_down && m->posted < m->want && s->active < s->max_calls;
      if (more) m->posted++;
      pthread_mutex_unlock(&s->mu);
      if (!more) break;
      call_ctx *c = calloc(1, sizeof(*c));
      if (c) {
        c->stage = STAGE_NEW;
        c->slot = i;
        grpc_call_details_init(&c->details);
        grpc_metadata_array_init(&c->md);
      }
      if (!c || post_one(s, c) != GRPC_CALL_OK) {
        if (c) ctx_free(c);
        pthread_mutex_lock(&s->mu);
        m->posted--;
        pthread_mutex_unlock(&s->mu);
        return;
      }
    }
  }
}

static void send_reply(tr_grpc_server *s, call_ctx *c, grpc_status_code status, tr_err *e, uint8_t *resp,
                       size_t rlen);

static void answer_error(tr_grpc_server *s, call_ctx *c, tr_err *e) {
  send_reply(s, c, GRPC_STATUS_OK, e, NULL, 0);
}

/* The request message is here: run the handler and send the answer. */
static void answer(tr_grpc_server *s, call_ctx *c, bool ok) {
  gpr_timespec deadline = s->slots[c->slot].reg ? c->deadline : c->details.deadline;
  uint8_t *resp = NULL;
  size_t rlen = 0;
  tr_err *e = NULL;
  grpc_status_code status = GRPC_STATUS_OK;
  if (!ok || !c->payload) {
    /* Oversized messages never reach us: gRPC has already failed the call
     * with RESOURCE_EXHAUSTED, and whatever we send is dropped. */
    e = tr_err_new(TR_E_INVALID, "no request message");
  } else if (gpr_time_cmp(deadline, gpr_now(deadline.clock_type)) < 0) {
    e = tr_err_new(TR_E_IO, "deadline exceeded before the call was handled");
    status = GRPC_STATUS_DEADLINE_EXCEEDED;
  } else {
    grpc_slice req;
    if (!buffer_slice(c->payload, &req)) {
      e = tr_err_new(TR_E_INVALID, "cannot read the request message");
    } else {
      e = dispatch(s, c, GRPC_SLICE_START_PTR(req), GRPC_SLICE_LENGTH(req), &resp, &rlen);
      grpc_slice_unref(req);
    }
  }
  send_reply(s, c, status, e, resp, rlen);
}

/* Sends the answer of a unary call: `resp` (taken) when e is NULL, else the
 * error (taken) as a status; `status` OK means "map e's code". */
static void send_reply(tr_grpc_server *s, call_ctx *c, grpc_status_code status, tr_err *e, uint8_t *resp,
                       size_t rlen) {
  if (e) {
    if (status == GRPC_STATUS_OK) status = (grpc_status_code)tr_grpc_status_from_code(tr_err_code(e));
    int ml = 0;
    const char *mp = method_name(s, c, &ml);
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

/* ---- grpc.health.v1.Health/Watch ----
 * A server-streaming call: the current status is sent at once (SERVING, or
 * SERVICE_UNKNOWN for a name we do not serve, as grpc's reference health
 * service), then the stream stays open until the client cancels (its
 * RECV_CLOSE_ON_SERVER completes) or the server stops: then NOT_SERVING is
 * sent and the call ends with UNAVAILABLE "server shutting down". Open
 * streams are not counted against max_calls (they hold no worker) but are
 * bounded by MAX_WATCHERS (RESOURCE_EXHAUSTED beyond). All watch state is
 * guarded by s->mu. */

/* Sends the NOT_SERVING update and the final status (mu held). */
static void watch_end_locked(call_ctx *c) {
  if (c->ended || c->closed || c->sending) return;
  c->ended = true;
  c->out2 = health_buffer(GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING);
  c->status_details = grpc_slice_from_static_string("server shutting down");
  grpc_op ops[2];
  memset(ops, 0, sizeof(ops));
  size_t n = 0;
  if (c->out2) {
    ops[n].op = GRPC_OP_SEND_MESSAGE;
    ops[n++].data.send_message.send_message = c->out2;
  }
  ops[n].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
  ops[n].data.send_status_from_server.status = GRPC_STATUS_UNAVAILABLE;
  ops[n++].data.send_status_from_server.status_details = &c->status_details;
  if (grpc_call_start_batch(c->call, ops, n, c, NULL) == GRPC_CALL_OK) c->pending++;
}

/* Frees a watch once nothing is in flight (mu held); true if freed. */
static bool watch_release_locked(tr_grpc_server *s, call_ctx *c) {
  if (c->pending) return false;
  if (c->prev_watch)
    c->prev_watch->next_watch = c->next_watch;
  else
    s->watchers = c->next_watch;
  if (c->next_watch) c->next_watch->prev_watch = c->prev_watch;
  s->nwatchers--;
  c->stage = STAGE_NEW; /* status_details is static or unset: nothing to unref */
  ctx_free(c);
  if (s->nwatchers == 0 && s->active == 0) pthread_cond_broadcast(&s->idle);
  return true;
}

/* A Watch call arrived with its request (the call counts as active). */
static void watch_start(tr_grpc_server *s, call_ctx *c) {
  bool known = false;
  tr_err *e = NULL;
  grpc_slice req;
  if (!c->payload || !buffer_slice(c->payload, &req)) {
    e = tr_err_new(TR_E_INVALID, "no request message");
  } else {
    e = health_request(s, GRPC_SLICE_START_PTR(req), GRPC_SLICE_LENGTH(req), &known);
    grpc_slice_unref(req);
    if (e && tr_err_code(e) == TR_E_NOTFOUND) { /* streamed as SERVICE_UNKNOWN */
      tr_err_free(e);
      e = NULL;
    }
  }
  pthread_mutex_lock(&s->mu);
  if (!e && s->nwatchers >= MAX_WATCHERS)
    e = tr_err_new(TR_E_LIMIT, "too many health watchers (%d)", MAX_WATCHERS);
  if (!e && !(c->out = health_buffer(
                  known ? GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING
                        : GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVICE_UNKNOWN)))
    e = tr_err_new(TR_E_NOMEM, "out of memory");
  if (e) {
    pthread_mutex_unlock(&s->mu);
    answer_error(s, c, e);
    return;
  }
  c->stage = STAGE_WATCH;
  s->active--; /* a watcher holds no worker: counted in nwatchers instead */
  c->next_watch = s->watchers;
  if (s->watchers) s->watchers->prev_watch = c;
  s->watchers = c;
  s->nwatchers++;
  grpc_op ops[2];
  memset(ops, 0, sizeof(ops));
  ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
  ops[1].op = GRPC_OP_SEND_MESSAGE;
  ops[1].data.send_message.send_message = c->out;
  bool sent = grpc_call_start_batch(c->call, ops, 2, c, NULL) == GRPC_CALL_OK;
  if (sent) {
    c->pending++;
    c->sending = true;
  }
  grpc_op close;
  memset(&close, 0, sizeof(close));
  close.op = GRPC_OP_RECV_CLOSE_ON_SERVER;
  close.data.recv_close_on_server.cancelled = &c->cancelled;
  if (grpc_call_start_batch(c->call, &close, 1, CLOSE_TAG(c), NULL) == GRPC_CALL_OK)
    c->pending++;
  else
    c->closed = true;
  if (s->shutting_down) watch_end_locked(c);
  if (!sent || !c->pending) grpc_call_cancel(c->call, NULL);
  watch_release_locked(s, c);
  pthread_mutex_unlock(&s->mu);
}

/* A watch batch completed: a send (close=false) or the close. */
static void watch_event(tr_grpc_server *s, call_ctx *c, bool close) {
  pthread_mutex_lock(&s->mu);
  c->pending--;
  if (close)
    c->closed = true;
  else
    c->sending = false;
  if (s->shutting_down && !c->ended) watch_end_locked(c);
  watch_release_locked(s, c);
  pthread_mutex_unlock(&s->mu);
}

static void on_event(tr_grpc_server *s, call_ctx *c, bool ok) {
  switch (c->stage) {
  case STAGE_NEW:
    pthread_mutex_lock(&s->mu);
    s->slots[c->slot].posted--;
    if (ok) s->active++;
    pthread_mutex_unlock(&s->mu);
    if (!ok) { /* shutting down */
      ctx_free(c);
      return;
    }
    post_requests(s); /* keep accepting while this one is handled */
    if (c->slot == SLOT_WATCH(s)) {
      watch_start(s, c);
      return;
    }
    if (s->slots[c->slot].reg) { /* the message came with the call */
      answer(s, c, true);
      return;
    }
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
  case STAGE_WATCH: watch_event(s, c, false); return;
  }
}

static void *worker_main(void *arg) {
  tr_grpc_server *s = arg;
  for (;;) {
    grpc_event ev = next_event(s->cq);
    if (ev.type == GRPC_QUEUE_SHUTDOWN) return NULL;
    if (ev.type != GRPC_OP_COMPLETE) continue;
    if ((uintptr_t)ev.tag & 1)
      watch_event(s, (call_ctx *)((uintptr_t)ev.tag & ~(uintptr_t)1), true);
    else
      on_event(s, ev.tag, ev.success != 0);
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
  free(s->slots);
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
  for (call_ctx *w = s->watchers; w; w = w->next_watch)
    watch_end_locked(w); /* NOT_SERVING, then the stream ends */
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
  while (s->active > 0 || s->nwatchers > 0)
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
  s->nslots = cfg->nmethods + 3;
  s->slots = calloc(s->nslots, sizeof(*s->slots));
  s->health = calloc(cfg->nhealth ? cfg->nhealth : 1, sizeof(char *));
  long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
  s->nthreads = cfg->workers ? cfg->workers : (size_t)(ncpu > 2 ? 2 * ncpu : 4);
  s->max_calls = 4 * s->nthreads;
  s->threads = calloc(s->nthreads, sizeof(*s->threads));
  if (!s->methods || !s->slots || !s->health || !s->threads) {
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
  for (size_t i = 0; i < s->nslots; i++) {
    s->slots[i].want = s->nthreads;
    if (i == s->nslots - 1) { /* generic: unknown methods only */
      s->slots[i].want = 1;
    } else {
      const char *path = i < s->nmethods      ? s->methods[i].path
                         : i == SLOT_CHECK(s) ? HEALTH_CHECK
                                              : HEALTH_WATCH;
      s->slots[i].reg =
          grpc_server_register_method(s->server, path, NULL, GRPC_SRM_PAYLOAD_READ_INITIAL_BYTE_BUFFER, 0);
      if (!s->slots[i].reg && !e) e = tr_err_new(TR_E_INVALID, "cannot register method %s (twice?)", path);
    }
  }
  int port = e ? 0 : grpc_server_add_http2_port(s->server, cfg->listen, creds);
  grpc_server_credentials_release(creds);
  if (!e && port <= 0) {
    e = tr_err_new(TR_E_IO, "cannot listen on %s (address in use or invalid)", cfg->listen);
  } else if (!e) {
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
