/* Fuzzes JWS compact parsing, verification and JWT claim checks. */
#include <stddef.h>
#include <stdint.h>

#include "crypto/jws.h"
#include "fuzz_keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static tr_jwk *ec, *oct;
  if (!ec) {
    ec = fuzz_key(FUZZ_EC_KEY);
    oct = fuzz_key(FUZZ_OCT_KEY);
  }
  tr_jws jws;
  tr_err *e = tr_jws_parse((const char *)data, size, &jws);
  if (!e) {
    tr_err_free(tr_jws_verify(&jws, ec, NULL));
    tr_err_free(tr_jws_verify(&jws, oct, NULL));
    tr_jws_clear(&jws);
  }
  tr_err_free(e);
  json_t *claims = NULL;
  tr_jwt_opts o = {.now = 1000, .leeway = 60, .require_exp = true, .check_nbf = true, .iss = "a", .aud = "b"};
  tr_err_free(tr_jwt_verify((const char *)data, size, oct, NULL, &o, &claims));
  json_decref(claims);
  return 0;
}
