/* test_builtins_numbers.c — numbers, bits, types and to_number. */
#include "test_builtins_helpers.h"

static void test_numbers(void **state) {
  (void)state;
  EXPECT("abs", "[-5]", "5");
  EXPECT("abs", "[-1.5]", "1.5");
  EXPECT("abs", "[-9223372036854775808]", "9223372036854775808");
  EXPECT("abs", "[-18446744073709551616]", "18446744073709551616");
  EXPECT("abs", "[\"x\"]", "type error: operand 1 must be number but got string");
  EXPECT("ceil", "[1.2]", "2");
  EXPECT("floor", "[-1.2]", "-2");
  EXPECT("round", "[2.5]", "3");
  EXPECT("round", "[-2.5]", "-3");
  EXPECT("round", "[7]", "7");
  EXPECT("numbers.range", "[1, 4]", "[1, 2, 3, 4]");
  EXPECT("numbers.range", "[2, -1]", "[2, 1, 0, -1]");
  EXPECT("numbers.range", "[1.5, 4]",
         "type error: operand 1 must be integer number but got floating-point number");
  EXPECT("numbers.range", "[1, 4.5]",
         "type error: operand 2 must be integer number but got floating-point number");
  EXPECT("numbers.range", "[0, 100000000000]", "builtin error: range of");
  EXPECT("numbers.range_step", "[0, 10, 3]", "[0, 3, 6, 9]");
  EXPECT("numbers.range_step", "[10, 0, 5]", "[10, 5, 0]");
  EXPECT("numbers.range_step", "[0, 10, 99999999999999999999]", "[0]");
  EXPECT("numbers.range", "[9223372036854775806, 9223372036854775809]",
         "[9223372036854775806, 9223372036854775807, 9223372036854775808, 9223372036854775809]");
  EXPECT("numbers.range_step", "[0, 10, 0]", "builtin error: step must be a positive integer");
  EXPECT("rand.intn", "[\"k\", 0]", "0");
  /* same key, same evaluation: same value */
  rv_arena *a = rv_arena_new();
  rego_bctx ctx = {.arena = a};
  char *r1 = tb_call_ctx(&ctx, "rand.intn", "[\"k\", 1000000]");
  char *r2 = tb_call_ctx(&ctx, "rand.intn", "[\"k\", -1000000]");
  assert_string_equal(r1, r2);
  assert_true(atol(r1) >= 0 && atol(r1) < 1000000);
  free(r1);
  free(r2);
  rego_bi_cache_free(ctx.cache);
  rv_arena_free(a);
}

static void test_bits(void **state) {
  (void)state;
  EXPECT("bits.and", "[12, 10]", "8");
  EXPECT("bits.or", "[12, 10]", "14");
  EXPECT("bits.xor", "[12, 10]", "6");
  EXPECT("bits.negate", "[5]", "-6");
  EXPECT("bits.lsh", "[1, 70]", "1180591620717411303424");
  EXPECT("bits.rsh", "[-8, 1]", "-4");
  EXPECT("bits.and", "[1.5, 1]",
         "type error: operand 1 must be integer number but got floating-point number");
  EXPECT("bits.lsh", "[1, -1]",
         "type error: operand 2 must be an unsigned integer number but got a negative integer");
}

static void test_types_casts(void **state) {
  (void)state;
  EXPECT("is_number", "[1]", "true");
  EXPECT("is_number", "[\"1\"]", "false");
  EXPECT("is_set", "[{\"$set\": []}]", "true");
  EXPECT("is_object", "[{}]", "true");
  EXPECT("is_null", "[null]", "true");
  EXPECT("type_name", "[{\"$set\": []}]", "\"set\"");
  EXPECT("type_name", "[true]", "\"boolean\"");
  EXPECT("to_number", "[null]", "0");
  EXPECT("to_number", "[true]", "1");
  EXPECT("to_number", "[\"-1\"]", "-1");
  EXPECT("to_number", "[\"+007\"]", "7");
  EXPECT("to_number", "[\"1.5e2\"]", "150");
  EXPECT("to_number", "[\"0x1p-2\"]", "0.25");
  EXPECT("to_number", "[\"123456789012345678901234567890\"]", "123456789012345678901234567890");
  EXPECT("to_number", "[\"broken\"]", "builtin error: invalid syntax");
  EXPECT("to_number", "[\"1e400\"]", "builtin error: value out of range");
  EXPECT("to_number", "[\"-Infinity\"]", "type error: operand 1 must be valid number string but got string");
  EXPECT("to_number", "[\"nan\"]", "type error: operand 1 must be valid number string");
  EXPECT("to_number", "[[]]",
         "type error: operand 1 must be one of {null, boolean, number, string} but got array");
  TB_DONE();
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_numbers),
      cmocka_unit_test(test_bits),
      cmocka_unit_test(test_types_casts),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
