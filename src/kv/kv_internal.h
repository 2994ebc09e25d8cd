/* kv_internal.h — helpers shared by the kv backends (private to src/kv). */
#ifndef TRUSTEE_KV_KV_INTERNAL_H
#define TRUSTEE_KV_KV_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "kv/kv.h"

extern const tr_kv_backend tr_kv_memory_backend;
extern const tr_kv_backend tr_kv_localfs_backend;
extern const tr_kv_backend tr_kv_localjson_backend;
extern const tr_kv_backend tr_kv_sqlite_backend;
extern const tr_kv_backend tr_kv_postgres_backend;
extern const tr_kv_backend tr_kv_redis_backend;

/* A growable list of keys. */
typedef struct {
  char **v;
  size_t n, cap;
} tr_kv_keylist;

bool tr_kv_keylist_add(tr_kv_keylist *l, const char *key, size_t len);
/* Sorts by byte value and hands the array to the caller (NULL-safe). */
void tr_kv_keylist_finish(tr_kv_keylist *l, char ***keys, size_t *nkeys);
void tr_kv_keylist_free(tr_kv_keylist *l);

/* Expiry envelope used by the file backends (LocalFs, LocalJson), whose
 * upstream layout stores raw value bytes with no room for metadata: a value
 * that expires, or whose bytes happen to begin with the magic, is stored as
 *   "\0TRKV1\0" + expires_at as 8 bytes big-endian + value
 * Every other value is stored raw, exactly as upstream does. */
#define TR_KV_ENV_MAGIC "\0TRKV1\0"
#define TR_KV_ENV_MAGIC_LEN 7
#define TR_KV_ENV_HDR 15
/* Encodes into a new buffer (caller frees). NULL on OOM. */
uint8_t *tr_kv_env_encode(const void *val, size_t len, int64_t expires_at, size_t *out_len);
/* Splits stored bytes: *val points into `data`, *expires_at 0 when none. */
void tr_kv_env_decode(const uint8_t *data, size_t len, const uint8_t **val, size_t *vlen,
                      int64_t *expires_at);
static inline bool tr_kv_expired(int64_t expires_at, int64_t now) {
  return expires_at > 0 && expires_at <= now;
}

/* Compare-and-set decision on stored bytes (envelope included): expected
 * NULL means "must be absent"; otherwise the live value must equal it. */
bool tr_kv_cas_match(bool present, const uint8_t *stored, size_t stored_len, const void *expected,
                     size_t elen);

/* Copies bytes into a new NUL-terminated buffer. */
tr_err *tr_kv_dup_value(const void *val, size_t len, uint8_t **out, size_t *out_len);

/* Config helpers: optional string / int members with errors naming the key. */
tr_err *tr_kv_cfg_string(const json_t *cfg, const char *name, const char **out);
tr_err *tr_kv_cfg_int(const json_t *cfg, const char *name, int64_t *out);

/* A fixed-size pool of connections for the server backends: each slot holds
 * one connection (created lazily by the backend); a thread acquires a slot
 * for one operation and releases it. Blocks while all slots are in use. */
typedef struct {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  void **conn;
  bool *busy;
  size_t n;
} tr_kv_pool;

tr_err *tr_kv_pool_init(tr_kv_pool *p, size_t n);
/* Returns the slot index; *conn is that slot's connection (NULL if none yet;
 * the backend stores a new one with tr_kv_pool_put). */
size_t tr_kv_pool_acquire(tr_kv_pool *p, void **conn);
void tr_kv_pool_release(tr_kv_pool *p, size_t slot, void *conn);
/* Calls close_fn on every connection and frees the pool. */
void tr_kv_pool_destroy(tr_kv_pool *p, void (*close_fn)(void *conn));

/* mkdir -p (mode 0700 for new directories). */
tr_err *tr_kv_mkdirs(const char *path);

#endif
