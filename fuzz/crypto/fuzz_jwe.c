/* Fuzzes JWE parsing and decryption (compact and JSON) with EC and dir keys. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "crypto/jwe.h"
#include "fuzz_keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static tr_jwk *ec, *oct;
  if (!ec) {
    ec = fuzz_key(FUZZ_EC_KEY);
    /* 32-byte key for dir + A256GCM */
    oct = fuzz_key("{\"kty\":\"oct\",\"k\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\"}");
  }
  uint8_t *pt = NULL;
  size_t n = 0;
  tr_err_free(tr_jwe_decrypt(ec, (const char *)data, size, &pt, &n));
  free(pt);
  pt = NULL;
  tr_err_free(tr_jwe_decrypt(oct, (const char *)data, size, &pt, &n));
  free(pt);
  return 0;
}
