/* admin.c — admin authentication and authorization (upstream kbs/src/admin).
 *
 * InsecureAllowAll: everything allowed. DenyAll: everything refused.
 * AuthenticatedAuthorization: `Authorization: Bearer <jwt>`; the providers
 * are tried in order (PEM public keys with the header's alg, JWKS by kid with
 * the JWK's alg; a header jwk is never trusted); `exp` required with 60 s
 * leeway; a provider's issuer/audience, when set, must match or the next
 * provider is tried; the first match must carry a string `role`; then an ACL
 * with that role must match the request-target (path plus ?query). */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <ctype.h>
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/log.h"
#include "crypto/jws.h"
#include "kbs/internal.h"

typedef struct {
  char *issuer, *audience;
  tr_jwk **pem_keys;
  size_t npem;
  tr_jwks jwks;
} provider;

typedef struct {
  char *role;
  pcre2_code *re;
} acl;

struct kbs_admin {
  tr_admin_mode mode;
  provider *prov;
  size_t nprov;
  acl *acls;
  size_t nacls;
};

void kbs_admin_free(kbs_admin *a) {
  if (!a) return;
  for (size_t i = 0; i < a->nprov; i++) {
    free(a->prov[i].issuer);
    free(a->prov[i].audience);
    for (size_t j = 0; j < a->prov[i].npem; j++)
      tr_jwk_free(a->prov[i].pem_keys[j]);
    free(a->prov[i].pem_keys);
    tr_jwks_clear(&a->prov[i].jwks);
  }
  free(a->prov);
  for (size_t i = 0; i < a->nacls; i++) {
    free(a->acls[i].role);
    pcre2_code_free(a->acls[i].re);
  }
  free(a->acls);
  free(a);
}

#define ADMIN_DOC " (see docs/kbs.md, [admin])"

static tr_err *load_provider(const tr_kbs_identity_provider *c, size_t idx, provider *p) {
  if (!c->public_key_uri && !c->jwk_set_uri)
    return tr_err_new(TR_E_INVALID,
                      "admin configuration error: identity_providers[%zu] must set `public_key_uri` and/or "
                      "`jwk_set_uri`" ADMIN_DOC,
                      idx);
  p->issuer = c->issuer ? strdup(c->issuer) : NULL;
  p->audience = c->audience ? strdup(c->audience) : NULL;
  if (c->public_key_uri) {
    uint8_t *pem = NULL;
    size_t n = 0;
    tr_err *e = kbs_fetch_uri(c->public_key_uri, &pem, &n);
    tr_jwk *k = NULL;
    if (!e) e = tr_jwk_from_pem(pem, n, &k);
    free(pem);
    if (e)
      return tr_err_wrap(e, "Invalid admin token verifier config: identity_providers[%zu] public_key_uri %s",
                         idx, c->public_key_uri);
    p->pem_keys = malloc(sizeof *p->pem_keys);
    if (!p->pem_keys) {
      tr_jwk_free(k);
      return tr_err_new(TR_E_NOMEM, "out of memory");
    }
    p->pem_keys[0] = k;
    p->npem = 1;
  }
  if (c->jwk_set_uri) {
    tr_err *e = kbs_load_jwks(c->jwk_set_uri, &p->jwks);
    if (e)
      return tr_err_wrap(e, "Invalid admin token verifier config: identity_providers[%zu] jwk_set_uri", idx);
  }
  return NULL;
}

tr_err *kbs_admin_new(const tr_kbs_admin_config *cfg, kbs_admin **out) {
  kbs_admin *a = calloc(1, sizeof *a);
  if (!a) return tr_err_new(TR_E_NOMEM, "out of memory");
  a->mode = cfg->mode;
  tr_err *e = NULL;
  if (a->mode == TR_ADMIN_AUTHENTICATED) {
    if (!cfg->nidentity_providers)
      e = tr_err_new(TR_E_INVALID,
                     "admin configuration error: AuthenticatedAuthorization requires at least one "
                     "`identity_providers` entry in [admin.authentication.bearer_jwt]" ADMIN_DOC);
    a->prov = e ? NULL : calloc(cfg->nidentity_providers, sizeof *a->prov);
    for (size_t i = 0; !e && i < cfg->nidentity_providers; i++) {
      e = load_provider(&cfg->identity_providers[i], i, &a->prov[i]);
      a->nprov = i + 1;
    }
    a->acls = e || !cfg->nacls ? NULL : calloc(cfg->nacls, sizeof *a->acls);
    for (size_t i = 0; !e && i < cfg->nacls; i++) {
      const char *re = cfg->acls[i].allowed_endpoints;
      size_t n = strlen(re);
      if (strncmp(re, "^/kbs", 5) != 0 || n == 0 || re[n - 1] != '$') {
        e = tr_err_new(TR_E_INVALID,
                       "Admin Role regex must be anchored. (acls[%zu] allowed_endpoints `%s` must "
                       "start with `^/kbs` and end with `$`)",
                       i, re);
        break;
      }
      int ec;
      PCRE2_SIZE off;
      pcre2_code *c = pcre2_compile((PCRE2_SPTR)re, n, PCRE2_UTF, &ec, &off, NULL);
      if (!c) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(ec, msg, sizeof msg);
        e = tr_err_new(TR_E_INVALID, "Failed to parse regex: acls[%zu] `%s` at offset %zu: %s", i, re,
                       (size_t)off, (char *)msg);
        break;
      }
      a->acls[i].re = c;
      a->acls[i].role = strdup(cfg->acls[i].role);
      a->nacls = i + 1;
    }
  }
  if (e) {
    kbs_admin_free(a);
    return e;
  }
  *out = a;
  return NULL;
}

static bool aud_contains(const json_t *aud, const char *want) {
  if (json_is_string(aud)) return strcmp(json_string_value(aud), want) == 0;
  size_t i;
  json_t *v;
  json_array_foreach(aud, i, v) if (json_is_string(v) && strcmp(json_string_value(v), want) == 0) return true;
  return false;
}

/* Verifies with one provider's keys; *claims on success. */
static bool provider_verify(const provider *p, const tr_jws *jws, json_t **claims) {
  bool ok = false;
  for (size_t i = 0; !ok && i < p->npem; i++) {
    tr_err *e = tr_jws_verify(jws, p->pem_keys[i], NULL);
    ok = !e;
    tr_err_free(e);
  }
  if (!ok && p->jwks.len) {
    const char *kid = json_string_value(json_object_get(jws->header, "kid"));
    tr_jwk *k = kid ? tr_jwks_find_kid(&p->jwks, kid) : NULL;
    if (k && tr_jwk_alg(k)) {
      tr_err *e = tr_jws_verify(jws, k, tr_jwk_alg(k));
      ok = !e;
      tr_err_free(e);
    }
  }
  if (!ok) return false;
  json_t *c = NULL;
  tr_err *e = tr_json_parse((const char *)jws->payload, jws->payload_len, &c);
  if (!e && !json_is_object(c)) e = tr_err_new(TR_E_INVALID, "claims are not an object");
  if (!e) {
    tr_jwt_opts o = {.leeway = 60, .require_exp = true};
    e = tr_jwt_check_claims(c, &o);
  }
  if (e) {
    TR_DEBUG("admin", "admin token: %s", tr_err_msg(e));
    tr_err_free(e);
    json_decref(c);
    return false;
  }
  *claims = c;
  return true;
}

tr_err *kbs_admin_check(const kbs_admin *a, const char *auth, const char *uri) {
  if (a->mode == TR_ADMIN_INSECURE_ALLOW_ALL) return NULL;
  if (a->mode == TR_ADMIN_DENY_ALL)
    return tr_err_new(TR_E_DENIED,
                      "Admin access denied: Admin access denied as DenyAll authorization_mode is enabled");
  if (!auth || strncasecmp(auth, "Bearer ", 7) != 0)
    return tr_err_new(TR_E_AUTH, "Failed to parse HTTP Auth Bearer header");
  const char *tok = auth + 7;
  while (*tok == ' ')
    tok++;
  if (!*tok) return tr_err_new(TR_E_AUTH, "Failed to parse HTTP Auth Bearer header");
  tr_jws jws;
  tr_err *e = tr_jws_parse(tok, strlen(tok), &jws);
  if (e) {
    tr_err_free(e);
    return tr_err_new(TR_E_AUTH, "Admin access denied: Cannot verify token with any of the issuers");
  }
  json_t *claims = NULL;
  for (size_t i = 0; i < a->nprov && !claims; i++) {
    const provider *p = &a->prov[i];
    json_t *c = NULL;
    if (!provider_verify(p, &jws, &c)) continue;
    const char *iss = json_string_value(json_object_get(c, "iss"));
    if (p->issuer && (!iss || strcmp(iss, p->issuer) != 0)) {
      TR_WARN("admin", "admin token verifies with provider %zu but its issuer `%s` is not `%s`", i,
              iss ? iss : "", p->issuer);
      json_decref(c);
      continue;
    }
    if (p->audience && !aud_contains(json_object_get(c, "aud"), p->audience)) {
      TR_WARN("admin", "admin token verifies with provider %zu but its audience lacks `%s`", i, p->audience);
      json_decref(c);
      continue;
    }
    claims = c;
  }
  tr_jws_clear(&jws);
  if (!claims)
    return tr_err_new(TR_E_AUTH, "Admin access denied: Cannot verify token with any of the issuers");
  const char *role = json_string_value(json_object_get(claims, "role"));
  if (!role) {
    json_decref(claims);
    return tr_err_new(TR_E_AUTH, "Admin access denied: Missing required `role` claim in JWT");
  }
  bool allowed = false;
  pcre2_match_data *md = NULL;
  for (size_t i = 0; i < a->nacls && !allowed; i++) {
    if (strcmp(a->acls[i].role, role) != 0) continue;
    if (!md) md = pcre2_match_data_create_from_pattern(a->acls[i].re, NULL);
    if (!md) break;
    allowed = pcre2_match(a->acls[i].re, (PCRE2_SPTR)uri, strlen(uri), 0, 0, md, NULL) >= 0;
  }
  pcre2_match_data_free(md);
  if (!allowed)
    e = tr_err_new(TR_E_DENIED, "Admin access denied: Role %s not allowed for path %s", role, uri);
  json_decref(claims);
  return e;
}
