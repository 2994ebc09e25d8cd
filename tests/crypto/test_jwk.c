/* Unit tests: JWK parsing/serialisation, RFC 7638 thumbprints (RFC 7638 §3.1
 * and RFC 8037 A.3 examples), PEM conversion, JWKS, rejection of malformed
 * keys, and the upstream fixtures (AS expected-jwks.json, KBS scenario JWKs). */
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "core/encoding.h"
#include "core/json.h"
#include "crypto/jwk.h"

#include "test_util.h"

/* RFC 7515 A.3 */
#define EC_X "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"
#define EC_Y "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"
#define EC_D "jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI"
/* RFC 7638 §3.1 */
#define RSA_N                                                                                                \
  "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_"                  \
  "BJECPebWKRXjBZCiFV4"                                                                                      \
  "n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_"                                    \
  "FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0z"                                                                   \
  "gdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-" \
  "csF"                                                                                                      \
  "Cur-kEgU8awapJzKnqDKgw"

static tr_err *try_parse(const char *text) {
  tr_jwk *k = NULL;
  tr_err *e = tr_jwk_from_json_text(text, strlen(text), &k);
  tr_jwk_free(k);
  return e;
}

static char *thumb(const tr_jwk *k) {
  uint8_t d[TR_DIGEST_MAX];
  size_t n;
  ok(tr_jwk_thumbprint(k, TR_SHA256, d, &n));
  return tr_b64_encode(d, n, TR_B64_URL_NOPAD);
}

static void test_thumbprints(void **state) {
  (void)state;
  tr_jwk *k = jwk_text("{\"kty\":\"RSA\",\"n\":\"" RSA_N
                       "\",\"e\":\"AQAB\",\"alg\":\"RS256\",\"kid\":\"2011-04-29\"}");
  char *t = thumb(k);
  assert_string_equal(t, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
  free(t);
  assert_string_equal(tr_jwk_kid(k), "2011-04-29");
  assert_string_equal(tr_jwk_alg(k), "RS256");
  assert_int_equal(tr_jwk_kty(k), TR_KTY_RSA);
  assert_false(tr_jwk_is_private(k));
  json_t *j = tr_jwk_to_json(k, false);
  char *s = tr_json_dump_compact(j);
  assert_string_equal(s, "{\"e\":\"AQAB\",\"kty\":\"RSA\",\"n\":\"" RSA_N
                         "\",\"alg\":\"RS256\",\"kid\":\"2011-04-29\"}");
  free(s);
  json_decref(j);
  tr_jwk_free(k);

  k = jwk_text("{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"d\":\"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A\","
               "\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}");
  t = thumb(k);
  assert_string_equal(t, "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
  free(t);
  assert_true(tr_jwk_is_private(k));
  assert_string_equal(tr_jwk_crv(k), "Ed25519");
  tr_jwk_free(k);
}

static void test_ec_roundtrip_order(void **state) {
  (void)state;
  tr_jwk *k =
      jwk_text("{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" EC_X "\",\"y\":\"" EC_Y "\",\"d\":\"" EC_D "\"}");
  assert_true(tr_jwk_is_private(k));
  json_t *pub = tr_jwk_to_json(k, false), *priv = tr_jwk_to_json(k, true);
  char *a = tr_json_dump_compact(pub), *b = tr_json_dump_compact(priv);
  assert_string_equal(a, "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"" EC_X "\",\"y\":\"" EC_Y "\"}");
  assert_string_equal(b, "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"" EC_X "\",\"y\":\"" EC_Y
                         "\",\"d\":\"" EC_D "\"}");
  tr_jwk *k2 = NULL;
  ok(tr_jwk_from_json(pub, &k2));
  assert_true(tr_jwk_public_equal(k, k2));
  assert_false(tr_jwk_is_private(k2));
  free(a);
  free(b);
  json_decref(pub);
  json_decref(priv);
  tr_jwk_free(k2);
  tr_jwk_free(k);
}

static void test_generate_pem_roundtrip(void **state) {
  (void)state;
  const char *kinds[] = {"P-256", "P-384", "P-521", "Ed25519", "RSA-2048"};
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
    tr_jwk *k = NULL, *k2 = NULL, *k3 = NULL, *k4 = NULL;
    ok(tr_jwk_generate(kinds[i], &k));
    assert_true(tr_jwk_is_private(k));
    /* JSON private round trip */
    json_t *j = tr_jwk_to_json(k, true);
    ok(tr_jwk_from_json(j, &k2));
    assert_true(tr_jwk_is_private(k2));
    assert_true(tr_jwk_public_equal(k, k2));
    /* PEM private (PKCS#8) and public (SPKI) */
    char *pem = NULL, *pub = NULL;
    ok(tr_jwk_to_pem(k2, true, &pem));
    assert_non_null(strstr(pem, "-----BEGIN PRIVATE KEY-----"));
    ok(tr_jwk_from_pem(pem, strlen(pem), &k3));
    assert_true(tr_jwk_is_private(k3));
    ok(tr_jwk_to_pem(k3, false, &pub));
    assert_non_null(strstr(pub, "-----BEGIN PUBLIC KEY-----"));
    ok(tr_jwk_from_pem(pub, strlen(pub), &k4));
    assert_false(tr_jwk_is_private(k4));
    assert_true(tr_jwk_public_equal(k, k4));
    json_t *j4 = tr_jwk_to_json(k4, false), *j1 = tr_jwk_to_json(k, false);
    assert_true(json_equal(j4, j1));
    json_decref(j);
    json_decref(j1);
    json_decref(j4);
    free(pem);
    free(pub);
    tr_jwk_free(k);
    tr_jwk_free(k2);
    tr_jwk_free(k3);
    tr_jwk_free(k4);
  }
  tr_jwk *o = NULL;
  ok(tr_jwk_generate("oct-256", &o));
  size_t n;
  assert_non_null(tr_jwk_secret(o, &n));
  assert_int_equal(n, 32);
  char *pem;
  fails(tr_jwk_to_pem(o, true, &pem), TR_E_UNSUPPORTED, "symmetric keys have no PEM form");
  tr_jwk_free(o);
  fails(tr_jwk_generate("P-192", &o), TR_E_UNSUPPORTED, "unknown key kind `P-192`");
}

static void test_rejections(void **state) {
  (void)state;
  /* padded base64url */
  fails(try_parse("{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" EC_X "=\",\"y\":\"" EC_Y "\"}"), TR_E_INVALID,
        "JWK member `x`: invalid base64url");
  /* standard alphabet */
  fails(try_parse("{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\","
                  "\"y\":\"x/FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}"),
        TR_E_INVALID, "JWK member `y`: invalid base64url: bad character");
  /* short coordinate (30 bytes) */
  fails(try_parse("{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\","
                  "\"y\":\"" EC_Y "\"}"),
        TR_E_INVALID, "P-256 coordinates must be 32 bytes each, got x=30");
  /* off-curve: last y character changed */
  fails(try_parse("{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" EC_X
                  "\",\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a4\"}"),
        TR_E_INVALID, "not on the curve");
  /* private key that does not match */
  fails(try_parse("{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" EC_X "\",\"y\":\"" EC_Y
                  "\",\"d\":\"jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LA\"}"),
        TR_E_INVALID, "does not match");
  fails(try_parse("{\"kty\":\"EC\",\"crv\":\"P-192\",\"x\":\"AA\",\"y\":\"AA\"}"), TR_E_UNSUPPORTED,
        "unsupported EC curve `P-192`");
  fails(try_parse("{\"kty\":\"EC\",\"x\":\"" EC_X "\",\"y\":\"" EC_Y "\"}"), TR_E_INVALID, "`crv`");
  fails(try_parse("{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" EC_X "\"}"), TR_E_INVALID,
        "missing member `y`");
  fails(try_parse("{\"kty\":\"OKP\",\"crv\":\"X25519\",\"x\":\"AA\"}"), TR_E_UNSUPPORTED,
        "OKP curve `X25519`");
  fails(
      try_parse("{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"d\":\"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A\","
                "\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURA\"}"),
      TR_E_INVALID, "does not match `x`");
  fails(try_parse("{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"AAAA\"}"), TR_E_INVALID, "must be 32 bytes");
  fails(try_parse("{\"kty\":\"AKP\"}"), TR_E_UNSUPPORTED, "unsupported key type `AKP`");
  fails(try_parse("{\"kty\":1}"), TR_E_INVALID, "`kty`");
  fails(try_parse("[]"), TR_E_INVALID, "expected a JSON object");
  fails(try_parse("{\"kty\":\"oct\",\"k\":\"\"}"), TR_E_INVALID, "empty symmetric key");
  fails(try_parse("{\"kty\":\"RSA\",\"n\":\"" RSA_N "\",\"e\":\"AQAB\",\"d\":\"AQAB\",\"p\":\"AQAB\"}"),
        TR_E_INVALID, "all of p, q, dp, dq, qi or none");
  fails(try_parse("{\"kty\":\"RSA\",\"n\":\"" RSA_N "\",\"e\":\"AQAB\",\"kid\":5}"), TR_E_INVALID,
        "JWK member `kid`: expected string");
  fails(try_parse("{\"kty\":\"RSA\",\"n\":\"" RSA_N "\",\"e\":\"AQAB\",\"x5c\":[1]}"), TR_E_INVALID,
        "x5c[0]");
  fails(try_parse("{\"kty\":\"RSA\",\"n\":\"" RSA_N "\",\"e\":\"AQAB\",\"kty\":\"EC\"}"), TR_E_INVALID,
        "duplicate");
  /* A huge public exponent makes every RSA public operation (JWS verify,
   * JWE encryption to a TEE key) cost one modular squaring per bit of e:
   * a cheap CPU DoS. Exponents are capped at 64 bits (upstream's rsa crate:
   * 33 bits; OpenSSL itself caps e only for moduli above 3072 bits). */
  fails(try_parse("{\"kty\":\"RSA\",\"n\":\"" RSA_N "\",\"e\":\"AQAAAAAAAAAB\"}"), TR_E_INVALID,
        "`e` is longer than 64 bits (9 bytes)");
  {
    tr_buf big = TR_BUF_INIT;
    tr_buf_append_str(&big, "{\"kty\":\"RSA\",\"n\":\"" RSA_N "\",\"e\":\"");
    for (int i = 0; i < 100000; i++)
      tr_buf_append_str(&big, "____");
    tr_buf_append_str(&big, "\"}");
    fails(try_parse((const char *)big.data), TR_E_INVALID, "`e` is longer than 64 bits");
    tr_buf_free(&big);
  }
  ok(try_parse("{\"kty\":\"RSA\",\"n\":\"" RSA_N "\",\"e\":\"AAAAAQAB\"}")); /* leading zeros are fine */
  { /* the same cap for keys that come as EVP_PKEY (PEM, certificates, x5c) */
    BIGNUM *n = BN_new(), *big_e = BN_new();
    assert_true(BN_set_word(n, 3) && BN_lshift(n, n, 2046) && BN_add_word(n, 1));
    assert_true(BN_set_word(big_e, 1) && BN_lshift(big_e, big_e, 100) && BN_add_word(big_e, 1));
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    assert_true(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) &&
                OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, big_e));
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    EVP_PKEY *pk = NULL;
    assert_true(EVP_PKEY_fromdata_init(pctx) == 1 &&
                EVP_PKEY_fromdata(pctx, &pk, EVP_PKEY_PUBLIC_KEY, params) == 1);
    tr_jwk *kk = NULL;
    fails(tr_jwk_from_pkey(pk, &kk), TR_E_INVALID, "`e` is longer than 64 bits (101 bits)");
    EVP_PKEY_free(pk);
    EVP_PKEY_CTX_free(pctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(n);
    BN_free(big_e);
  }
  { /* DER followed by PEM text is DER (with trailing bytes), never the PEM key */
    tr_jwk *a = NULL, *b = NULL, *got = NULL;
    ok(tr_jwk_generate("P-256", &a));
    ok(tr_jwk_generate("P-384", &b));
    unsigned char *der = NULL;
    int dl = i2d_PUBKEY(tr_jwk_pkey(a), &der);
    assert_true(dl > 0);
    char *pem = NULL;
    ok(tr_jwk_to_pem(b, false, &pem));
    tr_buf mix = TR_BUF_INIT;
    tr_buf_append(&mix, der, (size_t)dl);
    tr_buf_append_str(&mix, "\n");
    tr_buf_append_str(&mix, pem);
    tr_err *e = tr_jwk_from_pem(mix.data, mix.len, &got);
    if (!e) {
      bool is_b = tr_jwk_public_equal(got, b);
      tr_jwk_free(got);
      fail_msg("DER+PEM accepted (as the %s key)", is_b ? "PEM" : "DER");
    }
    tr_err_free(e);
    ok(tr_jwk_from_pem(der, (size_t)dl, &got)); /* the DER alone is fine */
    assert_true(tr_jwk_public_equal(got, a));
    tr_jwk_free(got);
    tr_buf_free(&mix);
    OPENSSL_free(der);
    free(pem);
    tr_jwk_free(a);
    tr_jwk_free(b);
  }
  tr_jwk *k;
  fails(tr_jwk_from_pem("garbage", 7, &k), TR_E_INVALID, "key: not a DER");
  fails(tr_jwk_from_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", 55, &k), TR_E_INVALID,
        "not a PEM");
}

static void test_jwks(void **state) {
  (void)state;
  const char *text = "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" EC_X "\",\"y\":\"" EC_Y
                     "\",\"kid\":\"a\",\"alg\":\"ES256\"},{\"kty\":\"RSA\",\"n\":\"" RSA_N
                     "\",\"e\":\"AQAB\",\"kid\":\"b\"}]}";
  json_t *j = NULL;
  ok(tr_json_parse(text, strlen(text), &j));
  tr_jwks set;
  ok(tr_jwks_from_json(j, &set));
  assert_int_equal(set.len, 2);
  assert_int_equal(tr_jwk_kty(tr_jwks_find_kid(&set, "b")), TR_KTY_RSA);
  assert_string_equal(tr_jwk_alg(tr_jwks_find_kid(&set, "a")), "ES256");
  assert_null(tr_jwks_find_kid(&set, "c"));
  json_t *back = tr_jwks_to_json(&set);
  assert_true(json_equal(back, j));
  json_decref(back);
  tr_jwks_clear(&set);
  json_decref(j);
  const char *bad = "{\"keys\":[{\"kty\":\"oct\",\"k\":\"AAAA\"},{\"kty\":\"EC\",\"crv\":\"P-256\"}]}";
  ok(tr_json_parse(bad, strlen(bad), &j));
  fails(tr_jwks_from_json(j, &set), TR_E_INVALID, "JWKS key 1: JWK: missing member `x`");
  json_decref(j);
}

/* attestation-service/tests/fixtures/jwk: the AS's JWKS is its signing key
 * with alg ES256 and the PEM chain as x5c (std base64 DER, leaf first). */
static void test_as_expected_jwks(void **state) {
  (void)state;
  size_t kl, cl, el;
  uint8_t *key = read_vector("attestation-service/tests/fixtures/jwk/signing-key.pem", &kl);
  uint8_t *chain = read_vector("attestation-service/tests/fixtures/jwk/cert-chain.pem", &cl);
  uint8_t *expected = read_vector("attestation-service/tests/fixtures/jwk/expected-jwks.json", &el);
  tr_jwk *k = NULL;
  ok(tr_jwk_from_pem(key, kl, &k));
  assert_true(tr_jwk_is_private(k));
  assert_string_equal(tr_jwk_crv(k), "P-256");
  assert_true(tr_jwk_set_alg(k, "ES256"));
  json_t *x5c = json_array();
  BIO *b = BIO_new_mem_buf(chain, (int)cl);
  X509 *c;
  while ((c = PEM_read_bio_X509(b, NULL, NULL, NULL))) {
    unsigned char *der = NULL;
    int n = i2d_X509(c, &der);
    char *s = tr_b64_encode(der, (size_t)n, TR_B64_STD);
    json_array_append_new(x5c, json_string(s));
    free(s);
    OPENSSL_free(der);
    X509_free(c);
  }
  BIO_free(b);
  assert_true(json_array_size(x5c) >= 1);
  assert_true(tr_jwk_set_x5c(k, x5c));
  tr_jwks set = {&k, 1};
  json_t *got = tr_jwks_to_json(&set), *want = NULL;
  ok(tr_json_parse((const char *)expected, el, &want));
  if (!json_equal(got, want)) fail_msg("JWKS differs: %s", tr_json_dump_compact(got));
  /* the public JWKS does not leak d */
  assert_null(json_object_get(json_array_get(json_object_get(got, "keys"), 0), "d"));
  json_decref(got);
  json_decref(want);
  json_decref(x5c);
  tr_jwk_free(k);
  free(key);
  free(chain);
  free(expected);
}

/* kbs/test_data/jwk/scenario*-jwk.json parse (with x5c kept); their chains
 * are checked in test_x509. */
static void test_kbs_scenario_jwks(void **state) {
  (void)state;
  for (int i = 1; i <= 7; i++) {
    char rel[128];
    snprintf(rel, sizeof rel, "kbs/test_data/jwk/scenario%02d-jwk.json", i);
    size_t n;
    uint8_t *text = read_vector(rel, &n);
    tr_jwk *k = NULL;
    ok(tr_jwk_from_json_text((const char *)text, n, &k));
    assert_int_equal(tr_jwk_kty(k), TR_KTY_RSA);
    assert_string_equal(tr_jwk_alg(k), "RS256");
    if (i == 3)
      assert_null(tr_jwk_x5c(k));
    else
      assert_true(json_array_size(tr_jwk_x5c(k)) >= 1);
    tr_jwk_free(k);
    free(text);
  }
}

static void test_refcount(void **state) {
  (void)state;
  tr_jwk *k = NULL;
  ok(tr_jwk_generate("P-256", &k));
  tr_jwk *r = tr_jwk_ref(k);
  assert_ptr_equal(r, k);
  tr_jwk_free(k);
  assert_string_equal(tr_jwk_crv(r), "P-256");
  tr_jwk_free(r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_thumbprints),
      cmocka_unit_test(test_ec_roundtrip_order),
      cmocka_unit_test(test_generate_pem_roundtrip),
      cmocka_unit_test(test_rejections),
      cmocka_unit_test(test_jwks),
      cmocka_unit_test(test_as_expected_jwks),
      cmocka_unit_test(test_kbs_scenario_jwks),
      cmocka_unit_test(test_refcount),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
