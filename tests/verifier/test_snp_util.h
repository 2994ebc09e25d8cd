/* test_snp_util.h — helpers shared by the SNP / Azure vTPM / TPM verifier
 * tests: vector loading, evaluation through the verifier table, error-text
 * assertions. Header-only (each test is its own executable). */
#ifndef TRUSTEE_TEST_SNP_UTIL_H
#define TRUSTEE_TEST_SNP_UTIL_H

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
#include "core/encoding.h"
#include "core/error.h"
#include "core/json.h"
#include "verifier/verifier.h"

static inline char *tu_path(const char *rel) {
  const char *shared = getenv("TRUSTEE_SHARED_DIR");
  char *p = NULL;
  if (asprintf(&p, "%s/%s", shared ? shared : "../../../shared", rel) < 0) return NULL;
  return p;
}

__attribute__((noinline)) static uint8_t *tu_read(const char *rel, size_t *len) {
  char *p = tu_path(rel);
  uint8_t *data = NULL;
  tr_err *e = tr_read_file(p, 0, &data, len);
  if (e) fprintf(stderr, "%s\n", tr_err_msg(e));
  assert_null(e);
  free(p);
  return data;
}

static inline json_t *tu_json(const char *rel) {
  size_t n = 0;
  uint8_t *d = tu_read(rel, &n);
  json_t *j = NULL;
  tr_err *e = tr_json_parse((const char *)d, n, &j);
  assert_null(e);
  free(d);
  return j;
}

static inline json_t *tu_byte_array(const uint8_t *p, size_t n) {
  json_t *a = json_array();
  for (size_t i = 0; i < n; i++)
    json_array_append_new(a, json_integer(p[i]));
  return a;
}

static inline uint8_t *tu_unhex(const char *hex, size_t *n) {
  uint8_t *out = NULL;
  tr_err *e = tr_hex_decode(hex, strlen(hex), &out, n);
  assert_null(e);
  return out;
}

/* One verifier instance from the table. */
typedef struct {
  const tr_verifier_ops *ops;
  void *state;
} tu_verifier;

static inline tu_verifier tu_make(const char *tee, const char *config_json) {
  tu_verifier v = {tr_verifier_lookup(tee), NULL};
  assert_non_null(v.ops);
  json_t *cfg = config_json ? json_loads(config_json, 0, NULL) : NULL;
  tr_err *e = v.ops->create(cfg, &v.state);
  if (e) fprintf(stderr, "create: %s\n", tr_err_msg(e));
  assert_null(e);
  json_decref(cfg);
  return v;
}

static inline void tu_free(tu_verifier *v) {
  if (v->ops && v->ops->destroy) v->ops->destroy(v->state);
}

/* Evaluates; returns the claims (new reference) or NULL with *err set. */
static inline json_t *tu_eval(tu_verifier *v, const json_t *ev, const uint8_t *rd, size_t rd_len,
                              bool rd_present, const uint8_t *id, size_t id_len, bool id_present,
                              tr_err **err) {
  tr_expected r = {rd_present, rd, rd_len}, i = {id_present, id, id_len};
  tr_verified_list out = {0};
  *err = v->ops->evaluate(v->state, ev, &r, &i, &out);
  json_t *claims = NULL;
  if (!*err) {
    assert_int_equal(out.len, 1);
    assert_string_equal(out.items[0].tee_class, "cpu");
    claims = json_incref(out.items[0].claims);
  }
  tr_verified_list_clear(&out);
  return claims;
}

/* Asserts success and returns claims. */
static inline json_t *tu_ok(tu_verifier *v, const json_t *ev, const uint8_t *rd, size_t rd_len,
                            bool rd_present, const uint8_t *id, size_t id_len, bool id_present) {
  tr_err *e = NULL;
  json_t *c = tu_eval(v, ev, rd, rd_len, rd_present, id, id_len, id_present, &e);
  if (e) fprintf(stderr, "unexpected error: %s\n", tr_err_msg(e));
  assert_null(e);
  assert_non_null(c);
  return c;
}

/* Asserts failure whose message contains `needle`. */
static inline void tu_fails(tu_verifier *v, const json_t *ev, const uint8_t *rd, size_t rd_len,
                            bool rd_present, const uint8_t *id, size_t id_len, bool id_present,
                            const char *needle) {
  tr_err *e = NULL;
  json_t *c = tu_eval(v, ev, rd, rd_len, rd_present, id, id_len, id_present, &e);
  json_decref(c);
  assert_non_null(e);
  if (!strstr(tr_err_msg(e), needle)) fprintf(stderr, "error `%s` lacks `%s`\n", tr_err_msg(e), needle);
  assert_non_null(strstr(tr_err_msg(e), needle));
  tr_err_free(e);
}

static inline void tu_err_has(tr_err *e, const char *needle) {
  assert_non_null(e);
  if (!strstr(tr_err_msg(e), needle)) fprintf(stderr, "error `%s` lacks `%s`\n", tr_err_msg(e), needle);
  assert_non_null(strstr(tr_err_msg(e), needle));
  tr_err_free(e);
}

static inline void tu_claim_str(const json_t *c, const char *path, const char *want) {
  json_t *v = tr_json_path(c, path);
  if (!json_is_string(v)) fprintf(stderr, "claim %s is not a string\n", path);
  assert_true(json_is_string(v));
  if (strcmp(json_string_value(v), want) != 0)
    fprintf(stderr, "claim %s = %s, want %s\n", path, json_string_value(v), want);
  assert_string_equal(json_string_value(v), want);
}

static inline void tu_claim_int(const json_t *c, const char *path, json_int_t want) {
  json_t *v = tr_json_path(c, path);
  assert_true(json_is_integer(v));
  assert_int_equal(json_integer_value(v), want);
}

static inline void tu_claim_bool(const json_t *c, const char *path, bool want) {
  json_t *v = tr_json_path(c, path);
  assert_true(json_is_boolean(v));
  assert_int_equal(json_is_true(v), want);
}

#endif
