/* ecdsa.c — JWS ES256/ES384/ES512 (RFC 7518 §3.4). The JWS signature is the
 * raw concatenation r||s, each left-padded to the curve size (32/48/66
 * bytes); OpenSSL speaks DER, so this file converts both ways. Each
 * algorithm is bound to its curve (ES512 is P-521). */
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <stdlib.h>

#include "crypto/internal.h"

static tr_err *es_sign(const tr_jws_alg *a, const tr_jwk *k, const uint8_t *in, size_t len, uint8_t **sig,
                       size_t *sig_len) {
  size_t w = (size_t)a->param;
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  uint8_t der[160];
  size_t dl = sizeof der;
  ECDSA_SIG *es = NULL;
  tr_err *e = NULL;
  *sig = NULL;
  if (!ctx || EVP_DigestSignInit_ex(ctx, NULL, a->md, NULL, NULL, tr_jwk_pkey(k), NULL) != 1 ||
      EVP_DigestSign(ctx, der, &dl, in, len) != 1) {
    e = tr_ossl_err(TR_E_CRYPTO, "%s: signing failed", a->name);
    goto out;
  }
  const unsigned char *p = der;
  const BIGNUM *r, *s;
  if (!(es = d2i_ECDSA_SIG(NULL, &p, (long)dl))) {
    e = tr_ossl_err(TR_E_CRYPTO, "%s: bad DER signature from OpenSSL", a->name);
    goto out;
  }
  ECDSA_SIG_get0(es, &r, &s);
  if (!(*sig = malloc(2 * w))) {
    e = tr_err_new(TR_E_NOMEM, "out of memory");
    goto out;
  }
  if (BN_bn2binpad(r, *sig, (int)w) != (int)w || BN_bn2binpad(s, *sig + w, (int)w) != (int)w) {
    free(*sig);
    *sig = NULL;
    e = tr_err_new(TR_E_CRYPTO, "%s: signature component too large", a->name);
    goto out;
  }
  *sig_len = 2 * w;
out:
  ECDSA_SIG_free(es);
  EVP_MD_CTX_free(ctx);
  return e;
}

static tr_err *es_verify(const tr_jws_alg *a, const tr_jwk *k, const uint8_t *in, size_t len,
                         const uint8_t *sig, size_t sig_len) {
  size_t w = (size_t)a->param;
  if (sig_len != 2 * w)
    return tr_err_new(TR_E_VERIFY, "%s: signature must be %zu bytes (raw r||s), got %zu", a->name, 2 * w,
                      sig_len);
  ECDSA_SIG *es = ECDSA_SIG_new();
  BIGNUM *r = BN_bin2bn(sig, (int)w, NULL), *s = BN_bin2bn(sig + w, (int)w, NULL);
  uint8_t *der = NULL;
  int dl = -1;
  tr_err *e = NULL;
  if (!es || !r || !s || ECDSA_SIG_set0(es, r, s) != 1) {
    BN_free(r);
    BN_free(s);
    e = tr_err_new(TR_E_NOMEM, "out of memory");
    goto out;
  }
  if ((dl = i2d_ECDSA_SIG(es, &der)) <= 0) {
    e = tr_ossl_err(TR_E_CRYPTO, "%s: encoding signature", a->name);
    goto out;
  }
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  if (!ctx || EVP_DigestVerifyInit_ex(ctx, NULL, a->md, NULL, NULL, tr_jwk_pkey(k), NULL) != 1)
    e = tr_ossl_err(TR_E_CRYPTO, "%s: verify init failed", a->name);
  else if (EVP_DigestVerify(ctx, der, (size_t)dl, in, len) != 1)
    e = tr_ossl_err(TR_E_VERIFY, "%s: signature does not verify", a->name);
  EVP_MD_CTX_free(ctx);
out:
  OPENSSL_free(der);
  ECDSA_SIG_free(es);
  return e;
}

const tr_jws_alg tr_jws_algs_ecdsa[] = {
    {"ES256", TR_KTY_EC, "P-256", "SHA256", 32, es_sign, es_verify},
    {"ES384", TR_KTY_EC, "P-384", "SHA384", 48, es_sign, es_verify},
    {"ES512", TR_KTY_EC, "P-521", "SHA512", 66, es_sign, es_verify},
    {NULL},
};
