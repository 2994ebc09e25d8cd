/* resource.c — the `resource` and `sample` plugins and the repository.
 *
 * Repository (`storage_backend_type = "kvstorage"`):
 *   - LocalFs: directory <dir_path>/repository/. A resource repo/type/tag is
 *     the flat file `repo\x2Ftype\x2Ftag` (upstream's LocalFs key encoding:
 *     every '/' becomes the four characters \x2F) or, when that file does not
 *     exist, the nested file repo/type/tag — so a Kubernetes Secret or Secrets
 *     Store CSI volume mounted at .../repository/<repo>/<type> is served.
 *     Mounted volumes use symlinks (`coco_one -> ..data/coco_one`); they are
 *     followed only while the resolved file stays inside the repository
 *     root. Reads happen per request (rotation is picked up). Writes go to
 *     the flat name atomically (temp file, fsync, rename, fsync dir).
 *   - any other storage type: the KV store, namespace `repository`, key
 *     repo/type/tag. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/log.h"
#include "kbs/internal.h"
#include "kv/kv.h"

#define RESOURCE_MAX (256u << 20)

struct kbs_repo {
  tr_kv *kv;   /* non-LocalFs */
  char *root;  /* LocalFs: <dir_path>/repository (as configured) */
  char *rroot; /* realpath(root) */
};

static tr_err *mkdir_p(const char *path) {
  char *p = strdup(path);
  if (!p) return tr_err_new(TR_E_NOMEM, "out of memory");
  for (char *s = p + 1; *s; s++) {
    if (*s != '/') continue;
    *s = 0;
    if (mkdir(p, 0700) != 0 && errno != EEXIST) {
      tr_err *e = tr_err_new(TR_E_IO, "mkdir %s: %s", p, strerror(errno));
      free(p);
      return e;
    }
    *s = '/';
  }
  tr_err *e = NULL;
  if (mkdir(p, 0700) != 0 && errno != EEXIST) e = tr_err_new(TR_E_IO, "mkdir %s: %s", p, strerror(errno));
  free(p);
  return e;
}

tr_err *kbs_repo_new(const tr_kbs_storage_config *st, tr_kv *kv, kbs_repo **out) {
  kbs_repo *r = calloc(1, sizeof *r);
  if (!r) return tr_err_new(TR_E_NOMEM, "out of memory");
  if (st->storage_type == TR_KBS_KV_LOCAL_FS) {
    const char *dir = json_string_value(json_object_get(st->backend, "dir_path"));
    if (!dir) dir = "/opt/confidential-containers/storage/local_fs";
    if (asprintf(&r->root, "%s/%s", dir, KBS_NS_REPOSITORY) < 0) r->root = NULL;
    tr_err *e = r->root ? mkdir_p(r->root) : tr_err_new(TR_E_NOMEM, "out of memory");
    if (!e && !(r->rroot = realpath(r->root, NULL)))
      e = tr_err_new(TR_E_IO, "%s: %s", r->root, strerror(errno));
    if (e) {
      kbs_repo_free(r);
      return tr_err_wrap(e, "resource repository");
    }
  } else {
    r->kv = kv;
  }
  *out = r;
  return NULL;
}

void kbs_repo_free(kbs_repo *r) {
  if (!r) return;
  free(r->root);
  free(r->rroot);
  free(r);
}

/* True when the absolute, symlink-free path `p` lies below the repository. */
static bool inside(const kbs_repo *r, const char *p) {
  size_t n = strlen(r->rroot);
  return strncmp(p, r->rroot, n) == 0 && p[n] == '/';
}

static char *flat_name(const kbs_repo *r, const char *path) {
  tr_buf b = TR_BUF_INIT;
  tr_buf_printf(&b, "%s/", r->root);
  for (const char *p = path; *p; p++) {
    if (*p == '/')
      tr_buf_append_str(&b, "\\x2F");
    else
      tr_buf_append_byte(&b, (uint8_t)*p);
  }
  return (char *)tr_buf_steal(&b, NULL);
}

/* Resolves `candidate`; NOTFOUND when absent, loops or escapes the root. */
static tr_err *contained(const kbs_repo *r, const char *candidate, char **resolved) {
  char *rp = realpath(candidate, NULL);
  if (!rp) {
    if (errno == ENOENT || errno == ENOTDIR || errno == ENAMETOOLONG)
      return tr_err_new(TR_E_NOTFOUND, "no such file");
    if (errno == ELOOP) {
      TR_WARN("kbs", "resource %s: symlink loop: refused", candidate);
      return tr_err_new(TR_E_NOTFOUND, "symlink loop");
    }
    /* the server's paths are logged, not shown to the requester */
    TR_WARN("kbs", "resource %s: %s", candidate, strerror(errno));
    return tr_err_new(TR_E_IO, "cannot resolve the resource file: %s", strerror(errno));
  }
  if (!inside(r, rp)) {
    TR_WARN("kbs", "resource %s resolves to %s, outside the repository %s: refused", candidate, rp, r->rroot);
    free(rp);
    return tr_err_new(TR_E_NOTFOUND, "resolves outside the repository");
  }
  *resolved = rp;
  return NULL;
}

/* Opens the already-resolved path `p` for reading, without blocking on a
 * FIFO or device, and checks what was actually opened: a regular file whose
 * path (as the kernel reports it for the descriptor) is still inside the
 * repository — a symlink swapped between the realpath() check and the
 * open() is caught here, so no byte of an outside file is ever read. */
static tr_err *open_contained(const kbs_repo *r, const char *p, int *out) {
  int fd = open(p, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP)
      return tr_err_new(TR_E_NOTFOUND, "no such file");
    TR_WARN("kbs", "resource %s: open: %s", p, strerror(errno));
    return tr_err_new(TR_E_IO, "cannot open the resource file: %s", strerror(errno));
  }
  struct stat sb;
  if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
    close(fd);
    return tr_err_new(TR_E_NOTFOUND, "not a regular file");
  }
  char link[64], real[PATH_MAX + 1];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, real, sizeof real - 1);
  if (n > 0) {
    real[n] = 0;
    if (!inside(r, real)) {
      TR_WARN("kbs", "resource %s was swapped to %s, outside the repository: refused", p, real);
      close(fd);
      return tr_err_new(TR_E_NOTFOUND, "resolves outside the repository");
    }
  } else {
    /* no /proc: the file must still be the one realpath() named */
    struct stat cur;
    if (stat(p, &cur) != 0 || cur.st_dev != sb.st_dev || cur.st_ino != sb.st_ino) {
      close(fd);
      return tr_err_new(TR_E_NOTFOUND, "changed while opening");
    }
  }
  *out = fd;
  return NULL;
}

static tr_err *read_regular(const kbs_repo *r, const char *p, uint8_t **val, size_t *len) {
  int fd = -1;
  tr_err *e = open_contained(r, p, &fd);
  if (e) return e;
  struct stat sb;
  if (fstat(fd, &sb) != 0) {
    close(fd);
    return tr_err_new(TR_E_IO, "cannot stat the resource file: %s", strerror(errno));
  }
  if ((uint64_t)sb.st_size > RESOURCE_MAX) {
    close(fd);
    return tr_err_new(TR_E_LIMIT, "resource larger than %u bytes", RESOURCE_MAX);
  }
  tr_buf b = TR_BUF_INIT;
  tr_buf_reserve(&b, (size_t)sb.st_size);
  char chunk[65536];
  for (;;) {
    ssize_t n = read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      tr_err *e = tr_err_new(TR_E_IO, "cannot read the resource file: %s", strerror(errno));
      close(fd);
      tr_buf_free(&b);
      return e;
    }
    if (n == 0) break;
    if (b.len + (size_t)n > RESOURCE_MAX || !tr_buf_append(&b, chunk, (size_t)n)) {
      close(fd);
      tr_buf_free(&b);
      return tr_err_new(TR_E_LIMIT, "resource too large");
    }
  }
  close(fd);
  *val = tr_buf_steal(&b, len);
  return NULL;
}

tr_err *kbs_repo_get(kbs_repo *r, const char *path, uint8_t **val, size_t *len) {
  if (r->kv) return tr_kv_get(r->kv, KBS_NS_REPOSITORY, path, val, len);
  char *flat = flat_name(r, path);
  char *res = NULL;
  tr_err *e = contained(r, flat, &res);
  free(flat);
  if (e && tr_err_code(e) == TR_E_NOTFOUND) {
    tr_err_free(e);
    char *nested = NULL;
    if (asprintf(&nested, "%s/%s", r->root, path) < 0) return tr_err_new(TR_E_NOMEM, "out of memory");
    e = contained(r, nested, &res);
    free(nested);
  }
  if (!e) e = read_regular(r, res, val, len);
  free(res);
  return e;
}

/* Atomic replace of `dest` inside the repository: the temporary file is
 * `<root>/.tmp-XXXXXX`, a name that can never be a resource (no segment
 * starts with '.'), so a write interrupted by a crash leaves nothing a
 * client could fetch, and `dest` is always either the old or the new
 * content (write, fsync, rename, fsync of the directory). */
static tr_err *write_atomic(const kbs_repo *r, const char *dest, const void *val, size_t len) {
  char *tmp = NULL;
  if (asprintf(&tmp, "%s/.tmp-XXXXXX", r->root) < 0) return tr_err_new(TR_E_NOMEM, "out of memory");
  int fd = mkostemp(tmp, O_CLOEXEC);
  if (fd < 0) {
    TR_WARN("kbs", "repository %s: cannot create a temporary file: %s", r->root, strerror(errno));
    tr_err *e = tr_err_new(TR_E_IO, "cannot create a temporary file in the repository: %s", strerror(errno));
    free(tmp);
    return e;
  }
  const uint8_t *p = val;
  size_t left = len;
  tr_err *e = NULL;
  while (left && !e) {
    ssize_t w = write(fd, p, left);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) {
      e = tr_err_new(TR_E_IO, "write: %s", strerror(errno));
      break;
    }
    p += w;
    left -= (size_t)w;
  }
  if (!e && fsync(fd) != 0) e = tr_err_new(TR_E_IO, "fsync: %s", strerror(errno));
  if (close(fd) != 0 && !e) e = tr_err_new(TR_E_IO, "close: %s", strerror(errno));
  if (!e && rename(tmp, dest) != 0)
    e = errno == ENAMETOOLONG
            ? tr_err_new(TR_E_INVALID,
                         "resource path too long for a LocalFs file name (at most %d bytes, "
                         "each '/' stored as 4)",
                         NAME_MAX)
            : tr_err_new(TR_E_IO, "rename: %s", strerror(errno));
  if (e) {
    unlink(tmp);
  } else {
    int dfd = open(r->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
      fsync(dfd);
      close(dfd);
    }
  }
  free(tmp);
  return e;
}

tr_err *kbs_repo_set(kbs_repo *r, const char *path, const void *val, size_t len) {
  if (r->kv) return tr_kv_set(r->kv, KBS_NS_REPOSITORY, path, val, len, true, 0);
  char *flat = flat_name(r, path);
  tr_err *e = write_atomic(r, flat, val, len);
  free(flat);
  return e;
}

tr_err *kbs_repo_delete(kbs_repo *r, const char *path) {
  if (r->kv) return tr_kv_delete(r->kv, KBS_NS_REPOSITORY, path);
  char *flat = flat_name(r, path);
  int rc = unlink(flat);
  int err = errno;
  free(flat);
  if (rc == 0) return NULL;
  if (err != ENOENT && err != ENAMETOOLONG) return tr_err_new(TR_E_IO, "delete: %s", strerror(err));
  /* Nested file: only a plain file inside the root may go (a mounted
   * volume is read-only and the unlink reports it). */
  char *nested = NULL, *res = NULL;
  if (asprintf(&nested, "%s/%s", r->root, path) < 0) return tr_err_new(TR_E_NOMEM, "out of memory");
  struct stat sb;
  tr_err *e = NULL;
  if (lstat(nested, &sb) != 0)
    e = tr_err_new(TR_E_NOTFOUND, "no such resource");
  else if (S_ISLNK(sb.st_mode))
    e = tr_err_new(TR_E_UNSUPPORTED, "%s is a link into a mounted volume; delete it at its source", path);
  else if (!S_ISREG(sb.st_mode))
    e = tr_err_new(TR_E_UNSUPPORTED, "%s is not a regular file", path);
  else
    e = contained(r, nested, &res);
  if (!e && unlink(res) != 0) e = tr_err_new(TR_E_IO, "delete %s: %s", path, strerror(errno));
  free(nested);
  free(res);
  return e;
}

/* ---- the `resource` plugin ---- */

static char *join_path(const kbs_plugin_req *r) {
  tr_buf b = TR_BUF_INIT;
  for (size_t i = 0; i < r->npath; i++) {
    if (i) tr_buf_append_byte(&b, '/');
    tr_buf_append_str(&b, r->path[i]);
  }
  return (char *)tr_buf_steal(&b, NULL);
}

static tr_err *resource_handle(void *state, const kbs_plugin_req *r, uint8_t **out, size_t *out_len) {
  struct kbs *k = state;
  char *path = join_path(r);
  tr_err *e = NULL;
  if (!kbs_resource_path_valid(path)) {
    e = tr_err_new(TR_E_INVALID,
                   "invalid resource path `%s`: expected <repository>/<type>/<tag>, each segment of "
                   "[A-Za-z0-9_.-] not starting with '.'",
                   path);
  } else if (strcmp(r->method, "GET") == 0) {
    kbs_metrics_inc_label(k->metrics, KBS_L_RESOURCE_READS, path);
    e = kbs_repo_get(k->repo, path, out, out_len);
    if (e && tr_err_code(e) == TR_E_NOTFOUND) {
      tr_err_free(e);
      e = tr_err_new(TR_E_NOTFOUND, "resource not found: %s", path);
    }
  } else if (strcmp(r->method, "POST") == 0) {
    kbs_metrics_inc_label(k->metrics, KBS_L_RESOURCE_WRITES, path);
    e = kbs_repo_set(k->repo, path, r->body, r->body_len);
    if (!e) {
      *out = (uint8_t *)strdup("");
      *out_len = 0;
    }
  } else if (strcmp(r->method, "DELETE") == 0) {
    kbs_metrics_inc_label(k->metrics, KBS_L_RESOURCE_DELETES, path);
    e = kbs_repo_delete(k->repo, path);
    if (e && tr_err_code(e) == TR_E_NOTFOUND) {
      tr_err_free(e);
      e = tr_err_new(TR_E_NOTFOUND, "resource not found: %s", path);
    }
    if (!e) {
      *out = (uint8_t *)strdup("");
      *out_len = 0;
    }
  } else {
    e = tr_err_new(TR_E_INVALID, "Illegal HTTP method. Only supports `GET`, `POST` and `DELETE`");
  }
  free(path);
  return e;
}

static bool resource_validate_auth(void *state, const kbs_plugin_req *r) {
  (void)state;
  return strcmp(r->method, "POST") == 0 || strcmp(r->method, "DELETE") == 0;
}

static bool resource_encrypted(void *state, const kbs_plugin_req *r) {
  (void)state;
  return strcmp(r->method, "GET") == 0;
}

tr_err *kbs_plugin_resource_new(struct kbs *k, const json_t *config, kbs_plugin *out) {
  const char *type = json_string_value(json_object_get(config, "storage_backend_type"));
  if (!type) type = json_string_value(json_object_get(config, "type")); /* config.md's spelling */
  if (!type) return tr_err_new(TR_E_INVALID, "[[plugins]] resource: `storage_backend_type` is required");
  if (strcmp(type, "kvstorage") != 0 && strcmp(type, "KvStorage") != 0 && strcmp(type, "LocalFs") != 0)
    return tr_err_new(
        TR_E_UNSUPPORTED,
        "[[plugins]] resource: storage_backend_type `%s` is not supported yet (supported: kvstorage)", type);
  *out = (kbs_plugin){.name = "resource",
                      .state = k,
                      .handle = resource_handle,
                      .validate_auth = resource_validate_auth,
                      .encrypted = resource_encrypted};
  return NULL;
}

/* ---- the `sample` plugin ---- */

static tr_err *sample_handle(void *state, const kbs_plugin_req *r, uint8_t **out, size_t *out_len) {
  (void)state;
  (void)r;
  static const char msg[] = "sample plugin response";
  *out = (uint8_t *)strdup(msg);
  *out_len = sizeof msg - 1;
  return *out ? NULL : tr_err_new(TR_E_NOMEM, "out of memory");
}

static bool always(void *state, const kbs_plugin_req *r) {
  (void)state;
  (void)r;
  return true;
}

static bool never(void *state, const kbs_plugin_req *r) {
  (void)state;
  (void)r;
  return false;
}

tr_err *kbs_plugin_sample_new(struct kbs *k, const json_t *config, kbs_plugin *out) {
  (void)k;
  if (!json_is_string(json_object_get(config, "item")))
    return tr_err_new(TR_E_INVALID, "[[plugins]] sample: `item` (string) is required");
  *out = (kbs_plugin){.name = "sample", .handle = sample_handle, .validate_auth = always, .encrypted = never};
  return NULL;
}
