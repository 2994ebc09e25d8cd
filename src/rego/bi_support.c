/* bi_support.c — helpers the builtin families call (errors, per-evaluation
 * cache) and the name lookup over all linked family tables. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rego/builtins/builtins.h"
#include "rego/internal.h"

static rego_bi_status set_err(rego_bctx *ctx, rego_bi_errkind kind, bool raw, const char *fmt, va_list ap) {
  ctx->err_kind = kind;
  ctx->err_raw = raw;
  vsnprintf(ctx->err_msg, sizeof ctx->err_msg, fmt, ap);
  return REGO_BI_ERROR;
}

rego_bi_status rego_bi_type_error(rego_bctx *ctx, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  rego_bi_status s = set_err(ctx, REGO_BI_ERR_TYPE, false, fmt, ap);
  va_end(ap);
  return s;
}

rego_bi_status rego_bi_error(rego_bctx *ctx, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  rego_bi_status s = set_err(ctx, REGO_BI_ERR_BUILTIN, false, fmt, ap);
  va_end(ap);
  return s;
}

rego_bi_status rego_bi_error_raw(rego_bctx *ctx, rego_bi_errkind kind, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  rego_bi_status s = set_err(ctx, kind, true, fmt, ap);
  va_end(ap);
  return s;
}

rego_bi_status rego_bi_operand_error(rego_bctx *ctx, int argno, const char *expected, const rv *got) {
  return rego_bi_type_error(ctx, "operand %d must be %s but got %s", argno, expected, rv_type_name(got));
}

struct cache_ent {
  struct cache_ent *next;
  const char *kind;
  const rv *key;
  uint32_t hash;
  void *obj;
  void (*free_fn)(void *);
};

struct rego_bi_cache {
  struct cache_ent *head;
};

void *rego_bi_cache_get(rego_bctx *ctx, const char *kind, const rv *key) {
  if (!ctx->cache) return NULL;
  uint32_t h = rv_hash(key);
  for (struct cache_ent *e = ctx->cache->head; e; e = e->next)
    if (e->hash == h && strcmp(e->kind, kind) == 0 && rv_equal(e->key, key)) return e->obj;
  return NULL;
}

void rego_bi_cache_put(rego_bctx *ctx, const char *kind, const rv *key, void *obj, void (*free_fn)(void *)) {
  if (!ctx->cache) {
    ctx->cache = rv_zalloc(ctx->arena, sizeof(rego_bi_cache));
  }
  struct cache_ent *e = rv_alloc(ctx->arena, sizeof(*e));
  *e = (struct cache_ent){ctx->cache->head, kind, key, rv_hash(key), obj, free_fn};
  ctx->cache->head = e;
}

void rego_bi_cache_free(rego_bi_cache *c) {
  if (!c) return;
  for (struct cache_ent *e = c->head; e; e = e->next)
    if (e->free_fn) e->free_fn(e->obj);
  c->head = NULL;
}

#define REGO_FAMILY_PTR(f) rego_builtins_##f,
static const rego_builtin_def *const families[] = {REGO_BUILTIN_FAMILIES(REGO_FAMILY_PTR)};

const rego_builtin_def *rego_builtin_lookup(const char *name) {
  for (size_t i = 0; i < sizeof families / sizeof families[0]; i++) {
    const rego_builtin_def *t = families[i];
    if (!t) continue;
    for (; t->name; t++)
      if (strcmp(t->name, name) == 0) return t;
  }
  return NULL;
}
