/* fuzz_builtin_time — Go layout parsing/formatting and ParseDuration.
 * Input: layout NUL value. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "rego/builtins/time_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const uint8_t *nul = memchr(data, 0, size);
  size_t llen = nul ? (size_t)(nul - data) : size;
  const char *value = nul ? (const char *)nul + 1 : "";
  size_t vlen = nul ? size - llen - 1 : 0;
  int64_t sec, ns;
  int32_t nsec;
  char err[512];
  if (rb_time_parse((const char *)data, llen, value, vlen, &sec, &nsec, err, sizeof err)) {
    tr_buf b = TR_BUF_INIT;
    rb_time_format(&b, (const char *)data, llen, sec, nsec, rb_zone_utc());
    tr_buf_free(&b);
  }
  tr_buf b = TR_BUF_INIT;
  rb_time_format(&b, (const char *)data, llen, (int64_t)size * 987654321 - 4000000000LL, 123456789,
                 rb_zone_utc());
  tr_buf_free(&b);
  rb_parse_duration((const char *)data, size, &ns, err, sizeof err);
  return 0;
}
