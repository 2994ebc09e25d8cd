/* test_builtins_time.c — Go layouts, durations, IANA zones, date arithmetic. */
#include "rego/builtins/time_internal.h"
#include "test_builtins_helpers.h"

static void test_parse(void **state) {
  (void)state;
  EXPECT("time.parse_ns", "[\"2006-01-02T15:04:05Z07:00\", \"2017-06-02T19:00:00-07:00\"]",
         "1496455200000000000");
  EXPECT("time.parse_ns", "[\"2006-01-02T15:04:05Z07:00\", \"1677-09-21T00:12:43.145224192-00:00\"]",
         "-9223372036854775808");
  EXPECT("time.parse_ns", "[\"2006-01-02T15:04:05Z07:00\", \"2262-04-11T23:47:16.854775807-00:00\"]",
         "9223372036854775807");
  EXPECT("time.parse_ns", "[\"01/02 03:04:05PM '06 -0700\", \"06/02 07:00:00PM '17 -0700\"]",
         "1496455200000000000");
  EXPECT("time.parse_ns", "[\"02 Jan 06 15:04 -0700\", \"02 Jun 17 19:00 -0700\"]", "1496455200000000000");
  EXPECT("time.parse_ns", "[\"RFC822Z\", \"02 Jun 17 19:00 -0700\"]", "1496455200000000000");
  EXPECT("time.parse_ns", "[\"2006-01-02\", \"2020-02-29\"]", "1582934400000000000");
  EXPECT("time.parse_ns", "[\"Mon Jan _2 15:04:05 MST 2006\", \"Tue Feb  4 01:02:03 PST 2020\"]",
         "1580778123000000000");
  EXPECT("time.parse_ns", "[\"2006-01-02T15:04:05.000Z\", \"2020-01-01T00:00:00.123Z\"]",
         "1577836800123000000");
  EXPECT("time.parse_ns", "[\"2006-002\", \"2020-060\"]", "1582934400000000000");
  EXPECT("time.parse_ns", "[\"2006-01-02T15:04:05Z07:00\", \"1677-09-21T00:12:43.145224191-00:00\"]",
         "builtin error: time outside of valid range");
  EXPECT("time.parse_ns", "[\"2006-01-02\", \"2021-02-29\"]",
         "builtin error: parsing time \"2021-02-29\": day out of range");
  EXPECT("time.parse_ns", "[\"2006-01-02\", \"2021-13-01\"]",
         "builtin error: parsing time \"2021-13-01\": month out of range");
  EXPECT("time.parse_ns", "[\"2006-01-02\", \"2021/01/01\"]",
         "builtin error: parsing time \"2021/01/01\" as \"2006-01-02\": cannot parse \"/01/01\" as \"-\"");
  EXPECT("time.parse_ns", "[\"2006-01-02\", \"2021-01-01x\"]",
         "builtin error: parsing time \"2021-01-01x\": extra text: \"x\"");
  EXPECT("time.parse_rfc3339_ns", "[\"1970-01-01T00:00:00-00:00\"]", "0");
  EXPECT("time.parse_rfc3339_ns", "[\"2017-06-02T19:00:00-07:00\"]", "1496455200000000000");
  EXPECT("time.parse_rfc3339_ns", "[\"2262-04-11T23:47:16.854775808-00:00\"]",
         "builtin error: time outside of valid range");
}

static void test_duration(void **state) {
  (void)state;
  EXPECT("time.parse_duration_ns", "[\"100ms\"]", "100000000");
  EXPECT("time.parse_duration_ns", "[\"1h2m3.5s\"]", "3723500000000");
  EXPECT("time.parse_duration_ns", "[\"-1.5h\"]", "-5400000000000");
  EXPECT("time.parse_duration_ns", "[\"3\\u00b5s\"]", "3000");
  EXPECT("time.parse_duration_ns", "[\"0\"]", "0");
  EXPECT("time.parse_duration_ns", "[\"1d\"]", "builtin error: time: unknown unit \"d\" in duration \"1d\"");
  EXPECT("time.parse_duration_ns", "[\"10\"]", "builtin error: time: missing unit in duration \"10\"");
  EXPECT("time.parse_duration_ns", "[\"\"]", "builtin error: time: invalid duration \"\"");
  EXPECT("time.parse_duration_ns", "[\"9999999999h\"]", "builtin error: time: invalid duration");
}

static void test_civil(void **state) {
  (void)state;
  EXPECT("time.date", "[1517814000000000000]", "[2018, 2, 5]");
  EXPECT("time.date", "[[1517814000000000000, \"America/Los_Angeles\"]]", "[2018, 2, 4]");
  EXPECT("time.date", "[[1517832000000000000, \"\"]]", "[2018, 2, 5]");
  EXPECT("time.date", "[1582977600000000000]", "[2020, 2, 29]");
  EXPECT("time.date", "[1582977600000000000000]", "builtin error: timestamp too big");
  EXPECT("time.date", "[-1]", "[1969, 12, 31]");
  EXPECT("time.date", "[[1, \"Nowhere/Land\"]]", "builtin error: unknown time zone Nowhere/Land");
  EXPECT("time.date", "[[1, \"../../etc/passwd\"]]", "builtin error: unknown time zone");
  EXPECT("time.date", "[\"x\"]",
         "type error: operand 1 must be either number (ns) or [number (ns), string (tz)] but got string");
  EXPECT("time.clock", "[1517832000000000000]", "[12, 0, 0]");
  EXPECT("time.clock", "[[1517832000000000000, \"America/New_York\"]]", "[7, 0, 0]");
  /* summer time through the TZif transitions, and far future through the TZ footer rule */
  EXPECT("time.clock", "[[1530446400000000000, \"America/New_York\"]]", "[8, 0, 0]");
  EXPECT("time.clock", "[[4118054400000000000, \"America/New_York\"]]", "[12, 0, 0]");
  EXPECT("time.clock", "[[4102488000000000000, \"America/New_York\"]]", "[7, 0, 0]");
  EXPECT("time.weekday", "[1517918400000000000]", "\"Tuesday\"");
  EXPECT("time.weekday", "[1518350400000000000]", "\"Sunday\"");
  EXPECT("time.add_date", "[1585852421593912000, 3, 9, 12]", "1705257221593912000");
  EXPECT("time.add_date", "[1585852421593912000, -1, -1, -1]", "1551465221593912000");
  EXPECT("time.add_date", "[0, 2262, 1, 1]", "builtin error: time outside of valid range");
  EXPECT("time.add_date", "[-9223372036854775808, 0, 0, -1]", "builtin error: time outside of valid range");
  EXPECT("time.diff", "[1580601600000000000, 1583020800000000000]", "[0, 0, 28, 0, 0, 0]");
  EXPECT("time.diff", "[1612224000000000000, 1614556800000000000]", "[0, 0, 27, 0, 0, 0]");
  EXPECT("time.diff", "[1583020800000000000, 1551398400000000000]", "[1, 0, 0, 0, 0, 0]");
  EXPECT("time.diff", "[1078012800000000000, 1109635200000000000]", "[1, 0, 1, 0, 0, 0]");
  EXPECT("time.diff", "[[60000000000, \"UTC\"], [0, \"Asia/Shanghai\"]]", "[0, 0, 0, 0, 1, 0]");
}

static void test_format(void **state) {
  (void)state;
  EXPECT("time.format", "[1670006453141828752]", "\"2022-12-02T18:40:53.141828752Z\"");
  EXPECT("time.format", "[[1670006453141828752, \"Asia/Kolkata\"]]",
         "\"2022-12-03T00:10:53.141828752+05:30\"");
  EXPECT("time.format", "[[1670006453141828752, \"Asia/Kolkata\", \"Mon Jan 02 15:04:05 -0700 2006\"]]",
         "\"Sat Dec 03 00:10:53 +0530 2022\"");
  EXPECT("time.format", "[[1670006453141828752, \"Asia/Kolkata\", \"RFC1123Z\"]]",
         "\"Sat, 03 Dec 2022 00:10:53 +0530\"");
  EXPECT("time.format", "[[1670006453141828752, \"America/New_York\", \"RFC1123\"]]",
         "\"Fri, 02 Dec 2022 13:40:53 EST\"");
  EXPECT("time.format", "[[1670006453141828752, \"UTC\", \"Monday January 2 3:4:5pm .000 __2 002 06\"]]",
         "\"Friday December 2 6:40:53pm .141 336 336 22\"");
  EXPECT("time.format", "[[0, \"UTC\", \"2006-01-02T15:04:05.999Z07:00:00|-07|Z0700\"]]",
         "\"1970-01-01T00:00:00Z|+00|Z\"");
  EXPECT("time.format", "[15829776000000000000000]", "builtin error: timestamp too big");
  EXPECT("time.now_ns", "[]", "1670006453141828752");
}

static void test_roundtrip(void **state) {
  (void)state;
  /* format then parse gives the instant back across many layouts and instants */
  const char *layouts[] = {"2006-01-02T15:04:05.999999999Z07:00", "Mon, 02 Jan 2006 15:04:05 -0700",
                           "2006-01-02 15:04:05.000000000 -07:00:00"};
  const rb_zone *z = rb_zone_load("Europe/Paris", 12, NULL, 0);
  assert_non_null(z);
  for (int64_t s = 0; s < 5000000000LL; s += 12345678) { /* no sub-minute LMT offsets after 1970 */
    for (size_t i = 0; i < 3; i++) {
      tr_buf b = TR_BUF_INIT;
      int32_t ns = (int32_t)((s * 7919) % 1000000000);
      if (ns < 0) ns += 1000000000;
      if (i == 1) ns = 0;
      assert_true(rb_time_format(&b, layouts[i], strlen(layouts[i]), s, ns, z));
      int64_t ps;
      int32_t pns;
      char err[300];
      if (!rb_time_parse(layouts[i], strlen(layouts[i]), (const char *)b.data, b.len, &ps, &pns, err,
                         sizeof err))
        fail_msg("%s: %s", (const char *)b.data, err);
      assert_int_equal(ps, s);
      assert_int_equal(pns, ns);
      tr_buf_free(&b);
    }
  }
  TB_DONE();
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_parse),  cmocka_unit_test(test_duration),  cmocka_unit_test(test_civil),
      cmocka_unit_test(test_format), cmocka_unit_test(test_roundtrip),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
