/* jws.c — JWS compact serialisation and JWT claim checks.
 *
 * The core knows no algorithm: names resolve through FAMILIES to the const
 * descriptors in alg/hmac.c, alg/rsassa.c, alg/ecdsa.c and alg/eddsa.c. Every
 * operation first binds the algorithm to the key (kty, curve, private part,
 * the JWK's own `alg` when it has one), so a key is never used with an
 * algorithm of another type (no RS256-key-as-HS256-secret confusion) and
 * "none" does not exist at all. `crit` headers are refused (we understand no
 * extension), which also refuses RFC 7797 unencoded payloads. */
#include "crypto/jws.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/json.h"
#include "crypto/internal.h"

static const tr_jws_alg *const FAMILIES[] = {tr_jws_algs_hmac, tr_jws_algs_rsa, tr_jws_algs_ecdsa,
                                             tr_jws_algs_eddsa};

const tr_jws_alg *tr_jws_alg_find(const char *name) {
  if (!name) return NULL;
  for (size_t f = 0; f < sizeof FAMILIES / sizeof FAMILIES[0]; f++)
    for (const tr_jws_alg *a = FAMILIES[f]; a->name; a++)
      if (strcmp(a->name, name) == 0) return a;
  return NULL;
}

bool tr_jws_alg_supported(const char *alg) { return tr_jws_alg_find(alg) != NULL; }

/* Resolves `alg` and checks it against the key. */
static tr_err *bind_alg(const char *alg, const tr_jwk *key, bool sign, const tr_jws_alg **out) {
  if (!alg) return tr_err_new(TR_E_INVALID, "JWS: no algorithm");
  if (strcmp(alg, "none") == 0) return tr_err_new(TR_E_VERIFY, "JWS: algorithm `none` is not accepted");
  const tr_jws_alg *a = tr_jws_alg_find(alg);
  if (!a) return tr_err_new(TR_E_UNSUPPORTED, "JWS: unsupported algorithm `%s`", alg);
  const char *kalg = key ? tr_jwk_alg(key) : NULL;
  if (kalg && strcmp(kalg, alg) != 0)
    return tr_err_new(TR_E_VERIFY, "JWS: key is for algorithm `%s`, not `%s`", kalg, alg);
  tr_err *e = tr_jwk_check_use(key, alg, a->kty, a->crv, sign);
  if (e) return tr_err_wrap(e, "JWS");
  *out = a;
  return NULL;
}

tr_err *tr_jws_sign(const tr_jwk *key, const char *alg, const json_t *extra_header, const void *payload,
                    size_t payload_len, char **out) {
  *out = NULL;
  const tr_jws_alg *a;
  tr_err *e = bind_alg(alg, key, true, &a);
  if (e) return e;
  if (extra_header && !json_is_object(extra_header))
    return tr_err_new(TR_E_INVALID, "JWS: extra header must be an object");
  json_t *hdr = json_object();
  if (!hdr || json_object_set_new(hdr, "alg", json_string(a->name))) goto oom;
  const char *name;
  json_t *v;
  json_object_foreach((json_t *)extra_header, name, v) {
    if (strcmp(name, "alg") == 0) {
      if (!json_is_string(v) || strcmp(json_string_value(v), a->name) != 0) {
        json_decref(hdr);
        return tr_err_new(TR_E_INVALID, "JWS: extra header `alg` contradicts `%s`", a->name);
      }
      continue;
    }
    if (json_object_set(hdr, name, v)) goto oom;
  }
  char *htext = json_dumps(hdr, JSON_COMPACT);
  json_decref(hdr);
  hdr = NULL;
  char *h64 = htext ? tr_b64u(htext, strlen(htext)) : NULL;
  char *p64 = tr_b64u(payload, payload_len);
  free(htext);
  tr_buf b = TR_BUF_INIT;
  bool ok =
      h64 && p64 && tr_buf_append_str(&b, h64) && tr_buf_append_byte(&b, '.') && tr_buf_append_str(&b, p64);
  free(h64);
  free(p64);
  if (!ok) {
    tr_buf_free(&b);
    goto oom;
  }
  uint8_t *sig = NULL;
  size_t sig_len = 0;
  if ((e = a->sign(a, key, b.data, b.len, &sig, &sig_len))) {
    tr_buf_free(&b);
    return tr_err_wrap(e, "JWS sign");
  }
  char *s64 = tr_b64u(sig, sig_len);
  free(sig);
  if (!s64 || !tr_buf_append_byte(&b, '.') || !tr_buf_append_str(&b, s64)) {
    free(s64);
    tr_buf_free(&b);
    goto oom;
  }
  free(s64);
  *out = (char *)tr_buf_steal(&b, NULL);
  return NULL;
oom:
  json_decref(hdr);
  return tr_err_new(TR_E_NOMEM, "JWS: out of memory");
}

tr_err *tr_jwt_sign(const tr_jwk *key, const char *alg, const json_t *extra_header, const json_t *claims,
                    char **out) {
  *out = NULL;
  if (!json_is_object(claims)) return tr_err_new(TR_E_INVALID, "JWT: claims must be a JSON object");
  char *text = json_dumps(claims, JSON_COMPACT);
  if (!text) return tr_err_new(TR_E_NOMEM, "JWT: out of memory");
  tr_err *e = tr_jws_sign(key, alg, extra_header, text, strlen(text), out);
  free(text);
  return e;
}

void tr_jws_clear(tr_jws *jws) {
  if (!jws) return;
  json_decref(jws->header);
  free(jws->payload);
  free(jws->signing_input);
  free(jws->signature);
  memset(jws, 0, sizeof *jws);
}

tr_err *tr_jws_parse(const char *compact, size_t len, tr_jws *out) {
  memset(out, 0, sizeof *out);
  if (!compact) return tr_err_new(TR_E_INVALID, "JWS: empty token");
  const char *d1 = memchr(compact, '.', len);
  const char *d2 = d1 ? memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - compact)) : NULL;
  if (!d1 || !d2 || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - compact)))
    return tr_err_new(TR_E_INVALID, "JWS: compact serialisation needs exactly three dot-separated parts");
  uint8_t *htext = NULL;
  size_t hlen = 0;
  tr_err *e = tr_b64u_dec(compact, (size_t)(d1 - compact), "JWS header", &htext, &hlen);
  if (!e) {
    e = tr_json_parse((const char *)htext, hlen, &out->header);
    free(htext);
    if (e) e = tr_err_wrap(e, "JWS header");
  }
  if (!e && !json_is_object(out->header)) e = tr_err_new(TR_E_INVALID, "JWS header: expected a JSON object");
  if (!e && !json_is_string(json_object_get(out->header, "alg")))
    e = tr_err_new(TR_E_INVALID, "JWS header: missing string member `alg`");
  if (!e && json_object_get(out->header, "crit"))
    e = tr_err_new(TR_E_UNSUPPORTED, "JWS header: critical extensions (`crit`) are not supported");
  if (!e) e = tr_b64u_dec(d1 + 1, (size_t)(d2 - d1 - 1), "JWS payload", &out->payload, &out->payload_len);
  if (!e)
    e = tr_b64u_dec(d2 + 1, len - (size_t)(d2 + 1 - compact), "JWS signature", &out->signature,
                    &out->signature_len);
  if (!e && !(out->signing_input = strndup(compact, (size_t)(d2 - compact))))
    e = tr_err_new(TR_E_NOMEM, "JWS: out of memory");
  if (e) tr_jws_clear(out);
  return e;
}

tr_err *tr_jws_verify(const tr_jws *jws, const tr_jwk *key, const char *alg) {
  const char *halg = json_string_value(json_object_get(jws->header, "alg"));
  if (!halg) return tr_err_new(TR_E_INVALID, "JWS header: missing string member `alg`");
  if (strcmp(halg, "none") == 0) return tr_err_new(TR_E_VERIFY, "JWS: algorithm `none` is not accepted");
  if (alg && strcmp(alg, halg) != 0)
    return tr_err_new(TR_E_VERIFY, "JWS: header algorithm `%s` is not the expected `%s`", halg, alg);
  const tr_jws_alg *a;
  tr_err *e = bind_alg(halg, key, false, &a);
  if (e) return e;
  e = a->verify(a, key, (const uint8_t *)jws->signing_input, strlen(jws->signing_input), jws->signature,
                jws->signature_len);
  return e ? tr_err_wrap(e, "JWS") : NULL;
}

/* ---- JWT -------------------------------------------------------------------- */

static tr_err *num_claim(const json_t *claims, const char *name, bool *present, int64_t *out) {
  json_t *v = json_object_get(claims, name);
  *present = v != NULL;
  if (!v) return NULL;
  if (json_is_integer(v)) {
    *out = json_integer_value(v);
  } else if (json_is_real(v)) {
    double d = json_real_value(v);
    if (!(d > -9.2e18 && d < 9.2e18)) return tr_err_new(TR_E_INVALID, "JWT claim `%s`: out of range", name);
    *out = (int64_t)d;
  } else {
    return tr_err_new(TR_E_INVALID, "JWT claim `%s`: expected a number, got %s", name, tr_json_type_name(v));
  }
  return NULL;
}

tr_err *tr_jwt_check_claims(const json_t *claims, const tr_jwt_opts *opts) {
  static const tr_jwt_opts defaults = {.leeway = 60, .require_exp = true};
  if (!opts) opts = &defaults;
  if (!json_is_object(claims)) return tr_err_new(TR_E_INVALID, "JWT: claims must be a JSON object");
  int64_t now = opts->now ? opts->now : (int64_t)time(NULL);
  int64_t leeway = opts->leeway < 0 ? 0 : opts->leeway;
  bool has;
  int64_t t = 0;
  tr_err *e = num_claim(claims, "exp", &has, &t);
  if (e) return e;
  if (!has && opts->require_exp) return tr_err_new(TR_E_INVALID, "JWT: required claim `exp` is missing");
  if (has && t < now - leeway)
    return tr_err_new(TR_E_EXPIRED, "JWT: token expired at %lld (now %lld, leeway %llds)", (long long)t,
                      (long long)now, (long long)leeway);
  if (opts->check_nbf) {
    if ((e = num_claim(claims, "nbf", &has, &t))) return e;
    if (has && now + leeway < t)
      return tr_err_new(TR_E_EXPIRED, "JWT: token not valid before %lld (now %lld, leeway %llds)",
                        (long long)t, (long long)now, (long long)leeway);
  }
  if (opts->iss) {
    json_t *iss = json_object_get(claims, "iss");
    if (!json_is_string(iss) || strcmp(json_string_value(iss), opts->iss) != 0)
      return tr_err_new(TR_E_AUTH, "JWT: issuer `%s` is not the required `%s`",
                        json_is_string(iss) ? json_string_value(iss) : "(none)", opts->iss);
  }
  if (opts->aud) {
    json_t *aud = json_object_get(claims, "aud"), *v;
    bool match = json_is_string(aud) && strcmp(json_string_value(aud), opts->aud) == 0;
    size_t i;
    if (json_is_array(aud))
      json_array_foreach(aud, i, v) match =
          match || (json_is_string(v) && strcmp(json_string_value(v), opts->aud) == 0);
    if (!match) return tr_err_new(TR_E_AUTH, "JWT: audience does not include `%s`", opts->aud);
  }
  return NULL;
}

tr_err *tr_jwt_verify(const char *compact, size_t len, const tr_jwk *key, const char *alg,
                      const tr_jwt_opts *opts, json_t **claims) {
  *claims = NULL;
  tr_jws jws;
  tr_err *e = tr_jws_parse(compact, len, &jws);
  if (e) return e;
  if (!(e = tr_jws_verify(&jws, key, alg))) {
    json_t *c = NULL;
    if ((e = tr_json_parse((const char *)jws.payload, jws.payload_len, &c))) {
      e = tr_err_wrap(e, "JWT payload");
    } else if (!json_is_object(c)) {
      e = tr_err_new(TR_E_INVALID, "JWT payload: expected a JSON object");
    } else if (!(e = tr_jwt_check_claims(c, opts))) {
      *claims = c;
      c = NULL;
    }
    json_decref(c);
  }
  tr_jws_clear(&jws);
  return e;
}
