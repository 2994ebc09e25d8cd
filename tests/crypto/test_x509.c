/* Unit tests: X.509 parsing (PEM, DER, bundles, x5c), chain verification
 * with real AMD SEV-SNP certificates (RSA-PSS ARK/ASK, ECDSA P-384 VCEK and
 * VLEK), upstream KBS x5c trust scenarios 01-07, explicit verification time
 * and expiry, CRLs, SM2/SM3 with distinguishing IDs, and AMD VCEK extensions
 * (TCB integers and hwID in both the raw and the OCTET STRING encodings). */
#include <openssl/x509.h>

#include "core/encoding.h"
#include "crypto/jwk.h"
#include "crypto/x509.h"
#include "test_util.h"

#define SNP "deps/verifier/test_data/snp/"
#define T_2027 ((int64_t)1798761600) /* 2027-01-01 */

static X509 *cert_of(const char *rel) {
  size_t n;
  uint8_t *d = read_vector(rel, &n);
  X509 *c = NULL;
  ok(tr_x509_parse(d, n, &c));
  free(d);
  return c;
}

static uint8_t *read_local(const char *name, size_t *len) {
  uint8_t *d = NULL;
  char path[256];
  snprintf(path, sizeof path, "data/%s", name);
  ok(tr_read_file(path, 0, &d, len));
  return d;
}

static X509 *local_cert(const char *name) {
  size_t n;
  uint8_t *d = read_local(name, &n);
  X509 *c = NULL;
  ok(tr_x509_parse(d, n, &c));
  free(d);
  return c;
}

/* milan_ask_ark_asvk.pem: [0] ASK (SEV-Milan), [1] ARK-Milan, [2] ASVK */
static STACK_OF(X509) * amd_bundle(const char *gen) {
  char rel[64];
  snprintf(rel, sizeof rel, "%s_ask_ark_asvk.pem", gen);
  size_t n;
  uint8_t *d = read_vector(rel, &n);
  STACK_OF(X509) *sk = NULL;
  ok(tr_x509_parse_bundle(d, n, &sk));
  free(d);
  assert_int_equal(sk_X509_num(sk), 3);
  return sk;
}

static void test_snp_chain(void **state) {
  (void)state;
  STACK_OF(X509) *milan = amd_bundle("milan"), *genoa = amd_bundle("genoa");
  tr_x509_store *s = NULL;
  ok(tr_x509_store_new(&s));
  ok(tr_x509_store_add(s, sk_X509_value(milan, 1))); /* ARK only */
  ok(tr_x509_store_add(s, sk_X509_value(milan, 1))); /* duplicate: no-op */
  STACK_OF(X509) *ask = sk_X509_new_null(), *asvk = sk_X509_new_null();
  sk_X509_push(ask, sk_X509_value(milan, 0));
  sk_X509_push(asvk, sk_X509_value(milan, 2));
  X509 *vcek = cert_of(SNP "test-vcek.der"), *vlek = cert_of(SNP "test-vlek.der");
  tr_x509_verify_opts at = {.check_time = true, .at_time = T_2027};
  ok(tr_x509_verify_chain(s, vcek, ask, &at));
  tr_x509_verify_opts at_vlek = {.check_time = true,
                                 .at_time = 1750000000}; /* 2025-06; VLEK valid 2024-12..2025-12 */
  ok(tr_x509_verify_chain(s, vlek, asvk, &at_vlek));
  fails(tr_x509_verify_chain(s, vlek, asvk, &at), TR_E_EXPIRED, "CN=SEV-VLEK");
  ok(tr_x509_verify_chain(s, vcek, milan, NULL)); /* whole bundle as untrusted, current time */
  /* the VCEK is not signed by the ASVK */
  fails(tr_x509_verify_chain(s, vcek, asvk, &at), TR_E_VERIFY, "unable to get local issuer certificate");
  /* without the ASK */
  fails(tr_x509_verify_chain(s, vcek, NULL, &at), TR_E_VERIFY, "CN=SEV-VCEK");
  /* VCEK valid 2023-01-24 .. 2030-01-24 */
  tr_x509_verify_opts late = {.check_time = true, .at_time = 1950000000}; /* 2031 */
  fails(tr_x509_verify_chain(s, vcek, ask, &late), TR_E_EXPIRED, "certificate has expired");
  tr_x509_verify_opts early = {.check_time = true, .at_time = 1600000000}; /* 2020 */
  fails(tr_x509_verify_chain(s, vcek, ask, &early), TR_E_VERIFY, "not yet valid");
  tr_x509_verify_opts notime = {.check_time = false};
  ok(tr_x509_verify_chain(s, vcek, ask, &notime));
  tr_x509_store_free(s);
  /* wrong vendor root (Genoa) */
  ok(tr_x509_store_new(&s));
  ok(tr_x509_store_add(s, sk_X509_value(genoa, 1)));
  fails(tr_x509_verify_chain(s, vcek, ask, &at), TR_E_VERIFY, "certificate chain:");
  /* partial chains: the ASK alone anchors only with allow_partial */
  tr_x509_store_free(s);
  ok(tr_x509_store_new(&s));
  ok(tr_x509_store_add(s, sk_X509_value(milan, 0)));
  fails(tr_x509_verify_chain(s, vcek, NULL, &at), TR_E_VERIFY, "certificate chain:");
  tr_x509_verify_opts partial = {.check_time = true, .at_time = T_2027, .allow_partial = true};
  ok(tr_x509_verify_chain(s, vcek, NULL, &partial));
  char *subj = tr_x509_subject(vcek);
  assert_non_null(strstr(subj, "CN=SEV-VCEK"));
  free(subj);
  tr_x509_store_free(s);
  sk_X509_free(ask);
  sk_X509_free(asvk);
  X509_free(vcek);
  X509_free(vlek);
  tr_x509_stack_free(milan);
  tr_x509_stack_free(genoa);
}

static void test_snp_extensions(void **state) {
  (void)state;
  X509 *vcek = cert_of(SNP "test-vcek.der");
  int64_t v = -1;
  ok(tr_x509_ext_int(vcek, "1.3.6.1.4.1.3704.1.3.1", &v));
  assert_int_equal(v, 3); /* blSPL */
  ok(tr_x509_ext_int(vcek, "1.3.6.1.4.1.3704.1.3.2", &v));
  assert_int_equal(v, 0); /* teeSPL */
  ok(tr_x509_ext_int(vcek, "1.3.6.1.4.1.3704.1.3.3", &v));
  assert_int_equal(v, 8); /* snpSPL */
  ok(tr_x509_ext_int(vcek, "1.3.6.1.4.1.3704.1.3.8", &v));
  assert_int_equal(v, 115); /* ucodeSPL */
  fails(tr_x509_ext_int(vcek, "1.3.6.1.4.1.3704.1.3.9", &v), TR_E_NOTFOUND,
        "1.3.6.1.4.1.3704.1.3.9 not found");
  fails(tr_x509_ext_int(vcek, "1.3.6.1.4.1.3704.1.2", &v), TR_E_INVALID, "not a DER INTEGER");
  fails(tr_x509_ext_int(vcek, "not.an.oid", &v), TR_E_INVALID, "invalid OID");
  const uint8_t *hw;
  size_t n;
  ok(tr_x509_ext_octets(vcek, "1.3.6.1.4.1.3704.1.4", 64, &hw, &n));
  assert_int_equal(n, 64);
  assert_int_equal(hw[0], 0xC3);
  assert_int_equal(hw[63], 0x4E);
  /* raw extnValue: the OCTET STRING as it is in the certificate */
  ok(tr_x509_ext_by_oid(vcek, "1.3.6.1.4.1.3704.1.2", &hw, &n));
  assert_int_equal(n, 10);
  assert_memory_equal(hw, "\x16\x08Milan-B0", 10);
  X509_free(vcek);

  /* legacy: raw 64-byte hwID; ucodeSPL 169 needs a leading zero byte */
  X509 *legacy = cert_of(SNP "test-vcek-invalid-legacy.der"),
       *newer = cert_of(SNP "test-vcek-invalid-new.der");
  ok(tr_x509_ext_int(legacy, "1.3.6.1.4.1.3704.1.3.8", &v));
  assert_int_equal(v, 169);
  ok(tr_x509_ext_octets(legacy, "1.3.6.1.4.1.3704.1.4", 64, &hw, &n));
  assert_int_equal(n, 64);
  for (size_t i = 0; i < 64; i++)
    assert_int_equal(hw[i], i);
  fails(tr_x509_ext_octets(legacy, "1.3.6.1.4.1.3704.1.4", 0, &hw, &n), TR_E_INVALID,
        "not a DER OCTET STRING");
  ok(tr_x509_ext_octets(newer, "1.3.6.1.4.1.3704.1.4", 64, &hw, &n));
  assert_int_equal(n, 64);
  for (size_t i = 0; i < 64; i++)
    assert_int_equal(hw[i], i);
  ok(tr_x509_ext_int(newer, "1.3.6.1.4.1.3704.1.3.8", &v));
  assert_int_equal(v, 30);
  X509_free(legacy);
  X509_free(newer);
}

/* kbs/src/crypto/jwt.rs test_verify_jwk_endorsement_scenarios */
static tr_err *kbs_endorse(int i) {
  char rel[128];
  size_t n;
  snprintf(rel, sizeof rel, "kbs/test_data/jwk/scenario%02d-trust.pem", i);
  uint8_t *trust = read_vector(rel, &n);
  tr_x509_store *s = NULL;
  ok(tr_x509_store_new(&s));
  ok(tr_x509_store_add_pem(s, trust, n));
  free(trust);
  snprintf(rel, sizeof rel, "kbs/test_data/jwk/scenario%02d-jwk.json", i);
  uint8_t *text = read_vector(rel, &n);
  tr_jwk *k = NULL, *certkey = NULL;
  ok(tr_jwk_from_json_text((const char *)text, n, &k));
  free(text);
  X509 *leaf = NULL;
  STACK_OF(X509) *rest = NULL;
  tr_err *e = NULL;
  if (!tr_jwk_x5c(k)) {
    e = tr_err_new(TR_E_VERIFY, "No x5c extension inside JWK");
  } else if (!(e = tr_x509_parse_x5c(tr_jwk_x5c(k), &leaf, &rest)) &&
             !(e = tr_jwk_from_pkey(X509_get0_pubkey(leaf), &certkey))) {
    if (!tr_jwk_public_equal(k, certkey))
      e = tr_err_new(TR_E_VERIFY, "jwk does not match x5c");
    else
      e = tr_x509_verify_chain(s, leaf, rest, &(tr_x509_verify_opts){.check_time = true, .at_time = T_2027});
  }
  X509_free(leaf);
  tr_x509_stack_free(rest);
  tr_jwk_free(k);
  tr_jwk_free(certkey);
  tr_x509_store_free(s);
  return e;
}

static void test_kbs_x5c_scenarios(void **state) {
  (void)state;
  ok(kbs_endorse(1));                                           /* leaf signed by trusted self-signed root */
  fails(kbs_endorse(2), TR_E_VERIFY, "jwk does not match x5c"); /* leaf key mismatch */
  fails(kbs_endorse(3), TR_E_VERIFY, "No x5c");                 /* no x5c */
  fails(kbs_endorse(4), TR_E_VERIFY, "certificate chain:");     /* wrong trust anchor */
  ok(kbs_endorse(5));                                           /* intermediate in x5c */
  ok(kbs_endorse(6));                                           /* intermediates permuted */
  ok(kbs_endorse(7));                                           /* x5c includes part of trust + decoy */
}

static void test_parse_errors(void **state) {
  (void)state;
  X509 *c = NULL;
  STACK_OF(X509) *sk = NULL;
  fails(tr_x509_parse("junk", 4, &c), TR_E_INVALID, "certificate: invalid DER");
  fails(tr_x509_parse("", 0, &c), TR_E_INVALID, "empty");
  fails(tr_x509_parse_bundle("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", 58, &sk),
        TR_E_INVALID, "PEM certificate 1 is invalid");
  size_t n;
  uint8_t *d = read_vector(SNP "test-vcek.der", &n);
  uint8_t *longer = malloc(n + 1);
  memcpy(longer, d, n);
  longer[n] = 0;
  fails(tr_x509_parse(longer, n + 1, &c), TR_E_INVALID, "1 trailing bytes");
  ok(tr_x509_parse_bundle(d, n, &sk)); /* one DER certificate */
  assert_int_equal(sk_X509_num(sk), 1);
  tr_x509_stack_free(sk);
  free(longer);
  free(d);
  json_t *x5c = json_pack("[s]", "!!!");
  X509 *leaf;
  fails(tr_x509_parse_x5c(x5c, &leaf, &sk), TR_E_INVALID, "x5c[0]: invalid base64url");
  json_decref(x5c);
  x5c = json_array();
  fails(tr_x509_parse_x5c(x5c, &leaf, &sk), TR_E_INVALID, "non-empty array");
  json_decref(x5c);
  fails(tr_x509_load_file("data/does-not-exist.pem", &sk), TR_E_NOTFOUND, "does-not-exist");
  fails(tr_x509_load_file("data/README.md", &sk), TR_E_INVALID, "data/README.md: certificate: invalid DER");
}

/* A DER certificate followed by (or carrying) PEM text is a DER certificate
 * with trailing bytes, not "some PEM": picking the embedded PEM certificate
 * would make us verify a different certificate than every DER parser (and
 * upstream, which reads x5c with X509::from_der) sees. x5c is DER only
 * (RFC 7515 §4.1.6). PEM with leading text keeps working. */
static void test_der_pem_confusion(void **state) {
  (void)state;
  size_t dn, pn;
  uint8_t *der = read_vector(SNP "test-vcek.der", &dn);
  uint8_t *pem = read_vector("milan_ask_ark_asvk.pem", &pn);
  tr_buf mix = TR_BUF_INIT;
  tr_buf_append(&mix, der, dn);
  tr_buf_append_str(&mix, "\n");
  tr_buf_append(&mix, pem, pn);
  X509 *c = NULL;
  STACK_OF(X509) *sk = NULL;
  fails(tr_x509_parse(mix.data, mix.len, &c), TR_E_INVALID, "trailing bytes after the DER certificate");
  fails(tr_x509_parse_bundle(mix.data, mix.len, &sk), TR_E_INVALID,
        "trailing bytes after the DER certificate");
  /* x5c: base64 of PEM text is not a DER certificate */
  char *b64 = tr_b64_encode(pem, pn, TR_B64_STD);
  json_t *x5c = json_pack("[s]", b64);
  X509 *leaf = NULL;
  fails(tr_x509_parse_x5c(x5c, &leaf, &sk), TR_E_INVALID, "x5c[0]: certificate: invalid DER");
  json_decref(x5c);
  free(b64);
  /* PEM preceded by text (openssl's "subject=" / "Bag Attributes" lines) */
  tr_buf_reset(&mix);
  tr_buf_append_str(&mix, "subject=CN = SEV-Milan\nissuer=CN = ARK-Milan\n");
  tr_buf_append(&mix, pem, pn);
  ok(tr_x509_parse(mix.data, mix.len, &c));
  X509_free(c);
  ok(tr_x509_parse_bundle(mix.data, mix.len, &sk));
  assert_int_equal(sk_X509_num(sk), 3);
  tr_x509_stack_free(sk);
  tr_buf_free(&mix);
  free(der);
  free(pem);
}

static void test_crl(void **state) {
  (void)state;
  tr_x509_store *s = NULL;
  ok(tr_x509_store_new(&s));
  size_t n;
  uint8_t *root = read_local("crl-root.pem", &n);
  ok(tr_x509_store_add_pem(s, root, n));
  free(root);
  X509 *good = local_cert("crl-good.pem"), *revoked = local_cert("crl-revoked.pem");
  tr_x509_verify_opts crl = {.check_time = true, .check_crl = true};
  /* CRL checking demands a CRL */
  fails(tr_x509_verify_chain(s, good, NULL, &crl), TR_E_VERIFY, "unable to get certificate CRL");
  ok(tr_x509_verify_chain(s, revoked, NULL, NULL)); /* no CRL check asked */
  uint8_t *d = read_local("crl-root.crl", &n);
  X509_CRL *c = NULL;
  ok(tr_x509_parse_crl(d, n, &c));
  free(d);
  ok(tr_x509_store_add_crl(s, c));
  X509_CRL_free(c);
  ok(tr_x509_verify_chain(s, good, NULL, &crl));
  fails(tr_x509_verify_chain(s, revoked, NULL, &crl), TR_E_VERIFY,
        "`CN=crl-test-revoked` (depth 0): certificate revoked");
  fails(tr_x509_parse_crl("xx", 2, &c), TR_E_INVALID, "CRL: invalid DER");
  X509_free(good);
  X509_free(revoked);
  tr_x509_store_free(s);
}

static void test_sm2(void **state) {
  (void)state;
  X509 *root = local_cert("sm2-root.pem"), *leaf = local_cert("sm2-leaf.pem"),
       *alice = local_cert("sm2-leaf-alice-id.pem");
  ok(tr_x509_verify_sm2_signed(leaf, root, NULL));
  ok(tr_x509_verify_sm2_signed(leaf, root, "1234567812345678"));
  ok(tr_x509_verify_sm2_signed(root, root, NULL)); /* self-signed */
  fails(tr_x509_verify_sm2_signed(leaf, root, "ALICE123@YAHOO.COM"), TR_E_VERIFY, "CN=sm2-test-leaf");
  fails(tr_x509_verify_sm2_signed(alice, root, NULL), TR_E_VERIFY, "does not verify with the issuer key");
  ok(tr_x509_verify_sm2_signed(alice, root, "ALICE123@YAHOO.COM"));
  fails(tr_x509_verify_sm2_signed(leaf, leaf, NULL), TR_E_VERIFY, "does not verify");
  X509 *vcek = cert_of(SNP "test-vcek.der");
  fails(tr_x509_verify_sm2_signed(leaf, vcek, NULL), TR_E_INVALID, "issuer key is not an SM2 key");
  X509_free(vcek);
  X509_free(root);
  X509_free(leaf);
  X509_free(alice);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_snp_chain),
      cmocka_unit_test(test_snp_extensions),
      cmocka_unit_test(test_kbs_x5c_scenarios),
      cmocka_unit_test(test_parse_errors),
      cmocka_unit_test(test_der_pem_confusion),
      cmocka_unit_test(test_crl),
      cmocka_unit_test(test_sm2),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
