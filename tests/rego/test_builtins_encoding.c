/* test_builtins_encoding.c — base64/base64url/hex/urlquery (Go rules) and
 * json.marshal/unmarshal/is_valid. */
#include "test_builtins_helpers.h"

static void test_base64(void **state) {
  (void)state;
  EXPECT("base64.encode", "[\"hello\"]", "\"aGVsbG8=\"");
  EXPECT("base64.encode", "[\"subjects?_d\"]", "\"c3ViamVjdHM/X2Q=\"");
  EXPECT("base64.decode", "[\"aGVsbG8=\"]", "\"hello\"");
  EXPECT("base64.decode", "[\"aGVs\\nbG8=\\r\\n\"]", "\"hello\""); /* CR/LF ignored */
  EXPECT("base64.decode", "[\"aGVsbG9=\"]", "\"hello\"");          /* non-zero trailing bits tolerated */
  EXPECT("base64.decode", "[\"aGVsbG8\"]", "builtin error: illegal base64 data at input byte 4");
  EXPECT("base64.decode", "[\"aGVs!G8=\"]", "builtin error: illegal base64 data at input byte 4");
  EXPECT("base64.decode", "[\"aGVsbG8=x\"]", "builtin error: illegal base64 data at input byte 8");
  EXPECT("base64.is_valid", "[\"aGVsbG8=\"]", "true");
  EXPECT("base64.is_valid", "[\"{'not':'base64'}\"]", "false");
  EXPECT("base64.is_valid", "[1]", "false");
  EXPECT("base64url.encode", "[\"subjects?_d\"]", "\"c3ViamVjdHM_X2Q=\"");
  EXPECT("base64url.encode_no_pad", "[\"subjects?_d\"]", "\"c3ViamVjdHM_X2Q\"");
  EXPECT("base64url.decode", "[\"c3ViamVjdHM_X2Q\"]", "\"subjects?_d\"");
  EXPECT("base64url.decode", "[\"c3ViamVjdHM_X2Q=\"]", "\"subjects?_d\"");
  EXPECT("base64url.decode", "[\"a\"]", "builtin error: illegal base64url string: a");
  EXPECT("hex.encode", "[\"hi\\u00ff\"]", "\"6869c3bf\"");
  EXPECT("hex.decode", "[\"6869\"]", "\"hi\"");
  EXPECT("hex.decode", "[\"6g\"]", "builtin error: encoding/hex: invalid byte: U+0067 'g'");
  EXPECT("hex.decode", "[\"686\"]", "builtin error: encoding/hex: odd length hex string");
}

static void test_urlquery(void **state) {
  (void)state;
  EXPECT("urlquery.encode", "[\"a b&c=d/\\u00e9~\"]", "\"a+b%26c%3Dd%2F%C3%A9~\"");
  EXPECT("urlquery.decode", "[\"a+b%26c%3dd\"]", "\"a b&c=d\"");
  EXPECT("urlquery.decode", "[\"a%zz\"]", "builtin error: invalid URL escape \"%zz\"");
  EXPECT("urlquery.decode", "[\"a%4\"]", "builtin error: invalid URL escape \"%4\"");
  EXPECT("urlquery.encode_object", "[{\"b\": [\"1\", \"2\"], \"a\": \"x y\", \"c\": {\"$set\": [\"z\"]}}]",
         "\"a=x+y&b=1&b=2&c=z\"");
  EXPECT("urlquery.encode_object", "[{\"a\": 1}]",
         "type error: operand 1 values must be string, array[string], or set[string]");
  EXPECT("urlquery.decode_object", "[\"a=1&b=2&a=3&c&&d=%20\"]",
         "{\"a\": [\"1\", \"3\"], \"b\": [\"2\"], \"c\": [\"\"], \"d\": [\" \"]}");
  EXPECT("urlquery.decode_object", "[\"a=1;b=2\"]", "builtin error: invalid semicolon separator in query");
}

static void test_json(void **state) {
  (void)state;
  EXPECT("json.marshal", "[[{\"foo\": {\"$set\": [3, 1, 2]}}]]", "\"[{\\\"foo\\\":[1,2,3]}]\"");
  EXPECT("json.marshal", "[\"<a&b>\\u2028\"]", "\"\\\"\\\\u003ca\\\\u0026b\\\\u003e\\\\u2028\\\"\"");
  EXPECT("json.marshal", "[{\"b\": 1.5, \"a\": null}]", "\"{\\\"a\\\":null,\\\"b\\\":1.5}\"");
  EXPECT("json.marshal_with_options", "[[1234567890, 2000000], {\"indent\": \"  \"}]",
         "\"[\\n  1234567890,\\n  2000000\\n]\"");
  EXPECT("json.marshal_with_options", "[[1, 2], {}]", "\"[1,2]\"");
  EXPECT("json.marshal_with_options", "[{\"foo\": \"bar\", \"bar\": \"baz\"}, {\"prefix\": \"JSON => \"}]",
         "\"JSON => {\\nJSON => \\t\\\"bar\\\": \\\"baz\\\",\\nJSON => \\t\\\"foo\\\": \\\"bar\\\"\\nJSON => "
         "}\"");
  EXPECT("json.marshal_with_options", "[[], {\"indent\": \"    \", \"prefix\": \"---\"}]", "\"---[]\"");
  EXPECT("json.marshal_with_options", "[[[[]]], {\"indent\": \" \", \"pretty\": false}]", "\"[[[]]]\"");
  EXPECT("json.marshal_with_options",
         "[[], {\"indent\": \"    \", \"include_winning_lottery_numbers\": true}]",
         "type error: operand 2 object contained unknown key \"include_winning_lottery_numbers\"");
  EXPECT("json.unmarshal", "[\"[{\\\"foo\\\":[1,2,3]}]\"]", "[{\"foo\": [1, 2, 3]}]");
  EXPECT("json.unmarshal", "[1]", "type error: operand 1 must be string but got number");
  EXPECT("json.unmarshal", "[\"{\"]", "builtin error:");
  EXPECT("json.is_valid", "[\"plainstring\"]", "false");
  EXPECT("json.is_valid", "[\"{\"]", "false");
  EXPECT("json.is_valid", "[\"{\\\"json\\\": \\\"ok\\\"}\"]", "true");
  EXPECT("json.is_valid", "[7]", "false");
  TB_DONE();
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_base64),
      cmocka_unit_test(test_urlquery),
      cmocka_unit_test(test_json),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
