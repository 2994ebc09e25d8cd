/* fuzz_builtin_semver_glob — semver parsing/precedence and glob→regex
 * translation. Input: text NUL text. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "rego/builtins/glob_internal.h"
#include "rego/builtins/regex_internal.h"
#include "rego/builtins/semver_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const uint8_t *nul = memchr(data, 0, size);
  size_t alen = nul ? (size_t)(nul - data) : size;
  const char *b = nul ? (const char *)nul + 1 : "1.0.0";
  size_t blen = nul ? size - alen - 1 : 5;
  rb_semver x, y;
  if (rb_semver_parse((const char *)data, alen, &x) && rb_semver_parse(b, blen, &y)) {
    int c1 = rb_semver_compare(&x, &y), c2 = rb_semver_compare(&y, &x);
    if (c1 != -c2) __builtin_trap(); /* precedence must be antisymmetric */
  }
  static const int32_t seps[] = {'.', '/'};
  tr_buf re = TR_BUF_INIT;
  char err[256];
  if (rb_glob_to_regex((const char *)data, alen, seps, 2, &re, err, sizeof err)) {
    rb_re *r = rb_re_get((const char *)re.data, re.len, 0, 0, err, sizeof err);
    if (!r) __builtin_trap(); /* a translated glob must always compile */
    size_t ov[64];
    if (rb_re_groups(r) < 31) rb_re_exec(r, b, blen, 0, ov);
    rb_re_release(r);
  }
  tr_buf_free(&re);
  return 0;
}
