/* token.c — verifying attestation tokens presented to the KBS (upstream
 * kbs/src/token/mod.rs, kbs/src/crypto/jwt.rs), and finding the TEE key in
 * their claims.
 *
 * Trust, per token:
 *   - header `jwk`: used directly with insecure_header_jwk; otherwise it must
 *     be one of the keys registered with kbs_token_verifier_trust_key (the
 *     built-in AS's own signer — trustee-c addition, see docs/kbs.md), or
 *     come with an `x5c` chain whose leaf holds that key and which verifies to
 *     a certificate from trusted_certs_paths;
 *   - no header `jwk`: header `kid` selects a key of trusted_jwk_sets.
 * The chosen JWK must carry `alg`, which the header's `alg` must equal.
 * `exp` is required (60 s leeway); nbf/iss/aud are not checked (upstream). */
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/json.h"
#include "core/log.h"
#include "crypto/jws.h"
#include "crypto/x509.h"
#include "kbs/internal.h"
#include "rego/rego.h"

#define MAX_EXTRA_KEYS 8
#define CACHE_SLOTS 4096 /* direct-mapped by token hash */
#define CACHE_LOCKS 64

struct kbs_token_verifier {
  bool insecure_header_jwk;
  tr_x509_store *store; /* NULL when no trusted_certs_paths */
  tr_jwks jwks;         /* union of trusted_jwk_sets */
  char **teekey_paths;
  size_t nteekey_paths;
  tr_jwk *own[MAX_EXTRA_KEYS];
  size_t nown;
  kbs_verified *cache[CACHE_SLOTS];
  pthread_mutex_t locks[CACHE_LOCKS];
};

static const char *const builtin_teekey_paths[] = {
    "/tdx/attester_runtime_data/tee-pubkey",
    "/tdx/attester_user_data/tee-pubkey",
    "/customized_claims/runtime_data/tee-pubkey",
    "/submods/cpu0/ear.veraison.annotated-evidence/runtime_data_claims/tee-pubkey",
    "/tee-pubkey",
};

void kbs_token_verifier_free(kbs_token_verifier *v) {
  if (!v) return;
  tr_x509_store_free(v->store);
  tr_jwks_clear(&v->jwks);
  for (size_t i = 0; i < v->nteekey_paths; i++)
    free(v->teekey_paths[i]);
  free(v->teekey_paths);
  for (size_t i = 0; i < v->nown; i++)
    tr_jwk_free(v->own[i]);
  for (size_t i = 0; i < CACHE_SLOTS; i++)
    kbs_verified_release(v->cache[i]);
  for (size_t i = 0; i < CACHE_LOCKS; i++)
    pthread_mutex_destroy(&v->locks[i]);
  free(v);
}

tr_err *kbs_token_verifier_new(const tr_kbs_token_config *cfg, kbs_token_verifier **out) {
  if (!cfg->ntrusted_jwk_sets && !cfg->ntrusted_certs_paths && !cfg->insecure_header_jwk)
    return tr_err_new(TR_E_INVALID,
                      "[attestation_token] gives no way to verify a token: set trusted_certs_paths, "
                      "trusted_jwk_sets or insecure_header_jwk = true");
  kbs_token_verifier *v = calloc(1, sizeof *v);
  if (!v) return tr_err_new(TR_E_NOMEM, "out of memory");
  v->insecure_header_jwk = cfg->insecure_header_jwk;
  for (size_t i = 0; i < CACHE_LOCKS; i++)
    pthread_mutex_init(&v->locks[i], NULL);
  tr_err *e = NULL;
  if (cfg->ntrusted_certs_paths) {
    e = tr_x509_store_new(&v->store);
    for (size_t i = 0; !e && i < cfg->ntrusted_certs_paths; i++) {
      STACK_OF(X509) *sk = NULL;
      e = tr_x509_load_file(cfg->trusted_certs_paths[i], &sk);
      if (!e && sk_X509_num(sk) == 0) e = tr_err_new(TR_E_INVALID, "contains no certificate");
      for (int j = 0; !e && j < sk_X509_num(sk); j++)
        e = tr_x509_store_add(v->store, sk_X509_value(sk, j));
      if (sk) sk_X509_pop_free(sk, X509_free);
      if (e) e = tr_err_wrap(e, "[attestation_token] trusted_certs_paths: %s", cfg->trusted_certs_paths[i]);
    }
  }
  for (size_t i = 0; !e && i < cfg->ntrusted_jwk_sets; i++) {
    tr_jwks set;
    e = kbs_load_jwks(cfg->trusted_jwk_sets[i], &set);
    if (e) {
      e = tr_err_wrap(e, "[attestation_token] trusted_jwk_sets");
      break;
    }
    tr_jwk **nk = realloc(v->jwks.keys, (v->jwks.len + set.len) * sizeof *nk);
    if (!nk) {
      tr_jwks_clear(&set);
      e = tr_err_new(TR_E_NOMEM, "out of memory");
      break;
    }
    v->jwks.keys = nk;
    for (size_t j = 0; j < set.len; j++)
      v->jwks.keys[v->jwks.len++] = set.keys[j];
    free(set.keys);
  }
  size_t np = cfg->nextra_teekey_paths + sizeof builtin_teekey_paths / sizeof *builtin_teekey_paths;
  v->teekey_paths = e ? NULL : calloc(np, sizeof *v->teekey_paths);
  if (!e && !v->teekey_paths) e = tr_err_new(TR_E_NOMEM, "out of memory");
  for (size_t i = 0; !e && i < np; i++) {
    const char *p = i < cfg->nextra_teekey_paths ? cfg->extra_teekey_paths[i]
                                                 : builtin_teekey_paths[i - cfg->nextra_teekey_paths];
    if (p[0] && p[0] != '/')
      e = tr_err_new(TR_E_INVALID, "extra_teekey_paths: `%s` is not a JSON pointer", p);
    else
      v->teekey_paths[v->nteekey_paths++] = strdup(p);
  }
  if (e) {
    kbs_token_verifier_free(v);
    return e;
  }
  *out = v;
  return NULL;
}

void kbs_token_verifier_trust_key(kbs_token_verifier *v, tr_jwk *key) {
  if (v->nown < MAX_EXTRA_KEYS) v->own[v->nown++] = tr_jwk_ref(key);
}

static tr_err *key_from_x5c(const kbs_token_verifier *v, const json_t *hdr, const tr_jwk *hjwk) {
  if (!v->store) return tr_err_new(TR_E_AUTH, "header jwk is not trusted (no trusted_certs_paths)");
  const json_t *x5c = json_object_get(hdr, "x5c");
  if (!x5c) x5c = json_object_get(json_object_get(hdr, "jwk"), "x5c");
  if (!json_is_array(x5c) || json_array_size(x5c) == 0)
    return tr_err_new(TR_E_AUTH, "header jwk has no x5c certificate chain");
  /* each entry: base64 of exactly one DER certificate (RFC 7515 §4.1.6; upstream X509::from_der) */
  X509 *leaf = NULL;
  STACK_OF(X509) *inter = NULL;
  tr_err *e = tr_x509_parse_x5c(x5c, &leaf, &inter);
  if (e) return e;
  tr_jwk *lk = NULL;
  e = tr_jwk_from_pkey(X509_get0_pubkey(leaf), &lk);
  if (!e && !tr_jwk_public_equal(lk, hjwk))
    e = tr_err_new(TR_E_AUTH, "x5c[0] certificate does not hold the header jwk");
  if (!e) {
    tr_x509_verify_opts o = {.check_time = true};
    e = tr_x509_verify_chain(v->store, leaf, inter, &o);
    if (e) e = tr_err_wrap(e, "x5c chain");
  }
  tr_jwk_free(lk);
  X509_free(leaf);
  tr_x509_stack_free(inter);
  return e;
}

tr_err *kbs_token_verify(const kbs_token_verifier *v, const char *token, json_t **claims) {
  tr_jws jws;
  tr_err *e = tr_jws_parse(token, strlen(token), &jws);
  if (e) return tr_err_wrap(e, "token");
  tr_jwk *key = NULL;
  const json_t *hjwk = json_object_get(jws.header, "jwk");
  if (hjwk) {
    e = tr_jwk_from_json(hjwk, &key);
    if (e) e = tr_err_wrap(e, "header jwk");
    bool trusted = v->insecure_header_jwk;
    for (size_t i = 0; !e && !trusted && i < v->nown; i++)
      trusted = tr_jwk_public_equal(v->own[i], key);
    if (!e && !trusted) e = key_from_x5c(v, jws.header, key);
    if (!e && !json_is_string(json_object_get(hjwk, "alg")))
      e = tr_err_new(TR_E_AUTH, "header jwk has no `alg`");
    if (!e) tr_jwk_set_alg(key, json_string_value(json_object_get(hjwk, "alg")));
  } else {
    const char *kid = json_string_value(json_object_get(jws.header, "kid"));
    if (!v->jwks.len)
      e = tr_err_new(TR_E_AUTH, "token has neither a header jwk nor a kid of a trusted JWK set");
    else if (!kid)
      e = tr_err_new(TR_E_AUTH, "token header has no `kid`");
    else if (!(key = tr_jwks_find_kid(&v->jwks, kid)))
      e = tr_err_new(TR_E_AUTH, "no trusted JWK has kid `%s`", kid);
    else if (!tr_jwk_alg(key))
      e = tr_err_new(TR_E_AUTH, "trusted JWK `%s` has no `alg`", kid);
    if (!e)
      key = tr_jwk_ref(key);
    else
      key = NULL;
  }
  if (!e) e = tr_jws_verify(&jws, key, tr_jwk_alg(key));
  json_t *c = NULL;
  if (!e) e = tr_json_parse((const char *)jws.payload, jws.payload_len, &c);
  if (!e && !json_is_object(c)) e = tr_err_new(TR_E_INVALID, "claims are not a JSON object");
  if (!e) {
    tr_jwt_opts o = {.leeway = 60, .require_exp = true};
    e = tr_jwt_check_claims(c, &o);
  }
  tr_jwk_free(key);
  tr_jws_clear(&jws);
  if (e) {
    json_decref(c);
    return tr_err_wrap(e, "Cannot verify token");
  }
  *claims = c;
  return NULL;
}

/* RFC 6901 JSON pointer. */
static const json_t *json_pointer(const json_t *root, const char *ptr) {
  if (!*ptr) return root;
  const json_t *cur = root;
  const char *p = ptr;
  char tok[256];
  while (cur && *p == '/') {
    p++;
    size_t j = 0;
    while (*p && *p != '/' && j + 1 < sizeof tok) {
      if (*p == '~' && p[1] == '0')
        tok[j++] = '~', p += 2;
      else if (*p == '~' && p[1] == '1')
        tok[j++] = '/', p += 2;
      else
        tok[j++] = *p++;
    }
    tok[j] = 0;
    if (json_is_object(cur)) {
      cur = json_object_get(cur, tok);
    } else if (json_is_array(cur)) {
      char *end;
      unsigned long idx = strtoul(tok, &end, 10);
      cur = (*tok && !*end) ? json_array_get(cur, idx) : NULL;
    } else {
      cur = NULL;
    }
  }
  return *p ? NULL : cur;
}

tr_err *kbs_token_tee_key(const kbs_token_verifier *v, const json_t *claims, const json_t **jwk) {
  for (size_t i = 0; i < v->nteekey_paths; i++) {
    const json_t *k = json_pointer(claims, v->teekey_paths[i]);
    if (!k) continue;
    if (!json_is_object(k) || !json_is_string(json_object_get(k, "kty")))
      return tr_err_new(TR_E_INVALID, "claim %s is not a TEE public key (JWK)", v->teekey_paths[i]);
    *jwk = k;
    return NULL;
  }
  return tr_err_new(TR_E_NOTFOUND, "no TEE public key (tee-pubkey) in the token claims");
}

/* ------------------------------------------------------- verified cache */

void kbs_verified_release(kbs_verified *vt) {
  if (!vt || atomic_fetch_sub(&vt->refs, 1) != 1) return;
  free(vt->token);
  json_decref(vt->claims);
  rego_value_free(vt->input);
  tr_jwk_free(vt->tee_key);
  free(vt->tee_key_err);
  free(vt);
}

static uint64_t fnv1a(const char *s) {
  uint64_t h = 1469598103934665603ULL;
  for (; *s; s++)
    h = (h ^ (uint8_t)*s) * 1099511628211ULL;
  return h;
}

/* Derives what requests need from verified claims. */
static kbs_verified *verified_new(const kbs_token_verifier *v, const char *token, json_t *claims) {
  kbs_verified *vt = calloc(1, sizeof *vt);
  if (!vt) return NULL;
  atomic_init(&vt->refs, 1);
  vt->token = strdup(token);
  vt->claims = claims;
  json_t *exp = json_object_get(claims, "exp");
  vt->exp = json_is_integer(exp) ? json_integer_value(exp) : (int64_t)json_number_value(exp);
  tr_err *e = rego_value_from_json(claims, (rego_value **)&vt->input);
  tr_err_free(e); /* the policy then converts the JSON itself */
  const json_t *kj = NULL;
  e = kbs_token_tee_key(v, claims, &kj);
  if (!e) {
    const char *alg = json_string_value(json_object_get(kj, "alg"));
    e = tr_jwk_from_json(kj, &vt->tee_key);
    if (!e && alg && !tr_jwk_set_alg(vt->tee_key, alg)) e = tr_err_new(TR_E_NOMEM, "out of memory");
    if (e) e = tr_err_wrap(e, "TEE public key in the token");
  }
  if (e) {
    tr_jwk_free(vt->tee_key);
    vt->tee_key = NULL;
    vt->tee_key_err = strdup(tr_err_msg(e));
    tr_err_free(e);
  }
  if (!vt->token) {
    kbs_verified_release(vt);
    return NULL;
  }
  return vt;
}

static void cache_put(kbs_token_verifier *v, size_t slot, kbs_verified *vt) {
  pthread_mutex_t *mu = &v->locks[slot % CACHE_LOCKS];
  pthread_mutex_lock(mu);
  kbs_verified *old = v->cache[slot];
  v->cache[slot] = vt;
  pthread_mutex_unlock(mu);
  kbs_verified_release(old);
}

void kbs_token_seed(kbs_token_verifier *v, const char *token) {
  tr_jws jws;
  tr_err *pe = tr_jws_parse(token, strlen(token), &jws);
  if (pe) { /* not cached; verified on use */
    tr_err_free(pe);
    return;
  }
  json_t *claims = NULL;
  tr_err *e = tr_json_parse((const char *)jws.payload, jws.payload_len, &claims);
  tr_jws_clear(&jws);
  if (e || !json_is_object(claims) || !json_is_integer(json_object_get(claims, "exp"))) {
    tr_err_free(e);
    json_decref(claims);
    return;
  }
  kbs_verified *vt = verified_new(v, token, claims);
  if (!vt) {
    json_decref(claims);
    return;
  }
  cache_put(v, (size_t)(fnv1a(token) % CACHE_SLOTS), vt);
}

tr_err *kbs_token_verify_cached(kbs_token_verifier *v, const char *token, kbs_verified **out) {
  uint64_t h = fnv1a(token);
  size_t slot = (size_t)(h % CACHE_SLOTS);
  pthread_mutex_t *mu = &v->locks[slot % CACHE_LOCKS];
  int64_t now = (int64_t)time(NULL);
  pthread_mutex_lock(mu);
  kbs_verified *hit = v->cache[slot];
  if (hit && strcmp(hit->token, token) == 0 && now <= hit->exp + 60) {
    atomic_fetch_add(&hit->refs, 1);
    pthread_mutex_unlock(mu);
    *out = hit;
    return NULL;
  }
  pthread_mutex_unlock(mu);
  json_t *claims = NULL;
  tr_err *e = kbs_token_verify(v, token, &claims);
  if (e) return e;
  kbs_verified *vt = verified_new(v, token, claims);
  if (!vt) {
    json_decref(claims);
    return tr_err_new(TR_E_NOMEM, "out of memory");
  }
  atomic_fetch_add(&vt->refs, 1); /* one for the cache, one for the caller */
  cache_put(v, slot, vt);
  *out = vt;
  return NULL;
}
