/* aesgcm.c — JWE content encryption A128GCM / A256GCM (RFC 7518 §5.3):
 * 96-bit IV, 128-bit tag. Tags shorter than 128 bits are refused by the core
 * before we get here; OpenSSL compares the tag in constant time. */
#include <openssl/err.h>
#include <openssl/evp.h>
#include <stdint.h>

#include "crypto/internal.h"

const tr_jwe_enc tr_jwe_encs_aesgcm[] = {
    {"A128GCM", 16, 12, 16, "AES-128-GCM"},
    {"A256GCM", 32, 12, 16, "AES-256-GCM"},
    {NULL},
};

static const EVP_CIPHER *cipher_of(const tr_jwe_enc *e) {
  return e->key_len == 16 ? EVP_aes_128_gcm() : EVP_aes_256_gcm();
}

static bool len_ok(size_t n) { return n <= INT32_MAX; }

tr_err *tr_aesgcm_encrypt(const tr_jwe_enc *e, const uint8_t *key, const uint8_t *iv, const uint8_t *aad,
                          size_t aad_len, const uint8_t *pt, size_t pt_len, uint8_t *ct, uint8_t *tag) {
  if (!len_ok(aad_len) || !len_ok(pt_len)) return tr_err_new(TR_E_LIMIT, "%s: input too large", e->name);
  EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
  int n = 0;
  tr_err *err = NULL;
  if (!c || EVP_EncryptInit_ex(c, cipher_of(e), NULL, NULL, NULL) != 1 ||
      EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, (int)e->iv_len, NULL) != 1 ||
      EVP_EncryptInit_ex(c, NULL, NULL, key, iv) != 1 ||
      (aad_len && EVP_EncryptUpdate(c, NULL, &n, aad, (int)aad_len) != 1) ||
      (pt_len && EVP_EncryptUpdate(c, ct, &n, pt, (int)pt_len) != 1) ||
      EVP_EncryptFinal_ex(c, ct + n, &n) != 1 ||
      EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, (int)e->tag_len, tag) != 1)
    err = tr_ossl_err(TR_E_CRYPTO, "%s: encryption failed", e->name);
  EVP_CIPHER_CTX_free(c);
  return err;
}

tr_err *tr_aesgcm_decrypt(const tr_jwe_enc *e, const uint8_t *key, const uint8_t *iv, const uint8_t *aad,
                          size_t aad_len, const uint8_t *ct, size_t ct_len, const uint8_t *tag, uint8_t *pt) {
  if (!len_ok(aad_len) || !len_ok(ct_len)) return tr_err_new(TR_E_LIMIT, "%s: input too large", e->name);
  EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
  int n = 0;
  tr_err *err = NULL;
  if (!c || EVP_DecryptInit_ex(c, cipher_of(e), NULL, NULL, NULL) != 1 ||
      EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, (int)e->iv_len, NULL) != 1 ||
      EVP_DecryptInit_ex(c, NULL, NULL, key, iv) != 1 ||
      (aad_len && EVP_DecryptUpdate(c, NULL, &n, aad, (int)aad_len) != 1) ||
      (ct_len && EVP_DecryptUpdate(c, pt, &n, ct, (int)ct_len) != 1) ||
      EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, (int)e->tag_len, (void *)tag) != 1) {
    err = tr_ossl_err(TR_E_CRYPTO, "%s: decryption setup failed", e->name);
  } else if (EVP_DecryptFinal_ex(c, pt + n, &n) != 1) {
    ERR_clear_error();
    err = tr_err_new(TR_E_VERIFY, "%s: authentication tag does not match", e->name);
  }
  EVP_CIPHER_CTX_free(c);
  return err;
}
