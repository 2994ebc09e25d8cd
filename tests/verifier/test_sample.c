/* test_sample.c — the sample and sampledevice verifiers, the table, the
 * verified list, tr_regularize and the lazily filled verifier set. */
/* cmocka needs these first */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */
#include <string.h>

#include "core/encoding.h"
#include "verifier/verifier.h"

static json_t *ev(const char *text) {
  json_error_t je;
  json_t *v = json_loads(text, JSON_ALLOW_NUL, &je);
  assert_non_null(v);
  return v;
}

static tr_err *run(const char *tee, const char *evidence, const tr_expected *rd, const tr_expected *id,
                   tr_verified_list *out) {
  tr_verifier_set *set = NULL;
  assert_null(tr_verifier_set_new(NULL, &set));
  const tr_verifier_ops *ops = NULL;
  void *st = NULL;
  tr_err *e = tr_verifier_set_get(set, tee, &ops, &st);
  if (!e) {
    json_t *j = ev(evidence);
    e = ops->evaluate(st, j, rd, id, out);
    json_decref(j);
  }
  tr_verifier_set_free(set);
  return e;
}

static void test_lookup(void **s) {
  (void)s;
  assert_non_null(tr_verifier_lookup("sample"));
  assert_non_null(tr_verifier_lookup("sampledevice"));
  assert_null(tr_verifier_lookup("nope"));
  assert_null(tr_verifier_lookup(NULL));
  bool seen = false;
  for (const char *const *n = tr_verifier_names(); *n; n++)
    if (strcmp(*n, "sampledevice") == 0) seen = true;
  assert_true(seen);
}

static void test_unknown_tee(void **s) {
  (void)s;
  tr_verified_list out = {0};
  tr_err *e = run("quantum", "{}", NULL, NULL, &out);
  assert_non_null(e);
  assert_int_equal(tr_err_code(e), TR_E_UNSUPPORTED);
  assert_non_null(strstr(tr_err_msg(e), "unknown or unsupported tee `quantum`"));
  assert_non_null(strstr(tr_err_msg(e), "sample"));
  tr_err_free(e);
  /* a client-sized name is not echoed whole into the error */
  char big[20000];
  memset(big, 'q', sizeof(big) - 1);
  big[sizeof(big) - 1] = 0;
  tr_verifier_set *set = NULL;
  assert_null(tr_verifier_set_new(NULL, &set));
  const tr_verifier_ops *ops = NULL;
  void *st = NULL;
  e = tr_verifier_set_get(set, big, &ops, &st);
  assert_non_null(e);
  if (strlen(tr_err_msg(e)) > 1024) fail_msg("error message of %zu bytes", strlen(tr_err_msg(e)));
  tr_err_free(e);
  tr_verifier_set_free(set);
}

static void test_sample_claims_no_binding(void **s) {
  (void)s;
  tr_verified_list out = {0};
  assert_null(run("sample", "{\"svn\":\"1\"}", NULL, NULL, &out));
  assert_int_equal(out.len, 1);
  assert_string_equal(out.items[0].tee_class, "cpu");
  char *d = json_dumps(out.items[0].claims, JSON_SORT_KEYS | JSON_COMPACT);
  assert_string_equal(
      d, "{\"debug\":false,\"launch_digest\":\"abcde\",\"platform_version\":{\"major\":1,\"minor\":4},"
         "\"report_data\":\"\",\"svn\":\"1\"}");
  free(d);
  tr_verified_list_clear(&out);
}

static void test_sample_binding(void **s) {
  (void)s;
  const uint8_t want[] = {1, 2, 3, 4};
  tr_expected rd = {true, want, sizeof(want)};
  tr_expected id = {true, (const uint8_t *)"\xff\xfe", 2};
  tr_verified_list out = {0};
  /* AQIDBA== is base64 of 01 02 03 04 */
  assert_null(run("sample", "{\"svn\":\"7\",\"report_data\":\"AQIDBA==\"}", &rd, &id, &out));
  assert_string_equal(json_string_value(json_object_get(out.items[0].claims, "init_data")), "//4=");
  assert_string_equal(json_string_value(json_object_get(out.items[0].claims, "report_data")), "AQIDBA==");
  tr_verified_list_clear(&out);

  /* exact comparison: a zero-padded value does not match */
  const uint8_t padded[] = {1, 2, 3, 4, 0};
  tr_expected rd2 = {true, padded, sizeof(padded)};
  tr_err *e = run("sample", "{\"svn\":\"7\",\"report_data\":\"AQIDBA==\"}", &rd2, NULL, &out);
  assert_non_null(e);
  assert_int_equal(tr_err_code(e), TR_E_VERIFY);
  assert_non_null(strstr(tr_err_msg(e), "REPORT_DATA is different from that in Sample Quote"));
  tr_err_free(e);
  assert_int_equal(out.len, 0);

  /* an embedded NUL does not end the base64 text early (the whole string
   * is decoded, as upstream's base64 would) */
  e = run("sample", "{\"svn\":\"7\",\"report_data\":\"AQIDBA==\\u0000junk\"}", &rd, NULL, &out);
  assert_non_null(e);
  tr_err_free(e);
  assert_int_equal(out.len, 0);
  /* and the claims carry the evidence strings whole */
  assert_null(run("sample", "{\"svn\":\"1\\u0000x\"}", NULL, NULL, &out));
  assert_int_equal(json_string_length(json_object_get(out.items[0].claims, "svn")), 3);
  tr_verified_list_clear(&out);

  /* expected data but evidence without report_data: "" decodes to nothing */
  e = run("sample", "{\"svn\":\"7\"}", &rd, NULL, &out);
  assert_non_null(e);
  tr_err_free(e);
}

static void test_sample_bad_evidence(void **s) {
  (void)s;
  const uint8_t want[] = {1};
  tr_expected rd = {true, want, 1};
  const char *bad[] = {"[]", "{}", "{\"svn\":1}", "{\"svn\":\"1\",\"report_data\":5}", NULL};
  for (int i = 0; bad[i]; i++) {
    tr_verified_list out = {0};
    tr_err *e = run("sample", bad[i], NULL, NULL, &out);
    assert_non_null(e);
    assert_int_equal(tr_err_code(e), TR_E_INVALID);
    tr_err_free(e);
  }
  tr_verified_list out = {0};
  tr_err *e = run("sample", "{\"svn\":\"1\",\"report_data\":\"not base64!\"}", &rd, NULL, &out);
  assert_non_null(e);
  assert_non_null(strstr(tr_err_msg(e), "base64 decode report data for sample evidence"));
  tr_err_free(e);
}

static void test_sampledevice(void **s) {
  (void)s;
  const uint8_t want[] = {1, 2, 3, 4};
  tr_expected rd = {true, want, sizeof(want)};
  tr_expected id = {true, want, sizeof(want)};
  tr_verified_list out = {0};
  assert_null(run("sampledevice", "{\"svn\":\"2\",\"report_data\":\"AQIDBA==\"}", &rd, &id, &out));
  assert_int_equal(out.len, 1);
  assert_string_equal(out.items[0].tee_class, "gpu");
  char *d = json_dumps(out.items[0].claims, JSON_SORT_KEYS | JSON_COMPACT);
  assert_string_equal(d, "{\"report_data\":\"AQIDBA==\",\"svn\":\"2\"}");
  free(d);
  tr_verified_list_clear(&out);
}

static void test_regularize(void **s) {
  (void)s;
  uint8_t out[4];
  const uint8_t two[] = {9, 8};
  tr_expected e = {true, two, 2};
  tr_regularize(&e, out, 4);
  assert_memory_equal(out, "\x09\x08\x00\x00", 4);
  const uint8_t six[] = {1, 2, 3, 4, 5, 6};
  tr_expected f = {true, six, 6};
  tr_regularize(&f, out, 4);
  assert_memory_equal(out, "\x01\x02\x03\x04", 4);
  tr_expected none = {false, NULL, 0};
  tr_regularize(&none, out, 4);
  assert_memory_equal(out, "\0\0\0\0", 4);
}

static void test_list_push_rejects(void **s) {
  (void)s;
  tr_verified_list l = {0};
  tr_err *e = tr_verified_list_push(&l, json_object(), "this-class-name-is-far-too-long");
  assert_non_null(e);
  tr_err_free(e);
  e = tr_verified_list_push(&l, NULL, "cpu");
  assert_non_null(e);
  tr_err_free(e);
  assert_null(tr_verified_list_push(&l, json_object(), "cpu"));
  assert_null(tr_verified_list_push(&l, json_object(), "gpu"));
  assert_int_equal(l.len, 2);
  tr_verified_list_clear(&l);
  assert_int_equal(l.len, 0);
}

static void test_set_reuses_instance(void **s) {
  (void)s;
  tr_verifier_set *set = NULL;
  json_t *cfg = json_object();
  assert_null(tr_verifier_set_new(cfg, &set));
  json_decref(cfg);
  const tr_verifier_ops *a = NULL, *b = NULL;
  void *sa = (void *)1, *sb = (void *)2;
  assert_null(tr_verifier_set_get(set, "sample", &a, &sa));
  assert_null(tr_verifier_set_get(set, "sample", &b, &sb));
  assert_ptr_equal(a, b);
  assert_ptr_equal(sa, sb);
  tr_verifier_set_free(set);
  json_t *arr = json_array();
  tr_err *e = tr_verifier_set_new(arr, &set);
  assert_non_null(e);
  tr_err_free(e);
  json_decref(arr);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_lookup),
      cmocka_unit_test(test_unknown_tee),
      cmocka_unit_test(test_sample_claims_no_binding),
      cmocka_unit_test(test_sample_binding),
      cmocka_unit_test(test_sample_bad_evidence),
      cmocka_unit_test(test_sampledevice),
      cmocka_unit_test(test_regularize),
      cmocka_unit_test(test_list_push_rejects),
      cmocka_unit_test(test_set_reuses_instance),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
