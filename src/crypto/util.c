/* util.c — helpers shared by the JOSE core and the algorithm families. */
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/encoding.h"
#include "crypto/internal.h"

char *tr_b64u(const void *data, size_t len) { return tr_b64_encode(data, len, TR_B64_URL_NOPAD); }

tr_err *tr_b64u_dec(const char *in, size_t len, const char *what, uint8_t **out, size_t *out_len) {
  tr_err *e = tr_b64_decode(in, len, TR_B64_URL_NOPAD, out, out_len);
  return e ? tr_err_wrap(e, "%s", what) : NULL;
}

tr_err *tr_ossl_err(tr_code code, const char *fmt, ...) {
  char msg[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  unsigned long ec = ERR_get_error();
  ERR_clear_error();
  if (!ec) return tr_err_new(code, "%s", msg);
  char reason[160];
  ERR_error_string_n(ec, reason, sizeof reason);
  return tr_err_new(code, "%s (%s)", msg, reason);
}

bool tr_looks_der(const void *data, size_t len) {
  const uint8_t *d = data;
  if (len < 2 || d[0] != 0x30) return false;
  if (d[1] < 0x80) /* short form: small keys (P-256 SPKI is 30 59 30 ..., Ed25519 30 2a 30 ...) */
    return (size_t)d[1] + 2 == len || ((size_t)d[1] + 2 < len && len > 2 && (d[2] == 0x30 || d[2] == 0x02));
  return d[1] >= 0x81 && d[1] <= 0x84;
}

static const tr_curve CURVES[] = {
    {"P-256", "prime256v1", 32},
    {"P-384", "secp384r1", 48},
    {"P-521", "secp521r1", 66},
    {NULL, NULL, 0},
};

const tr_curve *tr_curve_by_name(const char *crv) {
  if (!crv) return NULL;
  for (const tr_curve *c = CURVES; c->crv; c++)
    if (strcmp(c->crv, crv) == 0) return c;
  return NULL;
}

/* Parameters-only key per CURVES entry: written once by curve_templates_init
 * (pthread_once), read-only afterwards; NULL where building one failed. */
static EVP_PKEY *curve_templates[sizeof CURVES / sizeof *CURVES];
static pthread_once_t curve_templates_once = PTHREAD_ONCE_INIT;

static void curve_templates_init(void) {
  for (size_t i = 0; CURVES[i].crv; i++) {
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    OSSL_PARAM p[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)CURVES[i].group, 0),
        OSSL_PARAM_construct_end()};
    EVP_PKEY *k = NULL;
    if (ctx && EVP_PKEY_paramgen_init(ctx) == 1 && EVP_PKEY_CTX_set_params(ctx, p) == 1 &&
        EVP_PKEY_paramgen(ctx, &k) == 1)
      curve_templates[i] = k;
    else
      EVP_PKEY_free(k);
    EVP_PKEY_CTX_free(ctx);
  }
}

static EVP_PKEY *curve_template(const tr_curve *c) {
  if (!c || c < CURVES || c >= CURVES + sizeof CURVES / sizeof *CURVES - 1) return NULL;
  pthread_once(&curve_templates_once, curve_templates_init);
  return curve_templates[c - CURVES];
}

EVP_PKEY *tr_ec_generate(const tr_curve *c) {
  EVP_PKEY *t = curve_template(c), *k = NULL;
  EVP_PKEY_CTX *ctx = t ? EVP_PKEY_CTX_new_from_pkey(NULL, t, NULL) : NULL;
  if (!ctx || EVP_PKEY_keygen_init(ctx) != 1 || EVP_PKEY_generate(ctx, &k) != 1) {
    EVP_PKEY_free(k);
    k = NULL;
  }
  EVP_PKEY_CTX_free(ctx);
  return k;
}

EVP_PKEY *tr_ec_public(const tr_curve *c, const uint8_t *point, size_t len) {
  EVP_PKEY *t = curve_template(c);
  if (!t || len != 1 + 2 * c->size || point[0] != 0x04) return NULL;
  EVP_PKEY *k = EVP_PKEY_dup(t);
  if (k && EVP_PKEY_set1_encoded_public_key(k, point, len) != 1) {
    EVP_PKEY_free(k);
    k = NULL;
  }
  return k;
}

const tr_curve *tr_curve_of_pkey(const EVP_PKEY *pkey) {
  char group[64];
  size_t glen = 0;
  if (!pkey || EVP_PKEY_get_base_id(pkey) != EVP_PKEY_EC) return NULL;
  if (EVP_PKEY_get_utf8_string_param(pkey, "group", group, sizeof group, &glen) != 1) return NULL;
  for (const tr_curve *c = CURVES; c->crv; c++)
    if (strcmp(c->group, group) == 0) return c;
  /* OpenSSL may report NIST names */
  if (strcmp(group, "P-256") == 0) return &CURVES[0];
  if (strcmp(group, "P-384") == 0) return &CURVES[1];
  if (strcmp(group, "P-521") == 0) return &CURVES[2];
  return NULL;
}

static const char *kty_name(tr_kty k) {
  switch (k) {
  case TR_KTY_RSA: return "RSA";
  case TR_KTY_EC: return "EC";
  case TR_KTY_OKP: return "OKP";
  case TR_KTY_OCT: return "oct";
  }
  return "?";
}

tr_err *tr_jwk_check_use(const tr_jwk *key, const char *alg, tr_kty kty, const char *crv, bool need_private) {
  if (!key) return tr_err_new(TR_E_INVALID, "%s: no key", alg);
  if (tr_jwk_kty(key) != kty)
    return tr_err_new(TR_E_INVALID, "algorithm %s needs a key of type %s, got %s", alg, kty_name(kty),
                      kty_name(tr_jwk_kty(key)));
  if (crv) {
    const char *have = tr_jwk_crv(key);
    if (!have || strcmp(have, crv) != 0)
      return tr_err_new(TR_E_INVALID, "algorithm %s needs curve %s, got %s", alg, crv, have ? have : "none");
  }
  if (kty == TR_KTY_RSA) {
    int bits = EVP_PKEY_get_bits(tr_jwk_pkey(key));
    if (bits < TR_RSA_MIN_BITS)
      return tr_err_new(TR_E_INVALID, "algorithm %s needs an RSA key of at least %d bits, got %d", alg,
                        TR_RSA_MIN_BITS, bits);
  }
  if (need_private && !tr_jwk_is_private(key))
    return tr_err_new(TR_E_INVALID, "algorithm %s needs a private key", alg);
  return NULL;
}
