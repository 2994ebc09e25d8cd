/* Fuzz: RFC 8785 canonicalisation. The canonical form must parse and be a
 * fixed point (canonicalising it again yields the same bytes). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/jcs.h"
#include "core/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  json_t *v = NULL;
  tr_err *e = tr_json_parse((const char *)data, size, &v);
  if (e) {
    tr_err_free(e);
    return 0;
  }
  char *c1 = NULL;
  size_t n1;
  e = tr_jcs(v, &c1, &n1);
  json_decref(v);
  if (e) {
    tr_err_free(e);
    return 0;
  }
  if (strlen(c1) != n1) abort();
  json_t *back = NULL;
  e = tr_json_parse(c1, n1, &back);
  if (e) {
    /* Only integers above int64 (from rounding 2^63-1 up) may fail to re-parse. */
    if (!strstr(tr_err_msg(e), "too big")) abort();
    tr_err_free(e);
    free(c1);
    return 0;
  }
  char *c2 = NULL;
  size_t n2;
  if ((e = tr_jcs(back, &c2, &n2))) abort();
  if (n1 != n2 || memcmp(c1, c2, n1)) abort();
  free(c1);
  free(c2);
  json_decref(back);
  return 0;
}
