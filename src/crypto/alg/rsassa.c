/* rsassa.c — JWS RS256/384/512 (RSASSA-PKCS1-v1_5) and PS256/384/512
 * (RSASSA-PSS, MGF1 with the same hash, salt length = hash length, as RFC
 * 7518 §3.5 requires). RSA keys of at least 2048 bits only. */
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <stdlib.h>

#include "crypto/internal.h"

static tr_err *setup(const tr_jws_alg *a, EVP_PKEY_CTX *pctx) {
  if (EVP_PKEY_CTX_set_rsa_padding(pctx, a->param) != 1)
    return tr_ossl_err(TR_E_CRYPTO, "%s: setting padding failed", a->name);
  if (a->param == RSA_PKCS1_PSS_PADDING &&
      EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1)
    return tr_ossl_err(TR_E_CRYPTO, "%s: setting salt length failed", a->name);
  return NULL;
}

static tr_err *rsa_sign(const tr_jws_alg *a, const tr_jwk *k, const uint8_t *in, size_t len, uint8_t **sig,
                        size_t *sig_len) {
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  EVP_PKEY_CTX *pctx = NULL;
  tr_err *e = NULL;
  *sig = NULL;
  if (!ctx || EVP_DigestSignInit_ex(ctx, &pctx, a->md, NULL, NULL, tr_jwk_pkey(k), NULL) != 1) {
    e = tr_ossl_err(TR_E_CRYPTO, "%s: sign init failed", a->name);
    goto out;
  }
  if ((e = setup(a, pctx))) goto out;
  size_t n = 0;
  if (EVP_DigestSign(ctx, NULL, &n, in, len) != 1 || !(*sig = malloc(n)) ||
      EVP_DigestSign(ctx, *sig, &n, in, len) != 1) {
    free(*sig);
    *sig = NULL;
    e = tr_ossl_err(TR_E_CRYPTO, "%s: signing failed", a->name);
    goto out;
  }
  *sig_len = n;
out:
  EVP_MD_CTX_free(ctx);
  return e;
}

static tr_err *rsa_verify(const tr_jws_alg *a, const tr_jwk *k, const uint8_t *in, size_t len,
                          const uint8_t *sig, size_t sig_len) {
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  EVP_PKEY_CTX *pctx = NULL;
  tr_err *e = NULL;
  if (!ctx || EVP_DigestVerifyInit_ex(ctx, &pctx, a->md, NULL, NULL, tr_jwk_pkey(k), NULL) != 1) {
    e = tr_ossl_err(TR_E_CRYPTO, "%s: verify init failed", a->name);
    goto out;
  }
  if ((e = setup(a, pctx))) goto out;
  if ((size_t)EVP_PKEY_get_size(tr_jwk_pkey(k)) != sig_len) {
    e = tr_err_new(TR_E_VERIFY, "%s: signature has %zu bytes, the key needs %d", a->name, sig_len,
                   EVP_PKEY_get_size(tr_jwk_pkey(k)));
    goto out;
  }
  if (EVP_DigestVerify(ctx, sig, sig_len, in, len) != 1)
    e = tr_ossl_err(TR_E_VERIFY, "%s: signature does not verify", a->name);
out:
  EVP_MD_CTX_free(ctx);
  return e;
}

const tr_jws_alg tr_jws_algs_rsa[] = {
    {"RS256", TR_KTY_RSA, NULL, "SHA256", RSA_PKCS1_PADDING, rsa_sign, rsa_verify},
    {"RS384", TR_KTY_RSA, NULL, "SHA384", RSA_PKCS1_PADDING, rsa_sign, rsa_verify},
    {"RS512", TR_KTY_RSA, NULL, "SHA512", RSA_PKCS1_PADDING, rsa_sign, rsa_verify},
    {"PS256", TR_KTY_RSA, NULL, "SHA256", RSA_PKCS1_PSS_PADDING, rsa_sign, rsa_verify},
    {"PS384", TR_KTY_RSA, NULL, "SHA384", RSA_PKCS1_PSS_PADDING, rsa_sign, rsa_verify},
    {"PS512", TR_KTY_RSA, NULL, "SHA512", RSA_PKCS1_PSS_PADDING, rsa_sign, rsa_verify},
    {NULL},
};
