/* encoding.h — base64 (both alphabets, padded or not), hex, constant-time
 * comparison and secure random bytes.
 *
 * Base64 decoding is strict by default: the alphabet and the padding rule are
 * stated by the caller, because protocols differ (JOSE: URL alphabet, no
 * padding; KBS resources and sample evidence: standard alphabet, padded).
 * Whitespace is never accepted. Trailing bits that are not zero are rejected
 * (so every byte string has exactly one accepted encoding). */
#ifndef TRUSTEE_CORE_ENCODING_H
#define TRUSTEE_CORE_ENCODING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

typedef enum {
  TR_B64_STD = 0,       /* + /, padding required on decode, emitted on encode */
  TR_B64_STD_NOPAD = 1, /* + /, no padding */
  TR_B64_URL = 2,       /* - _, padding required/emitted */
  TR_B64_URL_NOPAD = 3, /* - _, no padding (JOSE) */
} tr_b64_variant;

/* OR into the decode variant: padding may be present or absent. */
#define TR_B64_LAX_PAD 0x100

/* Encodes; caller frees. Returns NULL only on allocation failure. */
char *tr_b64_encode(const void *data, size_t len, tr_b64_variant v);
/* Decodes `len` chars of `in` (`len` = strlen when (size_t)-1). Caller frees
 * *out (NUL-terminated for convenience, not counted). */
tr_err *tr_b64_decode(const char *in, size_t len, int variant_flags, uint8_t **out, size_t *out_len);

/* Lower-case hex. Caller frees. */
char *tr_hex_encode(const void *data, size_t len);
/* Accepts upper and lower case, even length only. Caller frees *out. */
tr_err *tr_hex_decode(const char *in, size_t len, uint8_t **out, size_t *out_len);

/* Constant-time equality of two equal-length byte strings; different
 * lengths compare unequal (length is not secret). */
bool tr_ct_equal(const void *a, size_t alen, const void *b, size_t blen);

/* Cryptographically secure random bytes (OpenSSL RAND_bytes). */
tr_err *tr_random_bytes(void *out, size_t len);

#endif
