/* semver.c — semver.is_valid and semver.compare (SemVer 2.0.0 precedence,
 * parsing as OPA's internal copy of coreos/go-semver: MAJOR.MINOR.PATCH
 * with optional -prerelease and +metadata identifiers). */
#include <ctype.h>
#include <stdlib.h>

#include "rego/builtins/common_internal.h"
#include "rego/builtins/semver_internal.h"
#include "rego/builtins/sprintf_internal.h"

static bool parse_int64(const char *s, size_t n, int64_t *out) {
  size_t i = 0;
  bool neg = false;
  if (i < n && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
  if (i == n) return false;
  __int128 v = 0;
  for (; i < n; i++) {
    if (!isdigit((unsigned char)s[i])) return false;
    v = v * 10 + (s[i] - '0');
    if (v > (__int128)INT64_MAX + 1) return false;
  }
  if (neg) v = -v;
  if (v > INT64_MAX || v < INT64_MIN) return false;
  *out = (int64_t)v;
  return true;
}

/* ^[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*$ */
static bool valid_identifiers(const char *s, size_t n) {
  if (n == 0) return true;
  size_t run = 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (c == '.') {
      if (run == 0) return false;
      run = 0;
    } else if (isalnum((unsigned char)c) || c == '-') {
      run++;
    } else {
      return false;
    }
  }
  return run > 0;
}

bool rb_semver_parse(const char *s, size_t n, rb_semver *v) {
  memset(v, 0, sizeof *v);
  const char *plus = memchr(s, '+', n);
  size_t core = plus ? (size_t)(plus - s) : n;
  if (plus && !valid_identifiers(plus + 1, n - core - 1)) return false;
  const char *dash = memchr(s, '-', core);
  size_t nums = dash ? (size_t)(dash - s) : core;
  if (dash) {
    v->pre = dash + 1;
    v->pre_len = core - nums - 1;
    if (!valid_identifiers(v->pre, v->pre_len)) return false;
  }
  /* SplitN(".", 3): the third part keeps any further dots (and then fails
   * ParseInt) */
  const char *p = s, *end = s + nums;
  for (int k = 0; k < 3; k++) {
    const char *dot = k < 2 ? memchr(p, '.', (size_t)(end - p)) : NULL;
    const char *e = dot ? dot : end;
    if (k < 2 && !dot) return false;
    if (!parse_int64(p, (size_t)(e - p), &v->num[k])) return false;
    p = e + 1;
  }
  return true;
}

static bool all_digits(const char *s, size_t n, int64_t *val) { return parse_int64(s, n, val) && n > 0; }

int rb_semver_compare(const rb_semver *a, const rb_semver *b) {
  for (int k = 0; k < 3; k++)
    if (a->num[k] != b->num[k]) return a->num[k] < b->num[k] ? -1 : 1;
  if (a->pre_len == 0 && b->pre_len > 0) return 1;
  if (b->pre_len == 0 && a->pre_len > 0) return -1;
  if (a->pre_len == 0) return 0; /* neither has a pre-release */
  const char *pa = a->pre, *pb = b->pre, *ea = a->pre + a->pre_len, *eb = b->pre + b->pre_len;
  for (;;) {
    bool ha = pa < ea, hb = pb < eb;
    if (!ha) return hb ? -1 : 0;
    if (!hb) return 1;
    const char *da = memchr(pa, '.', (size_t)(ea - pa)), *db = memchr(pb, '.', (size_t)(eb - pb));
    size_t la = (size_t)((da ? da : ea) - pa), lb = (size_t)((db ? db : eb) - pb);
    int64_t ia, ib;
    bool na = all_digits(pa, la, &ia), nb = all_digits(pb, lb, &ib);
    if (na && !nb) return -1;
    if (!na && nb) return 1;
    if (na && nb && ia != ib) return ia < ib ? -1 : 1;
    size_t m = la < lb ? la : lb;
    int c = memcmp(pa, pb, m);
    if (c != 0) return c < 0 ? -1 : 1;
    if (la != lb) return la < lb ? -1 : 1;
    pa = da ? da + 1 : ea;
    pb = db ? db + 1 : eb;
  }
  return 0;
}

static rego_bi_status bi_is_valid(rego_bctx *ctx, rv *const *args, rv **out) {
  (void)ctx;
  rb_semver v;
  *out = rv_bool(rv_is(args[0], RV_STRING) && rb_semver_parse(args[0]->u.str.s, args[0]->u.str.len, &v));
  return REGO_BI_OK;
}

/* OPA prints the operand as a Rego string (quoted, Go escapes). */
static rego_bi_status invalid_version(rego_bctx *ctx, int argno, const rv *s) {
  tr_buf q = TR_BUF_INIT;
  rb_fmt_quote(&q, s->u.str.s, s->u.str.len > 200 ? 200 : s->u.str.len, false);
  rego_bi_status st = rego_bi_error(ctx, "operand %d: string %s is not a valid SemVer", argno,
                                    q.data ? (const char *)q.data : "\"\"");
  tr_buf_free(&q);
  return st;
}

static rego_bi_status bi_compare(rego_bctx *ctx, rv *const *args, rv **out) {
  RB_EXPECT(ctx, args, 0, RV_STRING, "string");
  RB_EXPECT(ctx, args, 1, RV_STRING, "string");
  rb_semver a, b;
  if (!rb_semver_parse(args[0]->u.str.s, args[0]->u.str.len, &a)) return invalid_version(ctx, 1, args[0]);
  if (!rb_semver_parse(args[1]->u.str.s, args[1]->u.str.len, &b)) return invalid_version(ctx, 2, args[1]);
  *out = rv_int(ctx->arena, rb_semver_compare(&a, &b));
  return REGO_BI_OK;
}

const rego_builtin_def rego_builtins_semver[] = {
    {"semver.is_valid", 1, bi_is_valid, 0},
    {"semver.compare", 2, bi_compare, 0},
    {NULL, 0, NULL, 0},
};
