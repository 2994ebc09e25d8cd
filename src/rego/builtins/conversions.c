/* conversions.c — to_number, with Go's strconv.ParseFloat syntax for
 * strings ("invalid syntax" / "value out of range" errors, inf and nan
 * rejected as type errors like OPA). Integer strings stay exact. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <strings.h>

#include "rego/builtins/common_internal.h"

/* Go decimal float syntax: [+-] (d+[.d*] | .d+) ([eE][+-]?d+)?, or a hex
 * float 0x h+[.h*] p[+-]d+. */
static bool go_float_syntax(const char *s, size_t n, bool *is_int) {
  size_t i = 0;
  *is_int = false;
  if (i < n && (s[i] == '+' || s[i] == '-')) i++;
  if (i + 1 < n && s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'X')) {
    i += 2;
    size_t digits = 0;
    while (i < n && isxdigit((unsigned char)s[i]))
      i++, digits++;
    if (i < n && s[i] == '.') {
      i++;
      while (i < n && isxdigit((unsigned char)s[i]))
        i++, digits++;
    }
    if (!digits || i >= n || (s[i] != 'p' && s[i] != 'P')) return false;
    i++;
    if (i < n && (s[i] == '+' || s[i] == '-')) i++;
    size_t ed = 0;
    while (i < n && isdigit((unsigned char)s[i]))
      i++, ed++;
    return ed > 0 && i == n;
  }
  size_t digits = 0;
  bool frac = false, exp = false;
  while (i < n && isdigit((unsigned char)s[i]))
    i++, digits++;
  if (i < n && s[i] == '.') {
    frac = true;
    i++;
    while (i < n && isdigit((unsigned char)s[i]))
      i++, digits++;
  }
  if (!digits) return false;
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    exp = true;
    i++;
    if (i < n && (s[i] == '+' || s[i] == '-')) i++;
    size_t ed = 0;
    while (i < n && isdigit((unsigned char)s[i]))
      i++, ed++;
    if (!ed) return false;
  }
  *is_int = !frac && !exp;
  return i == n;
}

static rego_bi_status bi_to_number(rego_bctx *ctx, rv *const *args, rv **out) {
  const rv *x = args[0];
  switch (x->kind) {
  case RV_NULL: *out = rv_int(ctx->arena, 0); return REGO_BI_OK;
  case RV_BOOL: *out = rv_int(ctx->arena, x->u.b ? 1 : 0); return REGO_BI_OK;
  case RV_NUMBER: *out = (rv *)x; return REGO_BI_OK;
  case RV_STRING: break;
  default: return rego_bi_operand_error(ctx, 1, "one of {null, boolean, number, string}", x);
  }
  const char *s = x->u.str.s;
  size_t n = x->u.str.len;
  size_t k = 0;
  while (k < n && (s[k] == '+' || s[k] == '-'))
    k++;
  if ((n - k == 3 && (!strncasecmp(s + k, "inf", 3) || !strncasecmp(s + k, "nan", 3))) ||
      (n - k == 8 && !strncasecmp(s + k, "infinity", 8)))
    return rego_bi_operand_error(ctx, 1, "valid number string", x);
  bool is_int;
  if (memchr(s, '\0', n) || !go_float_syntax(s, n, &is_int)) return rego_bi_error(ctx, "invalid syntax");
  if (is_int) {
    const char *t = s[0] == '+' ? s + 1 : s;
    size_t tn = s[0] == '+' ? n - 1 : n;
    /* strip leading zeros after the sign so the text is canonical */
    char *buf = rv_alloc(ctx->arena, tn + 1);
    size_t bl = 0, j = 0;
    if (tn && t[0] == '-') buf[bl++] = '-', j = 1;
    while (j + 1 < tn && t[j] == '0')
      j++;
    memcpy(buf + bl, t + j, tn - j);
    bl += tn - j;
    buf[bl] = '\0';
    if (bl == 2 && buf[0] == '-' && buf[1] == '0') buf[0] = '0', buf[1] = '\0', bl = 1;
    *out = rv_number_from_text(ctx->arena, buf, bl);
    if (*out) return REGO_BI_OK;
  }
  errno = 0;
  double d = strtod(s, NULL);
  if (errno == ERANGE && isinf(d)) return rego_bi_error(ctx, "value out of range");
  if (!isfinite(d)) return rego_bi_error(ctx, "value out of range");
  *out = rv_float(ctx->arena, d);
  return REGO_BI_OK;
}

const rego_builtin_def rego_builtins_conversions[] = {
    {"to_number", 1, bi_to_number, 0},
    {NULL, 0, NULL, 0},
};
