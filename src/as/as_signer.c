/* as_signer.c — the token signer: ES256 with a P-256 key for EAR tokens,
 * RS384 with an RSA key for Simple tokens. The key comes from
 * signer.key_path (PEM: SEC1/PKCS#1 or PKCS#8); cert_path adds `x5c` (the
 * PEM bundle's certificates as standard base64 DER, file order) and
 * cert_url adds `x5u` to the public JWK. Without a signer an ephemeral key
 * is generated at start.
 *
 * Tokens are signed here rather than through crypto/jws.h because the
 * header must read exactly as upstream's — EAR {"typ":"JWT","alg":"ES256",
 * "jwk":{..}} (jsonwebtoken's field order), Simple {"alg":"RS384","jwk":{..},
 * "typ":"JWT"} (serde_json maps, sorted) — and it is constant, so it is
 * serialised and encoded once. */
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

#include "as/as_internal.h"
#include "core/buf.h"
#include "core/encoding.h"
#include "core/json.h"

static tr_err *ossl_err(const char *what) {
  unsigned long code = ERR_get_error();
  char buf[256] = "";
  if (code) ERR_error_string_n(code, buf, sizeof(buf));
  ERR_clear_error();
  return tr_err_new(TR_E_CRYPTO, "%s%s%s", what, code ? ": " : "", buf);
}

static json_t *b64url_bn(const BIGNUM *bn, int pad) {
  int n = pad ? pad : BN_num_bytes(bn);
  uint8_t buf[1024];
  if (n <= 0 || n > (int)sizeof(buf) || BN_bn2binpad(bn, buf, n) != n) return NULL;
  char *s = tr_b64_encode(buf, (size_t)n, TR_B64_URL_NOPAD);
  json_t *j = s ? json_string(s) : NULL;
  free(s);
  return j;
}

static tr_err *get_bn(EVP_PKEY *pkey, const char *name, BIGNUM **bn) {
  *bn = NULL;
  if (!EVP_PKEY_get_bn_param(pkey, name, bn)) return ossl_err("read public key parameter");
  return NULL;
}

static tr_err *public_jwk(EVP_PKEY *pkey, bool ec, json_t **out) {
  json_t *j = json_object();
  if (!j) return tr_err_new(TR_E_NOMEM, "out of memory");
  tr_err *e = NULL;
  BIGNUM *a = NULL, *b = NULL;
  if (ec) {
    if (!(e = get_bn(pkey, OSSL_PKEY_PARAM_EC_PUB_X, &a)) &&
        !(e = get_bn(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &b))) {
      /* jsonwebtoken's Jwk order: common parameters (alg, then x5u/x5c,
       * inserted by the caller) before the EC ones (kty, crv, x, y) */
      json_object_set_new(j, "alg", json_string("ES256"));
      json_object_set_new(j, "kty", json_string("EC"));
      json_object_set_new(j, "crv", json_string("P-256"));
      json_object_set_new(j, "x", b64url_bn(a, 32));
      json_object_set_new(j, "y", b64url_bn(b, 32));
    }
  } else {
    if (!(e = get_bn(pkey, OSSL_PKEY_PARAM_RSA_N, &a)) && !(e = get_bn(pkey, OSSL_PKEY_PARAM_RSA_E, &b))) {
      json_object_set_new(j, "kty", json_string("RSA"));
      json_object_set_new(j, "alg", json_string("RS384"));
      json_object_set_new(j, "n", b64url_bn(a, 0));
      json_object_set_new(j, "e", b64url_bn(b, 0));
    }
  }
  BN_free(a);
  BN_free(b);
  if (!e && json_object_size(j) != (ec ? 5u : 4u))
    e = tr_err_new(TR_E_CRYPTO, "cannot encode the public key as a JWK");
  if (e) {
    json_decref(j);
    return e;
  }
  *out = j;
  return NULL;
}

static tr_err *load_key(const char *path, bool ec, EVP_PKEY **out) {
  uint8_t *pem = NULL;
  size_t len = 0;
  tr_err *e = tr_read_file(path, 1 << 20, &pem, &len);
  if (e) return tr_err_wrap(e, "read token signer private key");
  BIO *bio = BIO_new_mem_buf(pem, (int)len);
  EVP_PKEY *k = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
  BIO_free(bio);
  OPENSSL_cleanse(pem, len);
  free(pem);
  if (!k) return tr_err_wrap(ossl_err("not a PEM private key"), "token signer key `%s`", path);
  if (ec) {
    char group[64] = "";
    size_t gl = 0;
    if (EVP_PKEY_get_base_id(k) != EVP_PKEY_EC ||
        !EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), &gl) ||
        (strcmp(group, "prime256v1") != 0 && strcmp(group, "P-256") != 0)) {
      EVP_PKEY_free(k);
      return tr_err_new(TR_E_INVALID,
                        "token signer key `%s`: only P-256 attestation token signing keys are "
                        "supported",
                        path);
    }
  } else if (EVP_PKEY_get_base_id(k) != EVP_PKEY_RSA || EVP_PKEY_get_bits(k) < 2048) {
    EVP_PKEY_free(k);
    return tr_err_new(TR_E_INVALID,
                      "token signer key `%s`: the Simple broker needs an RSA key of at least 2048 "
                      "bits",
                      path);
  }
  *out = k;
  return NULL;
}

static tr_err *load_x5c(const char *path, json_t **out) {
  uint8_t *pem = NULL;
  size_t len = 0;
  tr_err *e = tr_read_file(path, 4 << 20, &pem, &len);
  if (e) return tr_err_wrap(e, "read token signer certificate chain");
  BIO *bio = BIO_new_mem_buf(pem, (int)len);
  json_t *arr = json_array();
  X509 *x;
  while (bio && arr && (x = PEM_read_bio_X509(bio, NULL, NULL, NULL))) {
    uint8_t *der = NULL;
    int dl = i2d_X509(x, &der);
    X509_free(x);
    char *b = dl > 0 ? tr_b64_encode(der, (size_t)dl, TR_B64_STD) : NULL;
    OPENSSL_free(der);
    if (!b) {
      e = tr_err_new(TR_E_CRYPTO, "encode certificate");
      break;
    }
    json_array_append_new(arr, json_string(b));
    free(b);
  }
  ERR_clear_error(); /* the loop ends on "no start line" */
  BIO_free(bio);
  free(pem);
  if (!e && json_array_size(arr) == 0)
    e = tr_err_new(TR_E_INVALID, "`%s`: invalid PEM certificate chain", path);
  if (e) {
    json_decref(arr);
    return e;
  }
  *out = arr;
  return NULL;
}

/* Puts x5u/x5c where the emitting library put them: EAR (jsonwebtoken's
 * Jwk) right after `alg`, before the key parameters; Simple (upstream's own
 * struct {kty, alg, n, e, x5u, x5c}) at the end. jansson keeps insertion
 * order, so the EC JWK is rebuilt. */
static tr_err *place_x5(json_t *jwk, bool ec, json_t *x5u, json_t *x5c) {
  if (!ec) {
    if ((x5u && json_object_set(jwk, "x5u", x5u)) || (x5c && json_object_set(jwk, "x5c", x5c)))
      return tr_err_new(TR_E_NOMEM, "out of memory");
    return NULL;
  }
  json_t *tail = json_deep_copy(jwk);
  if (!tail) return tr_err_new(TR_E_NOMEM, "out of memory");
  json_object_del(tail, "alg");
  json_object_clear(jwk);
  bool bad = json_object_set_new(jwk, "alg", json_string("ES256")) ||
             (x5u && json_object_set(jwk, "x5u", x5u)) || (x5c && json_object_set(jwk, "x5c", x5c));
  const char *k;
  json_t *v;
  json_object_foreach(tail, k, v) bad = bad || json_object_set(jwk, k, v);
  json_decref(tail);
  return bad ? tr_err_new(TR_E_NOMEM, "out of memory") : NULL;
}

static tr_err *generate(bool ec, EVP_PKEY **out) {
  *out =
      ec ? EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256") : EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
  return *out ? NULL : ossl_err("generate ephemeral token signing key");
}

tr_err *tr_as_signer_load(const tr_as_signer_config *cfg, tr_as_broker_type type, tr_as_signer *out) {
  memset(out, 0, sizeof(*out));
  bool ec = type == TR_AS_BROKER_EAR;
  out->alg = ec ? "ES256" : "RS384";
  tr_err *e = cfg && cfg->key_path ? load_key(cfg->key_path, ec, &out->pkey) : generate(ec, &out->pkey);
  if (!e) e = public_jwk(out->pkey, ec, &out->jwk);
  json_t *x5u = NULL, *x5c = NULL;
  if (!e && cfg && cfg->cert_url && !(x5u = json_string(cfg->cert_url)))
    e = tr_err_new(TR_E_INVALID, "signer cert_url is not valid UTF-8");
  if (!e && cfg && cfg->key_path && cfg->cert_path) e = load_x5c(cfg->cert_path, &x5c);
  if (!e && (x5u || x5c)) e = place_x5(out->jwk, ec, x5u, x5c);
  json_decref(x5u);
  json_decref(x5c);
  if (!e && !ec) {
    /* upstream's Simple broker went through serde_json maps (no
     * preserve_order): members sorted, as in the CoCo docs' example token */
    json_t *sorted = tr_as_sorted_copy(out->jwk);
    if (!sorted) e = tr_err_new(TR_E_NOMEM, "out of memory");
    json_decref(out->jwk);
    out->jwk = sorted;
  }
  if (!e) {
    json_t *hdr = ec ? json_pack("{s:s, s:s, s:O}", "typ", "JWT", "alg", out->alg, "jwk", out->jwk)
                     : json_pack("{s:s, s:O, s:s}", "alg", out->alg, "jwk", out->jwk, "typ", "JWT");
    char *txt = hdr ? tr_json_dump_compact(hdr) : NULL;
    json_decref(hdr);
    out->hdr_b64 = txt ? tr_b64_encode(txt, strlen(txt), TR_B64_URL_NOPAD) : NULL;
    free(txt);
    if (!out->hdr_b64) e = tr_err_new(TR_E_NOMEM, "out of memory");
  }
  if (e) {
    tr_as_signer_clear(out);
    return tr_err_wrap(e, "token signer");
  }
  return NULL;
}

void tr_as_signer_clear(tr_as_signer *s) {
  EVP_PKEY_free(s->pkey);
  json_decref(s->jwk);
  free(s->hdr_b64);
  memset(s, 0, sizeof(*s));
}

tr_err *tr_as_sign_jwt(const tr_as_signer *s, const char *payload, size_t len, char **out) {
  *out = NULL;
  bool ec = strcmp(s->alg, "ES256") == 0;
  char *pb = tr_b64_encode(payload, len, TR_B64_URL_NOPAD);
  tr_buf b = TR_BUF_INIT;
  if (!pb || !tr_buf_append_str(&b, s->hdr_b64) || !tr_buf_append_byte(&b, '.') ||
      !tr_buf_append_str(&b, pb)) {
    free(pb);
    tr_buf_free(&b);
    return tr_err_new(TR_E_NOMEM, "out of memory");
  }
  free(pb);
  uint8_t sig[1024];
  size_t siglen = sizeof(sig);
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  tr_err *e = NULL;
  if (!ctx || EVP_DigestSignInit(ctx, NULL, ec ? EVP_sha256() : EVP_sha384(), NULL, s->pkey) != 1 ||
      EVP_DigestSign(ctx, sig, &siglen, b.data, b.len) != 1)
    e = ossl_err("sign token");
  EVP_MD_CTX_free(ctx);
  uint8_t raw[64];
  const uint8_t *sigp = sig;
  size_t outlen = siglen;
  if (!e && ec) { /* DER ECDSA-Sig-Value → r || s, 32 bytes each (RFC 7518 §3.4) */
    const uint8_t *p = sig;
    ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)siglen);
    if (!es || BN_bn2binpad(ECDSA_SIG_get0_r(es), raw, 32) != 32 ||
        BN_bn2binpad(ECDSA_SIG_get0_s(es), raw + 32, 32) != 32)
      e = ossl_err("encode ES256 signature");
    ECDSA_SIG_free(es);
    sigp = raw;
    outlen = 64;
  }
  char *sb = e ? NULL : tr_b64_encode(sigp, outlen, TR_B64_URL_NOPAD);
  if (!e && (!sb || !tr_buf_append_byte(&b, '.') || !tr_buf_append_str(&b, sb)))
    e = tr_err_new(TR_E_NOMEM, "out of memory");
  free(sb);
  if (e) {
    tr_buf_free(&b);
    return e;
  }
  *out = (char *)tr_buf_steal(&b, NULL);
  return NULL;
}
