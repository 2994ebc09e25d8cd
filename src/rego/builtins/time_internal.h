/* time_internal.h — Go's time package as OPA uses it: reference-layout
 * parsing and formatting ("2006-01-02T15:04:05Z07:00"), time.ParseDuration,
 * and IANA zones read from the system tzdata (TZif files, including the
 * POSIX TZ footer rule for instants after the last transition). Nothing
 * here touches the TZ environment variable or libc's localtime, so it is
 * safe in a multi-threaded library.
 *
 * An instant is Unix seconds plus nanoseconds (0 <= nsec < 1e9). */
#ifndef TRUSTEE_REGO_BUILTINS_TIME_INTERNAL_H
#define TRUSTEE_REGO_BUILTINS_TIME_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

typedef struct rb_zone rb_zone;

/* The UTC zone (static). */
const rb_zone *rb_zone_utc(void);
/* A zone by IANA name ("", "UTC" → UTC; "Local" → /etc/localtime or UTC).
 * Zones are cached for the life of the process and never freed. NULL with
 * Go's error text ("unknown time zone X") in err. */
const rb_zone *rb_zone_load(const char *name, size_t len, char *err, size_t errlen);

/* Offset (seconds east of UTC) and abbreviation in effect at sec. */
int32_t rb_zone_offset(const rb_zone *z, int64_t sec, const char **abbr);

/* Local civil time of an instant in a zone. */
typedef struct {
  int64_t year;
  int month, day, hour, min, sec, yday, wday; /* month 1..12, wday 0 = Sunday, yday 1.. */
  int32_t nsec;
  int32_t offset;
  const char *abbr; /* zone abbreviation, "" for a fixed offset without a name */
} rb_civil;

void rb_time_civil(int64_t sec, int32_t nsec, const rb_zone *z, rb_civil *out);

/* Go's time.Date(year, month, day, hour, min, sec, nsec, zone) with
 * normalisation of out-of-range fields; false when the result does not fit
 * int64 seconds. */
bool rb_time_date(int64_t year, int64_t month, int64_t day, int64_t hour, int64_t min, int64_t sec,
                  int64_t nsec, const rb_zone *z, int64_t *out_sec, int32_t *out_nsec);

/* Go's time.Parse(layout, value) (layout may be a named layout such as
 * "RFC3339" — resolved by the caller with rb_time_named_layout). On error
 * returns false with Go's message in err. */
bool rb_time_parse(const char *layout, size_t llen, const char *value, size_t vlen, int64_t *sec,
                   int32_t *nsec, char *err, size_t errlen);

/* Go's Time.Format(layout) of an instant in a zone. */
bool rb_time_format(tr_buf *out, const char *layout, size_t llen, int64_t sec, int32_t nsec,
                    const rb_zone *z);

/* OPA's named layouts ("RFC3339", "ANSIC", ...) → Go layout, or NULL. */
const char *rb_time_named_layout(const char *name, size_t len);

/* Go's time.ParseDuration. */
bool rb_parse_duration(const char *s, size_t n, int64_t *ns, char *err, size_t errlen);

#endif
