/* test_builtins_objects.c — object.* and json.filter/json.remove. */
#include "test_builtins_helpers.h"

static void test_get_keys(void **state) {
  (void)state;
  EXPECT("object.get", "[{\"a\": \"b\"}, \"a\", \"c\"]", "\"b\"");
  EXPECT("object.get", "[{\"a\": \"b\"}, \"c\", \"c\"]", "\"c\"");
  EXPECT("object.get", "[{\"a\": 1}, [], 2]", "{\"a\": 1}");
  EXPECT("object.get", "[{\"a\": {\"b\": {\"c\": 1}}}, [\"a\", \"b\", \"c\"], 2]", "1");
  EXPECT("object.get", "[{\"a\": {\"b\": {\"c\": 1}}}, [\"a\", \"b\", \"a\"], 2]", "2");
  EXPECT("object.get", "[{\"a\": {\"b\": [1, 2, 3]}}, [\"a\", \"b\", \"a\"], 2]", "2");
  EXPECT("object.get", "[{\"a\": {\"b\": [{\"c\": 1}]}}, [\"a\", \"b\", 0, \"c\"], 2]", "1");
  EXPECT("object.get", "[{\"a\": {\"$set\": [\"x\"]}}, [\"a\", \"x\"], 2]", "\"x\"");
  EXPECT("object.get", "[[1], \"a\", 2]", "type error: operand 1 must be object but got array");
  EXPECT("object.keys", "[{\"a\": 1, \"b\": 2}]", "[\"a\", \"b\"]");
  EXPECT("object.keys", "[\"a\"]", "type error: operand 1 must be object but got string");
}

static void test_remove_filter(void **state) {
  (void)state;
  EXPECT("object.remove", "[{\"a\": 1, \"b\": 2, \"c\": 3}, [\"a\", \"x\"]]", "{\"b\": 2, \"c\": 3}");
  EXPECT("object.remove", "[{\"a\": 1, \"b\": 2}, {\"$set\": [\"b\"]}]", "{\"a\": 1}");
  EXPECT("object.remove", "[{\"a\": 1, \"b\": 2}, {\"b\": 0}]", "{\"a\": 1}");
  EXPECT("object.remove", "[{\"a\": 1}, 1]",
         "type error: operand 2 must be one of {object, set, array} but got number");
  EXPECT("object.remove", "[null, []]", "type error: operand 1 must be object but got null");
  EXPECT("object.filter", "[{\"a\": {\"x\": 1}, \"b\": 2, \"c\": 3}, [\"a\", \"c\"]]",
         "{\"a\": {\"x\": 1}, \"c\": 3}");
  EXPECT("object.filter", "[{\"a\": 1}, \"a\"]",
         "type error: operand 2 must be one of {object, set, array} but got string");
  EXPECT("json.filter", "[{\"a\": {\"b\": 1, \"c\": 2}, \"d\": 3}, [\"a/b\", \"d\"]]",
         "{\"a\": {\"b\": 1}, \"d\": 3}");
  EXPECT("json.filter", "[{\"a\": [{\"b\": 1, \"c\": 2}, 7, 8]}, [\"/a/0/b\", \"a/2\"]]",
         "{\"a\": [{\"b\": 1}, 8]}");
  EXPECT("json.filter", "[{\"a/b\": 1, \"a~b\": 2, \"c\": 3}, [\"a~1b\", \"a~0b\"]]",
         "{\"a/b\": 1, \"a~b\": 2}");
  EXPECT("json.filter", "[{\"a\": {\"b\": 1, \"c\": 2}}, [[\"a\", \"c\"], \"a\"]]",
         "{\"a\": {\"b\": 1, \"c\": 2}}");
  EXPECT("json.remove", "[{\"a\": {\"b\": 1, \"c\": 2}, \"d\": 3}, [\"a/b\", \"d\"]]", "{\"a\": {\"c\": 2}}");
  EXPECT("json.remove", "[{\"a\": [1, 2, 3]}, {\"$set\": [\"a/1\"]}]", "{\"a\": [1, 3]}");
  EXPECT("json.remove", "[{\"a\": {\"$set\": [\"x\", \"y\"]}}, [[\"a\", \"x\"]]]", "{\"a\": [\"y\"]}");
  EXPECT("json.remove", "[true, []]", "type error: operand 1 must be object but got boolean");
  EXPECT("json.remove", "[{}, 1]", "type error: operand 2 must be one of {set, array} but got number");
  EXPECT("json.remove", "[{}, [1]]",
         "type error: operand 2 must be one of {set, array} containing string paths or array of path "
         "segments but got number");
}

static void test_json_patch(void **state) {
  (void)state;
  EXPECT("json.patch", "[{\"foo\": \"bar\"}, [{\"op\": \"add\", \"path\": \"/baz\", \"value\": \"qux\"}]]",
         "{\"baz\": \"qux\", \"foo\": \"bar\"}");
  EXPECT("json.patch",
         "[{\"foo\": [\"bar\", \"baz\"]}, [{\"op\": \"add\", \"path\": \"/foo/1\", \"value\": \"qux\"}]]",
         "{\"foo\": [\"bar\", \"qux\", \"baz\"]}");
  EXPECT("json.patch", "[{\"foo\": [1]}, [{\"op\": \"add\", \"path\": \"/foo/-\", \"value\": 2}]]",
         "{\"foo\": [1, 2]}");
  EXPECT("json.patch",
         "[{\"foo\": [\"all\", \"grass\", \"cows\", \"eat\"]}, [{\"op\": \"move\", \"from\": \"/foo/1\", "
         "\"path\": \"/foo/3\"}]]",
         "{\"foo\": [\"all\", \"cows\", \"eat\", \"grass\"]}");
  EXPECT("json.patch",
         "[{\"a\": {\"b\": 1}}, [{\"op\": \"copy\", \"from\": \"/a\", \"path\": \"/c\"}, {\"op\": "
         "\"replace\", \"path\": \"/a/b\", \"value\": 2}]]",
         "{\"a\": {\"b\": 2}, \"c\": {\"b\": 1}}");
  EXPECT("json.patch", "[{\"baz\": \"qux\"}, [{\"op\": \"test\", \"path\": \"/baz\", \"value\": \"bar\"}]]",
         "undefined");
  EXPECT("json.patch", "[{\"q\": {}}, [{\"op\": \"add\", \"path\": \"/a/b\", \"value\": 1}]]", "undefined");
  EXPECT("json.patch", "[{\"foo\": [1]}, [{\"op\": \"add\", \"path\": \"/foo/01\", \"value\": 2}]]",
         "undefined");
  EXPECT("json.patch", "[{\"foo\": [1]}, [{\"op\": \"remove\", \"path\": \"/foo/1\"}]]", "undefined");
  EXPECT("json.patch", "[{\"foo\": {\"$set\": [\"a\", \"b\"]}}, [{\"op\": \"remove\", \"path\": \"foo/b\"}]]",
         "{\"foo\": [\"a\"]}");
  EXPECT("json.patch",
         "[{\"foo\": {\"$set\": [\"a\"]}}, [{\"op\": \"add\", \"path\": \"foo/d\", \"value\": \"e\"}]]",
         "undefined");
  EXPECT("json.patch", "[{\"$set\": [[1]]}, [{\"op\": \"add\", \"path\": [[1], 1], \"value\": 2}]]",
         "[[1, 2]]");
  EXPECT("json.patch", "[{}, [{\"op\": \"frobnicate\", \"path\": \"/a\"}]]", "undefined");
  EXPECT("json.patch", "[{}, {}]", "type error: operand 2 must be array but got object");
}

static void test_union_subset(void **state) {
  (void)state;
  EXPECT("object.union", "[{\"a\": {\"b\": 1, \"c\": 2}, \"d\": 1}, {\"a\": {\"b\": 3}, \"e\": 2}]",
         "{\"a\": {\"b\": 3, \"c\": 2}, \"d\": 1, \"e\": 2}");
  EXPECT("object.union", "[{\"a\": {\"b\": 1}}, {\"a\": 4}]", "{\"a\": 4}");
  EXPECT("object.union", "[[], {}]", "type error: operand 1 must be object but got array");
  EXPECT("object.union_n", "[[{}]]", "{}");
  EXPECT("object.union_n", "[[]]", "{}");
  EXPECT("object.union_n", "[[{\"foo\": \"bar\"}, {\"foo\": \"baz\"}]]", "{\"foo\": \"baz\"}");
  EXPECT("object.union_n", "[[{\"a\": {\"b\": 2}}, {\"a\": 4}, {\"a\": {\"c\": 3}}]]", "{\"a\": {\"c\": 3}}");
  EXPECT("object.union_n", "[[{\"a\": {\"b\": 2}}, {\"a\": {\"c\": 3}}]]", "{\"a\": {\"b\": 2, \"c\": 3}}");
  EXPECT("object.union_n", "[[{\"foo\": 1}, \"baz\"]]",
         "type error: operand 1 must be array of objects but got array containing string");
  EXPECT("object.subset",
         "[{\"a\": 5, \"b\": 7, \"n\": {\"x\": 1, \"s\": {\"$set\": [1, 2]}, \"l\": [6, 7, 8]}}, "
         "{\"a\": 5, \"n\": {\"s\": {\"$set\": [2]}, \"l\": [7, 8]}}]",
         "true");
  EXPECT("object.subset", "[{\"a\": 5}, {\"a\": 5, \"b\": 1}]", "false");
  EXPECT("object.subset", "[[1, 2, 3, 4], [2, 3]]", "true");
  EXPECT("object.subset", "[[1, 2, 3, 4], [2, 4]]", "false");
  EXPECT("object.subset", "[[1, 2, 3], {\"$set\": [3, 1]}]", "true");
  EXPECT("object.subset",
         "[{\"$set\": [1, 2, 3, {\"$set\": [\"a\", \"b\"]}]}, {\"$set\": [2, {\"$set\": [\"a\"]}]}]",
         "false");
  EXPECT("object.subset", "[{\"$set\": [3]}, [3]]",
         "type error: both arguments object.subset must be of the same type");
  TB_DONE();
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_get_keys),
      cmocka_unit_test(test_remove_filter),
      cmocka_unit_test(test_json_patch),
      cmocka_unit_test(test_union_subset),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
