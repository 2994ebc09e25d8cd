/* numbers.c — abs, ceil, floor, round, numbers.range, numbers.range_step,
 * rand.intn.
 *
 * Integers stay exact (int64 or big); ceil/floor/round of a float give an
 * integer. round is Go's math.Round: halves away from zero. */
#include <math.h>

#include "core/encoding.h"
#include "rego/builtins/common_internal.h"

/* Upper bound on numbers.range results: OPA has none, but a policy must not
 * be able to allocate gigabytes with one call. */
#define RB_RANGE_MAX 10000000

static rego_bi_status bi_abs(rego_bctx *ctx, rv *const *args, rv **out) {
  const rv *x = args[0];
  if (!rv_is(x, RV_NUMBER)) return rego_bi_operand_error(ctx, 1, "number", x);
  switch (x->numkind) {
  case RV_NUM_INT:
    if (x->u.i >= 0) return (*out = (rv *)x), REGO_BI_OK;
    *out = rb_num_from_i128(ctx->arena, -(rb_i128)x->u.i);
    return REGO_BI_OK;
  case RV_NUM_FLOAT: *out = rv_float(ctx->arena, fabs(x->u.d)); return REGO_BI_OK;
  default:
    if (x->u.str.s[0] != '-') return (*out = (rv *)x), REGO_BI_OK;
    *out = rv_number_from_text(ctx->arena, x->u.str.s + 1, x->u.str.len - 1);
    return REGO_BI_OK;
  }
}

static rego_bi_status rounding(rego_bctx *ctx, rv *const *args, rv **out, double (*fn)(double)) {
  const rv *x = args[0];
  if (!rv_is(x, RV_NUMBER)) return rego_bi_operand_error(ctx, 1, "number", x);
  if (x->numkind != RV_NUM_FLOAT) return (*out = (rv *)x), REGO_BI_OK;
  double r = fn(x->u.d);
  if (r > -9.2e18 && r < 9.2e18)
    *out = rv_int(ctx->arena, (int64_t)r);
  else {
    char buf[400];
    snprintf(buf, sizeof buf, "%.0f", r);
    *out = rv_number_from_text(ctx->arena, buf, strlen(buf));
  }
  return *out ? REGO_BI_OK : rego_bi_error(ctx, "number out of range");
}

static rego_bi_status bi_ceil(rego_bctx *ctx, rv *const *args, rv **out) {
  return rounding(ctx, args, out, ceil);
}
static rego_bi_status bi_floor(rego_bctx *ctx, rv *const *args, rv **out) {
  return rounding(ctx, args, out, floor);
}
static rego_bi_status bi_round(rego_bctx *ctx, rv *const *args, rv **out) {
  return rounding(ctx, args, out, round);
}

/* OPA's BigIntOperand: "must be integer" for non-numbers; integers up to
 * 38 digits (beyond that a range could not be generated anyway). */
static rego_bi_status range_operand(rego_bctx *ctx, rv *const *args, int idx, rb_i128 *v) {
  if (!rv_is(args[idx], RV_NUMBER)) return rego_bi_operand_error(ctx, idx + 1, "integer", args[idx]);
  if (!rv_num_is_integer(args[idx]))
    return rego_bi_type_error(ctx, "operand %d must be integer number but got floating-point number",
                              idx + 1);
  if (!rb_num_i128(args[idx], v)) return rego_bi_error(ctx, "operand %d is out of range", idx + 1);
  return REGO_BI_OK;
}

static rego_bi_status make_range(rego_bctx *ctx, rb_i128 x, rb_i128 y, rb_i128 step, rv **out) {
  rb_i128 span = x <= y ? y - x : x - y;
  rb_i128 count = span / step + 1;
  if (count > RB_RANGE_MAX)
    return rego_bi_error(ctx, "range of %lld numbers exceeds the limit of %d", (long long)count,
                         RB_RANGE_MAX);
  rv **items = rv_alloc(ctx->arena, (size_t)count * sizeof(rv *));
  rb_i128 cur = x;
  for (rb_i128 i = 0; i < count; i++) {
    items[i] = rb_num_from_i128(ctx->arena, cur);
    if (i + 1 < count) cur = x <= y ? cur + step : cur - step;
  }
  *out = rv_array(ctx->arena, items, (size_t)count);
  return REGO_BI_OK;
}

static rego_bi_status bi_range(rego_bctx *ctx, rv *const *args, rv **out) {
  rb_i128 x = 0, y = 0;
  rego_bi_status st;
  if ((st = range_operand(ctx, args, 0, &x)) != REGO_BI_OK) return st;
  if ((st = range_operand(ctx, args, 1, &y)) != REGO_BI_OK) return st;
  return make_range(ctx, x, y, 1, out);
}

static rego_bi_status bi_range_step(rego_bctx *ctx, rv *const *args, rv **out) {
  rb_i128 x = 0, y = 0, step = 0;
  rego_bi_status st;
  if ((st = range_operand(ctx, args, 0, &x)) != REGO_BI_OK) return st;
  if ((st = range_operand(ctx, args, 1, &y)) != REGO_BI_OK) return st;
  if ((st = range_operand(ctx, args, 2, &step)) != REGO_BI_OK) return st;
  if (step <= 0) return rego_bi_error(ctx, "step must be a positive integer");
  return make_range(ctx, x, y, step, out);
}

/* rand.intn(str, n): one random value per (str, |n|) and evaluation. */
static rego_bi_status bi_rand_intn(rego_bctx *ctx, rv *const *args, rv **out) {
  RB_EXPECT(ctx, args, 0, RV_STRING, "string");
  int64_t n;
  rego_bi_status st = rb_int_operand(ctx, args, 1, &n);
  if (st != REGO_BI_OK) return st;
  if (n == 0) return (*out = rv_int(ctx->arena, 0)), REGO_BI_OK;
  uint64_t un = n < 0 ? (uint64_t)0 - (uint64_t)n : (uint64_t)n;
  rv *keyparts[2] = {args[0], rv_int(ctx->arena, (int64_t)un)};
  rv *key = rv_array(ctx->arena, keyparts, 2);
  rv *cached = rego_bi_cache_get(ctx, "rand.intn", key);
  if (cached) return (*out = cached), REGO_BI_OK;
  uint64_t r, limit = UINT64_MAX - UINT64_MAX % un;
  do {
    tr_err *e = tr_random_bytes(&r, sizeof r);
    if (e) {
      tr_err_free(e);
      return rego_bi_error(ctx, "no random bytes available");
    }
  } while (r >= limit);
  rv *res = rv_int(ctx->arena, (int64_t)(r % un));
  rego_bi_cache_put(ctx, "rand.intn", key, res, NULL);
  *out = res;
  return REGO_BI_OK;
}

const rego_builtin_def rego_builtins_numbers[] = {
    {"abs", 1, bi_abs, 0},
    {"ceil", 1, bi_ceil, 0},
    {"floor", 1, bi_floor, 0},
    {"round", 1, bi_round, 0},
    {"numbers.range", 2, bi_range, 0},
    {"numbers.range_step", 3, bi_range_step, 0},
    {"rand.intn", 2, bi_rand_intn, REGO_BI_NONDET},
    {NULL, 0, NULL, 0},
};
