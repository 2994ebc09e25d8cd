/* Unit and vector tests for the `snp` verifier: upstream's e2e evidence
 * (Genoa v3) with its expected claims, the documentation's older-layout v2
 * example, raw reports, PEM/DER chains, provided ARK/ASK, VLEK, every
 * upstream mutation (signature, TCB, VCEK bytes) with its error text, the
 * embedded AMD roots, the chain cache, and VCEK sources (offline store and a
 * KDS-shaped server on loopback with retry and caches). */
#include <openssl/pem.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_snp_util.h"
#include "verifier/amd_roots/amd_roots.h"
#include "verifier/snp/snp.h"

#define E2E "vectors/trustee/attestation-service/tests/e2e/evidence.json"
#define SNPDIR "vectors/trustee/deps/verifier/test_data/snp/"

static const char *const E2E_MEASUREMENT =
    "6a6519d757e68c2e939c9dbbbc1828498e8de35d2766dd05f1a2cca5059d0cf4ae62a36d75c837974dd50b315506e73e";
static const char *const E2E_REPORT_DATA =
    "7e7320889600c7ac133aea7b896c51f410260029 "
    "82292a7369559796999c1bf929eef3ff23c46e858f0b1982f9a92b17c51b578d958cde6b0c92978f150cf9b0";

static char *nospace(const char *s) {
  char *o = malloc(strlen(s) + 1), *q = o;
  for (; *s; s++)
    if (*s != ' ') *q++ = *s;
  *q = 0;
  return o;
}

static json_t *e2e_evidence(void) { return tu_json(E2E); }

static uint8_t *e2e_vcek(size_t *n) {
  json_t *ev = e2e_evidence();
  json_t *d = tr_json_path(json_array_get(json_object_get(ev, "cert_chain"), 0), "data");
  *n = json_array_size(d);
  uint8_t *out = malloc(*n);
  for (size_t i = 0; i < *n; i++)
    out[i] = (uint8_t)json_integer_value(json_array_get(d, i));
  json_decref(ev);
  return out;
}

/* ---- upstream e2e evidence ---------------------------------------------- */

static void check_e2e_claims(const json_t *c) {
  char *rd = nospace(E2E_REPORT_DATA);
  tu_claim_str(c, "measurement", E2E_MEASUREMENT);
  tu_claim_str(c, "report_data", rd);
  tu_claim_str(c, "init_data", "0000000000000000000000000000000000000000000000000000000000000000");
  json_t *chip = json_object_get(c, "chip_id");
  assert_true(json_is_string(chip));
  assert_int_equal(strlen(json_string_value(chip)), 128);
  assert_memory_equal(json_string_value(chip), "371c55d6", 8);
  assert_string_equal(json_string_value(chip) + 120, "de8718e8");
  tu_claim_int(c, "policy_abi_major", 0);
  tu_claim_int(c, "policy_abi_minor", 0);
  tu_claim_bool(c, "policy_smt_allowed", true);
  tu_claim_bool(c, "policy_migrate_ma", false);
  tu_claim_bool(c, "policy_debug_allowed", false);
  tu_claim_bool(c, "policy_single_socket", false);
  tu_claim_int(c, "reported_tcb_bootloader", 10);
  tu_claim_int(c, "reported_tcb_tee", 0);
  tu_claim_int(c, "reported_tcb_snp", 23);
  tu_claim_int(c, "reported_tcb_microcode", 25);
  tu_claim_bool(c, "platform_tsme_enabled", false);
  tu_claim_bool(c, "platform_smt_enabled", true);
  assert_int_equal(json_object_size(c), 16);
  free(rd);
}

static void test_e2e_evidence(void **st) {
  (void)st;
  tu_verifier v = tu_make("snp", NULL);
  json_t *ev = e2e_evidence();
  json_t *c = tu_ok(&v, ev, NULL, 0, false, NULL, 0, false);
  check_e2e_claims(c);
  json_decref(c);
  /* Bindings: the report's own REPORT_DATA, all-zero HOST_DATA (short input
   * is zero-padded). */
  char *rdh = nospace(E2E_REPORT_DATA);
  size_t rdn = 0;
  uint8_t *rd = tu_unhex(rdh, &rdn);
  uint8_t zero[8] = {0};
  c = tu_ok(&v, ev, rd, rdn, true, zero, sizeof(zero), true);
  json_decref(c);
  /* longer than 64: truncated */
  uint8_t *longer = calloc(1, 80);
  memcpy(longer, rd, 64);
  longer[70] = 9;
  c = tu_ok(&v, ev, longer, 80, true, NULL, 0, false);
  json_decref(c);
  rd[5] ^= 1;
  tu_fails(&v, ev, rd, rdn, true, NULL, 0, false, "snp: Report Data Mismatch");
  tu_fails(&v, ev, rd, 10, true, NULL, 0, false, "Report Data Mismatch");
  uint8_t one = 1;
  tu_fails(&v, ev, NULL, 0, false, &one, 1, true, "snp: Host Data Mismatch");
  free(longer);
  free(rd);
  free(rdh);
  json_decref(ev);
  tu_free(&v);
}

/* Upstream mutations, each with its precise error. */
static void test_e2e_mutations(void **st) {
  (void)st;
  tu_verifier v = tu_make("snp", NULL);
  struct {
    const char *path;
    size_t idx; /* array index or (size_t)-1 for a scalar */
    int delta;
    const char *err;
  } cases[] = {
      {"attestation_report.signature.r", 0, 1,
       "snp: Report signature verification against VEK signature failed: report signature does not verify "
       "with the "
       "VCEK"},
      {"attestation_report.signature.s", 47, 1, "report signature does not verify with the VCEK"},
      {"attestation_report.measurement", 0, 1, "report signature does not verify with the VCEK"},
      {"attestation_report.report_data", 63, 1, "report signature does not verify with the VCEK"},
      {"attestation_report.reported_tcb.microcode", (size_t)-1, 1, "report signature does not verify"},
      {"attestation_report.chip_id", 3, 1, "report signature does not verify"},
      {"attestation_report.vmpl", (size_t)-1, 1, "report signature does not verify"},
      {"attestation_report.version", (size_t)-1, 3, "Unexpected attestation report version 6"},
      {"attestation_report.version", (size_t)-1, -2, "Attestation Report version is too old"},
      {"attestation_report.cpuid_mod_id", (size_t)-1, 0x20, "Processor model not supported"},
      {"attestation_report.cpuid_fam_id", (size_t)-1, 5, "Processor family not supported"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    json_t *ev = e2e_evidence();
    json_t *t = tr_json_path(ev, cases[i].path);
    assert_non_null(t);
    if (cases[i].idx != (size_t)-1) t = json_array_get(t, cases[i].idx);
    json_integer_set(t,
                     (json_integer_value(t) + cases[i].delta) & (cases[i].idx != (size_t)-1 ? 0xFF : 0xFFFF));
    tu_fails(&v, ev, NULL, 0, false, NULL, 0, false, cases[i].err);
    json_decref(ev);
  }
  /* A VCEK byte flipped (upstream check_vcek_signature_failure: byte 42). */
  json_t *ev = e2e_evidence();
  json_t *b = json_array_get(tr_json_path(json_array_get(json_object_get(ev, "cert_chain"), 0), "data"), 600);
  json_integer_set(b, json_integer_value(b) ^ 1);
  tu_fails(&v, ev, NULL, 0, false, NULL, 0, false,
           "snp: Certificate chain provided by user failed to verify: VCEK `SEV-VCEK` is not signed by ASK "
           "`SEV-Genoa`");
  json_decref(ev);
  /* Malformed evidence. */
  ev = json_pack("{s:s}", "attestation_report", "AAAA");
  tu_fails(&v, ev, NULL, 0, false, NULL, 0, false, "must be 1184 bytes, got 3");
  json_decref(ev);
  ev = e2e_evidence();
  json_object_del(json_object_get(ev, "attestation_report"), "key_info");
  tu_fails(&v, ev, NULL, 0, false, NULL, 0, false,
           "Deserialize SNP Evidence failed: attestation_report: missing field `key_info`");
  json_decref(ev);
  ev = e2e_evidence();
  json_array_remove(tr_json_path(ev, "attestation_report.measurement"), 0);
  tu_fails(&v, ev, NULL, 0, false, NULL, 0, false, "field `measurement`: expected an array of 48 bytes");
  json_decref(ev);
  ev = e2e_evidence();
  json_object_set_new(ev, "cert_chain", json_pack("[{s:s, s:[]}]", "cert_type", "ASK", "data"));
  tu_fails(&v, ev, NULL, 0, false, NULL, 0, false,
           "If a cert chain is provided, it must include a VCEK/VLEK");
  json_decref(ev);
  tu_fails(&v, json_null(), NULL, 0, false, NULL, 0, false,
           "Deserialize SNP Evidence failed: expected object");
  tu_free(&v);
}

/* The same report as raw bytes (byte array and base64), and the VCEK as PEM. */
static void test_raw_and_pem(void **st) {
  (void)st;
  tr_snp_report r;
  json_t *ev = e2e_evidence();
  assert_null(tr_snp_report_from_json(json_object_get(ev, "attestation_report"), &r));
  assert_null(tr_snp_report_finalize(&r, TR_SNP_GENOA));
  tu_verifier v = tu_make("snp", NULL);
  json_object_set_new(ev, "attestation_report", tu_byte_array(r.raw, sizeof(r.raw)));
  json_t *c = tu_ok(&v, ev, NULL, 0, false, NULL, 0, false);
  check_e2e_claims(c);
  json_decref(c);
  char *b64 = tr_b64_encode(r.raw, sizeof(r.raw), TR_B64_URL_NOPAD);
  json_object_set_new(ev, "attestation_report", json_string(b64));
  free(b64);
  size_t n = 0;
  uint8_t *der = e2e_vcek(&n);
  char *pemb64 = tr_b64_encode(der, n, TR_B64_STD);
  char *pem = NULL;
  assert_true(asprintf(&pem, "-----BEGIN CERTIFICATE-----\n%s\n-----END CERTIFICATE-----\n", pemb64) > 0);
  json_object_set_new(ev, "cert_chain",
                      json_pack("[{s:{s:s}, s:[]}, {s:s, s:o}]", "cert_type", "OTHER", "x", "data",
                                "cert_type", "VCEK", "data",
                                tu_byte_array((const uint8_t *)pem, strlen(pem))));
  c = tu_ok(&v, ev, NULL, 0, false, NULL, 0, false);
  check_e2e_claims(c);
  json_decref(c);
  /* PEM as a JSON string, DER as base64 string */
  json_object_set_new(ev, "cert_chain", json_pack("[{s:s, s:s}]", "cert_type", "VCEK", "data", pem));
  c = tu_ok(&v, ev, NULL, 0, false, NULL, 0, false);
  json_decref(c);
  json_object_set_new(ev, "cert_chain", json_pack("[{s:s, s:s}]", "cert_type", "VCEK", "data", pemb64));
  c = tu_ok(&v, ev, NULL, 0, false, NULL, 0, false);
  json_decref(c);
  free(pem);
  free(pemb64);
  free(der);
  json_decref(ev);
  tu_free(&v);
}

static char *pem_of(X509 *x) {
  BIO *b = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(b, x);
  char *p = NULL;
  long n = BIO_get_mem_data(b, &p);
  char *out = strndup(p, (size_t)n);
  BIO_free(b);
  return out;
}

/* Provided ARK and ASK entries; a foreign ARK is refused. */
static void test_provided_ark_ask(void **st) {
  (void)st;
  tr_snp_ctx *ctx = NULL;
  assert_null(tr_snp_ctx_new(&ctx));
  char *ask = pem_of(tr_snp_ctx_root(ctx, TR_SNP_GENOA, 0));
  char *ark = pem_of(tr_snp_ctx_root(ctx, TR_SNP_GENOA, 1));
  char *milan_ark = pem_of(tr_snp_ctx_root(ctx, TR_SNP_MILAN, 1));
  char *milan_ask = pem_of(tr_snp_ctx_root(ctx, TR_SNP_MILAN, 0));
  tu_verifier v = tu_make("snp", NULL);
  json_t *ev = e2e_evidence();
  json_t *chain = json_object_get(ev, "cert_chain");
  json_array_append_new(
      chain, json_pack("{s:s, s:o}", "cert_type", "ASK", "data", tu_byte_array((uint8_t *)ask, strlen(ask))));
  json_array_append_new(
      chain, json_pack("{s:s, s:o}", "cert_type", "ARK", "data", tu_byte_array((uint8_t *)ark, strlen(ark))));
  json_t *c = tu_ok(&v, ev, NULL, 0, false, NULL, 0, false);
  json_decref(c);
  json_array_set_new(chain, 2, json_pack("{s:s, s:s}", "cert_type", "ARK", "data", milan_ark));
  tu_fails(&v, ev, NULL, 0, false, NULL, 0, false,
           "Provided ARK has an invalid signature (not the AMD Genoa ARK)");
  json_array_remove(chain, 2);
  json_array_set_new(chain, 1, json_pack("{s:s, s:s}", "cert_type", "ASK", "data", milan_ask));
  tu_fails(&v, ev, NULL, 0, false, NULL, 0, false, "ASK `SEV-Milan` is not signed by ARK `ARK-Genoa`");
  json_decref(ev);
  tu_free(&v);
  free(ask);
  free(ark);
  free(milan_ark);
  free(milan_ask);
  tr_snp_ctx_free(ctx);
}

/* ---- version-2 reports --------------------------------------------------- */

/* test-report.bin (v2, Milan) with test-vcek.der: generation from the chain. */
static void test_v2_raw_report(void **st) {
  (void)st;
  size_t rn = 0, vn = 0;
  uint8_t *raw = tu_read(SNPDIR "test-report.bin", &rn);
  uint8_t *vcek = tu_read(SNPDIR "test-vcek.der", &vn);
  tu_verifier v = tu_make("snp", NULL);
  json_t *ev = json_pack("{s:o, s:[{s:s, s:o}]}", "attestation_report", tu_byte_array(raw, rn), "cert_chain",
                         "cert_type", "VCEK", "data", tu_byte_array(vcek, vn));
  json_t *c = tu_ok(&v, ev, NULL, 0, false, NULL, 0, false);
  tu_claim_int(c, "reported_tcb_bootloader", 3);
  tu_claim_int(c, "reported_tcb_tee", 0);
  tu_claim_int(c, "reported_tcb_snp", 8);
  tu_claim_int(c, "reported_tcb_microcode", 115);
  tu_claim_int(c, "policy_abi_minor", 31);
  json_t *rd = json_object_get(c, "report_data");
  assert_memory_equal(json_string_value(rd), "ec6c52d7", 8);
  json_decref(c);
  /* Upstream mutations: byte 42 (policy) breaks the signature. */
  raw[42] += 1;
  json_object_set_new(ev, "attestation_report", tu_byte_array(raw, rn));
  tu_fails(&v, ev, NULL, 0, false, NULL, 0, false,
           "Report signature verification against VEK signature failed: report signature does not verify "
           "with the VCEK");
  raw[42] -= 1;
  /* A VCEK from another chip generation's chain is refused for every generation. */
  vcek[vn - 10] ^= 1;
  json_object_set_new(ev, "attestation_report", tu_byte_array(raw, rn));
  json_array_set_new(json_object_get(ev, "cert_chain"), 0,
                     json_pack("{s:s, s:o}", "cert_type", "VCEK", "data", tu_byte_array(vcek, vn)));
  tu_fails(&v, ev, NULL, 0, false, NULL, 0, false,
           "version-2 report: no AMD processor generation verifies it: as Milan: Certificate chain provided "
           "by user "
           "failed to verify: VCEK `SEV-VCEK` is not signed by ASK `SEV-Milan`");
  json_decref(ev);
  tu_free(&v);
  free(raw);
  free(vcek);
}

/* The documentation's example request (older sev-crate layout, version 2). */
static void test_doc_example_old_layout(void **st) {
  (void)st;
  size_t n = 0;
  char *doc = (char *)tu_read("reference/coco-attestation-docs.txt", &n);
  char *p = strstr(doc, "\"tee\": \"snp\",");
  assert_non_null(p);
  p = strstr(p, "\"evidence\": \"");
  assert_non_null(p);
  p += strlen("\"evidence\": \"");
  char *end = strchr(p, '"');
  uint8_t *js = NULL;
  size_t jn = 0;
  assert_null(tr_b64_decode(p, (size_t)(end - p), TR_B64_URL_NOPAD, &js, &jn));
  json_t *ev = NULL;
  assert_null(tr_json_parse((const char *)js, jn, &ev));
  assert_non_null(tr_json_path(ev, "attestation_report._author_key_en"));
  tu_verifier v = tu_make("snp", NULL);
  json_t *c = tu_ok(&v, ev, NULL, 0, false, NULL, 0, false);
  tu_claim_int(c, "policy_abi_minor", 31);
  tu_claim_int(c, "reported_tcb_microcode", 115);
  tu_claim_bool(c, "platform_smt_enabled", true);
  /* The rebuilt image is byte-identical to test-report.bin. */
  tr_snp_report r;
  assert_null(tr_snp_report_from_json(json_object_get(ev, "attestation_report"), &r));
  size_t rn = 0;
  uint8_t *raw = tu_read(SNPDIR "test-report.bin", &rn);
  assert_memory_equal(r.raw, raw, rn);
  free(raw);
  json_decref(c);
  /* Reserved bytes are signed too. */
  json_t *res = json_array_get(tr_json_path(ev, "attestation_report._reserved_4"), 7);
  json_integer_set(res, 1);
  tu_fails(&v, ev, NULL, 0, false, NULL, 0, false, "report signature does not verify with the VCEK");
  json_decref(ev);
  tu_free(&v);
  free(js);
  free(doc);
}

/* ---- VEK level (upstream snp/mod.rs check_* tests) ----------------------- */

static void test_vek_checks(void **st) {
  (void)st;
  tr_snp_ctx *ctx = NULL;
  assert_null(tr_snp_ctx_new(&ctx));
  size_t rn, vn, ln, lrn, an, bn;
  uint8_t *raw = tu_read(SNPDIR "test-report.bin", &rn);
  uint8_t *vcek = tu_read(SNPDIR "test-vcek.der", &vn);
  uint8_t *vlek = tu_read(SNPDIR "test-vlek.der", &ln);
  uint8_t *vlek_raw = tu_read(SNPDIR "test-vlek-report.bin", &lrn);
  uint8_t *legacy = tu_read(SNPDIR "test-vcek-invalid-legacy.der", &an);
  uint8_t *newer = tu_read(SNPDIR "test-vcek-invalid-new.der", &bn);
  tr_snp_vek *k = NULL;
  tr_snp_report r;
  /* VCEK: Milan chain OK, hwID and TCB SPLs parsed, report signature + TCB OK. */
  assert_null(tr_snp_vek_verify(ctx, TR_SNP_MILAN, TR_SNP_VCEK, vcek, vn, NULL, 0, NULL, 0, &k));
  assert_true(k->has_hwid);
  assert_int_equal(k->bl_spl, 3);
  assert_int_equal(k->ucode_spl, 115);
  assert_string_equal(k->cn, "SEV-VCEK");
  assert_null(tr_snp_report_from_bytes(raw, rn, &r));
  assert_null(tr_snp_report_finalize(&r, TR_SNP_MILAN));
  assert_null(tr_snp_verify_signature(&r, k));
  assert_null(tr_snp_verify_tcb(&r, k, false));
  /* byte 384 (REPORTED_TCB bootloader) ⇒ TCB mismatch */
  raw[384] += 1;
  assert_null(tr_snp_report_from_bytes(raw, rn, &r));
  assert_null(tr_snp_report_finalize(&r, TR_SNP_MILAN));
  tu_err_has(tr_snp_verify_tcb(&r, k, false),
             "Boot loader version mismatch: REPORTED_TCB has 4, VEK certifies 3");
  raw[384] -= 1;
  raw[0x180 + 7] += 1;
  assert_null(tr_snp_report_from_bytes(raw, rn, &r));
  assert_null(tr_snp_report_finalize(&r, TR_SNP_MILAN));
  tu_err_has(tr_snp_verify_tcb(&r, k, false),
             "Microcode version mismatch: REPORTED_TCB has 116, VEK certifies 115");
  raw[0x180 + 7] -= 1;
  /* hwID vs CHIP_ID (upstream never checks) */
  raw[0x1A0] ^= 1;
  assert_null(tr_snp_report_from_bytes(raw, rn, &r));
  assert_null(tr_snp_report_finalize(&r, TR_SNP_MILAN));
  tu_err_has(tr_snp_verify_tcb(&r, k, false), "Chip ID mismatch");
  raw[0x1A0] ^= 1;
  tr_snp_vek_unref(k);
  /* The Milan VCEK under the Genoa roots, or through the ASVK, fails. */
  tu_err_has(tr_snp_vek_verify(ctx, TR_SNP_GENOA, TR_SNP_VCEK, vcek, vn, NULL, 0, NULL, 0, &k),
             "VCEK `SEV-VCEK` is not signed by ASK `SEV-Genoa`");
  tu_err_has(tr_snp_vek_verify(ctx, TR_SNP_MILAN, TR_SNP_VLEK, vcek, vn, NULL, 0, NULL, 0, &k),
             "VLEK `SEV-VCEK` is not signed by ASVK `SEV-VLEK-Milan`");
  /* Legacy (raw 64-byte) and new (OCTET STRING) hwID encodings parse; both
   * certificates have bad signatures. */
  tu_err_has(tr_snp_vek_verify(ctx, TR_SNP_MILAN, TR_SNP_VCEK, legacy, an, NULL, 0, NULL, 0, &k),
             "is not signed by ASK `SEV-Milan`");
  tu_err_has(tr_snp_vek_verify(ctx, TR_SNP_MILAN, TR_SNP_VCEK, newer, bn, NULL, 0, NULL, 0, &k),
             "is not signed by ASK `SEV-Milan`");
  /* VLEK chain via the Milan ASVK; VLEK report signature + TCB OK (it is VMPL 1). */
  assert_null(tr_snp_vek_verify(ctx, TR_SNP_MILAN, TR_SNP_VLEK, vlek, ln, NULL, 0, NULL, 0, &k));
  assert_false(k->has_hwid);
  assert_null(tr_snp_report_from_bytes(vlek_raw, lrn, &r));
  tr_snp_gen g;
  assert_null(tr_snp_report_cpuid_gen(&r, &g));
  assert_int_equal(g, TR_SNP_MILAN);
  assert_null(tr_snp_report_finalize(&r, g));
  assert_null(tr_snp_verify_signature(&r, k));
  assert_null(tr_snp_verify_tcb(&r, k, false));
  assert_int_equal(r.vmpl, 1);
  vlek_raw[42] += 1;
  assert_null(tr_snp_report_from_bytes(vlek_raw, lrn, &r));
  assert_null(tr_snp_report_finalize(&r, g));
  tu_err_has(tr_snp_verify_signature(&r, k), "report signature does not verify with the VLEK");
  vlek_raw[42] -= 1;
  vlek_raw[384] += 1;
  assert_null(tr_snp_report_from_bytes(vlek_raw, lrn, &r));
  assert_null(tr_snp_report_finalize(&r, g));
  tu_err_has(tr_snp_verify_tcb(&r, k, false), "Boot loader version mismatch");
  vlek_raw[384] -= 1;
  tr_snp_vek_unref(k);
  /* corrupt VCEK byte 42 (upstream check_vcek_signature_failure) */
  vcek[42] += 1;
  tr_err *e = tr_snp_vek_verify(ctx, TR_SNP_MILAN, TR_SNP_VCEK, vcek, vn, NULL, 0, NULL, 0, &k);
  assert_non_null(e);
  tr_err_free(e);
  /* Through the verifier: VLEK evidence is refused for VMPL 1. */
  tu_verifier v = tu_make("snp", NULL);
  json_t *ev = json_pack("{s:o, s:[{s:s, s:o}]}", "attestation_report", tu_byte_array(vlek_raw, lrn),
                         "cert_chain", "cert_type", "VLEK", "data", tu_byte_array(vlek, ln));
  tu_fails(&v, ev, NULL, 0, false, NULL, 0, false,
           "snp: VMPL Check Failed: the report was issued at VMPL 1, not 0");
  json_decref(ev);
  tu_free(&v);
  free(raw);
  free(vcek);
  free(vlek);
  free(vlek_raw);
  free(legacy);
  free(newer);
  tr_snp_ctx_free(ctx);
}

/* Embedded roots equal the shipped files; TCB prefix format. */
static void test_roots_and_helpers(void **st) {
  (void)st;
  const char *names[3] = {"milan", "genoa", "turin"};
  const char *embedded[3] = {tr_amd_roots_milan_pem, tr_amd_roots_genoa_pem, tr_amd_roots_turin_pem};
  for (int i = 0; i < 3; i++) {
    char rel[128];
    snprintf(rel, sizeof(rel), "vectors/trustee/%s_ask_ark_asvk.pem", names[i]);
    size_t n = 0;
    uint8_t *d = tu_read(rel, &n);
    assert_int_equal(strlen(embedded[i]), n);
    assert_memory_equal(embedded[i], d, n);
    free(d);
  }
  tr_snp_ctx *ctx = NULL;
  assert_null(tr_snp_ctx_new(&ctx));
  const char *cns[3][3] = {{"SEV-Milan", "ARK-Milan", "SEV-VLEK-Milan"},
                           {"SEV-Genoa", "ARK-Genoa", "SEV-VLEK-Genoa"},
                           {"SEV-Turin", "ARK-Turin", "SEV-VLEK-Turin"}};
  for (int g = 0; g < 3; g++)
    for (int w = 0; w < 3; w++) {
      char cn[64];
      X509_NAME_get_text_by_NID(X509_get_subject_name(tr_snp_ctx_root(ctx, (tr_snp_gen)(g + 1), w)),
                                NID_commonName, cn, sizeof(cn));
      assert_string_equal(cn, cns[g][w]);
    }
  tr_snp_ctx_free(ctx);
  char out[48];
  tr_snp_tcb t = {false, 0, 2, 0, 6, 21};
  tr_snp_tcb_prefix(&t, out);
  assert_string_equal(out, "bl02_tee00_snp06_ucode21");
  t = (tr_snp_tcb){true, 5, 3, 1, 8, 15};
  tr_snp_tcb_prefix(&t, out);
  assert_string_equal(out, "bl03_tee01_snp08_ucode15_fmc05");
}

/* A verified chain is checked once. */
static void test_chain_cache(void **st) {
  (void)st;
  tu_verifier v = tu_make("snp", NULL);
  json_t *ev = e2e_evidence();
  for (int i = 0; i < 3; i++)
    json_decref(tu_ok(&v, ev, NULL, 0, false, NULL, 0, false));
  tr_snp_ctx *ctx = *(tr_snp_ctx **)v.state; /* snp_state's first member */
  uint64_t verified = 0, hits = 0;
  tr_snp_ctx_stats(ctx, &verified, &hits);
  assert_int_equal(verified, 1);
  assert_int_equal(hits, 2);
  json_decref(ev);
  tu_free(&v);
}

/* ---- VCEK sources -------------------------------------------------------- */

static char *mkdtemp_dir(void) {
  char *t = strdup("/tmp/trustee-snp-XXXXXX");
  assert_non_null(mkdtemp(t));
  return t;
}

static void rm_rf(const char *dir) {
  char *cmd = NULL;
  assert_true(asprintf(&cmd, "rm -rf '%s'", dir) > 0);
  assert_int_equal(system(cmd), 0);
  free(cmd);
}

static void write_file(const char *path, const uint8_t *d, size_t n) {
  char *dir = strdup(path);
  *strrchr(dir, '/') = 0;
  char *cmd = NULL;
  assert_true(asprintf(&cmd, "mkdir -p '%s'", dir) > 0);
  assert_int_equal(system(cmd), 0);
  free(cmd);
  free(dir);
  assert_null(tr_write_file_atomic(path, d, n, 0644));
}

static const char *e2e_hwid(void) {
  static char hw[129];
  tr_snp_report r;
  json_t *ev = e2e_evidence();
  assert_null(tr_snp_report_from_json(json_object_get(ev, "attestation_report"), &r));
  assert_null(tr_snp_report_finalize(&r, TR_SNP_GENOA));
  tr_snp_hwid_hex(&r, hw);
  json_decref(ev);
  return hw;
}

static void test_offline_store(void **st) {
  (void)st;
  char *dir = mkdtemp_dir();
  size_t n = 0;
  uint8_t *der = e2e_vcek(&n);
  char *cfg = NULL, *p = NULL;
  assert_true(asprintf(&cfg,
                       "{\"snp_verifier\":{\"vcek_sources\":[{\"type\":\"OfflineStore\",\"path\":\"%s\"}]}}",
                       dir) > 0);
  tu_verifier v = tu_make("snp", cfg);
  json_t *ev = e2e_evidence();
  json_object_del(ev, "cert_chain");
  tu_fails(&v, ev, NULL, 0, false, NULL, 0, false,
           "Failed to fetch VCEK from any configured source (OfflineStore: Failed to read VCEK from offline "
           "store at");
  {
    /* No VCEK for this chip anywhere: the evidence cannot be verified. */
    tr_err *ne = NULL;
    json_decref(tu_eval(&v, ev, NULL, 0, false, NULL, 0, false, &ne));
    assert_int_equal(tr_err_code(ne), TR_E_VERIFY);
    tr_err_free(ne);
  }
  /* flat fallback */
  assert_true(asprintf(&p, "%s/vcek/%s/vcek.der", dir, e2e_hwid()) > 0);
  write_file(p, (const uint8_t *)"flat-layout-vcek", 16);
  tu_fails(&v, ev, NULL, 0, false, NULL, 0, false,
           "/vcek.der failed verification: VCEK is not a valid certificate");
  write_file(p, der, n);
  json_t *c = tu_ok(&v, ev, NULL, 0, false, NULL, 0, false);
  check_e2e_claims(c);
  json_decref(c);
  free(p);
  /* The TCB-named file wins over the flat one. */
  assert_true(asprintf(&p, "%s/vcek/%s/vcek.der", dir, e2e_hwid()) > 0);
  write_file(p, (const uint8_t *)"flat-layout-vcek", 16);
  free(p);
  assert_true(asprintf(&p, "%s/vcek/%s/bl10_tee00_snp23_ucode25_vcek.der", dir, e2e_hwid()) > 0);
  write_file(p, der, n);
  c = tu_ok(&v, ev, NULL, 0, false, NULL, 0, false);
  json_decref(c);
  free(p);
  tu_free(&v);
  json_decref(ev);
  rm_rf(dir);
  free(dir);
  free(cfg);
  free(der);
}

typedef struct {
  pid_t pid;
  int port;
  char *dir, *log;
} kds_server;

static pid_t live_server; /* killed at exit if a failing assertion skipped kds_stop */

static void kill_live_server(void) {
  if (live_server > 0) kill(live_server, SIGTERM);
}

static kds_server kds_start(const char *dir, const uint8_t *der, size_t n, const char *prefix,
                            int fail_first) {
  kds_server s = {0};
  s.dir = strdup(dir);
  char *der_path = NULL, *port_file = NULL, *fails = NULL, *script = NULL;
  assert_true(asprintf(&der_path, "%s/served.der", dir) > 0);
  assert_true(asprintf(&port_file, "%s/port", dir) > 0);
  assert_true(asprintf(&s.log, "%s/requests.log", dir) > 0);
  assert_true(asprintf(&fails, "%d", fail_first) > 0);
  const char *src = getenv("TRUSTEE_SOURCE_DIR");
  assert_true(asprintf(&script, "%s/tests/verifier/test_snp_kds.py", src ? src : "../..") > 0);
  assert_null(tr_write_file_atomic(der_path, der, n, 0644));
  unlink(port_file);
  s.pid = fork();
  assert_true(s.pid >= 0);
  if (s.pid == 0) {
    execl("/usr/bin/python3", "python3", script, port_file, s.log, der_path, prefix, fails, (char *)NULL);
    _exit(127);
  }
  live_server = s.pid;
  atexit(kill_live_server);
  for (int i = 0; i < 200; i++) {
    FILE *f = fopen(port_file, "r");
    if (f) {
      assert_int_equal(fscanf(f, "%d", &s.port), 1);
      fclose(f);
      break;
    }
    usleep(25000);
  }
  assert_true(s.port > 0);
  free(der_path);
  free(port_file);
  free(fails);
  free(script);
  return s;
}

static void kds_stop(kds_server *s) {
  if (s->pid > 0) {
    kill(s->pid, SIGTERM);
    waitpid(s->pid, NULL, 0);
    s->pid = 0;
    live_server = 0;
  }
}

static int count_lines(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  int n = 0, ch;
  while ((ch = fgetc(f)) != EOF)
    if (ch == '\n') n++;
  fclose(f);
  return n;
}

static void test_kds(void **st) {
  (void)st;
  char *dir = mkdtemp_dir();
  size_t n = 0;
  uint8_t *der = e2e_vcek(&n);
  char *prefix = NULL, *cfg = NULL, *cache = NULL;
  assert_true(asprintf(&prefix, "/vcek/v1/Genoa/%s", e2e_hwid()) > 0);
  assert_true(asprintf(&cache, "%s/cache", dir) > 0);
  kds_server s = kds_start(dir, der, n, prefix, 2);
  /* OfflineStore (empty) first, then KDS: the configured order. */
  assert_true(
      asprintf(&cfg,
               "{\"snp_verifier\":{\"vcek_sources\":[{\"type\":\"OfflineStore\",\"path\":\"%s/none\"},"
               "{\"type\":\"KDS\",\"base_url\":\"http://127.0.0.1:%d/\",\"cache_dir\":\"%s\","
               "\"retry_delay_ms\":20}]}}",
               dir, s.port, cache) > 0);
  tu_verifier v = tu_make("snp", cfg);
  json_t *ev = e2e_evidence();
  json_object_del(ev, "cert_chain");
  json_t *c = tu_ok(&v, ev, NULL, 0, false, NULL, 0, false); /* two 503s, then 200 */
  check_e2e_claims(c);
  json_decref(c);
  assert_int_equal(count_lines(s.log), 3);
  size_t ln = 0;
  uint8_t *log = NULL;
  assert_null(tr_read_file(s.log, 0, &log, &ln));
  char *want = NULL;
  assert_true(asprintf(&want, "%s?blSPL=10&teeSPL=00&snpSPL=23&ucodeSPL=25\n", prefix) > 0);
  assert_non_null(strstr((char *)log, want));
  free(want);
  free(log);
  /* Second evaluation: no request (memory cache, and the chain cache). */
  json_decref(tu_ok(&v, ev, NULL, 0, false, NULL, 0, false));
  assert_int_equal(count_lines(s.log), 3);
  tu_free(&v);
  /* The disk cache is in the offline-store layout; a new verifier reads it
   * without the server. */
  kds_stop(&s);
  char *p = NULL;
  assert_true(asprintf(&p, "%s/vcek/%s/bl10_tee00_snp23_ucode25_vcek.der", cache, e2e_hwid()) > 0);
  struct stat sb;
  assert_int_equal(stat(p, &sb), 0);
  free(p);
  v = tu_make("snp", cfg);
  json_decref(tu_ok(&v, ev, NULL, 0, false, NULL, 0, false));
  tu_free(&v);
  free(cfg);
  /* Unreachable KDS: retries then a clear error naming the URL. */
  assert_true(
      asprintf(&cfg,
               "{\"snp_verifier\":{\"vcek_sources\":[{\"type\":\"KDS\",\"base_url\":\"http://127.0.0.1:%d\","
               "\"retries\":1,\"retry_delay_ms\":1}]}}",
               s.port) > 0);
  v = tu_make("snp", cfg);
  tu_fails(&v, ev, NULL, 0, false, NULL, 0, false,
           "Failed to fetch VCEK from any configured source (KDS: Unable to send request for VCEK to "
           "http://127.0.0.1:");
  {
    /* An unreachable KDS is a server-side failure (i/o), not bad evidence. */
    tr_err *ue = NULL;
    json_decref(tu_eval(&v, ev, NULL, 0, false, NULL, 0, false, &ue));
    assert_non_null(ue);
    assert_int_equal(tr_err_code(ue), TR_E_IO);
    tr_err_free(ue);
  }
  tu_free(&v);
  free(cfg);
  /* A 200 answer that is not a certificate is an error and is not cached. */
  free(s.dir);
  free(s.log);
  s = kds_start(dir, (const uint8_t *)"<html>busy</html>", 17, prefix, 0);
  assert_true(
      asprintf(
          &cfg,
          "{\"snp_verifier\":{\"vcek_sources\":[{\"type\":\"KDS\",\"base_url\":\"http://127.0.0.1:%d\"}]}}",
          s.port) > 0);
  v = tu_make("snp", cfg);
  int before_garbage = count_lines(s.log);
  tu_fails(&v, ev, NULL, 0, false, NULL, 0, false, "is not a DER certificate");
  tu_fails(&v, ev, NULL, 0, false, NULL, 0, false, "is not a DER certificate");
  assert_int_equal(count_lines(s.log), before_garbage + 2);
  tu_free(&v);
  kds_stop(&s);
  free(cfg);
  /* Review finding: a well-formed certificate that is not AMD's (a MITM on
   * an http base_url, a misbehaving proxy) used to be cached in memory and on
   * disk before the chain check, pinning the failure for that chip until a
   * restart and a manual cleanup. It is now verified first: nothing cached,
   * every evaluation asks again. */
  free(s.dir);
  free(s.log);
  size_t wn = 0;
  uint8_t *wrong =
      tu_read("vectors/trustee/deps/verifier/test_data/snp/test-vcek.der", &wn); /* a Milan VCEK */
  s = kds_start(dir, wrong, wn, prefix, 0);
  char *cache2 = NULL;
  assert_true(asprintf(&cache2, "%s/cache2", dir) > 0);
  assert_true(asprintf(&cfg,
                       "{\"snp_verifier\":{\"vcek_sources\":[{\"type\":\"KDS\",\"base_url\":\"http://"
                       "127.0.0.1:%d\",\"cache_dir\":\"%s\"}]}}",
                       s.port, cache2) > 0);
  v = tu_make("snp", cfg);
  int before = count_lines(s.log);
  tu_fails(
      &v, ev, NULL, 0, false, NULL, 0, false,
      "Certificate chain from KDS failed verification: VCEK `SEV-VCEK` is not signed by ASK `SEV-Genoa`");
  tu_fails(&v, ev, NULL, 0, false, NULL, 0, false, "Certificate chain from KDS failed verification");
  assert_int_equal(count_lines(s.log), before + 2);
  char *cached = NULL;
  assert_true(asprintf(&cached, "%s/vcek/%s/bl10_tee00_snp23_ucode25_vcek.der", cache2, e2e_hwid()) > 0);
  struct stat cst;
  assert_int_not_equal(stat(cached, &cst), 0);
  tu_free(&v);
  kds_stop(&s);
  free(cfg);
  /* A cache file that does not verify (planted, stale) is fetched again and replaced. */
  free(s.dir);
  free(s.log);
  s = kds_start(dir, der, n, prefix, 0);
  assert_true(asprintf(&cfg,
                       "{\"snp_verifier\":{\"vcek_sources\":[{\"type\":\"KDS\",\"base_url\":\"http://"
                       "127.0.0.1:%d\",\"cache_dir\":\"%s\"}]}}",
                       s.port, cache2) > 0);
  char *cdir = NULL;
  assert_true(asprintf(&cdir, "mkdir -p %s/vcek/%s", cache2, e2e_hwid()) > 0);
  assert_int_equal(system(cdir), 0);
  free(cdir);
  assert_null(tr_write_file_atomic(cached, wrong, wn, 0644));
  v = tu_make("snp", cfg);
  before = count_lines(s.log);
  json_decref(tu_ok(&v, ev, NULL, 0, false, NULL, 0, false));
  assert_int_equal(count_lines(s.log), before + 1);
  size_t cn = 0;
  uint8_t *now = NULL;
  assert_null(tr_read_file(cached, 0, &now, &cn));
  assert_int_equal(cn, n);
  assert_memory_equal(now, der, n);
  free(now);
  free(cached);
  free(cache2);
  free(wrong);
  tu_free(&v);
  kds_stop(&s);
  free(cfg);
  /* 404 is final (one request) */
  free(s.dir);
  free(s.log);
  s = kds_start(dir, der, n, "/elsewhere", 0);
  before = count_lines(s.log);
  assert_true(
      asprintf(
          &cfg,
          "{\"snp_verifier\":{\"vcek_sources\":[{\"type\":\"KDS\",\"base_url\":\"http://127.0.0.1:%d\"}]}}",
          s.port) > 0);
  v = tu_make("snp", cfg);
  tu_fails(&v, ev, NULL, 0, false, NULL, 0, false, "Unable to fetch VCEK from URL: HTTP 404");
  assert_int_equal(count_lines(s.log), before + 1);
  tu_free(&v);
  kds_stop(&s);
  free(cfg);
  /* Masked chip id cannot be looked up. */
  json_t *chip = tr_json_path(ev, "attestation_report.chip_id");
  for (size_t i = 0; i < 64; i++)
    json_integer_set(json_array_get(chip, i), 0);
  v = tu_make("snp", NULL);
  tu_fails(&v, ev, NULL, 0, false, NULL, 0, false, "Hardware ID is 0s on attestation report");
  tu_free(&v);
  /* Bad configuration */
  json_t *bad = json_loads("{\"snp_verifier\":{\"vcek_sources\":[{\"type\":\"Cloud\"}]}}", 0, NULL);
  void *stt = NULL;
  tu_err_has(tr_verifier_lookup("snp")->create(bad, &stt),
             "unknown type `Cloud` (expected KDS or OfflineStore)");
  json_decref(bad);
  json_decref(ev);
  free(s.dir);
  free(s.log);
  rm_rf(dir);
  free(dir);
  free(prefix);
  free(cache);
  free(der);
}

/* Turin: TCB layout fmc,bl,tee,snp,0,0,0,ucode; hwID = first 8 bytes of
 * CHIP_ID; the KDS URL carries fmcSPL first; fmc is checked. */
static void test_turin_encoding_and_kds_url(void **st) {
  (void)st;
  json_t *ev = e2e_evidence();
  json_t *rep = json_object_get(ev, "attestation_report");
  json_object_set_new(rep, "cpuid_fam_id", json_integer(0x1A));
  json_object_set_new(rep, "cpuid_mod_id", json_integer(0x01));
  json_t *tcb =
      json_pack("{s:i, s:i, s:i, s:i, s:i}", "fmc", 5, "bootloader", 3, "tee", 1, "snp", 8, "microcode", 15);
  json_object_set(rep, "reported_tcb", tcb);
  tr_snp_report r;
  assert_null(tr_snp_report_from_json(rep, &r));
  tr_snp_gen g;
  assert_null(tr_snp_report_cpuid_gen(&r, &g));
  assert_int_equal(g, TR_SNP_TURIN);
  assert_null(tr_snp_report_finalize(&r, g));
  static const uint8_t want[8] = {5, 3, 1, 8, 0, 0, 0, 15};
  assert_memory_equal(r.raw + 0x180, want, 8);
  assert_true(r.reported_tcb.has_fmc);
  assert_int_equal(r.reported_tcb.fmc, 5);
  char hw[129], prefix[48];
  tr_snp_hwid_hex(&r, hw);
  assert_string_equal(hw, "371c55d6d15cb50f");
  tr_snp_tcb_prefix(&r.reported_tcb, prefix);
  assert_string_equal(prefix, "bl03_tee01_snp08_ucode15_fmc05");
  /* fmc is compared on Turin (the Genoa VCEK has no fmc extension). */
  tr_snp_ctx *ctx = NULL;
  assert_null(tr_snp_ctx_new(&ctx));
  size_t n = 0;
  uint8_t *der = e2e_vcek(&n);
  tr_snp_vek *k = NULL;
  assert_null(tr_snp_vek_verify(ctx, TR_SNP_GENOA, TR_SNP_VCEK, der, n, NULL, 0, NULL, 0, &k));
  /* The e2e report decoded as Turin, with the VCEK's own bl/tee/snp/ucode:
   * only fmc remains, and this Genoa VCEK has no fmc extension. */
  assert_null(tr_snp_report_from_json(json_object_get(ev, "attestation_report"), &r));
  assert_null(tr_snp_report_finalize(&r, TR_SNP_TURIN));
  r.reported_tcb = (tr_snp_tcb){true, 5, 10, 0, 23, 25};
  tu_err_has(tr_snp_verify_tcb(&r, k, true), "VEK lacks the FMC SPL extension (1.3.6.1.4.1.3704.1.3.9)");
  assert_null(tr_snp_verify_tcb(&r, k, false));
  r.raw[0x1A0 + 9] ^= 1;
  tu_err_has(tr_snp_verify_tcb(&r, k, false), "Chip ID mismatch");
  tr_snp_vek_unref(k);
  tr_snp_ctx_free(ctx);
  /* The KDS request for a Turin report. */
  char *dir = mkdtemp_dir();
  kds_server s = kds_start(dir, der, n, "/vcek/v1/Turin/371c55d6d15cb50f", 0);
  char *cfg = NULL;
  assert_true(
      asprintf(
          &cfg,
          "{\"snp_verifier\":{\"vcek_sources\":[{\"type\":\"KDS\",\"base_url\":\"http://127.0.0.1:%d\"}]}}",
          s.port) > 0);
  tu_verifier v = tu_make("snp", cfg);
  json_object_del(ev, "cert_chain");
  tu_fails(
      &v, ev, NULL, 0, false, NULL, 0, false,
      "Certificate chain from KDS failed verification: VCEK `SEV-VCEK` is not signed by ASK `SEV-Turin`");
  uint8_t *log = NULL;
  size_t ln = 0;
  assert_null(tr_read_file(s.log, 0, &log, &ln));
  assert_string_equal((char *)log,
                      "/vcek/v1/Turin/371c55d6d15cb50f?fmcSPL=05&blSPL=03&teeSPL=01&snpSPL=08&ucodeSPL=15\n");
  free(log);
  tu_free(&v);
  kds_stop(&s);
  free(s.dir);
  free(s.log);
  rm_rf(dir);
  free(dir);
  free(cfg);
  free(der);
  json_decref(tcb);
  json_decref(ev);
}

/* Threads share one verifier: every evaluation succeeds, the chain is
 * verified at most once per racing thread, and KDS is asked once. */
typedef struct {
  tu_verifier *v;
  json_t *ev;
  int ok;
} worker_arg;

static void *worker(void *p) {
  worker_arg *a = p;
  for (int i = 0; i < 5; i++) {
    tr_expected none = {false, NULL, 0};
    tr_verified_list out = {0};
    tr_err *e = a->v->ops->evaluate(a->v->state, a->ev, &none, &none, &out);
    if (!e && out.len == 1) a->ok++;
    tr_err_free(e);
    tr_verified_list_clear(&out);
  }
  return NULL;
}

static void test_threads(void **st) {
  (void)st;
  char *dir = mkdtemp_dir();
  size_t n = 0;
  uint8_t *der = e2e_vcek(&n);
  char *prefix = NULL, *cfg = NULL;
  assert_true(asprintf(&prefix, "/vcek/v1/Genoa/%s", e2e_hwid()) > 0);
  kds_server s = kds_start(dir, der, n, prefix, 0);
  assert_true(
      asprintf(
          &cfg,
          "{\"snp_verifier\":{\"vcek_sources\":[{\"type\":\"KDS\",\"base_url\":\"http://127.0.0.1:%d\"}]}}",
          s.port) > 0);
  for (int with_chain = 0; with_chain < 2; with_chain++) {
    tu_verifier v = tu_make("snp", cfg);
    json_t *ev = e2e_evidence();
    if (!with_chain) json_object_del(ev, "cert_chain");
    pthread_t th[4];
    worker_arg args[4];
    for (int i = 0; i < 4; i++) {
      args[i] = (worker_arg){&v, ev, 0};
      assert_int_equal(pthread_create(&th[i], NULL, worker, &args[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
      pthread_join(th[i], NULL);
      assert_int_equal(args[i].ok, 5);
    }
    uint64_t verified = 0, hits = 0;
    tr_snp_ctx_stats(*(tr_snp_ctx **)v.state, &verified, &hits);
    assert_true(verified >= 1 && verified <= 4);
    assert_int_equal(verified + hits, 20);
    json_decref(ev);
    tu_free(&v);
  }
  assert_int_equal(count_lines(s.log), 1); /* one KDS request for 20 evaluations */
  kds_stop(&s);
  free(s.dir);
  free(s.log);
  rm_rf(dir);
  free(dir);
  free(prefix);
  free(cfg);
  free(der);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_e2e_evidence),
      cmocka_unit_test(test_e2e_mutations),
      cmocka_unit_test(test_raw_and_pem),
      cmocka_unit_test(test_provided_ark_ask),
      cmocka_unit_test(test_v2_raw_report),
      cmocka_unit_test(test_doc_example_old_layout),
      cmocka_unit_test(test_vek_checks),
      cmocka_unit_test(test_roots_and_helpers),
      cmocka_unit_test(test_chain_cache),
      cmocka_unit_test(test_offline_store),
      cmocka_unit_test(test_kds),
      cmocka_unit_test(test_threads),
      cmocka_unit_test(test_turin_encoding_and_kds_url),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
