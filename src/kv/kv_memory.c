/* kv_memory.c — the Memory backend: one chained hash table keyed by
 * (namespace, key) under a single mutex. Values are copied in and out, so no
 * pointer into the table ever escapes the lock. The table doubles when the
 * load factor reaches 1. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "kv/kv_internal.h"

typedef struct entry {
  struct entry *next;
  uint64_t hash;
  char *ns, *key;
  uint8_t *val;
  size_t len;
  int64_t expires_at;
} entry;

typedef struct {
  pthread_mutex_t mu;
  entry **buckets;
  size_t nbuckets, count;
} mem;

static uint64_t hash2(const char *ns, const char *key) {
  uint64_t h = 1469598103934665603ull; /* FNV-1a */
  for (const char *p = ns; *p; p++)
    h = (h ^ (uint8_t)*p) * 1099511628211ull;
  h = (h ^ 0xff) * 1099511628211ull;
  for (const char *p = key; *p; p++)
    h = (h ^ (uint8_t)*p) * 1099511628211ull;
  return h;
}

static tr_err *mem_open(const json_t *config, void **state) {
  (void)config;
  mem *m = calloc(1, sizeof *m);
  if (!m) return tr_err_new(TR_E_NOMEM, "out of memory");
  m->nbuckets = 64;
  m->buckets = calloc(m->nbuckets, sizeof *m->buckets);
  if (!m->buckets) {
    free(m);
    return tr_err_new(TR_E_NOMEM, "out of memory");
  }
  pthread_mutex_init(&m->mu, NULL);
  *state = m;
  return NULL;
}

static void entry_free(entry *e) {
  free(e->ns);
  free(e->key);
  free(e->val);
  free(e);
}

static void mem_close(void *state) {
  mem *m = state;
  for (size_t i = 0; i < m->nbuckets; i++)
    for (entry *e = m->buckets[i], *n; e; e = n) {
      n = e->next;
      entry_free(e);
    }
  free(m->buckets);
  pthread_mutex_destroy(&m->mu);
  free(m);
}

/* Returns the link pointing at the entry (or at the NULL end of its chain). */
static entry **find(mem *m, const char *ns, const char *key, uint64_t h) {
  entry **pp = &m->buckets[h % m->nbuckets];
  for (; *pp; pp = &(*pp)->next)
    if ((*pp)->hash == h && !strcmp((*pp)->ns, ns) && !strcmp((*pp)->key, key)) break;
  return pp;
}

static void grow(mem *m) {
  size_t nb = m->nbuckets * 2;
  entry **b = calloc(nb, sizeof *b);
  if (!b) return; /* keep the longer chains; still correct */
  for (size_t i = 0; i < m->nbuckets; i++)
    for (entry *e = m->buckets[i], *n; e; e = n) {
      n = e->next;
      e->next = b[e->hash % nb];
      b[e->hash % nb] = e;
    }
  free(m->buckets);
  m->buckets = b;
  m->nbuckets = nb;
}

/* Stores val at *pp (replacing or inserting). Caller holds the lock. */
static tr_err *put(mem *m, entry **pp, const char *ns, const char *key, uint64_t h, const void *val,
                   size_t len, int64_t expires_at) {
  uint8_t *copy = malloc(len + 1);
  if (!copy) return tr_err_new(TR_E_NOMEM, "out of memory");
  if (len) memcpy(copy, val, len);
  copy[len] = 0;
  if (*pp) {
    free((*pp)->val);
    (*pp)->val = copy;
    (*pp)->len = len;
    (*pp)->expires_at = expires_at;
    return NULL;
  }
  entry *e = calloc(1, sizeof *e);
  if (!e || !(e->ns = strdup(ns)) || !(e->key = strdup(key))) {
    if (e) {
      free(e->ns);
      free(e);
    }
    free(copy);
    return tr_err_new(TR_E_NOMEM, "out of memory");
  }
  e->hash = h;
  e->val = copy;
  e->len = len;
  e->expires_at = expires_at;
  *pp = e;
  if (++m->count > m->nbuckets) grow(m);
  return NULL;
}

static tr_err *mem_set(void *state, const char *ns, const char *key, const void *val, size_t len,
                       bool overwrite, int64_t expires_at, int64_t now) {
  mem *m = state;
  uint64_t h = hash2(ns, key);
  pthread_mutex_lock(&m->mu);
  entry **pp = find(m, ns, key, h);
  tr_err *e = NULL;
  if (*pp && !overwrite && !tr_kv_expired((*pp)->expires_at, now))
    e = tr_err_new(TR_E_CONFLICT, "key already exists");
  else
    e = put(m, pp, ns, key, h, val, len, expires_at);
  pthread_mutex_unlock(&m->mu);
  return e;
}

static tr_err *mem_get(void *state, const char *ns, const char *key, int64_t now, uint8_t **val,
                       size_t *len) {
  mem *m = state;
  uint64_t h = hash2(ns, key);
  pthread_mutex_lock(&m->mu);
  entry *en = *find(m, ns, key, h);
  tr_err *e;
  if (!en || tr_kv_expired(en->expires_at, now))
    e = tr_err_new(TR_E_NOTFOUND, "not found");
  else
    e = tr_kv_dup_value(en->val, en->len, val, len);
  pthread_mutex_unlock(&m->mu);
  return e;
}

static tr_err *mem_cas(void *state, const char *ns, const char *key, const void *expected, size_t elen,
                       const void *val, size_t len, int64_t expires_at, int64_t now) {
  mem *m = state;
  uint64_t h = hash2(ns, key);
  pthread_mutex_lock(&m->mu);
  entry **pp = find(m, ns, key, h);
  bool present = *pp && !tr_kv_expired((*pp)->expires_at, now);
  bool match = expected ? present && (*pp)->len == elen && !memcmp((*pp)->val, expected, elen) : !present;
  tr_err *e = match ? put(m, pp, ns, key, h, val, len, expires_at)
                    : tr_err_new(TR_E_CONFLICT, "current value differs from the expected one");
  pthread_mutex_unlock(&m->mu);
  return e;
}

static tr_err *mem_del(void *state, const char *ns, const char *key, int64_t now) {
  mem *m = state;
  uint64_t h = hash2(ns, key);
  pthread_mutex_lock(&m->mu);
  entry **pp = find(m, ns, key, h);
  bool found = *pp && !tr_kv_expired((*pp)->expires_at, now);
  if (*pp) {
    entry *e = *pp;
    *pp = e->next;
    entry_free(e);
    m->count--;
  }
  pthread_mutex_unlock(&m->mu);
  return found ? NULL : tr_err_new(TR_E_NOTFOUND, "not found");
}

static tr_err *mem_list(void *state, const char *ns, int64_t now, char ***keys, size_t *nkeys) {
  mem *m = state;
  tr_kv_keylist l = {0};
  bool ok = true;
  pthread_mutex_lock(&m->mu);
  for (size_t i = 0; ok && i < m->nbuckets; i++)
    for (entry *e = m->buckets[i]; ok && e; e = e->next)
      if (!strcmp(e->ns, ns) && !tr_kv_expired(e->expires_at, now))
        ok = tr_kv_keylist_add(&l, e->key, strlen(e->key));
  pthread_mutex_unlock(&m->mu);
  if (!ok) {
    tr_kv_keylist_free(&l);
    return tr_err_new(TR_E_NOMEM, "out of memory");
  }
  tr_kv_keylist_finish(&l, keys, nkeys);
  return NULL;
}

static tr_err *mem_purge(void *state, int64_t now, size_t *removed) {
  mem *m = state;
  size_t n = 0;
  pthread_mutex_lock(&m->mu);
  for (size_t i = 0; i < m->nbuckets; i++)
    for (entry **pp = &m->buckets[i]; *pp;) {
      if (tr_kv_expired((*pp)->expires_at, now)) {
        entry *e = *pp;
        *pp = e->next;
        entry_free(e);
        m->count--;
        n++;
      } else {
        pp = &(*pp)->next;
      }
    }
  pthread_mutex_unlock(&m->mu);
  *removed = n;
  return NULL;
}

const tr_kv_backend tr_kv_memory_backend = {
    .storage_type = "Memory",
    .alias = "memory",
    .open = mem_open,
    .close = mem_close,
    .set = mem_set,
    .get = mem_get,
    .cas = mem_cas,
    .del = mem_del,
    .list = mem_list,
    .purge = mem_purge,
};
