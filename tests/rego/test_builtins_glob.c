/* test_builtins_glob.c — glob.match / glob.quote_meta and semver.*. */
#include "test_builtins_helpers.h"

static void test_glob(void **state) {
  (void)state;
  EXPECT("glob.match", "[\"*.github.com\", [], \"api.github.com\"]", "true");
  EXPECT("glob.match", "[\"*.github.com\", [], \"api.cdn.github.com\"]", "false");
  EXPECT("glob.match", "[\"*hub.com\", null, \"api.cdn.github.com\"]", "true");
  EXPECT("glob.match", "[\"*:github:com\", [\":\"], \"api:github:com\"]", "true");
  EXPECT("glob.match", "[\"api.**.com\", [], \"api.cdn.github.com\"]", "true");
  EXPECT("glob.match", "[\"api.**.com\", [], \"api.github.com\"]", "true");
  EXPECT("glob.match", "[\"?at\", [], \"cat\"]", "true");
  EXPECT("glob.match", "[\"?at\", [], \"at\"]", "false");
  EXPECT("glob.match", "[\"?at\", [], \".at\"]", "false");
  EXPECT("glob.match", "[\"[abc]at\", [], \"bat\"]", "true");
  EXPECT("glob.match", "[\"[!a-c]at\", [], \"dat\"]", "true");
  EXPECT("glob.match", "[\"[!a-c]at\", [], \"bat\"]", "false");
  EXPECT("glob.match", "[\"{cat,bat,[fr]at}\", [], \"rat\"]", "true");
  EXPECT("glob.match", "[\"{cat,bat,[fr]at}\", [], \"at\"]", "false");
  EXPECT("glob.match", "[\"a\\\\*b\", [], \"a*b\"]", "true");
  EXPECT("glob.match", "[\"a\\\\*b\", [], \"axb\"]", "false");
  EXPECT("glob.match", "[\"(a|b)+$\", [], \"(a|b)+$\"]", "true"); /* regex metacharacters are literal */
  EXPECT("glob.match", "[\"\u00e9*\", [\"\u00e9\"], \"\u00e9x\"]", "true");
  EXPECT("glob.match", "[\"[a\", [], \"a\"]", "builtin error: glob:");
  EXPECT("glob.match", "[\"{a,b\", [], \"a\"]", "builtin error: glob:");
  EXPECT("glob.match", "[\"*\", 1, \"a\"]",
         "type error: operand 2 must be one of {array, null} but got number");
  EXPECT("glob.match", "[\"*\", [\"ab\"], \"a\"]", "type error: operand 2 must be array of runes");
  EXPECT("glob.quote_meta", "[\"*.github.com\"]", "\"\\\\*.github.com\"");
  EXPECT("glob.quote_meta", "[\"[x]{y}?\\\\\"]", "\"\\\\[x\\\\]\\\\{y\\\\}\\\\?\\\\\\\\\"");
}

static void test_semver(void **state) {
  (void)state;
  EXPECT("semver.is_valid", "[\"1.0.0\"]", "true");
  EXPECT("semver.is_valid", "[\"1.0.0-rc.1+build.5\"]", "true");
  EXPECT("semver.is_valid", "[\"1.0\"]", "false");
  EXPECT("semver.is_valid", "[\"1.0.0-\"]", "true"); /* go-semver: an empty pre-release is allowed */
  EXPECT("semver.is_valid", "[\"1.0.0-a..b\"]", "false");
  EXPECT("semver.is_valid", "[\"v1.0.0\"]", "false");
  EXPECT("semver.is_valid", "[1]", "false");
  EXPECT("semver.compare", "[\"1.0.0\", \"1.0.0\"]", "0");
  EXPECT("semver.compare", "[\"1.0.0\", \"1.0.1\"]", "-1");
  EXPECT("semver.compare", "[\"2.0.0\", \"1.10.0\"]", "1");
  EXPECT("semver.compare", "[\"1.0.0-alpha\", \"1.0.0\"]", "-1");
  EXPECT("semver.compare", "[\"1.0.0-alpha\", \"1.0.0-alpha.1\"]", "-1");
  EXPECT("semver.compare", "[\"1.0.0-alpha.1\", \"1.0.0-alpha.beta\"]", "-1");
  EXPECT("semver.compare", "[\"1.0.0-beta.2\", \"1.0.0-beta.11\"]", "-1");
  EXPECT("semver.compare", "[\"1.0.0-rc.1\", \"1.0.0-beta.11\"]", "1");
  EXPECT("semver.compare", "[\"1.0.0+a\", \"1.0.0+b\"]", "0");
  EXPECT("semver.compare", "[\"1.0\", \"1.0.0\"]",
         "builtin error: operand 1: string \"1.0\" is not a valid SemVer");
  EXPECT("semver.compare", "[\"1.0.0\", 1]", "type error: operand 2 must be string but got number");
  TB_DONE();
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_glob), cmocka_unit_test(test_semver)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
