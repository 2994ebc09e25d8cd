/* bits.c — bits.and/or/xor/negate/lsh/rsh on integers (two's complement,
 * arbitrary width as in Go's big.Int; here up to 127 bits). */
#include "rego/builtins/common_internal.h"

static rego_bi_status int_arg(rego_bctx *ctx, rv *const *args, int idx, rb_i128 *v) {
  if (!rv_is(args[idx], RV_NUMBER)) return rego_bi_operand_error(ctx, idx + 1, "number", args[idx]);
  if (!rv_num_is_integer(args[idx]))
    return rego_bi_type_error(ctx, "operand %d must be integer number but got floating-point number",
                              idx + 1);
  if (!rb_num_i128(args[idx], v)) return rego_bi_error(ctx, "operand %d is out of range", idx + 1);
  return REGO_BI_OK;
}

#define BIN_FN(name, op)                                                                                     \
  static rego_bi_status bi_##name(rego_bctx *ctx, rv *const *args, rv **out) {                               \
    rb_i128 a = 0, b = 0;                                                                                    \
    rego_bi_status st;                                                                                       \
    if ((st = int_arg(ctx, args, 0, &a)) != REGO_BI_OK) return st;                                           \
    if ((st = int_arg(ctx, args, 1, &b)) != REGO_BI_OK) return st;                                           \
    *out = rb_num_from_i128(ctx->arena, a op b);                                                             \
    return REGO_BI_OK;                                                                                       \
  }
BIN_FN(and, &)
BIN_FN(or, |)
BIN_FN(xor, ^)

static rego_bi_status bi_negate(rego_bctx *ctx, rv *const *args, rv **out) {
  rb_i128 a = 0;
  rego_bi_status st = int_arg(ctx, args, 0, &a);
  if (st != REGO_BI_OK) return st;
  *out = rb_num_from_i128(ctx->arena, ~a);
  return REGO_BI_OK;
}

static rego_bi_status shift(rego_bctx *ctx, rv *const *args, rv **out, bool left) {
  rb_i128 a = 0, b = 0;
  rego_bi_status st;
  if ((st = int_arg(ctx, args, 0, &a)) != REGO_BI_OK) return st;
  if ((st = int_arg(ctx, args, 1, &b)) != REGO_BI_OK) return st;
  if (b < 0)
    return rego_bi_type_error(ctx, "operand 2 must be an unsigned integer number but got a negative integer");
  if (!left) {
    *out = rb_num_from_i128(ctx->arena, b >= 127 ? (a < 0 ? -1 : 0) : a >> (int)b);
    return REGO_BI_OK;
  }
  if (a == 0) return (*out = rv_int(ctx->arena, 0)), REGO_BI_OK;
  if (b >= 126) return rego_bi_error(ctx, "result is too large");
  rb_i128 r = a * ((rb_i128)1 << (int)b);
  if (r / ((rb_i128)1 << (int)b) != a) return rego_bi_error(ctx, "result is too large");
  *out = rb_num_from_i128(ctx->arena, r);
  return REGO_BI_OK;
}

static rego_bi_status bi_lsh(rego_bctx *ctx, rv *const *args, rv **out) {
  return shift(ctx, args, out, true);
}
static rego_bi_status bi_rsh(rego_bctx *ctx, rv *const *args, rv **out) {
  return shift(ctx, args, out, false);
}

const rego_builtin_def rego_builtins_bits[] = {
    {"bits.and", 2, bi_and, 0}, {"bits.or", 2, bi_or, 0},
    {"bits.xor", 2, bi_xor, 0}, {"bits.negate", 1, bi_negate, 0},
    {"bits.lsh", 2, bi_lsh, 0}, {"bits.rsh", 2, bi_rsh, 0},
    {NULL, 0, NULL, 0},
};
