/* time.h — clocks and the two textual time formats trustee-c speaks:
 * RFC 3339 (tokens, session expiry in the KV store, logs) and IMF-fixdate
 * (HTTP Date and the cookie `Expires` attribute, RFC 9110 §5.6.7).
 *
 * Times are (seconds since the Unix epoch, nanoseconds 0..999999999), UTC,
 * proleptic Gregorian, years 0000..9999. No time-zone database or locale is
 * consulted. */
#ifndef TRUSTEE_CORE_TIME_H
#define TRUSTEE_CORE_TIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

/* Wall clock. */
int64_t tr_now(void);    /* seconds */
int64_t tr_now_ns(void); /* nanoseconds */
/* Monotonic clock for durations and timeouts (nanoseconds, arbitrary origin). */
int64_t tr_monotonic_ns(void);

/* Buffer sizes including the NUL. */
#define TR_RFC3339_MAX 36     /* "2026-11-28T07:59:28.123456789Z" */
#define TR_IMF_FIXDATE_LEN 30 /* "Sun, 06 Nov 1994 08:49:37 GMT" */

/* "1994-11-06T08:49:37Z", with ".123" style fraction when nsec != 0 (trailing
 * zeros trimmed, as Rust's `time` crate writes RFC 3339). Returns false when
 * the year is outside 0000..9999 or buflen < TR_RFC3339_MAX (out is then ""). */
bool tr_time_format_rfc3339(int64_t secs, uint32_t nsec, char *out, size_t buflen);

/* Parses RFC 3339 date-time: "YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)"; 'T'/'t'
 * or one space between date and time, 'Z' or 'z'; fraction up to 9 digits
 * used, further digits truncated; second 60 (leap second) is accepted and
 * counts as the next second. nsec may be NULL. Errors (TR_E_INVALID) quote
 * the input. */
tr_err *tr_time_parse_rfc3339(const char *s, int64_t *secs, uint32_t *nsec);

/* "Sun, 06 Nov 1994 08:49:37 GMT". Returns false when out of range. */
bool tr_time_format_imf_fixdate(int64_t secs, char *out, size_t buflen);

/* Parses an HTTP date: IMF-fixdate, and — as RFC 9110 requires of
 * recipients — the obsolete RFC 850 ("Sunday, 06-Nov-94 08:49:37 GMT"; two-
 * digit years ≥ 70 are 19xx) and asctime ("Sun Nov  6 08:49:37 1994") forms. */
tr_err *tr_time_parse_http_date(const char *s, int64_t *secs);

#endif
