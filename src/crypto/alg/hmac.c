/* hmac.c — JWS HS256/HS384/HS512 (RFC 7518 §3.2). oct keys only; the key
 * must be at least as long as the hash output (RFC 7518 §3.2 MUST). MACs are
 * compared in constant time. */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>

#include "core/encoding.h"
#include "crypto/internal.h"

static tr_err *hmac(const tr_jws_alg *a, const tr_jwk *k, const uint8_t *in, size_t len, uint8_t *mac,
                    size_t *mac_len) {
  size_t klen = 0;
  const uint8_t *key = tr_jwk_secret(k, &klen);
  const EVP_MD *md = EVP_get_digestbyname(a->md);
  if (!md) return tr_err_new(TR_E_CRYPTO, "%s: digest unavailable", a->name);
  if (klen < (size_t)EVP_MD_get_size(md))
    return tr_err_new(TR_E_INVALID, "%s needs a key of at least %d bytes, got %zu", a->name,
                      EVP_MD_get_size(md), klen);
  unsigned int ml = 0;
  if (!HMAC(md, key, (int)klen, in, len, mac, &ml))
    return tr_ossl_err(TR_E_CRYPTO, "%s: HMAC failed", a->name);
  *mac_len = ml;
  return NULL;
}

static tr_err *hs_sign(const tr_jws_alg *a, const tr_jwk *k, const uint8_t *in, size_t len, uint8_t **sig,
                       size_t *sig_len) {
  uint8_t mac[EVP_MAX_MD_SIZE];
  size_t ml = 0;
  tr_err *e = hmac(a, k, in, len, mac, &ml);
  if (e) return e;
  if (!(*sig = malloc(ml))) return tr_err_new(TR_E_NOMEM, "out of memory");
  memcpy(*sig, mac, ml);
  *sig_len = ml;
  return NULL;
}

static tr_err *hs_verify(const tr_jws_alg *a, const tr_jwk *k, const uint8_t *in, size_t len,
                         const uint8_t *sig, size_t sig_len) {
  uint8_t mac[EVP_MAX_MD_SIZE];
  size_t ml = 0;
  tr_err *e = hmac(a, k, in, len, mac, &ml);
  if (e) return e;
  if (!tr_ct_equal(mac, ml, sig, sig_len)) return tr_err_new(TR_E_VERIFY, "%s: MAC does not match", a->name);
  return NULL;
}

const tr_jws_alg tr_jws_algs_hmac[] = {
    {"HS256", TR_KTY_OCT, NULL, "SHA256", 0, hs_sign, hs_verify},
    {"HS384", TR_KTY_OCT, NULL, "SHA384", 0, hs_sign, hs_verify},
    {"HS512", TR_KTY_OCT, NULL, "SHA512", 0, hs_sign, hs_verify},
    {NULL},
};
