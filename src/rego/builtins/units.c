/* units.c — units.parse and units.parse_bytes.
 *
 * OPA computes these exactly (big.Rat / big.Float): "0.0005K" must equal
 * 0.5 and "10Ei" is 11529215046068469760. We do the same with decimal
 * digit arithmetic: the amount's digits times the unit's integer multiplier,
 * then the decimal point placed by the exponent. Integral results become
 * exact integers (big when needed); units.parse's fractional results are
 * rounded to 10 decimals like big.Rat.FloatString(10); units.parse_bytes
 * truncates to an integer. */
#include <ctype.h>
#include <stdlib.h>

#include "rego/builtins/common_internal.h"

#define MAX_RESULT_DIGITS 1000

/* Splits s into amount and unit as OPA's extractNumAndUnit does. Returns
 * false when an exponent has more than 6 digits. */
static bool split_num_unit(const char *s, size_t n, size_t *num_len) {
  size_t first = SIZE_MAX;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    bool isnum = isdigit((unsigned char)c) || c == '.';
    if (!isnum && c != 'e' && c != 'E' && c != '+' && c != '-') {
      first = i;
      break;
    }
    if (c == 'e' || c == 'E') {
      if (i == n - 1 || (!isdigit((unsigned char)s[i + 1]) && s[i + 1] != '+' && s[i + 1] != '-')) {
        first = i;
        break;
      }
      if (s[i + 1] == '+' || s[i + 1] == '-') i++;
      size_t e0 = i + 1, e1 = e0;
      while (e1 < n && isdigit((unsigned char)s[e1]))
        e1++;
      if (e1 - e0 > 6) return false;
    }
  }
  *num_len = first == SIZE_MAX ? n : first;
  return true;
}

typedef struct {
  bool neg;
  unsigned char *d; /* most significant first, values 0..9 */
  size_t nd;
  long exp; /* value = 0.d... no: value = d (as integer) * 10^exp */
} decnum;

/* Parses [+-]?(digits[.digits]|.digits)([eE][+-]?digits)? exactly. */
static bool parse_decimal(rv_arena *a, const char *s, size_t n, decnum *out) {
  size_t i = 0;
  out->neg = false;
  if (i < n && (s[i] == '+' || s[i] == '-')) out->neg = s[i++] == '-';
  out->d = rv_alloc(a, n + 1);
  out->nd = 0;
  out->exp = 0;
  size_t digits = 0;
  while (i < n && isdigit((unsigned char)s[i]))
    out->d[out->nd++] = (unsigned char)(s[i++] - '0'), digits++;
  if (i < n && s[i] == '.') {
    i++;
    while (i < n && isdigit((unsigned char)s[i]))
      out->d[out->nd++] = (unsigned char)(s[i++] - '0'), digits++, out->exp--;
  }
  if (!digits) return false;
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    i++;
    bool eneg = false;
    if (i < n && (s[i] == '+' || s[i] == '-')) eneg = s[i++] == '-';
    long e = 0;
    size_t ed = 0;
    while (i < n && isdigit((unsigned char)s[i])) {
      if (e < 100000000) e = e * 10 + (s[i] - '0');
      i++, ed++;
    }
    if (!ed) return false;
    out->exp += eneg ? -e : e;
  }
  return i == n;
}

/* d *= m (m < 2^64), in place with growth; returns the new digit array. */
static void mul_small(rv_arena *a, decnum *x, uint64_t m) {
  size_t cap = x->nd + 21;
  unsigned char *r = rv_alloc(a, cap);
  size_t k = cap;
  unsigned __int128 carry = 0;
  for (size_t i = x->nd; i-- > 0;) {
    unsigned __int128 v = (unsigned __int128)x->d[i] * m + carry;
    r[--k] = (unsigned char)(v % 10);
    carry = v / 10;
  }
  while (carry) {
    r[--k] = (unsigned char)(carry % 10);
    carry /= 10;
  }
  x->d = r + k;
  x->nd = cap - k;
}

/* Renders x as an exact integer (truncating toward zero when trunc) or,
 * if it has a fraction and !trunc, with 10 decimals rounded half away from
 * zero (big.Rat.FloatString(10)). NULL when the result is too large. */
static rv *render(rv_arena *a, decnum *x, bool trunc) {
  size_t lead = 0;
  while (lead < x->nd && x->d[lead] == 0)
    lead++;
  x->d += lead;
  x->nd -= lead;
  if (x->nd == 0) return rv_int(a, 0);
  long int_digits = (long)x->nd + x->exp;
  if (int_digits > MAX_RESULT_DIGITS) return NULL;
  bool has_frac = false;
  for (size_t i = 0; i < x->nd; i++)
    if ((long)i >= int_digits && x->d[i] != 0) has_frac = true;
  long keep = (!has_frac || trunc) ? int_digits : int_digits + 10; /* digits of the scaled integer */
  if (keep < 0) keep = 0;
  /* q = the first `keep` digits (zero-filled), plus rounding; one spare
   * leading digit for a carry */
  unsigned char *q = rv_alloc(a, (size_t)keep + 1);
  q[0] = 0;
  for (long i = 0; i < keep; i++)
    q[i + 1] = (size_t)i < x->nd ? x->d[i] : 0;
  if (has_frac && !trunc) {
    long ri = int_digits + 10; /* index of the first dropped digit */
    bool up = ri >= 0 && (size_t)ri < x->nd && x->d[ri] >= 5;
    for (long i = keep; up && i >= 0; i--) {
      if (q[i] == 9)
        q[i] = 0;
      else
        q[i]++, up = false;
    }
  }
  char *t = rv_alloc(a, (size_t)keep + 16);
  size_t p = 0;
  if (x->neg) t[p++] = '-';
  long frac = (!has_frac || trunc) ? 0 : 10;
  long intlen = keep + 1 - frac; /* digits of q before the point (incl. carry digit) */
  bool started = false;
  for (long i = 0; i < intlen; i++) {
    if (!started && q[i] == 0 && i < intlen - 1) continue;
    started = true;
    t[p++] = (char)('0' + q[i]);
  }
  if (intlen <= 0) t[p++] = '0';
  if (frac) {
    t[p++] = '.';
    for (long i = 0; i < frac; i++) {
      long qi = intlen + i;
      t[p++] = (char)('0' + (qi >= 0 && qi <= keep ? q[qi] : 0));
    }
  }
  t[p] = '\0';
  if (p == 2 && t[0] == '-' && t[1] == '0') return rv_int(a, 0);
  return rv_number_from_text(a, t, p);
}

static rego_bi_status parse_units(rego_bctx *ctx, rv *const *args, rv **out, bool bytes) {
  RB_EXPECT(ctx, args, 0, RV_STRING, "string");
  const char *raw = args[0]->u.str.s;
  size_t rn = args[0]->u.str.len;
  char *s = rv_alloc(ctx->arena, rn + 1);
  size_t n = 0;
  for (size_t i = 0; i < rn; i++) {
    if (raw[i] == '"') continue;
    s[n++] = bytes ? (char)tolower((unsigned char)raw[i]) : raw[i];
  }
  s[n] = '\0';
  const char *what = bytes ? "byte amount" : "amount";
  if (memchr(s, ' ', n)) return rego_bi_error(ctx, "spaces not allowed in resource strings");
  size_t nl;
  if (!split_num_unit(s, n, &nl)) return rego_bi_error(ctx, "exponent too large");
  if (nl == 0) return rego_bi_error(ctx, "no %s provided", what);
  char unit[8] = "";
  size_t ul = n - nl;
  if (ul >= sizeof unit)
    return rego_bi_error(ctx, bytes ? "byte unit %s not recognized" : "unit %s not recognized", s + nl);
  memcpy(unit, s + nl, ul);
  unit[ul] = '\0';
  if (!bytes)
    for (size_t i = 1; i < ul; i++)
      unit[i] = (char)tolower((unsigned char)unit[i]);
  static const struct {
    const char *name;
    uint64_t mul;
    bool bin;
  } tab[] = {{"k", 1000ULL, 0},          {"m", 1000000ULL, 0},          {"g", 1000000000ULL, 0},
             {"t", 1000000000000ULL, 0}, {"p", 1000000000000000ULL, 0}, {"e", 1000000000000000000ULL, 0}};
  uint64_t mul = 0;
  int milli = 0;
  if (ul == 0)
    mul = 1;
  else if (bytes) {
    char base = unit[0];
    const char *rest = unit + 1;
    for (size_t i = 0; i < 6; i++) {
      if (tab[i].name[0] != base) continue;
      if (!strcmp(rest, "") || !strcmp(rest, "b"))
        mul = tab[i].mul;
      else if (!strcmp(rest, "i") || !strcmp(rest, "ib"))
        mul = 1ULL << (10 * (i + 1));
    }
  } else {
    if (!strcmp(unit, "m"))
      mul = 1, milli = 3;
    else if (!strcmp(unit, "M"))
      mul = tab[1].mul;
    else {
      char base = (char)tolower((unsigned char)unit[0]);
      const char *rest = unit + 1;
      for (size_t i = 0; i < 6; i++) {
        if (tab[i].name[0] != base || base == 'm') continue;
        if (!strcmp(rest, ""))
          mul = tab[i].mul;
        else if (!strcmp(rest, "i"))
          mul = 1ULL << (10 * (i + 1));
      }
      if (base == 'm' && !strcmp(rest, "i")) mul = 1ULL << 20;
    }
  }
  if (!mul) return rego_bi_error(ctx, bytes ? "byte unit %s not recognized" : "unit %s not recognized", unit);
  decnum x;
  if (!parse_decimal(ctx->arena, s, nl, &x))
    return rego_bi_error(ctx, bytes ? "could not parse byte amount to a number"
                                    : "could not parse amount to a number");
  if (x.exp > MAX_RESULT_DIGITS || x.exp < -MAX_RESULT_DIGITS)
    return rego_bi_error(ctx, "exponent too large");
  mul_small(ctx->arena, &x, mul);
  x.exp -= milli;
  rv *r = render(ctx->arena, &x, bytes);
  if (!r) return rego_bi_error(ctx, "exponent too large");
  *out = r;
  return REGO_BI_OK;
}

static rego_bi_status bi_parse(rego_bctx *ctx, rv *const *args, rv **out) {
  return parse_units(ctx, args, out, false);
}
static rego_bi_status bi_parse_bytes(rego_bctx *ctx, rv *const *args, rv **out) {
  return parse_units(ctx, args, out, true);
}

const rego_builtin_def rego_builtins_units[] = {
    {"units.parse", 1, bi_parse, 0},
    {"units.parse_bytes", 1, bi_parse_bytes, 0},
    {NULL, 0, NULL, 0},
};
