/* Unit tests for the KBS's pure parts: SemVer, resource paths, request-target
 * parsing, the error body, metrics exposition, dates, challenge parameters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "as/request.h"
#include "core/json.h"
#include "kbs/errors.h"
#include "kbs/internal.h"
#include "kbs/metrics.h"

static void semver(void **st) {
  (void)st;
  unsigned long long v[3];
  bool pre;
  assert_null(kbs_semver_parse("0.4.0", v, &pre));
  assert_false(pre);
  assert_int_equal(v[1], 4);
  tr_err *e = kbs_semver_parse("0.4.0-rc1", v, &pre);
  assert_null(e);
  assert_true(pre);
  assert_null(kbs_semver_parse("0.4.0+build.7", v, &pre));
  assert_false(pre);
  const char *bad[] = {"0.4",    "v0.4.0", "0.04.0", "0.4.0-",  "0.4.0-01",
                       "0.4.0+", "",       "0.4.0 ", "1.2.3.4", "a.b.c"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    e = kbs_semver_parse(bad[i], v, &pre);
    assert_non_null(e);
    tr_err_free(e);
  }
}

static void resource_paths(void **st) {
  (void)st;
  /* Upstream's ResourceDesc cases. */
  assert_true(kbs_resource_path_valid("default/1/2"));
  assert_true(kbs_resource_path_valid("1.ok/2ok./3..."));
  assert_false(kbs_resource_path_valid("/1/2"));
  assert_false(kbs_resource_path_valid("1/2"));
  assert_false(kbs_resource_path_valid(".1.ok/2ok./3..."));
  assert_false(kbs_resource_path_valid("a/b/c/d"));
  assert_false(kbs_resource_path_valid("a/../c"));
  assert_false(kbs_resource_path_valid("a/b/.."));
  assert_false(kbs_resource_path_valid("a//c"));
  assert_false(kbs_resource_path_valid("a/b/c d"));
  assert_false(kbs_resource_path_valid("a/b/\xc3\xa9"));
  assert_true(kbs_resource_path_valid("my_repo/key-type/tag_1.pem"));
}

static void targets(void **st) {
  (void)st;
  kbs_target t;
  assert_null(kbs_target_parse("/kbs/v0/resource/a/b/c?x=1&y=a+b%21&z", &t));
  assert_int_equal(t.nsegs, 4);
  assert_string_equal(t.segs[0], "resource");
  assert_string_equal(t.segs[3], "c");
  assert_string_equal(json_string_value(json_object_get(t.query, "y")), "a b!");
  assert_string_equal(json_string_value(json_object_get(t.query, "z")), "");
  kbs_target_clear(&t);
  assert_null(kbs_target_parse("/kbs/v0/", &t));
  assert_int_equal(t.nsegs, 1);
  assert_string_equal(t.segs[0], "");
  kbs_target_clear(&t);
  assert_null(kbs_target_parse("/kbs/v0", &t));
  assert_null(t.segs);
  kbs_target_clear(&t);
  assert_null(kbs_target_parse("/kbs/v0/resource//b/%2e%2e", &t));
  assert_string_equal(t.segs[1], "");
  assert_string_equal(t.segs[3], "..");
  kbs_target_clear(&t);
  /* encoded '/', '%', '+' stay literal in path segments (actix-router), decoded in the query */
  assert_null(kbs_target_parse("/kbs/v0/resource/secret%2Fkeys/p%2bq%25/%61?k=a%2Fb", &t));
  assert_int_equal(t.nsegs, 4);
  assert_string_equal(t.segs[1], "secret%2Fkeys");
  assert_string_equal(t.segs[2], "p%2bq%25");
  assert_string_equal(t.segs[3], "a");
  assert_string_equal(json_string_value(json_object_get(t.query, "k")), "a/b");
  kbs_target_clear(&t);
  tr_err *e = kbs_target_parse("/kbs/v0/x?a=%zz", &t);
  assert_non_null(e);
  tr_err_free(e);
  e = kbs_target_parse("/kbs/v0/x%00", &t);
  assert_non_null(e);
  tr_err_free(e);
  e = kbs_target_parse("/kbs/v0/x?a=%4", &t);
  assert_non_null(e);
  tr_err_free(e);
}

static void error_body(void **st) {
  (void)st;
  kbs_http_resp r = {0};
  kbs_error_respond(&r, KBS_E_PLUGIN_NOT_FOUND, 0, "nope");
  assert_int_equal(r.status, 404);
  assert_string_equal((char *)r.body,
                      "{\"type\":\"https://github.com/confidential-containers/kbs/errors/PluginNotFound\","
                      "\"detail\":\"Plugin nope not found\"}");
  kbs_http_resp_clear(&r);
  kbs_error_respond(&r, KBS_E_POLICY_DENY, 0, NULL);
  assert_int_equal(r.status, 401);
  assert_string_equal((char *)r.body,
                      "{\"type\":\"https://github.com/confidential-containers/kbs/errors/PolicyDeny\","
                      "\"detail\":\"Access denied by policy\"}");
  kbs_http_resp_clear(&r);
  kbs_error_respondf(&r, KBS_E_ATTESTATION, 400, "RCAR handshake Auth failed: %s", "x");
  assert_int_equal(r.status, 400);
  assert_non_null(strstr((char *)r.body, "\"detail\":\"Attestation error: RCAR handshake Auth failed: x\""));
  kbs_http_resp_clear(&r);
  kbs_error_respond(&r, KBS_E_ADMIN_AUTH_ACCESS, 0, "resource-policy: Admin access denied: y");
  assert_non_null(
      strstr((char *)r.body, "admin access denied for endpoint resource-policy: Admin access denied: y"));
  kbs_http_resp_clear(&r);
  kbs_error_respond(&r, KBS_E_RESOURCE_NOT_FOUND, 0, "resource not found: a/b/c");
  assert_int_equal(r.status, 404);
  assert_non_null(strstr((char *)r.body, "PluginInternalError"));
  kbs_http_resp_clear(&r);
}

static void metrics(void **st) {
  (void)st;
  kbs_metrics *m = kbs_metrics_new("0.1.0", "abc", "today");
  kbs_metrics_inc(m, KBS_M_AUTH_REQUESTS);
  kbs_metrics_inc_label(m, KBS_L_RESOURCE_READS, "a/b/c");
  kbs_metrics_inc_label(m, KBS_L_RESOURCE_READS, "a/b/c");
  kbs_metrics_inc_label(m, KBS_L_ATTEST_SUCCESSES, "sample");
  kbs_metrics_observe_request(m, 0.002, 100, 3000);
  kbs_metrics_observe_plugin(m, "echo-test", 0.02);
  size_t n = 0;
  char *t = kbs_metrics_render(m, &n);
  assert_non_null(strstr(t, "kbs_auth_requests_total 1\n"));
  assert_non_null(strstr(t, "kbs_resource_reads_total{resource_path=\"a/b/c\"} 2\n"));
  assert_non_null(strstr(t, "kbs_attestation_successes_total{tee_type=\"sample\"} 1\n"));
  assert_non_null(strstr(t, "kbs_http_request_duration_seconds_bucket{le=\"0.005\"} 1\n"));
  assert_non_null(strstr(t, "kbs_http_request_duration_seconds_bucket{le=\"0.001\"} 0\n"));
  assert_non_null(strstr(t, "kbs_http_request_size_bytes_bucket{le=\"128\"} 1\n"));
  assert_non_null(strstr(t, "kbs_http_response_size_bytes_bucket{le=\"2048\"} 0\n"));
  assert_non_null(strstr(t, "kbs_http_response_size_bytes_bucket{le=\"8192\"} 1\n"));
  assert_non_null(strstr(t, "kbs_http_response_size_bytes_count 1\n"));
  assert_non_null(strstr(t, "kbs_plugin_request_duration_seconds_count{plugin_name=\"echo-test\"} 1\n"));
  assert_non_null(strstr(t, "kbs_build_info{build_date=\"today\",git_hash=\"abc\",version=\"0.1.0\"} 1\n"));
  free(t);
  kbs_metrics_free(m);
}

/* Many distinct labels (the index grows and rehashes): every count exact,
 * rendered in first-seen order. */
static void metrics_many_labels(void **st) {
  (void)st;
  kbs_metrics *m = kbs_metrics_new("0.1.0", "abc", "today");
  char l[64];
  for (int round = 0; round < 3; round++)
    for (int i = 0; i < 5000; i++) {
      snprintf(l, sizeof l, "repo%d/type/tag", i);
      kbs_metrics_inc_label(m, KBS_L_RESOURCE_READS, l);
      if (i % 7 == 0) kbs_metrics_inc_label(m, KBS_L_RESOURCE_READS, l);
    }
  size_t n = 0;
  char *t = kbs_metrics_render(m, &n);
  const char *prev = t;
  for (int i = 0; i < 5000; i++) {
    char want[128];
    snprintf(want, sizeof want, "kbs_resource_reads_total{resource_path=\"repo%d/type/tag\"} %d\n", i,
             i % 7 == 0 ? 6 : 3);
    const char *at = strstr(t, want);
    assert_non_null(at);
    assert_true(at >= prev);
    prev = at;
  }
  free(t);
  kbs_metrics_free(m);
}

static void dates(void **st) {
  (void)st;
  char b[40];
  kbs_imf_fixdate(1751371500, b);
  assert_string_equal(b, "Tue, 01 Jul 2025 12:05:00 GMT");
  kbs_rfc3339(1751371500, b);
  assert_string_equal(b, "2025-07-01T12:05:00Z");
  int64_t t;
  assert_null(kbs_parse_rfc3339("2025-07-01T12:05:00Z", &t));
  assert_int_equal(t, 1751371500);
}

static void b64url(void **st) {
  (void)st;
  uint8_t *d = NULL;
  size_t n;
  assert_null(kbs_b64url_nopad("cGFja2FnZSBwb2xpY3k", &d, &n));
  assert_memory_equal(d, "package policy", 14);
  free(d);
  tr_err *e = kbs_b64url_nopad("cGFja2FnZSBwb2xpY3k=", &d, &n);
  assert_non_null(e);
  tr_err_free(e);
}

/* The built-in AS gets the same challenge parameters as restful-as (its POST /challenge parser) and grpc-as:
 * {"tee": str, "tee_params": JSON text of /auth's extra-params}. */
static void challenge_params(void **st) {
  (void)st;
  const char *extras[] = {"{\"supported-hash-algorithms\":[\"sha512\"]}", "\"\"", "null", "[1,2]"};
  for (size_t i = 0; i < sizeof extras / sizeof *extras; i++) {
    json_t *extra = json_loads(extras[i], JSON_DECODE_ANY, NULL);
    assert_non_null(extra);
    json_t *p = kbs_challenge_params("se", extra);
    assert_non_null(p);
    assert_int_equal(json_object_size(p), 2);
    assert_string_equal(json_string_value(json_object_get(p, "tee")), "se");
    assert_string_equal(json_string_value(json_object_get(p, "tee_params")), extras[i]);
    char *body = tr_json_dump_compact(p);
    char *tee = NULL;
    json_t *parsed = NULL;
    tr_err *e = tr_as_parse_challenge(body, strlen(body), &tee, &parsed);
    assert_null(e);
    assert_string_equal(tee, "se");
    assert_true(json_equal(parsed, p));
    free(tee);
    json_decref(parsed);
    free(body);
    json_decref(p);
    json_decref(extra);
  }
  json_t *p = kbs_challenge_params("snp", NULL); /* no extra-params: JSON null, as serde would send */
  assert_string_equal(json_string_value(json_object_get(p, "tee_params")), "null");
  json_decref(p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(semver),     cmocka_unit_test(resource_paths), cmocka_unit_test(targets),
      cmocka_unit_test(error_body), cmocka_unit_test(metrics),        cmocka_unit_test(metrics_many_labels),
      cmocka_unit_test(dates),      cmocka_unit_test(b64url),         cmocka_unit_test(challenge_params),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
