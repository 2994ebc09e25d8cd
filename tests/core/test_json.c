/* Unit tests: strict JSON parsing and typed getters (core/json.h). */
/* cmocka.h needs these before it. */
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on
#include <stdlib.h>
#include <string.h>

#include "core/json.h"

static void expect_reject(const char *buf, size_t len, const char *needle) {
  json_t *v = NULL;
  tr_err *e = tr_json_parse(buf, len, &v);
  if (!e) fail_msg("accepted: %.*s", (int)len, buf);
  assert_int_equal(tr_err_code(e), TR_E_INVALID);
  if (needle && !strstr(tr_err_msg(e), needle)) fail_msg("error `%s` lacks `%s`", tr_err_msg(e), needle);
  tr_err_free(e);
}

#define REJECT(lit, needle) expect_reject(lit, sizeof(lit) - 1, needle)

static void test_strict_parse(void **state) {
  (void)state;
  REJECT("{\"a\":1,\"a\":2}", "duplicate");
  REJECT("{\"x\":{\"a\":1,\"a\":1}}", "duplicate");
  REJECT("{\"a\":1} x", "line 1");
  REJECT("{\"a\":1}{}", NULL);
  REJECT("[1,]", NULL);
  REJECT("{\"a\":1,}", NULL);
  REJECT("{a:1}", NULL);
  REJECT("'a'", NULL);
  REJECT("[NaN]", NULL);
  REJECT("[Infinity]", NULL);
  REJECT("[01]", NULL);
  REJECT("[1.]", NULL);
  REJECT("[\"\\u0000\"]", "NUL");
  REJECT("[\"a\0b\"]", NULL);      /* raw NUL inside a string */
  REJECT("[1]\0", NULL);           /* NUL after the value */
  REJECT("[\"\xff\"]", NULL);      /* invalid UTF-8 */
  REJECT("[\"\xc0\xaf\"]", NULL);  /* overlong */
  REJECT("[\"\\ud800\"]", NULL);   /* lone surrogate */
  REJECT("[\"tab\there\"]", NULL); /* raw control character */
  REJECT("[18446744073709551616]", "too big");
  REJECT("", NULL);
  REJECT("{\"a\":\n  tru}", "line 2");
  /* Accepted: any top-level value, surrounding whitespace, big but valid numbers. */
  static const char *const ok[] = {"1",
                                   "\"s\"",
                                   "null",
                                   " [ ] \n",
                                   "{\"a\":{\"b\":[1,2.5,-0,1e400]}}",
                                   "[-9223372036854775808, 9223372036854775807]"};
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
    json_t *v = NULL;
    tr_err *e = tr_json_parse(ok[i], strlen(ok[i]), &v);
    if (e && i != 4) fail_msg("%s: %s", ok[i], tr_err_msg(e));
    if (e) { /* 1e400 overflows a double: jansson rejects it as a real overflow */
      assert_non_null(strstr(tr_err_msg(e), "overflow"));
      tr_err_free(e);
      continue;
    }
    json_decref(v);
  }
  /* Deep nesting is bounded by jansson (2048 levels) — an error, not a crash. */
  size_t n = 100000;
  char *deep = malloc(n);
  memset(deep, '[', n);
  expect_reject(deep, n, NULL);
  free(deep);
}

static void expect_msg(tr_err *e, const char *want) {
  assert_non_null(e);
  assert_string_equal(tr_err_msg(e), want);
  assert_int_equal(tr_err_code(e), TR_E_INVALID);
  tr_err_free(e);
}

static void test_getters(void **state) {
  (void)state;
  const char *doc =
      "{\"nonce\":5,\"tee-pubkey\":{\"kty\":\"EC\",\"x\":null},\"flag\":true,\"n\":-3,\"r\":1.5,"
      "\"list\":[1],\"s\":\"str\"}";
  json_t *root;
  assert_null(tr_json_parse(doc, strlen(doc), &root));
  const char *s = NULL;
  expect_msg(tr_json_get_string(root, "runtime-data", "nonce", &s),
             "field `runtime-data.nonce`: expected string, got integer");
  expect_msg(tr_json_get_string(root, NULL, "missing", &s), "field `missing`: missing");
  expect_msg(tr_json_get_string(root, "rd", "tee-pubkey.x", &s), "field `rd.tee-pubkey.x`: missing");
  expect_msg(tr_json_get_int(root, "", "r", &(int64_t){0}), "field `r`: expected integer, got number");
  expect_msg(tr_json_get_bool(root, NULL, "s", &(bool){0}), "field `s`: expected boolean, got string");
  expect_msg(tr_json_get_object(root, NULL, "list", &(json_t *){0}),
             "field `list`: expected object, got array");
  expect_msg(tr_json_get_array(root, NULL, "tee-pubkey", &(json_t *){0}),
             "field `tee-pubkey`: expected array, got object");
  expect_msg(tr_json_opt_string(root, "x", "flag", &s), "field `x.flag`: expected string, got boolean");

  assert_null(tr_json_get_string(root, NULL, "tee-pubkey.kty", &s));
  assert_string_equal(s, "EC");
  int64_t i = 0;
  assert_null(tr_json_get_int(root, NULL, "n", &i));
  assert_int_equal(i, -3);
  bool b = false;
  assert_null(tr_json_get_bool(root, NULL, "flag", &b));
  assert_true(b);
  json_t *o = NULL;
  assert_null(tr_json_get_object(root, NULL, "tee-pubkey", &o));
  assert_true(json_is_object(o));
  json_t *a = NULL;
  assert_null(tr_json_get_array(root, NULL, "list", &a));
  assert_int_equal(json_array_size(a), 1);
  /* Optional: missing or null leaves the output untouched. */
  s = "default";
  assert_null(tr_json_opt_string(root, NULL, "absent", &s));
  assert_null(tr_json_opt_string(root, NULL, "tee-pubkey.x", &s));
  assert_string_equal(s, "default");
  i = 7;
  assert_null(tr_json_opt_int(root, NULL, "absent.deeper", &i));
  assert_int_equal(i, 7);
  /* Path through a non-object is "missing". */
  assert_null(tr_json_path(root, "s.x"));
  assert_ptr_equal(tr_json_path(root, ""), root);
  assert_string_equal(tr_json_type_name(NULL), "nothing");
  json_decref(root);
}

static void test_dumps(void **state) {
  (void)state;
  const char *doc = "{\"b\":1,\"a\":[true,null],\"c\":{\"z\":\"\xc3\xa9\",\"y\":2.5}}";
  json_t *root;
  assert_null(tr_json_parse(doc, strlen(doc), &root));
  char *c = tr_json_dump_compact(root);
  assert_string_equal(c, doc);
  char *s = tr_json_dump_sorted(root);
  assert_string_equal(s, "{\"a\":[true,null],\"b\":1,\"c\":{\"y\":2.5,\"z\":\"\xc3\xa9\"}}");
  char *p = tr_json_dump_pretty(root);
  assert_non_null(strstr(p, "\n  \"b\": 1"));
  free(c);
  free(s);
  free(p);
  json_t *str = json_string("x");
  c = tr_json_dump_compact(str);
  assert_string_equal(c, "\"x\"");
  free(c);
  json_decref(str);
  json_decref(root);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_strict_parse),
      cmocka_unit_test(test_getters),
      cmocka_unit_test(test_dumps),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
