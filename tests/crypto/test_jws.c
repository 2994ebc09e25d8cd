/* Unit tests: JWS sign/verify for every algorithm, RFC 7515 A.1 (HS256) and
 * A.3 (ES256) and RFC 8037 A.4 (EdDSA) examples, algorithm/key binding
 * (no `none`, no HS with asymmetric keys, curve per ES alg, JWK alg vs
 * header alg), malformed tokens, and JWT claim checks. */
#include <time.h>

#include "core/json.h"
#include "crypto/jws.h"
#include "test_util.h"

#define RFC_PAYLOAD                                                                                          \
  "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
#define HS_KEY                                                                                               \
  "{\"kty\":\"oct\",\"k\":\"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-"                                   \
  "1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow\"}"
#define HS_JWS                                                                                               \
  "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9." RFC_PAYLOAD ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
#define ES_KEY                                                                                               \
  "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\",\"y\":\"x_"       \
  "FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\",\"d\":\"jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI\"}"
#define ES_JWS                                                                                               \
  "eyJhbGciOiJFUzI1NiJ9." RFC_PAYLOAD                                                                        \
  ".DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q"
#define ED_KEY                                                                                               \
  "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"d\":\"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A\",\"x\":"        \
  "\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}"
#define ED_JWS                                                                                               \
  "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY0il_MGCjP0JzlnLWG1PPOt7-"                    \
  "09PGcvMg3AIbQR6dWbhij"                                                                                    \
  "cNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"

static tr_err *verify_text(const char *jws, const tr_jwk *k, const char *alg) {
  tr_jws p;
  tr_err *e = tr_jws_parse(jws, strlen(jws), &p);
  if (e) return e;
  e = tr_jws_verify(&p, k, alg);
  tr_jws_clear(&p);
  return e;
}

static void test_rfc_examples(void **state) {
  (void)state;
  tr_jwk *hs = jwk_text(HS_KEY), *es = jwk_text(ES_KEY), *ed = jwk_text(ED_KEY);
  ok(verify_text(HS_JWS, hs, "HS256"));
  ok(verify_text(ES_JWS, es, "ES256"));
  ok(verify_text(ED_JWS, ed, "EdDSA"));
  ok(verify_text(ED_JWS, ed, NULL));
  /* Ed25519 is deterministic: signing reproduces RFC 8037 A.4 exactly */
  char *out = NULL;
  const char *msg = "Example of Ed25519 signing";
  ok(tr_jws_sign(ed, "EdDSA", NULL, msg, strlen(msg), &out));
  assert_string_equal(out, ED_JWS);
  free(out);
  /* parsed parts */
  tr_jws p;
  ok(tr_jws_parse(HS_JWS, strlen(HS_JWS), &p));
  assert_string_equal(json_string_value(json_object_get(p.header, "typ")), "JWT");
  assert_non_null(strstr((char *)p.payload, "\"iss\":\"joe\""));
  assert_int_equal(p.signature_len, 32);
  tr_jws_clear(&p);
  tr_jwk_free(hs);
  tr_jwk_free(es);
  tr_jwk_free(ed);
}

static void test_all_algorithms_roundtrip(void **state) {
  (void)state;
  static const struct {
    const char *alg, *kind;
    size_t sig_len;
  } cases[] = {
      {"HS256", "oct-256", 32},   {"HS384", "oct-384", 48},   {"HS512", "oct-512", 64},
      {"RS256", "RSA-2048", 256}, {"RS384", "RSA-2048", 256}, {"RS512", "RSA-2048", 256},
      {"PS256", "RSA-2048", 256}, {"PS384", "RSA-2048", 256}, {"PS512", "RSA-2048", 256},
      {"ES256", "P-256", 64},     {"ES384", "P-384", 96},     {"ES512", "P-521", 132},
      {"EdDSA", "Ed25519", 64},
  };
  tr_jwk *rsa = NULL;
  ok(tr_jwk_generate("RSA-2048", &rsa));
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    tr_jwk *k = NULL;
    if (strcmp(cases[i].kind, "RSA-2048") == 0)
      k = tr_jwk_ref(rsa);
    else
      ok(tr_jwk_generate(cases[i].kind, &k));
    assert_true(tr_jws_alg_supported(cases[i].alg));
    json_t *extra = json_pack("{s:s,s:s}", "typ", "JWT", "kid", "k1");
    json_t *claims = json_pack("{s:s,s:I}", "iss", "test", "exp", (json_int_t)4102444800);
    char *tok = NULL;
    ok(tr_jwt_sign(k, cases[i].alg, extra, claims, &tok));
    tr_jws p;
    ok(tr_jws_parse(tok, strlen(tok), &p));
    /* header member order: alg first, then extra in order */
    char *h = tr_json_dump_compact(p.header);
    char want[128];
    snprintf(want, sizeof want, "{\"alg\":\"%s\",\"typ\":\"JWT\",\"kid\":\"k1\"}", cases[i].alg);
    assert_string_equal(h, want);
    free(h);
    assert_int_equal(p.signature_len, cases[i].sig_len);
    ok(tr_jws_verify(&p, k, cases[i].alg));
    /* public half verifies too (asymmetric) */
    if (tr_jwk_kty(k) != TR_KTY_OCT) {
      json_t *pj = tr_jwk_to_json(k, false);
      tr_jwk *pub = NULL;
      ok(tr_jwk_from_json(pj, &pub));
      ok(tr_jws_verify(&p, pub, NULL));
      char *t2 = NULL;
      fails(tr_jwt_sign(pub, cases[i].alg, NULL, claims, &t2), TR_E_INVALID, "needs a private key");
      json_decref(pj);
      tr_jwk_free(pub);
    }
    /* flip one signature bit */
    p.signature[p.signature_len / 2] ^= 1;
    fails(tr_jws_verify(&p, k, cases[i].alg), TR_E_VERIFY, cases[i].alg);
    tr_jws_clear(&p);
    json_t *c = NULL;
    ok(tr_jwt_verify(tok, strlen(tok), k, cases[i].alg, NULL, &c));
    assert_string_equal(json_string_value(json_object_get(c, "iss")), "test");
    json_decref(c);
    free(tok);
    json_decref(extra);
    json_decref(claims);
    tr_jwk_free(k);
  }
  tr_jwk_free(rsa);
}

static void test_alg_key_binding(void **state) {
  (void)state;
  tr_jwk *es = jwk_text(ES_KEY), *hs = jwk_text(HS_KEY), *ed = jwk_text(ED_KEY), *p384 = NULL, *rsa = NULL;
  ok(tr_jwk_generate("P-384", &p384));
  ok(tr_jwk_generate("RSA-2048", &rsa));
  /* the caller's expected alg must match the header */
  fails(verify_text(ES_JWS, es, "ES384"), TR_E_VERIFY,
        "header algorithm `ES256` is not the expected `ES384`");
  /* ES256 needs P-256 */
  fails(verify_text(ES_JWS, p384, NULL), TR_E_INVALID, "algorithm ES256 needs curve P-256, got P-384");
  /* no HS with an asymmetric key (classic confusion: RSA public key as HMAC secret) */
  char *tok = NULL;
  ok(tr_jws_sign(hs, "HS256", NULL, "x", 1, &tok));
  fails(verify_text(tok, rsa, NULL), TR_E_INVALID, "algorithm HS256 needs a key of type oct, got RSA");
  free(tok);
  fails(verify_text(ES_JWS, hs, NULL), TR_E_INVALID, "algorithm ES256 needs a key of type EC, got oct");
  fails(verify_text(ES_JWS, ed, NULL), TR_E_INVALID, "needs a key of type EC, got OKP");
  fails(tr_jws_sign(rsa, "ES256", NULL, "x", 1, &tok), TR_E_INVALID, "needs a key of type EC, got RSA");
  /* the JWK's own alg binds it */
  assert_true(tr_jwk_set_alg(es, "ES384"));
  fails(verify_text(ES_JWS, es, NULL), TR_E_VERIFY, "key is for algorithm `ES384`, not `ES256`");
  assert_true(tr_jwk_set_alg(es, NULL));
  /* `none` is never accepted, whatever the caller asks */
  const char *none = "eyJhbGciOiJub25lIn0." RFC_PAYLOAD ".";
  fails(verify_text(none, es, NULL), TR_E_VERIFY, "algorithm `none` is not accepted");
  fails(verify_text(none, es, "none"), TR_E_VERIFY, "`none`");
  fails(tr_jws_sign(es, "none", NULL, "x", 1, &tok), TR_E_VERIFY, "`none`");
  assert_false(tr_jws_alg_supported("none"));
  fails(tr_jws_sign(es, "ES257", NULL, "x", 1, &tok), TR_E_UNSUPPORTED, "unsupported algorithm `ES257`");
  /* short HMAC key */
  tr_jwk *shortk = NULL;
  ok(tr_jwk_from_secret("0123456789", 10, &shortk));
  fails(tr_jws_sign(shortk, "HS256", NULL, "x", 1, &tok), TR_E_INVALID, "at least 32 bytes");
  /* small RSA keys */
  tr_jwk *r1024 = NULL;
  EVP_PKEY *pk = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
  ok(tr_jwk_from_pkey(pk, &r1024));
  EVP_PKEY_free(pk);
  fails(tr_jws_sign(r1024, "RS256", NULL, "x", 1, &tok), TR_E_INVALID, "at least 2048 bits, got 1024");
  tr_jwk_free(r1024);
  tr_jwk_free(shortk);
  tr_jwk_free(es);
  tr_jwk_free(hs);
  tr_jwk_free(ed);
  tr_jwk_free(p384);
  tr_jwk_free(rsa);
}

static void test_malformed(void **state) {
  (void)state;
  tr_jwk *es = jwk_text(ES_KEY);
  tr_jws p;
  fails(tr_jws_parse("abc", 3, &p), TR_E_INVALID, "exactly three");
  fails(tr_jws_parse("a.b.c.d", 7, &p), TR_E_INVALID, "exactly three");
  fails(tr_jws_parse("e30.e30.", 8, &p), TR_E_INVALID, "missing string member `alg`");
  fails(tr_jws_parse("W10.e30.", 8, &p), TR_E_INVALID, "expected a JSON object");
  fails(tr_jws_parse("e30=.e30.", 9, &p), TR_E_INVALID, "JWS header: invalid base64url: padding not allowed");
  fails(tr_jws_parse("eyJhbGciOiJFUzI1NiJ9.e30.a+b", 28, &p), TR_E_INVALID,
        "JWS signature: invalid base64url: bad character");
  /* {"alg":"ES256","crit":["exp"]} */
  fails(tr_jws_parse("eyJhbGciOiJFUzI1NiIsImNyaXQiOlsiZXhwIl19.e30.", 45, &p), TR_E_UNSUPPORTED, "`crit`");
  /* altered payload */
  char bad[sizeof ES_JWS];
  memcpy(bad, ES_JWS, sizeof bad);
  bad[30] = bad[30] == 'A' ? 'B' : 'A';
  fails(verify_text(bad, es, NULL), TR_E_VERIFY, "ES256: signature does not verify");
  /* a DER signature is not a JOSE ES256 signature */
  const char *der =
      "eyJhbGciOiJFUzI1NiJ9." RFC_PAYLOAD
      ".MEUCIQDtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXAIgxQoH04w8cOXY8S2vCEpUgKZlkMXyk1CajqD_ioujVNU";
  fails(verify_text(der, es, NULL), TR_E_VERIFY, "signature must be 64 bytes (raw r||s), got 71");
  tr_jwk_free(es);
}

static void test_jwt_claims(void **state) {
  (void)state;
  json_t *c = json_pack("{s:I,s:I,s:s,s:[s,s]}", "exp", (json_int_t)1000, "nbf", (json_int_t)500, "iss", "me",
                        "aud", "kbs", "other");
  tr_jwt_opts o = {
      .now = 900, .leeway = 0, .require_exp = true, .check_nbf = true, .iss = "me", .aud = "kbs"};
  ok(tr_jwt_check_claims(c, &o));
  o.now = 1001;
  fails(tr_jwt_check_claims(c, &o), TR_E_EXPIRED, "token expired at 1000");
  o.leeway = 60;
  ok(tr_jwt_check_claims(c, &o));
  o.now = 1061;
  fails(tr_jwt_check_claims(c, &o), TR_E_EXPIRED, "expired");
  o.now = 400;
  o.leeway = 0;
  fails(tr_jwt_check_claims(c, &o), TR_E_EXPIRED, "not valid before 500");
  o.check_nbf = false;
  ok(tr_jwt_check_claims(c, &o));
  o.iss = "you";
  fails(tr_jwt_check_claims(c, &o), TR_E_AUTH, "issuer `me` is not the required `you`");
  o.iss = NULL;
  o.aud = "nope";
  fails(tr_jwt_check_claims(c, &o), TR_E_AUTH, "audience does not include `nope`");
  o.aud = "other";
  ok(tr_jwt_check_claims(c, &o));
  json_object_set_new(c, "aud", json_string("other"));
  ok(tr_jwt_check_claims(c, &o));
  json_object_del(c, "exp");
  fails(tr_jwt_check_claims(c, &o), TR_E_INVALID, "required claim `exp` is missing");
  fails(tr_jwt_check_claims(c, NULL), TR_E_INVALID, "`exp`");
  o.require_exp = false;
  ok(tr_jwt_check_claims(c, &o));
  json_object_set_new(c, "exp", json_string("soon"));
  fails(tr_jwt_check_claims(c, &o), TR_E_INVALID, "JWT claim `exp`: expected a number, got string");
  json_decref(c);

  /* end to end with the default (upstream) rules: exp + 60 s leeway */
  tr_jwk *k = jwk_text(ES_KEY);
  json_t *claims = json_pack("{s:I}", "exp", (json_int_t)time(NULL) - 30);
  char *tok = NULL;
  ok(tr_jwt_sign(k, "ES256", NULL, claims, &tok));
  json_t *out = NULL;
  ok(tr_jwt_verify(tok, strlen(tok), k, "ES256", NULL, &out));
  json_decref(out);
  free(tok);
  json_object_set_new(claims, "exp", json_integer((json_int_t)time(NULL) - 120));
  ok(tr_jwt_sign(k, "ES256", NULL, claims, &tok));
  fails(tr_jwt_verify(tok, strlen(tok), k, "ES256", NULL, &out), TR_E_EXPIRED, "token expired");
  assert_null(out);
  free(tok);
  json_decref(claims);
  tr_jwk_free(k);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_rfc_examples),    cmocka_unit_test(test_all_algorithms_roundtrip),
      cmocka_unit_test(test_alg_key_binding), cmocka_unit_test(test_malformed),
      cmocka_unit_test(test_jwt_claims),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
