/* jwk.h — JSON Web Keys (RFC 7517/7518/8037) over OpenSSL EVP_PKEY.
 *
 * A tr_jwk owns either an EVP_PKEY (RSA, EC P-256/P-384/P-521, Ed25519) or a
 * symmetric secret (kty "oct"), plus optional metadata (alg, kid, use).
 * Keys are immutable once built and may be shared read-only across threads.
 * Every constructor returns a new key the caller frees with tr_jwk_free. */
#ifndef TRUSTEE_CRYPTO_JWK_H
#define TRUSTEE_CRYPTO_JWK_H

#include <jansson.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/digest.h"
#include "core/error.h"

typedef struct tr_jwk tr_jwk;

typedef enum { TR_KTY_RSA = 1, TR_KTY_EC, TR_KTY_OKP, TR_KTY_OCT } tr_kty;

/* Parses a JWK object. EC coordinates must have the curve's fixed size and
 * the point must be on the curve; base64url without padding. A private part
 * (d, or RSA's d/p/q/dp/dq/qi) is loaded when present; an EC/Ed25519 private
 * part must match the public part. Unknown members are ignored; alg, kid,
 * use and x5c are kept. OKP supports Ed25519 only. Minimum RSA sizes are
 * enforced where a key is used (JWS/JWE: 2048 bits), not here. */
tr_err *tr_jwk_from_json(const json_t *jwk, tr_jwk **out);
tr_err *tr_jwk_from_json_text(const char *text, size_t len, tr_jwk **out);
/* PEM (or DER when the text is not PEM): public keys (SPKI, PKCS#1), private
 * keys (PKCS#8, traditional), or an X.509 certificate (its public key). */
tr_err *tr_jwk_from_pem(const void *pem, size_t len, tr_jwk **out);
/* Takes a reference to pkey (EVP_PKEY_up_ref); the caller keeps its own. */
tr_err *tr_jwk_from_pkey(EVP_PKEY *pkey, tr_jwk **out);
tr_err *tr_jwk_from_secret(const void *secret, size_t len, tr_jwk **out);
/* kind: "P-256", "P-384", "P-521", "Ed25519", "RSA-2048", "RSA-3072", "RSA-4096",
 * or "oct-<bits>" (random symmetric key, 128..4096 bits). */
tr_err *tr_jwk_generate(const char *kind, tr_jwk **out);

/* Metadata setters return false on allocation failure. NULL clears. */
bool tr_jwk_set_alg(tr_jwk *k, const char *alg);
bool tr_jwk_set_kid(tr_jwk *k, const char *kid);
bool tr_jwk_set_use(tr_jwk *k, const char *use);
const char *tr_jwk_alg(const tr_jwk *k); /* NULL when absent */
const char *tr_jwk_kid(const tr_jwk *k);
const char *tr_jwk_use(const tr_jwk *k);
/* `x5c` member (array of base64 DER certificates, leaf first) as parsed, or
 * NULL. Borrowed. The setter deep-copies (NULL clears); it is emitted by
 * tr_jwk_to_json after alg/kid/use. */
const json_t *tr_jwk_x5c(const tr_jwk *k);
bool tr_jwk_set_x5c(tr_jwk *k, const json_t *x5c);
tr_kty tr_jwk_kty(const tr_jwk *k);
/* "P-256"/"P-384"/"P-521"/"Ed25519" or NULL for RSA/oct. */
const char *tr_jwk_crv(const tr_jwk *k);
bool tr_jwk_is_private(const tr_jwk *k);
/* Borrowed; NULL for oct keys. */
EVP_PKEY *tr_jwk_pkey(const tr_jwk *k);
/* Borrowed secret of an oct key. */
const uint8_t *tr_jwk_secret(const tr_jwk *k, size_t *len);

/* Serialises as a JWK object: the RFC 7638 required members in lexicographic
 * order (RSA e,kty,n; EC crv,kty,x,y; OKP crv,kty,x; oct k,kty), then the
 * private members when asked (RSA d,p,q,dp,dq,qi; EC/OKP d), then alg, kid,
 * use, x5c when set. EC coordinates are fixed-size. New reference; NULL on
 * allocation failure. An oct key's "k" is always included (it is the key). */
json_t *tr_jwk_to_json(const tr_jwk *k, bool include_private);
/* PEM text (SPKI for public, PKCS#8 for private). Caller frees. */
tr_err *tr_jwk_to_pem(const tr_jwk *k, bool private_key, char **out);
/* RFC 7638 thumbprint. out must hold TR_DIGEST_MAX bytes. */
tr_err *tr_jwk_thumbprint(const tr_jwk *k, tr_digest_alg alg, uint8_t *out, size_t *out_len);
/* True when both hold the same public key. */
bool tr_jwk_public_equal(const tr_jwk *a, const tr_jwk *b);

tr_jwk *tr_jwk_ref(tr_jwk *k); /* reference counted: */
void tr_jwk_free(tr_jwk *k);   /* drops one reference */

/* JWKS: {"keys":[...]}. Keys that fail to parse are an error naming their index. */
typedef struct {
  tr_jwk **keys;
  size_t len;
} tr_jwks;
tr_err *tr_jwks_from_json(const json_t *jwks, tr_jwks *out);
/* Borrowed; NULL when no key has that kid. */
tr_jwk *tr_jwks_find_kid(const tr_jwks *set, const char *kid);
json_t *tr_jwks_to_json(const tr_jwks *set);
void tr_jwks_clear(tr_jwks *set);

#endif
