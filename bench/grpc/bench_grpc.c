/* bench_grpc.c — AttestationEvaluate calls per second against a running
 * grpc-as: T threads, each calling in a loop for S seconds over a client
 * pool of P connections (src/grpc/client.h). Every call must succeed.
 *
 *   grpc_bench ADDR [threads] [seconds] [pool]
 * With BENCH_HEALTH set, calls the health check instead (the transport's
 * own ceiling, no AS work).
 *   prints "grpc_attestations_per_sec <n> errors <e>" */
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

static tr_grpc_client *client;
static uint8_t *req;
static size_t req_len;
static atomic_long done, errors;
static atomic_int stop;
static const char *method = "/attestation.AttestationService/AttestationEvaluate";

static void *worker(void *arg) {
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

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: grpc_bench ADDR [threads] [seconds] [pool]\n");
    return 2;
  }
  int threads = argc > 2 ? atoi(argv[2]) : 8;
  double secs = argc > 3 ? atof(argv[3]) : 3;
  int pool = argc > 4 ? atoi(argv[4]) : 4;
  if (threads < 1 || threads > 256 || secs <= 0 || pool < 1) return 2;
  tr_grpc_client_config cc = {.target = argv[1], .pool_size = (size_t)pool, .timeout_ms = 30000};
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
  if (getenv("BENCH_HEALTH")) { /* transport ceiling: an empty health check per call */
    method = "/grpc.health.v1.Health/Check";
    req_len = 0;
  }
  pthread_t t[256];
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (int i = 0; i < threads; i++)
    pthread_create(&t[i], NULL, worker, NULL);
  struct timespec d = {(time_t)secs, (long)((secs - (double)(time_t)secs) * 1e9)};
  nanosleep(&d, NULL);
  atomic_store(&stop, 1);
  for (int i = 0; i < threads; i++)
    pthread_join(t[i], NULL);
  clock_gettime(CLOCK_MONOTONIC, &b);
  double el = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
  printf("grpc_attestations_per_sec %.0f errors %ld\n", (double)atomic_load(&done) / el,
         atomic_load(&errors));
  free(req);
  tr_grpc_client_free(client);
  return atomic_load(&errors) ? 1 : 0;
}
