/* Tests for `az-snp-vtpm`: upstream's evidence v0/v1/v2 end to end with the
 * expected claims, evidence rebuilt from the unit-test files (HCL with a
 * version-2 SNP report), and upstream's mutations (HCL bytes, quote
 * signature, nonce, PCRs, AK, user-data, init data) with their errors. */
#include "test_snp_util.h"

#include <openssl/pem.h>

#include "verifier/az_snp_vtpm/azure.h"
#include "verifier/snp/snp.h"

#define AZ "vectors/trustee/deps/verifier/test_data/az-snp-vtpm/"
#define PCR0_V01 "e15c44796beabf46abcec7c57e590942041e47497e4ec27571c8b7664f48dced"
#define PCR0_V2 "84275b2f4312cd4fc6cbe6b152ad3c3683e513d9f1e23c34fca160c8cca7a6a7"
#define RD_V2                                                                                                \
  "982f5c6e45df0ed3f10b6f60b02f0c8390e281300f3805e2279c16168cd6ae9aa398f647caa2338748cd0fd9f5f819ef"

static const uint8_t CHALLENGE[] = "challenge";
#define CH CHALLENGE, 9, true

static void check_string_claims(const json_t *c) {
  /* Every SNP value is a string in this verifier. */
  const char *keys[] = {"policy_abi_major",
                        "policy_abi_minor",
                        "policy_smt_allowed",
                        "policy_migrate_ma",
                        "policy_debug_allowed",
                        "policy_single_socket",
                        "reported_tcb_bootloader",
                        "reported_tcb_tee",
                        "reported_tcb_snp",
                        "reported_tcb_microcode",
                        "platform_tsme_enabled",
                        "platform_smt_enabled",
                        "measurement",
                        "report_data",
                        "init_data"};
  for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
    assert_true(json_is_string(json_object_get(c, keys[i])));
  const char *b = json_string_value(json_object_get(c, "policy_smt_allowed"));
  assert_true(strcmp(b, "true") == 0 || strcmp(b, "false") == 0);
  /* measurement: standard base64 of 48 bytes */
  const char *m = json_string_value(json_object_get(c, "measurement"));
  assert_int_equal(strlen(m), 64);
  uint8_t *d = NULL;
  size_t n = 0;
  assert_null(tr_b64_decode(m, (size_t)-1, TR_B64_STD, &d, &n));
  assert_int_equal(n, 48);
  free(d);
  json_t *tpm = json_object_get(c, "tpm");
  assert_int_equal(json_object_size(tpm), 24);
  assert_int_equal(json_object_size(c), 16);
  /* init_data = hex(PCR8) */
  assert_string_equal(json_string_value(json_object_get(c, "init_data")),
                      json_string_value(json_object_get(tpm, "pcr08")));
}

static void test_evidence_v0_v1(void **st) {
  (void)st;
  tu_verifier v = tu_make("az-snp-vtpm", NULL);
  const char *files[] = {AZ "evidence-v0.json", AZ "evidence-v1.json"};
  for (int i = 0; i < 2; i++) {
    json_t *ev = tu_json(files[i]);
    json_t *c = tu_ok(&v, ev, CH, NULL, 0, false);
    tu_claim_str(c, "report_data", "6368616c6c656e6765");
    tu_claim_str(c, "tpm.pcr00", PCR0_V01);
    check_string_claims(c);
    tu_claim_str(c, "reported_tcb_snp", json_string_value(json_object_get(c, "reported_tcb_snp")));
    json_decref(c);
    /* no report data / wrong report data */
    tu_fails(&v, ev, NULL, 0, false, NULL, 0, false, "az-snp-vtpm: unexpected empty report data");
    tu_fails(&v, ev, (const uint8_t *)"egnellahc", 9, true, NULL, 0, false,
             "az-snp-vtpm: TPM quote nonce doesn't match expected report_data");
    tu_fails(&v, ev, (const uint8_t *)"challengeX", 10, true, NULL, 0, false,
             "TPM quote nonce doesn't match expected report_data");
    /* init data: wrong length is an error (upstream panics), wrong value fails */
    uint8_t id[32] = {1};
    tu_fails(&v, ev, CH, id, 31, true, "init data hash must be 32 bytes to be checked against PCR8, got 31");
    tu_fails(&v, ev, CH, id, 32, true, "Expected init_data digest is different from the content of PCR8");
    json_decref(ev);
  }
  tu_free(&v);
}

static void test_evidence_v2(void **st) {
  (void)st;
  tu_verifier v = tu_make("az-snp-vtpm", NULL);
  json_t *ev = tu_json(AZ "evidence-v2.json");
  size_t n = 0;
  uint8_t *rd = tu_unhex(RD_V2, &n);
  json_t *c = tu_ok(&v, ev, rd, n, true, NULL, 0, false);
  tu_claim_str(c, "report_data", RD_V2);
  tu_claim_str(c, "tpm.pcr00", PCR0_V2);
  check_string_claims(c);
  json_decref(c);
  /* user-data (upstream test_verify_user_data) */
  tr_az_evidence az;
  assert_null(tr_az_evidence_parse(ev, false, &az));
  assert_int_equal(az.version, 2);
  tr_hcl_report h;
  assert_null(tr_hcl_parse(az.hcl, az.hcl_len, &h));
  tr_expected e1 = {true, rd, n};
  assert_null(tr_hcl_check_user_data(&h, &e1));
  uint8_t other[3] = {0x12, 0x3a, 0xbc};
  tr_expected e2 = {true, other, 3};
  tu_err_has(tr_hcl_check_user_data(&h, &e2), "User-data in HCL variable data doesn't match report_data");
  tr_az_evidence_clear(&az);
  /* version 3 does not exist */
  json_object_set_new(ev, "version", json_integer(3));
  tu_fails(&v, ev, rd, n, true, NULL, 0, false,
           "Failed to deserialize Azure vTPM SEV-SNP evidence: unsupported evidence version");
  json_decref(ev);
  free(rd);
  tu_free(&v);
}

/* v1 evidence assembled from hcl-report.bin (SNP report v2), tpm-quote-v1.json
 * and the VCEK of vcek.pem. */
static json_t *unit_evidence(uint8_t *hcl, size_t hcl_len) {
  json_t *q = tu_json(AZ "tpm-quote-v1.json");
  size_t pn = 0;
  uint8_t *pem = tu_read(AZ "vcek.pem", &pn);
  X509 *x = NULL;
  BIO *b = BIO_new_mem_buf(pem, (int)pn);
  x = PEM_read_bio_X509(b, NULL, NULL, NULL);
  BIO_free(b);
  assert_non_null(x);
  unsigned char *der = NULL;
  int dn = i2d_X509(x, &der);
  X509_free(x);
  char *hb = tr_b64_encode(hcl, hcl_len, TR_B64_URL);
  char *vb = tr_b64_encode(der, (size_t)dn, TR_B64_URL);
  json_t *ev = json_pack("{s:i, s:o, s:s, s:s}", "version", 1, "tpm_quote", q, "hcl_report", hb, "vcek", vb);
  free(hb);
  free(vb);
  OPENSSL_free(der);
  free(pem);
  return ev;
}

static void test_unit_files(void **st) {
  (void)st;
  size_t n = 0;
  uint8_t *hcl = tu_read(AZ "hcl-report.bin", &n);
  tu_verifier v = tu_make("az-snp-vtpm", NULL);
  json_t *ev = unit_evidence(hcl, n);
  json_t *c = tu_ok(&v, ev, CH, NULL, 0, false); /* v2 SNP report: Milan from the chain */
  tu_claim_str(c, "report_data", "6368616c6c656e6765");
  json_decref(c);
  json_decref(ev);
  struct {
    size_t off;
    int set; /* -1: +1, else value */
    const char *err;
  } cases[] = {
      {0x1A6, 0, "az-snp-vtpm: SNP version mismatch: REPORTED_TCB has 0, VEK certifies 8"},
      {0x6E0, -1, "HCL variable data digest doesn't match SNP report data"},
      {0x540, 0, "Failed to get AKpub"},
      {0x4C8, 4, "HCL report: invalid report type 4 (expected SNP)"},
      {0x4C0 + 16, 0xFF, "HCL report: invalid report size"},
      {0x20 + 0x2A0, -1, "report signature does not verify with the VCEK"},
      {0x20 + 0x30, 1, "report signature does not verify"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    uint8_t saved = hcl[cases[i].off];
    hcl[cases[i].off] = cases[i].set < 0 ? (uint8_t)(saved + 1) : (uint8_t)cases[i].set;
    if (cases[i].off == 0x4C0 + 16) hcl[cases[i].off + 1] = 0xFF;
    ev = unit_evidence(hcl, n);
    tu_fails(&v, ev, CH, NULL, 0, false, cases[i].err);
    json_decref(ev);
    hcl[cases[i].off] = saved;
    if (cases[i].off == 0x4C0 + 16) hcl[cases[i].off + 1] = 0x04;
  }
  /* Quote mutations (upstream: signature[0] ^= 1, pcrs[0][0] ^= 1). */
  ev = unit_evidence(hcl, n);
  json_t *sig = tr_json_path(ev, "tpm_quote.signature");
  char *s = strdup(json_string_value(sig));
  s[1] = s[1] == '0' ? '1' : '0';
  json_string_set(sig, s);
  tu_fails(&v, ev, CH, NULL, 0, false,
           "vTPM quote is not signed by AKpub: TPM quote is not signed by the AK");
  free(s);
  json_decref(ev);
  ev = unit_evidence(hcl, n);
  json_t *p0 = json_array_get(tr_json_path(ev, "tpm_quote.pcrs"), 0);
  s = strdup(json_string_value(p0));
  s[1] = s[1] == '0' ? '1' : '0';
  json_string_set(p0, s);
  tu_fails(&v, ev, CH, NULL, 0, false, "Digest of PCRs does not match digest in Quote");
  free(s);
  json_decref(ev);
  /* The SNP part alone (upstream test_verify_snp_report): vcek.pem is Milan. */
  tr_snp_ctx *ctx = NULL;
  assert_null(tr_snp_ctx_new(&ctx));
  size_t pn = 0;
  uint8_t *pem = tu_read(AZ "vcek.pem", &pn);
  tr_snp_vek *k = NULL;
  assert_null(tr_snp_vek_verify(ctx, TR_SNP_MILAN, TR_SNP_VCEK, pem, pn, NULL, 0, NULL, 0, &k));
  tr_snp_report r;
  assert_null(tr_snp_report_from_bytes(hcl + 0x20, TR_SNP_REPORT_LEN, &r));
  assert_null(tr_snp_report_finalize(&r, TR_SNP_MILAN));
  assert_null(tr_snp_verify_signature(&r, k));
  assert_null(tr_snp_verify_tcb(&r, k, false));
  tr_snp_vek_unref(k);
  tr_snp_ctx_free(ctx);
  free(pem);
  free(hcl);
  tu_free(&v);
}

/* Upstream test_verify_init_data: PCR8 = SHA256(0^32 ‖ 8505…) = bdda…. */
static void test_init_data_pcr8(void **st) {
  (void)st;
  json_t *j = tu_json(AZ "tpm-quote-v1.json");
  tr_tpm_quote q;
  assert_null(tr_tpm_quote_from_hex_json(j, "tpm_quote", &q));
  assert_int_equal(q.npcrs, 24);
  size_t n = 0;
  uint8_t *want = tu_unhex("bddaccb9c52249e97a31baea61b7d91be8221a16e703d92148d04fb8e9c1dfdd", &n);
  memcpy(q.pcrs[8], want, 32);
  uint8_t *id = tu_unhex("8505e4e25e50a27c5dc8147af88efbece627fbea55291911eff832d9ee127781", &n);
  tr_expected e = {true, id, 32};
  assert_null(tr_tpm_verify_init_data(&q, &e));
  id[0] ^= 1;
  tu_err_has(tr_tpm_verify_init_data(&q, &e),
             "Expected init_data digest is different from the content of PCR8");
  tr_expected none = {false, NULL, 0};
  assert_null(tr_tpm_verify_init_data(&q, &none));
  /* The claim extension (upstream test_extend_claim). */
  TPMS_ATTEST a;
  assert_null(tr_tpm_attest_parse(q.msg, q.msg_len, &a));
  json_t *c = json_pack("{s:s}", "some", "thing");
  assert_null(tr_az_extend_claims(c, &(tr_az_evidence){.quote = q}, &a));
  assert_int_equal(json_object_size(c), 4);
  tu_claim_str(c, "report_data", "6368616c6c656e6765");
  tu_claim_str(c, "init_data", "bddaccb9c52249e97a31baea61b7d91be8221a16e703d92148d04fb8e9c1dfdd");
  json_decref(c);
  free(want);
  free(id);
  tr_tpm_quote_clear(&q);
  json_decref(j);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_evidence_v0_v1),
      cmocka_unit_test(test_evidence_v2),
      cmocka_unit_test(test_unit_files),
      cmocka_unit_test(test_init_data_pcr8),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
