/* Tests for `az-tdx-vtpm`: upstream's evidence v0/v1 pass every vTPM/HCL
 * check and reach the TD quote's DCAP verification (src/verifier/dcap),
 * which cannot complete offline (upstream's own test_evaluate is #[ignore]:
 * it needs Intel PCS) — so never a pass; upstream's mutations (HCL variable
 * data at 0x880, quote signature, nonce, PCRs) and init data fail with their
 * errors first. */
#include "test_snp_util.h"

#include "verifier/az_snp_vtpm/azure.h"

#define AZT "vectors/trustee/deps/verifier/test_data/az-tdx-vtpm/"
/* No collateral for the vectors' FMSPC (00806f050000) is available offline:
 * point the DCAP verifier at a closed loopback port so that the TD quote's
 * own verification fails deterministically, after every vTPM/HCL check. */
#define CFG "{\"dcap_verifier\":{\"collateral_service\":\"http://127.0.0.1:1/\"}}"
#define DCAP_MSG                                                                                             \
  "az-tdx-vtpm: DCAP quote verification: collateral from http://127.0.0.1:1/: failed to fetch TcbInfo"

static const uint8_t CHALLENGE[] = "challenge";
#define CH CHALLENGE, 9, true

static void expect_dcap_stop(tu_verifier *v, const json_t *ev) {
  tr_err *e = NULL;
  json_t *c = tu_eval(v, ev, CH, NULL, 0, false, &e);
  assert_null(c);
  assert_non_null(e);
  if (!strstr(tr_err_msg(e), DCAP_MSG)) fprintf(stderr, "DCAP step: %s\n", tr_err_msg(e));
  assert_non_null(strstr(tr_err_msg(e), DCAP_MSG));
  assert_non_null(strstr(tr_err_msg(e), "fmspc=00806F050000")); /* the quote's PCK FMSPC */
  tr_err_free(e);
}

static void test_evidence_reaches_dcap(void **st) {
  (void)st;
  tu_verifier v = tu_make("az-tdx-vtpm", CFG);
  const char *files[] = {AZT "evidence-v0.json", AZT "evidence-v1.json"};
  for (int i = 0; i < 2; i++) {
    json_t *ev = tu_json(files[i]);
    expect_dcap_stop(&v, ev);
    tu_fails(&v, ev, NULL, 0, false, NULL, 0, false, "az-tdx-vtpm: unexpected empty report data");
    tu_fails(&v, ev, (const uint8_t *)"egnellahc", 9, true, NULL, 0, false,
             "az-tdx-vtpm: TPM quote nonce doesn't match expected report_data");
    uint8_t id[32] = {7};
    tu_fails(&v, ev, CH, id, 32, true, "Expected init_data digest is different from the content of PCR8");
    json_decref(ev);
  }
  /* The vTPM part the claims will be built from: pcr00 as upstream expects. */
  json_t *ev = tu_json(AZT "evidence-v1.json");
  tr_az_evidence az;
  assert_null(tr_az_evidence_parse(ev, true, &az));
  TPMS_ATTEST a;
  tr_hcl_report h;
  assert_null(tr_hcl_parse(az.hcl, az.hcl_len, &h));
  assert_int_equal(h.report_type, TR_HCL_TYPE_TDX);
  tr_expected rd = {true, CHALLENGE, 9};
  assert_null(tr_az_verify_vtpm(&az, &h, &rd, &a));
  json_t *c = json_object();
  assert_null(tr_az_extend_claims(c, &az, &a));
  tu_claim_str(c, "tpm.pcr00", "782b20b10f55cc46e2142cc2145d548698073e5beb82752c8d7f9279f0d8a273");
  tu_claim_str(c, "report_data", "6368616c6c656e6765");
  json_decref(c);
  tr_az_evidence_clear(&az);
  json_decref(ev);
  tu_free(&v);
}

/* hcl-report.bin + td-quote.bin + tpm-quote-v1.json as v1 evidence. */
static json_t *unit_evidence(const uint8_t *hcl, size_t hn, const uint8_t *td, size_t tn) {
  json_t *q = tu_json(AZT "tpm-quote-v1.json");
  char *hb = tr_b64_encode(hcl, hn, TR_B64_URL);
  char *tb = tr_b64_encode(td, tn, TR_B64_URL);
  json_t *ev =
      json_pack("{s:i, s:o, s:s, s:s}", "version", 1, "tpm_quote", q, "hcl_report", hb, "td_quote", tb);
  free(hb);
  free(tb);
  return ev;
}

static void test_unit_files_and_mutations(void **st) {
  (void)st;
  size_t hn = 0, tn = 0;
  uint8_t *hcl = tu_read(AZT "hcl-report.bin", &hn);
  uint8_t *td = tu_read(AZT "td-quote.bin", &tn);
  tu_verifier v = tu_make("az-tdx-vtpm", CFG);
  json_t *ev = unit_evidence(hcl, hn, td, tn);
  expect_dcap_stop(&v, ev);
  json_decref(ev);
  /* upstream test_verify_hcl_var_data_failure: byte 0x880 */
  hcl[0x880] += 1;
  ev = unit_evidence(hcl, hn, td, tn);
  tu_fails(&v, ev, CH, NULL, 0, false, "az-tdx-vtpm: TDX Quote report data mismatch");
  json_decref(ev);
  hcl[0x880] -= 1;
  /* TD quote report data itself */
  td[48 + 520] ^= 1;
  ev = unit_evidence(hcl, hn, td, tn);
  tu_fails(&v, ev, CH, NULL, 0, false, "TDX Quote report data mismatch");
  json_decref(ev);
  td[48 + 520] ^= 1;
  /* an SGX (v3) quote is refused */
  td[0] = 3;
  ev = unit_evidence(hcl, hn, td, tn);
  tu_fails(&v, ev, CH, NULL, 0, false, "expected TDX quote (v4/v5), got SGX quote (v3)");
  json_decref(ev);
  td[0] = 4;
  ev = unit_evidence(hcl, hn, td, 100);
  tu_fails(&v, ev, CH, NULL, 0, false, "TD quote: truncated (100 bytes)");
  json_decref(ev);
  /* an SNP HCL is refused */
  uint8_t saved = hcl[0x4C8];
  hcl[0x4C8] = 2;
  ev = unit_evidence(hcl, hn, td, tn);
  tu_fails(&v, ev, CH, NULL, 0, false, "HCL report: invalid report type 2 (expected TDX)");
  json_decref(ev);
  hcl[0x4C8] = saved;
  /* quote signature / PCR mutations */
  ev = unit_evidence(hcl, hn, td, tn);
  json_t *sig = tr_json_path(ev, "tpm_quote.signature");
  char *s = strdup(json_string_value(sig));
  s[0] = s[0] == 'a' ? 'b' : 'a';
  json_string_set(sig, s);
  tu_fails(&v, ev, CH, NULL, 0, false, "vTPM quote is not signed by AKpub");
  free(s);
  json_decref(ev);
  ev = unit_evidence(hcl, hn, td, tn);
  json_t *p0 = json_array_get(tr_json_path(ev, "tpm_quote.pcrs"), 0);
  s = strdup(json_string_value(p0));
  s[0] = s[0] == 'a' ? 'b' : 'a';
  json_string_set(p0, s);
  tu_fails(&v, ev, CH, NULL, 0, false, "Digest of PCRs does not match digest in Quote");
  free(s);
  json_decref(ev);
  tu_free(&v);
  free(hcl);
  free(td);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_evidence_reaches_dcap),
      cmocka_unit_test(test_unit_files_and_mutations),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
