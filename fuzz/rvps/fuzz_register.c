/* fuzz_register.c — the RVPS register message parser and the sample
 * extractor (untrusted input from rvps-tool, the KBS admin API and gRPC):
 * tr_rvps_extract on arbitrary bytes, then a full register/query round trip
 * on an in-memory RVPS for inputs that extract. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kv/kv.h"
#include "rvps/rvps.h"

static tr_rvps *rvps;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!rvps) {
    tr_err *e = tr_rvps_from_config(NULL, &rvps);
    if (e) abort();
  }
  json_t *recs = NULL;
  tr_err *e = tr_rvps_extract((const char *)data, size, 1700000000, &recs);
  if (e) {
    if (!tr_err_msg(e)[0]) abort(); /* every error says what is wrong */
    tr_err_free(e);
    return 0;
  }
  e = tr_rvps_register(rvps, (const char *)data, size);
  if (e) abort(); /* what extracts must store */
  size_t i;
  json_t *rec;
  json_array_foreach(recs, i, rec) {
    const char *name = json_string_value(json_object_get(rec, "name"));
    if (!name || tr_kv_check_key(name)) abort();
    json_t *v = NULL;
    e = tr_rvps_query(rvps, name, &v);
    if (e || !v) abort();
    json_decref(v);
    tr_err_free(tr_rvps_delete(rvps, name));
  }
  json_decref(recs);
  return 0;
}
