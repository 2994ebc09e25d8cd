/* internal.h — what the JOSE core (jwk.c, jws.c, jwe.c) and the algorithm
 * families (the files under alg/) share. Not part of the public API.
 *
 * Design (after latchset/jose): the core knows no algorithm. Each family
 * file defines a const array of descriptors terminated by a {NULL} entry and
 * the core looks names up in the table of families below (jws_algs.c /
 * jwe_algs.c). Adding an algorithm touches one file plus, for a new family,
 * one line in that table. All tables are const: no global mutable state, so
 * every function here is thread-safe given thread-safe OpenSSL 3. The one
 * cache (util.c: a parameters-only key per curve, so that key generation
 * and public-key import do not rebuild the EC group from its name each
 * time) is built once under pthread_once and only read afterwards. */
#ifndef TRUSTEE_CRYPTO_INTERNAL_H
#define TRUSTEE_CRYPTO_INTERNAL_H

#include <jansson.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/error.h"
#include "crypto/jwk.h"

/* ---- shared helpers (util.c) -------------------------------------------- */

/* Base64url without padding (JOSE). Caller frees; NULL on OOM. */
char *tr_b64u(const void *data, size_t len);
/* Strict decode of a base64url-nopad string; `what` names the field in the
 * error ("JWS signature"). */
tr_err *tr_b64u_dec(const char *in, size_t len, const char *what, uint8_t **out, size_t *out_len);
/* OpenSSL's error queue as one short string appended to a new error; clears
 * the queue. */
tr_err *tr_ossl_err(tr_code code, const char *fmt, ...) TR_PRINTF(2, 3);
/* True when the bytes start like one DER SEQUENCE (0x30 and a long-form
 * length; or a short-form length covering exactly `len`, or followed by a
 * SEQUENCE/INTEGER tag): such input is parsed as DER and never searched for
 * "-----BEGIN " (a DER certificate or key may carry or be followed by PEM
 * text; the embedded PEM must not win). Text does not start so (0x81..0x84
 * never follows '0' in UTF-8; "0<c>0" text before a PEM block is not a
 * thing). */
bool tr_looks_der(const void *data, size_t len);
/* Minimum RSA modulus for JOSE operations (RFC 7518 §3.3, §4.2). */
#define TR_RSA_MIN_BITS 2048

/* Curves: JOSE name, OpenSSL group name, coordinate size in bytes. */
typedef struct {
  const char *crv;
  const char *group;
  size_t size;
} tr_curve;
const tr_curve *tr_curve_by_name(const char *crv);
/* NULL when the key is not an EC key on a supported curve. */
const tr_curve *tr_curve_of_pkey(const EVP_PKEY *pkey);
/* A fresh key pair on curve c, generated from the cached template (no group
 * built from its name); NULL on failure (OpenSSL error queue set). */
EVP_PKEY *tr_ec_generate(const tr_curve *c);
/* A public key on curve c from its uncompressed point 04||x||y (1 + 2*size
 * bytes). OpenSSL's decoding (EC_POINT_oct2point) refuses a point that is not
 * on the curve, and the encoding cannot express the point at infinity, so the
 * result needs no further public-key check. NULL when refused. */
EVP_PKEY *tr_ec_public(const tr_curve *c, const uint8_t *point, size_t len);
/* Wraps a key made by tr_ec_generate (valid by construction: no check) as a
 * private JWK; takes over the caller's reference on success. */
tr_err *tr_jwk_from_generated_ec(EVP_PKEY *pkey, const tr_curve *c, tr_jwk **out);

/* Checks that key is fit for an algorithm: kty, curve (NULL = any), private
 * part when `need_private`. Error names the algorithm. */
tr_err *tr_jwk_check_use(const tr_jwk *key, const char *alg, tr_kty kty, const char *crv, bool need_private);

/* ---- JWS algorithm families ---------------------------------------------- */

typedef struct tr_jws_alg tr_jws_alg;
struct tr_jws_alg {
  const char *name; /* "ES256" */
  tr_kty kty;
  const char *crv; /* required curve, NULL = none */
  const char *md;  /* OpenSSL digest name, NULL for EdDSA */
  int param;       /* family-specific (RSA padding, ...) */
  /* *sig: malloc'ed. */
  tr_err *(*sign)(const tr_jws_alg *a, const tr_jwk *k, const uint8_t *in, size_t len, uint8_t **sig,
                  size_t *sig_len);
  /* Returns TR_E_VERIFY when the signature does not match. */
  tr_err *(*verify)(const tr_jws_alg *a, const tr_jwk *k, const uint8_t *in, size_t len, const uint8_t *sig,
                    size_t sig_len);
};

extern const tr_jws_alg tr_jws_algs_hmac[];
extern const tr_jws_alg tr_jws_algs_rsa[];
extern const tr_jws_alg tr_jws_algs_ecdsa[];
extern const tr_jws_alg tr_jws_algs_eddsa[];
const tr_jws_alg *tr_jws_alg_find(const char *name);

/* ---- JWE algorithm families ---------------------------------------------- */

/* Key management ("alg"). */
typedef struct tr_jwe_kalg tr_jwe_kalg;
struct tr_jwe_kalg {
  const char *name;
  tr_kty kty;
  int param;
  /* Produces the CEK (cek_len bytes; `dir` may impose its own), the
   * encrypted key (malloc'ed, may be empty) and extra protected-header
   * members (added to `hdr` after alg/enc). */
  tr_err *(*wrap)(const tr_jwe_kalg *a, const tr_jwk *k, json_t *hdr, uint8_t *cek, size_t cek_len,
                  uint8_t **ek, size_t *ek_len);
  /* Recovers the CEK of exactly cek_len bytes into `cek`. RSA1_5 never
   * fails here (it substitutes a random CEK, RFC 7516 §11.5). */
  tr_err *(*unwrap)(const tr_jwe_kalg *a, const tr_jwk *k, const json_t *hdr, const uint8_t *ek,
                    size_t ek_len, uint8_t *cek, size_t cek_len);
};

/* Content encryption ("enc"). */
typedef struct tr_jwe_enc tr_jwe_enc;
struct tr_jwe_enc {
  const char *name;
  size_t key_len, iv_len, tag_len;
  const char *cipher; /* OpenSSL cipher name */
};

extern const tr_jwe_kalg tr_jwe_kalgs_rsa[];
extern const tr_jwe_kalg tr_jwe_kalgs_ecdh[];
extern const tr_jwe_kalg tr_jwe_kalgs_dir[];
extern const tr_jwe_enc tr_jwe_encs_aesgcm[];
const tr_jwe_kalg *tr_jwe_kalg_find(const char *name);
const tr_jwe_enc *tr_jwe_enc_find(const char *name);

/* Concat KDF (NIST SP 800-56A §5.8.1, RFC 7518 §4.6.2) with SHA-256, one
 * round (alg/ecdhes.c): out receives the 32-byte hash, of which the first
 * keydatalen_bits/8 bytes are the derived key. AlgorithmID = alg,
 * PartyUInfo/PartyVInfo = apu/apv, SuppPubInfo = keydatalen_bits (a multiple
 * of 8, at most 256). Exposed for the RFC 7518 Appendix C known answer. */
tr_err *tr_ecdhes_concat_kdf(const char *alg, const uint8_t *z, size_t zlen, const uint8_t *apu,
                             size_t apu_len, const uint8_t *apv, size_t apv_len, unsigned keydatalen_bits,
                             uint8_t out[32]);

/* AES-GCM (alg/aesgcm.c). ct has pt_len bytes, tag e->tag_len. Decrypt
 * returns TR_E_VERIFY on a tag mismatch. */
tr_err *tr_aesgcm_encrypt(const tr_jwe_enc *e, const uint8_t *key, const uint8_t *iv, const uint8_t *aad,
                          size_t aad_len, const uint8_t *pt, size_t pt_len, uint8_t *ct, uint8_t *tag);
tr_err *tr_aesgcm_decrypt(const tr_jwe_enc *e, const uint8_t *key, const uint8_t *iv, const uint8_t *aad,
                          size_t aad_len, const uint8_t *ct, size_t ct_len, const uint8_t *tag, uint8_t *pt);

#endif
