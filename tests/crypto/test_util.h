/* test_util.h — small helpers shared by the crypto unit tests (header-only,
 * each test_*.c is its own executable). */
#ifndef TRUSTEE_TESTS_CRYPTO_UTIL_H
#define TRUSTEE_TESTS_CRYPTO_UTIL_H

// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/error.h"
#include "crypto/jwk.h"

/* Reads $TRUSTEE_SHARED_DIR/vectors/trustee/<rel>. */
static inline uint8_t *read_vector(const char *rel, size_t *len) {
  const char *dir = getenv("TRUSTEE_SHARED_DIR");
  char path[1024];
  snprintf(path, sizeof path, "%s/vectors/trustee/%s", dir ? dir : "../../../shared", rel);
  uint8_t *data = NULL;
  size_t n = 0;
  tr_err *e = tr_read_file(path, 0, &data, &n);
  if (e) fail_msg("reading %s: %s", path, tr_err_msg(e));
  if (len) *len = n;
  return data;
}

/* Asserts success, printing the error. */
#define ok(expr)                                                                                             \
  do {                                                                                                       \
    tr_err *e_ = (expr);                                                                                     \
    if (e_) fail_msg("%s: %s", #expr, tr_err_msg(e_));                                                       \
  } while (0)

/* Asserts failure with code and a message containing needle. */
#define fails(expr, code, needle)                                                                            \
  do {                                                                                                       \
    tr_err *e_ = (expr);                                                                                     \
    if (!e_) fail_msg("%s: expected an error containing `%s`", #expr, needle);                               \
    if (tr_err_code(e_) != (code) || !strstr(tr_err_msg(e_), needle))                                        \
      fail_msg("%s: got [%s] %s, expected [%s] ...%s...", #expr, tr_code_name(tr_err_code(e_)),              \
               tr_err_msg(e_), tr_code_name(code), needle);                                                  \
    tr_err_free(e_);                                                                                         \
  } while (0)

/* Parses a JWK from JSON text, failing the test on error. */
static inline tr_jwk *jwk_text(const char *text) {
  tr_jwk *k = NULL;
  ok(tr_jwk_from_json_text(text, strlen(text), &k));
  return k;
}

#endif
