/* bench_kbs URL MODE THREADS SECONDS — concurrent KBS clients on keep-alive
 * connections. MODE "handshake": each iteration is a full guest flow with a
 * fresh EC P-256 TEE key: /auth + /attest (sample evidence) + one resource
 * GET decrypted. MODE "get": attest once per thread, then resource GETs on
 * the attested session (each decrypted). Prints operations per second. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client/client.h"

static const char *url, *mode;
static double seconds;
static atomic_long done, failed;
static atomic_bool stop;

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void *worker(void *arg) {
  (void)arg;
  bool hs = strcmp(mode, "handshake") == 0;
  kbs_client *c = NULL;
  tr_err *e = NULL;
  if (!hs) {
    e = kbs_client_new(url, NULL, &c);
    char *tok = NULL;
    if (!e) kbs_client_set_retries(c, 1, 1, 0);
    if (!e) e = kbs_client_attest(c, &tok);
    free(tok);
    if (e) {
      fprintf(stderr, "bench_kbs: %s\n", tr_err_msg(e));
      tr_err_free(e);
      atomic_fetch_add(&failed, 1);
      kbs_client_free(c);
      return NULL;
    }
  }
  while (!atomic_load(&stop)) {
    if (hs) {
      /* A guest: new session and key each time, connection kept. */
      if (!c && (e = kbs_client_new(url, NULL, &c))) break;
      kbs_client_set_retries(c, 1, 1, 0);
      e = kbs_client_generate_tee_key(c, "P-256");
      char *tok = NULL;
      if (!e) e = kbs_client_attest(c, &tok);
      free(tok);
    }
    uint8_t *r = NULL;
    size_t n = 0;
    if (!e) e = kbs_client_get_resource(c, "default/bench/secret", &r, &n);
    free(r);
    if (e) {
      if (atomic_fetch_add(&failed, 1) < 3) fprintf(stderr, "bench_kbs: %s\n", tr_err_msg(e));
      tr_err_free(e);
      e = NULL;
    } else {
      atomic_fetch_add(&done, 1);
    }
  }
  tr_err_free(e);
  kbs_client_free(c);
  return NULL;
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: bench_kbs URL handshake|get THREADS SECONDS\n");
    return 2;
  }
  url = argv[1];
  mode = argv[2];
  int n = atoi(argv[3]);
  seconds = atof(argv[4]);
  pthread_t th[256];
  if (n < 1 || n > 256) return 2;
  double t0 = now();
  for (int i = 0; i < n; i++)
    pthread_create(&th[i], NULL, worker, NULL);
  struct timespec ts = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
  nanosleep(&ts, NULL);
  atomic_store(&stop, true);
  for (int i = 0; i < n; i++)
    pthread_join(th[i], NULL);
  double dt = now() - t0;
  printf("%s %.0f/s (%ld ok, %ld failed, %d clients, %.1f s)\n", mode, (double)atomic_load(&done) / dt,
         atomic_load(&done), atomic_load(&failed), n, dt);
  return atomic_load(&failed) && !atomic_load(&done) ? 1 : 0;
}
