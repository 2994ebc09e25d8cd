/* fuzz_json_value — the engine's exact JSON parser (used for inputs):
 * arbitrary bytes → value → JSON text → value again, which must be equal. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rego/value.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  rv_arena *a = rv_arena_new();
  rv *v = NULL;
  tr_err *e = rv_parse_json(a, (const char *)data, size, 64, &v);
  if (e) {
    tr_err_free(e);
  } else {
    rv_buf b = {.a = a};
    rv_write_json(&b, v);
    rv *w = NULL;
    e = rv_parse_json(a, b.s, b.len, 64, &w);
    if (e || !rv_equal(v, w)) abort();
    json_t *j = rv_to_json(v);
    json_decref(j);
  }
  rv_arena_free(a);
  return 0;
}
