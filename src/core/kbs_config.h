/* kbs_config.h — upstream's kbs-config.toml as a typed C struct.
 *
 * Shapes, names and defaults follow upstream Trustee kbs/src/config.rs (and the
 * structs it embeds); docs/configuration.md lists every key. Loading:
 *
 *   - TOML (any file) or JSON (file name ending in ".json") is read;
 *   - a missing required key or a wrong type is an error naming the key, its
 *     section and its line, e.g.
 *       kbs-config.toml:7: [http_server] insecure_http: expected boolean, got string
 *   - an unknown key is NOT an error (upstream ignores unknown top-level keys
 *     and operators' files carry keys of other versions): it is recorded in
 *     `warnings` with the same naming, and the caller logs them.
 *     (Exception, as upstream: inside [admin] unknown keys are errors, since
 *     upstream denies them there and a typo must not weaken admin auth.)
 *
 * trustee-c addition: `[attestation_service] type = "none"` makes the KBS
 * resource-only ("passport mode"): no attestation service, /auth and /attest
 * answer an error, resources are released only against an attestation token
 * from elsewhere (verified with [attestation_token]).
 *
 * Ownership: everything hangs off the tr_kbs_config and is freed by
 * tr_kbs_config_free. json_t pointers are borrowed references into the
 * config (json_incref them to keep them longer). Strings are never NULL
 * unless documented "NULL = absent". */
#ifndef TRUSTEE_CORE_KBS_CONFIG_H
#define TRUSTEE_CORE_KBS_CONFIG_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

/* ---- [http_server] ------------------------------------------------------ */

#define TR_KBS_DEFAULT_SOCKET "127.0.0.1:8080"
#define TR_KBS_DEFAULT_PAYLOAD_REQUEST_SIZE_MIB 2u

typedef enum {
  TR_TLS_PROFILE_INTERMEDIATE = 0, /* default (Mozilla intermediate v5) */
  TR_TLS_PROFILE_OLD,              /* min TLS 1.2 */
  TR_TLS_PROFILE_MODERN,           /* min TLS 1.3 */
  TR_TLS_PROFILE_CUSTOM,
} tr_tls_profile;

typedef enum { TR_TLS_VERSION_UNSET = 0, TR_TLS_VERSION_1_2, TR_TLS_VERSION_1_3 } tr_tls_version;

typedef struct {
  char **sockets; /* "IP:port" (IPv6 as "[::1]:8080"); default {"127.0.0.1:8080"} */
  size_t nsockets;
  bool insecure_http;             /* default false */
  char *private_key;              /* NULL = absent (required when !insecure_http; checked at start) */
  char *certificate;              /* NULL = absent */
  uint32_t payload_request_size;  /* MiB, default 2 */
  uint64_t payload_request_bytes; /* payload_request_size * 1024 * 1024 */
  uint32_t worker_count;          /* 0 = absent (upstream: number of CPUs) */
  tr_tls_profile tls_profile;     /* `tls_profile`, default intermediate */
  tr_tls_version tls_min_version; /* `tls_min_version` "1.2"/"1.3"; min > max is a load error */
  tr_tls_version tls_max_version;
  char *tls_ciphers; /* NULL = absent; OpenSSL cipher list / TLS 1.3 suites */
  char *tls_groups;  /* NULL = absent; colon-separated groups */
} tr_kbs_http_config;

/* ---- [attestation_token] ------------------------------------------------- */

typedef struct {
  char **trusted_certs_paths; /* PEM files */
  size_t ntrusted_certs_paths;
  char **trusted_jwk_sets; /* file:// or https:// JWKS / OpenID configuration URLs */
  size_t ntrusted_jwk_sets;
  char **extra_teekey_paths; /* JSON pointers into token claims, e.g. "/attester_runtime_data/tee-pubkey" */
  size_t nextra_teekey_paths;
  bool insecure_header_jwk; /* default false */
} tr_kbs_token_config;

/* ---- [attestation_service] ----------------------------------------------- */

typedef enum {
  TR_KBS_AS_COCO_BUILTIN = 0, /* "coco_as_builtin" / "CoCoASBuiltIn" (default when the section is absent) */
  TR_KBS_AS_COCO_GRPC,        /* "coco_as_grpc" / "CoCoASGrpc" */
  TR_KBS_AS_INTEL_TA,         /* "intel_ta" / "IntelTA" */
  TR_KBS_AS_NONE,             /* trustee-c: "none" — resource-only (passport) KBS */
} tr_kbs_as_type;

#define TR_KBS_DEFAULT_AS_TIMEOUT_MIN 5
#define TR_KBS_DEFAULT_AS_ADDR "http://127.0.0.1:50004"
#define TR_KBS_DEFAULT_AS_POOL_SIZE 100

typedef struct {
  tr_kbs_as_type type;
  int64_t timeout; /* minutes: session lifetime; default 5 */
  /* The whole section as written (including `type` and `timeout`), never
   * NULL (empty object when absent). */
  json_t *raw;
  /* coco_as_builtin: the section minus `type`/`timeout`, i.e. the AS-config
   * shaped object the AS library takes (rvps_config, attestation_token_broker,
   * verifier_config, storage_type). NULL for other types. */
  json_t *as_config;
  /* coco_as_grpc */
  char *as_addr;      /* default "http://127.0.0.1:50004" */
  uint64_t pool_size; /* default 100 */
  /* intel_ta (base_url, api_key, certs_file required) */
  char *base_url;
  char *api_key;
  char *certs_file;
  char **policy_ids; /* default empty */
  size_t npolicy_ids;
  int allow_unmatched_policy; /* -1 = absent, 0 = false, 1 = true */
} tr_kbs_as_config;

/* ---- [admin] ------------------------------------------------------------- */

typedef enum {
  TR_ADMIN_INSECURE_ALLOW_ALL = 0, /* "InsecureAllowAll" */
  TR_ADMIN_DENY_ALL,               /* "DenyAll" */
  TR_ADMIN_AUTHENTICATED,          /* "AuthenticatedAuthorization" */
} tr_admin_mode;

typedef struct {
  char *issuer;         /* NULL = absent (not checked) */
  char *audience;       /* NULL = absent */
  char *public_key_uri; /* NULL = absent; at least one of the two URIs required */
  char *jwk_set_uri;    /* NULL = absent */
} tr_kbs_identity_provider;

typedef struct {
  char *role;
  char *allowed_endpoints; /* regex; default "" (upstream then rejects it at start: must be ^/kbs...$) */
} tr_kbs_acl_rule;

typedef struct {
  tr_admin_mode mode; /* `authorization_mode`, required */
  /* AuthenticatedAuthorization only: [admin.authentication.bearer_jwt] and
   * [admin.authorization.regex_acl] (both tables required; their lists may
   * be empty at load time — an empty identity_providers is rejected when the
   * KBS starts, as upstream). */
  tr_kbs_identity_provider *identity_providers;
  size_t nidentity_providers;
  tr_kbs_acl_rule *acls;
  size_t nacls;
} tr_kbs_admin_config;

/* ---- [storage_backend] / session_storage_type ---------------------------- */

typedef enum {
  TR_KBS_KV_MEMORY = 0, /* "Memory" / "memory" (default) */
  TR_KBS_KV_LOCAL_JSON, /* "LocalJson" / "local_json" */
  TR_KBS_KV_LOCAL_FS,   /* "LocalFs" / "local_fs" */
  TR_KBS_KV_POSTGRES,   /* "Postgres" / "postgres" */
  TR_KBS_KV_REDIS,      /* "Redis" / "redis" */
  TR_KBS_KV_SQLITE,     /* trustee-c: "Sqlite" / "sqlite" */
} tr_kbs_kv_type;

/* Canonical upstream spelling ("Memory", "LocalFs", ...) — what tr_kv_open takes. */
const char *tr_kbs_kv_type_name(tr_kbs_kv_type t);
/* Key of the type's table under [storage_backend.backends] ("local_fs", ...;
 * NULL for Memory). */
const char *tr_kbs_kv_backend_key(tr_kbs_kv_type t);

typedef struct {
  tr_kbs_kv_type storage_type; /* default Memory */
  json_t *backends;            /* [storage_backend.backends], never NULL (may be empty) */
  /* backends[backend_key(storage_type)], borrowed; NULL for Memory. A
   * non-memory type without its table is a load error (upstream: "...
   * configuration is required" at start-up). */
  json_t *backend;
  bool has_session_storage_type;       /* top-level `session_storage_type` present */
  tr_kbs_kv_type session_storage_type; /* = storage_type when absent */
  json_t *session_backend;             /* its table (borrowed), NULL for Memory */
} tr_kbs_storage_config;

/* ---- [[plugins]] --------------------------------------------------------- */

typedef struct {
  /* URL segment, canonical lower-case: "resource", "sample", "nebula-ca",
   * "pkcs11", "external", "provisioner" (upstream's variant names such as
   * "ResourceStorage" are mapped). Unknown names are a load error, as upstream. */
  char *name;
  json_t *config; /* the table minus `name` (borrowed) */
  int line;       /* line of the [[plugins]] header, 0 if unknown */
} tr_kbs_plugin_config;

/* ---- the whole file ------------------------------------------------------ */

typedef struct {
  char *path; /* file name as given (for messages); "<string>" when parsed from text without a name */
  tr_kbs_http_config http_server;
  tr_kbs_token_config attestation_token;
  tr_kbs_as_config attestation_service;
  tr_kbs_admin_config admin;
  tr_kbs_storage_config storage;
  tr_kbs_plugin_config *plugins; /* in file order; a later entry with the same name replaces an earlier
                                    one at registration (upstream), both are kept here */
  size_t nplugins;
  json_t *document; /* the whole file as JSON */
  /* Unknown keys, one message each: "kbs-config.toml:12: [http_server] unknown key `foo` (ignored)". */
  char **warnings;
  size_t nwarnings;
  /* Legacy [policy_engine] (upstream before the policy moved into the KV
   * store, default path then "/opt/confidential-containers/kbs/policy.rego"):
   * the file holding the resource policy. NULL = section absent. */
  char *policy_engine_policy_path;
} tr_kbs_config;

/* Reads and parses a config file (TOML, or JSON when the name ends in
 * ".json"). Errors: TR_E_NOTFOUND / TR_E_IO (missing / unreadable), TR_E_INVALID (syntax, type,
 * missing key). *out is owned by the caller. */
tr_err *tr_kbs_config_load(const char *path, tr_kbs_config **out);
/* Parses TOML text; file_name (may be NULL) is used only in messages. */
tr_err *tr_kbs_config_parse(const char *toml_text, const char *file_name, tr_kbs_config **out);
void tr_kbs_config_free(tr_kbs_config *cfg);

#endif
