/* fuzz_snp_report.c — SNP attestation report parsing: the raw 1184-byte
 * image, and the JSON `attestation_report` in either serde layout (or an
 * array/base64 string), then generation detection, TCB encode/decode for
 * every generation, hwID/TCB-prefix formatting and claims; evidence objects
 * also go through the whole verifier (cert_chain, VEK chain, checks). */
#include <stdint.h>
#include <stdlib.h>

#include "core/json.h"
#include "verifier/snp/snp.h"
#include "verifier/verifier.h"

static void exercise(tr_snp_report *r) {
  tr_snp_gen g = TR_SNP_GEN_NONE, cands[TR_SNP_NGEN];
  tr_err_free(tr_snp_report_cpuid_gen(r, &g));
  size_t n = tr_snp_report_v2_candidates(r, cands);
  for (size_t i = 0; i < n; i++)
    tr_err_free(tr_snp_report_finalize(r, cands[i]));
  for (int gen = TR_SNP_MILAN; gen <= TR_SNP_TURIN; gen++) {
    if (tr_snp_report_finalize(r, (tr_snp_gen)gen)) continue;
    char hw[129], prefix[48];
    tr_snp_hwid_hex(r, hw);
    tr_snp_tcb_prefix(&r->reported_tcb, prefix);
    json_decref(tr_snp_claims(r));
  }
}

/* The whole `snp` verifier on evidence objects: cert_chain entries (PEM,
 * DER, base64), certificate and extension parsing, the chain and report
 * checks. No VCEK sources, so nothing reaches the network. */
static void evaluate(const json_t *ev) {
  static const tr_verifier_ops *ops;
  static void *st;
  if (!ops) {
    ops = tr_verifier_lookup("snp");
    json_t *cfg = json_loads("{\"snp_verifier\":{\"vcek_sources\":[]}}", 0, NULL);
    if (ops->create(cfg, &st)) abort();
    json_decref(cfg);
  }
  static const uint8_t rd[64];
  tr_expected e = {true, rd, sizeof(rd)}, none = {false, NULL, 0};
  tr_verified_list out = {0};
  tr_err_free(ops->evaluate(st, ev, &e, &none, &out));
  tr_verified_list_clear(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  tr_snp_report *r = malloc(sizeof(*r));
  if (!r) return 0;
  if (size == TR_SNP_REPORT_LEN) {
    if (!tr_snp_report_from_bytes(data, size, r)) exercise(r);
  } else {
    json_t *j = NULL;
    tr_err *e = tr_json_parse((const char *)data, size, &j);
    if (!e) {
      json_t *rep = json_is_object(j) && json_object_get(j, "attestation_report")
                        ? json_object_get(j, "attestation_report")
                        : j;
      e = tr_snp_report_from_json(rep, r);
      if (!e) exercise(r);
      if (rep != j) evaluate(j);
    }
    tr_err_free(e);
    json_decref(j);
  }
  free(r);
  return 0;
}
