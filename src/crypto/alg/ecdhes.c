/* ecdhes.c — JWE key management ECDH-ES+A256KW (RFC 7518 §4.6) on P-256,
 * P-384 and P-521.
 *
 * Sender: a fresh ephemeral key on the recipient's curve; Z = x-coordinate of
 * the shared point (fixed size); KEK = Concat KDF (NIST SP 800-56A §5.8.1,
 * SHA-256) with AlgorithmID = "ECDH-ES+A256KW", PartyUInfo/PartyVInfo = apu/apv
 * (empty when we send), SuppPubInfo = keydatalen 256; the CEK is wrapped with
 * AES-256 Key Wrap (RFC 3394). The ephemeral public key goes in the header as
 * "epk" with members crv, kty, x, y in that order (as upstream's KBS emits).
 *
 * Receiver: "epk" is parsed as a JWK, so it must be on the curve with
 * fixed-size coordinates (an off-curve point would leak the private key
 * through invalid-curve attacks), and on the same curve as our key. */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/internal.h"

#define KW_KEY_BITS 256

/* Both keys come from tr_jwk objects, whose EC points were checked on the
 * curve when the JWK was built (jwk.c), so OpenSSL's re-validation of the
 * peer on every derive is skipped. */
static tr_err *ecdh(EVP_PKEY *priv, EVP_PKEY *peer, uint8_t *z, size_t *zlen) {
  EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, priv, NULL);
  tr_err *e = NULL;
  if (!ctx || EVP_PKEY_derive_init(ctx) != 1 || EVP_PKEY_derive_set_peer_ex(ctx, peer, 0) != 1 ||
      EVP_PKEY_derive(ctx, z, zlen) != 1)
    e = tr_ossl_err(TR_E_CRYPTO, "ECDH-ES: key agreement failed");
  EVP_PKEY_CTX_free(ctx);
  return e;
}

static void be32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

/* Concat KDF with SHA-256, one round (declared in internal.h). */
tr_err *tr_ecdhes_concat_kdf(const char *alg, const uint8_t *z, size_t zlen, const uint8_t *apu,
                             size_t apu_len, const uint8_t *apv, size_t apv_len, unsigned keydatalen_bits,
                             uint8_t out[32]) {
  uint8_t n[4];
  size_t alen = strlen(alg);
  if (keydatalen_bits == 0 || keydatalen_bits > 256 || keydatalen_bits % 8)
    return tr_err_new(TR_E_INVALID, "ECDH-ES: Concat KDF key length %u bits not supported", keydatalen_bits);
  EVP_MD_CTX *c = EVP_MD_CTX_new();
  bool ok = c && EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1;
  be32(n, 1); /* counter; 256 bits of output need one SHA-256 round */
  ok = ok && EVP_DigestUpdate(c, n, 4) && EVP_DigestUpdate(c, z, zlen);
  be32(n, (uint32_t)alen);
  ok = ok && EVP_DigestUpdate(c, n, 4) && EVP_DigestUpdate(c, alg, alen);
  be32(n, (uint32_t)apu_len);
  ok = ok && EVP_DigestUpdate(c, n, 4) && (!apu_len || EVP_DigestUpdate(c, apu, apu_len));
  be32(n, (uint32_t)apv_len);
  ok = ok && EVP_DigestUpdate(c, n, 4) && (!apv_len || EVP_DigestUpdate(c, apv, apv_len));
  be32(n, keydatalen_bits);
  ok = ok && EVP_DigestUpdate(c, n, 4) && EVP_DigestFinal_ex(c, out, NULL) == 1;
  EVP_MD_CTX_free(c);
  return ok ? NULL : tr_ossl_err(TR_E_CRYPTO, "ECDH-ES: Concat KDF failed");
}

/* AES-256 Key Wrap (RFC 3394); out has in_len + 8 bytes when wrapping,
 * in_len - 8 when unwrapping. Unwrap integrity failure: TR_E_VERIFY. */
static tr_err *aes_kw(bool wrap, const uint8_t *kek, const uint8_t *in, size_t in_len, uint8_t *out,
                      size_t *out_len) {
  EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
  int n = 0, f = 0;
  tr_err *e = NULL;
  if (!c) return tr_err_new(TR_E_NOMEM, "out of memory");
  EVP_CIPHER_CTX_set_flags(c, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
  if (EVP_CipherInit_ex(c, EVP_aes_256_wrap(), NULL, kek, NULL, wrap) != 1) {
    e = tr_ossl_err(TR_E_CRYPTO, "A256KW: init failed");
  } else if (EVP_CipherUpdate(c, out, &n, in, (int)in_len) != 1 || EVP_CipherFinal_ex(c, out + n, &f) != 1) {
    e = wrap ? tr_ossl_err(TR_E_CRYPTO, "A256KW: wrapping failed")
             : tr_ossl_err(TR_E_VERIFY, "A256KW: key unwrap failed (wrong key or altered encrypted_key)");
  } else {
    *out_len = (size_t)(n + f);
  }
  EVP_CIPHER_CTX_free(c);
  return e;
}

static tr_err *kek_for(const char *alg, EVP_PKEY *priv, EVP_PKEY *peer, const uint8_t *apu, size_t apu_len,
                       const uint8_t *apv, size_t apv_len, uint8_t kek[32]) {
  uint8_t z[66];
  size_t zlen = sizeof z;
  tr_err *e = ecdh(priv, peer, z, &zlen);
  if (!e) e = tr_ecdhes_concat_kdf(alg, z, zlen, apu, apu_len, apv, apv_len, KW_KEY_BITS, kek);
  OPENSSL_cleanse(z, sizeof z);
  return e;
}

static tr_err *ecdh_wrap(const tr_jwe_kalg *a, const tr_jwk *k, json_t *hdr, uint8_t *cek, size_t cek_len,
                         uint8_t **ek, size_t *ek_len) {
  const tr_curve *c = tr_curve_by_name(tr_jwk_crv(k));
  EVP_PKEY *eph = c ? tr_ec_generate(c) : NULL;
  tr_jwk *epk = NULL;
  uint8_t kek[32];
  tr_err *e = NULL;
  *ek = NULL;
  if (!eph) return tr_ossl_err(TR_E_CRYPTO, "%s: ephemeral key generation failed", a->name);
  if ((e = kek_for(a->name, eph, tr_jwk_pkey(k), NULL, 0, NULL, 0, kek))) goto out;
  if (!(*ek = malloc(cek_len + 8))) {
    e = tr_err_new(TR_E_NOMEM, "out of memory");
    goto out;
  }
  if ((e = aes_kw(true, kek, cek, cek_len, *ek, ek_len)) || (e = tr_jwk_from_generated_ec(eph, c, &epk)))
    goto out;
  eph = NULL;                             /* owned by epk now */
  json_t *j = tr_jwk_to_json(epk, false); /* crv, kty, x, y */
  if (!j || json_object_set_new(hdr, "epk", j)) e = tr_err_new(TR_E_NOMEM, "out of memory");
out:
  if (e) {
    free(*ek);
    *ek = NULL;
  }
  OPENSSL_cleanse(kek, sizeof kek);
  tr_jwk_free(epk);
  EVP_PKEY_free(eph);
  return e;
}

static tr_err *opt_b64(const json_t *hdr, const char *name, uint8_t **out, size_t *len) {
  json_t *v = json_object_get(hdr, name);
  *out = NULL;
  *len = 0;
  if (!v) return NULL;
  if (!json_is_string(v)) return tr_err_new(TR_E_INVALID, "JWE header `%s`: expected string", name);
  return tr_b64u_dec(json_string_value(v), json_string_length(v), name, out, len);
}

static tr_err *ecdh_unwrap(const tr_jwe_kalg *a, const tr_jwk *k, const json_t *hdr, const uint8_t *ek,
                           size_t ek_len, uint8_t *cek, size_t cek_len) {
  json_t *epkj = json_object_get(hdr, "epk");
  tr_jwk *epk = NULL;
  uint8_t *apu = NULL, *apv = NULL, kek[32], out[72];
  size_t apu_len = 0, apv_len = 0, n = 0;
  tr_err *e = NULL;
  if (!json_is_object(epkj)) return tr_err_new(TR_E_INVALID, "%s: header needs an `epk` object", a->name);
  if ((e = tr_jwk_from_json(epkj, &epk))) return tr_err_wrap(e, "%s: header `epk`", a->name);
  if (tr_jwk_kty(epk) != TR_KTY_EC || tr_jwk_is_private(epk) || !tr_jwk_crv(epk) ||
      strcmp(tr_jwk_crv(epk), tr_jwk_crv(k)) != 0) {
    e = tr_err_new(TR_E_INVALID, "%s: `epk` must be a public EC key on %s", a->name, tr_jwk_crv(k));
    goto out;
  }
  if (ek_len != cek_len + 8) {
    e = tr_err_new(TR_E_INVALID, "%s: encrypted key must be %zu bytes, got %zu", a->name, cek_len + 8,
                   ek_len);
    goto out;
  }
  if ((e = opt_b64(hdr, "apu", &apu, &apu_len)) || (e = opt_b64(hdr, "apv", &apv, &apv_len))) goto out;
  if ((e = kek_for(a->name, tr_jwk_pkey(k), tr_jwk_pkey(epk), apu, apu_len, apv, apv_len, kek)) ||
      (e = aes_kw(false, kek, ek, ek_len, out, &n)))
    goto out;
  if (n != cek_len) {
    e = tr_err_new(TR_E_INVALID, "%s: unwrapped key has %zu bytes, expected %zu", a->name, n, cek_len);
    goto out;
  }
  memcpy(cek, out, cek_len);
out:
  OPENSSL_cleanse(kek, sizeof kek);
  OPENSSL_cleanse(out, sizeof out);
  free(apu);
  free(apv);
  tr_jwk_free(epk);
  return e;
}

const tr_jwe_kalg tr_jwe_kalgs_ecdh[] = {
    {"ECDH-ES+A256KW", TR_KTY_EC, 0, ecdh_wrap, ecdh_unwrap},
    {NULL},
};
