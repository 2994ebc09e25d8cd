/* bench_dcap.c — TDX quote verifications per second with cached collateral
 * (the real dcap-qvl TDX quote and its Intel collateral, verified at a time
 * inside the collateral's validity), beside an in-process raw P-256 ECDSA
 * verification rate measured interleaved (same load).
 *
 *   bench_dcap <quote> <collateral.json> <seconds>
 * Prints "dcap-verify <ops/s>", "tdx-evaluate <ops/s>" (the whole `tdx`
 * verifier: base64, JSON evidence, claims), "raw-p256-verify <ops/s>" and
 * "verify/raw <ratio>". Rates are per CPU second of this thread, as
 * `openssl speed` reports them. */
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/encoding.h"
#include "core/json.h"
#include "core/time.h"
#include "verifier/dcap/dcap.h"
#include "verifier/verifier.h"

/* CPU time of this thread: `openssl speed` also counts CPU (user) time, so
 * the ratio does not depend on how loaded the machine is. */
static double cpu_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double now_s(void) { return (double)tr_monotonic_ns() / 1e9; }

static void die(tr_err *e) {
  if (!e) return;
  fprintf(stderr, "bench_dcap: %s\n", tr_err_msg(e));
  exit(1);
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: bench_dcap <quote> <collateral.json> <seconds>\n");
    return 2;
  }
  double secs = atof(argv[3]);
  uint8_t *quote;
  size_t qlen;
  die(tr_read_file(argv[1], 0, &quote, &qlen));
  char *cfg_text = NULL;
  if (asprintf(&cfg_text,
               "{\"dcap_verifier\":{\"collateral_service\":\"file:///"
               "nonexistent\",\"collateral_bundles\":[\"%s\"],"
               "\"verification_time\":\"2025-07-01T00:00:00Z\"}}",
               argv[2]) < 0)
    return 1;
  json_t *cfg = json_loads(cfg_text, 0, NULL);
  tr_dcap *d = NULL;
  die(tr_dcap_new(cfg, &d));

  /* a raw P-256 verifier on a fixed message, for the interleaved baseline */
  EVP_PKEY *k = EVP_EC_gen("P-256");
  uint8_t msg[632], sig[80];
  size_t sl = sizeof(sig);
  memset(msg, 7, sizeof(msg));
  EVP_MD_CTX *sc = EVP_MD_CTX_new();
  EVP_DigestSignInit(sc, NULL, EVP_sha256(), NULL, k);
  EVP_DigestSign(sc, sig, &sl, msg, sizeof(msg));
  EVP_MD_CTX_free(sc);

  /* warm the caches */
  tr_dcap_quote q;
  json_t *custom = NULL;
  die(tr_dcap_quote_parse(quote, qlen, &q));
  die(tr_dcap_verify_quote(d, &q, NULL, NULL, &custom));
  json_decref(custom);

  char *b64 = tr_b64_encode(quote, qlen, TR_B64_STD);
  json_t *ev = json_pack("{ss}", "quote", b64);
  const tr_verifier_ops *ops = tr_verifier_lookup("tdx");
  void *st = NULL;
  die(ops->create(cfg, &st));
  tr_expected none = {false, NULL, 0};

  long nq = 0, nr = 0, ne = 0;
  double tq = 0, tr = 0, te = 0, end = now_s() + secs;
  while (now_s() < end) {
    double t0 = cpu_s();
    for (int i = 0; i < 100; i++) {
      die(tr_dcap_quote_parse(quote, qlen, &q));
      die(tr_dcap_verify_quote(d, &q, NULL, NULL, &custom));
      json_decref(custom);
    }
    double t1 = cpu_s();
    for (int i = 0; i < 100; i++) {
      EVP_MD_CTX *vc = EVP_MD_CTX_new();
      if (EVP_DigestVerifyInit(vc, NULL, EVP_sha256(), NULL, k) != 1 ||
          EVP_DigestVerify(vc, sig, sl, msg, sizeof(msg)) != 1)
        return 1;
      EVP_MD_CTX_free(vc);
    }
    double t2 = cpu_s();
    for (int i = 0; i < 20; i++) {
      tr_verified_list l = {0};
      die(ops->evaluate(st, ev, &none, &none, &l));
      tr_verified_list_clear(&l);
    }
    double t3 = cpu_s();
    tq += t1 - t0, tr += t2 - t1, te += t3 - t2;
    nq += 100, nr += 100, ne += 20;
  }
  printf("dcap-verify %.0f\n", nq / tq);
  printf("tdx-evaluate %.0f\n", ne / te);
  printf("raw-p256-verify %.0f\n", nr / tr);
  printf("verify/raw %.3f\n", (nq / tq) / (nr / tr));
  ops->destroy(st);
  json_decref(ev);
  free(b64);
  EVP_PKEY_free(k);
  tr_dcap_free(d);
  json_decref(cfg);
  free(cfg_text);
  free(quote);
  return 0;
}
