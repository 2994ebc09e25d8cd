/* eddsa.c — JWS EdDSA (RFC 8037) with Ed25519 (pure, no prehash). */
#include <openssl/evp.h>
#include <stdlib.h>

#include "crypto/internal.h"

static tr_err *ed_sign(const tr_jws_alg *a, const tr_jwk *k, const uint8_t *in, size_t len, uint8_t **sig,
                       size_t *sig_len) {
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  size_t n = 64;
  tr_err *e = NULL;
  if (!(*sig = malloc(n)) || !ctx ||
      EVP_DigestSignInit_ex(ctx, NULL, NULL, NULL, NULL, tr_jwk_pkey(k), NULL) != 1 ||
      EVP_DigestSign(ctx, *sig, &n, in, len) != 1) {
    free(*sig);
    *sig = NULL;
    e = tr_ossl_err(TR_E_CRYPTO, "%s: signing failed", a->name);
  } else {
    *sig_len = n;
  }
  EVP_MD_CTX_free(ctx);
  return e;
}

static tr_err *ed_verify(const tr_jws_alg *a, const tr_jwk *k, const uint8_t *in, size_t len,
                         const uint8_t *sig, size_t sig_len) {
  if (sig_len != 64)
    return tr_err_new(TR_E_VERIFY, "%s: Ed25519 signature must be 64 bytes, got %zu", a->name, sig_len);
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  tr_err *e = NULL;
  if (!ctx || EVP_DigestVerifyInit_ex(ctx, NULL, NULL, NULL, NULL, tr_jwk_pkey(k), NULL) != 1)
    e = tr_ossl_err(TR_E_CRYPTO, "%s: verify init failed", a->name);
  else if (EVP_DigestVerify(ctx, sig, sig_len, in, len) != 1)
    e = tr_ossl_err(TR_E_VERIFY, "%s: signature does not verify", a->name);
  EVP_MD_CTX_free(ctx);
  return e;
}

const tr_jws_alg tr_jws_algs_eddsa[] = {
    {"EdDSA", TR_KTY_OKP, "Ed25519", NULL, 0, ed_sign, ed_verify},
    {NULL},
};
