/* bi_support.c — helpers the builtin families call (errors, per-evaluation
 * cache) and the name lookup over all linked family tables. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REGO_BUILTINS_NO_WEAK_DECLS
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

/* Strong references to the family tables whose files exist (see module.cmake). */
#ifdef REGO_HAVE_FAMILY_aggregates
extern const rego_builtin_def rego_builtins_aggregates[];
#define FAM_aggregates rego_builtins_aggregates,
#else
#define FAM_aggregates
#endif
#ifdef REGO_HAVE_FAMILY_arrays
extern const rego_builtin_def rego_builtins_arrays[];
#define FAM_arrays rego_builtins_arrays,
#else
#define FAM_arrays
#endif
#ifdef REGO_HAVE_FAMILY_sets
extern const rego_builtin_def rego_builtins_sets[];
#define FAM_sets rego_builtins_sets,
#else
#define FAM_sets
#endif
#ifdef REGO_HAVE_FAMILY_objects
extern const rego_builtin_def rego_builtins_objects[];
#define FAM_objects rego_builtins_objects,
#else
#define FAM_objects
#endif
#ifdef REGO_HAVE_FAMILY_strings
extern const rego_builtin_def rego_builtins_strings[];
#define FAM_strings rego_builtins_strings,
#else
#define FAM_strings
#endif
#ifdef REGO_HAVE_FAMILY_regex
extern const rego_builtin_def rego_builtins_regex[];
#define FAM_regex rego_builtins_regex,
#else
#define FAM_regex
#endif
#ifdef REGO_HAVE_FAMILY_types
extern const rego_builtin_def rego_builtins_types[];
#define FAM_types rego_builtins_types,
#else
#define FAM_types
#endif
#ifdef REGO_HAVE_FAMILY_numbers
extern const rego_builtin_def rego_builtins_numbers[];
#define FAM_numbers rego_builtins_numbers,
#else
#define FAM_numbers
#endif
#ifdef REGO_HAVE_FAMILY_bits
extern const rego_builtin_def rego_builtins_bits[];
#define FAM_bits rego_builtins_bits,
#else
#define FAM_bits
#endif
#ifdef REGO_HAVE_FAMILY_conversions
extern const rego_builtin_def rego_builtins_conversions[];
#define FAM_conversions rego_builtins_conversions,
#else
#define FAM_conversions
#endif
#ifdef REGO_HAVE_FAMILY_encoding
extern const rego_builtin_def rego_builtins_encoding[];
#define FAM_encoding rego_builtins_encoding,
#else
#define FAM_encoding
#endif
#ifdef REGO_HAVE_FAMILY_time
extern const rego_builtin_def rego_builtins_time[];
#define FAM_time rego_builtins_time,
#else
#define FAM_time
#endif
#ifdef REGO_HAVE_FAMILY_semver
extern const rego_builtin_def rego_builtins_semver[];
#define FAM_semver rego_builtins_semver,
#else
#define FAM_semver
#endif
#ifdef REGO_HAVE_FAMILY_glob
extern const rego_builtin_def rego_builtins_glob[];
#define FAM_glob rego_builtins_glob,
#else
#define FAM_glob
#endif
#ifdef REGO_HAVE_FAMILY_crypto
extern const rego_builtin_def rego_builtins_crypto[];
#define FAM_crypto rego_builtins_crypto,
#else
#define FAM_crypto
#endif
#ifdef REGO_HAVE_FAMILY_units
extern const rego_builtin_def rego_builtins_units[];
#define FAM_units rego_builtins_units,
#else
#define FAM_units
#endif
#ifdef REGO_HAVE_FAMILY_json
extern const rego_builtin_def rego_builtins_json[];
#define FAM_json rego_builtins_json,
#else
#define FAM_json
#endif
#ifdef REGO_HAVE_FAMILY_misc
extern const rego_builtin_def rego_builtins_misc[];
#define FAM_misc rego_builtins_misc,
#else
#define FAM_misc
#endif
static const rego_builtin_def *const families[] = {
    FAM_aggregates FAM_arrays FAM_sets FAM_objects FAM_strings FAM_regex FAM_types FAM_numbers FAM_bits
        FAM_conversions FAM_encoding FAM_time FAM_semver FAM_glob FAM_crypto FAM_units FAM_json FAM_misc
            NULL};

const rego_builtin_def *rego_builtin_lookup(const char *name) {
  for (size_t i = 0; i < sizeof families / sizeof families[0]; i++) {
    const rego_builtin_def *t = families[i];
    if (!t) continue;
    for (; t->name; t++)
      if (strcmp(t->name, name) == 0) return t;
  }
  return NULL;
}
