/* bench_grpc.c — AttestationEvaluate calls per second against a running
 * grpc-as, every call checked for status OK.
 *
 *   grpc_bench ADDR [calls-in-flight] [seconds] [connections]
 *   prints "grpc_attestations_per_sec <n> errors <e>"
 *
 * Default (async): a load generator like ghz — `calls-in-flight` calls kept
 * outstanding on `connections` channels, driven from one completion queue by
 * two threads, so the generator itself costs little CPU on the shared
 * machine. BENCH_SYNC=1: instead one blocking thread per call in flight
 * through src/grpc's client (the KBS's way of calling), which costs more
 * client CPU. BENCH_HEALTH=1: empty health checks (the transport's ceiling). */
#include <grpc/byte_buffer.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/slice.h>
#include <grpc/support/time.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/encoding.h"
#include "grpc/attestation.pb-c.h"
#include "grpc/client.h"
#include "grpc/rpc.h"

static const char *method = "/attestation.AttestationService/AttestationEvaluate";
static uint8_t *req;
static size_t req_len;
static atomic_long done, errors;
static atomic_int stop;

/* ---- sync: blocking calls through tr_grpc_client ---- */

static tr_grpc_client *client;

static void *sync_worker(void *arg) {
  (void)arg;
  while (!atomic_load(&stop)) {
    uint8_t *resp = NULL;
    size_t rlen = 0;
    tr_err *e = tr_grpc_call(client, method, req, req_len, 0, &resp, &rlen);
    if (e) {
      if (atomic_fetch_add(&errors, 1) == 0) fprintf(stderr, "grpc_bench: %s\n", tr_err_msg(e));
      tr_err_free(e);
    } else {
      atomic_fetch_add(&done, 1);
    }
    free(resp);
  }
  return NULL;
}

/* ---- async: calls kept in flight on one completion queue ---- */

typedef struct {
  grpc_channel *ch;
  grpc_call *call;
  grpc_byte_buffer *send, *recv;
  grpc_metadata_array initial, trailing;
  grpc_status_code status;
  grpc_slice details;
} slot;

static grpc_completion_queue *cq;
static atomic_int inflight;

static void start_call(slot *s) {
  grpc_slice body = grpc_slice_from_copied_buffer((const char *)req, req_len);
  s->send = grpc_raw_byte_buffer_create(&body, 1);
  grpc_slice_unref(body);
  s->recv = NULL;
  grpc_metadata_array_init(&s->initial);
  grpc_metadata_array_init(&s->trailing);
  s->details = grpc_empty_slice();
  gpr_timespec dl = gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_seconds(30, GPR_TIMESPAN));
  s->call = grpc_channel_create_call(s->ch, NULL, GRPC_PROPAGATE_DEFAULTS, cq,
                                     grpc_slice_from_static_string(method), NULL, dl, NULL);
  grpc_op ops[6];
  memset(ops, 0, sizeof(ops));
  ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
  ops[1].op = GRPC_OP_SEND_MESSAGE;
  ops[1].data.send_message.send_message = s->send;
  ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
  ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
  ops[3].data.recv_initial_metadata.recv_initial_metadata = &s->initial;
  ops[4].op = GRPC_OP_RECV_MESSAGE;
  ops[4].data.recv_message.recv_message = &s->recv;
  ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
  ops[5].data.recv_status_on_client.status = &s->status;
  ops[5].data.recv_status_on_client.status_details = &s->details;
  ops[5].data.recv_status_on_client.trailing_metadata = &s->trailing;
  atomic_fetch_add(&inflight, 1);
  if (grpc_call_start_batch(s->call, ops, 6, s, NULL) != GRPC_CALL_OK) abort();
}

static void finish_call(slot *s) {
  if (s->status == GRPC_STATUS_OK && s->recv) {
    atomic_fetch_add(&done, 1);
  } else if (atomic_fetch_add(&errors, 1) == 0) {
    fprintf(stderr, "grpc_bench: status %s: %.*s\n", tr_grpc_status_name(s->status),
            (int)GRPC_SLICE_LENGTH(s->details), (const char *)GRPC_SLICE_START_PTR(s->details));
  }
  if (s->recv) grpc_byte_buffer_destroy(s->recv);
  grpc_byte_buffer_destroy(s->send);
  grpc_slice_unref(s->details);
  grpc_metadata_array_destroy(&s->initial);
  grpc_metadata_array_destroy(&s->trailing);
  grpc_call_unref(s->call);
  atomic_fetch_sub(&inflight, 1);
}

static void *async_worker(void *arg) {
  (void)arg;
  for (;;) {
    grpc_event ev = grpc_completion_queue_next(cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
    if (ev.type == GRPC_QUEUE_SHUTDOWN) return NULL;
    if (ev.type != GRPC_OP_COMPLETE) continue;
    slot *s = ev.tag;
    finish_call(s);
    if (!atomic_load(&stop)) start_call(s);
  }
}

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void sleep_s(double secs) {
  struct timespec d = {(time_t)secs, (long)((secs - (double)(time_t)secs) * 1e9)};
  nanosleep(&d, NULL);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: grpc_bench ADDR [calls-in-flight] [seconds] [connections]\n");
    return 2;
  }
  int n = argc > 2 ? atoi(argv[2]) : 16;
  double secs = argc > 3 ? atof(argv[3]) : 3;
  int conns = argc > 4 ? atoi(argv[4]) : 4;
  if (n < 1 || n > 256 || secs <= 0 || conns < 1 || conns > 64) return 2;
  const char *target = strncmp(argv[1], "http://", 7) == 0 ? argv[1] + 7 : argv[1];
  tr_grpc_client_config cc = {.target = target, .pool_size = (size_t)conns, .timeout_ms = 30000};
  tr_err *e = tr_grpc_client_new(&cc, &client);
  if (!e) e = tr_grpc_client_wait_ready(client, 5000);
  if (e) {
    fprintf(stderr, "grpc_bench: %s\n", tr_err_msg(e));
    return 1;
  }
  const char *ev = "{\"svn\":\"1\",\"report_data\":\"\"}";
  char *ev64 = tr_b64_encode(ev, strlen(ev), TR_B64_URL_NOPAD);
  Attestation__IndividualAttestationRequest q = ATTESTATION__INDIVIDUAL_ATTESTATION_REQUEST__INIT;
  q.tee = "sample";
  q.evidence = ev64;
  Attestation__IndividualAttestationRequest *qs[1] = {&q};
  Attestation__AttestationRequest r = ATTESTATION__ATTESTATION_REQUEST__INIT;
  r.n_verification_requests = 1;
  r.verification_requests = qs;
  e = tr_grpc_pack(&r.base, &req, &req_len);
  free(ev64);
  if (e) return 1;
  if (getenv("BENCH_HEALTH")) {
    method = "/grpc.health.v1.Health/Check";
    req_len = 0;
  }
  double t0 = now_s(), el;
  if (getenv("BENCH_SYNC")) {
    pthread_t t[256];
    for (int i = 0; i < n; i++)
      pthread_create(&t[i], NULL, sync_worker, NULL);
    sleep_s(secs);
    atomic_store(&stop, 1);
    for (int i = 0; i < n; i++)
      pthread_join(t[i], NULL);
    el = now_s() - t0;
  } else {
    grpc_arg a = {.type = GRPC_ARG_INTEGER, .key = GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, .value.integer = 1};
    grpc_channel_args ca = {1, &a};
    grpc_channel *chs[64];
    for (int i = 0; i < conns; i++) {
      grpc_channel_credentials *cr = grpc_insecure_credentials_create();
      chs[i] = grpc_channel_create(target, cr, &ca);
      grpc_channel_credentials_release(cr);
    }
    cq = grpc_completion_queue_create_for_next(NULL);
    slot *slots = calloc((size_t)n, sizeof(*slots));
    for (int i = 0; i < n; i++) {
      slots[i].ch = chs[i % conns];
      start_call(&slots[i]);
    }
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
      pthread_create(&t[i], NULL, async_worker, NULL);
    sleep_s(secs);
    atomic_store(&stop, 1);
    el = now_s() - t0;
    long counted = atomic_load(&done);
    while (atomic_load(&inflight) > 0)
      sleep_s(0.01);
    grpc_completion_queue_shutdown(cq);
    for (int i = 0; i < 2; i++)
      pthread_join(t[i], NULL);
    grpc_completion_queue_destroy(cq);
    for (int i = 0; i < conns; i++)
      grpc_channel_destroy(chs[i]);
    free(slots);
    atomic_store(&done, counted);
  }
  printf("grpc_attestations_per_sec %.0f errors %ld\n", (double)atomic_load(&done) / el,
         atomic_load(&errors));
  free(req);
  tr_grpc_client_free(client);
  return atomic_load(&errors) ? 1 : 0;
}
