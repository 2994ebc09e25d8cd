/* time.c — see time.h. Calendar arithmetic uses the days-from-civil
 * algorithm (H. Hinnant), so nothing depends on TZ or the C library's
 * timegm. */
#include "core/time.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t tr_now(void) { return (int64_t)time(NULL); }

int64_t tr_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t tr_monotonic_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  unsigned yoe = (unsigned)(y - era * 400);
  unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d) {
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  unsigned doe = (unsigned)(z - era * 146097);
  unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static bool is_leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static unsigned days_in_month(int64_t y, unsigned m) {
  static const unsigned dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : dm[m - 1];
}

/* secs → fields; false when the year is outside 0..9999. */
static bool split(int64_t secs, int64_t *y, unsigned *mo, unsigned *d, unsigned *h, unsigned *mi, unsigned *s,
                  unsigned *wday) {
  int64_t days = secs / 86400, rem = secs % 86400;
  if (rem < 0) {
    rem += 86400;
    days--;
  }
  civil_from_days(days, y, mo, d);
  if (*y < 0 || *y > 9999) return false;
  *h = (unsigned)(rem / 3600);
  *mi = (unsigned)(rem / 60 % 60);
  *s = (unsigned)(rem % 60);
  /* 1970-01-01 was a Thursday (4). */
  int64_t w = (days % 7 + 7 + 4) % 7;
  *wday = (unsigned)w;
  return true;
}

bool tr_time_format_rfc3339(int64_t secs, uint32_t nsec, char *out, size_t buflen) {
  int64_t y;
  unsigned mo, d, h, mi, s, wd;
  if (buflen) out[0] = 0;
  if (buflen < TR_RFC3339_MAX || nsec > 999999999 || !split(secs, &y, &mo, &d, &h, &mi, &s, &wd))
    return false;
  int n = snprintf(out, buflen, "%04d-%02u-%02uT%02u:%02u:%02u", (int)y, mo, d, h, mi, s);
  if (nsec) {
    char frac[16];
    snprintf(frac, sizeof frac, "%09u", nsec);
    int k = 9;
    while (k > 1 && frac[k - 1] == '0')
      k--;
    frac[k] = 0;
    n += snprintf(out + n, buflen - (size_t)n, ".%s", frac);
  }
  snprintf(out + n, buflen - (size_t)n, "Z");
  return true;
}

/* Reads exactly `n` digits. */
static bool digits(const char **p, int n, unsigned *out) {
  unsigned v = 0;
  for (int i = 0; i < n; i++) {
    char c = (*p)[i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (unsigned)(c - '0');
  }
  *p += n;
  *out = v;
  return true;
}

static bool fields_valid(int64_t y, unsigned mo, unsigned d, unsigned h, unsigned mi, unsigned s) {
  return y >= 0 && y <= 9999 && mo >= 1 && mo <= 12 && d >= 1 && d <= days_in_month(y, mo) && h <= 23 &&
         mi <= 59 && s <= 60;
}

static int64_t to_secs(int64_t y, unsigned mo, unsigned d, unsigned h, unsigned mi, unsigned s) {
  return days_from_civil(y, mo, d) * 86400 + (int64_t)h * 3600 + (int64_t)mi * 60 + s;
}

tr_err *tr_time_parse_rfc3339(const char *s, int64_t *secs, uint32_t *nsec) {
  const char *p = s;
  unsigned y, mo, d, h, mi, sec, oh = 0, om = 0;
  uint32_t ns = 0;
  int sign = 0;
  if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mo) || *p++ != '-' || !digits(&p, 2, &d)) goto bad;
  if (*p != 'T' && *p != 't' && *p != ' ') goto bad;
  p++;
  if (!digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &mi) || *p++ != ':' || !digits(&p, 2, &sec))
    goto bad;
  if (*p == '.') {
    p++;
    int k = 0;
    while (*p >= '0' && *p <= '9') {
      if (k < 9) ns = ns * 10 + (uint32_t)(*p - '0');
      k++;
      p++;
    }
    if (!k) goto bad;
    for (; k < 9; k++)
      ns *= 10;
  }
  if (*p == 'Z' || *p == 'z') {
    p++;
  } else if (*p == '+' || *p == '-') {
    sign = *p++ == '+' ? 1 : -1;
    if (!digits(&p, 2, &oh) || *p++ != ':' || !digits(&p, 2, &om) || oh > 23 || om > 59) goto bad;
  } else {
    goto bad;
  }
  if (*p || !fields_valid(y, mo, d, h, mi, sec)) goto bad;
  *secs = to_secs(y, mo, d, h, mi, sec) - sign * ((int64_t)oh * 3600 + (int64_t)om * 60);
  if (nsec) *nsec = ns;
  return NULL;
bad:
  return tr_err_new(TR_E_INVALID, "`%.64s` is not an RFC 3339 date-time", s);
}

static const char *const wdays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *const wdays_long[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                         "Thursday", "Friday", "Saturday"};
static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

bool tr_time_format_imf_fixdate(int64_t secs, char *out, size_t buflen) {
  int64_t y;
  unsigned mo, d, h, mi, s, wd;
  if (buflen) out[0] = 0;
  if (buflen < TR_IMF_FIXDATE_LEN || !split(secs, &y, &mo, &d, &h, &mi, &s, &wd)) return false;
  snprintf(out, buflen, "%s, %02u %s %04d %02u:%02u:%02u GMT", wdays[wd], d, months[mo - 1], (int)y, h, mi,
           s);
  return true;
}

static bool word(const char **p, const char *const *list, size_t n, size_t len, unsigned *idx) {
  for (size_t i = 0; i < n; i++) {
    size_t l = len ? len : strlen(list[i]);
    if (!strncmp(*p, list[i], l) && strlen(list[i]) == l) {
      *p += l;
      *idx = (unsigned)i;
      return true;
    }
  }
  return false;
}

static bool lit(const char **p, const char *s) {
  size_t n = strlen(s);
  if (strncmp(*p, s, n)) return false;
  *p += n;
  return true;
}

static bool hms(const char **p, unsigned *h, unsigned *mi, unsigned *s) {
  return digits(p, 2, h) && lit(p, ":") && digits(p, 2, mi) && lit(p, ":") && digits(p, 2, s);
}

tr_err *tr_time_parse_http_date(const char *s, int64_t *secs) {
  const char *p = s;
  unsigned wd, d, mo, y, h, mi, sec;
  if (word(&p, wdays, 7, 3, &wd) && lit(&p, ", ")) { /* IMF-fixdate */
    if (digits(&p, 2, &d) && lit(&p, " ") && word(&p, months, 12, 3, &mo) && lit(&p, " ") &&
        digits(&p, 4, &y) && lit(&p, " ") && hms(&p, &h, &mi, &sec) && lit(&p, " GMT") && !*p)
      goto ok;
    goto bad;
  }
  p = s;
  if (word(&p, wdays_long, 7, 0, &wd) && lit(&p, ", ")) { /* RFC 850 */
    if (digits(&p, 2, &d) && lit(&p, "-") && word(&p, months, 12, 3, &mo) && lit(&p, "-") &&
        digits(&p, 2, &y) && lit(&p, " ") && hms(&p, &h, &mi, &sec) && lit(&p, " GMT") && !*p) {
      y += y >= 70 ? 1900 : 2000;
      goto ok;
    }
    goto bad;
  }
  p = s;
  if (word(&p, wdays, 7, 3, &wd) && lit(&p, " ") && word(&p, months, 12, 3, &mo) &&
      lit(&p, " ")) { /* asctime */
    if (*p == ' ') {
      p++;
      if (!digits(&p, 1, &d)) goto bad;
    } else if (!digits(&p, 2, &d)) {
      goto bad;
    }
    if (lit(&p, " ") && hms(&p, &h, &mi, &sec) && lit(&p, " ") && digits(&p, 4, &y) && !*p) goto ok;
  }
bad:
  return tr_err_new(TR_E_INVALID, "`%.64s` is not an HTTP date (IMF-fixdate)", s);
ok:
  mo += 1;
  if (!fields_valid(y, mo, d, h, mi, sec)) goto bad;
  *secs = to_secs(y, mo, d, h, mi, sec);
  return NULL;
}
