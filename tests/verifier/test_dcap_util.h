/* test_dcap_util.h — vector loading shared by the DCAP / TDX / SGX /
 * event-log tests (header-only: each test is its own executable). */
#ifndef TRUSTEE_TEST_DCAP_UTIL_H
#define TRUSTEE_TEST_DCAP_UTIL_H

// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/json.h"

#define TD "vectors/trustee/deps/verifier/test_data/"
#define QVL "vectors/dcap-qvl/"
#define QVL_TIME "2025-07-01T00:00:00Z" /* inside both dcap-qvl collaterals' validity */

/* $TRUSTEE_SHARED_DIR/rel (caller frees). */
static inline char *path_of(const char *rel) {
  const char *shared = getenv("TRUSTEE_SHARED_DIR");
  char *p = NULL;
  assert_true(asprintf(&p, "%s/%s", shared ? shared : "../../../shared", rel) > 0);
  return p;
}

static inline uint8_t *readv(const char *rel, size_t *len) {
  char *p = path_of(rel);
  uint8_t *d = NULL;
  tr_err *e = tr_read_file(p, 0, &d, len);
  if (e) fprintf(stderr, "%s\n", tr_err_msg(e));
  assert_null(e);
  free(p);
  return d;
}

static inline json_t *readj(const char *rel) {
  size_t n;
  uint8_t *d = readv(rel, &n);
  json_t *j = NULL;
  tr_err *e = tr_json_parse((const char *)d, n, &j);
  assert_null(e);
  free(d);
  return j;
}

#endif
