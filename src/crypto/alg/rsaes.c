/* rsaes.c — JWE key management RSA-OAEP-256 (OAEP, SHA-256, MGF1-SHA-256),
 * RSA-OAEP (OAEP, SHA-1, MGF1-SHA-1) and RSA1_5 (RFC 7518 §4.2, §4.3).
 *
 * RSA1_5 decryption is Bleichenbacher-safe (RFC 7516 §11.5, RFC 3218): a
 * random CEK of the right length is drawn before decrypting, and whether the
 * padding was valid and of the right length only selects, with a constant-time
 * mask, which of the two CEKs is used. A bad padding therefore surfaces as
 * the same "authentication tag does not match" as any other wrong CEK. OAEP
 * failures get one uniform message too. Keys under 2048 bits are refused. */
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <stdlib.h>
#include <string.h>

#include "core/encoding.h"
#include "crypto/internal.h"

enum { OAEP_SHA256 = 1, OAEP_SHA1, PKCS1 };

static tr_err *setup(const tr_jwe_kalg *a, EVP_PKEY_CTX *ctx) {
  int ok = 1;
  if (a->param == PKCS1) {
    ok = EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING);
  } else {
    const char *md = a->param == OAEP_SHA256 ? "SHA256" : "SHA1";
    ok = EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) == 1 &&
         EVP_PKEY_CTX_set_rsa_oaep_md_name(ctx, md, NULL) == 1 &&
         EVP_PKEY_CTX_set_rsa_mgf1_md_name(ctx, md, NULL) == 1;
  }
  return ok == 1 ? NULL : tr_ossl_err(TR_E_CRYPTO, "%s: padding setup failed", a->name);
}

static tr_err *rsa_wrap(const tr_jwe_kalg *a, const tr_jwk *k, json_t *hdr, uint8_t *cek, size_t cek_len,
                        uint8_t **ek, size_t *ek_len) {
  (void)hdr;
  EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, tr_jwk_pkey(k), NULL);
  tr_err *e = NULL;
  size_t n = 0;
  *ek = NULL;
  if (!ctx || EVP_PKEY_encrypt_init(ctx) != 1) {
    e = tr_ossl_err(TR_E_CRYPTO, "%s: init failed", a->name);
  } else if (!(e = setup(a, ctx))) {
    if (EVP_PKEY_encrypt(ctx, NULL, &n, cek, cek_len) != 1 || !(*ek = malloc(n)) ||
        EVP_PKEY_encrypt(ctx, *ek, &n, cek, cek_len) != 1) {
      free(*ek);
      *ek = NULL;
      e = tr_ossl_err(TR_E_CRYPTO, "%s: encrypting the content key failed", a->name);
    } else {
      *ek_len = n;
    }
  }
  EVP_PKEY_CTX_free(ctx);
  return e;
}

/* All-ones when a == b, else zero, without branches. */
static uint8_t ct_eq_mask(size_t a, size_t b) {
  size_t x = a ^ b;
  /* (x | -x) has its top bit set iff x != 0 */
  size_t nz = (x | (0 - x)) >> (sizeof(size_t) * 8 - 1);
  return (uint8_t)(nz - 1);
}

static tr_err *rsa_unwrap(const tr_jwe_kalg *a, const tr_jwk *k, const json_t *hdr, const uint8_t *ek,
                          size_t ek_len, uint8_t *cek, size_t cek_len) {
  (void)hdr;
  size_t ksize = (size_t)EVP_PKEY_get_size(tr_jwk_pkey(k));
  uint8_t *buf = OPENSSL_zalloc(ksize + cek_len), rnd[64];
  EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, tr_jwk_pkey(k), NULL);
  tr_err *e = NULL;
  if (!buf || !ctx || cek_len > sizeof rnd || EVP_PKEY_decrypt_init(ctx) != 1 || (e = setup(a, ctx))) {
    if (!e) e = tr_ossl_err(TR_E_CRYPTO, "%s: init failed", a->name);
    goto out;
  }
  if ((e = tr_random_bytes(rnd, cek_len))) goto out;
  size_t n = ksize;
  int r = EVP_PKEY_decrypt(ctx, buf, &n, ek, ek_len);
  ERR_clear_error();
  uint8_t good = ct_eq_mask((size_t)r, 1) & ct_eq_mask(n, cek_len);
  if (a->param == PKCS1) {
    for (size_t i = 0; i < cek_len; i++)
      cek[i] = (uint8_t)((buf[i] & good) | (rnd[i] & ~good));
  } else if (good) {
    memcpy(cek, buf, cek_len);
  } else {
    e = tr_err_new(TR_E_VERIFY, "%s: decryption failed", a->name);
  }
out:
  OPENSSL_cleanse(rnd, sizeof rnd);
  if (buf) OPENSSL_clear_free(buf, ksize + cek_len);
  EVP_PKEY_CTX_free(ctx);
  return e;
}

const tr_jwe_kalg tr_jwe_kalgs_rsa[] = {
    {"RSA-OAEP-256", TR_KTY_RSA, OAEP_SHA256, rsa_wrap, rsa_unwrap},
    {"RSA-OAEP", TR_KTY_RSA, OAEP_SHA1, rsa_wrap, rsa_unwrap},
    {"RSA1_5", TR_KTY_RSA, PKCS1, rsa_wrap, rsa_unwrap},
    {NULL},
};
