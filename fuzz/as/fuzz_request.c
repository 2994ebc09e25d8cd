/* fuzz_request.c — the AS request parser (both POST /attestation shapes, the
 * /policy and /challenge bodies) and the runtime/init-data derivation behind
 * it (JCS, TOML init data, init_data_claims conversion). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "as/as_internal.h"
#include "as/request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  tr_as_parsed *p = NULL;
  tr_err *e = tr_as_parse_attestation((const char *)data, size, &p);
  if (!e) {
    for (size_t i = 0; i < p->nreqs; i++) {
      tr_as_expected_data rd, id;
      tr_err *x = tr_as_runtime_expected(&p->reqs[i].runtime_data, p->reqs[i].runtime_data_hash_alg, &rd);
      if (!x) tr_as_expected_clear(&rd);
      tr_err_free(x);
      x = tr_as_init_expected(&p->reqs[i].init_data, p->reqs[i].init_data_hash_alg, &id);
      if (!x) tr_as_expected_clear(&id);
      tr_err_free(x);
    }
    tr_as_parsed_free(p);
  }
  tr_err_free(e);
  char *pid = NULL, *text = NULL;
  e = tr_as_parse_set_policy((const char *)data, size, &pid, &text);
  free(pid);
  free(text);
  tr_err_free(e);
  char *tee = NULL;
  json_t *params = NULL;
  e = tr_as_parse_challenge((const char *)data, size, &tee, &params);
  free(tee);
  json_decref(params);
  tr_err_free(e);
  return 0;
}
