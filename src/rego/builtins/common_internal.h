/* common_internal.h — small helpers shared by the builtin families:
 * operand checks with OPA's error texts, and exact integer results.
 *
 * Integers: value.h keeps int64 exactly and larger integers as decimal
 * text. Builtins that compute with integers (sum, product, bits, units)
 * work in __int128, which holds every int64 sum/product of two int64s and
 * every big integer of up to 38 digits; results that leave int64 become a
 * big number through its decimal text. */
#ifndef TRUSTEE_REGO_BUILTINS_COMMON_INTERNAL_H
#define TRUSTEE_REGO_BUILTINS_COMMON_INTERNAL_H

#include <stdio.h>
#include <string.h>

#include "rego/builtins/builtins.h"

typedef __int128 rb_i128;

/* Returns the status of an operand type error if args[i] is not of kind k. */
#define RB_EXPECT(ctx, args, idx, k, tname)                                                                  \
  do {                                                                                                       \
    if (!rv_is((args)[idx], (k))) return rego_bi_operand_error((ctx), (idx) + 1, (tname), (args)[idx]);      \
  } while (0)

/* An integer number (int, big or integral double) as int128. False when
 * not an integer or out of range. */
static inline bool rb_num_i128(const rv *v, rb_i128 *out) {
  if (!rv_is(v, RV_NUMBER)) return false;
  if (v->numkind == RV_NUM_INT) {
    *out = v->u.i;
    return true;
  }
  if (v->numkind == RV_NUM_FLOAT) {
    double d = v->u.d;
    if (d != __builtin_floor(d) || d >= 1.7e38 || d <= -1.7e38) return false;
    *out = (rb_i128)d;
    return true;
  }
  const char *s = v->u.str.s;
  size_t n = v->u.str.len;
  bool neg = n > 0 && s[0] == '-';
  size_t i = neg ? 1 : 0;
  if (n - i > 38) return false;
  rb_i128 r = 0;
  for (; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return false;
    r = r * 10 + (s[i] - '0');
  }
  *out = neg ? -r : r;
  return true;
}

/* An exact integer result. */
static inline rv *rb_num_from_i128(rv_arena *a, rb_i128 x) {
  if (x >= INT64_MIN && x <= INT64_MAX) return rv_int(a, (int64_t)x);
  char buf[48];
  int pos = sizeof buf;
  buf[--pos] = '\0';
  bool neg = x < 0;
  unsigned __int128 u = neg ? -(unsigned __int128)x : (unsigned __int128)x;
  do {
    buf[--pos] = (char)('0' + (int)(u % 10));
    u /= 10;
  } while (u);
  if (neg) buf[--pos] = '-';
  return rv_number_from_text(a, buf + pos, strlen(buf + pos));
}

/* A double result; integral values become ints (as OPA prints them). */
static inline rv *rb_num_from_double(rv_arena *a, double d) {
  if (d == __builtin_floor(d) && d > -9.2e18 && d < 9.2e18) return rv_int(a, (int64_t)d);
  return rv_float(a, d);
}

/* Appends a value as OPA's Rego text. */
static inline const char *rb_rego_text(rv_arena *a, const rv *v, bool bare_strings, size_t *len) {
  rv_buf b = {.a = a};
  rv_write_rego(&b, v, bare_strings);
  rv_buf_putc(&b, '\0');
  *len = b.len - 1;
  return b.s;
}

/* Requires an integer operand: OPA's "operand N must be integer number but
 * got floating-point number" for non-integers. Sets *out (int64). Big
 * integers are reported as out of range by the caller's own check. */
static inline rego_bi_status rb_int_operand(rego_bctx *ctx, rv *const *args, int idx, int64_t *out) {
  if (!rv_is(args[idx], RV_NUMBER)) return rego_bi_operand_error(ctx, idx + 1, "number", args[idx]);
  if (!rv_num_is_integer(args[idx]))
    return rego_bi_type_error(ctx, "operand %d must be integer number but got floating-point number",
                              idx + 1);
  if (!rv_num_get_i64(args[idx], out)) return rego_bi_error(ctx, "operand %d is too large", idx + 1);
  return REGO_BI_OK;
}

#endif
