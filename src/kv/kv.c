/* kv.c — backend table, validation, expiry arithmetic and the helpers the
 * backends share. Every public call validates the namespace and key here so
 * that no backend ever sees a name that could escape its directory or its
 * SQL quoting. */
#include "kv/kv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/json.h"
#include "kv/kv_internal.h"

static const tr_kv_backend *const backends[] = {
    &tr_kv_memory_backend, &tr_kv_localfs_backend,  &tr_kv_localjson_backend,
    &tr_kv_sqlite_backend, &tr_kv_postgres_backend, &tr_kv_redis_backend,
};

struct tr_kv {
  const tr_kv_backend *be;
  void *state;
  int64_t (*now)(void *ctx);
  void *now_ctx;
};

static const tr_kv_backend *find_backend(const char *type) {
  for (size_t i = 0; i < sizeof backends / sizeof backends[0]; i++)
    if (!strcmp(type, backends[i]->storage_type) || !strcmp(type, backends[i]->alias)) return backends[i];
  return NULL;
}

static tr_err *unknown_type(const char *type) {
  return tr_err_new(
      TR_E_INVALID,
      "unknown storage_type `%s` (expected Memory, LocalFs, LocalJson, Sqlite, Postgres or Redis)", type);
}

tr_err *tr_kv_open(const char *storage_type, const json_t *backend_config, tr_kv **out) {
  *out = NULL;
  if (!storage_type) storage_type = "Memory";
  const tr_kv_backend *be = find_backend(storage_type);
  if (!be) return unknown_type(storage_type);
  if (backend_config && !json_is_object(backend_config))
    return tr_err_new(TR_E_INVALID, "%s storage configuration: expected object, got %s", be->storage_type,
                      tr_json_type_name(backend_config));
  tr_kv *kv = calloc(1, sizeof *kv);
  if (!kv) return tr_err_new(TR_E_NOMEM, "out of memory");
  kv->be = be;
  tr_err *e = be->open(backend_config, &kv->state);
  if (e) {
    free(kv);
    return tr_err_wrap(e, "%s storage", be->storage_type);
  }
  *out = kv;
  return NULL;
}

tr_err *tr_kv_open_storage_backend(const json_t *sb, const char *type_override, tr_kv **out) {
  *out = NULL;
  const char *type = "Memory";
  if (sb && !json_is_object(sb))
    return tr_err_new(TR_E_INVALID, "storage_backend: expected object, got %s", tr_json_type_name(sb));
  if (sb) {
    tr_err *e = tr_json_opt_string(sb, "storage_backend", "storage_type", &type);
    if (e) return e;
  }
  if (type_override) type = type_override;
  const tr_kv_backend *be = find_backend(type);
  if (!be) return tr_err_wrap(unknown_type(type), "storage_backend");
  json_t *cfg = NULL;
  if (be != &tr_kv_memory_backend) {
    json_t *backends_obj = NULL;
    tr_err *e = sb ? tr_json_opt_object(sb, "storage_backend", "backends", &backends_obj) : NULL;
    if (e) return e;
    if (backends_obj) {
      e = tr_json_opt_object(backends_obj, "storage_backend.backends", be->alias, &cfg);
      if (e) return e;
    }
    if (!cfg)
      return tr_err_new(TR_E_INVALID,
                        "storage_backend: %s configuration is required (storage_backend.backends.%s)",
                        be->storage_type, be->alias);
  }
  return tr_kv_open(be->storage_type, cfg, out);
}

void tr_kv_close(tr_kv *kv) {
  if (!kv) return;
  kv->be->close(kv->state);
  free(kv);
}

const char *tr_kv_storage_type(const tr_kv *kv) { return kv->be->storage_type; }

void tr_kv_set_clock(tr_kv *kv, int64_t (*now)(void *ctx), void *ctx) {
  kv->now = now;
  kv->now_ctx = ctx;
}

bool tr_kv_server_clock(const tr_kv *kv) { return kv->be->server_clock; }

static int64_t kv_now(const tr_kv *kv) { return kv->now ? kv->now(kv->now_ctx) : (int64_t)time(NULL); }

static bool key_char(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
         c == '.' || c == '/';
}

tr_err *tr_kv_check_key(const char *key) {
  if (!key || !*key) return tr_err_new(TR_E_INVALID, "invalid key: empty");
  size_t n = strlen(key);
  if (n > TR_KV_MAX_KEY) return tr_err_new(TR_E_INVALID, "invalid key: longer than %d bytes", TR_KV_MAX_KEY);
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)key[i];
    if (!key_char(c) && c != ':')
      return tr_err_new(TR_E_INVALID,
                        "invalid key `%.64s`: character 0x%02x at offset %zu (allowed: ASCII letters, "
                        "digits, '-', '_', '.', '/', ':')",
                        key, c, i);
  }
  if (!strcmp(key, ".") || !strcmp(key, ".."))
    return tr_err_new(TR_E_INVALID, "invalid key `%s`: reserved name", key);
  return NULL;
}

tr_err *tr_kv_check_namespace(const char *ns) {
  if (!ns || !*ns) return tr_err_new(TR_E_INVALID, "invalid namespace: empty");
  size_t n = strlen(ns);
  if (n > 255) return tr_err_new(TR_E_INVALID, "invalid namespace: longer than 255 bytes");
  for (size_t i = 0; i < n; i++)
    if (!key_char((unsigned char)ns[i]))
      return tr_err_new(TR_E_INVALID, "invalid namespace `%.64s`: character 0x%02x at offset %zu", ns,
                        (unsigned char)ns[i], i);
  const char *seg = ns;
  for (;;) {
    const char *slash = strchr(seg, '/');
    size_t len = slash ? (size_t)(slash - seg) : strlen(seg);
    if (len == 0) return tr_err_new(TR_E_INVALID, "invalid namespace `%s`: empty segment", ns);
    if (seg[0] == '.')
      return tr_err_new(TR_E_INVALID, "invalid namespace `%s`: a segment starts with '.'", ns);
    /* LocalJson keeps "<ns>.lock" and "<ns>.tmp.XXXXXX" beside each
     * namespace file; reserved everywhere so that names stay portable. */
    if ((len >= 5 && !memcmp(seg + len - 5, ".lock", 5)) || memmem(seg, len, ".tmp.", 5))
      return tr_err_new(TR_E_INVALID,
                        "invalid namespace `%s`: segments ending in \".lock\" or containing \".tmp.\" are "
                        "reserved",
                        ns);
    if (!slash) break;
    seg = slash + 1;
  }
  return NULL;
}

static tr_err *check(const char *ns, const char *key) {
  tr_err *e = tr_kv_check_namespace(ns);
  if (!e && key) e = tr_kv_check_key(key);
  return e;
}

static tr_err *expiry(const tr_kv *kv, int64_t ttl, int64_t *expires_at) {
  if (ttl < 0) return tr_err_new(TR_E_INVALID, "negative ttl %lld", (long long)ttl);
  if (ttl > (int64_t)100 * 365 * 86400) return tr_err_new(TR_E_INVALID, "ttl %lld too large", (long long)ttl);
  *expires_at = ttl ? kv_now(kv) + ttl : 0;
  return NULL;
}

tr_err *tr_kv_set(tr_kv *kv, const char *ns, const char *key, const void *val, size_t len, bool overwrite,
                  int64_t ttl_seconds) {
  tr_err *e = check(ns, key);
  int64_t exp = 0;
  if (!e) e = expiry(kv, ttl_seconds, &exp);
  if (!e && !val && len) e = tr_err_new(TR_E_INVALID, "NULL value with non-zero length");
  if (!e) e = kv->be->set(kv->state, ns, key, val ? val : "", len, overwrite, exp, kv_now(kv));
  return e ? tr_err_wrap(e, "set %s/%s", ns ? ns : "", key ? key : "") : NULL;
}

tr_err *tr_kv_get(tr_kv *kv, const char *ns, const char *key, uint8_t **val, size_t *len) {
  *val = NULL;
  *len = 0;
  tr_err *e = check(ns, key);
  if (!e) e = kv->be->get(kv->state, ns, key, kv_now(kv), val, len);
  return e ? tr_err_wrap(e, "get %s/%s", ns ? ns : "", key ? key : "") : NULL;
}

tr_err *tr_kv_cas(tr_kv *kv, const char *ns, const char *key, const void *expected, size_t expected_len,
                  const void *val, size_t len, int64_t ttl_seconds) {
  tr_err *e = check(ns, key);
  int64_t exp = 0;
  if (!e) e = expiry(kv, ttl_seconds, &exp);
  if (!e && !val && len) e = tr_err_new(TR_E_INVALID, "NULL value with non-zero length");
  if (!e)
    e = kv->be->cas(kv->state, ns, key, expected, expected ? expected_len : 0, val ? val : "", len, exp,
                    kv_now(kv));
  return e ? tr_err_wrap(e, "compare-and-set %s/%s", ns ? ns : "", key ? key : "") : NULL;
}

tr_err *tr_kv_delete(tr_kv *kv, const char *ns, const char *key) {
  tr_err *e = check(ns, key);
  if (!e) e = kv->be->del(kv->state, ns, key, kv_now(kv));
  return e ? tr_err_wrap(e, "delete %s/%s", ns ? ns : "", key ? key : "") : NULL;
}

tr_err *tr_kv_list(tr_kv *kv, const char *ns, char ***keys, size_t *nkeys) {
  *keys = NULL;
  *nkeys = 0;
  tr_err *e = check(ns, NULL);
  if (!e) e = kv->be->list(kv->state, ns, kv_now(kv), keys, nkeys);
  return e ? tr_err_wrap(e, "list %s", ns ? ns : "") : NULL;
}

void tr_kv_keys_free(char **keys, size_t nkeys) {
  if (!keys) return;
  for (size_t i = 0; i < nkeys; i++)
    free(keys[i]);
  free(keys);
}

tr_err *tr_kv_purge_expired(tr_kv *kv, size_t *removed) {
  size_t n = 0;
  tr_err *e = kv->be->purge(kv->state, kv_now(kv), &n);
  if (removed) *removed = n;
  return e ? tr_err_wrap(e, "purge expired") : NULL;
}

/* ---- helpers shared by the backends ------------------------------------ */

bool tr_kv_keylist_add(tr_kv_keylist *l, const char *key, size_t len) {
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 16;
    char **v = realloc(l->v, cap * sizeof *v);
    if (!v) return false;
    l->v = v;
    l->cap = cap;
  }
  char *k = malloc(len + 1);
  if (!k) return false;
  memcpy(k, key, len);
  k[len] = 0;
  l->v[l->n++] = k;
  return true;
}

static int cmp_keys(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

void tr_kv_keylist_finish(tr_kv_keylist *l, char ***keys, size_t *nkeys) {
  if (l->n > 1) qsort(l->v, l->n, sizeof *l->v, cmp_keys);
  *keys = l->v;
  *nkeys = l->n;
  l->v = NULL;
  l->n = l->cap = 0;
}

void tr_kv_keylist_free(tr_kv_keylist *l) {
  tr_kv_keys_free(l->v, l->n);
  l->v = NULL;
  l->n = l->cap = 0;
}

uint8_t *tr_kv_env_encode(const void *val, size_t len, int64_t expires_at, size_t *out_len) {
  bool wrap =
      expires_at > 0 || (len >= TR_KV_ENV_MAGIC_LEN && !memcmp(val, TR_KV_ENV_MAGIC, TR_KV_ENV_MAGIC_LEN));
  size_t n = len + (wrap ? TR_KV_ENV_HDR : 0);
  uint8_t *out = malloc(n + 1);
  if (!out) return NULL;
  uint8_t *p = out;
  if (wrap) {
    memcpy(p, TR_KV_ENV_MAGIC, TR_KV_ENV_MAGIC_LEN);
    uint64_t x = (uint64_t)(expires_at > 0 ? expires_at : 0);
    for (int i = 0; i < 8; i++)
      p[TR_KV_ENV_MAGIC_LEN + i] = (uint8_t)(x >> (56 - 8 * i));
    p += TR_KV_ENV_HDR;
  }
  if (len) memcpy(p, val, len);
  out[n] = 0;
  *out_len = n;
  return out;
}

void tr_kv_env_decode(const uint8_t *data, size_t len, const uint8_t **val, size_t *vlen,
                      int64_t *expires_at) {
  *expires_at = 0;
  if (len >= TR_KV_ENV_HDR && !memcmp(data, TR_KV_ENV_MAGIC, TR_KV_ENV_MAGIC_LEN)) {
    uint64_t x = 0;
    for (int i = 0; i < 8; i++)
      x = (x << 8) | data[TR_KV_ENV_MAGIC_LEN + i];
    *expires_at = x > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)x;
    *val = data + TR_KV_ENV_HDR;
    *vlen = len - TR_KV_ENV_HDR;
    return;
  }
  *val = data;
  *vlen = len;
}

bool tr_kv_cas_match(bool present, const uint8_t *stored, size_t stored_len, const void *expected,
                     size_t elen) {
  if (!expected) return !present;
  if (!present || !stored) return false;
  const uint8_t *v;
  size_t vlen;
  int64_t exp;
  tr_kv_env_decode(stored, stored_len, &v, &vlen, &exp);
  return vlen == elen && (elen == 0 || !memcmp(v, expected, elen));
}

tr_err *tr_kv_dup_value(const void *val, size_t len, uint8_t **out, size_t *out_len) {
  uint8_t *p = malloc(len + 1);
  if (!p) return tr_err_new(TR_E_NOMEM, "out of memory");
  if (len) memcpy(p, val, len);
  p[len] = 0;
  *out = p;
  *out_len = len;
  return NULL;
}

tr_err *tr_kv_cfg_string(const json_t *cfg, const char *name, const char **out) {
  if (!cfg) return NULL;
  return tr_json_opt_string(cfg, NULL, name, out);
}

tr_err *tr_kv_cfg_int(const json_t *cfg, const char *name, int64_t *out) {
  if (!cfg) return NULL;
  return tr_json_opt_int(cfg, NULL, name, out);
}

tr_err *tr_kv_mkdirs(const char *path) {
  char *p = strdup(path);
  if (!p) return tr_err_new(TR_E_NOMEM, "out of memory");
  size_t n = strlen(p);
  while (n > 1 && p[n - 1] == '/')
    p[--n] = 0;
  for (char *s = p + 1;; s++) {
    bool end = !*s;
    if (*s == '/' || end) {
      char saved = *s;
      *s = 0;
      if (mkdir(p, 0700) != 0 && errno != EEXIST) {
        tr_err *e = tr_err_new(TR_E_IO, "cannot create directory %s: %s", p, strerror(errno));
        free(p);
        return e;
      }
      *s = saved;
    }
    if (end) break;
  }
  struct stat st;
  if (stat(p, &st) != 0 || !S_ISDIR(st.st_mode)) {
    tr_err *e = tr_err_new(TR_E_IO, "%s is not a directory", p);
    free(p);
    return e;
  }
  free(p);
  return NULL;
}

tr_err *tr_kv_pool_init(tr_kv_pool *p, size_t n) {
  memset(p, 0, sizeof *p);
  p->conn = calloc(n, sizeof *p->conn);
  p->busy = calloc(n, sizeof *p->busy);
  if (!p->conn || !p->busy) {
    free(p->conn);
    free(p->busy);
    return tr_err_new(TR_E_NOMEM, "out of memory");
  }
  p->n = n;
  pthread_mutex_init(&p->mu, NULL);
  pthread_cond_init(&p->cv, NULL);
  return NULL;
}

size_t tr_kv_pool_acquire(tr_kv_pool *p, void **conn) {
  pthread_mutex_lock(&p->mu);
  for (;;) {
    /* prefer a slot with a live connection */
    size_t pick = p->n;
    for (size_t i = 0; i < p->n; i++)
      if (!p->busy[i] && (pick == p->n || (p->conn[i] && !p->conn[pick]))) pick = i;
    if (pick < p->n) {
      p->busy[pick] = true;
      *conn = p->conn[pick];
      pthread_mutex_unlock(&p->mu);
      return pick;
    }
    pthread_cond_wait(&p->cv, &p->mu);
  }
}

void tr_kv_pool_release(tr_kv_pool *p, size_t slot, void *conn) {
  pthread_mutex_lock(&p->mu);
  p->conn[slot] = conn;
  p->busy[slot] = false;
  pthread_cond_signal(&p->cv);
  pthread_mutex_unlock(&p->mu);
}

void tr_kv_pool_destroy(tr_kv_pool *p, void (*close_fn)(void *conn)) {
  for (size_t i = 0; i < p->n; i++)
    if (p->conn[i]) close_fn(p->conn[i]);
  free(p->conn);
  free(p->busy);
  pthread_mutex_destroy(&p->mu);
  pthread_cond_destroy(&p->cv);
}
