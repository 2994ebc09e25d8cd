/* buf.h — a growable byte buffer. The buffer owns `data`; tr_buf_steal hands
 * it to the caller. `data` is always NUL-terminated (not counted in len) so
 * text built here can be used as a C string. */
#ifndef TRUSTEE_CORE_BUF_H
#define TRUSTEE_CORE_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

typedef struct {
  uint8_t *data;
  size_t len;
  size_t cap;
} tr_buf;

#define TR_BUF_INIT                                                                                          \
  { NULL, 0, 0 }

/* Each returns false only on allocation failure. */
bool tr_buf_reserve(tr_buf *b, size_t extra);
bool tr_buf_append(tr_buf *b, const void *data, size_t len);
bool tr_buf_append_str(tr_buf *b, const char *s);
bool tr_buf_append_byte(tr_buf *b, uint8_t c);
bool tr_buf_printf(tr_buf *b, const char *fmt, ...) TR_PRINTF(2, 3);
void tr_buf_reset(tr_buf *b); /* len = 0, keeps memory */
void tr_buf_free(tr_buf *b);  /* releases memory, back to TR_BUF_INIT */
/* Hands the data (NUL-terminated, never NULL) to the caller; buffer becomes empty. */
uint8_t *tr_buf_steal(tr_buf *b, size_t *len);

/* Reads a whole file (up to max_len bytes; 0 = 256 MiB). Caller frees *out
 * (NUL-terminated). */
tr_err *tr_read_file(const char *path, size_t max_len, uint8_t **out, size_t *out_len);
/* Writes atomically: temp file in the same directory, fsync, rename, fsync dir. */
tr_err *tr_write_file_atomic(const char *path, const void *data, size_t len, unsigned mode);

#endif
