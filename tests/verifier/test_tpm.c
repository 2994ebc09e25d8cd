/* Tests for `tpm`: upstream's tpm_evidence.json (verifies without report
 * data; its 64-byte nonce can never equal 32-byte padded report data, as
 * upstream), its mutations with their errors, and a quote made here with a
 * fresh AK to exercise the nonce padding/truncation and init-data paths. */
#include "test_snp_util.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <tss2/tss2_mu.h>
#include <unistd.h>

#include "verifier/tpm/tpm_quote.h"

#define TPMEV "vectors/trustee/deps/verifier/test_data/tpm_evidence.json"

static void test_upstream_evidence(void **st) {
  (void)st;
  tu_verifier v = tu_make("tpm", "{\"tpm_verifier\":{\"accept_any_ak\":true}}");
  json_t *ev = tu_json(TPMEV);
  json_t *c = tu_ok(&v, ev, NULL, 0, false, NULL, 0, false);
  const char *rd = json_string_value(json_object_get(c, "report_data"));
  assert_int_equal(strlen(rd), 128);
  assert_memory_equal(rd, "a04182b5", 8);
  assert_string_equal(rd + 64,
                      "ef0e41a18b3569ab678f1497fbc5c12000000000000000000000000000000000"); /* …c120 ‖ 0×16 */
  assert_int_equal(strlen(json_string_value(json_object_get(c, "init_data"))), 64);
  assert_string_equal(json_string_value(json_object_get(c, "init_data")),
                      json_string_value(json_object_get(c, "pcr08")));
  tu_claim_str(c, "ak_public", json_string_value(json_object_get(ev, "ak_public")));
  assert_non_null(json_object_get(c, "pcr23"));
  assert_int_equal(json_object_size(c), 27);
  /* Any provided report data is padded/truncated to 32 bytes ≠ 64-byte nonce. */
  size_t n = 0;
  uint8_t *nonce = tu_unhex(rd, &n);
  json_decref(c);
  tu_fails(&v, ev, nonce, n, true, NULL, 0, false, "tpm: TPM quote nonce doesn't match expected report_data");
  free(nonce);
  uint8_t id[32] = {0};
  tu_fails(&v, ev, NULL, 0, false, id, 32, true, "tpm: TPM PCR[8] doesn't match expected initdata hash");
  tu_fails(&v, ev, NULL, 0, false, id, 20, true, "init data hash must be 32 bytes");
  json_decref(ev);

  /* Mutations. */
  struct {
    const char *path;
    int pos;
    const char *err;
  } cases[] = {
      {"tpm_quote.signature", 40,
       "tpm: TPM quote signature verification failed: TPM quote is not signed by the AK"},
      {"tpm_quote.message", 60, "TPM quote signature verification failed"},
      {"ak_public", 80, "TPM quote signature verification failed"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    ev = tu_json(TPMEV);
    json_t *s = tr_json_path(ev, cases[i].path);
    char *t = strdup(json_string_value(s));
    t[cases[i].pos] = t[cases[i].pos] == 'A' ? 'B' : 'A';
    json_string_set(s, t);
    free(t);
    tu_fails(&v, ev, NULL, 0, false, NULL, 0, false, cases[i].err);
    json_decref(ev);
  }
  ev = tu_json(TPMEV);
  json_t *p = json_array_get(tr_json_path(ev, "tpm_quote.pcrs"), 3);
  json_string_set(p, "1111111111111111111111111111111111111111111111111111111111111111");
  tu_fails(&v, ev, NULL, 0, false, NULL, 0, false, "tpm: Digest of PCRs does not match digest in Quote");
  json_string_set(p, "11");
  tu_fails(&v, ev, NULL, 0, false, NULL, 0, false, "PCR should be 64 hex characters (32 bytes), got 2");
  json_decref(ev);
  /* RSA-PSS TPMT_SIGNATURE (same layout, other sigAlg) */
  ev = tu_json(TPMEV);
  json_t *sig = tr_json_path(ev, "tpm_quote.signature");
  uint8_t *raw = NULL;
  assert_null(tr_b64_decode(json_string_value(sig), (size_t)-1, TR_B64_STD, &raw, &n));
  raw[1] = 0x16;
  char *b = tr_b64_encode(raw, n, TR_B64_STD);
  json_string_set(sig, b);
  tu_fails(&v, ev, NULL, 0, false, NULL, 0, false, "Unsupported signature type 0x0016, expected RSA-SSA");
  free(b);
  free(raw);
  json_object_del(ev, "ak_public");
  tu_fails(&v, ev, NULL, 0, false, NULL, 0, false,
           "Failed to deserialize TPM Evidence: field `evidence.ak_public`");
  json_decref(ev);
  tu_free(&v);
}

/* A quote made here: AK = fresh RSA-2048 key; `sel` = the SHA-256 PCR
 * selection bitmap the quote signs (PCRs 0-7, 8-15, 16-23). */
static json_t *make_evidence_sel(EVP_PKEY *ak, const uint8_t *nonce, size_t nn, uint8_t pcrs[][32], size_t np,
                                 const uint8_t sel[3]) {
  TPMS_ATTEST a;
  memset(&a, 0, sizeof(a));
  a.magic = TPM2_GENERATED_VALUE;
  a.type = TPM2_ST_ATTEST_QUOTE;
  a.extraData.size = (UINT16)nn;
  memcpy(a.extraData.buffer, nonce, nn);
  a.attested.quote.pcrSelect.count = 1;
  a.attested.quote.pcrSelect.pcrSelections[0].hash = TPM2_ALG_SHA256;
  a.attested.quote.pcrSelect.pcrSelections[0].sizeofSelect = 3;
  memcpy(a.attested.quote.pcrSelect.pcrSelections[0].pcrSelect, sel, 3);
  unsigned int dl = 0;
  assert_true(EVP_Digest(pcrs, np * 32, a.attested.quote.pcrDigest.buffer, &dl, EVP_sha256(), NULL));
  a.attested.quote.pcrDigest.size = 32;
  uint8_t msg[1024];
  size_t ml = 0;
  assert_int_equal(Tss2_MU_TPMS_ATTEST_Marshal(&a, msg, sizeof(msg), &ml), TSS2_RC_SUCCESS);
  TPMT_SIGNATURE s;
  memset(&s, 0, sizeof(s));
  s.sigAlg = TPM2_ALG_RSASSA;
  s.signature.rsassa.hash = TPM2_ALG_SHA256;
  size_t sl = sizeof(s.signature.rsassa.sig.buffer);
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  assert_int_equal(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, ak), 1);
  assert_int_equal(EVP_DigestSign(md, s.signature.rsassa.sig.buffer, &sl, msg, ml), 1);
  EVP_MD_CTX_free(md);
  s.signature.rsassa.sig.size = (UINT16)sl;
  uint8_t sigm[1024];
  size_t sml = 0;
  assert_int_equal(Tss2_MU_TPMT_SIGNATURE_Marshal(&s, sigm, sizeof(sigm), &sml), TSS2_RC_SUCCESS);
  unsigned char *spki = NULL;
  int spl = i2d_PUBKEY(ak, &spki);
  char *ak64 = tr_b64_encode(spki, (size_t)spl, TR_B64_STD);
  char *m64 = tr_b64_encode(msg, ml, TR_B64_STD);
  char *s64 = tr_b64_encode(sigm, sml, TR_B64_STD);
  json_t *pl = json_array();
  for (size_t i = 0; i < np; i++) {
    char *h = tr_hex_encode(pcrs[i], 32);
    json_array_append_new(pl, json_string(h));
    free(h);
  }
  json_t *ev = json_pack("{s:s, s:{s:s, s:s, s:o}}", "ak_public", ak64, "tpm_quote", "signature", s64,
                         "message", m64, "pcrs", pl);
  OPENSSL_free(spki);
  free(ak64);
  free(m64);
  free(s64);
  return ev;
}

/* The quote signs exactly the first np PCRs of the SHA-256 bank. */
static json_t *make_evidence(EVP_PKEY *ak, const uint8_t *nonce, size_t nn, uint8_t pcrs[][32], size_t np) {
  uint8_t sel[3] = {0};
  for (size_t i = 0; i < np && i < 24; i++)
    sel[i / 8] |= (uint8_t)(1u << (i % 8));
  return make_evidence_sel(ak, nonce, nn, pcrs, np, sel);
}

static void test_generated_quote(void **st) {
  (void)st;
  EVP_PKEY *ak = EVP_RSA_gen(2048);
  assert_non_null(ak);
  uint8_t pcrs[24][32];
  memset(pcrs, 0, sizeof(pcrs));
  uint8_t id[32], in[64] = {0};
  for (int i = 0; i < 32; i++)
    id[i] = (uint8_t)(i * 7);
  memcpy(in + 32, id, 32);
  unsigned int dl = 0;
  assert_true(EVP_Digest(in, 64, pcrs[8], &dl, EVP_sha256(), NULL)); /* PCR8 = extend(0, init data) */
  uint8_t nonce[32] = "short-report-data";                           /* zero-padded to 32 */
  json_t *ev = make_evidence(ak, nonce, 32, pcrs, 24);
  tu_verifier v = tu_make("tpm", "{\"tpm_verifier\":{\"accept_any_ak\":true}}");
  json_t *c = tu_ok(&v, ev, (const uint8_t *)"short-report-data", 17, true, id, 32, true);
  json_decref(c);
  /* longer report data is truncated to 32 */
  uint8_t longer[40];
  memcpy(longer, nonce, 32);
  memset(longer + 32, 0xEE, 8);
  json_decref(tu_ok(&v, ev, longer, sizeof(longer), true, NULL, 0, false));
  tu_fails(&v, ev, (const uint8_t *)"short-report-datA", 17, true, NULL, 0, false,
           "TPM quote nonce doesn't match expected report_data");
  id[3] ^= 1;
  tu_fails(&v, ev, NULL, 0, false, id, 32, true, "TPM PCR[8] doesn't match expected initdata hash");
  json_decref(ev);
  /* Fewer than 9 PCRs: no init_data claim; checking init data is an error, not a crash. */
  ev = make_evidence(ak, nonce, 32, pcrs, 4);
  c = tu_ok(&v, ev, NULL, 0, false, NULL, 0, false);
  assert_null(json_object_get(c, "init_data"));
  json_decref(c);
  tu_fails(&v, ev, NULL, 0, false, id, 32, true,
           "the quote carries 4 PCRs; PCR8 is needed to check init data");
  json_decref(ev);
  tu_free(&v);
  EVP_PKEY_free(ak);
}

/* Review finding: the PCR values are labelled by position, so the quote's
 * signed pcrSelect must be PCRs 0..N-1 of SHA-256. A guest that selects
 * PCRs {0..10, 16} and sends twelve values would otherwise get PCR16
 * (resettable, extendable at will: a replay of a good PCR11 history) reported
 * as pcr11, and PCR8 (init data) can be relabelled the same way. */
static void test_pcr_selection_bound(void **st) {
  (void)st;
  EVP_PKEY *ak = EVP_RSA_gen(2048);
  assert_non_null(ak);
  uint8_t pcrs[24][32];
  for (int i = 0; i < 24; i++)
    memset(pcrs[i], 0x40 + i, 32);
  uint8_t nonce[32] = "n";
  tu_verifier v = tu_make("tpm", "{\"tpm_verifier\":{\"accept_any_ak\":true}}");
  /* PCRs 0..10 and 16; the twelfth value (PCR16) would be claimed as pcr11. */
  uint8_t vals[12][32];
  memcpy(vals, pcrs, 11 * 32);
  memcpy(vals[11], pcrs[16], 32);
  const uint8_t sparse[3] = {0xFF, 0x07, 0x01};
  json_t *ev = make_evidence_sel(ak, nonce, 32, vals, 12, sparse);
  tu_fails(&v, ev, NULL, 0, false, NULL, 0, false,
           "TPM quote PCR selection does not match the 12 PCR values given: PCR11 is given but not selected");
  json_decref(ev);
  /* Init data: PCR16 in PCR8's place. */
  uint8_t vals9[9][32];
  memcpy(vals9, pcrs, 8 * 32);
  memcpy(vals9[8], pcrs[16], 32);
  const uint8_t sel9[3] = {0xFF, 0x00, 0x01};
  ev = make_evidence_sel(ak, nonce, 32, vals9, 9, sel9);
  tu_fails(&v, ev, NULL, 0, false, NULL, 0, false, "PCR8 is given but not selected");
  json_decref(ev);
  /* More values than selected PCRs (the digest covers what is sent). */
  const uint8_t sel4[3] = {0x0F, 0, 0};
  ev = make_evidence_sel(ak, nonce, 32, pcrs, 5, sel4);
  tu_fails(&v, ev, NULL, 0, false, NULL, 0, false, "PCR4 is given but not selected");
  json_decref(ev);
  /* Fewer values than selected PCRs. */
  const uint8_t all[3] = {0xFF, 0xFF, 0xFF};
  ev = make_evidence_sel(ak, nonce, 32, pcrs, 23, all);
  tu_fails(&v, ev, NULL, 0, false, NULL, 0, false, "PCR23 is selected but not given");
  json_decref(ev);
  /* The exact prefix selection verifies, names match indices. */
  ev = make_evidence_sel(ak, nonce, 32, pcrs, 24, all);
  json_t *c = tu_ok(&v, ev, NULL, 0, false, NULL, 0, false);
  char *h = tr_hex_encode(pcrs[11], 32);
  tu_claim_str(c, "pcr11", h);
  free(h);
  json_decref(c);
  json_decref(ev);
  tu_free(&v);
  EVP_PKEY_free(ak);
}

/* Review finding: a SHA-1 (or any non-SHA-256) bank is refused — the values
 * are 32-byte SHA-256 PCRs. */
static void test_pcr_selection_bank(void **st) {
  (void)st;
  TPMS_ATTEST a;
  memset(&a, 0, sizeof(a));
  a.attested.quote.pcrSelect.count = 1;
  a.attested.quote.pcrSelect.pcrSelections[0].hash = TPM2_ALG_SHA1;
  a.attested.quote.pcrSelect.pcrSelections[0].sizeofSelect = 3;
  a.attested.quote.pcrSelect.pcrSelections[0].pcrSelect[0] = 0x01;
  uint8_t pcrs[1][32] = {{0}};
  tr_tpm_quote q = {NULL, 0, NULL, 0, pcrs, 1};
  tu_err_has(tr_tpm_verify_pcrs(&q, &a), "hash algorithm 0x0004, expected SHA-256");
  a.attested.quote.pcrSelect.count = 2;
  a.attested.quote.pcrSelect.pcrSelections[0].hash = TPM2_ALG_SHA256;
  a.attested.quote.pcrSelect.pcrSelections[1] = a.attested.quote.pcrSelect.pcrSelections[0];
  tu_err_has(tr_tpm_verify_pcrs(&q, &a), "exactly one bank (SHA-256), it has 2 selections");
}

/* tpm_verifier.trusted_ak_keys_dir (upstream's documented, never-read
 * setting) is enforced when configured: without it a quote made by any
 * software key verifies — which test_generated_quote shows. */
static void test_trusted_ak_dir(void **st) {
  (void)st;
  EVP_PKEY *ak = EVP_RSA_gen(2048), *other = EVP_RSA_gen(2048);
  assert_non_null(ak);
  assert_non_null(other);
  uint8_t pcrs[24][32];
  memset(pcrs, 0, sizeof(pcrs));
  uint8_t nonce[32] = "n";
  json_t *ev = make_evidence(ak, nonce, 32, pcrs, 24);
  json_t *ev_other = make_evidence(other, nonce, 32, pcrs, 24);
  char dir[] = "/tmp/trustee-tpm-aks-XXXXXX";
  assert_non_null(mkdtemp(dir));
  char cfg[256], pem_path[128], der_path[128];
  snprintf(cfg, sizeof(cfg), "{\"tpm_verifier\":{\"trusted_ak_keys_dir\":\"%s\"}}", dir);
  /* An empty directory is a configuration error, not "trust nothing silently". */
  const tr_verifier_ops *ops = tr_verifier_lookup("tpm");
  void *state = NULL;
  json_t *jc = json_loads(cfg, 0, NULL);
  tu_err_has(ops->create(jc, &state), "holds no keys");
  /* PEM for one key. */
  snprintf(pem_path, sizeof(pem_path), "%s/ak.pem", dir);
  FILE *f = fopen(pem_path, "w");
  assert_non_null(f);
  assert_int_equal(PEM_write_PUBKEY(f, ak), 1);
  fclose(f);
  tu_verifier v = tu_make("tpm", cfg);
  json_decref(tu_ok(&v, ev, NULL, 0, false, NULL, 0, false));
  tu_fails(&v, ev_other, NULL, 0, false, NULL, 0, false,
           "tpm: the AK is not one of the keys in tpm_verifier.trusted_ak_keys_dir");
  tu_free(&v);
  /* DER for the other; a limit of one key is exceeded. */
  snprintf(der_path, sizeof(der_path), "%s/other.der", dir);
  unsigned char *der = NULL;
  int dl = i2d_PUBKEY(other, &der);
  assert_null(tr_write_file_atomic(der_path, der, (size_t)dl, 0644));
  OPENSSL_free(der);
  v = tu_make("tpm", cfg);
  json_decref(tu_ok(&v, ev_other, NULL, 0, false, NULL, 0, false));
  tu_free(&v);
  json_t *lim =
      json_pack("{s:{s:s, s:i}}", "tpm_verifier", "trusted_ak_keys_dir", dir, "max_trusted_ak_keys", 1);
  tu_err_has(ops->create(lim, &state), "more than max_trusted_ak_keys (1)");
  json_decref(lim);
  /* A file that is not a key, and a missing directory. */
  f = fopen(pem_path, "w");
  fputs("not a key", f);
  fclose(f);
  tu_err_has(ops->create(jc, &state), "ak.pem is not a public key");
  unlink(pem_path);
  unlink(der_path);
  rmdir(dir);
  tu_err_has(ops->create(jc, &state), "cannot open trusted_ak_keys_dir");
  json_decref(jc);
  json_decref(ev);
  json_decref(ev_other);
  EVP_PKEY_free(ak);
  EVP_PKEY_free(other);
}

/* Secure by default: without trusted AKs (and without the explicit
 * accept_any_ak opt-in) a validly signed quote is refused, because its AK
 * comes from the evidence itself. */
static void test_untrusted_ak_refused_by_default(void **st) {
  (void)st;
  if (access("/etc/tpm/trusted_ak_keys", F_OK) == 0) skip(); /* the default dir would apply */
  tu_verifier v = tu_make("tpm", NULL);
  json_t *ev = tu_json(TPMEV);
  tu_fails(&v, ev, NULL, 0, false, NULL, 0, false,
           "tpm: the AK in the evidence is not trusted: no trusted AKs are configured");
  json_decref(ev);
  tu_free(&v);
  v = tu_make("tpm", "{\"tpm_verifier\":{}}");
  ev = tu_json(TPMEV);
  tu_fails(&v, ev, NULL, 0, false, NULL, 0, false, "accept_any_ak = true leaves AK pinning to the policy");
  json_decref(ev);
  tu_free(&v);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_upstream_evidence),   cmocka_unit_test(test_generated_quote),
      cmocka_unit_test(test_pcr_selection_bound), cmocka_unit_test(test_pcr_selection_bank),
      cmocka_unit_test(test_trusted_ak_dir),      cmocka_unit_test(test_untrusted_ak_refused_by_default),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
