/* test_builtins_units.c — units.parse / units.parse_bytes, exact. */
#include "test_builtins_helpers.h"

static void test_units(void **state) {
  (void)state;
  EXPECT("units.parse", "[\"500m\"]", "0.5");
  EXPECT("units.parse", "[\"0.0005K\"]", "0.5");
  EXPECT("units.parse", "[\"0.0000005M\"]", "0.5");
  EXPECT("units.parse", "[\"1.1Ki\"]", "1126.4");
  EXPECT("units.parse", "[\"10Ki\"]", "10240");
  EXPECT("units.parse", "[\"10KI\"]", "10240");
  EXPECT("units.parse", "[\"100m\"]", "0.1");
  EXPECT("units.parse", "[\"10e\"]", "10000000000000000000");
  EXPECT("units.parse", "[\"10Ei\"]", "11529215046068469760");
  EXPECT("units.parse", "[\"\\\"100TI\\\"\"]", "109951162777600");
  EXPECT("units.parse", "[\"1e10\"]", "10000000000");
  EXPECT("units.parse", "[\"7.8E-1\"]", "0.78");
  EXPECT("units.parse", "[\"-3.5E2m\"]", "-0.35");
  EXPECT("units.parse", "[\"2.5e3K\"]", "2500000");
  EXPECT("units.parse", "[\"5E\"]", "5000000000000000000");
  EXPECT("units.parse", "[\".0\"]", "0");
  EXPECT("units.parse", "[\"1m\"]", "0.001");
  EXPECT("units.parse", "[\"1e-11\"]", "0");
  EXPECT("units.parse", "[\"6e-11\"]", "0.0000000001");
  EXPECT("units.parse", "[\"0.33333333333333\"]", "0.3333333333");
  EXPECT("units.parse", "[\"\"]", "builtin error: no amount provided");
  EXPECT("units.parse", "[\"G\"]", "builtin error: no amount provided");
  EXPECT("units.parse", "[\"0.0.0\"]", "builtin error: could not parse amount to a number");
  EXPECT("units.parse", "[\"100 k\"]", "builtin error: spaces not allowed in resource strings");
  EXPECT("units.parse", "[\"1Q\"]", "builtin error: unit Q not recognized");
  EXPECT("units.parse", "[\"1e1234567\"]", "builtin error: exponent too large");
  EXPECT("units.parse_bytes", "[\"8kb\"]", "8000");
  EXPECT("units.parse_bytes", "[\"1KiB\"]", "1024");
  EXPECT("units.parse_bytes", "[\"2MiB\"]", "2097152");
  EXPECT("units.parse_bytes", "[\"4.1Mi\"]", "4299161");
  EXPECT("units.parse_bytes", "[\"\\\"100TIB\\\"\"]", "109951162777600");
  EXPECT("units.parse_bytes", "[\"6.4E1GB\"]", "64000000000");
  EXPECT("units.parse_bytes", "[\"7.5e1TiB\"]", "82463372083200");
  EXPECT("units.parse_bytes", "[\"0.0\"]", "0");
  EXPECT("units.parse_bytes", "[\"foo\"]", "builtin error: no byte amount provided");
  EXPECT("units.parse_bytes", "[\"0.0.0\"]", "builtin error: could not parse byte amount to a number");
  EXPECT("units.parse_bytes", "[\" 327MiB \"]", "builtin error: spaces not allowed in resource strings");
  EXPECT("units.parse_bytes", "[\"1xb\"]", "builtin error: byte unit xb not recognized");
  TB_DONE();
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_units)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
