/* bench_as.c — sample-evidence attestations per second through the library
 * (tr_as_evaluate: verify, default_cpu policy with reference values from the
 * built-in RVPS, EAR token signed ES256), with N threads for S seconds.
 *
 *   as_bench [threads] [seconds]      prints "library_attestations_per_sec <n>" */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "as/as.h"
#include "core/encoding.h"

static tr_as *as;
static atomic_long done;
static atomic_int stop;
static json_t *evidence;

static void *worker(void *arg) {
  (void)arg;
  tr_as_request r = {.tee = "sample", .evidence = evidence};
  while (!atomic_load(&stop)) {
    char *tok = NULL;
    tr_err *e = tr_as_evaluate(as, &r, 1, NULL, 0, &tok);
    if (e) {
      fprintf(stderr, "as_bench: %s\n", tr_err_msg(e));
      tr_err_free(e);
      exit(1);
    }
    free(tok);
    atomic_fetch_add(&done, 1);
  }
  return NULL;
}

int main(int argc, char **argv) {
  int threads = argc > 1 ? atoi(argv[1]) : 2;
  double secs = argc > 2 ? atof(argv[2]) : 3;
  if (threads < 1 || threads > 256 || secs <= 0) return 2;
  tr_err *e = tr_as_new(NULL, &as);
  const char *vals =
      "{\"svn\":[\"1\"],\"launch_digest\":[\"abcde\"],\"major_version\":1,\"minimum_minor_version\":1}";
  char *payload = tr_b64_encode(vals, strlen(vals), TR_B64_STD);
  char msg[512];
  snprintf(msg, sizeof(msg), "{\"version\":\"0.1.0\",\"type\":\"sample\",\"payload\":\"%s\"}", payload);
  free(payload);
  if (!e) e = tr_rvps_register(tr_as_rvps(as), msg, strlen(msg));
  if (e) {
    fprintf(stderr, "as_bench: %s\n", tr_err_msg(e));
    return 1;
  }
  evidence = json_pack("{s:s, s:s}", "svn", "1", "report_data", "");
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
  printf("library_attestations_per_sec %.0f\n", (double)atomic_load(&done) / el);
  json_decref(evidence);
  tr_as_free(as);
  return 0;
}
