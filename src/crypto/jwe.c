/* jwe.c — JWE compact and flattened-JSON serialisation (RFC 7516).
 *
 * The core knows no algorithm: key management ("alg") resolves through
 * KALGS to alg/rsaes.c, alg/ecdhes.c and alg/dir.c, content encryption
 * ("enc") to alg/aesgcm.c.
 *
 * Byte-exactness (kbs.md §2.10): the protected header is built as a jansson
 * object in insertion order {"alg","enc",<members the key management adds,
 * e.g. "epk":{"crv","kty","x","y"}>} and dumped compactly, which is exactly
 * serde_json's compact form of upstream's ProtectedHeader, so a Rust client
 * that re-serialises the parsed header recomputes the same AAD. AAD = the
 * ASCII bytes of the base64url protected header (plus "." and the `aad`
 * member when a flattened JWE carries one).
 *
 * Decryption errors: IV and tag must have their exact sizes (no truncated
 * tags); every failure after the key management step (and RSA1_5 padding
 * failures, which only substitute a random CEK) reads "authentication tag
 * does not match". */
#include "crypto/jwe.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/encoding.h"
#include "core/json.h"
#include "crypto/internal.h"

static const tr_jwe_kalg *const KALGS[] = {tr_jwe_kalgs_rsa, tr_jwe_kalgs_ecdh, tr_jwe_kalgs_dir};
static const tr_jwe_enc *const ENCS[] = {tr_jwe_encs_aesgcm};

const tr_jwe_kalg *tr_jwe_kalg_find(const char *name) {
  if (!name) return NULL;
  for (size_t f = 0; f < sizeof KALGS / sizeof KALGS[0]; f++)
    for (const tr_jwe_kalg *a = KALGS[f]; a->name; a++)
      if (strcmp(a->name, name) == 0) return a;
  return NULL;
}

const tr_jwe_enc *tr_jwe_enc_find(const char *name) {
  if (!name) return NULL;
  for (size_t f = 0; f < sizeof ENCS / sizeof ENCS[0]; f++)
    for (const tr_jwe_enc *e = ENCS[f]; e->name; e++)
      if (strcmp(e->name, name) == 0) return e;
  return NULL;
}

static tr_err *bind(const tr_jwk *key, const char *alg, const char *enc, bool decrypt, const tr_jwe_kalg **ka,
                    const tr_jwe_enc **ce) {
  if (!alg || !(*ka = tr_jwe_kalg_find(alg)))
    return tr_err_new(TR_E_UNSUPPORTED, "JWE: unsupported key management algorithm `%s`",
                      alg ? alg : "(none)");
  if (!enc || !(*ce = tr_jwe_enc_find(enc)))
    return tr_err_new(TR_E_UNSUPPORTED, "JWE: unsupported content encryption `%s`", enc ? enc : "(none)");
  const char *kalg = key ? tr_jwk_alg(key) : NULL;
  if (kalg && strcmp(kalg, alg) != 0)
    return tr_err_new(TR_E_INVALID, "JWE: key is for algorithm `%s`, not `%s`", kalg, alg);
  tr_err *e = tr_jwk_check_use(key, alg, (*ka)->kty, NULL, decrypt || (*ka)->kty == TR_KTY_OCT);
  return e ? tr_err_wrap(e, "JWE") : NULL;
}

/* The five parts, base64url. */
typedef struct {
  char *p[5]; /* protected, encrypted_key, iv, ciphertext, tag */
} parts;

static void parts_free(parts *x) {
  for (int i = 0; i < 5; i++)
    free(x->p[i]);
}

static tr_err *encrypt_parts(const tr_jwk *key, const char *alg, const char *enc, const void *pt,
                             size_t pt_len, parts *out) {
  memset(out, 0, sizeof *out);
  const tr_jwe_kalg *ka;
  const tr_jwe_enc *ce;
  tr_err *e = bind(key, alg, enc, false, &ka, &ce);
  if (e) return e;
  uint8_t cek[64], iv[16], tag[16], *ek = NULL, *ct = malloc(pt_len + 1);
  size_t ek_len = 0;
  json_t *hdr = json_pack("{s:s,s:s}", "alg", ka->name, "enc", ce->name);
  char *htext = NULL;
  if (!hdr || !ct) {
    e = tr_err_new(TR_E_NOMEM, "JWE: out of memory");
    goto out;
  }
  if ((e = tr_random_bytes(cek, ce->key_len)) || (e = tr_random_bytes(iv, ce->iv_len)) ||
      (e = ka->wrap(ka, key, hdr, cek, ce->key_len, &ek, &ek_len)))
    goto out;
  if (!(htext = json_dumps(hdr, JSON_COMPACT)) || !(out->p[0] = tr_b64u(htext, strlen(htext)))) {
    e = tr_err_new(TR_E_NOMEM, "JWE: out of memory");
    goto out;
  }
  if ((e = tr_aesgcm_encrypt(ce, cek, iv, (const uint8_t *)out->p[0], strlen(out->p[0]), pt, pt_len, ct,
                             tag)))
    goto out;
  if (!(out->p[1] = tr_b64u(ek, ek_len)) || !(out->p[2] = tr_b64u(iv, ce->iv_len)) ||
      !(out->p[3] = tr_b64u(ct, pt_len)) || !(out->p[4] = tr_b64u(tag, ce->tag_len)))
    e = tr_err_new(TR_E_NOMEM, "JWE: out of memory");
out:
  OPENSSL_cleanse(cek, sizeof cek);
  free(ek);
  free(ct);
  free(htext);
  json_decref(hdr);
  if (e) {
    parts_free(out);
    e = tr_err_wrap(e, "JWE encrypt");
  }
  return e;
}

tr_err *tr_jwe_encrypt_compact(const tr_jwk *recipient, const char *alg, const char *enc, const void *pt,
                               size_t pt_len, char **out_text) {
  *out_text = NULL;
  parts x;
  tr_err *e = encrypt_parts(recipient, alg, enc, pt, pt_len, &x);
  if (e) return e;
  tr_buf b = TR_BUF_INIT;
  bool ok = true;
  for (int i = 0; i < 5 && ok; i++)
    ok = (!i || tr_buf_append_byte(&b, '.')) && tr_buf_append_str(&b, x.p[i]);
  parts_free(&x);
  if (!ok) {
    tr_buf_free(&b);
    return tr_err_new(TR_E_NOMEM, "JWE: out of memory");
  }
  *out_text = (char *)tr_buf_steal(&b, NULL);
  return NULL;
}

static const char *const NAMES[5] = {"protected", "encrypted_key", "iv", "ciphertext", "tag"};

tr_err *tr_jwe_encrypt_flattened(const tr_jwk *recipient, const char *alg, const char *enc, const void *pt,
                                 size_t pt_len, json_t **out_obj) {
  *out_obj = NULL;
  parts x;
  tr_err *e = encrypt_parts(recipient, alg, enc, pt, pt_len, &x);
  if (e) return e;
  json_t *o = json_object();
  bool ok = o != NULL;
  for (int i = 0; i < 5 && ok; i++) {
    if (i == 1 && !x.p[1][0]) continue; /* RFC 7516 §7.2.1: absent when empty (dir) */
    ok = json_object_set_new(o, NAMES[i], json_string(x.p[i])) == 0;
  }
  parts_free(&x);
  if (!ok) {
    json_decref(o);
    return tr_err_new(TR_E_NOMEM, "JWE: out of memory");
  }
  *out_obj = o;
  return NULL;
}

/* ---- decryption --------------------------------------------------------------- */

typedef struct {
  const char *b64[5]; /* borrowed (from the text or the JSON) */
  size_t len[5];
  const char *aad; /* flattened `aad` member, or NULL */
  json_t *unprotected[2];
} in_parts;

static tr_err *split_compact(const char *text, size_t len, in_parts *in) {
  const char *p = text, *end = text + len;
  for (int i = 0; i < 5; i++) {
    const char *dot = i < 4 ? memchr(p, '.', (size_t)(end - p)) : end;
    if (!dot) return tr_err_new(TR_E_INVALID, "JWE: compact serialisation needs five dot-separated parts");
    in->b64[i] = p;
    in->len[i] = (size_t)(dot - p);
    p = dot + 1;
  }
  if (memchr(in->b64[4], '.', in->len[4]))
    return tr_err_new(TR_E_INVALID, "JWE: compact serialisation needs five dot-separated parts");
  return NULL;
}

static tr_err *split_json(const json_t *o, in_parts *in) {
  if (!json_is_object(o)) return tr_err_new(TR_E_INVALID, "JWE: expected a JSON object");
  const json_t *rcpt = o;
  json_t *recipients = json_object_get(o, "recipients");
  if (recipients) {
    if (!json_is_array(recipients) || json_array_size(recipients) != 1)
      return tr_err_new(TR_E_UNSUPPORTED, "JWE: only one recipient is supported");
    rcpt = json_array_get(recipients, 0);
    if (!json_is_object(rcpt)) return tr_err_new(TR_E_INVALID, "JWE: `recipients[0]` must be an object");
  }
  for (int i = 0; i < 5; i++) {
    json_t *v = json_object_get(i == 1 ? rcpt : o, NAMES[i]);
    if (!v && i == 1) {
      in->b64[i] = "";
      continue;
    }
    if (!json_is_string(v)) return tr_err_new(TR_E_INVALID, "JWE: member `%s` must be a string", NAMES[i]);
    in->b64[i] = json_string_value(v);
    in->len[i] = json_string_length(v);
  }
  json_t *aad = json_object_get(o, "aad");
  if (aad && !json_is_string(aad)) return tr_err_new(TR_E_INVALID, "JWE: member `aad` must be a string");
  in->aad = json_string_value(aad);
  in->unprotected[0] = json_object_get(o, "unprotected");
  in->unprotected[1] = json_object_get(rcpt, "header");
  for (int i = 0; i < 2; i++)
    if (in->unprotected[i] && !json_is_object(in->unprotected[i]))
      return tr_err_new(TR_E_INVALID, "JWE: `%s` must be an object", i ? "header" : "unprotected");
  return NULL;
}

/* Joint header = protected ∪ unprotected ∪ per-recipient header; duplicate
 * names are an error (RFC 7516 §7.2.1). */
static tr_err *joint_header(const in_parts *in, json_t **out) {
  uint8_t *text = NULL;
  size_t n = 0;
  json_t *h = NULL;
  tr_err *e = tr_b64u_dec(in->b64[0], in->len[0], "JWE protected header", &text, &n);
  if (!e && (e = tr_json_parse((const char *)text, n, &h))) e = tr_err_wrap(e, "JWE protected header");
  free(text);
  if (e) return e;
  if (!json_is_object(h)) {
    json_decref(h);
    return tr_err_new(TR_E_INVALID, "JWE protected header: expected a JSON object");
  }
  for (int i = 0; i < 2; i++) {
    const char *k;
    json_t *v;
    json_object_foreach(in->unprotected[i], k, v) {
      if (json_object_get(h, k)) {
        json_decref(h);
        return tr_err_new(TR_E_INVALID, "JWE: header member `%s` appears twice", k);
      }
      json_object_set(h, k, v);
    }
  }
  *out = h;
  return NULL;
}

static tr_err *decrypt_parts(const tr_jwk *key, const in_parts *in, uint8_t **pt, size_t *pt_len) {
  json_t *h = NULL;
  uint8_t *bin[5] = {0}, cek[64], *out = NULL;
  size_t blen[5] = {0};
  tr_buf aad = TR_BUF_INIT;
  const tr_jwe_kalg *ka;
  const tr_jwe_enc *ce;
  tr_err *e = joint_header(in, &h);
  if (e) return e;
  if (json_object_get(h, "zip")) {
    e = tr_err_new(TR_E_UNSUPPORTED, "JWE: compressed content (`zip`) is not supported");
    goto out;
  }
  if (json_object_get(h, "crit")) {
    e = tr_err_new(TR_E_UNSUPPORTED, "JWE: critical extensions (`crit`) are not supported");
    goto out;
  }
  if ((e = bind(key, json_string_value(json_object_get(h, "alg")),
                json_string_value(json_object_get(h, "enc")), true, &ka, &ce)))
    goto out;
  static const char *const what[5] = {NULL, "JWE encrypted_key", "JWE iv", "JWE ciphertext", "JWE tag"};
  for (int i = 1; i < 5; i++)
    if ((e = tr_b64u_dec(in->b64[i], in->len[i], what[i], &bin[i], &blen[i]))) goto out;
  if (blen[2] != ce->iv_len || blen[4] != ce->tag_len) {
    e = tr_err_new(TR_E_INVALID, "JWE: %s needs a %zu-byte iv and a %zu-byte tag, got %zu and %zu", ce->name,
                   ce->iv_len, ce->tag_len, blen[2], blen[4]);
    goto out;
  }
  if ((e = ka->unwrap(ka, key, h, bin[1], blen[1], cek, ce->key_len))) goto out;
  if (!tr_buf_append(&aad, in->b64[0], in->len[0]) ||
      (in->aad && (!tr_buf_append_byte(&aad, '.') || !tr_buf_append_str(&aad, in->aad))) ||
      !(out = malloc(blen[3] + 1))) {
    e = tr_err_new(TR_E_NOMEM, "JWE: out of memory");
    goto out;
  }
  if ((e = tr_aesgcm_decrypt(ce, cek, bin[2], aad.data, aad.len, bin[3], blen[3], bin[4], out))) goto out;
  out[blen[3]] = 0;
  *pt = out;
  *pt_len = blen[3];
  out = NULL;
out:
  OPENSSL_cleanse(cek, sizeof cek);
  for (int i = 1; i < 5; i++)
    free(bin[i]);
  if (out) OPENSSL_clear_free(out, blen[3] + 1);
  tr_buf_free(&aad);
  json_decref(h);
  return e;
}

tr_err *tr_jwe_decrypt(const tr_jwk *key, const char *jwe, size_t len, uint8_t **pt, size_t *pt_len) {
  *pt = NULL;
  *pt_len = 0;
  in_parts in;
  memset(&in, 0, sizeof in);
  size_t i = 0;
  while (i < len && (jwe[i] == ' ' || jwe[i] == '\n' || jwe[i] == '\r' || jwe[i] == '\t'))
    i++;
  tr_err *e;
  if (i < len && jwe[i] == '{') {
    json_t *o = NULL;
    if ((e = tr_json_parse(jwe, len, &o))) return tr_err_wrap(e, "JWE decrypt");
    if (!(e = split_json(o, &in))) e = decrypt_parts(key, &in, pt, pt_len);
    json_decref(o);
  } else if (!(e = split_compact(jwe, len, &in))) {
    e = decrypt_parts(key, &in, pt, pt_len);
  }
  return e ? tr_err_wrap(e, "JWE decrypt") : NULL;
}
