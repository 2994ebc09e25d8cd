/* time.c — time.* builtins over a port of Go's time layout engine.
 *
 * Layout parsing/formatting follows Go's nextStdChunk / parse /
 * appendFormat exactly (same chunk recognition, same leniencies, same error
 * texts), because OPA exposes Go's behaviour directly. Zones come from the
 * system's TZif files (/usr/share/zoneinfo, or TZDIR... deliberately not
 * the environment: a fixed directory) and are cached for the process. */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "core/buf.h"
#include "rego/builtins/common_internal.h"
#include "rego/builtins/time_internal.h"

#define ZONEINFO_DIR "/usr/share/zoneinfo"
#define SECS_PER_DAY 86400

/* ---- civil calendar ----------------------------------------------------------- */

static int64_t floordiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

static int64_t days_from_civil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  int64_t era = floordiv(y, 400);
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d) {
  z += 719468;
  int64_t era = floordiv(z, 146097);
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  *d = (int)(doy - (153 * mp + 2) / 5 + 1);
  *m = (int)(mp < 10 ? mp + 3 : mp - 9);
  *y = yoe + era * 400 + (*m <= 2);
}

static bool is_leap(int64_t y) { return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0); }

static int days_in(int m, int64_t y) {
  static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : dm[m - 1];
}

static const char *const long_months[] = {"January",   "February", "March",    "April",
                                          "May",       "June",     "July",     "August",
                                          "September", "October",  "November", "December"};
static const char *const short_months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
static const char *const long_days[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                        "Thursday", "Friday", "Saturday"};
static const char *const short_days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};

/* ---- zones ----------------------------------------------------------------------- */

typedef struct {
  int32_t off;
  bool isdst;
  char abbr[16];
} ttinfo;

typedef struct {
  int kind; /* 0 Julian Jn (1..365, no Feb 29), 1 day-of-year n (0..365), 2 Mm.w.d */
  int day, week, mon;
  int32_t time; /* seconds after local midnight */
} tzrule;

struct rb_zone {
  char name[64];
  size_t ntrans;
  int64_t *trans;
  uint8_t *idx;
  size_t ntypes;
  ttinfo *types;
  /* POSIX TZ footer */
  bool has_ext, ext_has_dst;
  char std_name[16], dst_name[16];
  int32_t std_off, dst_off;
  tzrule r_start, r_end;
};

static const ttinfo utc_type = {0, false, "UTC"};
static rb_zone utc_zone = {"UTC", 0, NULL, NULL, 1, (ttinfo *)&utc_type};

const rb_zone *rb_zone_utc(void) { return &utc_zone; }

static uint32_t be32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static int64_t be64(const uint8_t *p) { return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4)); }

/* POSIX TZ string pieces. */
static bool tz_name(const char **s, char *out, size_t cap) {
  const char *p = *s;
  size_t n = 0;
  if (*p == '<') {
    p++;
    while (*p && *p != '>') {
      if (n + 1 < cap) out[n++] = *p;
      p++;
    }
    if (*p != '>') return false;
    p++;
  } else {
    while (isalpha((unsigned char)*p)) {
      if (n + 1 < cap) out[n++] = *p;
      p++;
    }
  }
  out[n] = '\0';
  if (n < 3 && out[0] != '+' && out[0] != '-' && !isdigit((unsigned char)out[0])) return false;
  *s = p;
  return true;
}

static bool tz_num(const char **s, int32_t *secs, bool allow_sign) {
  const char *p = *s;
  int sign = 1;
  if (allow_sign && (*p == '+' || *p == '-')) sign = *p++ == '-' ? -1 : 1;
  if (!isdigit((unsigned char)*p)) return false;
  long h = 0, m = 0, sec = 0;
  while (isdigit((unsigned char)*p))
    h = h * 10 + (*p++ - '0');
  if (*p == ':') {
    p++;
    while (isdigit((unsigned char)*p))
      m = m * 10 + (*p++ - '0');
    if (*p == ':') {
      p++;
      while (isdigit((unsigned char)*p))
        sec = sec * 10 + (*p++ - '0');
    }
  }
  if (h > 167) return false;
  *secs = (int32_t)(sign * (h * 3600 + m * 60 + sec));
  *s = p;
  return true;
}

static bool tz_rule(const char **s, tzrule *r) {
  const char *p = *s;
  memset(r, 0, sizeof *r);
  if (*p == 'J') {
    p++;
    r->kind = 0;
    while (isdigit((unsigned char)*p))
      r->day = r->day * 10 + (*p++ - '0');
    if (r->day < 1 || r->day > 365) return false;
  } else if (*p == 'M') {
    p++;
    r->kind = 2;
    if (sscanf(p, "%d.%d.%d", &r->mon, &r->week, &r->day) != 3) return false;
    while (*p && *p != '/' && *p != ',')
      p++;
    if (r->mon < 1 || r->mon > 12 || r->week < 1 || r->week > 5 || r->day < 0 || r->day > 6) return false;
  } else if (isdigit((unsigned char)*p)) {
    r->kind = 1;
    while (isdigit((unsigned char)*p))
      r->day = r->day * 10 + (*p++ - '0');
    if (r->day > 365) return false;
  } else {
    return false;
  }
  r->time = 7200;
  if (*p == '/') {
    p++;
    if (!tz_num(&p, &r->time, true)) return false;
  }
  *s = p;
  return true;
}

static bool parse_tz_string(rb_zone *z, const char *s) {
  if (!*s) return false;
  if (!tz_name(&s, z->std_name, sizeof z->std_name)) return false;
  int32_t off;
  if (!tz_num(&s, &off, true)) return false;
  z->std_off = -off;
  z->has_ext = true;
  if (!*s) return true;
  if (!tz_name(&s, z->dst_name, sizeof z->dst_name)) return false;
  z->ext_has_dst = true;
  z->dst_off = z->std_off + 3600;
  if (*s && *s != ',') {
    if (!tz_num(&s, &off, true)) return false;
    z->dst_off = -off;
  }
  if (!*s) {
    const char *def = "M3.2.0,M11.1.0";
    return tz_rule(&def, &z->r_start) && *def++ == ',' && tz_rule(&def, &z->r_end);
  }
  if (*s++ != ',') return false;
  if (!tz_rule(&s, &z->r_start)) return false;
  if (*s++ != ',') return false;
  if (!tz_rule(&s, &z->r_end)) return false;
  return *s == '\0';
}

/* TZif (RFC 8536): use the 64-bit block of version 2+ files. */
static bool parse_tzif(rb_zone *z, const uint8_t *d, size_t n) {
  if (n < 44 || memcmp(d, "TZif", 4) != 0) return false;
  int version = d[4] ? d[4] - '0' : 1;
  size_t pos = 0;
  for (int pass = 0; pass < 2; pass++) {
    if (pos + 44 > n) return false;
    const uint8_t *h = d + pos;
    uint32_t isutcnt = be32(h + 20), isstdcnt = be32(h + 24), leapcnt = be32(h + 28), timecnt = be32(h + 32),
             typecnt = be32(h + 36), charcnt = be32(h + 40);
    size_t tsz = pass == 0 ? 4 : 8;
    if (timecnt > 100000 || typecnt > 256 || typecnt == 0 || charcnt > 100000 || leapcnt > 100000)
      return false;
    size_t body = timecnt * tsz + timecnt + typecnt * 6 + charcnt + leapcnt * (tsz + 4) + isstdcnt + isutcnt;
    if (pos + 44 + body > n) return false;
    if (pass == 0 && version >= 2) {
      pos += 44 + body;
      continue;
    }
    const uint8_t *p = h + 44;
    z->ntrans = timecnt;
    z->trans = calloc(timecnt ? timecnt : 1, sizeof(int64_t));
    z->idx = calloc(timecnt ? timecnt : 1, 1);
    z->types = calloc(typecnt, sizeof(ttinfo));
    z->ntypes = typecnt;
    if (!z->trans || !z->idx || !z->types) return false;
    for (uint32_t i = 0; i < timecnt; i++)
      z->trans[i] = tsz == 8 ? be64(p + i * 8) : (int32_t)be32(p + i * 4);
    p += timecnt * tsz;
    for (uint32_t i = 0; i < timecnt; i++) {
      if (p[i] >= typecnt) return false;
      z->idx[i] = p[i];
    }
    p += timecnt;
    const uint8_t *chars = p + typecnt * 6;
    for (uint32_t i = 0; i < typecnt; i++) {
      z->types[i].off = (int32_t)be32(p + i * 6);
      z->types[i].isdst = p[i * 6 + 4] != 0;
      uint8_t ai = p[i * 6 + 5];
      if (ai < charcnt)
        snprintf(z->types[i].abbr, sizeof z->types[i].abbr, "%.*s",
                 (int)strnlen((const char *)chars + ai, charcnt - ai), chars + ai);
    }
    if (pass == 1 || version < 2) {
      size_t footer = pos + 44 + body;
      if (version >= 2 && footer < n && d[footer] == '\n') {
        const uint8_t *e = memchr(d + footer + 1, '\n', n - footer - 1);
        if (e) {
          char tz[128];
          size_t len = (size_t)(e - (d + footer + 1));
          if (len < sizeof tz) {
            memcpy(tz, d + footer + 1, len);
            tz[len] = '\0';
            if (len && !parse_tz_string(z, tz)) z->has_ext = false;
          }
        }
      }
      return true;
    }
  }
  return false;
}

static void zone_free(rb_zone *z) {
  if (!z || z == &utc_zone) return;
  free(z->trans);
  free(z->idx);
  free(z->types);
  free(z);
}

/* More than the number of files under /usr/share/zoneinfo (posix/ and right/
 * included), so every loadable zone is cached exactly once. */
#define ZONE_CACHE_MAX 4096
static pthread_mutex_t zone_mu = PTHREAD_MUTEX_INITIALIZER;
static rb_zone *zone_cache[ZONE_CACHE_MAX];
static size_t zone_count;

static bool valid_zone_name(const char *s, size_t n) {
  if (n == 0 || n >= 64 || s[0] == '/' || s[0] == '.') return false;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (!(isalnum((unsigned char)c) || c == '/' || c == '_' || c == '-' || c == '+')) return false;
    if (c == '/' && i + 1 < n && s[i + 1] == '.') return false;
  }
  return true;
}

const rb_zone *rb_zone_load(const char *name, size_t len, char *err, size_t errlen) {
  if (len == 0 || (len == 3 && memcmp(name, "UTC", 3) == 0)) return &utc_zone;
  bool local = len == 5 && memcmp(name, "Local", 5) == 0;
  if (!local && !valid_zone_name(name, len)) {
    snprintf(err, errlen, "unknown time zone %.*s", (int)(len > 100 ? 100 : len), name);
    return NULL;
  }
  pthread_mutex_lock(&zone_mu);
  for (size_t i = 0; i < zone_count; i++) {
    if (strlen(zone_cache[i]->name) == len && memcmp(zone_cache[i]->name, name, len) == 0) {
      rb_zone *z = zone_cache[i];
      pthread_mutex_unlock(&zone_mu);
      return z;
    }
  }
  pthread_mutex_unlock(&zone_mu);
  char path[160];
  if (local)
    snprintf(path, sizeof path, "/etc/localtime");
  else
    snprintf(path, sizeof path, "%s/%.*s", ZONEINFO_DIR, (int)len, name);
  uint8_t *data = NULL;
  size_t dlen = 0;
  tr_err *e = tr_read_file(path, 1 << 20, &data, &dlen);
  if (e) {
    tr_err_free(e);
    if (local) return &utc_zone;
    snprintf(err, errlen, "unknown time zone %.*s", (int)len, name);
    return NULL;
  }
  rb_zone *z = calloc(1, sizeof *z);
  bool ok = z && parse_tzif(z, data, dlen);
  free(data);
  if (!ok) {
    zone_free(z);
    if (local) return &utc_zone;
    snprintf(err, errlen, "unknown time zone %.*s", (int)len, name);
    return NULL;
  }
  snprintf(z->name, sizeof z->name, "%.*s", (int)len, name);
  pthread_mutex_lock(&zone_mu);
  for (size_t i = 0; i < zone_count; i++) {
    if (strcmp(zone_cache[i]->name, z->name) == 0) { /* lost a race */
      rb_zone *other = zone_cache[i];
      pthread_mutex_unlock(&zone_mu);
      zone_free(z);
      return other;
    }
  }
  if (zone_count < ZONE_CACHE_MAX) {
    zone_cache[zone_count++] = z;
    pthread_mutex_unlock(&zone_mu);
    return z;
  }
  pthread_mutex_unlock(&zone_mu);
  zone_free(z);
  snprintf(err, errlen, "too many time zones loaded");
  return NULL;
}

/* Seconds from the start of `year` (UTC) at which rule r fires, for a
 * local offset off in effect before it. */
static int64_t rule_time(int64_t year, const tzrule *r, int32_t off) {
  int64_t s;
  if (r->kind == 0) {
    s = (int64_t)(r->day - 1) * SECS_PER_DAY;
    if (is_leap(year) && r->day >= 60) s += SECS_PER_DAY;
  } else if (r->kind == 1) {
    s = (int64_t)r->day * SECS_PER_DAY;
  } else {
    int64_t first = days_from_civil(year, r->mon, 1);
    int dow = (int)(((first + 4) % 7 + 7) % 7);
    int d = r->day - dow;
    if (d < 0) d += 7;
    for (int i = 1; i < r->week; i++) {
      if (d + 7 >= days_in(r->mon, year)) break;
      d += 7;
    }
    s = (first + d - days_from_civil(year, 1, 1)) * SECS_PER_DAY;
  }
  return s + r->time - off;
}

typedef struct {
  int32_t off;
  const char *abbr;
  int64_t start, end;
} zlookup;

static void ext_lookup(const rb_zone *z, int64_t sec, zlookup *out) {
  if (!z->ext_has_dst) {
    out->off = z->std_off;
    out->abbr = z->std_name;
    out->start = INT64_MIN;
    out->end = INT64_MAX;
    return;
  }
  int64_t days = floordiv(sec, SECS_PER_DAY), y;
  int m, d;
  civil_from_days(days, &y, &m, &d);
  int64_t ystart = days_from_civil(y, 1, 1) * SECS_PER_DAY;
  int64_t ysec = sec - ystart;
  int64_t s0 = rule_time(y, &z->r_start, z->std_off), s1 = rule_time(y, &z->r_end, z->dst_off);
  const char *stdn = z->std_name, *dstn = z->dst_name;
  int32_t stdo = z->std_off, dsto = z->dst_off;
  if (s1 < s0) {
    int64_t t = s0;
    s0 = s1;
    s1 = t;
    const char *tn = stdn;
    stdn = dstn;
    dstn = tn;
    int32_t to = stdo;
    stdo = dsto;
    dsto = to;
  }
  if (ysec < s0)
    *out = (zlookup){stdo, stdn, ystart, ystart + s0};
  else if (ysec >= s1)
    *out = (zlookup){stdo, stdn, ystart + s1, ystart + 365 * SECS_PER_DAY};
  else
    *out = (zlookup){dsto, dstn, ystart + s0, ystart + s1};
}

static size_t first_zone(const rb_zone *z) {
  bool used0 = false;
  for (size_t i = 0; i < z->ntrans && !used0; i++)
    used0 = z->idx[i] == 0;
  if (!used0) return 0;
  if (z->ntrans > 0 && z->types[z->idx[0]].isdst) {
    for (int zi = (int)z->idx[0] - 1; zi >= 0; zi--)
      if (!z->types[zi].isdst) return (size_t)zi;
  }
  for (size_t zi = 0; zi < z->ntypes; zi++)
    if (!z->types[zi].isdst) return zi;
  return 0;
}

static void zone_lookup(const rb_zone *z, int64_t sec, zlookup *out) {
  if (z->ntrans == 0 && z->has_ext) {
    ext_lookup(z, sec, out);
    return;
  }
  if (z->ntrans == 0 || sec < z->trans[0]) {
    const ttinfo *t = &z->types[first_zone(z)];
    *out = (zlookup){t->off, t->abbr, INT64_MIN, z->ntrans ? z->trans[0] : INT64_MAX};
    return;
  }
  size_t lo = 0, hi = z->ntrans;
  while (hi - lo > 1) {
    size_t mid = lo + (hi - lo) / 2;
    if (sec < z->trans[mid])
      hi = mid;
    else
      lo = mid;
  }
  const ttinfo *t = &z->types[z->idx[lo]];
  *out = (zlookup){t->off, t->abbr, z->trans[lo], lo + 1 < z->ntrans ? z->trans[lo + 1] : INT64_MAX};
  if (lo == z->ntrans - 1 && z->has_ext) {
    zlookup e;
    ext_lookup(z, sec, &e);
    if (e.start < out->start) e.start = out->start;
    *out = e;
  }
}

int32_t rb_zone_offset(const rb_zone *z, int64_t sec, const char **abbr) {
  zlookup l;
  zone_lookup(z, sec, &l);
  if (abbr) *abbr = l.abbr;
  return l.off;
}

void rb_time_civil(int64_t sec, int32_t nsec, const rb_zone *z, rb_civil *c) {
  const char *abbr;
  int32_t off = rb_zone_offset(z, sec, &abbr);
  int64_t local = sec + off;
  int64_t days = floordiv(local, SECS_PER_DAY);
  int64_t rem = local - days * SECS_PER_DAY;
  civil_from_days(days, &c->year, &c->month, &c->day);
  c->hour = (int)(rem / 3600);
  c->min = (int)(rem % 3600 / 60);
  c->sec = (int)(rem % 60);
  c->nsec = nsec;
  c->wday = (int)(((days + 4) % 7 + 7) % 7);
  c->yday = (int)(days - days_from_civil(c->year, 1, 1) + 1);
  c->offset = off;
  c->abbr = abbr;
}

bool rb_time_date(int64_t year, int64_t month, int64_t day, int64_t hour, int64_t min, int64_t sec,
                  int64_t nsec, const rb_zone *z, int64_t *out_sec, int32_t *out_nsec) {
  /* normalise month into year, nsec into sec (Go's norm) */
  int64_t m0 = month - 1;
  year += floordiv(m0, 12);
  m0 -= floordiv(m0, 12) * 12;
  if (year > 1000000000LL || year < -1000000000LL) return false;
  __int128 s = (__int128)nsec / 1000000000;
  int64_t ns = nsec % 1000000000;
  if (ns < 0) ns += 1000000000, s -= 1;
  __int128 days = (__int128)days_from_civil(year, m0 + 1, 1) + (__int128)day - 1;
  __int128 unix = days * SECS_PER_DAY + (__int128)hour * 3600 + (__int128)min * 60 + sec + s;
  if (unix > INT64_MAX / 2 || unix < INT64_MIN / 2) return false;
  int64_t u = (int64_t)unix;
  zlookup l;
  zone_lookup(z, u, &l);
  if (l.off != 0) {
    int64_t utc = u - l.off;
    if (utc < l.start || utc >= l.end) zone_lookup(z, utc, &l);
    u -= l.off;
  }
  *out_sec = u;
  *out_nsec = (int32_t)ns;
  return true;
}

/* ---- layouts ----------------------------------------------------------------------- */

enum {
  stdNone = 0,
  stdLongMonth,
  stdMonth,
  stdNumMonth,
  stdZeroMonth,
  stdLongWeekDay,
  stdWeekDay,
  stdDay,
  stdUnderDay,
  stdZeroDay,
  stdUnderYearDay,
  stdZeroYearDay,
  stdHour,
  stdHour12,
  stdZeroHour12,
  stdMinute,
  stdZeroMinute,
  stdSecond,
  stdZeroSecond,
  stdLongYear,
  stdYear,
  stdPM,
  stdpm,
  stdTZ,
  stdISO8601TZ,
  stdISO8601SecondsTZ,
  stdISO8601ShortTZ,
  stdISO8601ColonTZ,
  stdISO8601ColonSecondsTZ,
  stdNumTZ,
  stdNumSecondsTz,
  stdNumShortTZ,
  stdNumColonTZ,
  stdNumColonSecondsTZ,
  stdFracSecond0,
  stdFracSecond9,
};

typedef struct {
  size_t prefix_len; /* bytes before the chunk */
  int std;
  size_t std_len;  /* bytes of the chunk */
  int frac_digits; /* for stdFracSecond* */
  char frac_sep;
} chunk;

static bool starts_lower(const char *s, size_t n) { return n > 0 && s[0] >= 'a' && s[0] <= 'z'; }
static bool has(const char *l, size_t n, size_t i, const char *lit) {
  size_t k = strlen(lit);
  return i + k <= n && memcmp(l + i, lit, k) == 0;
}

static chunk next_chunk(const char *l, size_t n) {
  static const int std0x[] = {stdZeroMonth, stdZeroDay, stdZeroHour12, stdZeroMinute, stdZeroSecond, stdYear};
  for (size_t i = 0; i < n; i++) {
    char c = l[i];
    chunk r = {i, 0, 0, 0, 0};
    switch (c) {
    case 'J':
      if (has(l, n, i, "Jan")) {
        if (has(l, n, i, "January")) return r.std = stdLongMonth, r.std_len = 7, r;
        if (!starts_lower(l + i + 3, n - i - 3)) return r.std = stdMonth, r.std_len = 3, r;
      }
      break;
    case 'M':
      if (has(l, n, i, "Mon")) {
        if (has(l, n, i, "Monday")) return r.std = stdLongWeekDay, r.std_len = 6, r;
        if (!starts_lower(l + i + 3, n - i - 3)) return r.std = stdWeekDay, r.std_len = 3, r;
      }
      if (has(l, n, i, "MST")) return r.std = stdTZ, r.std_len = 3, r;
      break;
    case '0':
      if (i + 1 < n && l[i + 1] >= '1' && l[i + 1] <= '6')
        return r.std = std0x[l[i + 1] - '1'], r.std_len = 2, r;
      if (has(l, n, i, "002")) return r.std = stdZeroYearDay, r.std_len = 3, r;
      break;
    case '1':
      if (i + 1 < n && l[i + 1] == '5') return r.std = stdHour, r.std_len = 2, r;
      return r.std = stdNumMonth, r.std_len = 1, r;
    case '2':
      if (has(l, n, i, "2006")) return r.std = stdLongYear, r.std_len = 4, r;
      return r.std = stdDay, r.std_len = 1, r;
    case '_':
      if (i + 1 < n && l[i + 1] == '2') {
        if (has(l, n, i + 1, "2006")) return r.prefix_len = i + 1, r.std = stdLongYear, r.std_len = 4, r;
        return r.std = stdUnderDay, r.std_len = 2, r;
      }
      if (has(l, n, i, "__2")) return r.std = stdUnderYearDay, r.std_len = 3, r;
      break;
    case '3': return r.std = stdHour12, r.std_len = 1, r;
    case '4': return r.std = stdMinute, r.std_len = 1, r;
    case '5': return r.std = stdSecond, r.std_len = 1, r;
    case 'P':
      if (i + 1 < n && l[i + 1] == 'M') return r.std = stdPM, r.std_len = 2, r;
      break;
    case 'p':
      if (i + 1 < n && l[i + 1] == 'm') return r.std = stdpm, r.std_len = 2, r;
      break;
    case '-':
      if (has(l, n, i, "-070000")) return r.std = stdNumSecondsTz, r.std_len = 7, r;
      if (has(l, n, i, "-07:00:00")) return r.std = stdNumColonSecondsTZ, r.std_len = 9, r;
      if (has(l, n, i, "-0700")) return r.std = stdNumTZ, r.std_len = 5, r;
      if (has(l, n, i, "-07:00")) return r.std = stdNumColonTZ, r.std_len = 6, r;
      if (has(l, n, i, "-07")) return r.std = stdNumShortTZ, r.std_len = 3, r;
      break;
    case 'Z':
      if (has(l, n, i, "Z070000")) return r.std = stdISO8601SecondsTZ, r.std_len = 7, r;
      if (has(l, n, i, "Z07:00:00")) return r.std = stdISO8601ColonSecondsTZ, r.std_len = 9, r;
      if (has(l, n, i, "Z0700")) return r.std = stdISO8601TZ, r.std_len = 5, r;
      if (has(l, n, i, "Z07:00")) return r.std = stdISO8601ColonTZ, r.std_len = 6, r;
      if (has(l, n, i, "Z07")) return r.std = stdISO8601ShortTZ, r.std_len = 3, r;
      break;
    case '.':
    case ',':
      if (i + 1 < n && (l[i + 1] == '0' || l[i + 1] == '9')) {
        char ch = l[i + 1];
        size_t j = i + 1;
        while (j < n && l[j] == ch)
          j++;
        if (!(j < n && isdigit((unsigned char)l[j]))) {
          r.std = ch == '0' ? stdFracSecond0 : stdFracSecond9;
          r.std_len = j - i;
          r.frac_digits = (int)(j - (i + 1));
          r.frac_sep = c;
          return r;
        }
      }
      break;
    default: break;
    }
  }
  return (chunk){n, 0, 0, 0, 0};
}

static void append_int(tr_buf *b, int64_t x, int width) {
  char tmp[32];
  if (x < 0) {
    tr_buf_append_byte(b, '-');
    x = -x;
  }
  int n = snprintf(tmp, sizeof tmp, "%lld", (long long)x);
  for (int i = n; i < width; i++)
    tr_buf_append_byte(b, '0');
  tr_buf_append(b, tmp, (size_t)n);
}

bool rb_time_format(tr_buf *b, const char *l, size_t n, int64_t sec, int32_t nsec, const rb_zone *z) {
  rb_civil c;
  rb_time_civil(sec, nsec, z, &c);
  while (n > 0) {
    chunk ch = next_chunk(l, n);
    tr_buf_append(b, l, ch.prefix_len);
    if (ch.std == stdNone) break;
    l += ch.prefix_len + ch.std_len;
    n -= ch.prefix_len + ch.std_len;
    switch (ch.std) {
    case stdYear: {
      int64_t y = c.year % 100;
      if (y < 0) y = -y;
      append_int(b, y, 2);
      break;
    }
    case stdLongYear: append_int(b, c.year, 4); break;
    case stdMonth: tr_buf_append_str(b, short_months[c.month - 1]); break;
    case stdLongMonth: tr_buf_append_str(b, long_months[c.month - 1]); break;
    case stdNumMonth: append_int(b, c.month, 0); break;
    case stdZeroMonth: append_int(b, c.month, 2); break;
    case stdWeekDay: tr_buf_append_str(b, short_days[c.wday]); break;
    case stdLongWeekDay: tr_buf_append_str(b, long_days[c.wday]); break;
    case stdDay: append_int(b, c.day, 0); break;
    case stdUnderDay:
      if (c.day < 10) tr_buf_append_byte(b, ' ');
      append_int(b, c.day, 0);
      break;
    case stdZeroDay: append_int(b, c.day, 2); break;
    case stdUnderYearDay:
      if (c.yday < 100) {
        tr_buf_append_byte(b, ' ');
        if (c.yday < 10) tr_buf_append_byte(b, ' ');
      }
      append_int(b, c.yday, 0);
      break;
    case stdZeroYearDay: append_int(b, c.yday, 3); break;
    case stdHour: append_int(b, c.hour, 2); break;
    case stdHour12:
    case stdZeroHour12: {
      int hr = c.hour % 12;
      if (hr == 0) hr = 12;
      append_int(b, hr, ch.std == stdHour12 ? 0 : 2);
      break;
    }
    case stdMinute: append_int(b, c.min, 0); break;
    case stdZeroMinute: append_int(b, c.min, 2); break;
    case stdSecond: append_int(b, c.sec, 0); break;
    case stdZeroSecond: append_int(b, c.sec, 2); break;
    case stdPM: tr_buf_append_str(b, c.hour >= 12 ? "PM" : "AM"); break;
    case stdpm: tr_buf_append_str(b, c.hour >= 12 ? "pm" : "am"); break;
    case stdISO8601TZ:
    case stdISO8601ColonTZ:
    case stdISO8601SecondsTZ:
    case stdISO8601ShortTZ:
    case stdISO8601ColonSecondsTZ:
    case stdNumTZ:
    case stdNumColonTZ:
    case stdNumSecondsTz:
    case stdNumShortTZ:
    case stdNumColonSecondsTZ: {
      bool iso = ch.std >= stdISO8601TZ && ch.std <= stdISO8601ColonSecondsTZ;
      if (c.offset == 0 && iso) {
        tr_buf_append_byte(b, 'Z');
        break;
      }
      int zone = c.offset / 60, abso = c.offset;
      if (zone < 0) {
        tr_buf_append_byte(b, '-');
        zone = -zone;
        abso = -abso;
      } else {
        tr_buf_append_byte(b, '+');
      }
      append_int(b, zone / 60, 2);
      bool colon = ch.std == stdISO8601ColonTZ || ch.std == stdNumColonTZ ||
                   ch.std == stdISO8601ColonSecondsTZ || ch.std == stdNumColonSecondsTZ;
      if (colon) tr_buf_append_byte(b, ':');
      if (ch.std != stdNumShortTZ && ch.std != stdISO8601ShortTZ) append_int(b, zone % 60, 2);
      if (ch.std == stdISO8601SecondsTZ || ch.std == stdNumSecondsTz || ch.std == stdNumColonSecondsTZ ||
          ch.std == stdISO8601ColonSecondsTZ) {
        if (ch.std == stdNumColonSecondsTZ || ch.std == stdISO8601ColonSecondsTZ) tr_buf_append_byte(b, ':');
        append_int(b, abso % 60, 2);
      }
      break;
    }
    case stdTZ:
      if (c.abbr && c.abbr[0]) {
        tr_buf_append_str(b, c.abbr);
      } else {
        int zone = c.offset / 60;
        if (zone < 0) {
          tr_buf_append_byte(b, '-');
          zone = -zone;
        } else {
          tr_buf_append_byte(b, '+');
        }
        append_int(b, zone / 60, 2);
        append_int(b, zone % 60, 2);
      }
      break;
    case stdFracSecond0:
    case stdFracSecond9: {
      bool trim = ch.std == stdFracSecond9;
      if (trim && (ch.frac_digits == 0 || c.nsec == 0)) break;
      char digits[16];
      snprintf(digits, sizeof digits, "%09d", (int)c.nsec);
      int nd = ch.frac_digits < 9 ? ch.frac_digits : 9;
      if (trim)
        while (nd > 0 && digits[nd - 1] == '0')
          nd--;
      if (trim && nd == 0) break;
      tr_buf_append_byte(b, (uint8_t)ch.frac_sep);
      tr_buf_append(b, digits, (size_t)nd);
      break;
    }
    default: break;
    }
  }
  return b->data != NULL || b->len == 0;
}

static const struct {
  const char *name, *layout;
} named_layouts[] = {
    {"ANSIC", "Mon Jan _2 15:04:05 2006"},          {"UnixDate", "Mon Jan _2 15:04:05 MST 2006"},
    {"RubyDate", "Mon Jan 02 15:04:05 -0700 2006"}, {"RFC822", "02 Jan 06 15:04 MST"},
    {"RFC822Z", "02 Jan 06 15:04 -0700"},           {"RFC850", "Monday, 02-Jan-06 15:04:05 MST"},
    {"RFC1123", "Mon, 02 Jan 2006 15:04:05 MST"},   {"RFC1123Z", "Mon, 02 Jan 2006 15:04:05 -0700"},
    {"RFC3339", "2006-01-02T15:04:05Z07:00"},       {"RFC3339Nano", "2006-01-02T15:04:05.999999999Z07:00"},
};

const char *rb_time_named_layout(const char *name, size_t len) {
  for (size_t i = 0; i < sizeof named_layouts / sizeof *named_layouts; i++)
    if (strlen(named_layouts[i].name) == len && memcmp(named_layouts[i].name, name, len) == 0)
      return named_layouts[i].layout;
  return NULL;
}

/* ---- parsing --------------------------------------------------------------------- */

/* Go's time.quote (enough for error messages). */
static void quote(tr_buf *b, const char *s, size_t n) {
  tr_buf_append_byte(b, '"');
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\') {
      tr_buf_append_byte(b, '\\');
      tr_buf_append_byte(b, c);
    } else if (c < 0x20 || c >= 0x7f) {
      /* Go prints non-ASCII runes with \x escapes for each byte */
      char tmp[8];
      snprintf(tmp, sizeof tmp, "\\x%02x", c);
      tr_buf_append_str(b, tmp);
    } else {
      tr_buf_append_byte(b, c);
    }
  }
  tr_buf_append_byte(b, '"');
}

static bool parse_error(char *err, size_t errlen, const char *layout, size_t llen, const char *value,
                        size_t vlen, const char *lelem, size_t lelen, const char *velem, size_t velen,
                        const char *msg) {
  tr_buf b = TR_BUF_INIT;
  tr_buf_append_str(&b, "parsing time ");
  quote(&b, value, vlen);
  if (msg) {
    tr_buf_append_str(&b, msg);
  } else {
    tr_buf_append_str(&b, " as ");
    quote(&b, layout, llen);
    tr_buf_append_str(&b, ": cannot parse ");
    quote(&b, velem, velen);
    tr_buf_append_str(&b, " as ");
    quote(&b, lelem, lelen);
  }
  snprintf(err, errlen, "%s", b.data ? (const char *)b.data : "parsing time: out of memory");
  tr_buf_free(&b);
  return false;
}

static bool isdig(const char *s, size_t n, size_t i) { return i < n && s[i] >= '0' && s[i] <= '9'; }

/* getnum: one or two digits (exactly two when fixed). */
static bool getnum(const char **s, size_t *n, bool fixed, int *out) {
  if (!isdig(*s, *n, 0)) return false;
  if (!isdig(*s, *n, 1)) {
    if (fixed) return false;
    *out = (*s)[0] - '0';
    (*s)++, (*n)--;
    return true;
  }
  *out = ((*s)[0] - '0') * 10 + (*s)[1] - '0';
  *s += 2, *n -= 2;
  return true;
}

static bool getnum3(const char **s, size_t *n, bool fixed, int *out) {
  int v = 0, i = 0;
  for (; i < 3 && isdig(*s, *n, (size_t)i); i++)
    v = v * 10 + (*s)[i] - '0';
  if (i == 0 || (fixed && i != 3)) return false;
  *out = v;
  *s += i, *n -= (size_t)i;
  return true;
}

static int lookup_name(const char *const *tab, int count, const char **s, size_t *n) {
  for (int i = 0; i < count; i++) {
    size_t k = strlen(tab[i]);
    if (*n >= k && strncasecmp(*s, tab[i], k) == 0) {
      *s += k, *n -= k;
      return i;
    }
  }
  return -1;
}

static void cutspace(const char **s, size_t *n) {
  while (*n > 0 && **s == ' ')
    (*s)++, (*n)--;
}

static bool skip_prefix(const char **v, size_t *vn, const char *p, size_t pn) {
  while (pn > 0) {
    if (*p == ' ') {
      if (*vn > 0 && **v != ' ') return false;
      while (pn > 0 && *p == ' ')
        p++, pn--;
      cutspace(v, vn);
      continue;
    }
    if (*vn == 0 || **v != *p) return false;
    p++, pn--;
    (*v)++, (*vn)--;
  }
  return true;
}

/* leadingInt: digits to uint64 with overflow detection. */
static bool leading_int(const char **s, size_t *n, uint64_t *x) {
  uint64_t v = 0;
  size_t i = 0;
  for (; i < *n && (*s)[i] >= '0' && (*s)[i] <= '9'; i++) {
    if (v > (UINT64_C(1) << 63) / 10) return false;
    v = v * 10 + (uint64_t)((*s)[i] - '0');
    if (v > (UINT64_C(1) << 63)) return false;
  }
  *s += i, *n -= i;
  *x = v;
  return true;
}

static size_t parse_signed_offset(const char *v, size_t n) {
  if (n < 1 || (v[0] != '-' && v[0] != '+')) return 0;
  const char *p = v + 1;
  size_t pn = n - 1;
  uint64_t x;
  if (!leading_int(&p, &pn, &x) || pn == n - 1 || x > 23) return 0;
  return n - pn;
}

static bool parse_time_zone(const char *v, size_t n, size_t *len) {
  if (n < 3) return false;
  if (n >= 4 && (memcmp(v, "ChST", 4) == 0 || memcmp(v, "MeST", 4) == 0)) return *len = 4, true;
  if (memcmp(v, "GMT", 3) == 0) {
    *len = 3 + (n > 3 ? parse_signed_offset(v + 3, n - 3) : 0);
    return true;
  }
  if (v[0] == '+' || v[0] == '-') {
    *len = parse_signed_offset(v, n);
    return *len > 0;
  }
  size_t up = 0;
  while (up < 6 && up < n && v[up] >= 'A' && v[up] <= 'Z')
    up++;
  switch (up) {
  case 3: *len = 3; return true;
  case 4:
    if (v[3] == 'T' || memcmp(v, "WITA", 4) == 0) return *len = 4, true;
    return false;
  case 5:
    if (v[4] == 'T') return *len = 5, true;
    return false;
  default: return false;
  }
}

/* parseNanoseconds(value, nbytes): value[0] is the separator. */
static bool parse_nanos(const char *v, size_t nbytes, int32_t *ns, const char **range_err) {
  if (v[0] != '.' && v[0] != ',') return false;
  if (nbytes > 10) nbytes = 10;
  int64_t x = 0;
  for (size_t i = 1; i < nbytes; i++) {
    if (v[i] < '0' || v[i] > '9') return false;
    x = x * 10 + (v[i] - '0');
  }
  for (size_t i = nbytes; i < 10; i++)
    x *= 10;
  if (x < 0 || x >= 1000000000) {
    *range_err = "fractional second";
    return true;
  }
  *ns = (int32_t)x;
  return true;
}

bool rb_time_parse(const char *layout, size_t llen, const char *value, size_t vlen, int64_t *out_sec,
                   int32_t *out_nsec, char *err, size_t errlen) {
  const char *l = layout, *v = value;
  size_t ln = llen, vn = vlen;
  bool am = false, pm = false;
  int64_t year = 0;
  int month = -1, day = -1, yday = -1, hour = 0, min = 0, sec = 0;
  int32_t nsec = 0;
  bool utc_set = false;
  long zone_offset = -1;
  const char *zone_name = NULL;
  size_t zone_name_len = 0;
  for (;;) {
    chunk ch = next_chunk(l, ln);
    const char *stdstr = l + ch.prefix_len;
    if (!skip_prefix(&v, &vn, l, ch.prefix_len))
      return parse_error(err, errlen, layout, llen, value, vlen, l, ch.prefix_len, v, vn, NULL);
    if (ch.std == stdNone) {
      if (vn != 0) {
        tr_buf m = TR_BUF_INIT;
        tr_buf_append_str(&m, ": extra text: ");
        quote(&m, v, vn);
        parse_error(err, errlen, layout, llen, value, vlen, NULL, 0, NULL, 0,
                    m.data ? (const char *)m.data : "");
        tr_buf_free(&m);
        return false;
      }
      break;
    }
    l += ch.prefix_len + ch.std_len;
    ln -= ch.prefix_len + ch.std_len;
    const char *hold = v;
    size_t holdn = vn;
    bool bad = false;
    const char *range_err = NULL;
    int tmp;
    switch (ch.std) {
    case stdYear:
      if (vn < 2 || !isdig(v, vn, 0) || !isdig(v, vn, 1)) {
        bad = true;
        break;
      }
      year = (v[0] - '0') * 10 + (v[1] - '0');
      year += year >= 69 ? 1900 : 2000;
      v += 2, vn -= 2;
      break;
    case stdLongYear:
      if (vn < 4 || !isdig(v, vn, 0)) {
        bad = true;
        break;
      }
      year = 0;
      for (int i = 0; i < 4; i++) {
        if (!isdig(v, vn, (size_t)i)) bad = true;
        year = year * 10 + (v[i] - '0');
      }
      v += 4, vn -= 4;
      break;
    case stdMonth:
      month = lookup_name(short_months, 12, &v, &vn) + 1;
      bad = month == 0;
      break;
    case stdLongMonth:
      month = lookup_name(long_months, 12, &v, &vn) + 1;
      bad = month == 0;
      break;
    case stdNumMonth:
    case stdZeroMonth:
      bad = !getnum(&v, &vn, ch.std == stdZeroMonth, &month);
      if (!bad && (month <= 0 || month > 12)) range_err = "month";
      break;
    case stdWeekDay: bad = lookup_name(short_days, 7, &v, &vn) < 0; break;
    case stdLongWeekDay: bad = lookup_name(long_days, 7, &v, &vn) < 0; break;
    case stdDay:
    case stdUnderDay:
    case stdZeroDay:
      if (ch.std == stdUnderDay && vn > 0 && v[0] == ' ') v++, vn--;
      bad = !getnum(&v, &vn, ch.std == stdZeroDay, &day);
      break;
    case stdUnderYearDay:
    case stdZeroYearDay:
      for (int i = 0; i < 2; i++)
        if (ch.std == stdUnderYearDay && vn > 0 && v[0] == ' ') v++, vn--;
      bad = !getnum3(&v, &vn, ch.std == stdZeroYearDay, &yday);
      break;
    case stdHour:
      bad = !getnum(&v, &vn, false, &hour);
      if (hour < 0 || hour >= 24) range_err = "hour";
      break;
    case stdHour12:
    case stdZeroHour12:
      bad = !getnum(&v, &vn, ch.std == stdZeroHour12, &hour);
      if (hour < 0 || hour > 12) range_err = "hour";
      break;
    case stdMinute:
    case stdZeroMinute:
      bad = !getnum(&v, &vn, ch.std == stdZeroMinute, &min);
      if (min < 0 || min >= 60) range_err = "minute";
      break;
    case stdSecond:
    case stdZeroSecond:
      bad = !getnum(&v, &vn, ch.std == stdZeroSecond, &sec);
      if (bad) break;
      if (sec < 0 || sec >= 60) {
        range_err = "second";
        break;
      }
      if (vn >= 2 && (v[0] == '.' || v[0] == ',') && isdig(v, vn, 1)) {
        chunk nx = next_chunk(l, ln);
        if (nx.std == stdFracSecond0 || nx.std == stdFracSecond9) break;
        size_t k = 2;
        while (k < vn && isdig(v, vn, k))
          k++;
        bad = !parse_nanos(v, k, &nsec, &range_err);
        v += k, vn -= k;
      }
      break;
    case stdPM:
    case stdpm:
      if (vn < 2) {
        bad = true;
        break;
      }
      if (memcmp(v, ch.std == stdPM ? "PM" : "pm", 2) == 0)
        pm = true;
      else if (memcmp(v, ch.std == stdPM ? "AM" : "am", 2) == 0)
        am = true;
      else
        bad = true;
      v += 2, vn -= 2;
      break;
    case stdISO8601TZ:
    case stdISO8601ShortTZ:
    case stdISO8601ColonTZ:
    case stdISO8601SecondsTZ:
    case stdISO8601ColonSecondsTZ:
      if (vn >= 1 && v[0] == 'Z') {
        v++, vn--;
        utc_set = true;
        break;
      }
      /* fallthrough */
    case stdNumTZ:
    case stdNumShortTZ:
    case stdNumColonTZ:
    case stdNumSecondsTz:
    case stdNumColonSecondsTZ: {
      char sign;
      char hh[2], mm[2] = {'0', '0'}, ss[2] = {'0', '0'};
      int s = ch.std;
      if (s == stdISO8601ColonTZ || s == stdNumColonTZ) {
        if (vn < 6 || v[3] != ':') {
          bad = true;
          break;
        }
        sign = v[0], memcpy(hh, v + 1, 2), memcpy(mm, v + 4, 2);
        v += 6, vn -= 6;
      } else if (s == stdNumShortTZ || s == stdISO8601ShortTZ) {
        if (vn < 3) {
          bad = true;
          break;
        }
        sign = v[0], memcpy(hh, v + 1, 2);
        v += 3, vn -= 3;
      } else if (s == stdISO8601ColonSecondsTZ || s == stdNumColonSecondsTZ) {
        if (vn < 9 || v[3] != ':' || v[6] != ':') {
          bad = true;
          break;
        }
        sign = v[0], memcpy(hh, v + 1, 2), memcpy(mm, v + 4, 2), memcpy(ss, v + 7, 2);
        v += 9, vn -= 9;
      } else if (s == stdISO8601SecondsTZ || s == stdNumSecondsTz) {
        if (vn < 7) {
          bad = true;
          break;
        }
        sign = v[0], memcpy(hh, v + 1, 2), memcpy(mm, v + 3, 2), memcpy(ss, v + 5, 2);
        v += 7, vn -= 7;
      } else {
        if (vn < 5) {
          bad = true;
          break;
        }
        sign = v[0], memcpy(hh, v + 1, 2), memcpy(mm, v + 3, 2);
        v += 5, vn -= 5;
      }
      int hr, mi, se;
      const char *p;
      size_t pn;
      p = hh, pn = 2;
      bad = !getnum(&p, &pn, true, &hr);
      p = mm, pn = 2;
      if (!bad) bad = !getnum(&p, &pn, true, &mi);
      p = ss, pn = 2;
      if (!bad) bad = !getnum(&p, &pn, true, &se);
      if (bad) break;
      if (hr > 24) range_err = "time zone offset hour";
      if (mi > 60) range_err = "time zone offset minute";
      if (se > 60) range_err = "time zone offset second";
      zone_offset = (hr * 60 + mi) * 60 + se;
      if (sign == '-')
        zone_offset = -zone_offset;
      else if (sign != '+')
        bad = true;
      break;
    }
    case stdTZ: {
      if (vn >= 3 && memcmp(v, "UTC", 3) == 0) {
        utc_set = true;
        v += 3, vn -= 3;
        break;
      }
      size_t zl;
      if (!parse_time_zone(v, vn, &zl)) {
        bad = true;
        break;
      }
      zone_name = v;
      zone_name_len = zl;
      v += zl, vn -= zl;
      break;
    }
    case stdFracSecond0: {
      size_t nd = 1 + (size_t)ch.frac_digits;
      if (vn < nd) {
        bad = true;
        break;
      }
      bad = !parse_nanos(v, nd, &nsec, &range_err);
      v += nd, vn -= nd;
      break;
    }
    case stdFracSecond9: {
      if (vn < 2 || (v[0] != '.' && v[0] != ',') || v[1] < '0' || v[1] > '9') break;
      size_t i = 0;
      while (i + 1 < vn && v[i + 1] >= '0' && v[i + 1] <= '9')
        i++;
      bad = !parse_nanos(v, 1 + i, &nsec, &range_err);
      v += 1 + i, vn -= 1 + i;
      break;
    }
    default: break;
    }
    (void)tmp;
    if (range_err) {
      char m[80];
      snprintf(m, sizeof m, ": %s out of range", range_err);
      return parse_error(err, errlen, layout, llen, value, vlen, NULL, 0, NULL, 0, m);
    }
    if (bad)
      return parse_error(err, errlen, layout, llen, value, vlen, stdstr, ch.std_len, hold, holdn, NULL);
  }
  if (pm && hour < 12)
    hour += 12;
  else if (am && hour == 12)
    hour = 0;
  if (yday >= 0) {
    static const int days_before[] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365};
    int d = 0, m = 0;
    if (is_leap(year)) {
      if (yday == 31 + 29)
        m = 2, d = 29;
      else if (yday > 31 + 29)
        yday--;
    }
    if (yday < 1 || yday > 365)
      return parse_error(err, errlen, layout, llen, value, vlen, NULL, 0, NULL, 0,
                         ": day-of-year out of range");
    if (m == 0) {
      m = (yday - 1) / 31 + 1;
      if (days_before[m] < yday) m++;
      d = yday - days_before[m - 1];
    }
    if (month >= 0 && month != m)
      return parse_error(err, errlen, layout, llen, value, vlen, NULL, 0, NULL, 0,
                         ": day-of-year does not match month");
    month = m;
    if (day >= 0 && day != d)
      return parse_error(err, errlen, layout, llen, value, vlen, NULL, 0, NULL, 0,
                         ": day-of-year does not match day");
    day = d;
  } else {
    if (month < 0) month = 1;
    if (day < 0) day = 1;
  }
  if (day < 1 || day > days_in(month, year))
    return parse_error(err, errlen, layout, llen, value, vlen, NULL, 0, NULL, 0, ": day out of range");
  int64_t s;
  int32_t ns;
  if (!rb_time_date(year, month, day, hour, min, sec, nsec, &utc_zone, &s, &ns))
    return parse_error(err, errlen, layout, llen, value, vlen, NULL, 0, NULL, 0, ": out of range");
  /* A zone abbreviation (MST, GMT+3) only names a fabricated location in
   * Go: the instant stays as if UTC. A numeric offset shifts it. */
  (void)zone_name;
  (void)zone_name_len;
  if (!utc_set && zone_offset != -1) s -= zone_offset;
  *out_sec = s;
  *out_nsec = ns;
  return true;
}

/* ---- durations -------------------------------------------------------------------- */

bool rb_parse_duration(const char *s, size_t n, int64_t *out, char *err, size_t errlen) {
  const char *orig = s;
  size_t on = n;
#define DUR_ERR(fmt_)                                                                                        \
  do {                                                                                                       \
    snprintf(err, errlen, fmt_ "\"%.*s\"", (int)(on > 200 ? 200 : on), orig);                                \
    return false;                                                                                            \
  } while (0)
  uint64_t d = 0;
  bool neg = false;
  if (n > 0 && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    s++, n--;
  }
  if (n == 1 && s[0] == '0') return *out = 0, true;
  if (n == 0) DUR_ERR("time: invalid duration ");
  while (n > 0) {
    uint64_t v = 0, f = 0;
    double scale = 1;
    if (!(s[0] == '.' || (s[0] >= '0' && s[0] <= '9'))) DUR_ERR("time: invalid duration ");
    size_t pl = n;
    if (!leading_int(&s, &n, &v)) DUR_ERR("time: invalid duration ");
    bool pre = pl != n, post = false;
    if (n > 0 && s[0] == '.') {
      s++, n--;
      size_t pl2 = n;
      bool overflow = false;
      while (n > 0 && s[0] >= '0' && s[0] <= '9') {
        if (!overflow) {
          if (f > (UINT64_C(1) << 63) / 10)
            overflow = true;
          else {
            uint64_t y = f * 10 + (uint64_t)(s[0] - '0');
            if (y > (UINT64_C(1) << 63))
              overflow = true;
            else
              f = y, scale *= 10;
          }
        }
        s++, n--;
      }
      post = pl2 != n;
    }
    if (!pre && !post) DUR_ERR("time: invalid duration ");
    size_t i = 0;
    while (i < n && !(s[i] == '.' || (s[i] >= '0' && s[i] <= '9')))
      i++;
    if (i == 0) DUR_ERR("time: missing unit in duration ");
    uint64_t unit = 0;
    if (i == 2 && !memcmp(s, "ns", 2))
      unit = 1;
    else if ((i == 2 && !memcmp(s, "us", 2)) ||
             (i == 3 && (!memcmp(s, "\xc2\xb5s", 3) || !memcmp(s, "\xce\xbcs", 3))))
      unit = 1000;
    else if (i == 2 && !memcmp(s, "ms", 2))
      unit = 1000000;
    else if (i == 1 && s[0] == 's')
      unit = 1000000000;
    else if (i == 1 && s[0] == 'm')
      unit = 60000000000ULL;
    else if (i == 1 && s[0] == 'h')
      unit = 3600000000000ULL;
    if (!unit) {
      snprintf(err, errlen, "time: unknown unit \"%.*s\" in duration \"%.*s\"", (int)(i > 50 ? 50 : i), s,
               (int)(on > 200 ? 200 : on), orig);
      return false;
    }
    s += i, n -= i;
    if (v > (UINT64_C(1) << 63) / unit) DUR_ERR("time: invalid duration ");
    v *= unit;
    if (f > 0) {
      v += (uint64_t)((double)f * ((double)unit / scale));
      if (v > (UINT64_C(1) << 63)) DUR_ERR("time: invalid duration ");
    }
    d += v;
    if (d > (UINT64_C(1) << 63)) DUR_ERR("time: invalid duration ");
  }
  if (neg) {
    *out = (int64_t)(0 - d);
    return true;
  }
  if (d > (uint64_t)INT64_MAX) DUR_ERR("time: invalid duration ");
  *out = (int64_t)d;
  return true;
#undef DUR_ERR
}

/* ---- builtins --------------------------------------------------------------------- */

static rego_bi_status ns_result(rego_bctx *ctx, int64_t sec, int32_t nsec, rv **out) {
  __int128 ns = (__int128)sec * 1000000000 + nsec;
  if (ns > INT64_MAX || ns < INT64_MIN) return rego_bi_error(ctx, "time outside of valid range");
  *out = rv_int(ctx->arena, (int64_t)ns);
  return REGO_BI_OK;
}

static void split_ns(int64_t ns, int64_t *sec, int32_t *nsec) {
  int64_t r = ns % 1000000000;
  *sec = ns / 1000000000 - (r < 0);
  *nsec = (int32_t)(r < 0 ? r + 1000000000 : r);
}

/* OPA's tzTime: number, or [number, tz, layout]. */
static rego_bi_status tz_time(rego_bctx *ctx, const rv *a, int64_t *sec, int32_t *nsec, const rb_zone **zone,
                              const char **layout, size_t *layout_len) {
  static const char *expected = "either number (ns) or [number (ns), string (tz)]";
  const rv *num = a;
  *zone = &utc_zone;
  if (layout) *layout = NULL, *layout_len = 0;
  if (rv_is(a, RV_ARRAY)) {
    if (a->u.arr.len == 0) return rego_bi_operand_error(ctx, 1, expected, a);
    num = a->u.arr.items[0];
    if (!rv_is(num, RV_NUMBER)) return rego_bi_operand_error(ctx, 1, "number", num);
    if (a->u.arr.len > 1) {
      const rv *tz = a->u.arr.items[1];
      if (!rv_is(tz, RV_STRING)) return rego_bi_operand_error(ctx, 1, "string", tz);
      char err[200];
      *zone = rb_zone_load(tz->u.str.s, tz->u.str.len, err, sizeof err);
      if (!*zone) return rego_bi_error(ctx, "%s", err);
    }
    if (a->u.arr.len > 2) {
      const rv *lay = a->u.arr.items[2];
      if (!rv_is(lay, RV_STRING)) return rego_bi_operand_error(ctx, 1, "string", lay);
      if (layout) *layout = lay->u.str.s, *layout_len = lay->u.str.len;
    }
  } else if (!rv_is(a, RV_NUMBER)) {
    return rego_bi_operand_error(ctx, 1, expected, a);
  }
  int64_t ns;
  if (num->numkind == RV_NUM_BIG || !rv_num_get_i64(num, &ns)) return rego_bi_error(ctx, "timestamp too big");
  split_ns(ns, sec, nsec);
  return REGO_BI_OK;
}

static rego_bi_status bi_now_ns(rego_bctx *ctx, rv *const *args, rv **out) {
  (void)args;
  int64_t now = ctx->now_ns;
  if (now == 0) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    now = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
  }
  *out = rv_int(ctx->arena, now);
  return REGO_BI_OK;
}

static rego_bi_status do_parse(rego_bctx *ctx, const char *layout, size_t llen, const rv *value, rv **out) {
  int64_t sec = 0;
  int32_t nsec = 0;
  char err[512];
  if (!rb_time_parse(layout, llen, value->u.str.s, value->u.str.len, &sec, &nsec, err, sizeof err))
    return rego_bi_error(ctx, "%s", err);
  return ns_result(ctx, sec, nsec, out);
}

static rego_bi_status bi_parse_ns(rego_bctx *ctx, rv *const *args, rv **out) {
  RB_EXPECT(ctx, args, 0, RV_STRING, "string");
  RB_EXPECT(ctx, args, 1, RV_STRING, "string");
  const char *layout = rb_time_named_layout(args[0]->u.str.s, args[0]->u.str.len);
  if (layout) return do_parse(ctx, layout, strlen(layout), args[1], out);
  return do_parse(ctx, args[0]->u.str.s, args[0]->u.str.len, args[1], out);
}

static rego_bi_status bi_parse_rfc3339_ns(rego_bctx *ctx, rv *const *args, rv **out) {
  RB_EXPECT(ctx, args, 0, RV_STRING, "string");
  const char *layout = "2006-01-02T15:04:05Z07:00";
  return do_parse(ctx, layout, strlen(layout), args[0], out);
}

static rego_bi_status bi_parse_duration_ns(rego_bctx *ctx, rv *const *args, rv **out) {
  RB_EXPECT(ctx, args, 0, RV_STRING, "string");
  int64_t ns;
  char err[400];
  if (!rb_parse_duration(args[0]->u.str.s, args[0]->u.str.len, &ns, err, sizeof err))
    return rego_bi_error(ctx, "%s", err);
  *out = rv_int(ctx->arena, ns);
  return REGO_BI_OK;
}

static rego_bi_status bi_format(rego_bctx *ctx, rv *const *args, rv **out) {
  int64_t sec = 0;
  int32_t nsec = 0;
  const rb_zone *z;
  const char *layout;
  size_t llen;
  rego_bi_status st = tz_time(ctx, args[0], &sec, &nsec, &z, &layout, &llen);
  if (st) return st;
  if (!layout || llen == 0) {
    layout = "2006-01-02T15:04:05.999999999Z07:00";
    llen = strlen(layout);
  } else {
    const char *named = rb_time_named_layout(layout, llen);
    if (named) layout = named, llen = strlen(named);
  }
  tr_buf b = TR_BUF_INIT;
  rb_time_format(&b, layout, llen, sec, nsec, z);
  *out = rv_string(ctx->arena, b.data ? (const char *)b.data : "", b.len);
  tr_buf_free(&b);
  return REGO_BI_OK;
}

/* The civil time of a time.* operand (number or [ns, tz]). */
static rego_bi_status civil_of(rego_bctx *ctx, const rv *a, rb_civil *c) {
  int64_t sec = 0;
  int32_t nsec = 0;
  const rb_zone *z;
  rego_bi_status st = tz_time(ctx, a, &sec, &nsec, &z, NULL, NULL);
  if (st == REGO_BI_OK) rb_time_civil(sec, nsec, z, c);
  return st;
}

static rego_bi_status bi_date(rego_bctx *ctx, rv *const *args, rv **out) {
  rb_civil c;
  rego_bi_status st = civil_of(ctx, args[0], &c);
  if (st) return st;
  rv *items[3] = {rv_int(ctx->arena, c.year), rv_int(ctx->arena, c.month), rv_int(ctx->arena, c.day)};
  *out = rv_array(ctx->arena, items, 3);
  return REGO_BI_OK;
}

static rego_bi_status bi_clock(rego_bctx *ctx, rv *const *args, rv **out) {
  rb_civil c;
  rego_bi_status st = civil_of(ctx, args[0], &c);
  if (st) return st;
  rv *items[3] = {rv_int(ctx->arena, c.hour), rv_int(ctx->arena, c.min), rv_int(ctx->arena, c.sec)};
  *out = rv_array(ctx->arena, items, 3);
  return REGO_BI_OK;
}

static rego_bi_status bi_weekday(rego_bctx *ctx, rv *const *args, rv **out) {
  rb_civil c;
  rego_bi_status st = civil_of(ctx, args[0], &c);
  if (st) return st;
  *out = rv_string_nocopy(ctx->arena, long_days[c.wday], strlen(long_days[c.wday]));
  return REGO_BI_OK;
}

static rego_bi_status bi_add_date(rego_bctx *ctx, rv *const *args, rv **out) {
  int64_t sec = 0;
  int32_t nsec = 0;
  const rb_zone *z;
  rego_bi_status st = tz_time(ctx, args[0], &sec, &nsec, &z, NULL, NULL);
  if (st) return st;
  int64_t y, m, d;
  if ((st = rb_int_operand(ctx, args, 1, &y)) || (st = rb_int_operand(ctx, args, 2, &m)) ||
      (st = rb_int_operand(ctx, args, 3, &d)))
    return st;
  rb_civil c;
  rb_time_civil(sec, nsec, z, &c);
  if (y > 1000000000LL || y < -1000000000LL || m > 1000000000LL * 12 || m < -1000000000LL * 12 ||
      d > 400000000000LL || d < -400000000000LL)
    return rego_bi_error(ctx, "time outside of valid range");
  int64_t rs;
  int32_t rns;
  if (!rb_time_date(c.year + y, c.month + m, c.day + d, c.hour, c.min, c.sec, c.nsec, z, &rs, &rns))
    return rego_bi_error(ctx, "time outside of valid range");
  return ns_result(ctx, rs, rns, out);
}

static rego_bi_status bi_diff(rego_bctx *ctx, rv *const *args, rv **out) {
  int64_t s1 = 0, s2 = 0;
  int32_t n1 = 0, n2 = 0;
  const rb_zone *z1, *z2;
  rego_bi_status st;
  if ((st = tz_time(ctx, args[0], &s1, &n1, &z1, NULL, NULL))) return st;
  if ((st = tz_time(ctx, args[1], &s2, &n2, &z2, NULL, NULL))) return st;
  if (s1 > s2 || (s1 == s2 && n1 > n2)) {
    int64_t ts = s1;
    s1 = s2, s2 = ts;
    int32_t tn = n1;
    n1 = n2, n2 = tn;
  }
  rb_civil a, b;
  rb_time_civil(s1, n1, z1, &a);
  rb_time_civil(s2, n2, z1, &b);
  int64_t year = b.year - a.year;
  int64_t month = b.month - a.month, day = b.day - a.day, hour = b.hour - a.hour, min = b.min - a.min,
          sec = b.sec - a.sec;
  if (sec < 0) sec += 60, min--;
  if (min < 0) min += 60, hour--;
  if (hour < 0) hour += 24, day--;
  if (day < 0) {
    /* days in a's month: Go normalises day 32 of that month */
    int64_t first = days_from_civil(a.year, a.month, 1);
    int64_t y;
    int mm, dd;
    civil_from_days(first + 31, &y, &mm, &dd);
    day += 32 - dd;
    month--;
  }
  if (month < 0) month += 12, year--;
  rv *items[6] = {rv_int(ctx->arena, year), rv_int(ctx->arena, month), rv_int(ctx->arena, day),
                  rv_int(ctx->arena, hour), rv_int(ctx->arena, min),   rv_int(ctx->arena, sec)};
  *out = rv_array(ctx->arena, items, 6);
  return REGO_BI_OK;
}

const rego_builtin_def rego_builtins_time[] = {
    {"time.now_ns", 0, bi_now_ns, REGO_BI_NONDET},
    {"time.parse_ns", 2, bi_parse_ns, 0},
    {"time.parse_rfc3339_ns", 1, bi_parse_rfc3339_ns, 0},
    {"time.parse_duration_ns", 1, bi_parse_duration_ns, 0},
    {"time.format", 1, bi_format, 0},
    {"time.date", 1, bi_date, 0},
    {"time.clock", 1, bi_clock, 0},
    {"time.weekday", 1, bi_weekday, 0},
    {"time.add_date", 4, bi_add_date, 0},
    {"time.diff", 2, bi_diff, 0},
    {NULL, 0, NULL, 0},
};
