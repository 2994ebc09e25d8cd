/* Fuzz: base64 (all variants) and hex decoding. Strict decoding accepts
 * exactly one encoding per byte string, so a successful strict decode must
 * re-encode to the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/encoding.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const tr_b64_variant vs[] = {TR_B64_STD, TR_B64_STD_NOPAD, TR_B64_URL, TR_B64_URL_NOPAD};
  for (size_t i = 0; i < 4; i++) {
    uint8_t *out = NULL;
    size_t n = 0;
    tr_err *e = tr_b64_decode((const char *)data, size, (int)vs[i], &out, &n);
    if (e) {
      tr_err_free(e);
    } else {
      char *enc = tr_b64_encode(out, n, vs[i]);
      if (!enc || strlen(enc) != size || memcmp(enc, data, size)) abort();
      free(enc);
      free(out);
    }
    e = tr_b64_decode((const char *)data, size, (int)vs[i] | TR_B64_LAX_PAD, &out, &n);
    if (e)
      tr_err_free(e);
    else
      free(out);
  }
  uint8_t *out = NULL;
  size_t n = 0;
  tr_err *e = tr_hex_decode((const char *)data, size, &out, &n);
  if (e) {
    tr_err_free(e);
  } else {
    if (n * 2 != size) abort();
    free(out);
  }
  return 0;
}
