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

/* Splits and decodes without verifying anything. */
tr_err *tr_jws_parse(const char *compact, size_t len, tr_jws *out);
/* Verifies the parsed JWS with key. `alg` is the algorithm the caller
 * expects (e.g. the JWK's own alg); NULL means "the header's alg", which is
 * still checked against the key type. The header's alg must equal `alg`. */
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

/* Validates registered claims of an already verified JWT payload. */
tr_err *tr_jwt_check_claims(const json_t *claims, const tr_jwt_opts *opts);

/* Supported JWS algorithm? */
bool tr_jws_alg_supported(const char *alg);

#endif
