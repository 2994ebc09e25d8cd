/* jws.h — JWS compact serialisation (RFC 7515) and JWT validation (RFC 7519).
 *
 * Algorithms: HS256/384/512, RS256/384/512, PS256/384/512, ES256/384/512
 * (raw r||s), EdDSA. "none" is always rejected. A key is only ever used with
 * the algorithms of its type (no HS* with public keys, no RS* with EC keys). */
#ifndef TRUSTEE_CRYPTO_JWS_H
#define TRUSTEE_CRYPTO_JWS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"
#include "crypto/jwk.h"

/* Signs payload. The protected header is serialised compactly in this order:
 * "alg" first, then the members of extra_header (may be NULL) in their order
 * (e.g. {"typ":"JWT","jwk":{...}}). *out (caller frees) is the compact JWS. */
tr_err *tr_jws_sign(const tr_jwk *key, const char *alg, const json_t *extra_header, const void *payload,
                    size_t payload_len, char **out);
/* As tr_jws_sign with a JSON payload serialised compactly in member order. */
tr_err *tr_jwt_sign(const tr_jwk *key, const char *alg, const json_t *extra_header, const json_t *claims,
                    char **out);

typedef struct {
  json_t *header;   /* parsed protected header (owned) */
  uint8_t *payload; /* decoded payload (owned, NUL-terminated) */
  size_t payload_len;
  char *signing_input; /* "b64header.b64payload" (owned) */
  uint8_t *signature;  /* decoded signature (owned) */
  size_t signature_len;
} tr_jws;

/* Splits and decodes without verifying anything. The header must be a JSON
 * object with a string `alg`; `crit` is refused (TR_E_UNSUPPORTED). Every
 * part must be base64url without padding. */
tr_err *tr_jws_parse(const char *compact, size_t len, tr_jws *out);
/* Verifies the parsed JWS with key. `alg` is the algorithm the caller
 * expects (e.g. the JWK's own alg); NULL means "the header's alg", which is
 * still checked against the key type (and curve). The header's alg must
 * equal `alg`; when the key itself carries an `alg`, that must equal the
 * header's too. Errors: TR_E_VERIFY for a bad signature, `none`, or an
 * algorithm mismatch; TR_E_INVALID for a key of the wrong type/curve (or an
 * RSA key under 2048 bits, or an HMAC key shorter than the hash);
 * TR_E_UNSUPPORTED for unknown algorithms. */
tr_err *tr_jws_verify(const tr_jws *jws, const tr_jwk *key, const char *alg);
void tr_jws_clear(tr_jws *jws);

typedef struct {
  int64_t now;    /* seconds since epoch; 0 = current time */
  int64_t leeway; /* seconds, applied to exp and nbf */
  bool require_exp;
  bool check_nbf;
  const char *iss; /* required issuer, or NULL */
  const char *aud; /* required audience (string or array member), or NULL */
} tr_jwt_opts;

/* Validates registered claims of an already verified JWT payload. opts NULL
 * means upstream KBS's rules: exp required, 60 s leeway, nbf/iss/aud not
 * checked. Expired (exp < now - leeway) or not yet valid (nbf > now +
 * leeway): TR_E_EXPIRED; missing/malformed exp: TR_E_INVALID; iss/aud
 * mismatch: TR_E_AUTH. */
tr_err *tr_jwt_check_claims(const json_t *claims, const tr_jwt_opts *opts);

/* Parse + verify + claims check in one step. *claims (new reference) is the
 * payload object on success. */
tr_err *tr_jwt_verify(const char *compact, size_t len, const tr_jwk *key, const char *alg,
                      const tr_jwt_opts *opts, json_t **claims);

/* Supported JWS algorithm? */
bool tr_jws_alg_supported(const char *alg);

#endif
