/* ops.c — Rego operators as builtins of the engine itself: comparison
 * (equal, neq, lt, lte, gt, gte), arithmetic (plus, minus, mul, div, rem)
 * with exact int64 and big-integer fallback (OpenSSL BIGNUM), set
 * operators (and, or, minus on sets) and membership (internal.member_2/3).
 * Names are OPA's, so generated modules calling `plus(1, 2, x)` work. */
#include <math.h>
#include <openssl/bn.h>
#include <string.h>

#include "rego/internal.h"

static rego_bi_status cmp_op(rego_bctx *c, rv *const *a, rv **out, int op) {
  (void)c;
  int r = rv_compare(a[0], a[1]);
  bool b = false;
  switch (op) {
  case 0: b = r == 0; break;
  case 1: b = r != 0; break;
  case 2: b = r < 0; break;
  case 3: b = r <= 0; break;
  case 4: b = r > 0; break;
  case 5: b = r >= 0; break;
  }
  *out = rv_bool(b);
  return REGO_BI_OK;
}

static rego_bi_status op_equal(rego_bctx *c, rv *const *a, rv **o) { return cmp_op(c, a, o, 0); }
static rego_bi_status op_neq(rego_bctx *c, rv *const *a, rv **o) { return cmp_op(c, a, o, 1); }
static rego_bi_status op_lt(rego_bctx *c, rv *const *a, rv **o) { return cmp_op(c, a, o, 2); }
static rego_bi_status op_lte(rego_bctx *c, rv *const *a, rv **o) { return cmp_op(c, a, o, 3); }
static rego_bi_status op_gt(rego_bctx *c, rv *const *a, rv **o) { return cmp_op(c, a, o, 4); }
static rego_bi_status op_gte(rego_bctx *c, rv *const *a, rv **o) { return cmp_op(c, a, o, 5); }

/* ---- big integers ---- */

static BIGNUM *to_bn(const rv *v) {
  BIGNUM *b = NULL;
  if (v->numkind == RV_NUM_BIG) {
    BN_dec2bn(&b, v->u.str.s);
  } else {
    char tmp[32];
    int64_t i = 0;
    rv_num_get_i64(v, &i);
    snprintf(tmp, sizeof tmp, "%lld", (long long)i);
    BN_dec2bn(&b, tmp);
  }
  return b;
}

static rv *from_bn(rv_arena *a, BIGNUM *b) {
  char *s = BN_bn2dec(b);
  rv *v = rv_number_from_text(a, s, strlen(s));
  OPENSSL_free(s);
  return v;
}

static bool is_exact(const rv *v) { return v->numkind == RV_NUM_INT || v->numkind == RV_NUM_BIG; }

static rego_bi_status float_result(rego_bctx *c, double d, rv **out) {
  if (!isfinite(d)) return rego_bi_error(c, "arithmetic result is not a finite number");
  *out = rv_float(c->arena, d);
  return REGO_BI_OK;
}

enum { A_PLUS, A_MINUS, A_MUL };

static rego_bi_status arith(rego_bctx *c, rv *const *a, rv **out, int op) {
  const rv *x = a[0], *y = a[1];
  if (is_exact(x) && is_exact(y)) {
    if (x->numkind == RV_NUM_INT && y->numkind == RV_NUM_INT) {
      int64_t r;
      bool ovf = op == A_PLUS    ? __builtin_add_overflow(x->u.i, y->u.i, &r)
                 : op == A_MINUS ? __builtin_sub_overflow(x->u.i, y->u.i, &r)
                                 : __builtin_mul_overflow(x->u.i, y->u.i, &r);
      if (!ovf) {
        *out = rv_int(c->arena, r);
        return REGO_BI_OK;
      }
    }
    BIGNUM *bx = to_bn(x), *by = to_bn(y), *br = BN_new();
    BN_CTX *ctx = BN_CTX_new();
    if (op == A_PLUS)
      BN_add(br, bx, by);
    else if (op == A_MINUS)
      BN_sub(br, bx, by);
    else
      BN_mul(br, bx, by, ctx);
    *out = from_bn(c->arena, br);
    BN_free(bx), BN_free(by), BN_free(br), BN_CTX_free(ctx);
    return REGO_BI_OK;
  }
  double dx = rv_num_to_double(x), dy = rv_num_to_double(y);
  double r = op == A_PLUS ? dx + dy : op == A_MINUS ? dx - dy : dx * dy;
  /* integral results of float arithmetic stay numbers; keep them as ints when exact */
  if (r == floor(r) && fabs(r) < 9007199254740992.0) {
    *out = rv_int(c->arena, (int64_t)r);
    return REGO_BI_OK;
  }
  return float_result(c, r, out);
}

static rego_bi_status need_nums(rego_bctx *c, rv *const *a) {
  if (a[0]->kind != RV_NUMBER) return rego_bi_operand_error(c, 1, "number", a[0]);
  if (a[1]->kind != RV_NUMBER) return rego_bi_operand_error(c, 2, "number", a[1]);
  return REGO_BI_OK;
}

static rego_bi_status op_plus(rego_bctx *c, rv *const *a, rv **o) {
  if (need_nums(c, a)) return REGO_BI_ERROR;
  return arith(c, a, o, A_PLUS);
}

static rego_bi_status op_mul(rego_bctx *c, rv *const *a, rv **o) {
  if (need_nums(c, a)) return REGO_BI_ERROR;
  return arith(c, a, o, A_MUL);
}

static rego_bi_status set_diff(rego_bctx *c, const rv *x, const rv *y, rv **o) {
  rv_vec v = {0};
  for (size_t i = 0; i < x->u.arr.len; i++)
    if (!rv_set_contains(y, x->u.arr.items[i])) rv_vec_push(c->arena, &v, x->u.arr.items[i]);
  *o = rv_set(c->arena, v.items, v.len);
  return REGO_BI_OK;
}

static rego_bi_status op_minus(rego_bctx *c, rv *const *a, rv **o) {
  bool n1 = a[0]->kind == RV_NUMBER, n2 = a[1]->kind == RV_NUMBER;
  bool s1 = a[0]->kind == RV_SET, s2 = a[1]->kind == RV_SET;
  if (n1 && n2) return arith(c, a, o, A_MINUS);
  if (s1 && s2) return set_diff(c, a[0], a[1], o);
  if (!n1 && !s1) return rego_bi_operand_error(c, 1, "one of {number, set}", a[0]);
  if (s1) return rego_bi_operand_error(c, 2, "set", a[1]);
  return rego_bi_operand_error(c, 2, "number", a[1]);
}

static rego_bi_status op_div(rego_bctx *c, rv *const *a, rv **o) {
  if (need_nums(c, a)) return REGO_BI_ERROR;
  const rv *x = a[0], *y = a[1];
  if (rv_num_to_double(y) == 0 && (y->numkind != RV_NUM_BIG)) return rego_bi_error(c, "divide by zero");
  if (x->numkind == RV_NUM_INT && y->numkind == RV_NUM_INT) {
    if (y->u.i != -1 && x->u.i % y->u.i == 0) {
      *o = rv_int(c->arena, x->u.i / y->u.i);
      return REGO_BI_OK;
    }
  } else if (is_exact(x) && is_exact(y)) {
    BIGNUM *bx = to_bn(x), *by = to_bn(y), *q = BN_new(), *r = BN_new();
    BN_CTX *ctx = BN_CTX_new();
    BN_div(q, r, bx, by, ctx);
    bool exact = BN_is_zero(r);
    if (exact) *o = from_bn(c->arena, q);
    BN_free(bx), BN_free(by), BN_free(q), BN_free(r), BN_CTX_free(ctx);
    if (exact) return REGO_BI_OK;
  }
  double r = rv_num_to_double(x) / rv_num_to_double(y);
  if (r == floor(r) && fabs(r) < 9007199254740992.0) {
    *o = rv_int(c->arena, (int64_t)r);
    return REGO_BI_OK;
  }
  return float_result(c, r, o);
}

static rego_bi_status op_rem(rego_bctx *c, rv *const *a, rv **o) {
  if (need_nums(c, a)) return REGO_BI_ERROR;
  const rv *x = a[0], *y = a[1];
  if (!rv_num_is_integer(x) || !rv_num_is_integer(y))
    return rego_bi_error(c, "modulo on floating-point number");
  int64_t ix, iy;
  if (rv_num_get_i64(x, &ix) && rv_num_get_i64(y, &iy)) {
    if (iy == 0) return rego_bi_error(c, "modulo by zero");
    *o = rv_int(c->arena, iy == -1 ? 0 : ix % iy);
    return REGO_BI_OK;
  }
  BIGNUM *bx = to_bn(x), *by = to_bn(y), *r = BN_new();
  BN_CTX *ctx = BN_CTX_new();
  if (BN_is_zero(by)) {
    BN_free(bx), BN_free(by), BN_free(r), BN_CTX_free(ctx);
    return rego_bi_error(c, "modulo by zero");
  }
  BN_div(NULL, r, bx, by, ctx); /* truncated, sign of dividend, as Go's big.Int.Rem */
  *o = from_bn(c->arena, r);
  BN_free(bx), BN_free(by), BN_free(r), BN_CTX_free(ctx);
  return REGO_BI_OK;
}

static rego_bi_status op_and(rego_bctx *c, rv *const *a, rv **o) {
  if (a[0]->kind != RV_SET) return rego_bi_operand_error(c, 1, "set", a[0]);
  if (a[1]->kind != RV_SET) return rego_bi_operand_error(c, 2, "set", a[1]);
  rv_vec v = {0};
  for (size_t i = 0; i < a[0]->u.arr.len; i++)
    if (rv_set_contains(a[1], a[0]->u.arr.items[i])) rv_vec_push(c->arena, &v, a[0]->u.arr.items[i]);
  *o = rv_set(c->arena, v.items, v.len);
  return REGO_BI_OK;
}

static rego_bi_status op_or(rego_bctx *c, rv *const *a, rv **o) {
  if (a[0]->kind != RV_SET) return rego_bi_operand_error(c, 1, "set", a[0]);
  if (a[1]->kind != RV_SET) return rego_bi_operand_error(c, 2, "set", a[1]);
  size_t n = a[0]->u.arr.len + a[1]->u.arr.len;
  rv **items = rv_alloc(c->arena, sizeof(rv *) * (n ? n : 1));
  memcpy(items, a[0]->u.arr.items, sizeof(rv *) * a[0]->u.arr.len);
  memcpy(items + a[0]->u.arr.len, a[1]->u.arr.items, sizeof(rv *) * a[1]->u.arr.len);
  *o = rv_set(c->arena, items, n);
  return REGO_BI_OK;
}

static rego_bi_status op_member2(rego_bctx *c, rv *const *a, rv **o) {
  (void)c;
  const rv *x = a[0], *coll = a[1];
  bool found = false;
  switch (coll->kind) {
  case RV_ARRAY:
    for (size_t i = 0; i < coll->u.arr.len && !found; i++)
      found = rv_equal(coll->u.arr.items[i], x);
    break;
  case RV_SET: found = rv_set_contains(coll, x); break;
  case RV_OBJECT:
    for (size_t i = 0; i < coll->u.obj.len && !found; i++)
      found = rv_equal(coll->u.obj.vals[i], x);
    break;
  default: break;
  }
  *o = rv_bool(found);
  return REGO_BI_OK;
}

static rego_bi_status op_member3(rego_bctx *c, rv *const *a, rv **o) {
  (void)c;
  const rv *k = a[0], *x = a[1], *coll = a[2];
  bool found = false;
  int64_t i;
  switch (coll->kind) {
  case RV_ARRAY:
    if (rv_num_get_i64(k, &i) && i >= 0 && (size_t)i < coll->u.arr.len)
      found = rv_equal(coll->u.arr.items[i], x);
    break;
  case RV_OBJECT: {
    rv *v = rv_object_get(coll, k);
    found = v && rv_equal(v, x);
    break;
  }
  case RV_SET: found = rv_equal(k, x) && rv_set_contains(coll, x); break;
  default: break;
  }
  *o = rv_bool(found);
  return REGO_BI_OK;
}

const rego_builtin_def rego_builtins_core[] = {
    {"equal", 2, op_equal, 0},
    {"neq", 2, op_neq, 0},
    {"lt", 2, op_lt, 0},
    {"lte", 2, op_lte, 0},
    {"gt", 2, op_gt, 0},
    {"gte", 2, op_gte, 0},
    {"plus", 2, op_plus, 0},
    {"minus", 2, op_minus, 0},
    {"mul", 2, op_mul, 0},
    {"div", 2, op_div, 0},
    {"rem", 2, op_rem, 0},
    {"and", 2, op_and, 0},
    {"or", 2, op_or, 0},
    {"internal.member_2", 2, op_member2, 0},
    {"internal.member_3", 3, op_member3, 0},
    {NULL, 0, NULL, 0},
};
