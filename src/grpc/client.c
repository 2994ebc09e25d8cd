/* client.c — unary calls over a lazily filled channel pool (see client.h).
 * Each call has its own pluck completion queue, so any number of threads
 * can call at once without sharing a queue. */
#include "grpc/client.h"

#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/slice.h>
#include <grpc/support/time.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "grpc/rpc.h"

#define TAG_CALL ((void *)1)
#define TAG_WATCH ((void *)2)

typedef struct {
  grpc_channel *ch;
  unsigned inflight;
} slot;

struct tr_grpc_client {
  char *target;
  bool tls;
  char *roots; /* PEM or NULL */
  int64_t timeout_ms;
  size_t max_message;
  pthread_mutex_t mu;
  slot *slots;
  size_t nslots;
};

const char *tr_grpc_client_target(const tr_grpc_client *c) { return c->target; }

static grpc_channel *make_channel(tr_grpc_client *c) {
  grpc_arg args[5];
  int n = 0;
  args[n].type = GRPC_ARG_INTEGER;
  args[n].key = GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH;
  args[n++].value.integer = c->max_message > INT32_MAX ? INT32_MAX : (int)c->max_message;
  args[n].type = GRPC_ARG_INTEGER;
  args[n].key = GRPC_ARG_MAX_SEND_MESSAGE_LENGTH;
  args[n++].value.integer = -1;
  args[n].type = GRPC_ARG_INTEGER; /* one connection per channel: no global subchannel sharing */
  args[n].key = GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL;
  args[n++].value.integer = 1;
  args[n].type = GRPC_ARG_INTEGER;
  args[n].key = GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS;
  args[n++].value.integer = 100;
  args[n].type = GRPC_ARG_INTEGER;
  args[n].key = GRPC_ARG_MAX_RECONNECT_BACKOFF_MS;
  args[n++].value.integer = 2000;
  grpc_channel_args ca = {(size_t)n, args};
  grpc_channel_credentials *creds =
      c->tls ? grpc_ssl_credentials_create(c->roots, NULL, NULL, NULL) : grpc_insecure_credentials_create();
  grpc_channel *ch = grpc_channel_create(c->target, creds, &ca);
  grpc_channel_credentials_release(creds);
  return ch;
}

tr_err *tr_grpc_client_new(const tr_grpc_client_config *cfg, tr_grpc_client **out) {
  *out = NULL;
  if (!cfg->target || !*cfg->target) return tr_err_new(TR_E_INVALID, "empty gRPC target address");
  tr_grpc_client *c = calloc(1, sizeof(*c));
  if (!c) return tr_err_new(TR_E_NOMEM, "out of memory");
  const char *t = cfg->target;
  if (strncmp(t, "http://", 7) == 0) {
    t += 7;
  } else if (strncmp(t, "https://", 8) == 0) {
    t += 8;
    c->tls = true;
  }
  c->target = strdup(t);
  size_t tl = c->target ? strlen(c->target) : 0;
  if (tl && c->target[tl - 1] == '/') c->target[tl - 1] = '\0'; /* "http://host:port/" */
  c->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : 30000;
  c->max_message = cfg->max_message ? cfg->max_message : TR_GRPC_DEFAULT_MAX_MESSAGE;
  c->nslots = cfg->pool_size ? cfg->pool_size : 1;
  c->slots = calloc(c->nslots, sizeof(*c->slots));
  pthread_mutex_init(&c->mu, NULL);
  tr_err *e = NULL;
  if (!c->target || !c->slots) e = tr_err_new(TR_E_NOMEM, "out of memory");
  if (!e && c->tls && cfg->ca_file) {
    uint8_t *pem = NULL;
    size_t len = 0;
    e = tr_read_file(cfg->ca_file, 4 << 20, &pem, &len);
    if (e) e = tr_err_wrap(e, "gRPC TLS roots");
    c->roots = (char *)pem;
  }
  if (e) {
    pthread_mutex_destroy(&c->mu);
    free(c->slots);
    free(c->target);
    free(c);
    return e;
  }
  grpc_init();
  *out = c;
  return NULL;
}

void tr_grpc_client_free(tr_grpc_client *c) {
  if (!c) return;
  for (size_t i = 0; i < c->nslots; i++)
    if (c->slots[i].ch) grpc_channel_destroy(c->slots[i].ch);
  pthread_mutex_destroy(&c->mu);
  free(c->slots);
  free(c->roots);
  free(c->target);
  free(c);
  grpc_shutdown();
}

static size_t checkout(tr_grpc_client *c) {
  pthread_mutex_lock(&c->mu);
  size_t best = 0;
  for (size_t i = 0; i < c->nslots; i++) {
    if (!c->slots[i].ch || c->slots[i].inflight == 0) {
      best = i;
      break;
    }
    if (c->slots[i].inflight < c->slots[best].inflight) best = i;
  }
  if (!c->slots[best].ch) c->slots[best].ch = make_channel(c);
  c->slots[best].inflight++;
  pthread_mutex_unlock(&c->mu);
  return best;
}

static void checkin(tr_grpc_client *c, size_t i) {
  pthread_mutex_lock(&c->mu);
  c->slots[i].inflight--;
  pthread_mutex_unlock(&c->mu);
}

static gpr_timespec deadline_in(int64_t ms) {
  return gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_millis(ms, GPR_TIMESPAN));
}

tr_err *tr_grpc_call(tr_grpc_client *c, const char *method, const uint8_t *req, size_t len,
                     int64_t timeout_ms, uint8_t **resp, size_t *resp_len) {
  *resp = NULL;
  *resp_len = 0;
  size_t si = checkout(c);
  grpc_completion_queue *cq = grpc_completion_queue_create_for_pluck(NULL);
  grpc_slice msl = grpc_slice_from_static_string(method);
  grpc_call *call = grpc_channel_create_call(c->slots[si].ch, NULL, GRPC_PROPAGATE_DEFAULTS, cq, msl, NULL,
                                             deadline_in(timeout_ms > 0 ? timeout_ms : c->timeout_ms), NULL);
  grpc_slice body = grpc_slice_from_copied_buffer((const char *)req, len);
  grpc_byte_buffer *send = grpc_raw_byte_buffer_create(&body, 1);
  grpc_slice_unref(body);
  grpc_metadata_array initial, trailing;
  grpc_metadata_array_init(&initial);
  grpc_metadata_array_init(&trailing);
  grpc_byte_buffer *recv = NULL;
  grpc_status_code status = GRPC_STATUS_UNKNOWN;
  grpc_slice details = grpc_empty_slice();
  grpc_op ops[6];
  memset(ops, 0, sizeof(ops));
  ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
  ops[1].op = GRPC_OP_SEND_MESSAGE;
  ops[1].data.send_message.send_message = send;
  ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
  ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
  ops[3].data.recv_initial_metadata.recv_initial_metadata = &initial;
  ops[4].op = GRPC_OP_RECV_MESSAGE;
  ops[4].data.recv_message.recv_message = &recv;
  ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
  ops[5].data.recv_status_on_client.status = &status;
  ops[5].data.recv_status_on_client.status_details = &details;
  ops[5].data.recv_status_on_client.trailing_metadata = &trailing;
  tr_err *e = NULL;
  if (grpc_call_start_batch(call, ops, 6, TAG_CALL, NULL) != GRPC_CALL_OK) {
    e = tr_err_new(TR_E_INTERNAL, "%s %s: cannot start the call", c->target, method);
  } else {
    grpc_completion_queue_pluck(cq, TAG_CALL, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
    if (status != GRPC_STATUS_OK) {
      e = tr_err_new(tr_grpc_code_from_status(status), "%s %s: %s: %.*s", c->target, method,
                     tr_grpc_status_name(status), (int)GRPC_SLICE_LENGTH(details),
                     (const char *)GRPC_SLICE_START_PTR(details));
    } else if (recv) {
      grpc_byte_buffer_reader r;
      if (grpc_byte_buffer_reader_init(&r, recv)) {
        grpc_slice all = grpc_byte_buffer_reader_readall(&r);
        grpc_byte_buffer_reader_destroy(&r);
        size_t n = GRPC_SLICE_LENGTH(all);
        *resp = malloc(n ? n : 1);
        if (*resp) {
          if (n) memcpy(*resp, GRPC_SLICE_START_PTR(all), n);
          *resp_len = n;
        } else {
          e = tr_err_new(TR_E_NOMEM, "out of memory");
        }
        grpc_slice_unref(all);
      } else {
        e = tr_err_new(TR_E_INTERNAL, "%s %s: unreadable response", c->target, method);
      }
    } else {
      e = tr_err_new(TR_E_INTERNAL, "%s %s: OK status without a response message", c->target, method);
    }
  }
  if (recv) grpc_byte_buffer_destroy(recv);
  grpc_byte_buffer_destroy(send);
  grpc_slice_unref(details);
  grpc_metadata_array_destroy(&initial);
  grpc_metadata_array_destroy(&trailing);
  grpc_call_unref(call);
  grpc_completion_queue_shutdown(cq); /* every event of this queue was plucked */
  grpc_completion_queue_destroy(cq);
  checkin(c, si);
  return e;
}

static const char *state_name(grpc_connectivity_state s) {
  switch (s) {
  case GRPC_CHANNEL_IDLE: return "idle";
  case GRPC_CHANNEL_CONNECTING: return "connecting";
  case GRPC_CHANNEL_READY: return "ready";
  case GRPC_CHANNEL_TRANSIENT_FAILURE: return "connection refused or failed";
  case GRPC_CHANNEL_SHUTDOWN: return "shut down";
  }
  return "?";
}

tr_err *tr_grpc_client_wait_ready(tr_grpc_client *c, int64_t timeout_ms) {
  size_t si = checkout(c);
  grpc_channel *ch = c->slots[si].ch;
  grpc_completion_queue *cq = grpc_completion_queue_create_for_pluck(NULL);
  gpr_timespec until = deadline_in(timeout_ms);
  grpc_connectivity_state st = grpc_channel_check_connectivity_state(ch, 1);
  while (st != GRPC_CHANNEL_READY) {
    grpc_channel_watch_connectivity_state(ch, st, until, cq, TAG_WATCH);
    grpc_event ev = grpc_completion_queue_pluck(cq, TAG_WATCH, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
    grpc_connectivity_state now = grpc_channel_check_connectivity_state(ch, 1);
    if (!ev.success) { /* deadline reached without a change */
      st = now;
      break;
    }
    st = now;
  }
  grpc_completion_queue_shutdown(cq); /* every event of this queue was plucked */
  grpc_completion_queue_destroy(cq);
  checkin(c, si);
  if (st == GRPC_CHANNEL_READY) return NULL;
  return tr_err_new(TR_E_IO, "%s is unreachable: not connected after %lld ms (%s)", c->target,
                    (long long)timeout_ms, state_name(st));
}
