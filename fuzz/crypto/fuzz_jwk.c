/* Fuzzes JWK/JWKS parsing and everything done with a parsed key. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/json.h"
#include "crypto/jwk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  tr_jwk *k = NULL;
  tr_err *e = tr_jwk_from_json_text((const char *)data, size, &k);
  if (!e) {
    json_decref(tr_jwk_to_json(k, true));
    uint8_t d[TR_DIGEST_MAX];
    size_t n;
    tr_err_free(tr_jwk_thumbprint(k, TR_SHA256, d, &n));
    char *pem = NULL;
    tr_err_free(tr_jwk_to_pem(k, false, &pem));
    free(pem);
    tr_jwk_free(k);
  }
  tr_err_free(e);
  json_t *j = NULL;
  if (!(e = tr_json_parse((const char *)data, size, &j))) {
    tr_jwks set;
    if (!(e = tr_jwks_from_json(j, &set))) tr_jwks_clear(&set);
    json_decref(j);
  }
  tr_err_free(e);
  /* PEM/DER keys and certificates */
  tr_err_free(tr_jwk_from_pem(data, size, &k));
  tr_jwk_free(k);
  return 0;
}
