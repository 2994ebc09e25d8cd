/* test_request.c — POST /attestation, /policy and /challenge bodies: both
 * request shapes, and field-naming errors for malformed input. */
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

#include "as/request.h"
#include "core/buf.h"
#include "core/encoding.h"

/* base64url of {"svn":"1","report_data":"AQID"} */
static char *ev_b64(const char *json) { return tr_b64_encode(json, strlen(json), TR_B64_URL_NOPAD); }

static tr_as_parsed *parse_ok(const char *body) {
  tr_as_parsed *p = NULL;
  tr_err *e = tr_as_parse_attestation(body, strlen(body), &p);
  if (e) fail_msg("unexpected error: %s", tr_err_msg(e));
  return p;
}

static void expect_err(const char *body, const char *needle) {
  tr_as_parsed *p = NULL;
  tr_err *e = tr_as_parse_attestation(body, strlen(body), &p);
  if (!e) fail_msg("no error for %s", body);
  assert_int_equal(tr_err_code(e), TR_E_INVALID);
  if (!strstr(tr_err_msg(e), needle)) fail_msg("`%s` lacks `%s`", tr_err_msg(e), needle);
  assert_null(p);
  tr_err_free(e);
}

static void test_current_shape(void **s) {
  (void)s;
  char *ev = ev_b64("{\"svn\":\"1\",\"report_data\":\"AQID\"}");
  char body[2048];
  snprintf(
      body, sizeof(body),
      "{\"verification_requests\":[{\"tee\":\"sample\",\"evidence\":\"%s\","
      "\"runtime_data\":{\"raw\":\"AQID\"},\"init_data\":{\"init_data_digest\":\"BAUG\"},"
      "\"runtime_data_hash_algorithm\":\"SHA256\"},"
      "{\"tee\":\"sampledevice\",\"evidence\":\"%s\",\"runtime_data\":{\"structured\":{\"nonce\":\"x\"}},"
      "\"init_data\":{\"init_data_toml\":\"version = 1\"}}],\"policy_ids\":[\"a\",\"b\"]}",
      ev, ev);
  tr_as_parsed *p = parse_ok(body);
  assert_int_equal(p->nreqs, 2);
  assert_string_equal(p->reqs[0].tee, "sample");
  assert_string_equal(json_string_value(json_object_get(p->reqs[0].evidence, "svn")), "1");
  assert_int_equal(p->reqs[0].runtime_data.kind, TR_DATA_RAW);
  assert_int_equal(p->reqs[0].runtime_data.raw_len, 3);
  assert_memory_equal(p->reqs[0].runtime_data.raw, "\x01\x02\x03", 3);
  assert_int_equal(p->reqs[0].init_data.kind, TR_DATA_RAW);
  assert_memory_equal(p->reqs[0].init_data.raw, "\x04\x05\x06", 3);
  assert_int_equal(p->reqs[0].runtime_data_hash_alg, TR_SHA256);
  assert_int_equal(p->reqs[1].runtime_data.kind, TR_DATA_STRUCTURED);
  assert_string_equal(json_string_value(json_object_get(p->reqs[1].runtime_data.structured, "nonce")), "x");
  assert_int_equal(p->reqs[1].runtime_data_hash_alg, TR_SHA384);
  assert_int_equal(p->reqs[1].init_data.kind, TR_DATA_STRUCTURED);
  assert_string_equal(p->reqs[1].init_data.toml, "version = 1");
  assert_int_equal(p->npolicy_ids, 2);
  assert_string_equal(p->policy_ids[1], "b");
  tr_as_parsed_free(p);
  free(ev);
}

static void test_documented_single_shape(void **s) {
  (void)s;
  char *ev = ev_b64("{\"svn\":\"1\"}");
  char body[1024];
  snprintf(body, sizeof(body),
           "{\"tee\":\"sample\",\"evidence\":\"%s\",\"runtime_data\":{\"structured\":{\"a\":1}},"
           "\"init_data\":{\"structured\":{\"k\":\"v\"}},\"runtime_data_hash_algorithm\":\"sha512\","
           "\"init_data_hash_algorithm\":\"sha256\",\"policy_ids\":[]}",
           ev);
  tr_as_parsed *p = parse_ok(body);
  assert_int_equal(p->nreqs, 1);
  assert_int_equal(p->reqs[0].runtime_data_hash_alg, TR_SHA512);
  assert_int_equal(p->reqs[0].init_data_hash_alg, TR_SHA256);
  assert_int_equal(p->reqs[0].init_data.kind, TR_DATA_STRUCTURED);
  assert_null(p->reqs[0].init_data.toml);
  assert_non_null(p->reqs[0].init_data.structured);
  assert_int_equal(p->npolicy_ids, 0);
  tr_as_parsed_free(p);
  /* raw init data in the documented shape; padded base64url accepted */
  snprintf(body, sizeof(body), "{\"tee\":\"sample\",\"evidence\":\"%s\",\"init_data\":{\"raw\":\"AQI=\"}}",
           ev);
  p = parse_ok(body);
  assert_int_equal(p->reqs[0].init_data.kind, TR_DATA_RAW);
  assert_int_equal(p->reqs[0].init_data.raw_len, 2);
  tr_as_parsed_free(p);
  free(ev);
}

static void test_errors_name_fields(void **s) {
  (void)s;
  char *ev = ev_b64("{\"svn\":\"1\"}");
  char *notjson = ev_b64("{svn");
  char b[1024];
  expect_err("", "not JSON");
  expect_err("[1]", "expected object");
  expect_err("{\"policy_ids\":[]}", "verification_requests");
  expect_err("{\"verification_requests\":{}}", "`verification_requests`: expected array");
  expect_err("{\"verification_requests\":[]}", "no verification requests");
  expect_err("{\"verification_requests\":[{\"evidence\":\"e30\"}]}", "verification_requests[0].tee");
  expect_err("{\"verification_requests\":[{\"tee\":\"sample\"}]}", "verification_requests[0].evidence");
  expect_err("{\"verification_requests\":[{\"tee\":\"sample\",\"evidence\":\"!!!\"}]}",
             "`verification_requests[0].evidence`: base64url decode");
  snprintf(b, sizeof(b), "{\"verification_requests\":[{\"tee\":\"sample\",\"evidence\":\"%s\"}]}", notjson);
  expect_err(b, "`verification_requests[0].evidence`: not JSON");
  snprintf(
      b, sizeof(b),
      "{\"verification_requests\":[{\"tee\":\"sample\",\"evidence\":\"%s\",\"runtime_data\":{\"raw\":\"a\","
      "\"structured\":{}}}]}",
      ev);
  expect_err(b, "`verification_requests[0].runtime_data`: expected exactly one member");
  snprintf(
      b, sizeof(b),
      "{\"verification_requests\":[{\"tee\":\"sample\",\"evidence\":\"%s\",\"runtime_data\":{\"bogus\":1}}]}",
      ev);
  expect_err(b, "unknown member `bogus`");
  snprintf(b, sizeof(b),
           "{\"verification_requests\":[{\"tee\":\"sample\",\"evidence\":\"%s\",\"runtime_data\":{\"raw\":\"@"
           "@\"}}]}",
           ev);
  expect_err(b, "`verification_requests[0].runtime_data.raw`: base64url decode");
  snprintf(b, sizeof(b),
           "{\"verification_requests\":[{\"tee\":\"sample\",\"evidence\":\"%s\",\"init_data\":{\"init_data_"
           "toml\":5}}]}",
           ev);
  expect_err(b, "`verification_requests[0].init_data.init_data_toml`: expected TOML string");
  snprintf(b, sizeof(b),
           "{\"verification_requests\":[{\"tee\":\"sample\",\"evidence\":\"%s\","
           "\"runtime_data_hash_algorithm\":\"md5\"}]}",
           ev);
  expect_err(b, "unknown hash algorithm `md5`");
  snprintf(b, sizeof(b),
           "{\"verification_requests\":[{\"tee\":\"sample\",\"evidence\":\"%s\"}],\"policy_ids\":[1]}", ev);
  expect_err(b, "`policy_ids[0]`: expected string");
  /* counts are bounded before any work is done per entry */
  {
    tr_buf big = TR_BUF_INIT;
    assert_true(tr_buf_append_str(&big, "{\"verification_requests\":["));
    for (int i = 0; i < 65; i++) {
      char one[160];
      snprintf(one, sizeof(one), "%s{\"tee\":\"sample\",\"evidence\":\"%s\"}", i ? "," : "", ev);
      assert_true(tr_buf_append_str(&big, one));
    }
    assert_true(tr_buf_append_str(&big, "],\"policy_ids\":[]}"));
    assert_true(tr_buf_append(&big, "", 0));
    expect_err((const char *)big.data, "`verification_requests`: at most 64");
    tr_buf_free(&big);
    assert_true(tr_buf_append_str(&big, "{\"tee\":\"sample\",\"evidence\":\"e30\",\"policy_ids\":["));
    for (int i = 0; i < 65; i++)
      assert_true(tr_buf_append_str(&big, i ? ",\"default\"" : "\"default\""));
    assert_true(tr_buf_append_str(&big, "]}"));
    assert_true(tr_buf_append(&big, "", 0));
    expect_err((const char *)big.data, "`policy_ids`: at most 64");
    tr_buf_free(&big);
  }
  snprintf(b, sizeof(b),
           "{\"verification_requests\":[{\"tee\":\"sample\",\"evidence\":\"%s\"}],\"policy_ids\":\"x\"}", ev);
  expect_err(b, "`policy_ids`: expected array");
  expect_err("{\"verification_requests\":[{\"tee\":\"s\",\"evidence\":\"e30\"}], \"a\":1, \"a\":2}",
             "not JSON");
  free(ev);
  free(notjson);
}

static void test_set_policy_body(void **s) {
  (void)s;
  char *pol = tr_b64_encode("package policy\n", 15, TR_B64_URL_NOPAD);
  char b[512];
  snprintf(b, sizeof(b), "{\"type\":\"rego\",\"policy_id\":\"p1\",\"policy\":\"%s\"}", pol);
  char *id = NULL, *text = NULL;
  assert_null(tr_as_parse_set_policy(b, strlen(b), &id, &text));
  assert_string_equal(id, "p1");
  assert_string_equal(text, "package policy\n");
  free(id);
  free(text);
  const char *bad[][2] = {
      {"{\"policy\":\"eA\"}", "policy_id"},
      {"{\"policy_id\":\"p\"}", "`policy`: missing"},
      {"{\"policy_id\":\"p\",\"policy\":\"***\"}", "base64url"},
      {"{\"policy_id\":\"p\",\"type\":\"wasm\",\"policy\":\"eA\"}", "unsupported policy type"},
      {"{\"policy_id\":\"p\",\"policy\":\"AA\"}", "NUL"},
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    tr_err *e = tr_as_parse_set_policy(bad[i][0], strlen(bad[i][0]), &id, &text);
    assert_non_null(e);
    if (!strstr(tr_err_msg(e), bad[i][1])) fail_msg("`%s` lacks `%s`", tr_err_msg(e), bad[i][1]);
    assert_null(id);
    assert_null(text);
    tr_err_free(e);
  }
  free(pol);
}

static void test_challenge_body(void **s) {
  (void)s;
  const char *b = "{\"tee\":\"se\",\"tee_params\":\"x\"}";
  char *tee = NULL;
  json_t *params = NULL;
  assert_null(tr_as_parse_challenge(b, strlen(b), &tee, &params));
  assert_string_equal(tee, "se");
  assert_string_equal(json_string_value(json_object_get(params, "tee_params")), "x");
  free(tee);
  json_decref(params);
  tr_err *e = tr_as_parse_challenge("{\"tee\":\"se\"}", 12, &tee, &params);
  assert_non_null(e);
  assert_non_null(strstr(tr_err_msg(e), "tee_params"));
  tr_err_free(e);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_current_shape),      cmocka_unit_test(test_documented_single_shape),
      cmocka_unit_test(test_errors_name_fields), cmocka_unit_test(test_set_policy_body),
      cmocka_unit_test(test_challenge_body),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
