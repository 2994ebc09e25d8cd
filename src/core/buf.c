#include "core/buf.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool tr_buf_reserve(tr_buf *b, size_t extra) {
  if (extra > SIZE_MAX - b->len - 1) return false;
  size_t need = b->len + extra + 1;
  if (need <= b->cap) return true;
  size_t cap = b->cap ? b->cap : 64;
  while (cap < need)
    cap = cap > SIZE_MAX / 2 ? need : cap * 2;
  uint8_t *d = realloc(b->data, cap);
  if (!d) return false;
  b->data = d;
  b->cap = cap;
  return true;
}

bool tr_buf_append(tr_buf *b, const void *data, size_t len) {
  if (!tr_buf_reserve(b, len)) return false;
  if (len) memcpy(b->data + b->len, data, len);
  b->len += len;
  b->data[b->len] = 0;
  return true;
}

bool tr_buf_append_str(tr_buf *b, const char *s) { return tr_buf_append(b, s, strlen(s)); }

bool tr_buf_append_byte(tr_buf *b, uint8_t c) { return tr_buf_append(b, &c, 1); }

bool tr_buf_printf(tr_buf *b, const char *fmt, ...) {
  va_list ap, ap2;
  va_start(ap, fmt);
  va_copy(ap2, ap);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0 || !tr_buf_reserve(b, (size_t)n)) {
    va_end(ap2);
    return false;
  }
  vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap2);
  va_end(ap2);
  b->len += (size_t)n;
  return true;
}

void tr_buf_reset(tr_buf *b) {
  b->len = 0;
  if (b->data) b->data[0] = 0;
}

void tr_buf_free(tr_buf *b) {
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
}

uint8_t *tr_buf_steal(tr_buf *b, size_t *len) {
  if (!b->data && !tr_buf_reserve(b, 0)) return NULL;
  b->data[b->len] = 0;
  uint8_t *d = b->data;
  if (len) *len = b->len;
  b->data = NULL;
  b->len = b->cap = 0;
  return d;
}

tr_err *tr_read_file(const char *path, size_t max_len, uint8_t **out, size_t *out_len) {
  if (!max_len) max_len = 256u << 20;
  FILE *f = fopen(path, "rb");
  if (!f) return tr_err_new(errno == ENOENT ? TR_E_NOTFOUND : TR_E_IO, "%s: %s", path, strerror(errno));
  tr_buf b = TR_BUF_INIT;
  uint8_t chunk[16384];
  size_t n;
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
    if (b.len + n > max_len) {
      fclose(f);
      tr_buf_free(&b);
      return tr_err_new(TR_E_LIMIT, "%s: larger than %zu bytes", path, max_len);
    }
    if (!tr_buf_append(&b, chunk, n)) {
      fclose(f);
      tr_buf_free(&b);
      return tr_err_new(TR_E_NOMEM, "%s: out of memory", path);
    }
  }
  int failed = ferror(f);
  fclose(f);
  if (failed) {
    tr_buf_free(&b);
    return tr_err_new(TR_E_IO, "%s: read error", path);
  }
  *out = tr_buf_steal(&b, out_len);
  return *out ? NULL : tr_err_new(TR_E_NOMEM, "out of memory");
}

tr_err *tr_write_file_atomic(const char *path, const void *data, size_t len, unsigned mode) {
  char *tmp = NULL;
  if (asprintf(&tmp, "%s.tmp.XXXXXX", path) < 0) return tr_err_new(TR_E_NOMEM, "out of memory");
  int fd = mkstemp(tmp);
  if (fd < 0) {
    tr_err *e = tr_err_new(TR_E_IO, "%s: cannot create temporary file: %s", path, strerror(errno));
    free(tmp);
    return e;
  }
  const uint8_t *p = data;
  size_t left = len;
  while (left) {
    ssize_t w = write(fd, p, left);
    if (w < 0) {
      if (errno == EINTR) continue;
      tr_err *e = tr_err_new(TR_E_IO, "%s: write: %s", path, strerror(errno));
      close(fd);
      unlink(tmp);
      free(tmp);
      return e;
    }
    p += w;
    left -= (size_t)w;
  }
  if (fchmod(fd, mode) != 0 || fsync(fd) != 0) {
    tr_err *e = tr_err_new(TR_E_IO, "%s: fsync: %s", path, strerror(errno));
    close(fd);
    unlink(tmp);
    free(tmp);
    return e;
  }
  close(fd);
  if (rename(tmp, path) != 0) {
    tr_err *e = tr_err_new(TR_E_IO, "%s: rename: %s", path, strerror(errno));
    unlink(tmp);
    free(tmp);
    return e;
  }
  free(tmp);
  /* Make the rename itself durable. */
  char *dcopy = strdup(path);
  if (dcopy) {
    int dfd = open(dirname(dcopy), O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) {
      fsync(dfd);
      close(dfd);
    }
    free(dcopy);
  }
  return NULL;
}
