/* kv.h — the key-value store under sessions, policies, resources and
 * reference values. Backends (one file each, see docs/storage.md):
 *   Memory     process memory (default, lost on restart)
 *   LocalFs    one file per key: <dir_path>/<namespace>/<key, '/' -> "\x2F">
 *              (upstream's layout, raw value bytes)
 *   LocalJson  one JSON object per namespace: <file_dir_path>/<namespace>
 *              (upstream's layout, key -> base64url-padded value), or one
 *              file for all namespaces with `file_path`
 *   Sqlite     one table (ns, key, value, expires_at), WAL
 *   Postgres   one table per namespace as upstream (key, value) plus an
 *              expires_at column; shared by replicas
 *   Redis      key "<namespace>:<key>", SET NX / PXAT; shared by replicas
 * selected by upstream's `storage_type` names (and lowercase aliases).
 *
 * Keys are grouped in namespaces (upstream: "attestation_service_policy",
 * "reference_value", "kbs_protocol_session", "repository", "kbs", ...). A
 * store is shared by all threads; every backend is internally synchronised,
 * writes are atomic (a reader sees the old or the new value, never a mix) and
 * durable before the call returns (except Memory). LocalFs, LocalJson and
 * Sqlite also synchronise between processes sharing the same files.
 *
 * Expiry: an entry set with ttl_seconds > 0 behaves as absent once its
 * expiry time has passed (get/list/cas/overwrite=false all treat it so);
 * tr_kv_purge_expired reclaims the space. */
#ifndef TRUSTEE_KV_KV_H
#define TRUSTEE_KV_KV_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

typedef struct tr_kv tr_kv;

/* Creates a store: storage_type is "Memory", "LocalFs", "LocalJson",
 * "Sqlite", "Postgres", "Redis" (or "memory", "local_fs", "local_json",
 * "sqlite", "postgres", "redis"); backend_config is that backend's object
 * (e.g. {"dir_path": "..."} or {"file_dir_path": "..."}), may be NULL for
 * the backend's defaults. Config keys per backend are in docs/storage.md;
 * unknown keys are ignored (as upstream), a wrong type is an error naming
 * the key. */
tr_err *tr_kv_open(const char *storage_type, const json_t *backend_config, tr_kv **out);

/* Creates a store from upstream's `storage_backend` object:
 *   {"storage_type": "LocalFs", "backends": {"local_fs": {"dir_path": ..}}}
 * Missing storage_type = Memory. For a non-memory type the matching
 * `backends.<snake_name>` object must be present (upstream: "... configuration
 * is required"). `type_override` (may be NULL) replaces storage_type (the
 * KBS's `session_storage_type`, the AS's `rvps_config.storage_type`). */
tr_err *tr_kv_open_storage_backend(const json_t *storage_backend, const char *type_override, tr_kv **out);

void tr_kv_close(tr_kv *kv);

/* The canonical storage type name of an open store ("LocalFs", ...). */
const char *tr_kv_storage_type(const tr_kv *kv);

/* Validates a key: non-empty, at most TR_KV_MAX_KEY bytes, characters
 * ASCII alphanumerics, '-', '_', '.', '/' (upstream's rule; '/' is stored
 * as "\x2F" by LocalFs) and ':' (our extension so that RV-URI ids such as
 * "rvps:///a/b:v1" can be stored by every backend); not "." or "..". */
#define TR_KV_MAX_KEY 1024
tr_err *tr_kv_check_key(const char *key);
/* Validates a namespace: non-empty, characters as keys minus ':', no
 * leading/trailing '/', no empty, "." or ".." segment, no segment starting
 * with '.', ending in ".lock" or containing ".tmp." (those names are
 * reserved for the backends' own files). */
tr_err *tr_kv_check_namespace(const char *ns);

/* Set: when overwrite is false and the key exists (unexpired),
 * TR_E_CONFLICT. ttl_seconds > 0 makes the entry expire (sessions); 0 =
 * never; negative is TR_E_INVALID. */
tr_err *tr_kv_set(tr_kv *kv, const char *ns, const char *key, const void *val, size_t len, bool overwrite,
                  int64_t ttl_seconds);
/* Get: TR_E_NOTFOUND when absent or expired. *val is owned by the caller
 * (NUL-terminated, the terminator not counted in *len). */
tr_err *tr_kv_get(tr_kv *kv, const char *ns, const char *key, uint8_t **val, size_t *len);
/* Compare-and-set: replaces the value only if the current (unexpired) value
 * equals expected/expected_len; expected == NULL means "only if absent".
 * TR_E_CONFLICT when the current value differs (re-read and retry). */
tr_err *tr_kv_cas(tr_kv *kv, const char *ns, const char *key, const void *expected, size_t expected_len,
                  const void *val, size_t len, int64_t ttl_seconds);
/* Delete: TR_E_NOTFOUND when absent (or already expired; the expired entry
 * is removed all the same). */
tr_err *tr_kv_delete(tr_kv *kv, const char *ns, const char *key);
/* Lists unexpired keys of a namespace, sorted by byte value. Free with
 * tr_kv_keys_free. An unknown namespace lists as empty. */
tr_err *tr_kv_list(tr_kv *kv, const char *ns, char ***keys, size_t *nkeys);
void tr_kv_keys_free(char **keys, size_t nkeys);
/* Removes expired entries; returns how many (removed may be NULL). */
tr_err *tr_kv_purge_expired(tr_kv *kv, size_t *removed);

/* Test hook: the clock used for expiry (unix seconds). NULL restores
 * time(). Backends with server-side expiry (Redis) also keep their own. */
void tr_kv_set_clock(tr_kv *kv, int64_t (*now)(void *ctx), void *ctx);
/* True when expiry is enforced by the server's clock (tr_kv_set_clock has
 * no effect on it): Redis. */
bool tr_kv_server_clock(const tr_kv *kv);

/* Backend interface (one file per backend, registered in kv.c's table).
 * Namespaces and keys are validated before a backend sees them. `now` is
 * the current time (unix seconds) for expiry decisions; expires_at is 0 for
 * "never". */
typedef struct {
  const char *storage_type; /* canonical name, e.g. "LocalFs" */
  const char *alias;        /* upstream's snake_case alias and backends.<x> name */
  bool server_clock;
  tr_err *(*open)(const json_t *config, void **state);
  void (*close)(void *state);
  tr_err *(*set)(void *state, const char *ns, const char *key, const void *val, size_t len, bool overwrite,
                 int64_t expires_at, int64_t now);
  tr_err *(*get)(void *state, const char *ns, const char *key, int64_t now, uint8_t **val, size_t *len);
  tr_err *(*cas)(void *state, const char *ns, const char *key, const void *expected, size_t expected_len,
                 const void *val, size_t len, int64_t expires_at, int64_t now);
  tr_err *(*del)(void *state, const char *ns, const char *key, int64_t now);
  tr_err *(*list)(void *state, const char *ns, int64_t now, char ***keys, size_t *nkeys);
  tr_err *(*purge)(void *state, int64_t now, size_t *removed);
} tr_kv_backend;

#endif
