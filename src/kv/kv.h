/* kv.h — the key-value store under sessions, policies, resources and
 * reference values. Backends: Memory, LocalFs (one file per key under
 * <dir>/<namespace>/), LocalJson (one JSON file per namespace), Sqlite, and
 * later Postgres/Redis for replicas — selected by upstream's
 * `storage_type` names.
 *
 * Keys are grouped in namespaces (upstream: "attestation_service_policy",
 * "reference_value", "kbs_session", "repository", ...). A store is shared by
 * all threads; every backend is internally synchronised, writes are atomic
 * (a reader sees the old or the new value, never a mix) and durable before
 * the call returns (except Memory). */
#ifndef TRUSTEE_KV_KV_H
#define TRUSTEE_KV_KV_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

typedef struct tr_kv tr_kv;

/* Creates a store from upstream-shaped config: storage_type is "Memory",
 * "LocalFs", "LocalJson", "Sqlite", "Postgres", "Redis"; backend_config is
 * that backend's object (e.g. {"dir_path": "..."} or {"file_path": "..."}),
 * may be NULL for defaults. */
tr_err *tr_kv_open(const char *storage_type, const json_t *backend_config, tr_kv **out);
void tr_kv_close(tr_kv *kv);

/* Validates a key by upstream's rule for the namespace kind (ASCII
 * alphanumerics, '-', '_', '.'; non-empty; no ".."). */
tr_err *tr_kv_check_key(const char *key);

/* Set: when overwrite is false and the key exists, TR_E_CONFLICT.
 * ttl_seconds > 0 makes the entry expire (sessions); 0 = never. */
tr_err *tr_kv_set(tr_kv *kv, const char *ns, const char *key, const void *val, size_t len, bool overwrite,
                  int64_t ttl_seconds);
/* Get: TR_E_NOTFOUND when absent or expired. *val is owned by the caller
 * (NUL-terminated). */
tr_err *tr_kv_get(tr_kv *kv, const char *ns, const char *key, uint8_t **val, size_t *len);
/* Delete: TR_E_NOTFOUND when absent. */
tr_err *tr_kv_delete(tr_kv *kv, const char *ns, const char *key);
/* Lists keys of a namespace (sorted). Free with tr_kv_keys_free. */
tr_err *tr_kv_list(tr_kv *kv, const char *ns, char ***keys, size_t *nkeys);
void tr_kv_keys_free(char **keys, size_t nkeys);
/* Removes expired entries; returns how many. */
tr_err *tr_kv_purge_expired(tr_kv *kv, size_t *removed);

/* Backend interface (one file per backend, registered in kv.c's table). */
typedef struct {
  const char *storage_type;
  tr_err *(*open)(const json_t *config, void **state);
  void (*close)(void *state);
  tr_err *(*set)(void *state, const char *ns, const char *key, const void *val, size_t len, bool overwrite,
                 int64_t expires_at);
  tr_err *(*get)(void *state, const char *ns, const char *key, uint8_t **val, size_t *len);
  tr_err *(*del)(void *state, const char *ns, const char *key);
  tr_err *(*list)(void *state, const char *ns, char ***keys, size_t *nkeys);
  tr_err *(*purge)(void *state, int64_t now, size_t *removed);
} tr_kv_backend;

#endif
