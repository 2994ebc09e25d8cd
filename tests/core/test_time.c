/* Unit tests: clocks, RFC 3339 and HTTP-date formatting and parsing. */
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
#include <time.h>

#include "core/time.h"

static void test_clocks(void **state) {
  (void)state;
  int64_t s = tr_now(), ns = tr_now_ns();
  assert_true(s > 1700000000);
  assert_true(ns / 1000000000 - s <= 1 && ns / 1000000000 - s >= -1);
  int64_t m1 = tr_monotonic_ns(), m2 = tr_monotonic_ns();
  assert_true(m2 >= m1);
}

static void expect_rfc3339(int64_t secs, uint32_t nsec, const char *want) {
  char buf[TR_RFC3339_MAX];
  assert_true(tr_time_format_rfc3339(secs, nsec, buf, sizeof buf));
  assert_string_equal(buf, want);
  int64_t back;
  uint32_t bn;
  tr_err *e = tr_time_parse_rfc3339(buf, &back, &bn);
  if (e) fail_msg("%s", tr_err_msg(e));
  assert_int_equal(back, secs);
  assert_int_equal(bn, nsec);
}

static void expect_parse(const char *s, int64_t secs, uint32_t nsec) {
  int64_t got;
  uint32_t gn = 12345;
  tr_err *e = tr_time_parse_rfc3339(s, &got, &gn);
  if (e) fail_msg("%s: %s", s, tr_err_msg(e));
  assert_int_equal(got, secs);
  assert_int_equal(gn, nsec);
}

static void expect_bad(const char *s) {
  int64_t got;
  tr_err *e = tr_time_parse_rfc3339(s, &got, NULL);
  if (!e) fail_msg("`%s` accepted", s);
  assert_int_equal(tr_err_code(e), TR_E_INVALID);
  assert_non_null(strstr(tr_err_msg(e), "RFC 3339"));
  tr_err_free(e);
}

static void test_rfc3339(void **state) {
  (void)state;
  expect_rfc3339(0, 0, "1970-01-01T00:00:00Z");
  expect_rfc3339(784111777, 0, "1994-11-06T08:49:37Z");
  expect_rfc3339(784111777, 500000000, "1994-11-06T08:49:37.5Z");
  expect_rfc3339(784111777, 123456789, "1994-11-06T08:49:37.123456789Z");
  expect_rfc3339(951782400, 1000, "2000-02-29T00:00:00.000001Z");
  expect_rfc3339(-1, 0, "1969-12-31T23:59:59Z");
  expect_rfc3339(253402300799, 0, "9999-12-31T23:59:59Z");
  expect_rfc3339(-62167219200, 0, "0000-01-01T00:00:00Z");
  char buf[TR_RFC3339_MAX];
  assert_false(tr_time_format_rfc3339(253402300800, 0, buf, sizeof buf)); /* year 10000 */
  assert_string_equal(buf, "");
  assert_false(tr_time_format_rfc3339(0, 0, buf, 10));
  /* Compare with the C library for a spread of values. */
  for (int64_t t = -2000000000; t < 4000000000; t += 123456789) {
    struct tm tm;
    time_t tt = (time_t)t;
    gmtime_r(&tt, &tm);
    char want[64];
    strftime(want, sizeof want, "%Y-%m-%dT%H:%M:%SZ", &tm);
    assert_true(tr_time_format_rfc3339(t, 0, buf, sizeof buf));
    assert_string_equal(buf, want);
  }
  /* RFC 3339 §5.8 examples. */
  expect_parse("1985-04-12T23:20:50.52Z", 482196050, 520000000);
  expect_parse("1996-12-19T16:39:57-08:00", 851042397, 0);
  expect_parse("1990-12-31T23:59:60Z", 662688000, 0); /* leap second → next second */
  expect_parse("1990-12-31T15:59:60-08:00", 662688000, 0);
  expect_parse("1937-01-01T12:00:27.87+00:20", -1041337173, 870000000);
  expect_parse("1994-11-06t08:49:37z", 784111777, 0);
  expect_parse("1994-11-06 08:49:37Z", 784111777, 0);
  expect_parse("1994-11-06T08:49:37.1234567891234Z", 784111777, 123456789);
  expect_bad("");
  expect_bad("1994-11-06");
  expect_bad("1994-11-06T08:49Z");
  expect_bad("1994-11-06T08:49:37");   /* no offset */
  expect_bad("1994-11-06T08:49:37.Z"); /* empty fraction */
  expect_bad("1994-13-06T08:49:37Z");  /* month 13 */
  expect_bad("1995-02-29T08:49:37Z");  /* not a leap year */
  expect_bad("1994-11-06T24:00:00Z");
  expect_bad("1994-11-06T08:49:37+0100"); /* offset without colon */
  expect_bad("1994-11-06T08:49:37Zjunk");
  expect_bad("+1994-11-06T08:49:37Z");
}

static void test_http_date(void **state) {
  (void)state;
  char buf[TR_IMF_FIXDATE_LEN];
  assert_true(tr_time_format_imf_fixdate(784111777, buf, sizeof buf));
  assert_string_equal(buf, "Sun, 06 Nov 1994 08:49:37 GMT");
  assert_true(tr_time_format_imf_fixdate(0, buf, sizeof buf));
  assert_string_equal(buf, "Thu, 01 Jan 1970 00:00:00 GMT");
  assert_true(tr_time_format_imf_fixdate(951868800, buf, sizeof buf));
  assert_string_equal(buf, "Wed, 01 Mar 2000 00:00:00 GMT");
  assert_false(tr_time_format_imf_fixdate(0, buf, 29));
  /* Weekday agrees with the C library over a range. */
  for (int64_t t = -1000000000; t < 4000000000; t += 98765432) {
    struct tm tm;
    time_t tt = (time_t)t;
    gmtime_r(&tt, &tm);
    char want[64];
    strftime(want, sizeof want, "%a, %d %b %Y %H:%M:%S GMT", &tm); /* C locale in tests */
    assert_true(tr_time_format_imf_fixdate(t, buf, sizeof buf));
    assert_string_equal(buf, want);
    int64_t back;
    assert_null(tr_time_parse_http_date(buf, &back));
    assert_int_equal(back, t);
  }
  int64_t t;
  assert_null(tr_time_parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT", &t));
  assert_int_equal(t, 784111777);
  assert_null(tr_time_parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT", &t));
  assert_int_equal(t, 784111777);
  assert_null(tr_time_parse_http_date("Sun Nov  6 08:49:37 1994", &t));
  assert_int_equal(t, 784111777);
  assert_null(tr_time_parse_http_date("Thursday, 01-Jan-30 00:00:00 GMT", &t));
  assert_int_equal(t, 1893456000); /* 2030 */
  static const char *const bad[] = {"",
                                    "Sun, 6 Nov 1994 08:49:37 GMT",
                                    "Sun, 06 Nov 1994 08:49:37 UTC",
                                    "Sun, 06 Nov 1994 08:49:37 GMT ",
                                    "Sun, 31 Nov 1994 08:49:37 GMT",
                                    "Sun, 06 Foo 1994 08:49:37 GMT",
                                    "Sunday, 06 Nov 1994 08:49:37 GMT",
                                    "Sun Nov 6 08:49:37 1994",
                                    "1994-11-06T08:49:37Z"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    tr_err *e = tr_time_parse_http_date(bad[i], &t);
    if (!e) fail_msg("`%s` accepted", bad[i]);
    tr_err_free(e);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_clocks),
      cmocka_unit_test(test_rfc3339),
      cmocka_unit_test(test_http_date),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
