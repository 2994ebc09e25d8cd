/* kv_localfs.c — the LocalFs backend, upstream's layout:
 *
 *   <dir_path>/<namespace>/<key with every '/' written as the 4 chars \x2F>
 *
 * holding the raw value bytes (or the expiry envelope of kv_internal.h for
 * values that expire). Besides the namespace directories we keep two
 * private directories whose names no namespace can take (namespace segments
 * never start with '.'):
 *
 *   <dir_path>/.trustee-tmp/   temporary files, renamed into place
 *   <dir_path>/.trustee-lock/  one lock file per namespace
 *
 * Writes: temp file in .trustee-tmp, write, fsync, rename over the target,
 * fsync the namespace directory — a reader (or a crash) sees the old or the
 * new file, never a torn one. Every write (set, cas, delete, purge) holds an
 * exclusive flock() on the namespace's lock file, opened afresh per call, so
 * it excludes other threads of this process and other processes alike;
 * overwrite=false and compare-and-set decide under that lock. Readers take
 * no lock: rename is atomic.
 *
 * Temporary files are named tmp.<pid>.<random>; at open, those left by dead
 * processes (crashes) are removed. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "kv/kv_internal.h"

#define DEFAULT_DIR "/opt/confidential-containers/storage/local_fs"

typedef struct {
  char *dir;
} lfs;

static char *encode_name(const char *key) {
  tr_buf b = TR_BUF_INIT;
  for (const char *p = key; *p; p++) {
    bool ok = *p == '/' ? tr_buf_append(&b, "\\x2F", 4) : tr_buf_append_byte(&b, (uint8_t)*p);
    if (!ok) {
      tr_buf_free(&b);
      return NULL;
    }
  }
  return (char *)tr_buf_steal(&b, NULL);
}

static bool decode_name(const char *name, tr_kv_keylist *l) {
  tr_buf b = TR_BUF_INIT;
  bool ok = true;
  for (const char *p = name; *p && ok;) {
    if (!strncmp(p, "\\x2F", 4)) {
      ok = tr_buf_append_byte(&b, '/');
      p += 4;
    } else {
      ok = tr_buf_append_byte(&b, (uint8_t)*p++);
    }
  }
  ok = ok && tr_buf_reserve(&b, 0) && tr_kv_keylist_add(l, (char *)b.data, b.len);
  tr_buf_free(&b);
  return ok;
}

static tr_err *key_path(lfs *s, const char *ns, const char *key, char **out) {
  char *name = encode_name(key);
  if (!name) return tr_err_new(TR_E_NOMEM, "out of memory");
  if (strlen(name) > NAME_MAX) {
    free(name);
    return tr_err_new(TR_E_LIMIT, "key too long for a LocalFs file name (%d bytes after encoding '/')",
                      NAME_MAX);
  }
  int r = asprintf(out, "%s/%s/%s", s->dir, ns, name);
  free(name);
  return r < 0 ? tr_err_new(TR_E_NOMEM, "out of memory") : NULL;
}

static void clean_stale_tmp(const char *tmpdir) {
  DIR *d = opendir(tmpdir);
  if (!d) return;
  struct dirent *de;
  while ((de = readdir(d))) {
    long pid;
    if (sscanf(de->d_name, "tmp.%ld.", &pid) != 1 || pid <= 0) continue;
    if (kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue;
    unlinkat(dirfd(d), de->d_name, 0);
  }
  closedir(d);
}

static tr_err *lfs_open(const json_t *config, void **state) {
  const char *dir = DEFAULT_DIR;
  tr_err *e = tr_kv_cfg_string(config, "dir_path", &dir);
  if (e) return e;
  if (!*dir) return tr_err_new(TR_E_INVALID, "field `dir_path`: empty");
  lfs *s = calloc(1, sizeof *s);
  if (!s || !(s->dir = strdup(dir))) {
    free(s);
    return tr_err_new(TR_E_NOMEM, "out of memory");
  }
  size_t n = strlen(s->dir);
  while (n > 1 && s->dir[n - 1] == '/')
    s->dir[--n] = 0;
  char *tmp = NULL, *lock = NULL;
  if (asprintf(&tmp, "%s/.trustee-tmp", s->dir) < 0) tmp = NULL;
  if (asprintf(&lock, "%s/.trustee-lock", s->dir) < 0) lock = NULL;
  if (!tmp || !lock) e = tr_err_new(TR_E_NOMEM, "out of memory");
  if (!e) e = tr_kv_mkdirs(s->dir);
  if (!e) e = tr_kv_mkdirs(tmp);
  if (!e) e = tr_kv_mkdirs(lock);
  if (!e) clean_stale_tmp(tmp);
  free(tmp);
  free(lock);
  if (e) {
    free(s->dir);
    free(s);
    return tr_err_wrap(e, "dir_path %s", dir);
  }
  *state = s;
  return NULL;
}

static void lfs_close(void *state) {
  lfs *s = state;
  free(s->dir);
  free(s);
}

/* Exclusive lock on the namespace; returns the fd to close (unlocks). */
static tr_err *lock_ns(lfs *s, const char *ns, int *fd_out) {
  char *name = encode_name(ns), *path = NULL;
  if (!name || asprintf(&path, "%s/.trustee-lock/%s", s->dir, name) < 0) {
    free(name);
    return tr_err_new(TR_E_NOMEM, "out of memory");
  }
  free(name);
  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    tr_err *e = tr_err_new(TR_E_IO, "%s: %s", path, strerror(errno));
    free(path);
    return e;
  }
  while (flock(fd, LOCK_EX) != 0) {
    if (errno == EINTR) continue;
    tr_err *e = tr_err_new(TR_E_IO, "lock %s: %s", path, strerror(errno));
    close(fd);
    free(path);
    return e;
  }
  free(path);
  *fd_out = fd;
  return NULL;
}

/* Reads a whole stored file; TR_E_NOTFOUND when absent. */
static tr_err *read_stored(const char *path, uint8_t **data, size_t *len) {
  return tr_read_file(path, 0, data, len);
}

/* Reads the stored entry and reports whether it is present and unexpired. */
static tr_err *read_current(const char *path, int64_t now, uint8_t **data, size_t *len, bool *present) {
  *present = false;
  *data = NULL;
  *len = 0;
  tr_err *e = read_stored(path, data, len);
  if (e && tr_err_code(e) == TR_E_NOTFOUND) {
    tr_err_free(e);
    return NULL;
  }
  if (e) return e;
  const uint8_t *v;
  size_t vlen;
  int64_t exp;
  tr_kv_env_decode(*data, *len, &v, &vlen, &exp);
  *present = !tr_kv_expired(exp, now);
  return NULL;
}

static void fsync_dir(const char *path) {
  char *d = strdup(path);
  if (!d) return;
  char *slash = strrchr(d, '/');
  if (slash) *slash = 0;
  int fd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    fsync(fd);
    close(fd);
  }
  free(d);
}

static tr_err *write_atomic(lfs *s, const char *ns, const char *path, const void *val, size_t len,
                            int64_t expires_at) {
  char *nsdir = NULL, *tmp = NULL;
  if (asprintf(&nsdir, "%s/%s", s->dir, ns) < 0) return tr_err_new(TR_E_NOMEM, "out of memory");
  tr_err *e = tr_kv_mkdirs(nsdir);
  free(nsdir);
  if (e) return e;
  size_t n;
  uint8_t *data = tr_kv_env_encode(val, len, expires_at, &n);
  if (!data || asprintf(&tmp, "%s/.trustee-tmp/tmp.%ld.XXXXXX", s->dir, (long)getpid()) < 0) {
    free(data);
    return tr_err_new(TR_E_NOMEM, "out of memory");
  }
  int fd = mkostemp(tmp, O_CLOEXEC);
  if (fd < 0) {
    e = tr_err_new(TR_E_IO, "create temporary file in %s/.trustee-tmp: %s", s->dir, strerror(errno));
    goto out;
  }
  for (size_t off = 0; off < n;) {
    ssize_t w = write(fd, data + off, n - off);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) {
      e = tr_err_new(TR_E_IO, "write %s: %s", tmp, strerror(errno));
      break;
    }
    off += (size_t)w;
  }
  if (!e && fsync(fd) != 0) e = tr_err_new(TR_E_IO, "fsync %s: %s", tmp, strerror(errno));
  close(fd);
  if (!e && rename(tmp, path) != 0) e = tr_err_new(TR_E_IO, "rename to %s: %s", path, strerror(errno));
  if (e)
    unlink(tmp);
  else
    fsync_dir(path);
out:
  free(tmp);
  free(data);
  return e;
}

static tr_err *lfs_get(void *state, const char *ns, const char *key, int64_t now, uint8_t **val,
                       size_t *len) {
  lfs *s = state;
  char *path;
  tr_err *e = key_path(s, ns, key, &path);
  if (e) return e;
  uint8_t *data;
  size_t n;
  e = read_stored(path, &data, &n);
  free(path);
  if (e)
    return tr_err_code(e) == TR_E_NOTFOUND ? (tr_err_free(e), tr_err_new(TR_E_NOTFOUND, "not found")) : e;
  const uint8_t *v;
  size_t vlen;
  int64_t exp;
  tr_kv_env_decode(data, n, &v, &vlen, &exp);
  if (tr_kv_expired(exp, now))
    e = tr_err_new(TR_E_NOTFOUND, "not found");
  else if (v == data) {
    *val = data;
    *len = n;
    return NULL;
  } else {
    e = tr_kv_dup_value(v, vlen, val, len);
  }
  free(data);
  return e;
}

/* What a locked write does once it has read the current entry. */
typedef enum { W_SET, W_SET_NEW, W_CAS, W_DEL } write_kind;

/* Runs one write under the namespace lock: reads the current entry, decides
 * (overwrite=false, compare-and-set, delete of an absent key) and then
 * writes or unlinks. */
static tr_err *locked_write(lfs *s, const char *ns, const char *key, write_kind kind, const void *expected,
                            size_t elen, const void *val, size_t len, int64_t expires_at, int64_t now) {
  char *path;
  tr_err *e = key_path(s, ns, key, &path);
  if (e) return e;
  int lk = -1;
  uint8_t *cur = NULL;
  size_t clen = 0;
  bool present = false;
  e = lock_ns(s, ns, &lk);
  if (!e && kind != W_SET) e = read_current(path, now, &cur, &clen, &present);
  if (!e && kind == W_SET_NEW && present) e = tr_err_new(TR_E_CONFLICT, "key already exists");
  if (!e && kind == W_CAS && !tr_kv_cas_match(present, cur, clen, expected, elen))
    e = tr_err_new(TR_E_CONFLICT, "current value differs from the expected one");
  if (!e && kind == W_DEL) {
    if (cur && unlink(path) != 0 && errno != ENOENT)
      e = tr_err_new(TR_E_IO, "unlink %s: %s", path, strerror(errno));
    else if (cur)
      fsync_dir(path);
    if (!e && !present) e = tr_err_new(TR_E_NOTFOUND, "not found");
  } else if (!e) {
    e = write_atomic(s, ns, path, val, len, expires_at);
  }
  free(cur);
  if (lk >= 0) close(lk);
  free(path);
  return e;
}

static tr_err *lfs_set(void *state, const char *ns, const char *key, const void *val, size_t len,
                       bool overwrite, int64_t expires_at, int64_t now) {
  return locked_write(state, ns, key, overwrite ? W_SET : W_SET_NEW, NULL, 0, val, len, expires_at, now);
}

static tr_err *lfs_cas(void *state, const char *ns, const char *key, const void *expected, size_t elen,
                       const void *val, size_t len, int64_t expires_at, int64_t now) {
  return locked_write(state, ns, key, W_CAS, expected, elen, val, len, expires_at, now);
}

static tr_err *lfs_del(void *state, const char *ns, const char *key, int64_t now) {
  return locked_write(state, ns, key, W_DEL, NULL, 0, NULL, 0, 0, now);
}

/* Reads the envelope header of a stored file (0 = never expires). */
static int64_t file_expiry_at(int dirfd, const char *name) {
  int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return 0;
  uint8_t hdr[TR_KV_ENV_HDR];
  size_t got = 0;
  while (got < sizeof hdr) {
    ssize_t r = read(fd, hdr + got, sizeof hdr - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += (size_t)r;
  }
  close(fd);
  const uint8_t *v;
  size_t vlen;
  int64_t exp;
  tr_kv_env_decode(hdr, got, &v, &vlen, &exp);
  return exp;
}

static bool is_regular(int dirfd, struct dirent *de) {
  if (de->d_type == DT_REG) return true;
  if (de->d_type != DT_UNKNOWN) return false;
  struct stat st;
  return fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
}

static tr_err *lfs_list(void *state, const char *ns, int64_t now, char ***keys, size_t *nkeys) {
  lfs *s = state;
  char *path;
  if (asprintf(&path, "%s/%s", s->dir, ns) < 0) return tr_err_new(TR_E_NOMEM, "out of memory");
  DIR *d = opendir(path);
  if (!d) {
    tr_err *e = errno == ENOENT ? NULL : tr_err_new(TR_E_IO, "%s: %s", path, strerror(errno));
    free(path);
    return e;
  }
  free(path);
  tr_kv_keylist l = {0};
  struct dirent *de;
  bool ok = true;
  while (ok && (de = readdir(d))) {
    if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") || !is_regular(dirfd(d), de)) continue;
    if (tr_kv_expired(file_expiry_at(dirfd(d), de->d_name), now)) continue;
    ok = decode_name(de->d_name, &l);
  }
  closedir(d);
  if (!ok) {
    tr_kv_keylist_free(&l);
    return tr_err_new(TR_E_NOMEM, "out of memory");
  }
  tr_kv_keylist_finish(&l, keys, nkeys);
  return NULL;
}

/* Walks <dir>/<ns> recursively (namespaces nest), removing expired files
 * under each namespace's lock. */
static tr_err *purge_dir(lfs *s, const char *ns, int64_t now, size_t *removed, int depth) {
  if (depth > 32) return NULL;
  char *path;
  if (asprintf(&path, "%s/%s", s->dir, ns) < 0) return tr_err_new(TR_E_NOMEM, "out of memory");
  DIR *d = opendir(path);
  free(path);
  if (!d) return NULL;
  tr_err *e = NULL;
  struct dirent *de;
  while (!e && (de = readdir(d))) {
    if (de->d_name[0] == '.') {
      if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
    }
    struct stat st;
    if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      if (de->d_name[0] == '.') continue;
      char *sub;
      if (asprintf(&sub, "%s/%s", ns, de->d_name) < 0)
        return closedir(d), tr_err_new(TR_E_NOMEM, "out of memory");
      e = purge_dir(s, sub, now, removed, depth + 1);
      free(sub);
      continue;
    }
    if (!S_ISREG(st.st_mode) || !tr_kv_expired(file_expiry_at(dirfd(d), de->d_name), now)) continue;
    int lk;
    e = lock_ns(s, ns, &lk);
    if (e) break;
    /* Re-check under the lock: a writer may have replaced it meanwhile. */
    if (tr_kv_expired(file_expiry_at(dirfd(d), de->d_name), now) && unlinkat(dirfd(d), de->d_name, 0) == 0)
      (*removed)++;
    close(lk);
  }
  closedir(d);
  return e;
}

static tr_err *lfs_purge(void *state, int64_t now, size_t *removed) {
  lfs *s = state;
  DIR *d = opendir(s->dir);
  if (!d) return tr_err_new(TR_E_IO, "%s: %s", s->dir, strerror(errno));
  tr_err *e = NULL;
  struct dirent *de;
  *removed = 0;
  while (!e && (de = readdir(d))) {
    if (de->d_name[0] == '.') continue; /* ., .., .trustee-* */
    struct stat st;
    if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode)) continue;
    e = purge_dir(s, de->d_name, now, removed, 0);
  }
  closedir(d);
  return e;
}

const tr_kv_backend tr_kv_localfs_backend = {
    .storage_type = "LocalFs",
    .alias = "local_fs",
    .open = lfs_open,
    .close = lfs_close,
    .set = lfs_set,
    .get = lfs_get,
    .cas = lfs_cas,
    .del = lfs_del,
    .list = lfs_list,
    .purge = lfs_purge,
};
