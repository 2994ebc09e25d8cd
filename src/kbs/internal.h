/* internal.h — what the KBS's files share (not a public API).
 *
 * Layout of src/kbs:
 *   http.c       libmicrohttpd front end (body limit, keep-alive rule)
 *   kbs.c        building the service from kbs-config.toml; the dispatcher
 *   rcar.c       /auth, /attest and the session store
 *   resource.c   the `resource` and `sample` plugins; repository storage
 *   policy.c     the resource policy (Rego data.policy.allow)
 *   token.c      verifying attestation tokens ([attestation_token]); TEE keys
 *   admin.c      admin authentication/authorization
 *   fetch.c      loading keys/JWKS from files and https (OIDC discovery)
 *   util.c       URI/query parsing, SemVer, resource paths
 *   metrics.c, errors.c */
#ifndef TRUSTEE_KBS_INTERNAL_H
#define TRUSTEE_KBS_INTERNAL_H

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/kbs_config.h"
#include "crypto/jwk.h"
#include "kbs/errors.h"
#include "kbs/http.h"
#include "kbs/metrics.h"

typedef struct tr_kv tr_kv;
typedef struct tr_as tr_as;
typedef struct tr_rvps tr_rvps;
typedef struct rego_policy rego_policy;
typedef struct kbs_session_cache kbs_session_cache;
struct rego_value;

#define KBS_NS_SESSION "kbs_protocol_session"
#define KBS_NS_POLICY "kbs"
#define KBS_NS_REPOSITORY "repository"
#define KBS_POLICY_KEY "resource-policy.rego"
#define KBS_PROTOCOL_VERSION "0.4.0"

/* ---- util.c ---- */

/* Split request-target: path (percent-decoded per segment) and query map. */
typedef struct {
  char *raw_path; /* path part, undecoded */
  char **segs;    /* segments after "/kbs/v0/" (decoded); NULL unless under /kbs/v0/ */
  size_t nsegs;
  json_t *query; /* {k: v} strings (URL-form decoded) */
} kbs_target;
/* Errors: TR_E_INVALID for a malformed query or escape. */
tr_err *kbs_target_parse(const char *uri, kbs_target *out);
void kbs_target_clear(kbs_target *t);

/* Strict SemVer 2.0.0 parse; *prerelease true when a pre-release part exists. */
tr_err *kbs_semver_parse(const char *s, unsigned long long v[3], bool *prerelease);
/* Resource path "repo/type/tag" against upstream's regex. */
bool kbs_resource_path_valid(const char *path);
/* Decodes base64url without padding; rejects padding. */
tr_err *kbs_b64url_nopad(const char *in, uint8_t **out, size_t *len);
/* IMF-fixdate of a UNIX time: "Tue, 01 Jul 2025 12:05:00 GMT". */
void kbs_imf_fixdate(int64_t t, char out[40]);
/* RFC 3339 UTC "2025-07-01T12:05:00Z". */
void kbs_rfc3339(int64_t t, char out[40]);
tr_err *kbs_parse_rfc3339(const char *s, int64_t *t);
/* The challenge parameters an AS expects for /auth's extra-params, as
 * restful-as (POST /challenge body) and grpc-as (GetAttestationChallenge
 * inner map) receive them from upstream's KBS: {"tee": tee, "tee_params":
 * <compact JSON text of extra-params>}. New reference; NULL on OOM. */
json_t *kbs_challenge_params(const char *tee, const json_t *extra_params);

/* ---- fetch.c ---- */

/* Reads a URI: plain path, file://path or https://... (libcurl; ca_file may be NULL). */
tr_err *kbs_fetch_uri(const char *uri, uint8_t **out, size_t *len);
/* JWKS from file/https; for https, falls back to OIDC discovery
 * (<url>/.well-known/openid-configuration → jwks_uri), as upstream. */
tr_err *kbs_load_jwks(const char *uri, tr_jwks *out);

/* ---- token.c ---- */

typedef struct kbs_token_verifier kbs_token_verifier;
tr_err *kbs_token_verifier_new(const tr_kbs_token_config *cfg, kbs_token_verifier **out);
/* Adds a key trusted in addition to the configuration (the built-in AS's
 * own signer). Takes a reference. */
void kbs_token_verifier_trust_key(kbs_token_verifier *v, tr_jwk *key);
void kbs_token_verifier_free(kbs_token_verifier *v);
/* Verifies a JWT; *claims is a new reference. */
tr_err *kbs_token_verify(const kbs_token_verifier *v, const char *token, json_t **claims);

/* A verified token with what every request derives from it, shared by all
 * requests presenting the same token until it expires (or is evicted).
 * Immutable after creation; reference counted. */
typedef struct kbs_verified {
  _Atomic long refs;
  char *token;
  json_t *claims;           /* the verified claims */
  struct rego_value *input; /* claims pre-converted for the resource policy (may be NULL) */
  tr_jwk *tee_key;          /* TEE public key with its alg, or NULL (then tee_key_err says why) */
  char *tee_key_err;
  int64_t exp; /* claims.exp */
} kbs_verified;
/* Verifies through a cache keyed by the token bytes: a hit is a token that
 * verified before and has not expired (exp + 60 s leeway). *out: caller
 * releases. */
tr_err *kbs_token_verify_cached(kbs_token_verifier *v, const char *token, kbs_verified **out);
void kbs_verified_release(kbs_verified *vt);
/* Caches a token the built-in AS has just issued (in-process, so already
 * trusted) without verifying its signature again. */
void kbs_token_seed(kbs_token_verifier *v, const char *token);
/* Extracts the TEE public key (JWK JSON, borrowed from claims) per §3.3. */
tr_err *kbs_token_tee_key(const kbs_token_verifier *v, const json_t *claims, const json_t **jwk);

/* ---- admin.c ---- */

typedef struct kbs_admin kbs_admin;
tr_err *kbs_admin_new(const tr_kbs_admin_config *cfg, kbs_admin **out);
void kbs_admin_free(kbs_admin *a);
/* NULL when allowed; else an error whose message is upstream's Display
 * ("Admin access denied: ..." / "Failed to parse HTTP Auth Bearer header"). */
tr_err *kbs_admin_check(const kbs_admin *a, const char *authorization_header, const char *uri);

/* ---- policy.c ---- */

typedef struct kbs_policy kbs_policy;
/* Loads the stored policy, installing the default one when absent. */
tr_err *kbs_policy_new(tr_kv *kv, kbs_policy **out);
void kbs_policy_free(kbs_policy *p);
/* Sets from the admin body {"policy": b64url-nopad}; kind tells which error. */
tr_err *kbs_policy_set_text(kbs_policy *p, const char *text, size_t len);
/* Evaluates data.policy.allow: *allowed only for JSON true; *well_formed
 * false when the rule is undefined or not a boolean (counted as an error). */
tr_err *kbs_policy_allow(kbs_policy *p, const json_t *claims, const struct rego_value *claims_value,
                         const json_t *data, bool *allowed, bool *well_formed);
/* IDs of stored policies (["resource-policy"]). New reference. */
tr_err *kbs_policy_list(kbs_policy *p, json_t **ids);

/* ---- plugins (resource.c) ---- */

typedef struct {
  const char *method;
  const uint8_t *body;
  size_t body_len;
  const json_t *query;
  char *const *path; /* segments after the plugin name */
  size_t npath;
  const json_t *init_data_claims; /* may be NULL */
} kbs_plugin_req;

typedef struct {
  const char *name;
  void *state;
  /* *out malloc'd. TR_E_NOTFOUND = resource does not exist. */
  tr_err *(*handle)(void *state, const kbs_plugin_req *r, uint8_t **out, size_t *out_len);
  bool (*validate_auth)(void *state, const kbs_plugin_req *r); /* true = admin request */
  bool (*encrypted)(void *state, const kbs_plugin_req *r);
  void (*free)(void *state);
} kbs_plugin;

struct kbs;
tr_err *kbs_plugin_resource_new(struct kbs *k, const json_t *config, kbs_plugin *out);
tr_err *kbs_plugin_sample_new(struct kbs *k, const json_t *config, kbs_plugin *out);

/* Repository (the `kvstorage` resource backend). */
typedef struct kbs_repo kbs_repo;
tr_err *kbs_repo_new(const tr_kbs_storage_config *st, tr_kv *kv, kbs_repo **out);
void kbs_repo_free(kbs_repo *r);
tr_err *kbs_repo_get(kbs_repo *r, const char *path, uint8_t **val, size_t *len);
tr_err *kbs_repo_set(kbs_repo *r, const char *path, const void *val, size_t len);
tr_err *kbs_repo_delete(kbs_repo *r, const char *path);

/* ---- the service ---- */

#define KBS_MAX_PLUGINS 16

struct kbs {
  const tr_kbs_config *cfg;
  tr_kv *kv;
  tr_kv *session_kv;                   /* == kv unless session_storage_type differs */
  tr_as *as;                           /* NULL: resource-only (passport) KBS, or a remote AS */
  struct tr_grpc_as_client *remote_as; /* [attestation_service] type = "coco_as_grpc" (src/grpc) */
  tr_rvps *remote_rvps;                /* built-in AS with rvps_config GrpcRemote (owned) */
  kbs_repo *repo;
  kbs_policy *policy;
  kbs_token_verifier *tv;
  kbs_admin *admin;
  kbs_plugin plugins[KBS_MAX_PLUGINS];
  size_t nplugins;
  kbs_metrics *metrics;
  kbs_http_server *http;
  int64_t session_timeout;     /* seconds */
  kbs_session_cache *sessions; /* attested sessions seen by this process; NULL unless Memory sessions */
  pthread_t cleaner;
  bool cleaner_running;
  pthread_mutex_t stop_mu;
  pthread_cond_t stop_cv;
  bool stopping;
  /* Seconds between expired-session purges: TRUSTEE_KBS_SESSION_PURGE_SECS
   * (read once at start; tests shorten it), default 60. */
  int64_t purge_interval_secs;
};

/* rcar.c */
void kbs_rcar_auth(struct kbs *k, const kbs_http_req *req, kbs_http_resp *resp);
void kbs_rcar_attest(struct kbs *k, const kbs_http_req *req, kbs_http_resp *resp);
/* *token = the token of an attested, unexpired session (caller frees), or
 * NULL when the session is unknown, expired or not attested. Returns an
 * error (already logged with TR_WARN) only when the session store failed
 * or holds a malformed record; *token is then NULL. Attested sessions never
 * change until they expire, so they are remembered in-process (k->sessions,
 * only with a Memory session store) after the first KV read. */
tr_err *kbs_session_token(struct kbs *k, const char *session_id, char **token);
kbs_session_cache *kbs_session_cache_new(void);
void kbs_session_cache_free(kbs_session_cache *c);
tr_err *kbs_sessions_purge(struct kbs *k, size_t *removed);

#endif
