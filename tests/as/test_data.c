/* test_data.c — runtime data and init data: raw used as-is, structured
 * runtime data JCS + hash (upstream's vector), TOML init data hashed over its
 * exact text with its own algorithm and converted to init_data_claims. */
/* cmocka needs these first */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */
#include <stdlib.h>
#include <string.h>

#include "as/as_internal.h"
#include "core/buf.h"
#include "core/encoding.h"
#include "core/json.h"

static char *hex(const uint8_t *d, size_t n) { return tr_hex_encode(d, n); }

static void test_runtime_raw_as_is(void **s) {
  (void)s;
  tr_as_data d = {.kind = TR_DATA_RAW, .raw = (const uint8_t *)"aaaaa", .raw_len = 5};
  tr_as_expected_data e;
  assert_null(tr_as_runtime_expected(&d, TR_SHA384, &e));
  assert_true(e.present);
  assert_int_equal(e.len, 5);
  assert_memory_equal(e.data, "aaaaa", 5);
  assert_true(json_is_null(e.claims));
  tr_as_expected_clear(&e);
  /* none */
  tr_as_data none = {0};
  assert_null(tr_as_runtime_expected(&none, TR_SHA384, &e));
  assert_false(e.present);
  assert_true(json_is_null(e.claims));
  tr_as_expected_clear(&e);
}

static void test_runtime_structured_upstream_vector(void **s) {
  (void)s;
  json_t *v = json_loads("{\"b\":1,\"a\":\"test\",\"c\":{\"d\":\"e\"}}", 0, NULL);
  tr_as_data d = {.kind = TR_DATA_STRUCTURED, .structured = v};
  tr_as_expected_data e;
  assert_null(tr_as_runtime_expected(&d, TR_SHA384, &e));
  char *h = hex(e.data, e.len);
  assert_string_equal(
      h, "e71ce8e70d814ba6639c3612ebee0ff1f76f650f8dbb5e47157e0f3f525cd22c4597480a186427c813ca941da7"
         "8870c3");
  free(h);
  assert_true(json_equal(e.claims, v));
  tr_as_expected_clear(&e);
  /* other algorithms change the digest length */
  assert_null(tr_as_runtime_expected(&d, TR_SHA256, &e));
  assert_int_equal(e.len, 32);
  tr_as_expected_clear(&e);
  assert_null(tr_as_runtime_expected(&d, TR_SHA512, &e));
  assert_int_equal(e.len, 64);
  tr_as_expected_clear(&e);
  /* sm3 over the same canonical text */
  const char *canon = "{\"a\":\"test\",\"b\":1,\"c\":{\"d\":\"e\"}}";
  uint8_t want[TR_DIGEST_MAX];
  size_t wl = 0;
  assert_null(tr_digest(TR_SM3, canon, strlen(canon), want, &wl));
  assert_null(tr_as_runtime_expected(&d, TR_SM3, &e));
  assert_int_equal(e.len, 32);
  assert_memory_equal(e.data, want, 32);
  tr_as_expected_clear(&e);
  json_decref(v);
  /* TOML init data with algorithm sm3: the exact text hashed with SM3 */
  const char *toml = "version = \"0.1.0\"\nalgorithm = \"sm3\"\n[data]\nk = \"v\"\n";
  tr_as_data id = {.kind = TR_DATA_STRUCTURED, .toml = toml};
  assert_null(tr_digest(TR_SM3, toml, strlen(toml), want, &wl));
  assert_null(tr_as_init_expected(&id, 0, &e));
  assert_int_equal(e.len, 32);
  assert_memory_equal(e.data, want, 32);
  assert_string_equal(json_string_value(json_object_get(e.claims, "k")), "v");
  tr_as_expected_clear(&e);
}

static char *read_fixture(const char *name, size_t *len) {
  uint8_t *b = NULL;
  tr_err *e = tr_read_file(name, 0, &b, len);
  assert_null(e);
  return (char *)b;
}

static void test_init_toml(void **s) {
  (void)s;
  size_t len = 0;
  char *toml = read_fixture("initdata-policy.toml", &len);
  tr_as_data d = {.kind = TR_DATA_STRUCTURED, .toml = toml};
  tr_as_expected_data e;
  assert_null(tr_as_init_expected(&d, 0, &e));
  /* hash over the exact text with the TOML's own algorithm (sha384) */
  uint8_t want[TR_DIGEST_MAX];
  size_t wl = 0;
  assert_null(tr_digest(TR_SHA384, toml, len, want, &wl));
  assert_int_equal(e.len, 48);
  assert_memory_equal(e.data, want, 48);
  json_t *c = e.claims;
  /* cdh.toml and aa.toml parsed */
  json_t *cdh = json_object_get(c, "cdh.toml");
  assert_string_equal(json_string_value(tr_json_path(cdh, "kbc.name")), "cc_kbc");
  json_t *certs = tr_json_path(cdh, "image.extra_root_certificates");
  assert_true(json_is_array(certs));
  assert_non_null(strstr(json_string_value(json_array_get(certs, 0)), "-----BEGIN CERTIFICATE-----"));
  assert_string_equal(json_string_value(tr_json_path(json_object_get(c, "aa.toml"), "token_configs.kbs.url")),
                      "http://1.2.3.4:8080");
  /* non-TOML strings are kept */
  assert_string_equal(json_string_value(json_object_get(c, "extra")), "not toml = = [");
  /* policy.rego replaced by agent_policy_claims */
  assert_null(json_object_get(c, "policy.rego"));
  json_t *apc = json_object_get(c, "agent_policy_claims");
  assert_true(json_is_object(apc));
  json_t *c1 = json_array_get(json_object_get(apc, "containers"), 1);
  assert_string_equal(json_string_value(json_array_get(tr_json_path(c1, "OCI.Process.Args"), 0)),
                      "/opt/bitnami/scripts/nginx/entrypoint.sh");
  tr_as_expected_clear(&e);
  free(toml);
}

static void test_init_policy_rego_not_last(void **s) {
  (void)s;
  const char *toml =
      "version = \"0.1.0\"\nalgorithm = \"sha256\"\n[data]\n\"policy.rego\" = '''\npolicy_data := "
      "{\"a\": 1}\nfoo := 2\n'''\n";
  tr_as_data d = {.kind = TR_DATA_STRUCTURED, .toml = toml};
  tr_as_expected_data e;
  assert_null(tr_as_init_expected(&d, 0, &e));
  assert_int_equal(e.len, 32);
  /* trailing Rego after the JSON: kept as the policy text */
  assert_true(json_is_string(json_object_get(e.claims, "policy.rego")));
  assert_null(json_object_get(e.claims, "agent_policy_claims"));
  tr_as_expected_clear(&e);
}

static void test_init_errors(void **s) {
  (void)s;
  const char *bad[][2] = {
      {"version = \"0.1.0\"\nalgorithm = \"sha-384\"\n[data]\n", "unknown hash algorithm `sha-384`"},
      {"version = \"0.1.0\"\nalgorithm = \"SHA384\"\n[data]\n", "unknown hash algorithm `SHA384`"},
      {"version = \"0.1.0\"\n[data]\n", "algorithm"},
      {"version = \"0.1.0\"\nalgorithm = \"sha256\"\n", "data"},
      {"version = \"0.1.0\"\nalgorithm = \"sha256\"\n[data]\nx = 1\n", "data.x"},
      {"this is = not [ toml", "parse TOML init data"},
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    tr_as_data d = {.kind = TR_DATA_STRUCTURED, .toml = bad[i][0]};
    tr_as_expected_data e;
    tr_err *err = tr_as_init_expected(&d, 0, &e);
    assert_non_null(err);
    if (!strstr(tr_err_msg(err), bad[i][1]))
      fail_msg("case %zu: `%s` lacks `%s`", i, tr_err_msg(err), bad[i][1]);
    assert_false(e.present);
    tr_err_free(err);
  }
}

static void test_init_digest_and_json(void **s) {
  (void)s;
  tr_as_data d = {.kind = TR_DATA_RAW, .raw = (const uint8_t *)"\x01\x02", .raw_len = 2};
  tr_as_expected_data e;
  assert_null(tr_as_init_expected(&d, 0, &e));
  assert_int_equal(e.len, 2);
  assert_true(json_is_null(e.claims));
  tr_as_expected_clear(&e);
  json_t *v = json_loads("{\"b\":1,\"a\":\"test\",\"c\":{\"d\":\"e\"}}", 0, NULL);
  tr_as_data j = {.kind = TR_DATA_STRUCTURED, .structured = v};
  assert_null(tr_as_init_expected(&j, TR_SHA384, &e));
  char *h = hex(e.data, e.len);
  assert_string_equal(
      h, "e71ce8e70d814ba6639c3612ebee0ff1f76f650f8dbb5e47157e0f3f525cd22c4597480a186427c813ca941da7"
         "8870c3");
  free(h);
  tr_as_expected_clear(&e);
  json_decref(v);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_runtime_raw_as_is), cmocka_unit_test(test_runtime_structured_upstream_vector),
      cmocka_unit_test(test_init_toml),         cmocka_unit_test(test_init_policy_rego_not_last),
      cmocka_unit_test(test_init_errors),       cmocka_unit_test(test_init_digest_and_json),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
