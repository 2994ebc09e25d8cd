/* jwk.c — JSON Web Keys over OpenSSL 3 EVP_PKEY.
 *
 * Invariants of a tr_jwk:
 *  - kty RSA/EC/OKP: `pkey` is set, `secret` is NULL; kty oct: the reverse.
 *  - EC keys are on P-256/P-384/P-521 (`crv` points at a static name) and
 *    were checked on the curve when parsed; an EC/OKP private part was
 *    checked against the public part.
 *  - The reference count is atomic; everything else is written only while
 *    the key is being built (or by the metadata setters, which callers use
 *    before sharing the key).
 *
 * Parsing is strict where RFC 7518 says MUST: base64url without padding,
 * fixed-size EC coordinates, Ed25519 only for OKP. Unknown members are
 * ignored (RFC 7517 §4), `x5c` is kept for callers that check it. */
#include "crypto/jwk.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/encoding.h"
#include "core/json.h"
#include "crypto/internal.h"

struct tr_jwk {
  atomic_int refs;
  tr_kty kty;
  bool priv;
  const char *crv; /* static */
  EVP_PKEY *pkey;
  uint8_t *secret;
  size_t secret_len;
  char *alg, *kid, *use;
  json_t *x5c;
};

static tr_jwk *jwk_new(tr_kty kty) {
  tr_jwk *k = calloc(1, sizeof *k);
  if (!k) return NULL;
  atomic_init(&k->refs, 1);
  k->kty = kty;
  return k;
}

tr_jwk *tr_jwk_ref(tr_jwk *k) {
  if (k) atomic_fetch_add(&k->refs, 1);
  return k;
}

void tr_jwk_free(tr_jwk *k) {
  if (!k || atomic_fetch_sub(&k->refs, 1) != 1) return;
  EVP_PKEY_free(k->pkey);
  if (k->secret) OPENSSL_clear_free(k->secret, k->secret_len);
  free(k->alg);
  free(k->kid);
  free(k->use);
  json_decref(k->x5c);
  free(k);
}

/* ---- accessors ----------------------------------------------------------- */

static bool set_str(char **slot, const char *v) {
  char *n = NULL;
  if (v && !(n = strdup(v))) return false;
  free(*slot);
  *slot = n;
  return true;
}

bool tr_jwk_set_alg(tr_jwk *k, const char *alg) { return set_str(&k->alg, alg); }
bool tr_jwk_set_kid(tr_jwk *k, const char *kid) { return set_str(&k->kid, kid); }
bool tr_jwk_set_use(tr_jwk *k, const char *use) { return set_str(&k->use, use); }
const char *tr_jwk_alg(const tr_jwk *k) { return k->alg; }
const char *tr_jwk_kid(const tr_jwk *k) { return k->kid; }
const char *tr_jwk_use(const tr_jwk *k) { return k->use; }
tr_kty tr_jwk_kty(const tr_jwk *k) { return k->kty; }
const char *tr_jwk_crv(const tr_jwk *k) { return k->crv; }
bool tr_jwk_is_private(const tr_jwk *k) { return k->priv; }
EVP_PKEY *tr_jwk_pkey(const tr_jwk *k) { return k->pkey; }
const json_t *tr_jwk_x5c(const tr_jwk *k) { return k->x5c; }

const uint8_t *tr_jwk_secret(const tr_jwk *k, size_t *len) {
  if (len) *len = k->secret_len;
  return k->secret;
}

bool tr_jwk_set_x5c(tr_jwk *k, const json_t *x5c) {
  json_t *n = NULL;
  if (x5c && !(n = json_deep_copy(x5c))) return false;
  json_decref(k->x5c);
  k->x5c = n;
  return true;
}

/* ---- parsing helpers ----------------------------------------------------- */

/* Decodes member `name` (base64url, no padding). *out NULL when absent and
 * not required. */
static tr_err *get_b64(const json_t *obj, const char *name, bool required, uint8_t **out, size_t *len) {
  *out = NULL;
  *len = 0;
  json_t *v = json_object_get(obj, name);
  if (!v) return required ? tr_err_new(TR_E_INVALID, "JWK: missing member `%s`", name) : NULL;
  if (!json_is_string(v)) return tr_err_new(TR_E_INVALID, "JWK member `%s`: expected string", name);
  tr_err *e = tr_b64_decode(json_string_value(v), json_string_length(v), TR_B64_URL_NOPAD, out, len);
  if (e) return tr_err_wrap(e, "JWK member `%s`", name);
  return NULL;
}

static void free_secret(uint8_t *p, size_t len) {
  if (p) OPENSSL_clear_free(p, len);
}

static tr_err *pkey_from_params(const char *type, int selection, OSSL_PARAM *params, EVP_PKEY **out) {
  EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
  *out = NULL;
  if (!ctx || EVP_PKEY_fromdata_init(ctx) != 1 || EVP_PKEY_fromdata(ctx, out, selection, params) != 1) {
    EVP_PKEY_CTX_free(ctx);
    return tr_ossl_err(TR_E_INVALID, "JWK: %s key rejected by OpenSSL", type);
  }
  EVP_PKEY_CTX_free(ctx);
  return NULL;
}

static const char *const RSA_PRIV[] = {"d", "p", "q", "dp", "dq", "qi"};
static const char *const RSA_PRIV_PARAM[] = {OSSL_PKEY_PARAM_RSA_D,         OSSL_PKEY_PARAM_RSA_FACTOR1,
                                             OSSL_PKEY_PARAM_RSA_FACTOR2,   OSSL_PKEY_PARAM_RSA_EXPONENT1,
                                             OSSL_PKEY_PARAM_RSA_EXPONENT2, OSSL_PKEY_PARAM_RSA_COEFFICIENT1};

static tr_err *parse_rsa(const json_t *obj, tr_jwk *k) {
  uint8_t *n = NULL, *e = NULL, *priv[6] = {0};
  size_t nl = 0, el = 0, pl[6] = {0};
  BIGNUM *bn[8] = {0};
  OSSL_PARAM_BLD *bld = NULL;
  OSSL_PARAM *params = NULL;
  tr_err *err = NULL;
  if (json_object_get(obj, "oth")) {
    err = tr_err_new(TR_E_UNSUPPORTED, "JWK: multi-prime RSA keys (`oth`) are not supported");
    goto out;
  }
  if ((err = get_b64(obj, "n", true, &n, &nl)) || (err = get_b64(obj, "e", true, &e, &el))) goto out;
  if (nl == 0 || el == 0 || !(n[nl - 1] & 1) || !(e[el - 1] & 1) || (el == 1 && e[0] == 1)) {
    err = tr_err_new(TR_E_INVALID, "JWK: invalid RSA modulus or exponent");
    goto out;
  }
  /* Every public operation costs one squaring per bit of e, and OpenSSL only
   * bounds e for moduli above 3072 bits: cap it (upstream's rsa crate allows
   * 33 bits; real keys use 65537). */
  size_t e_sig = el;
  for (size_t i = 0; i < el && e[i] == 0; i++)
    e_sig--;
  if (e_sig > 8) {
    err = tr_err_new(TR_E_INVALID, "JWK: RSA public exponent `e` is longer than 64 bits (%zu bytes)", e_sig);
    goto out;
  }
  size_t npriv = 0;
  for (int i = 0; i < 6; i++) {
    if ((err = get_b64(obj, RSA_PRIV[i], false, &priv[i], &pl[i]))) goto out;
    if (priv[i]) npriv++;
  }
  if (npriv && !priv[0]) {
    err = tr_err_new(TR_E_INVALID, "JWK: RSA private key without `d`");
    goto out;
  }
  if (npriv != 0 && npriv != 1 && npriv != 6) {
    err = tr_err_new(TR_E_INVALID, "JWK: RSA private key needs all of p, q, dp, dq, qi or none");
    goto out;
  }
  bld = OSSL_PARAM_BLD_new();
  bn[0] = BN_bin2bn(n, (int)nl, NULL);
  bn[1] = BN_bin2bn(e, (int)el, NULL);
  if (!bld || !bn[0] || !bn[1] || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn[0]) ||
      !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn[1])) {
    err = tr_ossl_err(TR_E_NOMEM, "JWK: building RSA key");
    goto out;
  }
  for (int i = 0; i < 6; i++) {
    if (!priv[i]) continue;
    bn[2 + i] = BN_secure_new();
    if (!bn[2 + i] || !BN_bin2bn(priv[i], (int)pl[i], bn[2 + i]) ||
        !OSSL_PARAM_BLD_push_BN(bld, RSA_PRIV_PARAM[i], bn[2 + i])) {
      err = tr_ossl_err(TR_E_NOMEM, "JWK: building RSA key");
      goto out;
    }
  }
  if (!(params = OSSL_PARAM_BLD_to_param(bld))) {
    err = tr_ossl_err(TR_E_NOMEM, "JWK: building RSA key");
    goto out;
  }
  if ((err = pkey_from_params("RSA", npriv ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, params, &k->pkey)))
    goto out;
  k->priv = npriv != 0;
out:
  free(n);
  free(e);
  for (int i = 0; i < 6; i++)
    free_secret(priv[i], pl[i]);
  for (int i = 0; i < 8; i++)
    BN_clear_free(bn[i]);
  OSSL_PARAM_free(params);
  OSSL_PARAM_BLD_free(bld);
  return err;
}

/* Runs OpenSSL's quick public-key check (EC: point on the curve, not the
 * point at infinity — sufficient on P-256/384/521, whose cofactor is 1, so
 * the full check's n·Q = O scalar multiplication adds nothing) and, for
 * private keys, the pairwise check (public = d·G). Every EC key a tr_jwk
 * holds has passed this, so ECDH can skip OpenSSL's per-derive re-check. */
static tr_err *check_pkey(EVP_PKEY *pkey, bool priv, const char *what) {
  EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
  if (!ctx) return tr_ossl_err(TR_E_NOMEM, "JWK: checking key");
  int ok = EVP_PKEY_public_check_quick(ctx);
  if (ok == 1 && priv) ok = EVP_PKEY_pairwise_check(ctx);
  EVP_PKEY_CTX_free(ctx);
  if (ok != 1) return tr_ossl_err(TR_E_INVALID, "JWK: %s", what);
  return NULL;
}

static tr_err *parse_ec(const json_t *obj, tr_jwk *k) {
  json_t *crvj = json_object_get(obj, "crv");
  if (!json_is_string(crvj)) return tr_err_new(TR_E_INVALID, "JWK: EC key needs string member `crv`");
  const tr_curve *c = tr_curve_by_name(json_string_value(crvj));
  if (!c) return tr_err_new(TR_E_UNSUPPORTED, "JWK: unsupported EC curve `%s`", json_string_value(crvj));
  uint8_t *x = NULL, *y = NULL, *d = NULL, pub[1 + 2 * 66];
  size_t xl = 0, yl = 0, dl = 0;
  BIGNUM *dbn = NULL;
  OSSL_PARAM_BLD *bld = NULL;
  OSSL_PARAM *params = NULL;
  tr_err *err = NULL;
  if ((err = get_b64(obj, "x", true, &x, &xl)) || (err = get_b64(obj, "y", true, &y, &yl)) ||
      (err = get_b64(obj, "d", false, &d, &dl)))
    goto out;
  if (xl != c->size || yl != c->size) {
    err = tr_err_new(TR_E_INVALID, "JWK: %s coordinates must be %zu bytes each, got x=%zu y=%zu", c->crv,
                     c->size, xl, yl);
    goto out;
  }
  if (d && (dl == 0 || dl > c->size)) {
    err = tr_err_new(TR_E_INVALID, "JWK: %s private key `d` must be at most %zu bytes, got %zu", c->crv,
                     c->size, dl);
    goto out;
  }
  pub[0] = 0x04;
  memcpy(pub + 1, x, c->size);
  memcpy(pub + 1 + c->size, y, c->size);
  if (!d) { /* public key: the decoding refuses off-curve points, nothing left to check (internal.h) */
    ERR_set_mark();
    k->pkey = tr_ec_public(c, pub, 1 + 2 * c->size);
    ERR_pop_to_mark();
    if (!k->pkey) err = tr_err_new(TR_E_INVALID, "JWK: %s point is not on the curve", c->crv);
    k->crv = c->crv;
    goto out;
  }
  bld = OSSL_PARAM_BLD_new();
  if (!bld || !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, c->group, 0) ||
      !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, 1 + 2 * c->size)) {
    err = tr_ossl_err(TR_E_NOMEM, "JWK: building EC key");
    goto out;
  }
  if (d) {
    dbn = BN_secure_new();
    if (!dbn || !BN_bin2bn(d, (int)dl, dbn) || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, dbn)) {
      err = tr_ossl_err(TR_E_NOMEM, "JWK: building EC key");
      goto out;
    }
  }
  if (!(params = OSSL_PARAM_BLD_to_param(bld))) {
    err = tr_ossl_err(TR_E_NOMEM, "JWK: building EC key");
    goto out;
  }
  ERR_set_mark();
  err = pkey_from_params("EC", d ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, params, &k->pkey);
  ERR_pop_to_mark();
  if (err) {
    /* OpenSSL refuses points that are not on the curve while decoding */
    tr_err_free(err);
    err = tr_err_new(TR_E_INVALID, "JWK: %s point is not on the curve", c->crv);
    goto out;
  }
  if ((err = check_pkey(k->pkey, true,
                        "EC private key does not match its public point, or point not on the curve")))
    goto out;
  k->crv = c->crv;
  k->priv = true;
out:
  free(x);
  free(y);
  free_secret(d, dl);
  BN_clear_free(dbn);
  OSSL_PARAM_free(params);
  OSSL_PARAM_BLD_free(bld);
  return err;
}

static tr_err *parse_okp(const json_t *obj, tr_jwk *k) {
  json_t *crvj = json_object_get(obj, "crv");
  if (!json_is_string(crvj)) return tr_err_new(TR_E_INVALID, "JWK: OKP key needs string member `crv`");
  if (strcmp(json_string_value(crvj), "Ed25519") != 0)
    return tr_err_new(TR_E_UNSUPPORTED, "JWK: unsupported OKP curve `%s`", json_string_value(crvj));
  uint8_t *x = NULL, *d = NULL;
  size_t xl = 0, dl = 0;
  tr_err *err = NULL;
  if ((err = get_b64(obj, "x", true, &x, &xl)) || (err = get_b64(obj, "d", false, &d, &dl))) goto out;
  if (xl != 32 || (d && dl != 32)) {
    err = tr_err_new(TR_E_INVALID, "JWK: Ed25519 `x` and `d` must be 32 bytes");
    goto out;
  }
  if (d) {
    k->pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, d, dl);
    uint8_t derived[32];
    size_t dlen = sizeof derived;
    if (!k->pkey || EVP_PKEY_get_raw_public_key(k->pkey, derived, &dlen) != 1) {
      err = tr_ossl_err(TR_E_INVALID, "JWK: Ed25519 private key rejected");
      goto out;
    }
    if (!tr_ct_equal(derived, dlen, x, xl)) {
      err = tr_err_new(TR_E_INVALID, "JWK: Ed25519 private key does not match `x`");
      goto out;
    }
  } else if (!(k->pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, x, xl))) {
    err = tr_ossl_err(TR_E_INVALID, "JWK: Ed25519 public key rejected");
    goto out;
  }
  k->crv = "Ed25519";
  k->priv = d != NULL;
out:
  free(x);
  free_secret(d, dl);
  return err;
}

static tr_err *parse_oct(const json_t *obj, tr_jwk *k) {
  tr_err *err = get_b64(obj, "k", true, &k->secret, &k->secret_len);
  if (err) return err;
  if (k->secret_len == 0) return tr_err_new(TR_E_INVALID, "JWK: empty symmetric key `k`");
  k->priv = true;
  return NULL;
}

static tr_err *opt_meta(const json_t *obj, const char *name, char **slot) {
  json_t *v = json_object_get(obj, name);
  if (!v) return NULL;
  if (!json_is_string(v)) return tr_err_new(TR_E_INVALID, "JWK member `%s`: expected string", name);
  if (!(*slot = strdup(json_string_value(v)))) return tr_err_new(TR_E_NOMEM, "out of memory");
  return NULL;
}

tr_err *tr_jwk_from_json(const json_t *obj, tr_jwk **out) {
  *out = NULL;
  if (!json_is_object(obj)) return tr_err_new(TR_E_INVALID, "JWK: expected a JSON object");
  json_t *ktyj = json_object_get(obj, "kty");
  if (!json_is_string(ktyj)) return tr_err_new(TR_E_INVALID, "JWK: missing string member `kty`");
  const char *kty = json_string_value(ktyj);
  static const struct {
    const char *name;
    tr_kty kty;
    tr_err *(*parse)(const json_t *, tr_jwk *);
  } KTYS[] = {
      {"RSA", TR_KTY_RSA, parse_rsa},
      {"EC", TR_KTY_EC, parse_ec},
      {"OKP", TR_KTY_OKP, parse_okp},
      {"oct", TR_KTY_OCT, parse_oct},
  };
  for (size_t i = 0; i < sizeof KTYS / sizeof KTYS[0]; i++) {
    if (strcmp(KTYS[i].name, kty) != 0) continue;
    tr_jwk *k = jwk_new(KTYS[i].kty);
    if (!k) return tr_err_new(TR_E_NOMEM, "out of memory");
    tr_err *e = KTYS[i].parse(obj, k);
    if (!e) e = opt_meta(obj, "alg", &k->alg);
    if (!e) e = opt_meta(obj, "kid", &k->kid);
    if (!e) e = opt_meta(obj, "use", &k->use);
    json_t *x5c = json_object_get(obj, "x5c");
    if (!e && x5c) {
      size_t j;
      json_t *c;
      if (!json_is_array(x5c) || json_array_size(x5c) == 0)
        e = tr_err_new(TR_E_INVALID, "JWK member `x5c`: expected a non-empty array of strings");
      json_array_foreach(x5c, j, c) if (!e && !json_is_string(c)) e =
          tr_err_new(TR_E_INVALID, "JWK member `x5c[%zu]`: expected string", j);
      if (!e) k->x5c = json_incref(x5c);
    }
    if (e) {
      tr_jwk_free(k);
      return e;
    }
    *out = k;
    return NULL;
  }
  return tr_err_new(TR_E_UNSUPPORTED, "JWK: unsupported key type `%s`", kty);
}

tr_err *tr_jwk_from_json_text(const char *text, size_t len, tr_jwk **out) {
  json_t *j = NULL;
  *out = NULL;
  tr_err *e = tr_json_parse(text, len, &j);
  if (e) return tr_err_wrap(e, "JWK");
  e = tr_jwk_from_json(j, out);
  json_decref(j);
  return e;
}

/* ---- EVP_PKEY ------------------------------------------------------------- */

static bool pkey_has_private(EVP_PKEY *pkey) {
  int id = EVP_PKEY_get_base_id(pkey);
  if (id == EVP_PKEY_ED25519) {
    size_t l = 0;
    return EVP_PKEY_get_raw_private_key(pkey, NULL, &l) == 1 && l > 0;
  }
  BIGNUM *bn = NULL;
  const char *name = id == EVP_PKEY_RSA ? OSSL_PKEY_PARAM_RSA_D : OSSL_PKEY_PARAM_PRIV_KEY;
  ERR_set_mark();
  bool has = EVP_PKEY_get_bn_param(pkey, name, &bn) == 1;
  ERR_pop_to_mark();
  BN_clear_free(bn);
  return has;
}

tr_err *tr_jwk_from_pkey(EVP_PKEY *pkey, tr_jwk **out) {
  *out = NULL;
  if (!pkey) return tr_err_new(TR_E_INVALID, "JWK: no key");
  int id = EVP_PKEY_get_base_id(pkey);
  tr_kty kty;
  const char *crv = NULL;
  if (id == EVP_PKEY_RSA) {
    BIGNUM *bn = NULL;
    int ebits = EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &bn) == 1 ? BN_num_bits(bn) : -1;
    BN_free(bn);
    if (ebits < 0) return tr_ossl_err(TR_E_INVALID, "JWK: RSA key without a public exponent");
    if (ebits > 64) /* as parse_rsa */
      return tr_err_new(TR_E_INVALID, "JWK: RSA public exponent `e` is longer than 64 bits (%d bits)", ebits);
    kty = TR_KTY_RSA;
  } else if (id == EVP_PKEY_EC) {
    const tr_curve *c = tr_curve_of_pkey(pkey);
    if (!c) return tr_err_new(TR_E_UNSUPPORTED, "JWK: unsupported EC curve");
    tr_err *e = check_pkey(pkey, false, "EC point is not on the curve");
    if (e) return e;
    kty = TR_KTY_EC;
    crv = c->crv;
  } else if (id == EVP_PKEY_ED25519) {
    kty = TR_KTY_OKP;
    crv = "Ed25519";
  } else {
    return tr_err_new(TR_E_UNSUPPORTED, "JWK: unsupported key type %s", EVP_PKEY_get0_type_name(pkey));
  }
  tr_jwk *k = jwk_new(kty);
  if (!k || !EVP_PKEY_up_ref(pkey)) {
    free(k);
    return tr_err_new(TR_E_NOMEM, "out of memory");
  }
  k->pkey = pkey;
  k->crv = crv;
  k->priv = pkey_has_private(pkey);
  *out = k;
  return NULL;
}

tr_err *tr_jwk_from_generated_ec(EVP_PKEY *pkey, const tr_curve *c, tr_jwk **out) {
  tr_jwk *k = jwk_new(TR_KTY_EC);
  *out = k;
  if (!k) return tr_err_new(TR_E_NOMEM, "out of memory");
  k->pkey = pkey;
  k->crv = c->crv;
  k->priv = true;
  return NULL;
}

tr_err *tr_jwk_from_secret(const void *secret, size_t len, tr_jwk **out) {
  *out = NULL;
  if (len == 0) return tr_err_new(TR_E_INVALID, "JWK: empty symmetric key");
  tr_jwk *k = jwk_new(TR_KTY_OCT);
  if (!k || !(k->secret = OPENSSL_malloc(len))) {
    free(k);
    return tr_err_new(TR_E_NOMEM, "out of memory");
  }
  memcpy(k->secret, secret, len);
  k->secret_len = len;
  k->priv = true;
  *out = k;
  return NULL;
}

/* As x509.c: DER-looking input is DER even when PEM text follows it. */
static bool looks_pem(const void *data, size_t len) {
  return !tr_looks_der(data, len) && memmem(data, len, "-----BEGIN ", 11) != NULL;
}

static tr_err *pkey_decode(const void *data, size_t len, bool pem, EVP_PKEY **out) {
  *out = NULL;
  OSSL_DECODER_CTX *d = OSSL_DECODER_CTX_new_for_pkey(out, pem ? "PEM" : "DER", NULL, NULL, 0, NULL, NULL);
  if (!d) return tr_ossl_err(TR_E_NOMEM, "key decoder");
  const unsigned char *p = data;
  size_t l = len;
  int ok = OSSL_DECODER_from_data(d, &p, &l);
  OSSL_DECODER_CTX_free(d);
  if (ok == 1 && *out && !pem && l != 0) {
    EVP_PKEY_free(*out);
    *out = NULL;
    return tr_err_new(TR_E_INVALID, "%zu trailing bytes after the DER key", l);
  }
  if (ok != 1 || !*out) {
    EVP_PKEY_free(*out);
    *out = NULL;
    return tr_ossl_err(TR_E_INVALID, "not a %s public key, private key or certificate", pem ? "PEM" : "DER");
  }
  return NULL;
}

tr_err *tr_jwk_from_pem(const void *data, size_t len, tr_jwk **out) {
  *out = NULL;
  if (len > INT32_MAX) return tr_err_new(TR_E_LIMIT, "key: too large");
  bool pem = looks_pem(data, len);
  X509 *cert = NULL;
  if (pem && memmem(data, len, "-----BEGIN CERTIFICATE-----", 27)) {
    BIO *b = BIO_new_mem_buf(data, (int)len);
    cert = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    if (!cert) return tr_ossl_err(TR_E_INVALID, "key: invalid PEM certificate");
  } else if (!pem) {
    const unsigned char *p = data;
    ERR_set_mark();
    cert = d2i_X509(NULL, &p, (long)len);
    if (cert && p != (const unsigned char *)data + len) {
      X509_free(cert);
      cert = NULL;
    }
    ERR_pop_to_mark();
  }
  EVP_PKEY *pkey = NULL;
  tr_err *e = NULL;
  if (cert) {
    pkey = X509_get_pubkey(cert);
    X509_free(cert);
    if (!pkey) return tr_ossl_err(TR_E_INVALID, "key: certificate has no usable public key");
  } else if ((e = pkey_decode(data, len, pem, &pkey))) {
    return tr_err_wrap(e, "key");
  }
  e = tr_jwk_from_pkey(pkey, out);
  EVP_PKEY_free(pkey);
  return e;
}

tr_err *tr_jwk_generate(const char *kind, tr_jwk **out) {
  *out = NULL;
  if (!kind) return tr_err_new(TR_E_INVALID, "JWK generate: no kind");
  if (strncmp(kind, "oct-", 4) == 0) {
    int bits = atoi(kind + 4);
    if (bits < 128 || bits > 4096 || bits % 8)
      return tr_err_new(TR_E_INVALID, "JWK generate: bad `%s`", kind);
    uint8_t buf[512];
    tr_err *e = tr_random_bytes(buf, (size_t)bits / 8);
    if (!e) e = tr_jwk_from_secret(buf, (size_t)bits / 8, out);
    OPENSSL_cleanse(buf, sizeof buf);
    return e;
  }
  EVP_PKEY *pkey = NULL;
  const tr_curve *c = tr_curve_by_name(kind);
  if (c) {
    if (!(pkey = tr_ec_generate(c)))
      return tr_ossl_err(TR_E_CRYPTO, "JWK generate: %s key generation failed", kind);
    tr_err *e = tr_jwk_from_generated_ec(pkey, c, out);
    if (e) EVP_PKEY_free(pkey);
    return e;
  }
  if (strcmp(kind, "Ed25519") == 0)
    pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
  else if (strcmp(kind, "RSA-2048") == 0 || strcmp(kind, "RSA-3072") == 0 || strcmp(kind, "RSA-4096") == 0)
    pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)atoi(kind + 4));
  else
    return tr_err_new(TR_E_UNSUPPORTED, "JWK generate: unknown key kind `%s`", kind);
  if (!pkey) return tr_ossl_err(TR_E_CRYPTO, "JWK generate: %s key generation failed", kind);
  tr_err *e = tr_jwk_from_pkey(pkey, out);
  EVP_PKEY_free(pkey);
  return e;
}

/* ---- serialisation -------------------------------------------------------- */

static bool put_b64(json_t *o, const char *name, const uint8_t *data, size_t len) {
  char *s = tr_b64u(data, len);
  if (!s) return false;
  bool ok = json_object_set_new(o, name, json_string(s)) == 0;
  OPENSSL_clear_free(s, strlen(s));
  return ok;
}

/* BIGNUM parameter, big-endian; fixed width when width != 0. */
static bool put_bn(json_t *o, const char *name, EVP_PKEY *pkey, const char *param, size_t width) {
  BIGNUM *bn = NULL;
  if (EVP_PKEY_get_bn_param(pkey, param, &bn) != 1) return false;
  size_t len = width ? width : (size_t)BN_num_bytes(bn);
  if (len == 0) len = 1;
  uint8_t *buf = OPENSSL_malloc(len);
  bool ok = buf && BN_bn2binpad(bn, buf, (int)len) == (int)len && put_b64(o, name, buf, len);
  if (buf) OPENSSL_clear_free(buf, len);
  BN_clear_free(bn);
  return ok;
}

static bool put_raw(json_t *o, const char *name, EVP_PKEY *pkey, bool priv) {
  uint8_t buf[64];
  size_t len = sizeof buf;
  int ok =
      priv ? EVP_PKEY_get_raw_private_key(pkey, buf, &len) : EVP_PKEY_get_raw_public_key(pkey, buf, &len);
  bool r = ok == 1 && put_b64(o, name, buf, len);
  OPENSSL_cleanse(buf, sizeof buf);
  return r;
}

/* Required members in RFC 7638 order, then (optionally) private members. */
static json_t *members(const tr_jwk *k, bool priv) {
  json_t *o = json_object();
  bool ok = o != NULL;
  switch (k->kty) {
  case TR_KTY_RSA:
    ok = ok && put_bn(o, "e", k->pkey, OSSL_PKEY_PARAM_RSA_E, 0) &&
         json_object_set_new(o, "kty", json_string("RSA")) == 0 &&
         put_bn(o, "n", k->pkey, OSSL_PKEY_PARAM_RSA_N, 0);
    if (ok && priv && k->priv) {
      ok = put_bn(o, "d", k->pkey, OSSL_PKEY_PARAM_RSA_D, 0);
      static const char *const names[] = {"p", "q", "dp", "dq", "qi"};
      BIGNUM *probe = NULL;
      ERR_set_mark();
      bool crt = EVP_PKEY_get_bn_param(k->pkey, OSSL_PKEY_PARAM_RSA_FACTOR1, &probe) == 1;
      ERR_pop_to_mark();
      BN_clear_free(probe);
      for (int i = 0; ok && crt && i < 5; i++)
        ok = put_bn(o, names[i], k->pkey, RSA_PRIV_PARAM[i + 1], 0);
    }
    break;
  case TR_KTY_EC: {
    size_t w = tr_curve_by_name(k->crv)->size, plen = 0;
    uint8_t pub[1 + 2 * 66];
    ok = ok && json_object_set_new(o, "crv", json_string(k->crv)) == 0 &&
         json_object_set_new(o, "kty", json_string("EC")) == 0;
    /* one affine conversion for both coordinates (uncompressed point) */
    if (ok &&
        EVP_PKEY_get_octet_string_param(k->pkey, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof pub, &plen) == 1 &&
        plen == 1 + 2 * w && pub[0] == 0x04)
      ok = put_b64(o, "x", pub + 1, w) && put_b64(o, "y", pub + 1 + w, w);
    else
      ok = ok && put_bn(o, "x", k->pkey, OSSL_PKEY_PARAM_EC_PUB_X, w) &&
           put_bn(o, "y", k->pkey, OSSL_PKEY_PARAM_EC_PUB_Y, w);
    if (ok && priv && k->priv) ok = put_bn(o, "d", k->pkey, OSSL_PKEY_PARAM_PRIV_KEY, w);
    break;
  }
  case TR_KTY_OKP:
    ok = ok && json_object_set_new(o, "crv", json_string(k->crv)) == 0 &&
         json_object_set_new(o, "kty", json_string("OKP")) == 0 && put_raw(o, "x", k->pkey, false);
    if (ok && priv && k->priv) ok = put_raw(o, "d", k->pkey, true);
    break;
  case TR_KTY_OCT:
    ok = ok && put_b64(o, "k", k->secret, k->secret_len) &&
         json_object_set_new(o, "kty", json_string("oct")) == 0;
    break;
  }
  if (!ok) {
    json_decref(o);
    return NULL;
  }
  return o;
}

json_t *tr_jwk_to_json(const tr_jwk *k, bool include_private) {
  /* oct keys are all secret: the public form would be empty */
  json_t *o = members(k, include_private);
  if (!o) return NULL;
  if ((k->alg && json_object_set_new(o, "alg", json_string(k->alg))) ||
      (k->kid && json_object_set_new(o, "kid", json_string(k->kid))) ||
      (k->use && json_object_set_new(o, "use", json_string(k->use))) ||
      (k->x5c && json_object_set_new(o, "x5c", json_deep_copy(k->x5c)))) {
    json_decref(o);
    return NULL;
  }
  return o;
}

tr_err *tr_jwk_thumbprint(const tr_jwk *k, tr_digest_alg alg, uint8_t *out, size_t *out_len) {
  json_t *o = members(k, false);
  char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
  json_decref(o);
  if (!s) return tr_err_new(TR_E_NOMEM, "JWK thumbprint: out of memory");
  tr_err *e = tr_digest(alg, s, strlen(s), out, out_len);
  OPENSSL_clear_free(s, strlen(s));
  return e;
}

tr_err *tr_jwk_to_pem(const tr_jwk *k, bool private_key, char **out) {
  *out = NULL;
  if (!k->pkey) return tr_err_new(TR_E_UNSUPPORTED, "JWK: symmetric keys have no PEM form");
  if (private_key && !k->priv) return tr_err_new(TR_E_INVALID, "JWK: no private part to export");
  BIO *b = BIO_new(BIO_s_mem());
  int ok = b && (private_key ? PEM_write_bio_PrivateKey(b, k->pkey, NULL, NULL, 0, NULL, NULL)
                             : PEM_write_bio_PUBKEY(b, k->pkey));
  char *data = NULL;
  long n = ok ? BIO_get_mem_data(b, &data) : 0;
  if (!ok || n <= 0 || !(*out = malloc((size_t)n + 1))) {
    BIO_free(b);
    return tr_ossl_err(TR_E_CRYPTO, "JWK: PEM export failed");
  }
  memcpy(*out, data, (size_t)n);
  (*out)[n] = 0;
  BIO_free(b);
  return NULL;
}

bool tr_jwk_public_equal(const tr_jwk *a, const tr_jwk *b) {
  if (!a || !b || a->kty != b->kty) return false;
  if (a->kty == TR_KTY_OCT) return tr_ct_equal(a->secret, a->secret_len, b->secret, b->secret_len);
  return EVP_PKEY_eq(a->pkey, b->pkey) == 1;
}

/* ---- JWKS ------------------------------------------------------------------ */

tr_err *tr_jwks_from_json(const json_t *jwks, tr_jwks *out) {
  out->keys = NULL;
  out->len = 0;
  json_t *keys = json_object_get(jwks, "keys");
  if (!json_is_object(jwks) || !json_is_array(keys))
    return tr_err_new(TR_E_INVALID, "JWKS: expected an object with array member `keys`");
  size_t n = json_array_size(keys);
  if (n && !(out->keys = calloc(n, sizeof *out->keys))) return tr_err_new(TR_E_NOMEM, "out of memory");
  for (size_t i = 0; i < n; i++) {
    tr_err *e = tr_jwk_from_json(json_array_get(keys, i), &out->keys[i]);
    if (e) {
      tr_jwks_clear(out);
      return tr_err_wrap(e, "JWKS key %zu", i);
    }
    out->len++;
  }
  return NULL;
}

tr_jwk *tr_jwks_find_kid(const tr_jwks *set, const char *kid) {
  if (!kid) return NULL;
  for (size_t i = 0; i < set->len; i++)
    if (set->keys[i]->kid && strcmp(set->keys[i]->kid, kid) == 0) return set->keys[i];
  return NULL;
}

json_t *tr_jwks_to_json(const tr_jwks *set) {
  json_t *arr = json_array();
  for (size_t i = 0; arr && i < set->len; i++) {
    if (json_array_append_new(arr, tr_jwk_to_json(set->keys[i], false))) {
      json_decref(arr);
      return NULL;
    }
  }
  return arr ? json_pack("{s:o}", "keys", arr) : NULL;
}

void tr_jwks_clear(tr_jwks *set) {
  for (size_t i = 0; i < set->len; i++)
    tr_jwk_free(set->keys[i]);
  free(set->keys);
  set->keys = NULL;
  set->len = 0;
}
