/* jbytes.c — JSON number arrays as byte strings (see jbytes.h). */
#include "verifier/snp/jbytes.h"

#include <stdlib.h>

tr_err *tr_jbytes_fixed(const json_t *a, const char *what, uint8_t *dst, size_t n) {
  if (!json_is_array(a) || json_array_size(a) != n)
    return tr_err_new(TR_E_INVALID, "%s: expected an array of %zu bytes", what, n);
  for (size_t i = 0; i < n; i++) {
    json_t *b = json_array_get(a, i);
    if (!json_is_integer(b) || json_integer_value(b) < 0 || json_integer_value(b) > 255)
      return tr_err_new(TR_E_INVALID, "%s[%zu]: expected a byte", what, i);
    dst[i] = (uint8_t)json_integer_value(b);
  }
  return NULL;
}

tr_err *tr_jbytes_alloc(const json_t *a, const char *what, size_t max, uint8_t **out, size_t *len) {
  *out = NULL;
  *len = 0;
  if (!json_is_array(a)) return tr_err_new(TR_E_INVALID, "%s: expected an array of bytes", what);
  size_t n = json_array_size(a);
  if (n > max) return tr_err_new(TR_E_LIMIT, "%s: more than %zu bytes", what, max);
  uint8_t *buf = malloc(n ? n : 1);
  if (!buf) return tr_err_new(TR_E_NOMEM, "out of memory");
  tr_err *e = tr_jbytes_fixed(a, what, buf, n);
  if (e) {
    free(buf);
    return e;
  }
  *out = buf;
  *len = n;
  return NULL;
}
