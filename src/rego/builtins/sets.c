/* sets.c — intersection and union of a set of sets. */
#include "rego/builtins/common_internal.h"

static rego_bi_status check_set_of_sets(rego_bctx *ctx, const rv *s) {
  if (!rv_is(s, RV_SET)) return rego_bi_operand_error(ctx, 1, "set", s);
  for (size_t i = 0; i < s->u.arr.len; i++)
    if (!rv_is(s->u.arr.items[i], RV_SET))
      return rego_bi_type_error(ctx, "operand 1 must be set of sets but got set containing %s",
                                rv_type_name(s->u.arr.items[i]));
  return REGO_BI_OK;
}

static rego_bi_status bi_union(rego_bctx *ctx, rv *const *args, rv **out) {
  rego_bi_status st = check_set_of_sets(ctx, args[0]);
  if (st != REGO_BI_OK) return st;
  const rv *s = args[0];
  if (s->u.arr.len == 1) return (*out = s->u.arr.items[0]), REGO_BI_OK;
  rv_vec v = {0};
  for (size_t i = 0; i < s->u.arr.len; i++) {
    const rv *x = s->u.arr.items[i];
    for (size_t j = 0; j < x->u.arr.len; j++)
      rv_vec_push(ctx->arena, &v, x->u.arr.items[j]);
  }
  *out = rv_set(ctx->arena, v.items, v.len);
  return REGO_BI_OK;
}

static rego_bi_status bi_intersection(rego_bctx *ctx, rv *const *args, rv **out) {
  rego_bi_status st = check_set_of_sets(ctx, args[0]);
  if (st != REGO_BI_OK) return st;
  const rv *s = args[0];
  if (s->u.arr.len == 0) return (*out = &rv_empty_set_v), REGO_BI_OK;
  const rv *first = s->u.arr.items[0];
  rv_vec v = {0};
  for (size_t j = 0; j < first->u.arr.len; j++) {
    rv *x = first->u.arr.items[j];
    bool all = true;
    for (size_t i = 1; i < s->u.arr.len && all; i++)
      all = rv_set_contains(s->u.arr.items[i], x);
    if (all) rv_vec_push(ctx->arena, &v, x);
  }
  *out = rv_set(ctx->arena, v.items, v.len);
  return REGO_BI_OK;
}

const rego_builtin_def rego_builtins_sets[] = {
    {"intersection", 1, bi_intersection, 0},
    {"union", 1, bi_union, 0},
    {NULL, 0, NULL, 0},
};
