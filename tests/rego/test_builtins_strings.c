/* test_builtins_strings.c — string builtins and sprintf (Go fmt verbs). */
#include "test_builtins_helpers.h"

static void test_basic(void **state) {
  (void)state;
  EXPECT("concat", "[\"/\", [\"\", \"foo\", \"bar\", \"0\", \"baz\"]]", "\"/foo/bar/0/baz\"");
  EXPECT("concat", "[\",\", {\"$set\": [\"b\", \"a\"]}]", "\"a,b\"");
  EXPECT("concat", "[\",\", []]", "\"\"");
  EXPECT("concat", "[\",\", [1]]",
         "type error: operand 2 must be array of strings but got array containing number");
  EXPECT("contains", "[\"abcdefgh\", \"defg\"]", "true");
  EXPECT("contains", "[\"abcdefgh\", \"ac\"]", "false");
  EXPECT("contains", "[1, \"ac\"]", "type error: operand 1 must be string but got number");
  EXPECT("startswith", "[\"abc\", \"ab\"]", "true");
  EXPECT("endswith", "[\"abcdefgh\", \"fg\"]", "false");
  EXPECT("endswith", "[\"abcdefgh\", \"fgh\"]", "true");
  EXPECT("lower", "[\"AbCdEf\u00c5\u0394\u0416\"]", "\"abcdef\u00e5\u03b4\u0436\"");
  EXPECT("upper", "[\"AbCdEf\u00e5\u03b4\u0436\"]", "\"ABCDEF\u00c5\u0394\u0416\"");
  EXPECT("lower", "[\"A\\u00ff\"]", "\"a\u00ff\"");
  /* full Unicode simple mappings, as Go: Armenian, Georgian, Cherokee, Deseret, dotted I, sharp s */
  EXPECT("lower", "[\"\u0531\u10a0\u13a0\\ud801\\udc00\u0130\u1e9e\u01c5\"]",
         "\"\u0561\u2d00\uab70\\ud801\\udc28i\u00df\u01c6\"");
  EXPECT("upper", "[\"\u0561\u2d00\\ud801\\udc28\u00df\u0131\u017f\u01c5\"]",
         "\"\u0531\u10a0\\ud801\\udc00\u00dfIS\u01c4\"");
}

static void test_indexing(void **state) {
  (void)state;
  EXPECT("indexof", "[\"abcdefgh\", \"cde\"]", "2");
  EXPECT("indexof", "[\"\u03bcx\", \"x\"]", "1");
  EXPECT("indexof", "[\"\u03bc\", \"\u03bc\u03bc\"]", "-1");
  EXPECT("indexof", "[\"abc\", \"\"]", "builtin error: empty search character");
  EXPECT("indexof_n", "[\"dogcatdogcat\", \"cat\"]", "[3, 9]");
  EXPECT("indexof_n", "[\"sssss\", \"ss\"]", "[0, 1, 2, 3]");
  EXPECT("substring", "[\"abcdefgh\", 2, 3]", "\"cde\"");
  EXPECT("substring", "[\"a\u00e5\u00e4\u00f6\", 2, -1]", "\"\u00e4\u00f6\"");
  EXPECT("substring", "[\"abc\", 5, 1]", "\"\"");
  EXPECT("substring", "[\"abc\", -1, 1]", "builtin error: negative offset");
  EXPECT("substring", "[\"abc\", 1.5, 1]", "type error: operand 2 must be integer number");
  EXPECT("strings.count", "[\"cheese\", \"e\"]", "3");
  EXPECT("strings.count", "[\"dummy\", \"\"]", "6");
  EXPECT("strings.count", "[\"11111\", \"11\"]", "2");
  EXPECT("strings.reverse", "[\"bar\"]", "\"rab\"");
  EXPECT("strings.reverse", "[\"1\\ud83d\\ude00\"]", "\"\\ud83d\\ude001\"");
  EXPECT("strings.reverse", "[1]", "type error: operand 1 must be string but got number");
}

static void test_split_replace_trim(void **state) {
  (void)state;
  EXPECT("split", "[\"foo.bar.baz\", \".\"]", "[\"foo\", \"bar\", \"baz\"]");
  EXPECT("split", "[\"\", \".\"]", "[\"\"]");
  EXPECT("split", "[\"test\", \"\"]", "[\"t\", \"e\", \"s\", \"t\"]");
  EXPECT("replace", "[\"foo...bar\", \"..\", \",,\"]", "\"foo,,.bar\"");
  EXPECT("replace", "[\"abc\", \"\", \"-\"]", "\"-a-b-c-\"");
  EXPECT("strings.replace_n", "[{\"a\": \"1\", \"ab\": \"2\"}, \"abab\"]", "\"1b1b\"");
  EXPECT("strings.replace_n", "[{\"ab\": \"2\", \"b\": \"x\"}, \"abb\"]", "\"2x\"");
  EXPECT("strings.replace_n", "[{\"1\": 2}, \"abb\"]",
         "type error: operand 1 non-string value found in pattern object");
  EXPECT("trim", "[\"...foo.bar...\", \".o\"]", "\"foo.bar\"");
  EXPECT("trim", "[\"xx\", \"x\"]", "\"\"");
  EXPECT("trim_left", "[\"..a..\", \".\"]", "\"a..\"");
  EXPECT("trim_right", "[\"..a..\", \".\"]", "\"..a\"");
  EXPECT("trim_prefix", "[\"foo.bar\", \"foo.\"]", "\"bar\"");
  EXPECT("trim_suffix", "[\"foo.bar\", \".bar\"]", "\"foo\"");
  EXPECT("trim_space", "[\" \\t\\n foo \\u00a0\\u3000\"]", "\"foo\"");
  EXPECT("strings.any_prefix_match", "[[\"a/b\", \"c/d\"], \"c/\"]", "true");
  EXPECT("strings.any_prefix_match", "[\"a/b\", [\"x\", \"y\"]]", "false");
  EXPECT("strings.any_suffix_match", "[{\"$set\": [\"a/b\"]}, {\"$set\": [\"/b\"]}]", "true");
  EXPECT("strings.any_prefix_match", "[[1], \"a\"]",
         "type error: operand 1 must be array of strings but got array containing number");
  EXPECT("strings.any_suffix_match", "[\"a\", 1]",
         "type error: operand 2 must be one of {string, set, array} but got number");
}

static void test_format_int(void **state) {
  (void)state;
  EXPECT("format_int", "[3.1, 10]", "\"3\"");
  EXPECT("format_int", "[-3.9, 10]", "\"-3\"");
  EXPECT("format_int", "[255, 16]", "\"ff\"");
  EXPECT("format_int", "[5, 2]", "\"101\"");
  EXPECT("format_int", "[-8, 8]", "\"-10\"");
  EXPECT("format_int", "[18446744073709551616, 16]", "\"10000000000000000\"");
  EXPECT("format_int", "[4.1, 199]", "type error: operand 2 must be one of {2, 8, 10, 16}");
}

static void test_sprintf(void **state) {
  (void)state;
  EXPECT("sprintf", "[\"hi\", []]", "\"hi\"");
  EXPECT("sprintf", "[\"hi %s\", [\"there\"]]", "\"hi there\"");
  EXPECT("sprintf", "[\"hi %02d\", [5]]", "\"hi 05\"");
  EXPECT("sprintf", "[\"hi %02X.%02X\", [127, 1]]", "\"hi 7F.01\"");
  EXPECT("sprintf", "[\"hi %.2f\", [3.1415]]", "\"hi 3.14\"");
  EXPECT("sprintf", "[\"hi %s\", [true]]", "\"hi true\"");
  EXPECT("sprintf", "[\"hi %v\", [[\"there\", 5, 3.14]]]", "\"hi [\\\"there\\\", 5, 3.14]\"");
  EXPECT("sprintf", "[\"%s\", [123456789123456789123]]", "\"123456789123456789123\"");
  EXPECT("sprintf", "[\"%x\", [1208925819614629174706175]]", "\"ffffffffffffffffffff\"");
  EXPECT("sprintf", "[\"%s\", [1]]", "\"%!s(int=1)\"");
  EXPECT("sprintf", "[\"%d\", [\"x\"]]", "\"%!d(string=x)\"");
  EXPECT("sprintf", "[\"%d %d\", [1]]", "\"1 %!d(MISSING)\"");
  EXPECT("sprintf", "[\"%d\", [1, \"a\"]]", "\"1%!(EXTRA string=a)\"");
  EXPECT("sprintf", "[\"%v %v %v\", [1.5, 12345678.9, 0.00001]]", "\"1.5 1.23456789e+07 1e-05\"");
  EXPECT("sprintf", "[\"%g|%e|%G\", [123456789.5, 1234.5678, 1e-7]]",
         "\"1.234567895e+08|1.234568e+03|1E-07\"");
  EXPECT("sprintf", "[\"%8.3f|%-8.2f|%+d|% d\", [3.14159, 2.5, 5, 7]]", "\"   3.142|2.50    |+5| 7\"");
  EXPECT("sprintf", "[\"%q|%x|% X|%#x\", [\"a\\\"b\\n\", \"hi\", \"hi\", 255]]",
         "\"\\\"a\\\\\\\"b\\\\n\\\"|6869|68 69|0xff\"");
  EXPECT("sprintf", "[\"%5s|%-5s|%.2s|%05d|%x\", [\"ab\", \"ab\", \"abc\", -42, -255]]",
         "\"   ab|ab   |ab|-0042|-ff\"");
  EXPECT("sprintf", "[\"%[2]d %[1]d\", [1, 2]]", "\"2 1\"");
  EXPECT("sprintf", "[\"%*d|%-*d|\", [4, 7, 3, 8]]", "\"   7|8  |\"");
  EXPECT("sprintf", "[\"%c%c|%U|%t|%%|%\", [65, 19990, 65, true]]",
         "\"A\u4e16|U+0041|%!t(string=true)|%|%!(NOVERB)\"");
  EXPECT("sprintf", "[\"%v|%v|%v\", [null, {\"a\": [1]}, {\"$set\": [2, 1]}]]",
         "\"null|{\\\"a\\\": [1]}|{1, 2}\"");
  EXPECT("sprintf", "[\"%#v|%T|%T|%b|%o|%O\", [\"s\", 1.5, 1, 5, 8, 8]]",
         "\"\\\"s\\\"|float64|int|101|10|0o10\"");
  EXPECT("sprintf", "[\"%d\", 1]", "type error: operand 2 must be array but got number");
  /* more Go fmt details */
  EXPECT("sprintf", "[\"%08.3f|%+.3e|%.0f|%g|%g\", [-3.14159, 1234.5678, 2.5, 100000.5, 1000000.5]]",
         "\"-003.142|+1.235e+03|2|100000.5|1.0000005e+06\"");
  EXPECT("sprintf", "[\"%# x|%5.1q|%q|%o|%08d\", [\"hi\", \"abc\", 65, -8, -12345678901234567890]]",
         "\"0x68 0x69|  \\\"a\\\"|'A'|-10|-12345678901234567890\"");
  EXPECT("sprintf", "[\"%010d|%-4d|%x\", [-123456789012345678901, 7, \"\"]]",
         "\"-123456789012345678901|7   |\"");
  EXPECT("sprintf", "[\"%U|%c|%d\", [-1, -1, null]]", "\"U+FFFFFFFFFFFFFFFF|\\ufffd|%!d(string=null)\"");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_basic),
      cmocka_unit_test(test_indexing),
      cmocka_unit_test(test_split_replace_trim),
      cmocka_unit_test(test_format_int),
      cmocka_unit_test(test_sprintf),
  };
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  return rc;
}
