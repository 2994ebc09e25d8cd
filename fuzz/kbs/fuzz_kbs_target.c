/* Fuzzes the request-target parser (path segments, percent-escapes, query
 * map), the SemVer parser and the resource-path validator. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kbs/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *s = malloc(size + 1);
  if (!s) return 0;
  memcpy(s, data, size);
  s[size] = 0;
  kbs_target t;
  tr_err *e = kbs_target_parse(s, &t);
  if (!e) kbs_target_clear(&t);
  tr_err_free(e);
  unsigned long long v[3];
  bool pre;
  tr_err_free(kbs_semver_parse(s, v, &pre));
  (void)kbs_resource_path_valid(s);
  free(s);
  return 0;
}
