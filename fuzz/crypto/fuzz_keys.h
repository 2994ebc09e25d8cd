/* fuzz_keys.h — fixed keys shared by the crypto fuzz targets (created once
 * per process; the harness, not the library, keeps them). */
#ifndef TRUSTEE_FUZZ_CRYPTO_KEYS_H
#define TRUSTEE_FUZZ_CRYPTO_KEYS_H

#include <stdlib.h>
#include <string.h>

#include "crypto/jwk.h"

/* RFC 7515 A.3 P-256 key and RFC 7515 A.1 HMAC key */
#define FUZZ_EC_KEY                                                                                          \
  "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\",\"y\":\"x_"       \
  "FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\",\"d\":\"jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI\"}"
#define FUZZ_OCT_KEY                                                                                         \
  "{\"kty\":\"oct\",\"k\":\"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-"                                   \
  "1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow\"}"

static tr_jwk *fuzz_key(const char *json) {
  tr_jwk *k = NULL;
  tr_err *e = tr_jwk_from_json_text(json, strlen(json), &k);
  if (e) abort();
  return k;
}

#endif
