/* as_config.c — the AS config.json, in both shapes users have:
 *
 *  - the CoCo documentation's: work_dir, policy_engine ("opa"),
 *    rvps_config {type BuiltIn|GrpcRemote, store_type, store_config,
 *    address}, attestation_token_broker {type Ear|Simple, ...};
 *  - upstream's current: storage_backend {storage_type, backends{local_fs,
 *    local_json, postgres, redis}}, rvps_config {type, storage_type,
 *    extractors, address}, verifier_config, attestation_token_broker.
 *
 * Every key is optional (upstream defaults). A present key of the wrong type
 * is an error naming the key; an unknown key is a warning (upstream ignores
 * unknown keys and shipped configs carry some). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "as/as_internal.h"
#include "core/json.h"
#include "core/log.h"

#define DEFAULT_ISSUER "CoCo-Attestation-Service"
#define DEFAULT_DEVELOPER "https://confidentialcontainers.org"
#define DEFAULT_BUILD "attestation-service 0.1.0"
#define DEFAULT_PROFILE "tag:github.com,2024:confidential-containers/Trustee"

static void warn(tr_as_config *c, const char *fmt, const char *a, const char *b) {
  char msg[512];
  snprintf(msg, sizeof(msg), fmt, a, b ? b : "");
  json_array_append_new(c->warnings, json_string(msg));
  TR_WARN("as", "config: %s", msg);
}

/* Warns about members of obj not in the NULL-terminated allowed list. */
static void check_keys(tr_as_config *c, const json_t *obj, const char *label, const char *const *allowed) {
  const char *k;
  json_t *v;
  json_object_foreach((json_t *)obj, k, v) {
    bool known = false;
    for (const char *const *a = allowed; *a; a++)
      if (strcmp(*a, k) == 0) known = true;
    if (!known)
      warn(c, label ? "unknown key `%s.%s` ignored" : "unknown key `%s%s` ignored", label ? label : k,
           label ? k : NULL);
  }
}

static tr_err *opt_str_dup(const json_t *obj, const char *label, const char *path, const char *def,
                           char **out) {
  const char *s = NULL;
  tr_err *e = tr_json_opt_string(obj, label, path, &s);
  if (e) return e;
  if (!s) s = def;
  if (!s) return NULL;
  *out = strdup(s);
  return *out ? NULL : tr_err_new(TR_E_NOMEM, "out of memory");
}

static const struct {
  const char *canon, *backend_key;
} storage_names[] = {
    {"Memory", "memory"}, {"LocalFs", "local_fs"},  {"LocalJson", "local_json"},
    {"Sqlite", "sqlite"}, {"Postgres", "postgres"}, {"Redis", "redis"},
};

static bool name_eq(const char *a, const char *b) {
  /* case-insensitive, '_' and '-' ignored: LocalFs = localfs = local_fs */
  for (;;) {
    while (*a == '_' || *a == '-')
      a++;
    while (*b == '_' || *b == '-')
      b++;
    if (!*a || !*b) return !*a && !*b;
    if ((*a | 0x20) != (*b | 0x20)) return false;
    a++, b++;
  }
}

const char *tr_as_storage_name(const char *name) {
  if (!name) return NULL;
  for (size_t i = 0; i < sizeof(storage_names) / sizeof(storage_names[0]); i++)
    if (name_eq(name, storage_names[i].canon)) return storage_names[i].canon;
  return NULL;
}

json_t *tr_as_storage_backend(const json_t *storage_backend, const char *canon) {
  json_t *b = json_object_get(storage_backend, "backends");
  if (!json_is_object(b)) return NULL;
  for (size_t i = 0; i < sizeof(storage_names) / sizeof(storage_names[0]); i++)
    if (strcmp(storage_names[i].canon, canon) == 0) {
      json_t *v = json_object_get(b, storage_names[i].backend_key);
      return json_is_object(v) ? v : NULL;
    }
  return NULL;
}

static tr_err *storage_type(const json_t *obj, const char *label, const char *path, char **out) {
  const char *s = NULL;
  tr_err *e = tr_json_opt_string(obj, label, path, &s);
  if (e || !s) return e;
  const char *canon = tr_as_storage_name(s);
  if (!canon)
    return tr_err_new(TR_E_INVALID,
                      "field `%s.%s`: unknown storage type `%s` (expected Memory, LocalFs, "
                      "LocalJson, Sqlite, Postgres or Redis)",
                      label, path, s);
  *out = strdup(canon);
  return *out ? NULL : tr_err_new(TR_E_NOMEM, "out of memory");
}

static tr_err *parse_storage(tr_as_config *c, const json_t *root) {
  json_t *sb = NULL;
  tr_err *e = tr_json_opt_object(root, NULL, "storage_backend", &sb);
  if (e || !sb) return e;
  static const char *const keys[] = {"storage_type", "backends", NULL};
  check_keys(c, sb, "storage_backend", keys);
  json_t *backends = NULL;
  if ((e = tr_json_opt_object(sb, "storage_backend", "backends", &backends))) return e;
  if (backends) {
    const char *k;
    json_t *v;
    json_object_foreach(backends, k, v) {
      if (!json_is_object(v) && !json_is_null(v))
        return tr_err_new(TR_E_INVALID, "field `storage_backend.backends.%s`: expected object, got %s", k,
                          tr_json_type_name(v));
    }
  }
  if ((e = storage_type(sb, "storage_backend", "storage_type", &c->storage_type))) return e;
  if (c->storage_type) c->storage_config = tr_as_storage_backend(sb, c->storage_type);
  return NULL;
}

static tr_err *parse_rvps(tr_as_config *c, const json_t *root) {
  json_t *r = NULL;
  tr_err *e = tr_json_opt_object(root, NULL, "rvps_config", &r);
  if (e || !r) return e;
  c->rvps_raw = r;
  const char *type = NULL;
  if ((e = tr_json_opt_string(r, "rvps_config", "type", &type))) return e;
  if (!type || name_eq(type, "BuiltIn")) {
    static const char *const keys[] = {"type",       "storage_type", "extractors",
                                       "store_type", "store_config", NULL};
    check_keys(c, r, "rvps_config", keys);
    json_t *x = NULL;
    if ((e = tr_json_opt_object(r, "rvps_config", "extractors", &x))) return e;
    if ((e = tr_json_opt_object(r, "rvps_config", "store_config", &x))) return e;
    if ((e = storage_type(r, "rvps_config", "storage_type", &c->rvps_storage_type))) return e;
    const char *st = NULL;
    if ((e = tr_json_opt_string(r, "rvps_config", "store_type", &st))) return e;
    c->rvps_documented = st != NULL || json_object_get(r, "store_config") != NULL;
  } else if (name_eq(type, "GrpcRemote")) {
    static const char *const keys[] = {"type", "address", NULL};
    check_keys(c, r, "rvps_config", keys);
    c->rvps_remote = true;
    if ((e = opt_str_dup(r, "rvps_config", "address", "127.0.0.1:50003", &c->rvps_address))) return e;
  } else {
    return tr_err_new(TR_E_INVALID,
                      "field `rvps_config.type`: unknown RVPS type `%s` (expected BuiltIn or "
                      "GrpcRemote)",
                      type);
  }
  return NULL;
}

static tr_err *parse_broker(tr_as_config *c, const json_t *root) {
  tr_as_broker_config *b = &c->broker;
  b->type = TR_AS_BROKER_EAR;
  b->duration_min = 5;
  b->verbose_token = true;
  json_t *t = NULL;
  tr_err *e = tr_json_opt_object(root, NULL, "attestation_token_broker", &t);
  if (e) return e;
  const char *L = "attestation_token_broker";
  const char *type = NULL;
  if (t && (e = tr_json_opt_string(t, L, "type", &type))) return e;
  if (type) {
    if (strcasecmp(type, "Ear") == 0)
      b->type = TR_AS_BROKER_EAR;
    else if (strcasecmp(type, "Simple") == 0)
      b->type = TR_AS_BROKER_SIMPLE;
    else
      return tr_err_new(TR_E_INVALID, "field `%s.type`: unknown token broker `%s` (expected Ear or Simple)",
                        L, type);
  }
  if (t) {
    static const char *const ear_keys[] = {
        "type",         "duration_min", "issuer_name", "developer_name", "build_name",
        "profile_name", "policy_dir",   "signer",      "verbose_token",  NULL};
    static const char *const simple_keys[] = {"type",       "duration_min", "issuer_name",
                                              "policy_dir", "signer",       NULL};
    check_keys(c, t, L, b->type == TR_AS_BROKER_EAR ? ear_keys : simple_keys);
    if ((e = tr_json_opt_int(t, L, "duration_min", &b->duration_min))) return e;
    if (b->duration_min <= 0 || b->duration_min > 60 * 24 * 366)
      return tr_err_new(TR_E_INVALID,
                        "field `%s.duration_min`: must be between 1 and 527040 minutes, got %lld", L,
                        (long long)b->duration_min);
    if ((e = tr_json_opt_bool(t, L, "verbose_token", &b->verbose_token))) return e;
    const char *pd = NULL;
    if ((e = tr_json_opt_string(t, L, "policy_dir", &pd))) return e;
    if (pd) warn(c, "`%s.policy_dir` is ignored: policies live in the storage backend%s", L, NULL);
  }
  if ((e = opt_str_dup(t, L, "issuer_name", DEFAULT_ISSUER, &b->issuer_name)) ||
      (e = opt_str_dup(t, L, "developer_name", DEFAULT_DEVELOPER, &b->developer_name)) ||
      (e = opt_str_dup(t, L, "build_name", DEFAULT_BUILD, &b->build_name)) ||
      (e = opt_str_dup(t, L, "profile_name", DEFAULT_PROFILE, &b->profile_name)))
    return e;
  if (!*b->developer_name || !*b->build_name || !*b->profile_name)
    return tr_err_new(TR_E_INVALID,
                      "field `%s`: developer_name, build_name and profile_name must not be empty", L);
  json_t *s = NULL;
  if (t && (e = tr_json_opt_object(t, L, "signer", &s))) return e;
  if (s) {
    static const char *const keys[] = {"key_path", "cert_path", "cert_url", NULL};
    check_keys(c, s, "attestation_token_broker.signer", keys);
    const char *kp = NULL;
    if ((e = tr_json_get_string(s, "attestation_token_broker.signer", "key_path", &kp))) return e;
    if (!(b->signer.key_path = strdup(kp))) return tr_err_new(TR_E_NOMEM, "out of memory");
    if ((e = opt_str_dup(s, "attestation_token_broker.signer", "cert_path", NULL, &b->signer.cert_path)) ||
        (e = opt_str_dup(s, "attestation_token_broker.signer", "cert_url", NULL, &b->signer.cert_url)))
      return e;
  }
  return NULL;
}

/* verifier_config: upstream's sections (deps/verifier VerifierConfig); each
 * verifier reads its own when first used, so a mistyped section would only
 * surface at the first attestation of that TEE — check the shape here. */
static tr_err *check_verifier_config(tr_as_config *c, const json_t *vc) {
  static const char *const keys[] = {"snp_verifier",    "dcap_verifier",       "tpm_verifier",
                                     "nvidia_verifier", "nvidia_dpu_verifier", NULL};
  check_keys(c, vc, "verifier_config", keys);
  for (const char *const *k = keys; *k; k++) {
    json_t *x = NULL;
    tr_err *e = tr_json_opt_object(vc, "verifier_config", *k, &x);
    if (e) return e;
  }
  return NULL;
}

tr_err *tr_as_config_parse(const json_t *config, tr_as_config *c) {
  memset(c, 0, sizeof(*c));
  c->warnings = json_array();
  c->raw = config ? json_incref((json_t *)config) : json_object();
  if (!c->warnings || !c->raw) return tr_err_new(TR_E_NOMEM, "out of memory");
  tr_err *e = NULL;
  if (!json_is_object(c->raw)) {
    e = tr_err_new(TR_E_INVALID, "config: expected a JSON object, got %s", tr_json_type_name(c->raw));
    goto out;
  }
  static const char *const keys[] = {
      "work_dir",        "policy_engine",   "rvps_config", "attestation_token_broker",
      "verifier_config", "storage_backend", NULL};
  check_keys(c, c->raw, NULL, keys);
  const char *engine = NULL;
  if ((e = opt_str_dup(c->raw, NULL, "work_dir", NULL, &c->work_dir)) ||
      (e = tr_json_opt_string(c->raw, NULL, "policy_engine", &engine)))
    goto out;
  if (engine && strcasecmp(engine, "opa") != 0 && strcasecmp(engine, "rego") != 0) {
    e = tr_err_new(TR_E_INVALID, "field `policy_engine`: unsupported policy engine `%s` (expected `opa`)",
                   engine);
    goto out;
  }
  if ((e = tr_json_opt_object(c->raw, NULL, "verifier_config", &c->verifier_config))) goto out;
  if (c->verifier_config && (e = check_verifier_config(c, c->verifier_config))) goto out;
  if ((e = parse_storage(c, c->raw)) || (e = parse_rvps(c, c->raw)) || (e = parse_broker(c, c->raw)))
    goto out;
  if (!c->storage_type && !(c->storage_type = strdup("Memory"))) e = tr_err_new(TR_E_NOMEM, "out of memory");
out:
  if (e) {
    e = tr_err_wrap(tr_err_recode(e, TR_E_INVALID), "config");
    tr_as_config_clear(c);
  }
  return e;
}

void tr_as_config_clear(tr_as_config *c) {
  free(c->work_dir);
  free(c->storage_type);
  free(c->rvps_address);
  free(c->rvps_storage_type);
  free(c->broker.issuer_name);
  free(c->broker.developer_name);
  free(c->broker.build_name);
  free(c->broker.profile_name);
  free(c->broker.signer.key_path);
  free(c->broker.signer.cert_path);
  free(c->broker.signer.cert_url);
  json_decref(c->warnings);
  json_decref(c->raw);
  memset(c, 0, sizeof(*c));
}
