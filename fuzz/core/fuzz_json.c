/* Fuzz: strict JSON parsing, getters and dumps (core/json.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  json_t *v = NULL;
  tr_err *e = tr_json_parse((const char *)data, size, &v);
  if (e) {
    tr_err_free(e);
    return 0;
  }
  const char *s;
  int64_t i;
  json_t *o;
  tr_err_free(tr_json_get_string(v, "fuzz", "nonce", &s));
  tr_err_free(tr_json_get_int(v, NULL, "a.b", &i));
  tr_err_free(tr_json_opt_object(v, NULL, "tee-pubkey", &o));
  /* A compact dump must parse back to an equal value. */
  char *c = tr_json_dump_compact(v);
  if (c) {
    json_t *back = NULL;
    tr_err *e2 = tr_json_parse(c, strlen(c), &back);
    if (e2) abort();
    if (!json_equal(v, back)) abort();
    json_decref(back);
    free(c);
  }
  free(tr_json_dump_sorted(v));
  json_decref(v);
  return 0;
}
