/* bench_snp — `snp` verifier evaluations per second on upstream's e2e
 * evidence (Genoa report carrying its VCEK; the chain is verified once and
 * then served from the cache), beside the raw cost of its one unavoidable
 * operation measured in the same process: EVP_PKEY_verify of an ECDSA
 * P-384 signature over a SHA-384 digest with the VCEK's key.
 *
 *   usage: bench_snp <evidence.json> [seconds]
 * Cases run interleaved (alternating 50 ms slices). Output lines "name ops/s":
 *   snp-evaluate        verifier evaluate() on the parsed evidence JSON
 *                       (what the AS calls), report data bound
 *   snp-parse-evaluate  the same including parsing the evidence JSON text
 *   raw-p384-verify     EVP_PKEY_verify only (pre-hashed digest)
 *   evaluate/raw        ratio of the two, measured under the same load */
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/json.h"
#include "verifier/snp/snp.h"
#include "verifier/verifier.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Interleaved measurement: the cases run in alternating 50 ms slices for
 * `secs` in total, so that a machine shared with other jobs loads them
 * alike; ops/s per case = its operations / its own time. */
typedef struct {
  long n;
  double t;
} tally;

#define SLICE(tl, body)                                                                                      \
  do {                                                                                                       \
    double t0_ = now(), t_;                                                                                  \
    do {                                                                                                     \
      for (int i_ = 0; i_ < 4; i_++) {                                                                       \
        body;                                                                                                \
      }                                                                                                      \
      (tl).n += 4;                                                                                           \
      t_ = now() - t0_;                                                                                      \
    } while (t_ < 0.05);                                                                                     \
    (tl).t += t_;                                                                                            \
  } while (0)

static void die(tr_err *e, const char *what) {
  if (!e) return;
  fprintf(stderr, "bench_snp: %s: %s\n", what, tr_err_msg(e));
  exit(1);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: bench_snp <evidence.json> [seconds]\n");
    return 2;
  }
  double secs = argc > 2 ? atof(argv[2]) : 2.0;
  uint8_t *text = NULL;
  size_t len = 0;
  die(tr_read_file(argv[1], 0, &text, &len), "read evidence");
  json_t *ev = NULL;
  die(tr_json_parse((const char *)text, len, &ev), "parse evidence");
  const tr_verifier_ops *ops = tr_verifier_lookup("snp");
  void *st = NULL;
  json_t *cfg = json_pack("{s:{s:[]}}", "snp_verifier", "vcek_sources"); /* no network */
  die(ops->create(cfg, &st), "create");
  json_decref(cfg);
  tr_snp_report r;
  die(tr_snp_report_from_json(json_object_get(ev, "attestation_report"), &r), "report");
  tr_expected rd = {true, r.raw + 0x50, 64}, none = {false, NULL, 0};
  tr_verified_list out = {0};
  die(ops->evaluate(st, ev, &rd, &none, &out), "evaluate");
  tr_verified_list_clear(&out);

  /* Raw: the VCEK's key verifying the report signature over its digest. */
  tr_snp_ctx *ctx = NULL;
  die(tr_snp_ctx_new(&ctx), "ctx");
  json_t *d = json_object_get(json_array_get(json_object_get(ev, "cert_chain"), 0), "data");
  uint8_t der[4096];
  size_t dn = json_array_size(d);
  for (size_t i = 0; i < dn && i < sizeof(der); i++)
    der[i] = (uint8_t)json_integer_value(json_array_get(d, i));
  tr_snp_vek *vek = NULL;
  die(tr_snp_report_finalize(&r, TR_SNP_GENOA), "finalize");
  die(tr_snp_vek_verify(ctx, TR_SNP_GENOA, TR_SNP_VCEK, der, dn, NULL, 0, NULL, 0, &vek), "vek");
  uint8_t dg[48];
  unsigned int dl = 0;
  EVP_Digest(r.raw, TR_SNP_SIGNED_LEN, dg, &dl, EVP_sha384(), NULL);
  ECDSA_SIG *sig = ECDSA_SIG_new();
  ECDSA_SIG_set0(sig, BN_lebin2bn(r.raw + 0x2A0, 72, NULL), BN_lebin2bn(r.raw + 0x2E8, 72, NULL));
  unsigned char *sder = NULL;
  int sl = i2d_ECDSA_SIG(sig, &sder);
  EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new(vek->pkey, NULL);
  EVP_PKEY_verify_init(pc);
  tally te = {0, 0}, tp = {0, 0}, tr = {0, 0};
  for (double t0 = now(); now() - t0 < 3 * secs;) {
    SLICE(te, {
      die(ops->evaluate(st, ev, &rd, &none, &out), "evaluate");
      tr_verified_list_clear(&out);
    });
    SLICE(tp, {
      json_t *j = NULL;
      die(tr_json_parse((const char *)text, len, &j), "parse");
      die(ops->evaluate(st, j, &rd, &none, &out), "evaluate");
      tr_verified_list_clear(&out);
      json_decref(j);
    });
    SLICE(tr, {
      if (EVP_PKEY_verify(pc, sder, (size_t)sl, dg, dl) != 1)
        die(tr_err_new(TR_E_VERIFY, "raw verify"), "raw");
    });
  }
  printf("%-20s %.0f\n", "snp-evaluate", te.n / te.t);
  printf("%-20s %.0f\n", "snp-parse-evaluate", tp.n / tp.t);
  printf("%-20s %.0f\n", "raw-p384-verify", tr.n / tr.t);
  printf("%-20s %.3f\n", "evaluate/raw", (te.n / te.t) / (tr.n / tr.t));
  EVP_PKEY_CTX_free(pc);
  OPENSSL_free(sder);
  ECDSA_SIG_free(sig);
  tr_snp_vek_unref(vek);
  tr_snp_ctx_free(ctx);
  ops->destroy(st);
  json_decref(ev);
  free(text);
  return 0;
}
