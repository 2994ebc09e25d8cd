/* arrays.c — array.concat, array.slice, array.reverse, array.flatten. */
#include "rego/builtins/common_internal.h"

static rego_bi_status bi_concat(rego_bctx *ctx, rv *const *args, rv **out) {
  RB_EXPECT(ctx, args, 0, RV_ARRAY, "array");
  RB_EXPECT(ctx, args, 1, RV_ARRAY, "array");
  size_t n1 = args[0]->u.arr.len, n2 = args[1]->u.arr.len;
  if (n2 == 0) return (*out = args[0]), REGO_BI_OK;
  if (n1 == 0) return (*out = args[1]), REGO_BI_OK;
  rv **items = rv_alloc(ctx->arena, (n1 + n2) * sizeof(rv *));
  memcpy(items, args[0]->u.arr.items, n1 * sizeof(rv *));
  memcpy(items + n1, args[1]->u.arr.items, n2 * sizeof(rv *));
  *out = rv_array(ctx->arena, items, n1 + n2);
  return REGO_BI_OK;
}

static rego_bi_status bi_slice(rego_bctx *ctx, rv *const *args, rv **out) {
  RB_EXPECT(ctx, args, 0, RV_ARRAY, "array");
  int64_t start, stop;
  rego_bi_status st;
  if ((st = rb_int_operand(ctx, args, 1, &start)) != REGO_BI_OK) return st;
  if ((st = rb_int_operand(ctx, args, 2, &stop)) != REGO_BI_OK) return st;
  int64_t len = (int64_t)args[0]->u.arr.len;
  if (stop < 0)
    stop = 0;
  else if (stop > len)
    stop = len;
  if (start < 0)
    start = 0;
  else if (start > stop)
    start = stop;
  *out = rv_array(ctx->arena, args[0]->u.arr.items + start, (size_t)(stop - start));
  return REGO_BI_OK;
}

static rego_bi_status bi_reverse(rego_bctx *ctx, rv *const *args, rv **out) {
  RB_EXPECT(ctx, args, 0, RV_ARRAY, "array");
  size_t n = args[0]->u.arr.len;
  rv **items = rv_alloc(ctx->arena, (n ? n : 1) * sizeof(rv *));
  for (size_t i = 0; i < n; i++)
    items[i] = args[0]->u.arr.items[n - 1 - i];
  *out = rv_array(ctx->arena, items, n);
  return REGO_BI_OK;
}

/* One level, as OPA: [[1, [2]], 3] -> [1, [2], 3]. */
static void flatten_into(rv_arena *a, rv_vec *v, const rv *arr) {
  for (size_t i = 0; i < arr->u.arr.len; i++) {
    rv *x = arr->u.arr.items[i];
    if (rv_is(x, RV_ARRAY))
      for (size_t j = 0; j < x->u.arr.len; j++)
        rv_vec_push(a, v, x->u.arr.items[j]);
    else
      rv_vec_push(a, v, x);
  }
}

static rego_bi_status bi_flatten(rego_bctx *ctx, rv *const *args, rv **out) {
  RB_EXPECT(ctx, args, 0, RV_ARRAY, "array");
  rv_vec v = {0};
  flatten_into(ctx->arena, &v, args[0]);
  *out = rv_array(ctx->arena, v.items, v.len);
  return REGO_BI_OK;
}

const rego_builtin_def rego_builtins_arrays[] = {
    {"array.concat", 2, bi_concat, 0},
    {"array.slice", 3, bi_slice, 0},
    {"array.reverse", 1, bi_reverse, 0},
    {"array.flatten", 1, bi_flatten, 0},
    {NULL, 0, NULL, 0},
};
