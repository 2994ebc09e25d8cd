/* test_ear.c — EAR building blocks: the §1.5 policy input, AR4SI tiers,
 * trust_claims validation (clear errors where upstream panics), appraisal
 * member order, extensions, Simple flattening, and the signer (JWKS equal
 * to upstream's fixture, ES256/RS384 signatures that verify). */
/* cmocka needs these first */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "as/as_internal.h"
#include "core/encoding.h"
#include "core/json.h"

static json_t *J(const char *s) {
  json_error_t je;
  json_t *j = json_loads(s, 0, &je);
  if (!j) fail_msg("bad test JSON: %s", je.text);
  return j;
}

static void assert_dump(const json_t *v, const char *want) {
  char *d = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
  if (strcmp(d, want) != 0) fail_msg("got  %s\nwant %s", d, want);
  free(d);
}

static void test_policy_input(void **s) {
  (void)s;
  json_t *claims =
      J("{\"quote\":{\"body\":{\"z\":1,\"a\":2}},\"report_data\":\"7c71\",\"init_data\":\"0000\"}");
  json_t *idc = J("{\"k\":\"v\"}");
  json_t *rdc = J("{\"nonce\":\"n\",\"additional-evidence\":\"big\"}");
  tr_as_tee_claims tc = {.tee = "tdx", .claims = claims, .init_data_claims = idc, .runtime_data_claims = rdc};
  json_t *in = NULL;
  assert_null(tr_as_policy_input(&tc, true, &in));
  assert_dump(in, "{\"init_data\":\"0000\",\"init_data_claims\":{\"k\":\"v\"},\"report_data\":\"7c71\","
                  "\"runtime_data_claims\":{\"additional-evidence\":\"big\",\"nonce\":\"n\"},"
                  "\"tdx\":{\"quote\":{\"body\":{\"a\":2,\"z\":1}}}}");
  json_decref(in);
  /* verbose_token = false drops additional-evidence */
  assert_null(tr_as_policy_input(&tc, false, &in));
  assert_dump(json_object_get(in, "runtime_data_claims"), "{\"nonce\":\"n\"}");
  json_decref(in);
  /* no init_data/report_data claims: only the TEE object */
  json_t *plain = J("{\"svn\":\"1\"}");
  tr_as_tee_claims tc2 = {.tee = "sampledevice", .claims = plain};
  assert_null(tr_as_policy_input(&tc2, true, &in));
  assert_dump(in, "{\"sampledevice\":{\"svn\":\"1\"}}");
  json_decref(in);
  /* a verifier bug (non-string report_data) is an error, not a crash */
  json_t *bad = J("{\"report_data\":5}");
  tr_as_tee_claims tc3 = {.tee = "x", .claims = bad};
  tr_err *e = tr_as_policy_input(&tc3, true, &in);
  assert_non_null(e);
  tr_err_free(e);
  json_decref(claims);
  json_decref(idc);
  json_decref(rdc);
  json_decref(plain);
  json_decref(bad);
}

static void test_tiers(void **s) {
  (void)s;
  const struct {
    int64_t v;
    const char *name;
  } t[] = {{0, "none"},
           {1, "none"},
           {-1, "none"},
           {2, "affirming"},
           {31, "affirming"},
           {-32, "affirming"},
           {32, "warning"},
           {-33, "warning"},
           {95, "warning"},
           {-96, "warning"},
           {96, "contraindicated"},
           {97, "contraindicated"},
           {-97, "contraindicated"},
           {127, "contraindicated"},
           {-128, "contraindicated"}};
  for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
    if (strcmp(tr_as_tier_name(tr_as_tier(t[i].v)), t[i].name) != 0)
      fail_msg("tier(%lld) = %s, want %s", (long long)t[i].v, tr_as_tier_name(tr_as_tier(t[i].v)), t[i].name);
}

static void test_trust_vector_validation(void **s) {
  (void)s;
  int8_t vec[8];
  bool set[8];
  json_t *ok = J("{\"executables\":3,\"hardware\":97}");
  assert_null(tr_as_trust_vector(ok, vec, set));
  assert_true(set[2] && set[4] && !set[0]);
  assert_int_equal(vec[4], 97);
  json_decref(ok);
  const char *bad[][2] = {
      {"[]", "expected object"},
      {"{}", "at least one policy claim must be set"},
      {"{\"hardwar\":2}", "unknown trust claim `hardwar`"},
      {"{\"hardware\":\"2\"}", "expected integer, got string"},
      {"{\"hardware\":2.5}", "expected integer"},
      {"{\"hardware\":200}", "out of range"},
      {"{\"hardware\":-129}", "out of range"},
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    json_t *j = J(bad[i][0]);
    tr_err *e = tr_as_trust_vector(j, vec, set);
    if (!e) fail_msg("case %zu: no error", i);
    if (!strstr(tr_err_msg(e), bad[i][1])) fail_msg("case %zu: `%s` lacks `%s`", i, tr_err_msg(e), bad[i][1]);
    tr_err_free(e);
    json_decref(j);
  }
}

static void test_appraisal_order_and_extensions(void **s) {
  (void)s;
  int8_t vec[8] = {0, 2, 3, 0, 97, 0, 0, 0};
  bool set[8] = {true, true, true, true, true, true, true, true};
  json_t *ann = J("{\"sample\":{\"svn\":\"1\"}}");
  json_t *ext = J("[{\"name\":\"ear.trustee.identifiers\",\"key\":-18,\"value\":{\"validated\":{}}}]");
  json_t *a = NULL;
  assert_null(tr_as_appraisal(vec, set, "default", ann, ext, &a));
  assert_dump(a,
              "{\"ear.status\":\"contraindicated\",\"ear.trustworthiness-vector\":{\"instance-identity\":0,"
              "\"configuration\":2,\"executables\":3,\"file-system\":0,\"hardware\":97,\"runtime-opaque\":0,"
              "\"storage-opaque\":0,\"sourced-data\":0},\"ear.appraisal-policy-id\":\"default\","
              "\"ear.veraison.annotated-evidence\":{\"sample\":{\"svn\":\"1\"}},"
              "\"ear.trustee.identifiers\":{\"validated\":{}}}");
  json_decref(a);
  /* extensions appear sorted by name after the standard members, and a null
   * value is omitted (rust-ear keeps extensions in a name-ordered map and
   * skips null values when serialising) */
  json_t *ext2 = J("[{\"name\":\"z.ext\",\"key\":-30,\"value\":1},{\"name\":\"a.nul\",\"key\":-31,"
                   "\"value\":null},{\"name\":\"m.ext\",\"key\":-32,\"value\":[2]}]");
  assert_null(tr_as_appraisal(vec, set, "default", ann, ext2, &a));
  {
    const char *want[] = {"ear.status",
                          "ear.trustworthiness-vector",
                          "ear.appraisal-policy-id",
                          "ear.veraison.annotated-evidence",
                          "m.ext",
                          "z.ext"};
    size_t i = 0;
    const char *k;
    json_t *v;
    json_object_foreach(a, k, v) {
      if (i >= 6) fail_msg("extra appraisal member `%s`", k);
      if (strcmp(k, want[i]) != 0) fail_msg("appraisal member %zu: `%s`, want `%s`", i, k, want[i]);
      i++;
    }
    assert_int_equal(i, 6);
  }
  json_decref(a);
  json_decref(ext2);
  /* only set claims appear; status from them */
  bool some[8] = {false, false, true, false, true, false, false, false};
  int8_t v2[8] = {0, 0, 3, 0, 2, 0, 0, 0};
  assert_null(tr_as_appraisal(v2, some, "p", ann, NULL, &a));
  assert_dump(json_object_get(a, "ear.trustworthiness-vector"), "{\"executables\":3,\"hardware\":2}");
  assert_string_equal(json_string_value(json_object_get(a, "ear.status")), "affirming");
  json_decref(a);
  const char *bad[][2] = {
      {"{}", "expected array"},
      {"[1]", "expected object"},
      {"[{\"key\":1,\"value\":1}]", "`name` must be a string"},
      {"[{\"name\":\"x\",\"key\":\"1\",\"value\":1}]", "`key` must be a 32-bit integer"},
      {"[{\"name\":\"x\",\"key\":1}]", "missing `value`"},
      {"[{\"name\":\"ear.status\",\"key\":1,\"value\":1}]", "reserved"},
      {"[{\"name\":\"x\",\"key\":1,\"value\":1},{\"name\":\"x\",\"key\":2,\"value\":1}]",
       "duplicate extension name"},
      {"[{\"name\":\"x\",\"key\":1,\"value\":1},{\"name\":\"y\",\"key\":1,\"value\":1}]",
       "duplicate extension key"},
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    json_t *j = J(bad[i][0]);
    tr_err *e = tr_as_appraisal(vec, set, "p", ann, j, &a);
    if (!e) fail_msg("case %zu: no error", i);
    if (!strstr(tr_err_msg(e), bad[i][1])) fail_msg("case %zu: `%s` lacks `%s`", i, tr_err_msg(e), bad[i][1]);
    tr_err_free(e);
    json_decref(j);
  }
  json_decref(ann);
  json_decref(ext);
}

static void test_flatten(void **s) {
  (void)s;
  json_t *claims = J("{\"ccel\":{\"kernel\":\"5b\",\"kernel_parameters\":{\"console\":\"hvc0\",\"rw\":null}},"
                     "\"quote\":{\"header\":{\"version\":\"0400\"}},\"list\":[1,{\"a\":2}],"
                     "\"report_data\":\"7c71\",\"init_data\":\"0000\"}");
  json_t *out = json_object();
  assert_null(tr_as_flatten_claims("tdx", claims, out));
  json_t *sorted = tr_as_sorted_copy(out);
  assert_dump(sorted,
              "{\"init_data\":\"0000\",\"report_data\":\"7c71\",\"tdx.ccel.kernel\":\"5b\","
              "\"tdx.ccel.kernel_parameters.console\":\"hvc0\",\"tdx.ccel.kernel_parameters.rw\":null,"
              "\"tdx.list\":[1,{\"a\":2}],\"tdx.quote.header.version\":\"0400\"}");
  json_decref(sorted);
  json_decref(out);
  json_decref(claims);
  /* absent report_data/init_data are "" */
  json_t *c2 = J("{\"svn\":\"1\"}");
  out = json_object();
  assert_null(tr_as_flatten_claims("sample", c2, out));
  assert_string_equal(json_string_value(json_object_get(out, "report_data")), "");
  assert_string_equal(json_string_value(json_object_get(out, "sample.svn")), "1");
  json_decref(out);
  json_decref(c2);
}

static const char *fixture(const char *name) {
  static char path[1024];
  const char *shared = getenv("TRUSTEE_SHARED_DIR");
  snprintf(path, sizeof(path), "%s/vectors/trustee/attestation-service/tests/fixtures/jwk/%s",
           shared ? shared : "../../../shared", name);
  return path;
}

/* Verifies a compact JWS with the signer's key the way a relying party would. */
static void verify_jws(const tr_as_signer *sg, const char *tok, const char *want_payload) {
  const char *d1 = strchr(tok, '.');
  const char *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
  assert_non_null(d2);
  uint8_t *hdr = NULL, *pl = NULL, *sig = NULL;
  size_t hl, pll, sl;
  assert_null(tr_b64_decode(tok, (size_t)(d1 - tok), TR_B64_URL_NOPAD, &hdr, &hl));
  assert_null(tr_b64_decode(d1 + 1, (size_t)(d2 - d1 - 1), TR_B64_URL_NOPAD, &pl, &pll));
  assert_null(tr_b64_decode(d2 + 1, (size_t)-1, TR_B64_URL_NOPAD, &sig, &sl));
  char want_hdr[4096];
  char *jwk = json_dumps(sg->jwk, JSON_COMPACT);
  if (strcmp(sg->alg, "ES256") == 0)
    snprintf(want_hdr, sizeof(want_hdr), "{\"typ\":\"JWT\",\"alg\":\"%s\",\"jwk\":%s}", sg->alg, jwk);
  else /* Simple: sorted members, jwk too */
    snprintf(want_hdr, sizeof(want_hdr), "{\"alg\":\"%s\",\"jwk\":%s,\"typ\":\"JWT\"}", sg->alg, jwk);
  free(jwk);
  assert_string_equal((char *)hdr, want_hdr);
  assert_string_equal((char *)pl, want_payload);
  bool ec = strcmp(sg->alg, "ES256") == 0;
  uint8_t der[256];
  size_t derlen = sl;
  const uint8_t *sigp = sig;
  if (ec) { /* raw r||s → DER for EVP_DigestVerify */
    assert_int_equal(sl, 64);
    ECDSA_SIG *es = ECDSA_SIG_new();
    ECDSA_SIG_set0(es, BN_bin2bn(sig, 32, NULL), BN_bin2bn(sig + 32, 32, NULL));
    uint8_t *p = der;
    derlen = (size_t)i2d_ECDSA_SIG(es, &p);
    ECDSA_SIG_free(es);
    sigp = der;
  }
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  assert_int_equal(EVP_DigestVerifyInit(ctx, NULL, ec ? EVP_sha256() : EVP_sha384(), NULL, sg->pkey), 1);
  assert_int_equal(EVP_DigestVerify(ctx, sigp, derlen, (const uint8_t *)tok, (size_t)(d2 - tok)), 1);
  EVP_MD_CTX_free(ctx);
  free(hdr);
  free(pl);
  free(sig);
}

static void test_signer_fixture_jwks(void **s) {
  (void)s;
  char kp[1024], cp[1024];
  snprintf(kp, sizeof(kp), "%s", fixture("signing-key.pem"));
  snprintf(cp, sizeof(cp), "%s", fixture("cert-chain.pem"));
  tr_as_signer_config cfg = {.key_path = kp, .cert_path = cp};
  tr_as_signer sg;
  tr_err *e = tr_as_signer_load(&cfg, TR_AS_BROKER_EAR, &sg);
  if (e) fail_msg("%s", tr_err_msg(e));
  json_error_t je;
  json_t *want = json_load_file(fixture("expected-jwks.json"), 0, &je);
  assert_non_null(want);
  assert_true(json_equal(json_array_get(json_object_get(want, "keys"), 0), sg.jwk));
  /* with cert_url too: x5u between alg and x5c */
  {
    tr_as_signer_config cu = {.key_path = kp, .cert_path = cp, .cert_url = "https://example.io/chain"};
    tr_as_signer s2;
    assert_null(tr_as_signer_load(&cu, TR_AS_BROKER_EAR, &s2));
    char *d = json_dumps(s2.jwk, JSON_COMPACT);
    const char *head = "{\"alg\":\"ES256\",\"x5u\":\"https://example.io/chain\",\"x5c\":[";
    if (strncmp(d, head, strlen(head)) != 0 || !strstr(d, "],\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":"))
      fail_msg("jwk %s", d);
    free(d);
    tr_as_signer_clear(&s2);
  }
  /* members in jsonwebtoken's emitted order: the common parameters (alg, x5u,
   * x5c) first, then the EC parameters (kty, crv, x, y) */
  {
    const char *order[] = {"alg", "x5c", "kty", "crv", "x", "y"};
    size_t i = 0;
    const char *k;
    json_t *v;
    json_object_foreach(sg.jwk, k, v) {
      if (i >= 6 || strcmp(k, order[i]) != 0) fail_msg("jwk member %zu: `%s`", i, k);
      i++;
    }
    assert_int_equal(i, 6);
  }
  /* x starts with 0x00 in the fixture: the coordinate stays 32 bytes */
  assert_string_equal(json_string_value(json_object_get(sg.jwk, "x")),
                      "ANbJDpVEC_bNPvuKERn1FkQMSuPWEzIQ7Y-kl3K0yEo");
  char *tok = NULL;
  assert_null(tr_as_sign_jwt(&sg, "{\"a\":1}", 7, &tok));
  verify_jws(&sg, tok, "{\"a\":1}");
  free(tok);
  json_decref(want);
  tr_as_signer_clear(&sg);
}

static void test_signer_errors_and_ephemeral(void **s) {
  (void)s;
  tr_as_signer sg;
  /* RSA key for EAR, EC key for Simple, missing file */
  char kp[1024];
  snprintf(kp, sizeof(kp), "%s", fixture("signing-key.pem"));
  tr_as_signer_config ec = {.key_path = kp};
  tr_err *e = tr_as_signer_load(&ec, TR_AS_BROKER_SIMPLE, &sg);
  assert_non_null(e);
  assert_non_null(strstr(tr_err_msg(e), "RSA"));
  tr_err_free(e);
  tr_as_signer_config missing = {.key_path = "/nonexistent/key.pem"};
  e = tr_as_signer_load(&missing, TR_AS_BROKER_EAR, &sg);
  assert_non_null(e);
  assert_non_null(strstr(tr_err_msg(e), "read token signer private key"));
  tr_err_free(e);
  /* ephemeral keys: P-256 for EAR, RSA for Simple, both sign verifiably */
  tr_as_signer_config none = {0};
  assert_null(tr_as_signer_load(&none, TR_AS_BROKER_EAR, &sg));
  assert_string_equal(json_string_value(json_object_get(sg.jwk, "crv")), "P-256");
  char *tok = NULL;
  assert_null(tr_as_sign_jwt(&sg, "x", 1, &tok));
  verify_jws(&sg, tok, "x");
  free(tok);
  tr_as_signer_clear(&sg);
  tr_as_signer_config url = {.cert_url = "https://example.io/chain"};
  assert_null(tr_as_signer_load(&url, TR_AS_BROKER_SIMPLE, &sg));
  assert_string_equal(sg.alg, "RS384");
  assert_string_equal(json_string_value(json_object_get(sg.jwk, "kty")), "RSA");
  assert_string_equal(json_string_value(json_object_get(sg.jwk, "x5u")), "https://example.io/chain");
  assert_null(tr_as_sign_jwt(&sg, "{}", 2, &tok));
  verify_jws(&sg, tok, "{}");
  free(tok);
  tr_as_signer_clear(&sg);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_policy_input),
      cmocka_unit_test(test_tiers),
      cmocka_unit_test(test_trust_vector_validation),
      cmocka_unit_test(test_appraisal_order_and_extensions),
      cmocka_unit_test(test_flatten),
      cmocka_unit_test(test_signer_fixture_jwks),
      cmocka_unit_test(test_signer_errors_and_ephemeral),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
