/* Unit tests: RFC 8785 canonicalisation — the RFC's own examples (Appendix B
 * numbers, §3.2.3 sorting, §3.2.4 whole transformation), the KBS
 * runtime-data example (kbs.md §2.5) and the AS runtime-data digest vector. */
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

#include "core/encoding.h"
#include "core/jcs.h"
#include "core/json.h"

static double from_bits(uint64_t bits) {
  double d;
  memcpy(&d, &bits, sizeof d);
  return d;
}

static void test_rfc8785_numbers(void **state) {
  (void)state;
  static const struct {
    uint64_t bits;
    const char *want;
  } cases[] = {
      {0x0000000000000000ULL, "0"},
      {0x8000000000000000ULL, "0"},
      {0x0000000000000001ULL, "5e-324"},
      {0x8000000000000001ULL, "-5e-324"},
      {0x7fefffffffffffffULL, "1.7976931348623157e+308"},
      {0xffefffffffffffffULL, "-1.7976931348623157e+308"},
      {0x4340000000000000ULL, "9007199254740992"},
      {0xc340000000000000ULL, "-9007199254740992"},
      {0x4430000000000000ULL, "295147905179352830000"},
      {0x44b52d02c7e14af5ULL, "9.999999999999997e+22"},
      {0x44b52d02c7e14af6ULL, "1e+23"},
      {0x44b52d02c7e14af7ULL, "1.0000000000000001e+23"},
      {0x444b1ae4d6e2ef4eULL, "999999999999999700000"},
      {0x444b1ae4d6e2ef4fULL, "999999999999999900000"},
      {0x444b1ae4d6e2ef50ULL, "1e+21"},
      {0x3eb0c6f7a0b5ed8cULL, "9.999999999999997e-7"},
      {0x3eb0c6f7a0b5ed8dULL, "0.000001"},
      {0x41b3de4355555553ULL, "333333333.3333332"},
      {0x41b3de4355555554ULL, "333333333.33333325"},
      {0x41b3de4355555555ULL, "333333333.3333333"},
      {0x41b3de4355555556ULL, "333333333.3333334"},
      {0x41b3de4355555557ULL, "333333333.33333343"},
      {0xbecbf647612f3696ULL, "-0.0000033333333333333333"},
      {0x43143ff3c1cb0959ULL, "1424953923781206.2"}, /* round to even */
      /* More ES layout cases. */
      {0x3e7ad7f29abcaf48ULL, "1e-7"},
      {0x3ff0000000000000ULL, "1"},
      {0x3ff8000000000000ULL, "1.5"},
      {0x3fb999999999999aULL, "0.1"},
      {0x4059000000000000ULL, "100"},
  };
  char buf[40];
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    tr_err *e = tr_jcs_number(from_bits(cases[i].bits), buf, sizeof buf);
    if (e) fail_msg("%016llx: %s", (unsigned long long)cases[i].bits, tr_err_msg(e));
    if (strcmp(buf, cases[i].want))
      fail_msg("%016llx: got %s, want %s", (unsigned long long)cases[i].bits, buf, cases[i].want);
  }
  /* NaN and Infinity are errors. */
  tr_err *e = tr_jcs_number(from_bits(0x7fffffffffffffffULL), buf, sizeof buf);
  assert_non_null(e);
  assert_non_null(strstr(tr_err_msg(e), "NaN"));
  tr_err_free(e);
  e = tr_jcs_number(from_bits(0x7ff0000000000000ULL), buf, sizeof buf);
  assert_non_null(e);
  assert_non_null(strstr(tr_err_msg(e), "Infinity"));
  tr_err_free(e);
}

static void expect_jcs(const char *json_in, const char *want) {
  json_t *v;
  tr_err *e = tr_json_parse(json_in, strlen(json_in), &v);
  if (e) fail_msg("parse: %s", tr_err_msg(e));
  char *out;
  size_t len;
  e = tr_jcs(v, &out, &len);
  if (e) fail_msg("jcs: %s", tr_err_msg(e));
  assert_int_equal(len, strlen(want));
  assert_string_equal(out, want);
  free(out);
  json_decref(v);
}

/* RFC 8785 §3.2.3: sorting by UTF-16 code units. */
static void test_rfc8785_sorting(void **state) {
  (void)state;
  expect_jcs(
      "{\n"
      "  \"\\u20ac\": \"Euro Sign\",\n"
      "  \"\\r\": \"Carriage Return\",\n"
      "  \"\\ufb33\": \"Hebrew Letter Dalet With Dagesh\",\n"
      "  \"1\": \"One\",\n"
      "  \"\\ud83d\\ude00\": \"Emoji: Grinning Face\",\n"
      "  \"\\u0080\": \"Control\",\n"
      "  \"\\u00f6\": \"Latin Small Letter O With Diaeresis\"\n"
      "}",
      "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\xc2\x80\":\"Control\","
      "\"\xc3\xb6\":\"Latin Small Letter O With Diaeresis\",\"\xe2\x82\xac\":\"Euro Sign\","
      "\"\xf0\x9f\x98\x80\":\"Emoji: Grinning Face\",\"\xef\xac\xb3\":\"Hebrew Letter Dalet With Dagesh\"}");
}

/* RFC 8785 §3.2.4: the whole transformation. */
static void test_rfc8785_example(void **state) {
  (void)state;
  expect_jcs("{\n"
             "  \"numbers\": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],\n"
             "  \"string\": \"\\u20ac$\\u000F\\u000aA'\\u0042\\u0022\\u005c\\\\\\\"\\/\",\n"
             "  \"literals\": [null, true, false]\n"
             "}",
             "{\"literals\":[null,true,false],\"numbers\":[333333333.3333333,1e+30,4.5,0.002,1e-27],"
             "\"string\":\"\xe2\x82\xac$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}");
}

static void test_strings_and_integers(void **state) {
  (void)state;
  /* Every control escape, DEL / U+2028 / '/' raw, NUL as \u0000. */
  expect_jcs("[\"\\b\\f\\n\\r\\t\\u0001\\u001f\\u007f\\u2028/x\"]",
             "[\"\\b\\f\\n\\r\\t\\u0001\\u001f\x7f\xe2\x80\xa8/x\"]");
  /* NUL inside a jansson string (the strict parser never produces one). */
  json_t *nul = json_stringn("a\0b", 3);
  char *o;
  assert_null(tr_jcs(nul, &o, NULL));
  assert_string_equal(o, "\"a\\u0000b\"");
  free(o);
  json_decref(nul);
  expect_jcs("[9007199254740992, -9007199254740992, 9007199254740993, 9223372036854775807, 0, -0, 1.0, -0.0]",
             "[9007199254740992,-9007199254740992,9007199254740992,9223372036854776000,0,0,1,0]");
  expect_jcs("{}", "{}");
  expect_jcs("[]", "[]");
  expect_jcs("{\"a\":{\"c\":[],\"b\":{}}}", "{\"a\":{\"b\":{},\"c\":[]}}");
  /* Key that is a prefix of another sorts first. */
  expect_jcs("{\"ab\":1,\"a\":2}", "{\"a\":2,\"ab\":1}");
  /* Beyond int64: rejected by the strict parser, so never canonicalised. */
  json_t *v;
  tr_err *e = tr_json_parse("[18446744073709551616]", 22, &v);
  assert_non_null(e);
  tr_err_free(e);
}

/* kbs.md §2.5: the runtime-data object of an EC key. */
static void test_kbs_runtime_data(void **state) {
  (void)state;
  expect_jcs(
      "{\n  \"tee-pubkey\": {\"kty\": \"EC\", \"crv\": \"P-256\", \"alg\": \"ECDH-ES+A256KW\",\n"
      "    \"x\": \"<x>\", \"y\": \"<y>\"},\n  \"nonce\": \"<n>\",\n  \"additional-evidence\": \"\"\n}",
      "{\"additional-evidence\":\"\",\"nonce\":\"<n>\",\"tee-pubkey\":{\"alg\":\"ECDH-ES+A256KW\","
      "\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"<x>\",\"y\":\"<y>\"}}");
}

/* AS vector: sha384(JCS({"b":1,"a":"test","c":{"d":"e"}})). */
static void test_as_digest_vector(void **state) {
  (void)state;
  const char *in = "{\"b\":1,\"a\":\"test\",\"c\":{\"d\":\"e\"}}";
  json_t *v;
  assert_null(tr_json_parse(in, strlen(in), &v));
  uint8_t d[TR_DIGEST_MAX];
  size_t n;
  assert_null(tr_jcs_digest(v, TR_SHA384, d, &n));
  assert_int_equal(n, 48);
  char *hex = tr_hex_encode(d, n);
  assert_string_equal(
      hex,
      "e71ce8e70d814ba6639c3612ebee0ff1f76f650f8dbb5e47157e0f3f525cd22c4597480a186427c813ca941da78870c3");
  free(hex);
  json_decref(v);
}

static void test_depth_limit(void **state) {
  (void)state;
  json_t *root = json_array(), *cur = root;
  for (int i = 0; i < TR_JCS_MAX_DEPTH + 5; i++) {
    json_t *next = json_array();
    json_array_append_new(cur, next);
    cur = next;
  }
  char *out;
  tr_err *e = tr_jcs(root, &out, NULL);
  assert_non_null(e);
  assert_int_equal(tr_err_code(e), TR_E_LIMIT);
  tr_err_free(e);
  json_decref(root);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_rfc8785_numbers),  cmocka_unit_test(test_rfc8785_sorting),
      cmocka_unit_test(test_rfc8785_example),  cmocka_unit_test(test_strings_and_integers),
      cmocka_unit_test(test_kbs_runtime_data), cmocka_unit_test(test_as_digest_vector),
      cmocka_unit_test(test_depth_limit),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
