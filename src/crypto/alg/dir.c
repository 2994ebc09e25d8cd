/* dir.c — JWE key management `dir` (RFC 7518 §4.5): the oct key is the CEK,
 * so its length must be the content cipher's key length, and the encrypted
 * key is empty. */
#include <string.h>

#include "crypto/internal.h"

static tr_err *key_as_cek(const tr_jwe_kalg *a, const tr_jwk *k, uint8_t *cek, size_t cek_len) {
  size_t n;
  const uint8_t *s = tr_jwk_secret(k, &n);
  if (n != cek_len)
    return tr_err_new(TR_E_INVALID, "%s: key must be %zu bytes, got %zu", a->name, cek_len, n);
  memcpy(cek, s, n);
  return NULL;
}

static tr_err *dir_wrap(const tr_jwe_kalg *a, const tr_jwk *k, json_t *hdr, uint8_t *cek, size_t cek_len,
                        uint8_t **ek, size_t *ek_len) {
  (void)hdr;
  *ek = NULL;
  *ek_len = 0;
  return key_as_cek(a, k, cek, cek_len);
}

static tr_err *dir_unwrap(const tr_jwe_kalg *a, const tr_jwk *k, const json_t *hdr, const uint8_t *ek,
                          size_t ek_len, uint8_t *cek, size_t cek_len) {
  (void)hdr;
  (void)ek;
  if (ek_len) return tr_err_new(TR_E_INVALID, "%s: encrypted key must be empty", a->name);
  return key_as_cek(a, k, cek, cek_len);
}

const tr_jwe_kalg tr_jwe_kalgs_dir[] = {
    {"dir", TR_KTY_OCT, 0, dir_wrap, dir_unwrap},
    {NULL},
};
