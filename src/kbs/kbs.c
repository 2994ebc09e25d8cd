/* kbs.c — building the KBS from its configuration, and the request
 * dispatcher (upstream kbs/src/api_server.rs `api()`).
 *
 * Dispatch, in upstream's order (it is observable):
 *   /metrics, /healthz; anything not under /kbs/v0/ → 404 empty;
 *   methods other than GET/POST/PUT/DELETE → 405 empty;
 *   built-in (first segment, method) pairs: auth, attest, attestation-policy,
 *   reference-value, resource-policy (the first four only with an AS);
 *   otherwise the plugin named by the first segment (404 PluginNotFound):
 *   admin requests (plugin's validate_auth) → admin check → handler → 200
 *   text/xml; attested requests → token (attested session cookie first, then
 *   Bearer) → verify → resource policy → handler → JWE when the plugin asks.
 * Token and policy are checked before the plugin looks anything up, so only
 * an authorised requester learns that a resource does not exist. */
#include "kbs/kbs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "as/as.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/log.h"
#include "crypto/jwe.h"
#include "grpc/as_client.h"
#include "kbs/internal.h"
#include "kv/kv.h"
#include "rvps/rvps.h"

#ifndef TRUSTEE_VERSION
#define TRUSTEE_VERSION "0.1.0"
#endif

/* ------------------------------------------------------------ helpers */

static void respond_empty(kbs_http_resp *resp, int status) { kbs_http_resp_set(resp, status, NULL, NULL, 0); }

static void respond_bytes(kbs_http_resp *resp, const char *ctype, uint8_t *body, size_t len) {
  kbs_http_resp_set(resp, 200, ctype, (char *)body, len);
}

static void respond_json_value(kbs_http_resp *resp, const json_t *v) {
  char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
  kbs_http_resp_set(resp, 200, "application/json", s, s ? strlen(s) : 0);
}

static const char *bearer(const kbs_http_req *req) {
  const char *h = kbs_http_header(req, "Authorization");
  if (!h || strncasecmp(h, "Bearer ", 7) != 0) return NULL;
  h += 7;
  while (*h == ' ')
    h++;
  return *h ? h : NULL;
}

/* Admin check on a built-in endpoint: false (and resp filled) when denied. */
static bool admin_ok(kbs *k, const kbs_http_req *req, kbs_http_resp *resp, const char *ep) {
  tr_err *e = kbs_admin_check(k->admin, kbs_http_header(req, "Authorization"), req->uri);
  if (!e) return true;
  kbs_error_respondf(resp, KBS_E_ADMIN_AUTH_ACCESS, 0, "%s: %s", ep, tr_err_msg(e));
  tr_err_free(e);
  return false;
}

/* Parses a JSON body; on failure answers 400 with `kind` and returns NULL. */
static json_t *json_body(const kbs_http_req *req, kbs_http_resp *resp, kbs_error_kind kind,
                         const char *what) {
  json_t *v = NULL;
  tr_err *e = tr_json_parse((const char *)req->body, req->body_len, &v);
  if (e) {
    kbs_error_respondf(resp, kind, 400, "%s: body is not JSON: %s", what, tr_err_msg(e));
    tr_err_free(e);
    return NULL;
  }
  return v;
}

/* ------------------------------------------------------ admin endpoints */

static void set_resource_policy(kbs *k, const kbs_http_req *req, kbs_http_resp *resp) {
  json_t *b = json_body(req, resp, KBS_E_PARSE_POLICY, "resource policy");
  if (!b) return;
  const char *p64 = NULL;
  uint8_t *text = NULL;
  size_t len = 0;
  tr_err *e = json_is_object(b) ? tr_json_get_string(b, NULL, "policy", &p64)
                                : tr_err_new(TR_E_INVALID, "expected a JSON object {\"policy\": ...}");
  if (!e) {
    e = kbs_b64url_nopad(p64, &text, &len);
    if (e) e = tr_err_wrap(e, "`policy` must be base64url without padding");
  }
  if (e) {
    kbs_error_respond_err(resp, KBS_E_PARSE_POLICY, 0, e);
  } else if ((e = kbs_policy_set_text(k->policy, (const char *)text, len))) {
    kbs_error_respond_err(resp, KBS_E_POLICY_ENGINE, 0, e);
  } else {
    TR_INFO("kbs", "resource policy updated (%zu bytes)", len);
    respond_empty(resp, 200);
  }
  free(text);
  json_decref(b);
}

static void get_resource_policy(kbs *k, kbs_http_resp *resp) {
  json_t *ids = NULL;
  tr_err *e = kbs_policy_list(k->policy, &ids);
  if (e) return kbs_error_respond_err(resp, KBS_E_POLICY_ENGINE, 0, e);
  respond_json_value(resp, ids);
  json_decref(ids);
}

static void set_attestation_policy(kbs *k, const kbs_http_req *req, kbs_http_resp *resp) {
  json_t *b = json_body(req, resp, KBS_E_ATTESTATION, "Set Attestation Policy failed");
  if (!b) return;
  const char *id = NULL, *p64 = NULL;
  uint8_t *text = NULL;
  size_t len = 0;
  tr_err *e = json_is_object(b) ? NULL : tr_err_new(TR_E_INVALID, "expected a JSON object");
  if (!e) e = tr_json_get_string(b, NULL, "policy_id", &id);
  if (!e) e = tr_json_get_string(b, NULL, "policy", &p64);
  if (!e && (e = kbs_b64url_nopad(p64, &text, &len)))
    e = tr_err_wrap(e, "`policy` must be base64url without padding");
  if (!e && strlen((char *)text) != len) e = tr_err_new(TR_E_INVALID, "policy contains NUL bytes");
  if (!e)
    e = k->remote_as ? tr_grpc_as_set_policy(k->remote_as, id, (const char *)text)
                     : tr_as_set_policy(k->as, id, (const char *)text);
  if (e) {
    kbs_error_respondf(resp, KBS_E_ATTESTATION, 0, "Set Attestation Policy failed: %s", tr_err_msg(e));
    tr_err_free(e);
  } else {
    TR_INFO("kbs", "attestation policy `%s` updated", id);
    respond_empty(resp, 200);
  }
  free(text);
  json_decref(b);
}

static void register_reference_value(kbs *k, const kbs_http_req *req, kbs_http_resp *resp) {
  tr_rvps *rv = k->remote_as ? tr_grpc_as_client_rvps(k->remote_as) : tr_as_rvps(k->as);
  tr_err *e = tr_rvps_register(rv, (const char *)req->body, req->body_len);
  if (e) return kbs_error_respond_err(resp, KBS_E_RVPS, 0, e);
  kbs_http_resp_set(resp, 200, "application/json", NULL, 0);
}

static void query_reference_value(kbs *k, const kbs_target *t, kbs_http_resp *resp) {
  tr_buf id = TR_BUF_INIT;
  for (size_t i = 1; i < t->nsegs; i++) {
    if (i > 1) tr_buf_append_byte(&id, '/');
    tr_buf_append_str(&id, t->segs[i]);
  }
  json_t *v = NULL;
  const char *name = id.data ? (const char *)id.data : "";
  tr_rvps *rv = k->remote_as ? tr_grpc_as_client_rvps(k->remote_as) : tr_as_rvps(k->as);
  tr_err *e = tr_rvps_query(rv, name, &v);
  if (e)
    kbs_error_respond_err(resp, KBS_E_RVPS, 0, e);
  else if (!v)
    kbs_error_respondf(resp, KBS_E_RVPS, 0, "reference value `%s` not found", name);
  else
    respond_json_value(resp, v);
  json_decref(v);
  tr_buf_free(&id);
}

/* Returns true when the (segment, method) pair is a built-in and was handled. */
static bool builtin(kbs *k, const kbs_http_req *req, const kbs_target *t, kbs_http_resp *resp) {
  const char *seg = t->segs[0], *m = req->method;
  bool post = strcmp(m, "POST") == 0, get = strcmp(m, "GET") == 0;
  if (strcmp(seg, "resource-policy") == 0 && (post || get)) {
    if (!admin_ok(k, req, resp, "resource-policy")) return true;
    if (post)
      set_resource_policy(k, req, resp);
    else
      get_resource_policy(k, resp);
    return true;
  }
  if (!k->as && !k->remote_as) return false;
  if (strcmp(seg, "auth") == 0 && post) return kbs_rcar_auth(k, req, resp), true;
  if (strcmp(seg, "attest") == 0 && post) return kbs_rcar_attest(k, req, resp), true;
  if (strcmp(seg, "attestation-policy") == 0 && post) {
    if (admin_ok(k, req, resp, "attestation-policy")) set_attestation_policy(k, req, resp);
    return true;
  }
  if (strcmp(seg, "reference-value") == 0 && (post || get)) {
    if (!admin_ok(k, req, resp, "reference-value")) return true;
    if (post)
      register_reference_value(k, req, resp);
    else
      query_reference_value(k, t, resp);
    return true;
  }
  return false;
}

/* ------------------------------------------------------- plugin requests */

static const kbs_plugin *find_plugin(const kbs *k, const char *name) {
  for (size_t i = k->nplugins; i-- > 0;) /* a later entry replaces an earlier one */
    if (strcmp(k->plugins[i].name, name) == 0) return &k->plugins[i];
  return NULL;
}

static void encrypt_response(const kbs_verified *vt, uint8_t *pt, size_t len, kbs_http_resp *resp) {
  json_t *jwe = NULL;
  const tr_jwk *key = vt->tee_key;
  if (!key) return kbs_error_respond(resp, KBS_E_TOKEN_VERIFIER, 0, vt->tee_key_err);
  tr_kty kty = tr_jwk_kty(key);
  const char *alg = tr_jwk_alg(key);
  tr_err *e = NULL;
  if (!alg)
    e = tr_err_new(TR_E_INVALID, "TEE key has no `alg`");
  else if (kty == TR_KTY_RSA && strcmp(alg, "RSA-OAEP-256") != 0 && strcmp(alg, "RSA1_5") != 0)
    e = tr_err_new(TR_E_UNSUPPORTED, "RSA TEE key alg `%s` (supported: RSA-OAEP-256, RSA1_5)", alg);
  else if (kty == TR_KTY_EC && strcmp(alg, "ECDH-ES+A256KW") != 0)
    e = tr_err_new(TR_E_UNSUPPORTED, "EC TEE key alg `%s` (supported: ECDH-ES+A256KW)", alg);
  else if (kty != TR_KTY_RSA && kty != TR_KTY_EC)
    e = tr_err_new(TR_E_UNSUPPORTED, "TEE key type (supported: RSA, EC)");
  if (!e) e = tr_jwe_encrypt_flattened(key, alg, "A256GCM", pt, len, &jwe);
  if (e) return kbs_error_respond_err(resp, KBS_E_JWE, 0, e);
  char *body = tr_json_dump_compact(jwe);
  json_decref(jwe);
  kbs_http_resp_set(resp, 200, "application/json", body, body ? strlen(body) : 0);
}

static json_t *policy_data(const kbs_target *t) {
  json_t *path = json_array();
  for (size_t i = 1; i < t->nsegs; i++) {
    json_t *seg = json_string(t->segs[i]);
    json_array_append_new(path, seg ? seg : json_string("")); /* invalid UTF-8 → "" (path is refused later) */
  }
  return json_pack("{s:s,s:o,s:O}", "plugin", t->segs[0], "resource-path", path, "query", t->query);
}

static void plugin_request(kbs *k, const kbs_http_req *req, const kbs_target *t, kbs_http_resp *resp) {
  const kbs_plugin *p = find_plugin(k, t->segs[0]);
  if (!p) {
    const char *s0 = t->segs[0];
    bool as_ep = strcmp(s0, "auth") == 0 || strcmp(s0, "attest") == 0 ||
                 strcmp(s0, "attestation-policy") == 0 || strcmp(s0, "reference-value") == 0;
    if (!k->as && !k->remote_as && as_ep)
      return kbs_error_respondf(resp, KBS_E_PLUGIN_NOT_FOUND, 0,
                                "%s (resource-only KBS: [attestation_service] type = \"none\")", s0);
    return kbs_error_respond(resp, KBS_E_PLUGIN_NOT_FOUND, 0, s0);
  }
  kbs_plugin_req pr = {.method = req->method,
                       .body = req->body,
                       .body_len = req->body_len,
                       .query = t->query,
                       .path = t->segs + 1,
                       .npath = t->nsegs - 1};
  uint8_t *out = NULL;
  size_t out_len = 0;
  if (p->validate_auth(p->state, &pr)) {
    tr_err *e = kbs_admin_check(k->admin, kbs_http_header(req, "Authorization"), req->uri);
    if (e) return kbs_error_respond_err(resp, KBS_E_ADMIN_AUTH_INITIALIZATION, 0, e);
    e = p->handle(p->state, &pr, &out, &out_len);
    if (e) {
      bool nf = tr_err_code(e) == TR_E_NOTFOUND;
      return kbs_error_respond_err(resp, nf ? KBS_E_RESOURCE_NOT_FOUND : KBS_E_PLUGIN_INTERNAL, 0, e);
    }
    return respond_bytes(resp, "text/xml", out, out_len);
  }
  /* a. token: attested session first, then Bearer. */
  char *token = NULL;
  const char *sid = kbs_http_cookie(req, "kbs-session-id");
  tr_err *se = sid ? kbs_session_token(k, sid, &token) : NULL;
  if (!token && bearer(req)) token = strdup(bearer(req));
  if (!token) {
    /* Still 401 (the guest re-attests on 401), but say that it was the store, not the session.
     * The store's own message is in the log only: it can name hosts and file paths. */
    if (se)
      kbs_error_respond(resp, KBS_E_TOKEN_NOT_FOUND, 0,
                        "the session store failed while reading this session (details in the KBS log), "
                        "and no Bearer token was sent");
    else
      kbs_error_respond(resp, KBS_E_TOKEN_NOT_FOUND, 0,
                        sid ? "the session is unknown, expired or not attested, and no Bearer token was sent"
                            : "no attested session cookie and no Authorization: Bearer token");
    tr_err_free(se);
    return;
  }
  tr_err_free(se);
  /* b. verify (cached per token until it expires). */
  kbs_verified *vt = NULL;
  tr_err *e = kbs_token_verify_cached(k->tv, token, &vt);
  free(token);
  if (e) return kbs_error_respond_err(resp, KBS_E_TOKEN_VERIFIER, 0, e);
  /* c. resource policy. */
  json_t *data = policy_data(t);
  bool allowed = false, well_formed = false;
  kbs_metrics_inc(k->metrics, KBS_M_POLICY_EVALS);
  e = kbs_policy_allow(k->policy, vt->claims, vt->input, data, &allowed, &well_formed);
  json_decref(data);
  if (e) {
    kbs_metrics_inc(k->metrics, KBS_M_POLICY_ERRORS);
    kbs_error_respond_err(resp, KBS_E_POLICY_ENGINE, 0, e);
    goto out;
  }
  if (!well_formed) kbs_metrics_inc(k->metrics, KBS_M_POLICY_ERRORS);
  if (!allowed) {
    kbs_metrics_inc(k->metrics, KBS_M_POLICY_VIOLATIONS);
    kbs_error_respondf(resp, KBS_E_POLICY_DENY, 0, "data.policy.allow is %s for %s %s",
                       well_formed ? "false" : "undefined or not a boolean", req->method, t->raw_path);
    goto out;
  }
  kbs_metrics_inc(k->metrics, KBS_M_POLICY_APPROVALS);
  /* d./e. handler with the init-data claims. */
  pr.init_data_claims =
      json_object_get(json_object_get(json_object_get(json_object_get(vt->claims, "submods"), "cpu0"),
                                      "ear.veraison.annotated-evidence"),
                      "init_data_claims");
  e = p->handle(p->state, &pr, &out, &out_len);
  if (e) {
    bool nf = tr_err_code(e) == TR_E_NOTFOUND;
    kbs_error_respond_err(resp, nf ? KBS_E_RESOURCE_NOT_FOUND : KBS_E_PLUGIN_INTERNAL, 0, e);
    goto out;
  }
  /* f. JWE to the TEE key. */
  if (p->encrypted(p->state, &pr)) {
    encrypt_response(vt, out, out_len, resp);
    free(out);
  } else {
    respond_bytes(resp, "text/xml", out, out_len);
  }
out:
  kbs_verified_release(vt);
}

void kbs_handle(kbs *k, const kbs_http_req *req, kbs_http_resp *resp) {
  bool counted = strncmp(req->uri, "/kbs", 4) == 0;
  if (counted) {
    kbs_metrics_inc(k->metrics, KBS_M_HTTP_REQUESTS);
    kbs_metrics_active(k->metrics, 1);
  }
  kbs_target t;
  tr_err *e = kbs_target_parse(req->uri, &t);
  if (e) {
    char *msg = strdup(tr_err_msg(e));
    tr_err_free(e);
    kbs_http_resp_set(resp, 400, "text/plain", msg, msg ? strlen(msg) : 0);
    goto done;
  }
  if (strcmp(t.raw_path, "/metrics") == 0) {
    if (strcmp(req->method, "GET") != 0) {
      respond_empty(resp, 405);
    } else {
      size_t n = 0;
      char *text = kbs_metrics_render(k->metrics, &n);
      kbs_http_resp_set(resp, 200, "text/plain; version=0.0.4", text, n);
    }
  } else if (strcmp(t.raw_path, "/healthz") == 0) {
    respond_empty(resp, strcmp(req->method, "GET") == 0 ? 200 : 405);
  } else if (!t.segs) {
    respond_empty(resp, 404);
  } else if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "POST") != 0 &&
             strcmp(req->method, "PUT") != 0 && strcmp(req->method, "DELETE") != 0) {
    respond_empty(resp, 405);
  } else if (!builtin(k, req, &t, resp)) {
    plugin_request(k, req, &t, resp);
  }
  kbs_target_clear(&t);
done:
  if (counted) kbs_metrics_active(k->metrics, -1);
}

/* ------------------------------------------------------------- building */

/* Features of the configuration this KBS does not implement yet, named
 * before anything else is loaded (so the message is about them, not about a
 * missing key file further down). */
static tr_err *check_supported(const tr_kbs_config *cfg) {
  const tr_kbs_as_config *ac = &cfg->attestation_service;
  if (ac->type == TR_KBS_AS_INTEL_TA)
    return tr_err_new(
        TR_E_UNSUPPORTED,
        "[attestation_service] type = \"intel_ta\" (Intel Trust Authority) is not supported yet");
  for (size_t i = 0; i < cfg->nplugins; i++) {
    const tr_kbs_plugin_config *pc = &cfg->plugins[i];
    tr_err *e = NULL;
    if (strcmp(pc->name, "resource") != 0 && strcmp(pc->name, "sample") != 0)
      e = tr_err_new(TR_E_UNSUPPORTED, "plugin `%s` is not supported yet (supported: resource, sample)",
                     pc->name);
    if (e) return pc->line ? tr_err_wrap(e, "%s:%d", cfg->path, pc->line) : e;
  }
  return NULL;
}

static tr_err *open_as(kbs *k, const tr_kbs_config *cfg) {
  const tr_kbs_as_config *ac = &cfg->attestation_service;
  if (ac->type == TR_KBS_AS_COCO_GRPC) {
    /* remote gRPC AS (src/grpc, docs/grpc.md); its tokens are trusted through [attestation_token] */
    const char *addr = ac->as_addr ? ac->as_addr : TR_KBS_DEFAULT_AS_ADDR;
    tr_err *ge = tr_grpc_as_client_new(addr, (size_t)ac->pool_size, &k->remote_as);
    if (!ge)
      TR_INFO("kbs", "connect to remote AS [%s] with pool size %llu", addr,
              (unsigned long long)ac->pool_size);
    return ge ? tr_err_wrap(ge, "[attestation_service] coco_as_grpc") : NULL;
  }
  if (ac->type != TR_KBS_AS_COCO_BUILTIN) return NULL;
  /* The built-in AS keeps its policies and reference values in the KBS's
   * unified storage unless its section names its own. */
  json_t *asc = ac->as_config ? json_deep_copy(ac->as_config) : json_object();
  if (!json_object_get(asc, "storage_backend")) {
    json_t *sb = json_pack("{s:s,s:O}", "storage_type", tr_kbs_kv_type_name(cfg->storage.storage_type),
                           "backends", cfg->storage.backends);
    json_object_set_new(asc, "storage_backend", sb);
  }
  tr_err *e = NULL;
  if (tr_grpc_rvps_config_is_remote(asc)) /* rvps_config GrpcRemote: a remote RVPS (src/grpc) */
    e = tr_grpc_rvps_from_as_config(json_object_get(asc, "rvps_config"), &k->remote_rvps);
  tr_as_shared sh = {.rvps = k->remote_rvps};
  if (!e) e = tr_as_new_shared(asc, &sh, &k->as);
  json_decref(asc);
  return e ? tr_err_wrap(e, "[attestation_service] built-in attestation service") : NULL;
}

static tr_err *trust_own_as(kbs *k) {
  json_t *set = tr_as_jwks(k->as);
  tr_jwks ks;
  tr_err *e = set ? tr_jwks_from_json(set, &ks) : NULL;
  json_decref(set);
  if (e || !set) return e;
  for (size_t i = 0; i < ks.len; i++)
    kbs_token_verifier_trust_key(k->tv, ks.keys[i]);
  tr_jwks_clear(&ks);
  return NULL;
}

static tr_err *load_plugins(kbs *k, const tr_kbs_config *cfg) {
  bool have_resource = false;
  for (size_t i = 0; i < cfg->nplugins; i++) {
    const tr_kbs_plugin_config *pc = &cfg->plugins[i];
    if (k->nplugins >= KBS_MAX_PLUGINS) return tr_err_new(TR_E_LIMIT, "too many [[plugins]]");
    tr_err *e;
    if (strcmp(pc->name, "resource") == 0) {
      e = kbs_plugin_resource_new(k, pc->config, &k->plugins[k->nplugins]);
      have_resource = true;
    } else if (strcmp(pc->name, "sample") == 0) {
      e = kbs_plugin_sample_new(k, pc->config, &k->plugins[k->nplugins]);
    } else {
      e = tr_err_new(TR_E_UNSUPPORTED, "plugin `%s` is not supported yet (supported: resource, sample)",
                     pc->name);
    }
    if (e) return pc->line ? tr_err_wrap(e, "%s:%d", cfg->path, pc->line) : e;
    k->nplugins++;
  }
  if (!have_resource && !cfg->nplugins) {
    /* Upstream registers nothing without [[plugins]]; a KBS that cannot
     * serve resources is useless, so default to the kvstorage resource plugin. */
    json_t *c = json_pack("{s:s}", "storage_backend_type", "kvstorage");
    tr_err *e = kbs_plugin_resource_new(k, c, &k->plugins[k->nplugins]);
    json_decref(c);
    if (e) return e;
    k->nplugins++;
  }
  return NULL;
}

tr_err *kbs_new(const tr_kbs_config *cfg, kbs **out) {
  kbs *k = calloc(1, sizeof *k);
  if (!k) return tr_err_new(TR_E_NOMEM, "out of memory");
  k->cfg = cfg;
  pthread_mutex_init(&k->stop_mu, NULL);
  pthread_cond_init(&k->stop_cv, NULL);
  k->session_timeout = (cfg->attestation_service.timeout > 0 ? cfg->attestation_service.timeout : 5) * 60;
  k->metrics = kbs_metrics_new(TRUSTEE_VERSION, "unknown", __DATE__);
  tr_err *e = k->metrics ? NULL : tr_err_new(TR_E_NOMEM, "out of memory");
  if (!e) e = check_supported(cfg);
  const tr_kbs_storage_config *st = &cfg->storage;
  if (!e) {
    e = tr_kv_open(tr_kbs_kv_type_name(st->storage_type), st->backend, &k->kv);
    if (e) e = tr_err_wrap(e, "[storage_backend] %s", tr_kbs_kv_type_name(st->storage_type));
  }
  if (!e) {
    if (st->has_session_storage_type && st->session_storage_type != st->storage_type) {
      e = tr_kv_open(tr_kbs_kv_type_name(st->session_storage_type), st->session_backend, &k->session_kv);
      if (e) e = tr_err_wrap(e, "session_storage_type %s", tr_kbs_kv_type_name(st->session_storage_type));
    } else {
      k->session_kv = k->kv;
    }
  }
  /* Attested sessions are remembered in-process only when no other process
   * can change the session store (Memory). With a shared store (Postgres,
   * Redis, LocalFs/Sqlite files) a session that expires early or is deleted
   * there must stop working on every replica at once (docs/ha.md). */
  if (!e && strcmp(tr_kv_storage_type(k->session_kv), "Memory") == 0 &&
      !(k->sessions = kbs_session_cache_new()))
    e = tr_err_new(TR_E_NOMEM, "out of memory");
  if (!e) e = kbs_token_verifier_new(&cfg->attestation_token, &k->tv);
  if (!e) e = kbs_admin_new(&cfg->admin, &k->admin);
  if (!e) e = open_as(k, cfg);
  if (!e && k->as) e = trust_own_as(k);
  if (!e) e = kbs_repo_new(st, k->kv, &k->repo);
  if (!e) e = kbs_policy_new(k->kv, &k->policy);
  if (!e) e = load_plugins(k, cfg);
  if (e) {
    kbs_free(k);
    return e;
  }
  *out = k;
  return NULL;
}

bool kbs_resource_only(const kbs *k) { return k->as == NULL && k->remote_as == NULL; }

/* ------------------------------------------------------------ serving */

static void observe(void *ctx, const kbs_http_req *req, const kbs_http_resp *resp, double secs) {
  kbs *k = ctx;
  if (strncmp(req->uri, "/kbs", 4) != 0) return;
  size_t reqlen = req->has_content_length ? req->content_length : req->body_len;
  kbs_metrics_observe_request(k->metrics, secs, reqlen, resp->body_len);
}

static void dispatch(void *ctx, const kbs_http_req *req, kbs_http_resp *resp) { kbs_handle(ctx, req, resp); }

static void *cleaner(void *arg) {
  kbs *k = arg;
  int64_t backoff = 0;
  pthread_mutex_lock(&k->stop_mu);
  while (!k->stopping) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += backoff ? backoff : k->purge_interval_secs;
    pthread_cond_timedwait(&k->stop_cv, &k->stop_mu, &ts);
    if (k->stopping) break;
    pthread_mutex_unlock(&k->stop_mu);
    size_t n = 0;
    tr_err *e = kbs_sessions_purge(k, &n);
    if (e) {
      TR_WARN("kbs", "session cleanup: %s", tr_err_msg(e));
      tr_err_free(e);
      backoff = backoff ? (backoff * 2 > 300 ? 300 : backoff * 2) : 5;
    } else {
      backoff = 0;
      if (n) TR_DEBUG("kbs", "session cleanup removed %zu expired sessions", n);
    }
    pthread_mutex_lock(&k->stop_mu);
  }
  pthread_mutex_unlock(&k->stop_mu);
  return NULL;
}

/* GnuTLS priority string for [http_server] TLS settings. */
static tr_err *tls_priorities(const tr_kbs_http_config *h, char **out) {
  tr_buf b = TR_BUF_INIT;
  bool v12, v13;
  switch (h->tls_profile) {
  case TR_TLS_PROFILE_MODERN: v12 = false, v13 = true; break;
  default: v12 = true, v13 = true; break;
  }
  if (h->tls_min_version == TR_TLS_VERSION_1_3) v12 = false;
  if (h->tls_max_version == TR_TLS_VERSION_1_2) v13 = false;
  if (h->tls_min_version && h->tls_max_version && h->tls_min_version > h->tls_max_version)
    return tr_err_new(TR_E_INVALID, "[http_server] tls_min_version is greater than tls_max_version");
  if (!v12 && !v13) return tr_err_new(TR_E_INVALID, "[http_server] TLS settings leave no protocol version");
  tr_buf_append_str(&b, h->tls_profile == TR_TLS_PROFILE_OLD ? "NORMAL" : "SECURE128:-VERS-ALL");
  if (h->tls_profile == TR_TLS_PROFILE_OLD) tr_buf_append_str(&b, ":-VERS-ALL");
  if (v13) tr_buf_append_str(&b, ":+VERS-TLS1.3");
  if (v12) tr_buf_append_str(&b, ":+VERS-TLS1.2");
  if (h->tls_profile == TR_TLS_PROFILE_INTERMEDIATE || h->tls_profile == TR_TLS_PROFILE_MODERN)
    tr_buf_append_str(
        &b, ":-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA:"
            "+DHE-RSA");
  if (h->tls_ciphers) {
    /* OpenSSL cipher names → GnuTLS ciphers (key exchange kept). */
    tr_buf_append_str(&b, ":-CIPHER-ALL");
    char *list = strdup(h->tls_ciphers);
    char *save = NULL;
    for (char *c = strtok_r(list, ":, ", &save); c; c = strtok_r(NULL, ":, ", &save)) {
      const char *g = strstr(c, "AES128-GCM") || strstr(c, "AES_128_GCM")   ? "+AES-128-GCM"
                      : strstr(c, "AES256-GCM") || strstr(c, "AES_256_GCM") ? "+AES-256-GCM"
                      : strstr(c, "CHACHA20")                               ? "+CHACHA20-POLY1305"
                      : strstr(c, "AES128-SHA") || strstr(c, "AES128-CBC")  ? "+AES-128-CBC"
                      : strstr(c, "AES256-SHA") || strstr(c, "AES256-CBC")  ? "+AES-256-CBC"
                                                                            : NULL;
      if (!g) {
        tr_err *e = tr_err_new(TR_E_UNSUPPORTED, "[http_server] tls_ciphers: `%s` is not supported", c);
        free(list);
        tr_buf_free(&b);
        return e;
      }
      tr_buf_printf(&b, ":%s", g);
    }
    free(list);
  }
  if (h->tls_groups) {
    tr_buf_append_str(&b, ":-GROUP-ALL");
    int ngroups = 0;
    char *list = strdup(h->tls_groups);
    char *save = NULL;
    for (char *g = strtok_r(list, ":, ", &save); g; g = strtok_r(NULL, ":, ", &save)) {
      const char *n =
          strcasecmp(g, "X25519") == 0 ? "+GROUP-X25519"
          : strcasecmp(g, "X448") == 0 ? "+GROUP-X448"
          : strcasecmp(g, "secp256r1") == 0 || strcasecmp(g, "prime256v1") == 0 || strcasecmp(g, "P-256") == 0
              ? "+GROUP-SECP256R1"
          : strcasecmp(g, "secp384r1") == 0 || strcasecmp(g, "P-384") == 0 ? "+GROUP-SECP384R1"
          : strcasecmp(g, "secp521r1") == 0 || strcasecmp(g, "P-521") == 0 ? "+GROUP-SECP521R1"
                                                                           : NULL;
      if (!n && strstr(g, "MLKEM")) {
        /* A post-quantum hybrid this GnuTLS lacks: upstream lists them first
         * with classical fallbacks, so keep the fallbacks. */
        TR_WARN("kbs", "[http_server] tls_groups: `%s` is not available in this TLS library; skipped", g);
        continue;
      }
      if (!n) {
        tr_err *e = tr_err_new(TR_E_UNSUPPORTED, "[http_server] tls_groups: `%s` is not supported", g);
        free(list);
        tr_buf_free(&b);
        return e;
      }
      ngroups++;
      tr_buf_printf(&b, ":%s", n);
    }
    free(list);
    if (!ngroups) {
      tr_buf_free(&b);
      return tr_err_new(TR_E_UNSUPPORTED,
                        "[http_server] tls_groups `%s` leaves no group this TLS library supports",
                        h->tls_groups);
    }
  }
  *out = (char *)tr_buf_steal(&b, NULL);
  return NULL;
}

tr_err *kbs_start(kbs *k) {
  const tr_kbs_http_config *h = &k->cfg->http_server;
  uint8_t *cert = NULL, *key = NULL;
  char *prio = NULL;
  size_t n;
  tr_err *e = NULL;
  k->purge_interval_secs = 60;
  const char *purge = getenv("TRUSTEE_KBS_SESSION_PURGE_SECS");
  if (purge && *purge) {
    char *end = NULL;
    long long v = strtoll(purge, &end, 10);
    if (*end || v < 1 || v > 86400)
      return tr_err_new(TR_E_INVALID,
                        "TRUSTEE_KBS_SESSION_PURGE_SECS: expected whole seconds 1..86400, got `%s`", purge);
    k->purge_interval_secs = v;
  }
  if (!h->insecure_http) {
    if (!h->certificate)
      e = tr_err_new(TR_E_INVALID, "Missing certificate ([http_server] certificate)");
    else if (!h->private_key)
      e = tr_err_new(TR_E_INVALID, "Missing private key ([http_server] private_key)");
    if (!e && (e = tr_read_file(h->certificate, 0, &cert, &n)))
      e = tr_err_wrap(e, "[http_server] certificate");
    if (!e && (e = tr_read_file(h->private_key, 0, &key, &n)))
      e = tr_err_wrap(e, "[http_server] private_key");
    if (!e) e = tls_priorities(h, &prio);
  }
  unsigned workers = h->worker_count;
  if (!workers) {
    long c = sysconf(_SC_NPROCESSORS_ONLN);
    workers = c > 0 ? (unsigned)c : 1;
  }
  if (!e) {
    kbs_http_opts o = {.sockets = (const char *const *)h->sockets,
                       .nsockets = h->nsockets,
                       .workers = workers,
                       .max_body = (size_t)h->payload_request_bytes,
                       .cert_pem = (const char *)cert,
                       .key_pem = (const char *)key,
                       .tls_priorities = prio,
                       .handler = dispatch,
                       .observer = observe,
                       .ctx = k};
    e = kbs_http_start(&o, &k->http);
  }
  if (key) memset(key, 0, strlen((char *)key));
  free(cert);
  free(key);
  free(prio);
  if (e) return e;
  if (pthread_create(&k->cleaner, NULL, cleaner, k) == 0) k->cleaner_running = true;
  return NULL;
}

unsigned kbs_port(const kbs *k, size_t i) { return k->http ? kbs_http_port(k->http, i) : 0; }

void kbs_free(kbs *k) {
  if (!k) return;
  kbs_http_stop(k->http);
  if (k->cleaner_running) {
    pthread_mutex_lock(&k->stop_mu);
    k->stopping = true;
    pthread_cond_broadcast(&k->stop_cv);
    pthread_mutex_unlock(&k->stop_mu);
    pthread_join(k->cleaner, NULL);
  }
  for (size_t i = 0; i < k->nplugins; i++)
    if (k->plugins[i].free) k->plugins[i].free(k->plugins[i].state);
  kbs_policy_free(k->policy);
  kbs_repo_free(k->repo);
  if (k->as) tr_as_free(k->as);
  tr_rvps_free(k->remote_rvps);
  tr_grpc_as_client_free(k->remote_as);
  kbs_admin_free(k->admin);
  kbs_token_verifier_free(k->tv);
  if (k->session_kv && k->session_kv != k->kv) tr_kv_close(k->session_kv);
  if (k->kv) tr_kv_close(k->kv);
  kbs_metrics_free(k->metrics);
  kbs_session_cache_free(k->sessions);
  pthread_cond_destroy(&k->stop_cv);
  pthread_mutex_destroy(&k->stop_mu);
  free(k);
}
