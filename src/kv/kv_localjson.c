/* kv_localjson.c — the LocalJson backend: JSON objects rewritten whole.
 *
 * Two layouts:
 *   file_dir_path (upstream's): one file per namespace, <file_dir_path>/<ns>
 *       (no suffix), content {"<key>": "<base64url, padded, of the value>"}
 *   file_path (one file for everything, as the documented RVPS config):
 *       {"<ns>": {"<key>": "<base64url>"}}; a legacy RVPS LocalJson file (a
 *       JSON array of reference values) is read as namespace
 *       "reference_value" and rewritten in this shape on the next write.
 * Values that expire carry the expiry envelope of kv_internal.h inside the
 * base64.
 *
 * Every write takes an exclusive flock() on "<file>.lock" (threads and
 * processes alike), re-reads the file, changes it and replaces it atomically
 * (temp file, fsync, rename, fsync dir): read-modify-write never loses an
 * update and a crash leaves the old or the new file. Readers take no lock;
 * they use a parsed copy cached per file and revalidated by (inode, size,
 * mtime). That identity alone is not enough: ext4 gives a freed inode number
 * to the next new file, and timestamps may be coarse (jiffies, or 1 s on
 * some filesystems), so two rewrites of equal size could bring back the
 * cached identity. As git does for "racily clean" index entries, a copy is
 * only trusted when the file's mtime was at least 2 s older than the moment
 * we read it: any later replacement then necessarily has a newer mtime.
 * Files written in the last 2 s are simply re-read. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/encoding.h"
#include "core/json.h"
#include "kv/kv_internal.h"

#define DEFAULT_DIR "/opt/confidential-containers/storage/local_json"

typedef struct cached {
  struct cached *next;
  char *path;
  struct stat st;
  bool trusted; /* see current_root */
  json_t *root;
} cached;

typedef struct {
  char *dir;    /* per-namespace layout, or NULL */
  char *single; /* single-file layout, or NULL */
  pthread_mutex_t mu;
  cached *cache;
} ljs;

static tr_err *file_for(ljs *s, const char *ns, char **out) {
  int r = s->single ? asprintf(out, "%s", s->single) : asprintf(out, "%s/%s", s->dir, ns);
  return r < 0 ? tr_err_new(TR_E_NOMEM, "out of memory") : NULL;
}

/* Converts a legacy RVPS LocalJson array [{name,...}, ...] into
 * {"reference_value": {name: b64url(json(rv))}}. */
static tr_err *convert_legacy(json_t *arr, json_t **out) {
  json_t *ns = json_object(), *root = json_object();
  size_t i;
  json_t *rv;
  tr_err *e = NULL;
  json_array_foreach(arr, i, rv) {
    const char *name = json_string_value(json_object_get(rv, "name"));
    if (!name || tr_kv_check_key(name)) {
      e = tr_err_new(TR_E_INVALID, "legacy reference value file: element %zu has no valid `name`", i);
      break;
    }
    char *text = tr_json_dump_compact(rv);
    char *b64 = text ? tr_b64_encode(text, strlen(text), TR_B64_URL) : NULL;
    free(text);
    if (!b64 || json_object_set_new(ns, name, json_string(b64))) e = tr_err_new(TR_E_NOMEM, "out of memory");
    free(b64);
    if (e) break;
  }
  if (!e && json_object_set_new(root, "reference_value", ns))
    e = tr_err_new(TR_E_NOMEM, "out of memory");
  else if (e)
    json_decref(ns);
  if (e) {
    json_decref(root);
    return e;
  }
  *out = root;
  return NULL;
}

/* Loads a file (absent = {}). *root is a new reference; *st filled (zeroed
 * when absent). */
static tr_err *load_file(ljs *s, const char *path, json_t **root, struct stat *st) {
  memset(st, 0, sizeof *st);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno != ENOENT) return tr_err_new(TR_E_IO, "%s: %s", path, strerror(errno));
    *root = json_object();
    return *root ? NULL : tr_err_new(TR_E_NOMEM, "out of memory");
  }
  fstat(fd, st);
  tr_buf b = TR_BUF_INIT;
  uint8_t chunk[16384];
  tr_err *e = NULL;
  for (;;) {
    ssize_t r = read(fd, chunk, sizeof chunk);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      e = tr_err_new(TR_E_IO, "read %s: %s", path, strerror(errno));
      break;
    }
    if (r == 0) break;
    if (!tr_buf_append(&b, chunk, (size_t)r)) {
      e = tr_err_new(TR_E_NOMEM, "out of memory");
      break;
    }
  }
  close(fd);
  json_t *v = NULL;
  if (!e && b.len == 0)
    v = json_object(); /* created empty by someone: treat as {} */
  else if (!e)
    e = tr_json_parse((const char *)b.data, b.len, &v);
  tr_buf_free(&b);
  if (e) return tr_err_wrap(e, "%s", path);
  if (s->single && json_is_array(v)) {
    json_t *conv = NULL;
    e = convert_legacy(v, &conv);
    json_decref(v);
    if (e) return tr_err_wrap(e, "%s", path);
    v = conv;
  }
  if (!json_is_object(v)) {
    e = tr_err_new(TR_E_INVALID, "%s: expected a JSON object, got %s", path, tr_json_type_name(v));
    json_decref(v);
    return e;
  }
  *root = v;
  return NULL;
}

static bool same_file(const struct stat *a, const struct stat *b) {
  return a->st_ino == b->st_ino && a->st_dev == b->st_dev && a->st_size == b->st_size &&
         a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* The current parsed content of a file, from the cache when unchanged.
 * Returns a new reference (the caller may not modify it). */
static tr_err *current_root(ljs *s, const char *path, json_t **root) {
  struct stat st;
  bool exists = stat(path, &st) == 0;
  pthread_mutex_lock(&s->mu);
  cached *c = s->cache;
  while (c && strcmp(c->path, path))
    c = c->next;
  if (c && c->trusted && exists && same_file(&c->st, &st)) {
    *root = json_incref(c->root);
    pthread_mutex_unlock(&s->mu);
    return NULL;
  }
  pthread_mutex_unlock(&s->mu);
  json_t *r;
  time_t load_start = time(NULL);
  tr_err *e = load_file(s, path, &r, &st);
  if (e) return e;
  if (st.st_ino) {
    pthread_mutex_lock(&s->mu);
    c = s->cache;
    while (c && strcmp(c->path, path))
      c = c->next;
    if (!c && (c = calloc(1, sizeof *c)) && !(c->path = strdup(path))) {
      free(c);
      c = NULL;
    } else if (c && !c->root) {
      c->next = s->cache;
      s->cache = c;
    }
    if (c) {
      json_decref(c->root);
      c->root = json_incref(r);
      c->st = st;
      c->trusted = (int64_t)st.st_mtim.tv_sec + 2 <= (int64_t)load_start;
    }
    pthread_mutex_unlock(&s->mu);
  }
  *root = r;
  return NULL;
}

static tr_err *lj_open(const json_t *config, void **state) {
  const char *dir = NULL, *single = NULL;
  tr_err *e;
  if ((e = tr_kv_cfg_string(config, "file_dir_path", &dir)) ||
      (e = tr_kv_cfg_string(config, "file_path", &single)))
    return e;
  if (!dir && !single) dir = DEFAULT_DIR;
  if (single) dir = NULL;
  if ((dir && !*dir) || (single && !*single))
    return tr_err_new(TR_E_INVALID, "field `%s`: empty", single ? "file_path" : "file_dir_path");
  ljs *s = calloc(1, sizeof *s);
  if (!s) return tr_err_new(TR_E_NOMEM, "out of memory");
  s->dir = dir ? strdup(dir) : NULL;
  s->single = single ? strdup(single) : NULL;
  if (!s->dir && !s->single) e = tr_err_new(TR_E_NOMEM, "out of memory");
  if (!e && s->dir) e = tr_kv_mkdirs(s->dir);
  if (!e && s->single) {
    char *parent = strdup(s->single);
    char *slash = parent ? strrchr(parent, '/') : NULL;
    if (slash && slash != parent) {
      *slash = 0;
      e = tr_kv_mkdirs(parent);
    }
    free(parent);
    json_t *probe;
    struct stat st;
    if (!e) e = load_file(s, s->single, &probe, &st); /* fail early on a corrupt file */
    if (!e) json_decref(probe);
  }
  if (e) {
    free(s->dir);
    free(s->single);
    free(s);
    return e;
  }
  pthread_mutex_init(&s->mu, NULL);
  *state = s;
  return NULL;
}

static void lj_close(void *state) {
  ljs *s = state;
  for (cached *c = s->cache, *n; c; c = n) {
    n = c->next;
    json_decref(c->root);
    free(c->path);
    free(c);
  }
  pthread_mutex_destroy(&s->mu);
  free(s->dir);
  free(s->single);
  free(s);
}

/* The object holding a namespace's keys inside root (borrowed; NULL when
 * absent and !create). */
static json_t *ns_object(ljs *s, json_t *root, const char *ns, bool create) {
  if (!s->single) return root;
  json_t *o = json_object_get(root, ns);
  if (json_is_object(o) || !create) return json_is_object(o) ? o : NULL;
  o = json_object();
  if (json_object_set_new(root, ns, o)) return NULL;
  return o;
}

/* Decodes an entry; *present false when absent or expired. */
static tr_err *decode_entry(json_t *nsobj, const char *key, int64_t now, uint8_t **raw, size_t *rawlen,
                            bool *present) {
  *present = false;
  *raw = NULL;
  json_t *v = nsobj ? json_object_get(nsobj, key) : NULL;
  if (!v) return NULL;
  if (!json_is_string(v)) return tr_err_new(TR_E_INVALID, "stored value of `%s` is not a string", key);
  tr_err *e =
      tr_b64_decode(json_string_value(v), json_string_length(v), TR_B64_URL | TR_B64_LAX_PAD, raw, rawlen);
  if (e) return tr_err_wrap(e, "stored value of `%s`", key);
  const uint8_t *val;
  size_t vlen;
  int64_t exp;
  tr_kv_env_decode(*raw, *rawlen, &val, &vlen, &exp);
  *present = !tr_kv_expired(exp, now);
  return NULL;
}

/* Removes expired entries of one namespace object; true when any was. */
static bool purge_object(json_t *o, int64_t now, size_t *removed) {
  bool changed = false;
  const char *k;
  json_t *v;
  void *tmp;
  json_object_foreach_safe(o, tmp, k, v) {
    uint8_t *raw;
    size_t rl;
    bool present;
    tr_err *e = decode_entry(o, k, now, &raw, &rl, &present);
    if (!e && !present && raw) {
      json_object_del(o, k);
      (*removed)++;
      changed = true;
    }
    tr_err_free(e);
    free(raw);
  }
  return changed;
}

typedef struct {
  /* in */
  const char *ns, *key;
  const void *val;
  size_t len;
  int64_t expires_at, now;
  enum { OP_SET, OP_CAS, OP_DEL, OP_PURGE } op;
  bool overwrite;
  const void *expected;
  size_t elen;
  /* out */
  size_t removed;
} mutation;

/* Applies m to root; returns an error to abort without writing. *changed
 * tells whether the file must be rewritten. */
static tr_err *apply(ljs *s, json_t *root, mutation *m, bool *changed) {
  *changed = false;
  if (m->op == OP_PURGE) {
    if (!s->single) {
      *changed = purge_object(root, m->now, &m->removed);
      return NULL;
    }
    const char *nsname;
    json_t *o;
    json_object_foreach(root, nsname, o) {
      if (json_is_object(o) && purge_object(o, m->now, &m->removed)) *changed = true;
    }
    return NULL;
  }
  json_t *o = ns_object(s, root, m->ns, m->op != OP_DEL);
  if (!o && m->op != OP_DEL) return tr_err_new(TR_E_NOMEM, "out of memory");
  uint8_t *raw;
  size_t rl;
  bool present;
  tr_err *e = decode_entry(o, m->key, m->now, &raw, &rl, &present);
  if (e) {
    /* an undecodable entry counts as present for set(overwrite=false) and
     * cas, and may be overwritten or deleted */
    tr_err_free(e);
    raw = NULL;
    present = true;
  }
  bool existed = o && json_object_get(o, m->key);
  if (m->op == OP_DEL) {
    free(raw);
    if (existed) {
      json_object_del(o, m->key);
      if (s->single && json_object_size(o) == 0) json_object_del(root, m->ns);
      *changed = true;
    }
    return present ? NULL : tr_err_new(TR_E_NOTFOUND, "not found");
  }
  if (m->op == OP_SET && !m->overwrite && present) e = tr_err_new(TR_E_CONFLICT, "key already exists");
  if (m->op == OP_CAS && !tr_kv_cas_match(present && raw, raw, rl, m->expected, m->elen))
    e = tr_err_new(TR_E_CONFLICT, "current value differs from the expected one");
  free(raw);
  if (e) return e;
  size_t n;
  uint8_t *enc = tr_kv_env_encode(m->val, m->len, m->expires_at, &n);
  char *b64 = enc ? tr_b64_encode(enc, n, TR_B64_URL) : NULL;
  free(enc);
  if (!b64 || json_object_set_new(o, m->key, json_string(b64))) e = tr_err_new(TR_E_NOMEM, "out of memory");
  free(b64);
  *changed = !e;
  return e;
}

static tr_err *mutate_file(ljs *s, const char *path, mutation *m) {
  char *lockpath = NULL;
  if (asprintf(&lockpath, "%s.lock", path) < 0) return tr_err_new(TR_E_NOMEM, "out of memory");
  if (!s->single) {
    char *parent = strdup(path);
    char *slash = parent ? strrchr(parent, '/') : NULL;
    tr_err *e = NULL;
    if (slash) {
      *slash = 0;
      e = tr_kv_mkdirs(parent);
    }
    free(parent);
    if (e) {
      free(lockpath);
      return e;
    }
  }
  int lk = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lk < 0) {
    tr_err *e = tr_err_new(TR_E_IO, "%s: %s", lockpath, strerror(errno));
    free(lockpath);
    return e;
  }
  while (flock(lk, LOCK_EX) != 0) {
    if (errno == EINTR) continue;
    /* never read-modify-write without the lock: that loses updates */
    tr_err *e = tr_err_new(TR_E_IO, "lock %s: %s", lockpath, strerror(errno));
    close(lk);
    free(lockpath);
    return e;
  }
  free(lockpath);
  json_t *root = NULL;
  struct stat st;
  tr_err *e = load_file(s, path, &root, &st);
  bool changed = false;
  if (!e) e = apply(s, root, m, &changed);
  if (changed) {
    char *text = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS);
    tr_err *we =
        text ? tr_write_file_atomic(path, text, strlen(text), 0600) : tr_err_new(TR_E_NOMEM, "out of memory");
    free(text);
    if (we) {
      tr_err_free(e);
      e = we;
    }
  }
  json_decref(root);
  close(lk);
  return e;
}

static tr_err *mutate(ljs *s, mutation *m) {
  char *path;
  tr_err *e = file_for(s, m->ns, &path);
  if (e) return e;
  e = mutate_file(s, path, m);
  free(path);
  return e;
}

static tr_err *lj_set(void *state, const char *ns, const char *key, const void *val, size_t len,
                      bool overwrite, int64_t expires_at, int64_t now) {
  mutation m = {.ns = ns,
                .key = key,
                .val = val,
                .len = len,
                .expires_at = expires_at,
                .now = now,
                .op = OP_SET,
                .overwrite = overwrite};
  return mutate(state, &m);
}

static tr_err *lj_cas(void *state, const char *ns, const char *key, const void *expected, size_t elen,
                      const void *val, size_t len, int64_t expires_at, int64_t now) {
  mutation m = {.ns = ns,
                .key = key,
                .val = val,
                .len = len,
                .expires_at = expires_at,
                .now = now,
                .op = OP_CAS,
                .expected = expected,
                .elen = elen};
  return mutate(state, &m);
}

static tr_err *lj_del(void *state, const char *ns, const char *key, int64_t now) {
  mutation m = {.ns = ns, .key = key, .now = now, .op = OP_DEL};
  return mutate(state, &m);
}

static tr_err *lj_get(void *state, const char *ns, const char *key, int64_t now, uint8_t **val, size_t *len) {
  ljs *s = state;
  char *path;
  tr_err *e = file_for(s, ns, &path);
  if (e) return e;
  json_t *root;
  e = current_root(s, path, &root);
  free(path);
  if (e) return e;
  uint8_t *raw;
  size_t rl;
  bool present;
  e = decode_entry(ns_object(s, root, ns, false), key, now, &raw, &rl, &present);
  json_decref(root);
  if (!e && !present) e = tr_err_new(TR_E_NOTFOUND, "not found");
  if (!e) {
    const uint8_t *v;
    size_t vl;
    int64_t exp;
    tr_kv_env_decode(raw, rl, &v, &vl, &exp);
    e = tr_kv_dup_value(v, vl, val, len);
  }
  free(raw);
  return e;
}

static tr_err *lj_list(void *state, const char *ns, int64_t now, char ***keys, size_t *nkeys) {
  ljs *s = state;
  char *path;
  tr_err *e = file_for(s, ns, &path);
  if (e) return e;
  json_t *root;
  e = current_root(s, path, &root);
  free(path);
  if (e) return e;
  json_t *o = ns_object(s, root, ns, false);
  tr_kv_keylist l = {0};
  const char *k;
  json_t *v;
  bool ok = true;
  if (o) json_object_foreach(o, k, v) {
      uint8_t *raw;
      size_t rl;
      bool present;
      tr_err *de = decode_entry(o, k, now, &raw, &rl, &present);
      free(raw);
      if (de) present = true; /* listed; get reports the problem */
      tr_err_free(de);
      if (present && ok) ok = tr_kv_keylist_add(&l, k, strlen(k));
    }
  json_decref(root);
  if (!ok) {
    tr_kv_keylist_free(&l);
    return tr_err_new(TR_E_NOMEM, "out of memory");
  }
  tr_kv_keylist_finish(&l, keys, nkeys);
  return NULL;
}

/* Purges every namespace file under file_dir_path (namespaces nest). */
static tr_err *purge_tree(ljs *s, const char *dir, int64_t now, size_t *removed, int depth) {
  if (depth > 32) return NULL;
  DIR *d = opendir(dir);
  if (!d) return NULL;
  tr_err *e = NULL;
  struct dirent *de;
  while (!e && (de = readdir(d))) {
    if (de->d_name[0] == '.') continue;
    size_t nl = strlen(de->d_name);
    if ((nl > 5 && !strcmp(de->d_name + nl - 5, ".lock")) || strstr(de->d_name, ".tmp.")) continue;
    char *p;
    if (asprintf(&p, "%s/%s", dir, de->d_name) < 0) {
      e = tr_err_new(TR_E_NOMEM, "out of memory");
      break;
    }
    struct stat st;
    if (stat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
      e = purge_tree(s, p, now, removed, depth + 1);
    } else if (S_ISREG(st.st_mode)) {
      mutation m = {.now = now, .op = OP_PURGE};
      e = mutate_file(s, p, &m);
      *removed += m.removed;
    }
    free(p);
  }
  closedir(d);
  return e;
}

static tr_err *lj_purge(void *state, int64_t now, size_t *removed) {
  ljs *s = state;
  *removed = 0;
  if (s->single) {
    mutation m = {.now = now, .op = OP_PURGE};
    tr_err *e = mutate_file(s, s->single, &m);
    *removed = m.removed;
    return e;
  }
  return purge_tree(s, s->dir, now, removed, 0);
}

const tr_kv_backend tr_kv_localjson_backend = {
    .storage_type = "LocalJson",
    .alias = "local_json",
    .open = lj_open,
    .close = lj_close,
    .set = lj_set,
    .get = lj_get,
    .cas = lj_cas,
    .del = lj_del,
    .list = lj_list,
    .purge = lj_purge,
};
