/* SNP verifier against a synthetic AMD-shaped chain made here (ARK, ASK,
 * ASVK, a VCEK with TCB and hwID extensions, and reports signed with its
 * key), installed through `snp_verifier.vendor_certs`: the positive paths
 * real vectors cannot reach (chosen REPORT_DATA / HOST_DATA bindings, every
 * version 2..5, both JSON layouts and raw from the same report) and the
 * negative ones that need a valid signature (VMPL, TCB, hwID). Also: the
 * same evidence is refused under the embedded AMD roots. */
#include "test_snp_util.h"

#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include "verifier/snp/snp.h"

typedef struct {
  EVP_PKEY *ark_key, *ask_key, *vcek_key;
  X509 *ark, *ask, *asvk, *vcek;
  char dir[64], bundle[128];
  char *cfg;
  uint8_t chip[64];
} chain;

static X509 *make_cert(const char *cn, EVP_PKEY *key, X509 *issuer) {
  X509 *x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_NAME *n = X509_NAME_new();
  X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
  X509_set_subject_name(x, n);
  X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : n);
  X509_NAME_free(n);
  X509_gmtime_adj(X509_getm_notBefore(x), 0);
  X509_gmtime_adj(X509_getm_notAfter(x), 3600);
  X509_set_pubkey(x, key);
  return x;
}

static void add_ext(X509 *x, const char *oid, const uint8_t *der, size_t len) {
  ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
  ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
  ASN1_OCTET_STRING_set(os, der, (int)len);
  X509_EXTENSION *ext = X509_EXTENSION_create_by_OBJ(NULL, obj, 0, os);
  assert_int_equal(X509_add_ext(x, ext, -1), 1);
  X509_EXTENSION_free(ext);
  ASN1_OCTET_STRING_free(os);
  ASN1_OBJECT_free(obj);
}

static void add_int_ext(X509 *x, const char *oid, long v) {
  ASN1_INTEGER *ai = ASN1_INTEGER_new();
  ASN1_INTEGER_set(ai, v);
  unsigned char *der = NULL;
  int n = i2d_ASN1_INTEGER(ai, &der);
  add_ext(x, oid, der, (size_t)n);
  OPENSSL_free(der);
  ASN1_INTEGER_free(ai);
}

static void write_pem(FILE *f, X509 *x) { assert_int_equal(PEM_write_X509(f, x), 1); }

/* TCB certified by the VCEK: bl 4, tee 1, snp 20, ucode 210. */
static chain make_chain(void) {
  chain c;
  memset(&c, 0, sizeof(c));
  c.ark_key = EVP_RSA_gen(2048);
  c.ask_key = EVP_RSA_gen(2048);
  c.vcek_key = EVP_EC_gen("P-384");
  assert_non_null(c.ark_key);
  assert_non_null(c.ask_key);
  assert_non_null(c.vcek_key);
  c.ark = make_cert("ARK-Test", c.ark_key, NULL);
  assert_true(X509_sign(c.ark, c.ark_key, EVP_sha384()) > 0);
  c.ask = make_cert("SEV-Test", c.ask_key, c.ark);
  assert_true(X509_sign(c.ask, c.ark_key, EVP_sha384()) > 0);
  c.asvk = make_cert("SEV-VLEK-Test", c.ask_key, c.ark);
  assert_true(X509_sign(c.asvk, c.ark_key, EVP_sha384()) > 0);
  for (int i = 0; i < 64; i++)
    c.chip[i] = (uint8_t)(0xA0 + i);
  c.vcek = make_cert("SEV-VCEK", c.vcek_key, c.ask);
  add_int_ext(c.vcek, "1.3.6.1.4.1.3704.1.3.1", 4);
  add_int_ext(c.vcek, "1.3.6.1.4.1.3704.1.3.2", 1);
  add_int_ext(c.vcek, "1.3.6.1.4.1.3704.1.3.3", 20);
  add_int_ext(c.vcek, "1.3.6.1.4.1.3704.1.3.8", 210);
  uint8_t hw[66] = {0x04, 0x40};
  memcpy(hw + 2, c.chip, 64);
  add_ext(c.vcek, "1.3.6.1.4.1.3704.1.4", hw, sizeof(hw)); /* DER OCTET STRING form */
  assert_true(X509_sign(c.vcek, c.ask_key, EVP_sha384()) > 0);
  strcpy(c.dir, "/tmp/trustee-snp-synth-XXXXXX");
  assert_non_null(mkdtemp(c.dir));
  snprintf(c.bundle, sizeof(c.bundle), "%s/ask_ark_asvk.pem", c.dir);
  FILE *f = fopen(c.bundle, "w");
  assert_non_null(f);
  write_pem(f, c.ask);
  write_pem(f, c.ark);
  write_pem(f, c.asvk);
  fclose(f);
  assert_true(asprintf(&c.cfg, "{\"snp_verifier\":{\"vcek_sources\":[],\"vendor_certs\":{\"Milan\":\"%s\"}}}",
                       c.bundle) > 0);
  return c;
}

static void free_chain(chain *c) {
  unlink(c->bundle);
  rmdir(c->dir);
  free(c->cfg);
  X509_free(c->ark);
  X509_free(c->ask);
  X509_free(c->asvk);
  X509_free(c->vcek);
  EVP_PKEY_free(c->ark_key);
  EVP_PKEY_free(c->ask_key);
  EVP_PKEY_free(c->vcek_key);
}

static json_t *tcb_json(bool old, int bl, int tee, int snp, int ucode) {
  if (old)
    return json_pack("{s:i, s:i, s:[iiii], s:i, s:i}", "bootloader", bl, "tee", tee, "_reserved", 0, 0, 0, 0,
                     "snp", snp, "microcode", ucode);
  return json_pack("{s:n, s:i, s:i, s:i, s:i}", "fmc", "bootloader", bl, "tee", tee, "snp", snp, "microcode",
                   ucode);
}

static json_t *zeros(size_t n) {
  uint8_t z[512] = {0};
  return tu_byte_array(z, n);
}

static json_t *sign_report(chain *c, json_t *r, bool old);

/* A Milan report in the chosen layout, signed with the chain's VCEK. */
static json_t *make_evidence(chain *c, int version, bool old, const uint8_t rd[64], const uint8_t hd[32],
                             int vmpl, int ucode) {
  json_t *r = json_object();
  json_object_set_new(r, "version", json_integer(version));
  json_object_set_new(r, "guest_svn", json_integer(7));
  json_object_set_new(r, "policy", json_integer(0x30000 | (1 << 19)));
  json_object_set_new(r, "family_id", zeros(16));
  json_object_set_new(r, "image_id", zeros(16));
  json_object_set_new(r, "vmpl", json_integer(vmpl));
  json_object_set_new(r, "sig_algo", json_integer(1));
  json_object_set_new(r, "plat_info", json_integer(3));
  json_object_set_new(r, "report_data", tu_byte_array(rd, 64));
  uint8_t m[48];
  for (int i = 0; i < 48; i++)
    m[i] = (uint8_t)i;
  json_object_set_new(r, "measurement", tu_byte_array(m, 48));
  json_object_set_new(r, "host_data", tu_byte_array(hd, 32));
  json_object_set_new(r, "id_key_digest", zeros(48));
  json_object_set_new(r, "author_key_digest", zeros(48));
  json_object_set_new(r, "report_id", zeros(32));
  json_object_set_new(r, "report_id_ma", zeros(32));
  json_object_set_new(r, "chip_id", tu_byte_array(c->chip, 64));
  const char *tcbs[4] = {"current_tcb", "reported_tcb", "committed_tcb", "launch_tcb"};
  for (int i = 0; i < 4; i++)
    json_object_set_new(r, tcbs[i], tcb_json(old, 4, 1, 20, ucode));
  if (old) {
    json_object_set_new(r, "_author_key_en", json_integer(0));
    json_object_set_new(r, "_reserved_0", json_integer(0));
    json_object_set_new(r, "_reserved_1", zeros(24));
    const char *v[8] = {"current_build",   "current_minor",   "current_major",   "_reserved_2",
                        "committed_build", "committed_minor", "committed_major", "_reserved_3"};
    for (int i = 0; i < 8; i++)
      json_object_set_new(r, v[i], json_integer(i % 4 == 3 ? 0 : 1));
    json_object_set_new(r, "_reserved_4", zeros(168));
  } else {
    json_object_set_new(r, "key_info", json_integer(0));
    json_object_set_new(r, "cpuid_fam_id", json_integer(0x19));
    json_object_set_new(r, "cpuid_mod_id", json_integer(0x01));
    json_object_set_new(r, "cpuid_step", json_integer(1));
    json_object_set_new(r, "current", json_pack("{s:i, s:i, s:i}", "major", 1, "minor", 55, "build", 0));
    json_object_set_new(r, "committed", json_pack("{s:i, s:i, s:i}", "major", 1, "minor", 55, "build", 0));
    if (version >= 5) {
      json_object_set_new(r, "launch_mit_vector", json_integer(3));
      json_object_set_new(r, "current_mit_vector", json_integer(3));
    }
  }
  json_object_set_new(r, "signature", json_pack("{s:o, s:o}", "r", zeros(72), "s", zeros(72)));
  return sign_report(c, r, old);
}

/* (Re)signs the report object `r` (stolen) with the chain's VCEK and wraps
 * it as evidence carrying the VCEK. */
static json_t *sign_report(chain *c, json_t *r, bool old) {
  /* Sign the rebuilt image. */
  tr_snp_report rep;
  assert_null(tr_snp_report_from_json(r, &rep));
  assert_null(tr_snp_report_finalize(&rep, TR_SNP_MILAN));
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  unsigned char der[256];
  size_t dl = sizeof(der);
  assert_int_equal(EVP_DigestSignInit(md, NULL, EVP_sha384(), NULL, c->vcek_key), 1);
  assert_int_equal(EVP_DigestSign(md, der, &dl, rep.raw, TR_SNP_SIGNED_LEN), 1);
  EVP_MD_CTX_free(md);
  const unsigned char *p = der;
  ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)dl);
  uint8_t rb[72], sb[72];
  assert_int_equal(BN_bn2lebinpad(ECDSA_SIG_get0_r(sig), rb, 72), 72);
  assert_int_equal(BN_bn2lebinpad(ECDSA_SIG_get0_s(sig), sb, 72), 72);
  ECDSA_SIG_free(sig);
  json_t *js = json_pack("{s:o, s:o}", "r", tu_byte_array(rb, 72), "s", tu_byte_array(sb, 72));
  if (old) json_object_set_new(js, "_reserved", zeros(368));
  json_object_set_new(r, "signature", js);
  unsigned char *vder = NULL;
  int vn = i2d_X509(c->vcek, &vder);
  json_t *ev = json_pack("{s:o, s:[{s:s, s:o}]}", "attestation_report", r, "cert_chain", "cert_type", "VCEK",
                         "data", tu_byte_array(vder, (size_t)vn));
  OPENSSL_free(vder);
  return ev;
}

static void test_synthetic_chain(void **st) {
  (void)st;
  chain c = make_chain();
  tu_verifier v = tu_make("snp", c.cfg);
  uint8_t rd[64], hd[32];
  for (int i = 0; i < 64; i++)
    rd[i] = (uint8_t)(i * 3);
  for (int i = 0; i < 32; i++)
    hd[i] = (uint8_t)(0xF0 ^ i);
  for (int version = 2; version <= 5; version++) {
    for (int old = 0; old < 2; old++) {
      if (old && version > 2) continue; /* the older layout was only ever serialised for v2 */
      json_t *ev = make_evidence(&c, version, old, rd, hd, 0, 210);
      json_t *claims = tu_ok(&v, ev, rd, 64, true, hd, 32, true);
      tu_claim_int(claims, "reported_tcb_microcode", 210);
      tu_claim_int(claims, "reported_tcb_snp", 20);
      tu_claim_bool(claims, "policy_debug_allowed", true);
      tu_claim_bool(claims, "platform_tsme_enabled", true);
      char *rdh = tr_hex_encode(rd, 64);
      tu_claim_str(claims, "report_data", rdh);
      free(rdh);
      json_decref(claims);
      /* Short expected values are zero-padded: not equal to these. */
      tu_fails(&v, ev, rd, 32, true, NULL, 0, false, "Report Data Mismatch");
      tu_fails(&v, ev, NULL, 0, false, hd, 16, true, "Host Data Mismatch");
      /* The same report as raw bytes. */
      tr_snp_report rep;
      assert_null(tr_snp_report_from_json(json_object_get(ev, "attestation_report"), &rep));
      assert_null(tr_snp_report_finalize(&rep, TR_SNP_MILAN));
      json_object_set_new(ev, "attestation_report", tu_byte_array(rep.raw, sizeof(rep.raw)));
      json_decref(tu_ok(&v, ev, rd, 64, true, hd, 32, true));
      json_decref(ev);
    }
  }
  /* Validly signed, but VMPL 2 / TCB not certified / another chip. */
  json_t *ev = make_evidence(&c, 3, false, rd, hd, 2, 210);
  tu_fails(&v, ev, NULL, 0, false, NULL, 0, false,
           "VMPL Check Failed: the report was issued at VMPL 2, not 0");
  json_decref(ev);
  ev = make_evidence(&c, 3, false, rd, hd, 0, 211);
  tu_fails(&v, ev, NULL, 0, false, NULL, 0, false,
           "snp: Reported TCB values do not match: Microcode version mismatch: REPORTED_TCB has 211, VEK "
           "certifies 210");
  json_decref(ev);
  c.chip[63] ^= 1;
  ev = make_evidence(&c, 3, false, rd, hd, 0, 210);
  tu_fails(&v, ev, NULL, 0, false, NULL, 0, false, "Chip ID mismatch");
  json_decref(ev);
  c.chip[63] ^= 1;
  tu_free(&v);
  /* Under the embedded AMD roots the same evidence is refused. */
  ev = make_evidence(&c, 3, false, rd, hd, 0, 210);
  v = tu_make("snp", NULL);
  tu_fails(&v, ev, NULL, 0, false, NULL, 0, false, "VCEK `SEV-VCEK` is not signed by ASK `SEV-Milan`");
  tu_free(&v);
  json_decref(ev);
  free_chain(&c);
}

/* Re-signs the report of `ev` after setting one integer member. */
static json_t *with_field(chain *c, json_t *ev, const char *name, json_int_t value) {
  json_t *r = json_deep_copy(json_object_get(ev, "attestation_report"));
  json_object_set_new(r, name, json_integer(value));
  return sign_report(c, r, false);
}

/* Review findings: the signed header must agree with the signature that is
 * checked — SIG_ALGO 1 (ECDSA P-384 / SHA-384) and KEY_INFO.SIGNING_KEY
 * naming the kind of key that verified it (0 VCEK, 1 VLEK, 7 = unsigned);
 * a CHIP_ID masked to zero (platform MASK_CHIP_ID, which KEY_INFO does not
 * report) has nothing to compare with the VCEK's hwID. */
static void test_signed_header_fields(void **st) {
  (void)st;
  chain c = make_chain();
  tu_verifier v = tu_make("snp", c.cfg);
  uint8_t rd[64] = {0}, hd[32] = {0};
  json_t *base = make_evidence(&c, 3, false, rd, hd, 0, 210);
  json_decref(tu_ok(&v, base, NULL, 0, false, NULL, 0, false));
  json_t *ev = with_field(&c, base, "sig_algo", 2);
  tu_fails(&v, ev, NULL, 0, false, NULL, 0, false,
           "report signature algorithm is 2, not 1 (ECDSA P-384 with SHA-384)");
  json_decref(ev);
  ev = with_field(&c, base, "key_info", 1 << 2); /* says VLEK, verified with a VCEK */
  tu_fails(&v, ev, NULL, 0, false, NULL, 0, false,
           "KEY_INFO.SIGNING_KEY says the report is signed by the VLEK, but the certificate given is a VCEK");
  json_decref(ev);
  ev = with_field(&c, base, "key_info", 7 << 2);
  tu_fails(&v, ev, NULL, 0, false, NULL, 0, false, "KEY_INFO.SIGNING_KEY says the report is not signed");
  json_decref(ev);
  /* AUTHOR_KEY_EN (bit 0) does not matter. */
  ev = with_field(&c, base, "key_info", 1);
  json_decref(tu_ok(&v, ev, NULL, 0, false, NULL, 0, false));
  json_decref(ev);
  /* CHIP_ID masked to zero, KEY_INFO bit 1 clear: accepted (the VCEK's signature already
   * identifies the chip); a wrong non-zero CHIP_ID is refused. */
  json_t *r = json_deep_copy(json_object_get(base, "attestation_report"));
  json_object_set_new(r, "chip_id", zeros(64));
  ev = sign_report(&c, r, false);
  json_decref(tu_ok(&v, ev, NULL, 0, false, NULL, 0, false));
  json_decref(ev);
  r = json_deep_copy(json_object_get(base, "attestation_report"));
  json_array_set_new(json_object_get(r, "chip_id"), 0, json_integer(1));
  ev = sign_report(&c, r, false);
  tu_fails(&v, ev, NULL, 0, false, NULL, 0, false, "Chip ID mismatch");
  json_decref(ev);
  json_decref(base);
  tu_free(&v);
  free_chain(&c);
}

static json_t *cert_entry(const char *type, X509 *x) {
  unsigned char *der = NULL;
  int n = i2d_X509(x, &der);
  json_t *e = json_pack("{s:s, s:o}", "cert_type", type, "data", tu_byte_array(der, (size_t)n));
  OPENSSL_free(der);
  return e;
}

/* The evidence's cert_chain cannot bring its own trust anchor: under the
 * embedded AMD roots, an attacker's ARK (self-signed, otherwise a perfect
 * chain for a validly signed report) or ASK is refused, in any order. */
static void test_evidence_chain_cannot_replace_roots(void **st) {
  (void)st;
  chain c = make_chain();
  uint8_t rd[64] = {0}, hd[32] = {0};
  json_t *ev = make_evidence(&c, 3, false, rd, hd, 0, 210);
  tu_verifier v = tu_make("snp", "{\"snp_verifier\":{\"vcek_sources\":[]}}");
  json_t *cc = json_array();
  json_array_append_new(cc, cert_entry("ARK", c.ark));
  json_array_append_new(cc, cert_entry("ASK", c.ask));
  json_array_append_new(cc, cert_entry("VCEK", c.vcek));
  json_object_set_new(ev, "cert_chain", cc);
  tu_fails(
      &v, ev, NULL, 0, false, NULL, 0, false,
      "Certificate chain provided by user failed to verify: Provided ARK has an invalid signature (not the "
      "AMD Milan ARK)");
  /* Own ASK only (embedded ARK). */
  json_array_remove(cc, 0);
  tu_fails(&v, ev, NULL, 0, false, NULL, 0, false, "ASK `SEV-Test` is not signed by ARK `ARK-Milan`");
  /* Own ASK labelled as VLEK chain, and the VCEK relabelled VLEK. */
  json_array_clear(cc);
  json_array_append_new(cc, cert_entry("ASK", c.asvk));
  json_array_append_new(cc, cert_entry("VLEK", c.vcek));
  tu_fails(&v, ev, NULL, 0, false, NULL, 0, false, "is not signed by ARK `ARK-Milan`");
  json_decref(ev);
  tu_free(&v);
  free_chain(&c);
}

static void test_vendor_certs_config(void **st) {
  (void)st;
  chain c = make_chain();
  void *state = NULL;
  const tr_verifier_ops *ops = tr_verifier_lookup("snp");
  json_t *bad = json_pack("{s:{s:{s:s}}}", "snp_verifier", "vendor_certs", "Venice", c.bundle);
  tu_err_has(ops->create(bad, &state), "snp_verifier.vendor_certs: expected {\"Milan\"|\"Genoa\"|\"Turin\"");
  json_decref(bad);
  bad = json_pack("{s:{s:{s:s}}}", "snp_verifier", "vendor_certs", "Genoa", "/nonexistent/bundle.pem");
  tu_err_has(ops->create(bad, &state), "/nonexistent/bundle.pem");
  json_decref(bad);
  /* ASK and ARK swapped: the ARK position must hold the signer. */
  FILE *f = fopen(c.bundle, "w");
  write_pem(f, c.ark);
  write_pem(f, c.ask);
  write_pem(f, c.asvk);
  fclose(f);
  bad = json_loads(c.cfg, 0, NULL);
  tu_err_has(
      ops->create(bad, &state),
      "snp_verifier.vendor_certs: Milan certificate 0 (ASK, ARK, ASVK order) is not signed by the ARK");
  json_decref(bad);
  /* az-snp-vtpm reads the same setting. */
  bad = json_pack("{s:{s:{s:s}}}", "snp_verifier", "vendor_certs", "Turin", "/nonexistent/bundle.pem");
  tu_err_has(tr_verifier_lookup("az-snp-vtpm")->create(bad, &state), "/nonexistent/bundle.pem");
  json_decref(bad);
  free_chain(&c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_synthetic_chain),
      cmocka_unit_test(test_vendor_certs_config),
      cmocka_unit_test(test_signed_header_fields),
      cmocka_unit_test(test_evidence_chain_cannot_replace_roots),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
