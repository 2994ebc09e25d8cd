/* test_builtins_aggregates.c — aggregates, arrays and sets families. */
#include "test_builtins_helpers.h"

static void test_aggregates(void **state) {
  (void)state;
  EXPECT("count", "[[1, 2, 3]]", "3");
  EXPECT("count", "[{\"a\": 1}]", "1");
  EXPECT("count", "[{\"$set\": [1, 2]}]", "2");
  EXPECT("count", "[\"\u00e5\u00e4\u00f6\"]", "3");
  EXPECT("count", "[null]", "type error: operand 1 must be one of {array, object, set, string} but got null");
  EXPECT("count", "[1]", "type error: operand 1 must be one of {array, object, set, string} but got number");
  EXPECT("sum", "[[1, 2, 3.5]]", "6.5");
  EXPECT("sum", "[[]]", "0");
  EXPECT("sum", "[{\"$set\": [1, 2]}]", "3");
  EXPECT("sum", "[[9223372036854775807, 1]]", "9223372036854775808");
  EXPECT("sum", "[[1, \"a\"]]",
         "type error: operand 1 must be array of numbers but got array containing string");
  EXPECT("product", "[[2, 3, 4]]", "24");
  EXPECT("product", "[[]]", "1");
  EXPECT("product", "[[4294967296, 4294967296]]", "18446744073709551616");
  EXPECT("product", "[[0.5, 4]]", "2");
  EXPECT("max", "[[1, 3, 2]]", "3");
  EXPECT("max", "[[]]", "undefined");
  EXPECT("max", "[[1, \"a\", null]]", "\"a\"");
  EXPECT("min", "[{\"$set\": [3, 2, 5]}]", "2");
  EXPECT("max", "[1]", "type error: operand 1 must be one of {set, array} but got number");
  EXPECT("sort", "[[3, 1, \"a\", null]]", "[null, 1, 3, \"a\"]");
  EXPECT("sort", "[{\"$set\": [3, 1]}]", "[1, 3]");
}

static void test_arrays_sets(void **state) {
  (void)state;
  EXPECT("array.concat", "[[1, 2], [3, 4]]", "[1, 2, 3, 4]");
  EXPECT("array.concat", "[[1, 2], {}]", "type error: operand 2 must be array but got object");
  EXPECT("array.slice", "[[1, 2, 3, 4, 5], 1, 3]", "[2, 3]");
  EXPECT("array.slice", "[[1, 2, 3, 4, 5], -4, -1]", "[]");
  EXPECT("array.slice", "[[1, 2, 3, 4, 5], 4, 1]", "[]");
  EXPECT("array.slice", "[[1, 2, 3, 4, 5], -1, 2]", "[1, 2]");
  EXPECT("array.slice", "[[1, 2, 3, 4, 5], 3, 6]", "[4, 5]");
  EXPECT("array.slice", "[[1, 2, 3], 1000, 2000]", "[]");
  EXPECT("array.reverse", "[[1, 2, 3]]", "[3, 2, 1]");
  EXPECT("array.flatten", "[[1, [2, [3, []]], [[4]]]]", "[1, 2, [3, []], [4]]");
  EXPECT("array.flatten", "[1]", "type error: operand 1 must be array but got number");
  EXPECT("union", "[{\"$set\": [{\"$set\": [1, 2]}, {\"$set\": [2, 3]}]}]", "[1, 2, 3]");
  EXPECT("union", "[{\"$set\": []}]", "[]");
  EXPECT("intersection", "[{\"$set\": [{\"$set\": [1, 2]}, {\"$set\": [2, 3]}]}]", "[2]");
  EXPECT("intersection", "[{\"$set\": []}]", "[]");
  EXPECT("intersection", "[[1]]", "type error: operand 1 must be set but got array");
  EXPECT("union", "[{\"$set\": [1]}]",
         "type error: operand 1 must be set of sets but got set containing number");
  TB_DONE();
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_aggregates),
      cmocka_unit_test(test_arrays_sets),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
