/* Unit tests: TOML → JSON conversion, line map, error positions. */
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
#include "core/toml.h"

static json_t *parse_ok(const char *text, json_t **lines) {
  json_t *out = NULL;
  tr_err *e = tr_toml_parse(text, strlen(text), "t.toml", &out, lines);
  if (e) fail_msg("unexpected error: %s", tr_err_msg(e));
  assert_non_null(out);
  return out;
}

static void expect_error(const char *text, const char *needle) {
  json_t *out = NULL;
  tr_err *e = tr_toml_parse(text, strlen(text), "t.toml", &out, NULL);
  assert_non_null(e);
  assert_null(out);
  assert_int_equal(tr_err_code(e), TR_E_INVALID);
  if (!strstr(tr_err_msg(e), needle)) fail_msg("error `%s` lacks `%s`", tr_err_msg(e), needle);
  tr_err_free(e);
}

static void test_types(void **state) {
  (void)state;
  const char *doc = "s = \"a\\tb\\u00e9\"\n"
                    "lit = 'C:\\path'\n"
                    "i = 9223372036854775807\n"
                    "n = -9223372036854775808\n"
                    "hex = 0xff\n"
                    "f = 1.5\n"
                    "b = true\n"
                    "odt = 1979-05-27T07:32:00Z\n"
                    "odt2 = 1979-05-27T00:32:00.999999-07:00\n"
                    "ld = 1979-05-27\n"
                    "lt = 07:32:00\n"
                    "arr = [1, \"two\", [3]]\n"
                    "inline = { x = 1, y.z = 2 }\n"
                    "[t.u]\nv = 'w'\n"
                    "[[p]]\nname = 'a'\n[[p]]\nname = 'b'\n";
  json_t *j = parse_ok(doc, NULL);
  char *s = tr_json_dump_compact(j);
  assert_string_equal(
      s, "{\"arr\":[1,\"two\",[3]],\"b\":true,\"f\":1.5,\"hex\":255,\"i\":9223372036854775807,"
         "\"inline\":{\"x\":1,\"y\":{\"z\":2}},\"ld\":\"1979-05-27\",\"lit\":\"C:\\\\path\","
         "\"lt\":\"07:32:00\",\"n\":-9223372036854775808,\"odt\":\"1979-05-27T07:32:00Z\","
         "\"odt2\":\"1979-05-27T00:32:00.999999-07:00\",\"p\":[{\"name\":\"a\"},{\"name\":\"b\"}],"
         "\"s\":\"a\\tb\xc3\xa9\",\"t\":{\"u\":{\"v\":\"w\"}}}");
  free(s);
  json_decref(j);
}

static void test_lines(void **state) {
  (void)state;
  const char *doc = "# comment\n"
                    "top = 1\n"
                    "\n"
                    "[http_server]\n"
                    "sockets = [\"a\",\n"
                    "  \"b\"]\n"
                    "[storage_backend]\n"
                    "backends.local_json.file_dir_path = \"/x\"\n"
                    "[[plugins]]\n"
                    "name = \"resource\"\n"
                    "[[plugins]]\n"
                    "name = \"sample\"\n";
  json_t *lines = NULL;
  json_t *j = parse_ok(doc, &lines);
  assert_int_equal(tr_toml_line(lines, "top"), 2);
  assert_int_equal(tr_toml_line(lines, "http_server"), 4);
  assert_int_equal(tr_toml_line(lines, "http_server.sockets"), 5);
  assert_int_equal(tr_toml_line(lines, "http_server.sockets[1]"), 6);
  assert_int_equal(tr_toml_line(lines, "storage_backend.backends.local_json.file_dir_path"), 8);
  assert_int_equal(tr_toml_line(lines, "plugins[0].name"), 10);
  assert_int_equal(tr_toml_line(lines, "plugins[1]"), 11);
  assert_int_equal(tr_toml_line(lines, "plugins[1].name"), 12);
  assert_int_equal(tr_toml_line(lines, "nope"), 0);
  assert_int_equal(tr_toml_line(NULL, "top"), 0);
  json_decref(lines);
  json_decref(j);
}

static void test_errors(void **state) {
  (void)state;
  expect_error("a = 1\nb = \n", "t.toml:2:");
  expect_error("a = 1\na = 2\n", "t.toml:2:");            /* redefinition */
  expect_error("i = 9223372036854775808\n", "t.toml:1:"); /* int64 overflow */
  expect_error("x = inf\n", "inf or nan");                /* not representable */
  expect_error("x = \"a\\u0000b\"\n", "NUL");             /* NUL in a string */
  expect_error("[t]\nk = 1\n[t]\n", "t.toml:3:");         /* table defined twice */
  /* NUL in a key: jansson keys are C strings, so "a\0x" would silently become
   * "a" and two distinct TOML keys ("a", "a\0x") would collide (last wins). */
  expect_error("\"a\\u0000x\" = 1\n", "NUL");
  expect_error("a = 1\n\"a\\u0000x\" = 2\n", "NUL");
  expect_error("[\"t\\u0000\"]\nk = 1\n", "NUL");
  expect_error("k = \"unterminated\n", "t.toml:1:");
  /* Trips an internal assertion in toml++ 3.3 (found by fuzz_toml): must be
   * an ordinary error in every build type, never an abort or UB. */
  expect_error("[}", "t.toml");
  expect_error("[ }\n", "t.toml");
  /* A non-ASCII letter where whitespace may appear reached __builtin_unreachable
   * in toml++ 3.3's whitespace table (found by fuzz_toml). */
  expect_error("a = 1\xd0\xa7\n", "t.toml:1:");
  expect_error("\xc2\xa1 = 1\n", "t.toml:1:");
  json_t *ws = parse_ok("a = \"\xd0\xa7\" # \xd0\xa7 comment\n", NULL); /* fine inside strings/comments */
  json_decref(ws);
  /* Garbage bytes */
  const char bad[] = {'a', ' ', '=', ' ', '"', (char)0xff, '"', '\n', 0};
  expect_error(bad, "t.toml:1:");
  /* Empty document is an empty table. */
  json_t *j = parse_ok("", NULL);
  assert_true(json_is_object(j));
  assert_int_equal(json_object_size(j), 0);
  json_decref(j);
  /* NULL file name. */
  json_t *out = NULL;
  tr_err *e = tr_toml_parse("=", 1, NULL, &out, NULL);
  assert_non_null(e);
  assert_non_null(strstr(tr_err_msg(e), "toml:1:"));
  tr_err_free(e);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_types),
      cmocka_unit_test(test_lines),
      cmocka_unit_test(test_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
