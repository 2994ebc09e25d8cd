/* aggregates.c — count, sum, product, max, min, sort (OPA semantics).
 *
 * sum/product are exact on integers (int128 accumulation; OPA uses
 * big.Int) and fall back to doubles as soon as a non-integer takes part. */
#include <math.h>

#include "rego/builtins/common_internal.h"
#include "rego/builtins/utf8_internal.h"

static rego_bi_status bi_count(rego_bctx *ctx, rv *const *args, rv **out) {
  const rv *x = args[0];
  switch (x->kind) {
  case RV_ARRAY:
  case RV_SET: *out = rv_int(ctx->arena, (int64_t)x->u.arr.len); return REGO_BI_OK;
  case RV_OBJECT: *out = rv_int(ctx->arena, (int64_t)x->u.obj.len); return REGO_BI_OK;
  case RV_STRING:
    *out = rv_int(ctx->arena, (int64_t)rb_utf8_count(x->u.str.s, x->u.str.len));
    return REGO_BI_OK;
  default: return rego_bi_operand_error(ctx, 1, "one of {array, object, set, string}", x);
  }
}

static rego_bi_status accumulate(rego_bctx *ctx, rv *const *args, rv **out, bool mul) {
  const rv *c = args[0];
  if (!rv_is(c, RV_ARRAY) && !rv_is(c, RV_SET))
    return rego_bi_operand_error(ctx, 1, "one of {set, array}", c);
  rb_i128 acc = mul ? 1 : 0;
  bool exact = true;
  double dacc = mul ? 1.0 : 0.0;
  for (size_t i = 0; i < c->u.arr.len; i++) {
    const rv *x = c->u.arr.items[i];
    if (!rv_is(x, RV_NUMBER)) {
      return rego_bi_type_error(ctx, "operand 1 must be %s of numbers but got %s containing %s",
                                rv_type_name(c), rv_type_name(c), rv_type_name(x));
    }
    rb_i128 v;
    if (exact && x->numkind != RV_NUM_FLOAT && rb_num_i128(x, &v)) {
      rb_i128 r;
      bool ovf = mul ? __builtin_mul_overflow(acc, v, &r) : __builtin_add_overflow(acc, v, &r);
      if (!ovf) {
        acc = r;
        continue;
      }
    }
    if (exact) {
      exact = false;
      dacc = (double)acc;
    }
    double d = rv_num_to_double(x);
    dacc = mul ? dacc * d : dacc + d;
  }
  if (exact) {
    *out = rb_num_from_i128(ctx->arena, acc);
    return REGO_BI_OK;
  }
  if (!isfinite(dacc)) return rego_bi_error(ctx, "result is out of range");
  *out = rb_num_from_double(ctx->arena, dacc);
  return REGO_BI_OK;
}

static rego_bi_status bi_sum(rego_bctx *ctx, rv *const *args, rv **out) {
  return accumulate(ctx, args, out, false);
}
static rego_bi_status bi_product(rego_bctx *ctx, rv *const *args, rv **out) {
  return accumulate(ctx, args, out, true);
}

static rego_bi_status extreme(rego_bctx *ctx, rv *const *args, rv **out, int sign) {
  const rv *c = args[0];
  if (!rv_is(c, RV_ARRAY) && !rv_is(c, RV_SET))
    return rego_bi_operand_error(ctx, 1, "one of {set, array}", c);
  if (c->u.arr.len == 0) return REGO_BI_UNDEFINED;
  if (c->kind == RV_SET) {
    *out = c->u.arr.items[sign > 0 ? c->u.arr.len - 1 : 0];
    return REGO_BI_OK;
  }
  rv *best = c->u.arr.items[0];
  for (size_t i = 1; i < c->u.arr.len; i++)
    if (rv_compare(c->u.arr.items[i], best) * sign > 0) best = c->u.arr.items[i];
  *out = best;
  return REGO_BI_OK;
}

static rego_bi_status bi_max(rego_bctx *ctx, rv *const *args, rv **out) { return extreme(ctx, args, out, 1); }
static rego_bi_status bi_min(rego_bctx *ctx, rv *const *args, rv **out) {
  return extreme(ctx, args, out, -1);
}

static int cmp_values(const void *a, const void *b) { return rv_compare(*(rv *const *)a, *(rv *const *)b); }

static rego_bi_status bi_sort(rego_bctx *ctx, rv *const *args, rv **out) {
  const rv *c = args[0];
  if (rv_is(c, RV_SET)) {
    *out = rv_array(ctx->arena, c->u.arr.items, c->u.arr.len);
    return REGO_BI_OK;
  }
  if (!rv_is(c, RV_ARRAY)) return rego_bi_operand_error(ctx, 1, "one of {set, array}", c);
  rv *r = rv_array(ctx->arena, c->u.arr.items, c->u.arr.len);
  if (r->u.arr.len > 1) qsort(r->u.arr.items, r->u.arr.len, sizeof(rv *), cmp_values);
  *out = r;
  return REGO_BI_OK;
}

const rego_builtin_def rego_builtins_aggregates[] = {
    {"count", 1, bi_count, 0}, {"sum", 1, bi_sum, 0}, {"product", 1, bi_product, 0},
    {"max", 1, bi_max, 0},     {"min", 1, bi_min, 0}, {"sort", 1, bi_sort, 0},
    {NULL, 0, NULL, 0},
};
