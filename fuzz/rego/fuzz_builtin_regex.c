/* fuzz_builtin_regex — Go RE2 syntax validation/translation to PCRE2 and
 * matching under the match limits. Input: pattern NUL subject. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rego/builtins/regex_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const uint8_t *nul = memchr(data, 0, size);
  size_t plen = nul ? (size_t)(nul - data) : size;
  const char *subj = nul ? (const char *)nul + 1 : "";
  size_t slen = nul ? size - plen - 1 : 0;
  char err[256];
  rb_re *re = rb_re_get((const char *)data, plen, 0, 0, err, sizeof err);
  if (re) {
    size_t *ov = malloc(2 * ((size_t)rb_re_groups(re) + 1) * sizeof(size_t));
    if (ov) {
      for (size_t start = 0; start <= slen && start < 4; start++)
        rb_re_exec(re, subj, slen, start, ov);
      free(ov);
    }
    rb_re_release(re);
  }
  rb_re *t = rb_re_get((const char *)data, plen, '{', '}', err, sizeof err);
  rb_re_release(t);
  return 0;
}
