/* kbs_config.c — loader for kbs-config.toml (see kbs_config.h).
 *
 * The document is parsed to JSON by core/toml.c together with a path → line
 * map. Each section is then walked by a small table view (`tbl`) that knows
 * its label ("[http_server]", "[[plugins]] #2") and its path in the line map,
 * so every message can name the key, its section and its line. Known keys
 * are listed per table; anything else becomes a warning (or, inside
 * [admin], an error — upstream denies unknown fields there). */
#include "core/kbs_config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/json.h"
#include "core/toml.h"

/* ---- small helpers --------------------------------------------------------- */

/* snprintf into an array; truncation only shortens a message or a line-map
 * path (which then is not found), never corrupts. */
static void snp(char *buf, size_t len, const char *fmt, ...) TR_PRINTF(3, 4);
static void snp(char *buf, size_t len, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, len, fmt, ap);
  va_end(ap);
}
#define SNP(buf, ...) snp(buf, sizeof(buf), __VA_ARGS__)

static char *xstrdup(const char *s) {
  if (!s) return NULL;
  char *d = strdup(s);
  if (!d) abort(); /* configuration is read at start-up; OOM here is fatal */
  return d;
}

static const char *type_name(const json_t *v) {
  switch (json_typeof(v)) {
  case JSON_OBJECT: return "table";
  case JSON_ARRAY: return "array";
  case JSON_STRING: return "string";
  case JSON_INTEGER: return "integer";
  case JSON_REAL: return "float";
  case JSON_TRUE:
  case JSON_FALSE: return "boolean";
  case JSON_NULL: return "null";
  }
  return "value";
}

typedef struct {
  const char *file;
  json_t *lines;
  tr_kbs_config *cfg;
} ctx;

/* A view of one table: the object, its path in the line map ("" = root) and
 * its label in messages. */
typedef struct {
  ctx *c;
  json_t *obj;
  char path[256];
  char label[128];
  bool deny_unknown;
} tbl;

static void tbl_init(tbl *t, ctx *c, json_t *obj, const char *path, const char *label) {
  memset(t, 0, sizeof *t);
  t->c = c;
  t->obj = obj;
  SNP(t->path, "%s", path);
  SNP(t->label, "%s", label);
}

static void tbl_child(tbl *child, const tbl *parent, json_t *obj, const char *key) {
  tbl_init(child, parent->c, obj, "", "");
  if (parent->path[0])
    SNP(child->path, "%s.%s", parent->path, key);
  else
    SNP(child->path, "%s", key);
  SNP(child->label, "[%s]", child->path);
  child->deny_unknown = parent->deny_unknown;
}

static int line_of(const tbl *t, const char *key) {
  char p[512];
  if (key) {
    if (t->path[0])
      SNP(p, "%s.%s", t->path, key);
    else
      SNP(p, "%s", key);
    int l = tr_toml_line(t->c->lines, p);
    if (l) return l;
  }
  return t->path[0] ? tr_toml_line(t->c->lines, t->path) : 0;
}

/* "file:line: [section] key: <msg>" */
static tr_err *bad(const tbl *t, const char *key, const char *fmt, ...) TR_PRINTF(3, 4);
static tr_err *bad(const tbl *t, const char *key, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  int line = line_of(t, key);
  char where[64] = "";
  if (line) snprintf(where, sizeof where, ":%d", line);
  const char *sep = t->label[0] ? " " : "";
  if (key) return tr_err_new(TR_E_INVALID, "%s%s: %s%s%s: %s", t->c->file, where, t->label, sep, key, msg);
  return tr_err_new(TR_E_INVALID, "%s%s: %s: %s", t->c->file, where, t->label[0] ? t->label : "(top level)",
                    msg);
}

static void warn(ctx *c, const char *fmt, ...) TR_PRINTF(2, 3);
static void warn(ctx *c, const char *fmt, ...) {
  char msg[640];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  tr_kbs_config *cfg = c->cfg;
  char **w = realloc(cfg->warnings, (cfg->nwarnings + 1) * sizeof *w);
  if (!w) abort();
  cfg->warnings = w;
  w[cfg->nwarnings++] = xstrdup(msg);
}

static bool in_list(const char *key, const char *const *known) {
  for (; known && *known; known++)
    if (!strcmp(key, *known)) return true;
  return false;
}

/* Unknown keys: warnings (or errors when deny_unknown). */
static tr_err *check_keys(const tbl *t, const char *const *known) {
  const char *key;
  json_t *v;
  json_object_foreach(t->obj, key, v) {
    if (in_list(key, known)) continue;
    if (t->deny_unknown) return bad(t, key, "unknown key");
    int line = line_of(t, key);
    char where[64] = "";
    if (line) snprintf(where, sizeof where, ":%d", line);
    warn(t->c, "%s%s: %s%sunknown key `%s` (ignored)", t->c->file, where, t->label, t->label[0] ? " " : "",
         key);
  }
  return NULL;
}

/* Getters. Absent (or, for JSON input, null) leaves *out untouched. */
static json_t *field(const tbl *t, const char *key) {
  json_t *v = json_object_get(t->obj, key);
  return json_is_null(v) ? NULL : v;
}

static tr_err *get_str(const tbl *t, const char *key, bool required, char **out) {
  json_t *v = field(t, key);
  if (!v) return required ? bad(t, key, "missing required key (string)") : NULL;
  if (!json_is_string(v)) return bad(t, key, "expected string, got %s", type_name(v));
  free(*out);
  *out = xstrdup(json_string_value(v));
  return NULL;
}

static tr_err *get_bool(const tbl *t, const char *key, bool *out) {
  json_t *v = field(t, key);
  if (!v) return NULL;
  if (!json_is_boolean(v)) return bad(t, key, "expected boolean, got %s", type_name(v));
  *out = json_is_true(v);
  return NULL;
}

static tr_err *get_int(const tbl *t, const char *key, int64_t min, int64_t max, bool *present, int64_t *out) {
  json_t *v = field(t, key);
  if (present) *present = v != NULL;
  if (!v) return NULL;
  if (!json_is_integer(v)) return bad(t, key, "expected integer, got %s", type_name(v));
  int64_t x = json_integer_value(v);
  if (x < min || x > max)
    return bad(t, key, "%lld is out of range (%lld..%lld)", (long long)x, (long long)min, (long long)max);
  *out = x;
  return NULL;
}

static void free_strv(char **v, size_t n) {
  for (size_t i = 0; i < n; i++)
    free(v[i]);
  free(v);
}

static tr_err *get_strv(const tbl *t, const char *key, char ***out, size_t *n) {
  json_t *v = field(t, key);
  if (!v) return NULL;
  if (!json_is_array(v)) return bad(t, key, "expected array of strings, got %s", type_name(v));
  size_t cnt = json_array_size(v);
  char **arr = calloc(cnt ? cnt : 1, sizeof *arr);
  if (!arr) abort();
  for (size_t i = 0; i < cnt; i++) {
    json_t *e = json_array_get(v, i);
    if (!json_is_string(e)) {
      free_strv(arr, i);
      char k[128];
      SNP(k, "%s[%zu]", key, i);
      return bad(t, k, "expected string, got %s", type_name(e));
    }
    arr[i] = xstrdup(json_string_value(e));
  }
  free_strv(*out, *n);
  *out = arr;
  *n = cnt;
  return NULL;
}

/* A sub-table; *out NULL when absent. */
static tr_err *get_table(const tbl *t, const char *key, bool required, json_t **out) {
  json_t *v = field(t, key);
  *out = NULL;
  if (!v) return required ? bad(t, key, "missing required table") : NULL;
  if (!json_is_object(v)) return bad(t, key, "expected table, got %s", type_name(v));
  *out = v;
  return NULL;
}

/* An optional array of tables; *arr NULL when absent. */
static tr_err *get_table_array(const tbl *t, const char *key, json_t **arr) {
  *arr = field(t, key);
  if (*arr && !json_is_array(*arr)) return bad(t, key, "expected array of tables, got %s", type_name(*arr));
  return NULL;
}

/* Element i of such an array as a child view named "<key>[i]". */
static tr_err *table_elem(const tbl *t, json_t *arr, const char *key, size_t i, tbl *out) {
  char name[96];
  SNP(name, "%s[%zu]", key, i);
  json_t *v = json_array_get(arr, i);
  if (!json_is_object(v)) return bad(t, name, "expected table, got %s", type_name(v));
  tbl_child(out, t, v, name);
  return NULL;
}

/* Matches `s` against a NULL-terminated list of {name, alias} pairs; returns
 * the pair index or -1. */
static int match_tag(const char *s, const char *const (*names)[2], size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!strcmp(s, names[i][0]) || (names[i][1] && !strcmp(s, names[i][1]))) return (int)i;
  return -1;
}

static void tag_list(char *buf, size_t len, const char *const (*names)[2], size_t n) {
  size_t off = 0;
  buf[0] = 0;
  for (size_t i = 0; i < n && off < len; i++) {
    off += (size_t)snprintf(buf + off, len - off, "%s`%s`", i ? ", " : "",
                            names[i][1] ? names[i][1] : names[i][0]);
  }
}

static tr_err *get_tag(const tbl *t, const char *key, bool required, const char *const (*names)[2], size_t n,
                       int *out) {
  json_t *v = field(t, key);
  if (!v) return required ? bad(t, key, "missing required key (string)") : NULL;
  if (!json_is_string(v)) return bad(t, key, "expected string, got %s", type_name(v));
  int i = match_tag(json_string_value(v), names, n);
  if (i < 0) {
    char list[256];
    tag_list(list, sizeof list, names, n);
    return bad(t, key, "unknown value `%s` (expected one of %s)", json_string_value(v), list);
  }
  *out = i;
  return NULL;
}

/* ---- [http_server] ------------------------------------------------------- */

static bool valid_socket(const char *s) {
  char host[64];
  const char *port;
  if (s[0] == '[') {
    const char *end = strchr(s, ']');
    if (!end || end[1] != ':' || (size_t)(end - s - 1) >= sizeof host) return false;
    memcpy(host, s + 1, (size_t)(end - s - 1));
    host[end - s - 1] = 0;
    port = end + 2;
    struct in6_addr a6;
    if (inet_pton(AF_INET6, host, &a6) != 1) return false;
  } else {
    const char *colon = strrchr(s, ':');
    if (!colon || (size_t)(colon - s) >= sizeof host) return false;
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = 0;
    port = colon + 1;
    struct in_addr a4;
    if (inet_pton(AF_INET, host, &a4) != 1) return false;
  }
  if (!*port || strlen(port) > 5) return false;
  long p = 0;
  for (const char *q = port; *q; q++) {
    if (*q < '0' || *q > '9') return false;
    p = p * 10 + (*q - '0');
  }
  return p <= 65535;
}

static const char *tls_version_name(tr_tls_version v) { return v == TR_TLS_VERSION_1_2 ? "1.2" : "1.3"; }

static tr_err *load_http(ctx *c, json_t *root, tr_kbs_http_config *h) {
  h->sockets = calloc(1, sizeof *h->sockets);
  if (!h->sockets) abort();
  h->sockets[0] = xstrdup(TR_KBS_DEFAULT_SOCKET);
  h->nsockets = 1;
  h->payload_request_size = TR_KBS_DEFAULT_PAYLOAD_REQUEST_SIZE_MIB;
  h->payload_request_bytes = (uint64_t)h->payload_request_size << 20;

  tbl root_t, t;
  tbl_init(&root_t, c, root, "", "");
  json_t *obj;
  tr_err *e = get_table(&root_t, "http_server", true, &obj);
  if (e) return e;
  tbl_child(&t, &root_t, obj, "http_server");
  static const char *const known[] = {"sockets",     "insecure_http",        "private_key",
                                      "certificate", "payload_request_size", "worker_count",
                                      "tls_profile", "tls_min_version",      "tls_max_version",
                                      "tls_ciphers", "tls_groups",           NULL};
  if ((e = check_keys(&t, known))) return e;
  if ((e = get_strv(&t, "sockets", &h->sockets, &h->nsockets))) return e;
  for (size_t i = 0; i < h->nsockets; i++) {
    if (!valid_socket(h->sockets[i])) {
      char k[64];
      SNP(k, "sockets[%zu]", i);
      return bad(&t, k, "`%s` is not an IP:port socket address (e.g. \"0.0.0.0:8080\", \"[::]:8080\")",
                 h->sockets[i]);
    }
  }
  if ((e = get_bool(&t, "insecure_http", &h->insecure_http))) return e;
  if ((e = get_str(&t, "private_key", false, &h->private_key))) return e;
  if ((e = get_str(&t, "certificate", false, &h->certificate))) return e;
  int64_t x;
  bool present;
  if ((e = get_int(&t, "payload_request_size", 0, UINT32_MAX, &present, &x))) return e;
  if (present) {
    h->payload_request_size = (uint32_t)x;
    h->payload_request_bytes = (uint64_t)x << 20;
  }
  if ((e = get_int(&t, "worker_count", 1, 1 << 16, &present, &x))) return e;
  if (present) h->worker_count = (uint32_t)x;

  static const char *const profiles[][2] = {
      {"intermediate", NULL}, {"old", NULL}, {"modern", NULL}, {"custom", NULL}};
  int i = 0;
  if ((e = get_tag(&t, "tls_profile", false, profiles, 4, &i))) return e;
  h->tls_profile = (tr_tls_profile)i;
  static const char *const versions[][2] = {{"1.2", NULL}, {"1.3", NULL}};
  i = -1;
  if ((e = get_tag(&t, "tls_min_version", false, versions, 2, &i))) return e;
  if (i >= 0) h->tls_min_version = i == 0 ? TR_TLS_VERSION_1_2 : TR_TLS_VERSION_1_3;
  i = -1;
  if ((e = get_tag(&t, "tls_max_version", false, versions, 2, &i))) return e;
  if (i >= 0) h->tls_max_version = i == 0 ? TR_TLS_VERSION_1_2 : TR_TLS_VERSION_1_3;
  if ((e = get_str(&t, "tls_ciphers", false, &h->tls_ciphers))) return e;
  if ((e = get_str(&t, "tls_groups", false, &h->tls_groups))) return e;
  if (h->tls_min_version && h->tls_max_version && h->tls_min_version > h->tls_max_version)
    return bad(&t, "tls_min_version", "tls_min_version (%s) cannot be greater than tls_max_version (%s)",
               tls_version_name(h->tls_min_version), tls_version_name(h->tls_max_version));
  if (h->tls_profile != TR_TLS_PROFILE_CUSTOM &&
      (h->tls_min_version || h->tls_max_version || h->tls_ciphers || h->tls_groups)) {
    int line = line_of(&t, "tls_profile");
    char where[32] = "";
    if (line) snprintf(where, sizeof where, ":%d", line);
    warn(c,
         "%s%s: [http_server] tls_profile is `%s` but custom TLS fields are set; they override the profile",
         c->file, where, profiles[h->tls_profile][0]);
  }
  return NULL;
}

/* ---- [attestation_token] -------------------------------------------------- */

static tr_err *load_token(ctx *c, json_t *root, tr_kbs_token_config *tk) {
  tbl root_t, t;
  tbl_init(&root_t, c, root, "", "");
  json_t *obj;
  tr_err *e = get_table(&root_t, "attestation_token", false, &obj);
  if (e || !obj) return e;
  tbl_child(&t, &root_t, obj, "attestation_token");
  static const char *const known[] = {"trusted_certs_paths", "trusted_jwk_sets", "extra_teekey_paths",
                                      "insecure_header_jwk", NULL};
  if ((e = check_keys(&t, known))) return e;
  if ((e = get_strv(&t, "trusted_certs_paths", &tk->trusted_certs_paths, &tk->ntrusted_certs_paths)))
    return e;
  if ((e = get_strv(&t, "trusted_jwk_sets", &tk->trusted_jwk_sets, &tk->ntrusted_jwk_sets))) return e;
  if ((e = get_strv(&t, "extra_teekey_paths", &tk->extra_teekey_paths, &tk->nextra_teekey_paths))) return e;
  return get_bool(&t, "insecure_header_jwk", &tk->insecure_header_jwk);
}

/* ---- storage type tags ----------------------------------------------------- */

static const char *const kv_names[][2] = {{"Memory", "memory"},    {"LocalJson", "local_json"},
                                          {"LocalFs", "local_fs"}, {"Postgres", "postgres"},
                                          {"Redis", "redis"},      {"Sqlite", "sqlite"}};
#define NKV (sizeof kv_names / sizeof kv_names[0])

const char *tr_kbs_kv_type_name(tr_kbs_kv_type t) { return (unsigned)t < NKV ? kv_names[t][0] : "?"; }

const char *tr_kbs_kv_backend_key(tr_kbs_kv_type t) {
  return (unsigned)t < NKV && t != TR_KBS_KV_MEMORY ? kv_names[t][1] : NULL;
}

/* ---- [attestation_service] ------------------------------------------------ */

static tr_err *load_as(ctx *c, json_t *root, tr_kbs_as_config *as) {
  as->type = TR_KBS_AS_COCO_BUILTIN;
  as->timeout = TR_KBS_DEFAULT_AS_TIMEOUT_MIN;
  as->allow_unmatched_policy = -1;
  tbl root_t, t;
  tbl_init(&root_t, c, root, "", "");
  json_t *obj;
  tr_err *e = get_table(&root_t, "attestation_service", false, &obj);
  if (e) return e;
  as->raw = obj ? json_incref(obj) : json_object();
  if (!as->raw) abort();
  tbl_child(&t, &root_t, as->raw, "attestation_service");

  static const char *const types[][2] = {{"CoCoASBuiltIn", "coco_as_builtin"},
                                         {"CoCoASGrpc", "coco_as_grpc"},
                                         {"IntelTA", "intel_ta"},
                                         {"None", "none"}};
  int ty = 0;
  if ((e = get_tag(&t, "type", false, types, 4, &ty))) return e;
  as->type = (tr_kbs_as_type)ty;
  if ((e = get_int(&t, "timeout", INT64_MIN, INT64_MAX, NULL, &as->timeout))) return e;

  switch (as->type) {
  case TR_KBS_AS_COCO_BUILTIN: {
    static const char *const known[] = {
        "type",         "timeout", "rvps_config", "attestation_token_broker", "verifier_config",
        "storage_type", NULL};
    if ((e = check_keys(&t, known))) return e;
    json_t *sub;
    if ((e = get_table(&t, "rvps_config", false, &sub))) return e;
    if ((e = get_table(&t, "attestation_token_broker", false, &sub))) return e;
    if ((e = get_table(&t, "verifier_config", false, &sub))) return e;
    int kv;
    if ((e = get_tag(&t, "storage_type", false, kv_names, NKV, &kv))) return e;
    as->as_config = json_deep_copy(as->raw);
    if (!as->as_config) abort();
    json_object_del(as->as_config, "type");
    json_object_del(as->as_config, "timeout");
    break;
  }
  case TR_KBS_AS_COCO_GRPC: {
    static const char *const known[] = {"type", "timeout", "as_addr", "pool_size", NULL};
    if ((e = check_keys(&t, known))) return e;
    as->as_addr = xstrdup(TR_KBS_DEFAULT_AS_ADDR);
    as->pool_size = TR_KBS_DEFAULT_AS_POOL_SIZE;
    if ((e = get_str(&t, "as_addr", false, &as->as_addr))) return e;
    int64_t x;
    bool present;
    if ((e = get_int(&t, "pool_size", 0, INT64_MAX, &present, &x))) return e;
    if (present) as->pool_size = (uint64_t)x;
    break;
  }
  case TR_KBS_AS_INTEL_TA: {
    static const char *const known[] = {
        "type", "timeout", "base_url", "api_key", "certs_file", "policy_ids", "allow_unmatched_policy", NULL};
    if ((e = check_keys(&t, known))) return e;
    if ((e = get_str(&t, "base_url", true, &as->base_url))) return e;
    if ((e = get_str(&t, "api_key", true, &as->api_key))) return e;
    if ((e = get_str(&t, "certs_file", true, &as->certs_file))) return e;
    if ((e = get_strv(&t, "policy_ids", &as->policy_ids, &as->npolicy_ids))) return e;
    bool b = false;
    if (field(&t, "allow_unmatched_policy")) {
      if ((e = get_bool(&t, "allow_unmatched_policy", &b))) return e;
      as->allow_unmatched_policy = b ? 1 : 0;
    }
    break;
  }
  case TR_KBS_AS_NONE: {
    static const char *const known[] = {"type", "timeout", NULL};
    if ((e = check_keys(&t, known))) return e;
    break;
  }
  }
  return NULL;
}

/* ---- [admin] ---------------------------------------------------------------- */

static tr_err *load_bearer_jwt(const tbl *auth, json_t *obj, tr_kbs_admin_config *ad) {
  tbl t;
  tbl_child(&t, auth, obj, "bearer_jwt");
  static const char *const known[] = {"identity_providers", NULL};
  tr_err *e = check_keys(&t, known);
  if (e) return e;
  json_t *arr;
  if ((e = get_table_array(&t, "identity_providers", &arr)) || !arr) return e;
  size_t n = json_array_size(arr);
  ad->identity_providers = calloc(n ? n : 1, sizeof *ad->identity_providers);
  if (!ad->identity_providers) abort();
  for (size_t i = 0; i < n; i++) {
    tbl it;
    if ((e = table_elem(&t, arr, "identity_providers", i, &it))) return e;
    static const char *const ikeys[] = {"issuer", "audience", "public_key_uri", "jwk_set_uri", NULL};
    tr_kbs_identity_provider *p = &ad->identity_providers[ad->nidentity_providers++];
    if ((e = check_keys(&it, ikeys))) return e;
    if ((e = get_str(&it, "issuer", false, &p->issuer))) return e;
    if ((e = get_str(&it, "audience", false, &p->audience))) return e;
    if ((e = get_str(&it, "public_key_uri", false, &p->public_key_uri))) return e;
    if ((e = get_str(&it, "jwk_set_uri", false, &p->jwk_set_uri))) return e;
    if (!p->public_key_uri && !p->jwk_set_uri)
      return bad(&it, NULL, "an identity provider needs `public_key_uri` or `jwk_set_uri`");
  }
  return NULL;
}

static tr_err *load_regex_acl(const tbl *authz, json_t *obj, tr_kbs_admin_config *ad) {
  tbl t;
  tbl_child(&t, authz, obj, "regex_acl");
  static const char *const known[] = {"acls", NULL};
  tr_err *e = check_keys(&t, known);
  if (e) return e;
  json_t *arr;
  if ((e = get_table_array(&t, "acls", &arr)) || !arr) return e;
  size_t n = json_array_size(arr);
  ad->acls = calloc(n ? n : 1, sizeof *ad->acls);
  if (!ad->acls) abort();
  for (size_t i = 0; i < n; i++) {
    tbl rt;
    if ((e = table_elem(&t, arr, "acls", i, &rt))) return e;
    static const char *const rkeys[] = {"role", "allowed_endpoints", NULL};
    tr_kbs_acl_rule *rule = &ad->acls[ad->nacls++];
    rule->allowed_endpoints = xstrdup("");
    if ((e = check_keys(&rt, rkeys))) return e;
    if ((e = get_str(&rt, "role", true, &rule->role))) return e;
    if ((e = get_str(&rt, "allowed_endpoints", false, &rule->allowed_endpoints))) return e;
    size_t len = strlen(rule->allowed_endpoints);
    if (strncmp(rule->allowed_endpoints, "^/kbs", 5) || len == 0 || rule->allowed_endpoints[len - 1] != '$')
      return bad(&rt, "allowed_endpoints", "regex `%s` must start with `^/kbs` and end with `$`",
                 rule->allowed_endpoints);
  }
  return NULL;
}

/* Externally tagged enum: a table with exactly one key naming the variant. */
static tr_err *one_variant(const tbl *t, const char *variant, json_t **out) {
  const char *key;
  json_t *v;
  *out = NULL;
  json_object_foreach(t->obj, key, v) {
    if (strcmp(key, variant)) return bad(t, key, "unknown variant (only `%s` exists)", variant);
  }
  json_t *sub = json_object_get(t->obj, variant);
  if (!sub) return bad(t, NULL, "missing `%s` table", variant);
  if (!json_is_object(sub)) return bad(t, variant, "expected table, got %s", type_name(sub));
  *out = sub;
  return NULL;
}

static tr_err *load_admin(ctx *c, json_t *root, tr_kbs_admin_config *ad) {
  tbl root_t, t;
  tbl_init(&root_t, c, root, "", "");
  json_t *obj;
  tr_err *e = get_table(&root_t, "admin", true, &obj);
  if (e) return e;
  tbl_child(&t, &root_t, obj, "admin");
  t.deny_unknown = true;
  static const char *const modes[][2] = {
      {"InsecureAllowAll", NULL}, {"DenyAll", NULL}, {"AuthenticatedAuthorization", NULL}};
  int m = 0;
  if ((e = get_tag(&t, "authorization_mode", true, modes, 3, &m))) return e;
  ad->mode = (tr_admin_mode)m;
  if (ad->mode != TR_ADMIN_AUTHENTICATED) {
    static const char *const known[] = {"authorization_mode", NULL};
    return check_keys(&t, known);
  }
  static const char *const known[] = {"authorization_mode", "authentication", "authorization", NULL};
  if ((e = check_keys(&t, known))) return e;
  json_t *authn, *authz, *sub;
  if ((e = get_table(&t, "authentication", true, &authn))) return e;
  if ((e = get_table(&t, "authorization", true, &authz))) return e;
  tbl tn, tz;
  tbl_child(&tn, &t, authn, "authentication");
  tbl_child(&tz, &t, authz, "authorization");
  if ((e = one_variant(&tn, "bearer_jwt", &sub))) return e;
  if ((e = load_bearer_jwt(&tn, sub, ad))) return e;
  if ((e = one_variant(&tz, "regex_acl", &sub))) return e;
  return load_regex_acl(&tz, sub, ad);
}

/* ---- [storage_backend] ----------------------------------------------------- */

static void set_default(json_t *obj, const char *key, json_t *v) {
  if (!json_object_get(obj, key)) json_object_set(obj, key, v);
  json_decref(v);
}

static tr_err *check_backend(const tbl *backends_t, const char *name, json_t *obj) {
  tbl t;
  tbl_child(&t, backends_t, obj, name);
  tr_err *e = NULL;
  if (!strcmp(name, "local_fs")) {
    static const char *const k[] = {"dir_path", NULL};
    char *s = NULL;
    if (!(e = check_keys(&t, k)) && !(e = get_str(&t, "dir_path", false, &s)))
      set_default(obj, "dir_path", json_string("/opt/confidential-containers/storage/local_fs"));
    free(s);
  } else if (!strcmp(name, "local_json")) {
    static const char *const k[] = {"file_dir_path", NULL};
    char *s = NULL;
    if (!(e = check_keys(&t, k)) && !(e = get_str(&t, "file_dir_path", false, &s)))
      set_default(obj, "file_dir_path", json_string("/opt/confidential-containers/storage/local_json"));
    free(s);
  } else if (!strcmp(name, "postgres")) {
    static const char *const k[] = {"db", "username", "password", "port", "host", NULL};
    char *s = NULL;
    int64_t port;
    if ((e = check_keys(&t, k))) return e;
    if ((e = get_str(&t, "db", false, &s)) || (e = get_str(&t, "username", false, &s)) ||
        (e = get_str(&t, "password", false, &s)) || (e = get_str(&t, "host", false, &s)) ||
        (e = get_int(&t, "port", 0, 65535, NULL, &port))) {
      free(s);
      return e;
    }
    free(s);
    set_default(obj, "db", json_string("postgres"));
    set_default(obj, "username", json_string("postgres"));
    set_default(obj, "port", json_integer(5432));
    set_default(obj, "host", json_string("localhost"));
  } else if (!strcmp(name, "redis")) {
    static const char *const k[] = {"url", NULL};
    char *s = NULL;
    if (!(e = check_keys(&t, k)) && !(e = get_str(&t, "url", false, &s)))
      set_default(obj, "url", json_string("redis://127.0.0.1:6379"));
    free(s);
  }
  /* sqlite (trustee-c): shape owned by the kv module. */
  return e;
}

static tr_err *load_storage(ctx *c, json_t *root, tr_kbs_storage_config *st) {
  tbl root_t, t;
  tbl_init(&root_t, c, root, "", "");
  json_t *obj;
  tr_err *e = get_table(&root_t, "storage_backend", false, &obj);
  if (e) return e;
  json_t *section = obj ? obj : json_object();
  tbl_child(&t, &root_t, section, "storage_backend");
  static const char *const known[] = {"storage_type", "backends", NULL};
  int ty = 0;
  json_t *backends = NULL;
  if ((e = check_keys(&t, known)) || (e = get_tag(&t, "storage_type", false, kv_names, NKV, &ty)) ||
      (e = get_table(&t, "backends", false, &backends))) {
    if (!obj) json_decref(section);
    return e;
  }
  if (!obj) json_decref(section);
  st->storage_type = (tr_kbs_kv_type)ty;
  /* A copy: defaults are filled in below, the document stays as written. */
  st->backends = backends ? json_deep_copy(backends) : json_object();
  if (!st->backends) abort();

  tbl bt;
  tbl_child(&bt, &t, st->backends, "backends");
  static const char *const bknown[] = {"local_fs", "local_json", "postgres", "redis", "sqlite", NULL};
  if ((e = check_keys(&bt, bknown))) return e;
  const char *key;
  json_t *v;
  json_object_foreach(st->backends, key, v) {
    if (!in_list(key, bknown)) continue;
    if (!json_is_object(v)) return bad(&bt, key, "expected table, got %s", type_name(v));
    if ((e = check_backend(&bt, key, v))) return e;
  }

  /* session_storage_type (top level) */
  ty = -1;
  if ((e = get_tag(&root_t, "session_storage_type", false, kv_names, NKV, &ty))) return e;
  st->has_session_storage_type = ty >= 0;
  st->session_storage_type = ty >= 0 ? (tr_kbs_kv_type)ty : st->storage_type;

  const char *bk = tr_kbs_kv_backend_key(st->storage_type);
  if (bk) {
    st->backend = json_object_get(st->backends, bk);
    if (!st->backend)
      return bad(&t, "storage_type", "`%s` needs a [storage_backend.backends.%s] table",
                 tr_kbs_kv_type_name(st->storage_type), bk);
  }
  bk = tr_kbs_kv_backend_key(st->session_storage_type);
  if (bk) {
    st->session_backend = json_object_get(st->backends, bk);
    if (!st->session_backend)
      return bad(&root_t, "session_storage_type", "`%s` needs a [storage_backend.backends.%s] table",
                 tr_kbs_kv_type_name(st->session_storage_type), bk);
  }
  return NULL;
}

/* ---- [[plugins]] ----------------------------------------------------------- */

static const char *const plugin_names[][2] = {
    {"Sample", "sample"}, {"ResourceStorage", "resource"}, {"NebulaCaPlugin", "nebula-ca"},
    {"Pkcs11", "pkcs11"}, {"ExternalPlugin", "external"},  {"Provisioner", "provisioner"}};
#define NPLUGINS (sizeof plugin_names / sizeof plugin_names[0])

static tr_err *check_resource_plugin(const tbl *t) {
  static const char *const types[][2] = {
      {"KvStorage", "kvstorage"}, {"Aliyun", "aliyun"}, {"Aws", "aws"}, {"Gcp", "gcp"}, {"Vault", "vault"}};
  int ty = 0;
  tr_err *e = get_tag(t, "storage_backend_type", true, types, 5, &ty);
  if (e) return e;
  char *s = NULL;
  switch (ty) {
  case 0: {
    static const char *const k[] = {"name", "storage_backend_type", NULL};
    return check_keys(t, k);
  }
  case 1: {
    static const char *const k[] = {
        "name", "storage_backend_type", "client_key", "kms_instance_id", "password", "cert_pem", NULL};
    if ((e = check_keys(t, k))) return e;
    for (int i = 2; i < 6 && !e; i++)
      e = get_str(t, k[i], true, &s);
    break;
  }
  case 2: {
    static const char *const k[] = {"name", "storage_backend_type", "region", "endpoint_url", NULL};
    if ((e = check_keys(t, k))) return e;
    if (!(e = get_str(t, "region", false, &s))) e = get_str(t, "endpoint_url", false, &s);
    break;
  }
  case 3: {
    static const char *const k[] = {"name", "storage_backend_type", "project_id", "endpoint_url", NULL};
    if ((e = check_keys(t, k))) return e;
    if (!(e = get_str(t, "project_id", true, &s))) e = get_str(t, "endpoint_url", false, &s);
    break;
  }
  case 4: {
    static const char *const k[] = {"name",       "storage_backend_type", "vault_url", "token",
                                    "mount_path", "verify_ssl",           "ca_certs",  NULL};
    if ((e = check_keys(t, k))) return e;
    bool b;
    char **v = NULL;
    size_t nv = 0;
    if (!(e = get_str(t, "vault_url", true, &s)) && !(e = get_str(t, "token", true, &s)) &&
        !(e = get_str(t, "mount_path", false, &s)) && !(e = get_bool(t, "verify_ssl", &b)))
      e = get_strv(t, "ca_certs", &v, &nv);
    free_strv(v, nv);
    break;
  }
  }
  free(s);
  return e;
}

static tr_err *check_external_plugin(const tbl *t) {
  static const char *const k[] = {"name", "backends", NULL};
  tr_err *e = check_keys(t, k);
  if (e) return e;
  json_t *arr;
  if ((e = get_table_array(t, "backends", &arr))) return e;
  if (!arr) return bad(t, "backends", "missing required key (array of tables)");
  if (!json_array_size(arr)) return bad(t, "backends", "at least one backend is required");
  for (size_t i = 0; i < json_array_size(arr); i++) {
    tbl bt;
    if ((e = table_elem(t, arr, "backends", i, &bt))) return e;
    SNP(bt.label, "%s backends[%zu]", t->label, i);
    static const char *const bk[] = {"name", "endpoint", "timeout_ms", "ca_cert_path", "tls_mode", NULL};
    char *name = NULL, *endpoint = NULL, *ca = NULL;
    int64_t ms;
    if (!(e = check_keys(&bt, bk)) && !(e = get_str(&bt, "name", true, &name)) &&
        !(e = get_str(&bt, "endpoint", true, &endpoint)) && !(e = get_str(&bt, "ca_cert_path", false, &ca)) &&
        !(e = get_int(&bt, "timeout_ms", 0, INT64_MAX, NULL, &ms))) {
      if (strncmp(endpoint, "http://", 7) && strncmp(endpoint, "https://", 8))
        e = bad(&bt, "endpoint", "`%s` must start with http:// or https://", endpoint);
      else if (!strncmp(endpoint, "https://", 8) && !ca)
        e = bad(&bt, "ca_cert_path", "required for an https:// endpoint");
      for (size_t j = 0; !e && j < i; j++) {
        json_t *prev = json_object_get(json_array_get(arr, j), "name");
        if (json_is_string(prev) && !strcmp(json_string_value(prev), name))
          e = bad(&bt, "name", "duplicate backend name `%s`", name);
      }
    }
    free(name);
    free(endpoint);
    free(ca);
    if (e) return e;
  }
  return NULL;
}

static tr_err *check_plugin(const tbl *t, int which) {
  char *s = NULL;
  tr_err *e = NULL;
  int64_t x;
  switch (which) {
  case 0: { /* sample */
    static const char *const k[] = {"name", "item", NULL};
    if (!(e = check_keys(t, k))) e = get_str(t, "item", true, &s);
    break;
  }
  case 1: return check_resource_plugin(t);
  case 2: { /* nebula-ca */
    static const char *const k[] = {"name", "work_dir", "nebula_cert_bin_path", "ca_config", NULL};
    json_t *sub;
    if (!(e = check_keys(t, k)) && !(e = get_str(t, "work_dir", false, &s)) &&
        !(e = get_str(t, "nebula_cert_bin_path", false, &s)))
      e = get_table(t, "ca_config", false, &sub);
    break;
  }
  case 3: { /* pkcs11 */
    static const char *const k[] = {"name",          "module",       "slot_index", "pin",
                                    "rsa_mechanism", "lookup_label", NULL};
    if (!(e = check_keys(t, k)) && !(e = get_str(t, "module", true, &s)) &&
        !(e = get_int(t, "slot_index", 0, INT64_MAX, NULL, &x)) && !(e = get_str(t, "pin", true, &s)) &&
        !(e = get_str(t, "rsa_mechanism", false, &s)))
      e = get_str(t, "lookup_label", false, &s);
    break;
  }
  case 4: return check_external_plugin(t);
  case 5: { /* provisioner */
    static const char *const k[] = {"name", "key_length", NULL};
    if (!(e = check_keys(t, k))) e = get_int(t, "key_length", 1, 1 << 20, NULL, &x);
    break;
  }
  }
  free(s);
  return e;
}

static tr_err *load_plugins(ctx *c, json_t *root, tr_kbs_config *cfg) {
  tbl root_t;
  tbl_init(&root_t, c, root, "", "");
  json_t *arr = field(&root_t, "plugins");
  if (!arr) return NULL;
  if (!json_is_array(arr))
    return bad(&root_t, "plugins", "expected array of tables ([[plugins]]), got %s", type_name(arr));
  size_t n = json_array_size(arr);
  cfg->plugins = calloc(n ? n : 1, sizeof *cfg->plugins);
  if (!cfg->plugins) abort();
  for (size_t i = 0; i < n; i++) {
    json_t *p = json_array_get(arr, i);
    char key[32];
    SNP(key, "plugins[%zu]", i);
    tbl t;
    tbl_child(&t, &root_t, p, key);
    SNP(t.label, "[[plugins]] #%zu", i + 1);
    if (!json_is_object(p)) return bad(&root_t, key, "expected table, got %s", type_name(p));
    int which;
    tr_err *e = get_tag(&t, "name", true, plugin_names, NPLUGINS, &which);
    if (e) return e;
    SNP(t.label, "[[plugins]] #%zu (%s)", i + 1, plugin_names[which][1]);
    if ((e = check_plugin(&t, which))) return e;
    tr_kbs_plugin_config *pc = &cfg->plugins[cfg->nplugins++];
    pc->name = xstrdup(plugin_names[which][1]);
    pc->config = json_deep_copy(p);
    if (!pc->config) abort();
    json_object_del(pc->config, "name");
    pc->line = tr_toml_line(c->lines, key);
  }
  return NULL;
}

/* ---- top level ---------------------------------------------------------------- */

static tr_err *load_all(ctx *c, json_t *root) {
  tr_kbs_config *cfg = c->cfg;
  tbl root_t;
  tbl_init(&root_t, c, root, "", "");
  static const char *const known[] = {"http_server",
                                      "admin",
                                      "attestation_token",
                                      "attestation_service",
                                      "storage_backend",
                                      "session_storage_type",
                                      "plugins",
                                      "policy_engine",
                                      NULL};
  tr_err *e = check_keys(&root_t, known);
  json_t *pe;
  if (!e) e = get_table(&root_t, "policy_engine", false, &pe);
  if (!e && pe) {
    tbl t;
    tbl_child(&t, &root_t, pe, "policy_engine");
    static const char *const pk[] = {"policy_path", NULL};
    cfg->policy_engine_policy_path = xstrdup("/opt/confidential-containers/kbs/policy.rego");
    if (!(e = check_keys(&t, pk))) e = get_str(&t, "policy_path", false, &cfg->policy_engine_policy_path);
  }
  if (!e) e = load_http(c, root, &cfg->http_server);
  if (!e) e = load_token(c, root, &cfg->attestation_token);
  if (!e) e = load_as(c, root, &cfg->attestation_service);
  if (!e) e = load_admin(c, root, &cfg->admin);
  if (!e) e = load_storage(c, root, &cfg->storage);
  if (!e) e = load_plugins(c, root, cfg);
  return e;
}

static tr_err *parse_doc(json_t *root, json_t *lines, const char *file_name, tr_kbs_config **out) {
  tr_kbs_config *cfg = calloc(1, sizeof *cfg);
  if (!cfg) abort();
  cfg->path = xstrdup(file_name ? file_name : "<string>");
  cfg->document = root;
  ctx c = {.file = cfg->path, .lines = lines, .cfg = cfg};
  tr_err *e = json_is_object(root) ? load_all(&c, root)
                                   : tr_err_new(TR_E_INVALID, "%s: top level must be a table", cfg->path);
  json_decref(lines);
  if (e) {
    tr_kbs_config_free(cfg);
    return e;
  }
  *out = cfg;
  return NULL;
}

tr_err *tr_kbs_config_parse(const char *toml_text, const char *file_name, tr_kbs_config **out) {
  *out = NULL;
  json_t *root, *lines;
  const char *name = file_name ? file_name : "<string>";
  tr_err *e = tr_toml_parse(toml_text, strlen(toml_text), name, &root, &lines);
  if (e) return e;
  return parse_doc(root, lines, name, out);
}

tr_err *tr_kbs_config_load(const char *path, tr_kbs_config **out) {
  *out = NULL;
  uint8_t *data;
  size_t len;
  tr_err *e = tr_read_file(path, 16u << 20, &data, &len);
  if (e) return tr_err_wrap(e, "kbs config");
  size_t plen = strlen(path);
  if (plen > 5 && !strcasecmp(path + plen - 5, ".json")) {
    json_t *root;
    e = tr_json_parse((const char *)data, len, &root);
    free(data);
    if (e) return tr_err_wrap(e, "%s", path);
    return parse_doc(root, NULL, path, out);
  }
  if (memchr(data, 0, len)) {
    free(data);
    return tr_err_new(TR_E_INVALID, "%s: contains a NUL byte", path);
  }
  e = tr_kbs_config_parse((const char *)data, path, out);
  free(data);
  return e;
}

void tr_kbs_config_free(tr_kbs_config *cfg) {
  if (!cfg) return;
  tr_kbs_http_config *h = &cfg->http_server;
  free_strv(h->sockets, h->nsockets);
  free(h->private_key);
  free(h->certificate);
  free(h->tls_ciphers);
  free(h->tls_groups);
  tr_kbs_token_config *tk = &cfg->attestation_token;
  free_strv(tk->trusted_certs_paths, tk->ntrusted_certs_paths);
  free_strv(tk->trusted_jwk_sets, tk->ntrusted_jwk_sets);
  free_strv(tk->extra_teekey_paths, tk->nextra_teekey_paths);
  tr_kbs_as_config *as = &cfg->attestation_service;
  json_decref(as->raw);
  json_decref(as->as_config);
  free(as->as_addr);
  free(as->base_url);
  free(as->api_key);
  free(as->certs_file);
  free_strv(as->policy_ids, as->npolicy_ids);
  tr_kbs_admin_config *ad = &cfg->admin;
  for (size_t i = 0; i < ad->nidentity_providers; i++) {
    free(ad->identity_providers[i].issuer);
    free(ad->identity_providers[i].audience);
    free(ad->identity_providers[i].public_key_uri);
    free(ad->identity_providers[i].jwk_set_uri);
  }
  free(ad->identity_providers);
  for (size_t i = 0; i < ad->nacls; i++) {
    free(ad->acls[i].role);
    free(ad->acls[i].allowed_endpoints);
  }
  free(ad->acls);
  json_decref(cfg->storage.backends);
  for (size_t i = 0; i < cfg->nplugins; i++) {
    free(cfg->plugins[i].name);
    json_decref(cfg->plugins[i].config);
  }
  free(cfg->plugins);
  free_strv(cfg->warnings, cfg->nwarnings);
  free(cfg->policy_engine_policy_path);
  json_decref(cfg->document);
  free(cfg->path);
  free(cfg);
}
