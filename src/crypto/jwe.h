/* jwe.h — JSON Web Encryption (RFC 7516/7518).
 *
 * Key management: RSA-OAEP-256, RSA-OAEP, RSA1_5, ECDH-ES+A256KW (P-256,
 * P-384, P-521), dir. Content encryption: A256GCM, A128GCM.
 * Serialisations: compact and flattened JSON. */
#ifndef TRUSTEE_CRYPTO_JWE_H
#define TRUSTEE_CRYPTO_JWE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"
#include "crypto/jwk.h"

/* Encrypts to `recipient` (public key, or oct key for dir). The protected
 * header is emitted as {"alg":...,"enc":...,<extra members>} with "epk"
 * members ({"crv","kty","x","y"}) sorted, exactly as upstream's KBS does
 * (the Rust guest re-serialises the header to recompute the AAD).
 * Compact: *out_text is "h.k.iv.ct.tag". Flattened: a JSON object
 * {"protected","encrypted_key","iv","ciphertext","tag"} in that order
 * (encrypted_key omitted for `dir`, RFC 7516 §7.2.1). Random CEK and 96-bit
 * IV, 128-bit tag; AAD = ASCII of the protected b64url string. If the
 * recipient JWK carries an `alg`, it must equal `alg`. RSA keys must have at
 * least 2048 bits. */
tr_err *tr_jwe_encrypt_compact(const tr_jwk *recipient, const char *alg, const char *enc, const void *pt,
                               size_t pt_len, char **out_text);
tr_err *tr_jwe_encrypt_flattened(const tr_jwk *recipient, const char *alg, const char *enc, const void *pt,
                                 size_t pt_len, json_t **out_obj);

/* Decrypts compact or flattened-JSON (text starting with '{') JWE with a
 * private key (or the oct key for `dir`). *pt is owned by the caller
 * (NUL-terminated). Flattened input may carry `aad`, `unprotected` and
 * `header` (merged with the protected header; duplicates rejected), or the
 * general form with exactly one recipient. IV and tag must have their full
 * sizes. `zip` and `crit` are refused (TR_E_UNSUPPORTED). A tag mismatch is
 * TR_E_VERIFY "...authentication tag does not match"; RSA1_5 padding
 * failures are indistinguishable from it (Bleichenbacher-safe). */
tr_err *tr_jwe_decrypt(const tr_jwk *key, const char *jwe, size_t len, uint8_t **pt, size_t *pt_len);

#endif
