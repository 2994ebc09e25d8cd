/* rcar.c — the RCAR handshake (Request, Challenge, Attestation, Response)
 * and the session store (upstream kbs/src/attestation/{backend,session}.rs).
 *
 * Sessions live in KV namespace `kbs_protocol_session`, key = session id,
 * value = upstream's JSON record ({"Authed":{request,challenge,id,timeout}}
 * or {"Attested":{token,id,timeout}}), with a KV TTL as well; expired
 * records read as absent and a background thread purges them every 60 s.
 * The cookie `kbs-session-id` carries only `Expires` (auth time + timeout);
 * /attest resends it unchanged. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "as/as.h"
#include "core/encoding.h"
#include "core/json.h"
#include "core/log.h"
#include "grpc/as_client.h"
#include "kbs/internal.h"
#include "kv/kv.h"

static const char *const tee_names[] = {"az-snp-vtpm", "az-tdx-vtpm", "nvidia",      "sgx", "snp",
                                        "tdx",         "cca",         "csv",         "se",  "hygondcu",
                                        "tpm",         "sample",      "sampledevice"};

static bool tee_known(const char *t) {
  for (size_t i = 0; i < sizeof tee_names / sizeof *tee_names; i++)
    if (strcmp(tee_names[i], t) == 0) return true;
  return false;
}

static int64_t now_s(void) { return (int64_t)time(NULL); }

static void set_cookie(kbs_http_resp *resp, const char *id, int64_t expires) {
  char date[40];
  kbs_imf_fixdate(expires, date);
  free(resp->set_cookie);
  if (asprintf(&resp->set_cookie, "kbs-session-id=%s; Expires=%s", id, date) < 0) resp->set_cookie = NULL;
}

static void respond_json(kbs_http_resp *resp, json_t *o) {
  char *body = tr_json_dump_compact(o);
  kbs_http_resp_set(resp, 200, "application/json", body, body ? strlen(body) : 0);
}

/* Loads a session record; NOTFOUND when absent or expired. *rec new ref;
 * *state "Authed"/"Attested"; *inner borrowed from *rec. */
static tr_err *session_load(struct kbs *k, const char *id, json_t **rec, const char **state, json_t **inner,
                            int64_t *expires) {
  if (strlen(id) > 64) return tr_err_new(TR_E_NOTFOUND, "session not found");
  tr_err *bad = tr_kv_check_key(id);
  if (bad) { /* any cookie value reaches here: never leak the reason */
    tr_err_free(bad);
    return tr_err_new(TR_E_NOTFOUND, "session not found");
  }
  uint8_t *v = NULL;
  size_t n = 0;
  tr_err *e = tr_kv_get(k->session_kv, KBS_NS_SESSION, id, &v, &n);
  if (e) {
    if (tr_err_code(e) == TR_E_NOTFOUND) {
      tr_err_free(e);
      return tr_err_new(TR_E_NOTFOUND, "session %s not found or expired", id);
    }
    return e;
  }
  json_t *r = NULL;
  e = tr_json_parse((const char *)v, n, &r);
  free(v);
  if (e) return tr_err_wrap(e, "session record");
  const char *st = json_object_get(r, "Attested") ? "Attested" : "Authed";
  json_t *in = json_object_get(r, st);
  const char *to = json_string_value(json_object_get(in, "timeout"));
  int64_t exp = 0;
  if (!in || !to || (e = kbs_parse_rfc3339(to, &exp)) != NULL) {
    tr_err_free(e);
    json_decref(r);
    return tr_err_new(TR_E_INTERNAL, "session %s: malformed record", id);
  }
  if (exp <= now_s()) {
    json_decref(r);
    tr_err_free(tr_kv_delete(k->session_kv, KBS_NS_SESSION, id));
    return tr_err_new(TR_E_NOTFOUND, "session %s expired", id);
  }
  *rec = r;
  *state = st;
  *inner = in;
  *expires = exp;
  return NULL;
}

static tr_err *session_store(struct kbs *k, const char *id, json_t *rec, int64_t expires) {
  char *text = tr_json_dump_compact(rec);
  if (!text) return tr_err_new(TR_E_NOMEM, "out of memory");
  int64_t ttl = expires - now_s();
  if (ttl < 1) ttl = 1;
  tr_err *e = tr_kv_set(k->session_kv, KBS_NS_SESSION, id, text, strlen(text), true, ttl);
  free(text);
  return e;
}

#define SCACHE_SLOTS 4096
#define SCACHE_LOCKS 64

typedef struct {
  char id[33];
  char *token;
  int64_t expires;
} scache_entry;

struct kbs_session_cache {
  scache_entry e[SCACHE_SLOTS];
  pthread_mutex_t mu[SCACHE_LOCKS];
};

kbs_session_cache *kbs_session_cache_new(void) {
  kbs_session_cache *c = calloc(1, sizeof *c);
  if (c)
    for (size_t i = 0; i < SCACHE_LOCKS; i++)
      pthread_mutex_init(&c->mu[i], NULL);
  return c;
}

void kbs_session_cache_free(kbs_session_cache *c) {
  if (!c) return;
  for (size_t i = 0; i < SCACHE_SLOTS; i++)
    free(c->e[i].token);
  for (size_t i = 0; i < SCACHE_LOCKS; i++)
    pthread_mutex_destroy(&c->mu[i]);
  free(c);
}

static size_t scache_slot(const char *id) {
  uint64_t h = 1469598103934665603ULL;
  for (const char *p = id; *p; p++)
    h = (h ^ (uint8_t)*p) * 1099511628211ULL;
  return (size_t)(h % SCACHE_SLOTS);
}

static char *scache_get(kbs_session_cache *c, const char *id) {
  if (!c || strlen(id) != 32) return NULL;
  size_t s = scache_slot(id);
  char *tok = NULL;
  pthread_mutex_lock(&c->mu[s % SCACHE_LOCKS]);
  if (c->e[s].token && strcmp(c->e[s].id, id) == 0 && c->e[s].expires > now_s()) tok = strdup(c->e[s].token);
  pthread_mutex_unlock(&c->mu[s % SCACHE_LOCKS]);
  return tok;
}

static void scache_put(kbs_session_cache *c, const char *id, const char *token, int64_t expires) {
  if (!c || strlen(id) != 32) return;
  char *t = strdup(token);
  if (!t) return;
  size_t s = scache_slot(id);
  pthread_mutex_lock(&c->mu[s % SCACHE_LOCKS]);
  free(c->e[s].token);
  memcpy(c->e[s].id, id, 33);
  c->e[s].token = t;
  c->e[s].expires = expires;
  pthread_mutex_unlock(&c->mu[s % SCACHE_LOCKS]);
}

tr_err *kbs_session_token(struct kbs *k, const char *id, char **token) {
  *token = scache_get(k->sessions, id);
  if (*token) return NULL;
  json_t *rec = NULL, *in = NULL;
  const char *st;
  int64_t exp;
  tr_err *e = session_load(k, id, &rec, &st, &in, &exp);
  if (e) {
    kbs_metrics_inc(k->metrics, KBS_M_ATTEST_ERRORS);
    if (tr_err_code(e) == TR_E_NOTFOUND) { /* unknown or expired: not an error of ours */
      tr_err_free(e);
      return NULL;
    }
    TR_WARN("kbs", "session %s: the session store failed: %s", id, tr_err_msg(e));
    return e;
  }
  if (strcmp(st, "Attested") == 0 && json_is_string(json_object_get(in, "token"))) {
    *token = strdup(json_string_value(json_object_get(in, "token")));
    if (*token) scache_put(k->sessions, id, *token, exp);
  }
  json_decref(rec);
  return NULL;
}

tr_err *kbs_sessions_purge(struct kbs *k, size_t *removed) {
  return tr_kv_purge_expired(k->session_kv, removed);
}

/* ---------------------------------------------------------------- /auth */

static tr_err *auth_parse(const json_t *req, const char **tee, json_t **extra) {
  const char *version = NULL;
  tr_err *e = NULL;
  if (!json_is_object(req)) return tr_err_new(TR_E_INVALID, "deserialize Request: expected a JSON object");
  if ((e = tr_json_get_string(req, NULL, "version", &version)) ||
      (e = tr_json_get_string(req, NULL, "tee", tee)))
    return tr_err_wrap(e, "deserialize Request");
  if (!json_object_get(req, "extra-params"))
    return tr_err_new(TR_E_INVALID, "deserialize Request: missing field `extra-params`");
  if (!tee_known(*tee))
    return tr_err_new(TR_E_INVALID,
                      "deserialize Request: unknown tee `%s` (expected one of az-snp-vtpm, "
                      "az-tdx-vtpm, nvidia, sgx, snp, tdx, cca, csv, se, hygondcu, tpm, sample, "
                      "sampledevice)",
                      *tee);
  unsigned long long v[3];
  bool pre;
  e = kbs_semver_parse(version, v, &pre);
  if (e) return tr_err_wrap(e, "failed to parse KBS version");
  if (pre || v[0] != 0 || v[1] != 4 || v[2] != 0)
    return tr_err_new(TR_E_INVALID,
                      "KBS Client Protocol Version Mismatch: expect =%s while the request is %s",
                      KBS_PROTOCOL_VERSION, version);
  *extra = json_object_get(req, "extra-params");
  return NULL;
}

/* Challenge extra-params: "" except for IBM SE, which must be offered sha512. */
static tr_err *challenge_extra(const char *tee, const json_t *params, json_t **out) {
  if (strcmp(tee, "se") != 0 || json_is_null(params) || !json_is_object(params) ||
      !json_object_get(params, "supported-hash-algorithms")) {
    *out = json_string("");
    return NULL;
  }
  const json_t *algs = json_object_get(params, "supported-hash-algorithms");
  size_t i;
  json_t *a;
  json_array_foreach(algs, i, a) {
    if (json_is_string(a) && strcasecmp(json_string_value(a), "sha512") == 0) {
      *out = json_pack("{s:s}", "selected-hash-algorithm", "sha512");
      return NULL;
    }
  }
  return tr_err_new(TR_E_INVALID, "se: supported-hash-algorithms must include sha512");
}

void kbs_rcar_auth(struct kbs *k, const kbs_http_req *req, kbs_http_resp *resp) {
  kbs_metrics_inc(k->metrics, KBS_M_AUTH_REQUESTS);
  json_t *body = NULL;
  tr_err *e = tr_json_parse((const char *)req->body, req->body_len, &body);
  if (e) {
    kbs_metrics_inc(k->metrics, KBS_M_AUTH_ERRORS);
    kbs_error_respondf(resp, KBS_E_ATTESTATION, 400, "RCAR handshake Auth failed: deserialize Request: %s",
                       tr_err_msg(e));
    tr_err_free(e);
    return;
  }
  const char *tee = NULL;
  json_t *extra = NULL, *cextra = NULL;
  e = auth_parse(body, &tee, &extra);
  if (!e) e = challenge_extra(tee, extra, &cextra);
  uint8_t nonce[32], idb[16];
  char *se_nonce = NULL;
  if (!e && strcmp(tee, "se") == 0) {
    /* IBM SE: the nonce is the verifier's supplemental challenge (the
     * attestation request the guest's SE attester completes). */
    if (k->remote_as) {
      e = tr_grpc_as_challenge(k->remote_as, tee, extra, &se_nonce); /* builds {tee, tee_params} itself */
    } else {
      /* the same {"tee","tee_params"} shape restful-as and grpc-as hand to tr_as_challenge */
      json_t *params = kbs_challenge_params(tee, extra);
      e = params ? tr_as_challenge(k->as, tee, params, &se_nonce) : tr_err_new(TR_E_NOMEM, "out of memory");
      json_decref(params);
    }
    if (!e && se_nonce && !*se_nonce) free(se_nonce), se_nonce = NULL;
    if (e) e = tr_err_wrap(e, "supplemental challenge");
  }
  if (!e) e = tr_random_bytes(nonce, sizeof nonce);
  if (!e) e = tr_random_bytes(idb, sizeof idb);
  if (e) {
    kbs_metrics_inc(k->metrics, KBS_M_AUTH_ERRORS);
    kbs_error_respondf(resp, KBS_E_ATTESTATION, 0, "RCAR handshake Auth failed: %s", tr_err_msg(e));
    tr_err_free(e);
    json_decref(cextra);
    json_decref(body);
    return;
  }
  idb[6] = (uint8_t)((idb[6] & 0x0f) | 0x40); /* UUIDv4, "simple" form */
  idb[8] = (uint8_t)((idb[8] & 0x3f) | 0x80);
  char *id = tr_hex_encode(idb, sizeof idb);
  char *nonce_b64 = se_nonce ? se_nonce : tr_b64_encode(nonce, sizeof nonce, TR_B64_STD);
  int64_t expires = now_s() + k->session_timeout;
  char ts[40];
  kbs_rfc3339(expires, ts);
  json_t *challenge = json_pack("{s:s,s:o}", "nonce", nonce_b64, "extra-params", cextra);
  json_t *request = json_pack("{s:O,s:s,s:O}", "version", json_object_get(body, "version"), "tee", tee,
                              "extra-params", extra);
  json_t *rec = json_pack("{s:{s:O,s:O,s:s,s:s}}", "Authed", "request", request, "challenge", challenge, "id",
                          id, "timeout", ts);
  e = rec ? session_store(k, id, rec, expires) : tr_err_new(TR_E_NOMEM, "out of memory");
  if (e) {
    kbs_metrics_inc(k->metrics, KBS_M_AUTH_ERRORS);
    kbs_error_respondf(resp, KBS_E_ATTESTATION, 0, "RCAR handshake Auth failed: storing the session: %s",
                       tr_err_msg(e));
    tr_err_free(e);
  } else {
    kbs_metrics_inc(k->metrics, KBS_M_AUTH_SUCCESSES);
    respond_json(resp, challenge);
    set_cookie(resp, id, expires);
  }
  json_decref(rec);
  json_decref(request);
  json_decref(challenge);
  json_decref(body);
  free(id);
  free(nonce_b64);
}

/* -------------------------------------------------------------- /attest */

/* Re-serialises tee-pubkey from its known members only (kbs-types TeePubKey). */
static tr_err *rebuild_pubkey(const json_t *k, json_t **out) {
  const char *kty = json_string_value(json_object_get(k, "kty"));
  if (!json_is_object(k) || !kty) return tr_err_new(TR_E_INVALID, "runtime-data.tee-pubkey: missing `kty`");
  static const char *const rsa[] = {"alg", "n", "e", NULL};
  static const char *const ec[] = {"crv", "alg", "x", "y", NULL};
  static const char *const akp[] = {"alg", "pub", NULL};
  const char *const *members = strcmp(kty, "RSA") == 0   ? rsa
                               : strcmp(kty, "EC") == 0  ? ec
                               : strcmp(kty, "AKP") == 0 ? akp
                                                         : NULL;
  if (!members) return tr_err_new(TR_E_INVALID, "runtime-data.tee-pubkey: unknown kty `%s`", kty);
  json_t *o = json_pack("{s:s}", "kty", kty);
  for (size_t i = 0; members[i]; i++) {
    const json_t *v = json_object_get(k, members[i]);
    if (!json_is_string(v)) {
      json_decref(o);
      return tr_err_new(TR_E_INVALID, "runtime-data.tee-pubkey: %s key needs string `%s`", kty, members[i]);
    }
    json_object_set_new(o, members[i], json_string(json_string_value(v)));
  }
  *out = o;
  return NULL;
}

typedef struct {
  const char *nonce;
  json_t *pubkey;
  const json_t *primary;
  const char *additional;
  const char *init_toml; /* NULL: none */
} attestation;

static tr_err *attest_parse(const json_t *b, attestation *a) {
  if (!json_is_object(b)) return tr_err_new(TR_E_INVALID, "deserialize Attestation: expected a JSON object");
  json_t *rd = NULL, *te = NULL;
  tr_err *e = NULL;
  if ((e = tr_json_get_object(b, NULL, "runtime-data", &rd)) ||
      (e = tr_json_get_string(rd, "runtime-data", "nonce", &a->nonce)) ||
      (e = tr_json_get_object(b, NULL, "tee-evidence", &te)) ||
      (e = tr_json_get_string(te, "tee-evidence", "additional_evidence", &a->additional)))
    return tr_err_wrap(e, "deserialize Attestation");
  a->primary = json_object_get(te, "primary_evidence");
  if (!a->primary)
    return tr_err_new(TR_E_INVALID, "deserialize Attestation: missing field `tee-evidence.primary_evidence`");
  const json_t *pk = json_object_get(rd, "tee-pubkey");
  if (!pk)
    return tr_err_new(TR_E_INVALID, "deserialize Attestation: missing field `runtime-data.tee-pubkey`");
  if ((e = rebuild_pubkey(pk, &a->pubkey))) return tr_err_wrap(e, "deserialize Attestation");
  const json_t *id = json_object_get(b, "init-data");
  if (id && !json_is_null(id)) {
    const char *fmt = NULL, *body = NULL;
    if ((e = tr_json_get_string(id, "init-data", "format", &fmt)) ||
        (e = tr_json_get_string(id, "init-data", "body", &body)))
      return tr_err_wrap(e, "deserialize Attestation");
    if (strcmp(fmt, "toml") != 0)
      return tr_err_new(TR_E_UNSUPPORTED, "Unsupported initdata format `%s`", fmt);
    a->init_toml = body;
  }
  return NULL;
}

static tr_err *attest_verify(struct kbs *k, const char *tee, attestation *a, char **token) {
  json_t *rd_primary = json_pack("{s:O,s:s,s:s}", "tee-pubkey", a->pubkey, "nonce", a->nonce,
                                 "additional-evidence", a->additional);
  json_t *rd_dev = json_pack("{s:O,s:s}", "tee-pubkey", a->pubkey, "nonce", a->nonce);
  json_t *devices = NULL;
  tr_as_request reqs[17];
  size_t n = 0;
  tr_err *e = NULL;
  reqs[n++] = (tr_as_request){
      .tee = tee,
      .evidence = a->primary,
      .runtime_data = {.kind = TR_DATA_STRUCTURED, .structured = rd_primary},
      .runtime_data_hash_alg = strcmp(tee, "se") == 0 ? TR_SHA512 : TR_SHA384,
      .init_data = {.kind = a->init_toml ? TR_DATA_STRUCTURED : TR_DATA_NONE, .toml = a->init_toml},
  };
  if (a->additional[0]) {
    e = tr_json_parse(a->additional, strlen(a->additional), &devices);
    if (!e && !json_is_object(devices))
      e = tr_err_new(TR_E_INVALID, "additional_evidence must be a JSON object {\"<tee>\": evidence}");
    const char *dtee;
    json_t *ev;
    json_object_foreach(devices, dtee, ev) {
      if (e) break;
      if (!tee_known(dtee))
        e = tr_err_new(TR_E_INVALID, "additional_evidence: unknown tee `%s`", dtee);
      else if (n >= sizeof reqs / sizeof *reqs)
        e = tr_err_new(TR_E_LIMIT, "additional_evidence: too many devices");
      else
        reqs[n++] = (tr_as_request){
            .tee = dtee,
            .evidence = ev,
            .runtime_data = {.kind = TR_DATA_STRUCTURED, .structured = rd_dev},
            .runtime_data_hash_alg = strcmp(dtee, "se") == 0 ? TR_SHA512 : TR_SHA384,
        };
    }
    if (e) e = tr_err_wrap(e, "additional_evidence");
  }
  if (!e) {
    const char *ids[] = {"default"};
    e = k->remote_as ? tr_grpc_as_evaluate(k->remote_as, reqs, n, ids, 1, token)
                     : tr_as_evaluate(k->as, reqs, n, ids, 1, token);
  }
  json_decref(devices);
  json_decref(rd_primary);
  json_decref(rd_dev);
  return e;
}

void kbs_rcar_attest(struct kbs *k, const kbs_http_req *req, kbs_http_resp *resp) {
  kbs_metrics_inc(k->metrics, KBS_M_ATTEST_REQUESTS);
  static const char pfx[] = "RCAR handshake Attest failed";
  const char *id = kbs_http_cookie(req, "kbs-session-id");
  if (!id) {
    kbs_metrics_inc(k->metrics, KBS_M_ATTEST_ERRORS);
    kbs_error_respondf(resp, KBS_E_ATTESTATION, 0, "%s: cookie kbs-session-id not found (call /auth first)",
                       pfx);
    return;
  }
  json_t *body = NULL;
  tr_err *e = tr_json_parse((const char *)req->body, req->body_len, &body);
  if (e) {
    kbs_metrics_inc(k->metrics, KBS_M_ATTEST_ERRORS);
    kbs_error_respondf(resp, KBS_E_ATTESTATION, 400, "%s: deserialize Attestation: %s", pfx, tr_err_msg(e));
    tr_err_free(e);
    return;
  }
  attestation a = {0};
  e = attest_parse(body, &a);
  json_t *rec = NULL, *in = NULL;
  const char *state = NULL;
  int64_t expires = 0;
  if (!e) e = session_load(k, id, &rec, &state, &in, &expires);
  if (e) {
    kbs_metrics_inc(k->metrics, KBS_M_ATTEST_ERRORS);
    kbs_error_respondf(resp, KBS_E_ATTESTATION, 0, "%s: %s", pfx, tr_err_msg(e));
    goto out;
  }
  if (strcmp(state, "Attested") == 0) {
    json_t *o = json_pack("{s:O}", "token", json_object_get(in, "token"));
    respond_json(resp, o);
    json_decref(o);
    set_cookie(resp, id, expires);
    goto out;
  }
  const json_t *request = json_object_get(in, "request");
  const char *tee = json_string_value(json_object_get(request, "tee"));
  const char *snonce = json_string_value(json_object_get(json_object_get(in, "challenge"), "nonce"));
  if (!tee || !snonce) {
    e = tr_err_new(TR_E_INTERNAL, "malformed session record");
  } else if (strcmp(snonce, a.nonce) != 0) {
    e = tr_err_new(TR_E_AUTH, "runtime-data.nonce does not match the challenge nonce of session %s", id);
  }
  if (e) {
    kbs_metrics_inc(k->metrics, KBS_M_ATTEST_ERRORS);
    kbs_error_respondf(resp, KBS_E_ATTESTATION, 0, "%s: %s", pfx, tr_err_msg(e));
    goto out;
  }
  char *token = NULL;
  e = attest_verify(k, tee, &a, &token);
  if (e) {
    kbs_metrics_inc_label(k->metrics, KBS_L_ATTEST_FAILURES, tee);
    TR_INFO("kbs", "attestation of session %s (%s) failed: %s", id, tee, tr_err_msg(e));
    kbs_error_respondf(resp, KBS_E_ATTESTATION, 0, "%s: %s", pfx, tr_err_msg(e));
    goto out;
  }
  kbs_metrics_inc_label(k->metrics, KBS_L_ATTEST_SUCCESSES, tee);
  /* Only a token our in-process AS just signed skips re-verification; one
   * from a remote AS (possibly over plaintext gRPC) is verified on use with
   * [attestation_token], as upstream. */
  if (k->as) kbs_token_seed(k->tv, token);
  char ts[40];
  kbs_rfc3339(expires, ts);
  json_t *nrec = json_pack("{s:{s:s,s:s,s:s}}", "Attested", "token", token, "id", id, "timeout", ts);
  e = nrec ? session_store(k, id, nrec, expires) : tr_err_new(TR_E_NOMEM, "out of memory");
  json_decref(nrec);
  if (e) {
    kbs_metrics_inc(k->metrics, KBS_M_ATTEST_ERRORS);
    kbs_error_respondf(resp, KBS_E_ATTESTATION, 0, "%s: storing the session: %s", pfx, tr_err_msg(e));
  } else {
    /* The session is now immutable until it expires: remember it, so the
     * resource requests that follow need no KV read and JSON parse. */
    scache_put(k->sessions, id, token, expires);
    json_t *o = json_pack("{s:s}", "token", token);
    respond_json(resp, o);
    json_decref(o);
    set_cookie(resp, id, expires);
  }
  free(token);
out:
  tr_err_free(e);
  json_decref(a.pubkey);
  json_decref(rec);
  json_decref(body);
}
