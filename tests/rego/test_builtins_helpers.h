/* test_builtins_helpers.h — shared scaffolding for the builtin family tests:
 * calls a builtin through the linked tables (rego_builtin_lookup) with
 * arguments written as JSON, and renders the outcome as one string:
 *   - a defined result: its compact JSON (sets as sorted arrays),
 *   - "undefined",
 *   - "type error: <msg>" / "builtin error: <msg>" (message without the
 *     "<name>: " prefix the evaluator adds).
 * In argument JSON an object {"$set": [...]} stands for a set. */
#ifndef TEST_BUILTINS_HELPERS_H
#define TEST_BUILTINS_HELPERS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rego/builtins/builtins.h"
#include "rego/internal.h" /* rego_bi_cache_free */
#include "rego/value.h"

static rv *tb_convert_sets(rv_arena *a, rv *v) {
  if (rv_is(v, RV_ARRAY)) {
    rv **items = rv_alloc(a, (v->u.arr.len + 1) * sizeof(rv *));
    for (size_t i = 0; i < v->u.arr.len; i++)
      items[i] = tb_convert_sets(a, v->u.arr.items[i]);
    return rv_array(a, items, v->u.arr.len);
  }
  if (rv_is(v, RV_OBJECT)) {
    if (v->u.obj.len == 1 && rv_is(v->u.obj.keys[0], RV_STRING) &&
        strcmp(v->u.obj.keys[0]->u.str.s, "$set") == 0 && rv_is(v->u.obj.vals[0], RV_ARRAY)) {
      rv *arr = tb_convert_sets(a, v->u.obj.vals[0]);
      return rv_set(a, arr->u.arr.items, arr->u.arr.len);
    }
    rv **keys = rv_alloc(a, (v->u.obj.len + 1) * sizeof(rv *));
    rv **vals = rv_alloc(a, (v->u.obj.len + 1) * sizeof(rv *));
    for (size_t i = 0; i < v->u.obj.len; i++) {
      keys[i] = tb_convert_sets(a, v->u.obj.keys[i]);
      vals[i] = tb_convert_sets(a, v->u.obj.vals[i]);
    }
    return rv_object(a, keys, vals, v->u.obj.len, NULL);
  }
  return v;
}

static rv *tb_parse(rv_arena *a, const char *json) {
  rv *v = NULL;
  tr_err *e = rv_parse_json(a, json, strlen(json), 0, &v);
  if (e) {
    fprintf(stderr, "bad test JSON %s: %s\n", json, tr_err_msg(e));
    tr_err_free(e);
    fail();
  }
  return tb_convert_sets(a, v);
}

/* Calls `name` with the JSON array `args`; returns a malloc'd outcome. */
static char *tb_call_ctx(rego_bctx *ctx, const char *name, const char *args) {
  const rego_builtin_def *def = rego_builtin_lookup(name);
  if (!def) {
    fprintf(stderr, "builtin %s is not linked\n", name);
    fail();
  }
  rv *arr = tb_parse(ctx->arena, args);
  assert_true(rv_is(arr, RV_ARRAY));
  assert_int_equal((int)arr->u.arr.len, def->arity);
  ctx->name = name;
  ctx->err_kind = REGO_BI_ERR_NONE;
  ctx->err_msg[0] = '\0';
  rv *out = NULL;
  rego_bi_status st = def->fn(ctx, arr->u.arr.items, &out);
  rv_buf b = {0};
  if (st == REGO_BI_UNDEFINED)
    rv_buf_puts(&b, "undefined");
  else if (st == REGO_BI_ERROR) {
    rv_buf_puts(&b, ctx->err_kind == REGO_BI_ERR_TYPE ? "type error: " : "builtin error: ");
    rv_buf_puts(&b, ctx->err_msg);
  } else {
    assert_non_null(out);
    rv_write_json(&b, out);
  }
  rv_buf_putc(&b, '\0');
  return b.s;
}

static char *tb_call(const char *name, const char *args) {
  rv_arena *a = rv_arena_new();
  rego_bctx ctx = {.arena = a, .strict = true, .now_ns = 1670006453141828752LL};
  char *r = tb_call_ctx(&ctx, name, args);
  rego_bi_cache_free(ctx.cache);
  rv_arena_free(a);
  return r;
}

/* Canonical JSON of an expected value (so spacing in tests does not matter). */
static char *tb_canon(const char *json) {
  if (strcmp(json, "undefined") == 0 || strncmp(json, "type error", 10) == 0 ||
      strncmp(json, "builtin error", 13) == 0)
    return strdup(json);
  rv_arena *a = rv_arena_new();
  rv *v = tb_parse(a, json);
  rv_buf b = {0};
  rv_write_json(&b, v);
  rv_buf_putc(&b, '\0');
  rv_arena_free(a);
  return b.s;
}

static int tb_failures;

/* Expect an exact outcome; error expectations match as a prefix. */
static void tb_expect(const char *file, int line, const char *name, const char *args, const char *want) {
  char *got = tb_call(name, args);
  char *w = tb_canon(want);
  bool ok = strncmp(w, "type error", 10) == 0 || strncmp(w, "builtin error", 13) == 0
                ? strncmp(got, w, strlen(w)) == 0
                : strcmp(got, w) == 0;
  if (!ok) {
    fprintf(stderr, "%s:%d: %s(%s)\n   got:  %s\n   want: %s\n", file, line, name, args, got, w);
    tb_failures++;
  }
  free(got);
  free(w);
}

#define EXPECT(name, args, want) tb_expect(__FILE__, __LINE__, name, args, want)
#define TB_DONE() assert_int_equal(tb_failures, 0)

#endif
