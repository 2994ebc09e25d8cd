/* strings.c — OPA's string builtins with Go's strings-package semantics:
 * indices and lengths count runes (invalid UTF-8 bytes count as one rune
 * each, as in Go), trim cutsets are rune sets, replace/replace_n follow
 * strings.NewReplacer (left to right, no overlaps, earlier pattern wins;
 * replace_n tries keys in sorted order). */
#include <stdlib.h>

#include "rego/builtins/case_internal.h"
#include "rego/builtins/common_internal.h"
#include "rego/builtins/sprintf_internal.h"
#include "rego/builtins/utf8_internal.h"

#define STR(v) ((v)->u.str.s)
#define LEN(v) ((v)->u.str.len)

static rv *mkstr(rego_bctx *ctx, const char *s, size_t n) { return rv_string(ctx->arena, s, n); }

/* ---- case mapping (Unicode simple mappings, case_internal.h) ------------- */

static int32_t to_lower_rune(int32_t r) { return RB_TO_LOWER(r); }
static int32_t to_upper_rune(int32_t r) { return RB_TO_UPPER(r); }

/* Go's strings.ToLower/ToUpper: ASCII-only strings keep their bytes;
 * otherwise strings.Map, which also turns each invalid UTF-8 byte into
 * U+FFFD. */
static rego_bi_status map_case(rego_bctx *ctx, rv *const *args, rv **out, int32_t (*fn)(int32_t)) {
  RB_EXPECT(ctx, args, 0, RV_STRING, "string");
  const rv *s = args[0];
  tr_buf b = TR_BUF_INIT;
  size_t i = 0, w;
  bool changed = false;
  while (i < LEN(s)) {
    int32_t r = rb_utf8_decode((const unsigned char *)STR(s) + i, LEN(s) - i, &w);
    int32_t m = fn(r);
    if (m != r || (w == 1 && r == RB_RUNE_ERROR)) changed = true;
    char enc[4];
    tr_buf_append(&b, enc, rb_utf8_encode(m, enc));
    i += w;
  }
  *out = changed ? mkstr(ctx, (const char *)b.data, b.len) : (rv *)s;
  tr_buf_free(&b);
  return REGO_BI_OK;
}

static rego_bi_status bi_lower(rego_bctx *ctx, rv *const *args, rv **out) {
  return map_case(ctx, args, out, to_lower_rune);
}
static rego_bi_status bi_upper(rego_bctx *ctx, rv *const *args, rv **out) {
  return map_case(ctx, args, out, to_upper_rune);
}

/* ---- simple predicates ---------------------------------------------------- */

static rego_bi_status two_strings(rego_bctx *ctx, rv *const *args) {
  RB_EXPECT(ctx, args, 0, RV_STRING, "string");
  RB_EXPECT(ctx, args, 1, RV_STRING, "string");
  return REGO_BI_OK;
}

static const char *find_bytes(const char *h, size_t hn, const char *n, size_t nn) {
  if (nn == 0) return h;
  if (nn > hn) return NULL;
  return memmem(h, hn, n, nn);
}

static rego_bi_status bi_contains(rego_bctx *ctx, rv *const *args, rv **out) {
  rego_bi_status st = two_strings(ctx, args);
  if (st) return st;
  *out = rv_bool(find_bytes(STR(args[0]), LEN(args[0]), STR(args[1]), LEN(args[1])) != NULL);
  return REGO_BI_OK;
}

static rego_bi_status bi_startswith(rego_bctx *ctx, rv *const *args, rv **out) {
  rego_bi_status st = two_strings(ctx, args);
  if (st) return st;
  *out = rv_bool(LEN(args[1]) <= LEN(args[0]) && memcmp(STR(args[0]), STR(args[1]), LEN(args[1])) == 0);
  return REGO_BI_OK;
}

static rego_bi_status bi_endswith(rego_bctx *ctx, rv *const *args, rv **out) {
  rego_bi_status st = two_strings(ctx, args);
  if (st) return st;
  size_t n = LEN(args[0]), m = LEN(args[1]);
  *out = rv_bool(m <= n && memcmp(STR(args[0]) + n - m, STR(args[1]), m) == 0);
  return REGO_BI_OK;
}

/* ---- concat, split, replace ------------------------------------------------ */

static rego_bi_status bi_concat(rego_bctx *ctx, rv *const *args, rv **out) {
  RB_EXPECT(ctx, args, 0, RV_STRING, "string");
  const rv *c = args[1];
  if (!rv_is(c, RV_ARRAY) && !rv_is(c, RV_SET))
    return rego_bi_operand_error(ctx, 2, "one of {set, array}", c);
  size_t total = 0;
  for (size_t i = 0; i < c->u.arr.len; i++) {
    const rv *x = c->u.arr.items[i];
    if (!rv_is(x, RV_STRING))
      return rego_bi_type_error(ctx, "operand 2 must be %s of strings but got %s containing %s",
                                rv_type_name(c), rv_type_name(c), rv_type_name(x));
    total += LEN(x) + LEN(args[0]);
  }
  if (c->u.arr.len == 1) return (*out = c->u.arr.items[0]), REGO_BI_OK;
  char *buf = rv_alloc(ctx->arena, total + 1);
  size_t pos = 0;
  for (size_t i = 0; i < c->u.arr.len; i++) {
    if (i > 0) memcpy(buf + pos, STR(args[0]), LEN(args[0])), pos += LEN(args[0]);
    memcpy(buf + pos, STR(c->u.arr.items[i]), LEN(c->u.arr.items[i]));
    pos += LEN(c->u.arr.items[i]);
  }
  buf[pos] = '\0';
  *out = rv_string_nocopy(ctx->arena, buf, pos);
  return REGO_BI_OK;
}

static rego_bi_status bi_split(rego_bctx *ctx, rv *const *args, rv **out) {
  rego_bi_status st = two_strings(ctx, args);
  if (st) return st;
  const char *s = STR(args[0]), *d = STR(args[1]);
  size_t n = LEN(args[0]), dn = LEN(args[1]);
  rv_vec v = {0};
  if (dn == 0) {
    size_t i = 0, w;
    while (i < n) {
      rb_utf8_decode((const unsigned char *)s + i, n - i, &w);
      rv_vec_push(ctx->arena, &v, mkstr(ctx, s + i, w));
      i += w;
    }
  } else {
    size_t start = 0;
    const char *hit;
    while ((hit = find_bytes(s + start, n - start, d, dn)) != NULL) {
      rv_vec_push(ctx->arena, &v, mkstr(ctx, s + start, (size_t)(hit - (s + start))));
      start = (size_t)(hit - s) + dn;
    }
    rv_vec_push(ctx->arena, &v, start == 0 ? args[0] : mkstr(ctx, s + start, n - start));
  }
  *out = rv_array(ctx->arena, v.items, v.len);
  return REGO_BI_OK;
}

typedef struct {
  const char *old, *new_;
  size_t oldn, newn;
} rb_pair;

/* strings.NewReplacer(pairs...).Replace(s): byte positions, earlier pairs
 * win, an empty old string matches once at every position. */
static rv *replace_pairs(rego_bctx *ctx, const rv *src, const rb_pair *pairs, size_t np) {
  const char *s = STR(src);
  size_t n = LEN(src);
  tr_buf b = TR_BUF_INIT;
  size_t last = 0;
  bool prev_empty = false, changed = false;
  for (size_t i = 0; i <= n;) {
    const rb_pair *m = NULL;
    for (size_t k = 0; k < np && !m; k++) {
      const rb_pair *p = &pairs[k];
      if (p->oldn == 0) {
        if (!prev_empty) m = p;
      } else if (p->oldn <= n - i && memcmp(s + i, p->old, p->oldn) == 0) {
        m = p;
      }
    }
    if (m) {
      prev_empty = m->oldn == 0;
      tr_buf_append(&b, s + last, i - last);
      tr_buf_append(&b, m->new_, m->newn);
      changed = true;
      i += m->oldn;
      last = i;
      continue;
    }
    prev_empty = false;
    i++;
  }
  if (!changed) {
    tr_buf_free(&b);
    return (rv *)src;
  }
  if (last < n) tr_buf_append(&b, s + last, n - last);
  rv *r = mkstr(ctx, b.data ? (const char *)b.data : "", b.len);
  tr_buf_free(&b);
  return r;
}

static rego_bi_status bi_replace(rego_bctx *ctx, rv *const *args, rv **out) {
  for (int i = 0; i < 3; i++)
    RB_EXPECT(ctx, args, i, RV_STRING, "string");
  rb_pair p = {STR(args[1]), STR(args[2]), LEN(args[1]), LEN(args[2])};
  *out = replace_pairs(ctx, args[0], &p, 1);
  return REGO_BI_OK;
}

static rego_bi_status bi_replace_n(rego_bctx *ctx, rv *const *args, rv **out) {
  RB_EXPECT(ctx, args, 0, RV_OBJECT, "object");
  RB_EXPECT(ctx, args, 1, RV_STRING, "string");
  const rv *o = args[0];
  rb_pair *pairs = rv_alloc(ctx->arena, (o->u.obj.len + 1) * sizeof(rb_pair));
  for (size_t i = 0; i < o->u.obj.len; i++) {
    if (!rv_is(o->u.obj.keys[i], RV_STRING))
      return rego_bi_type_error(ctx, "operand 1 non-string key found in pattern object");
    if (!rv_is(o->u.obj.vals[i], RV_STRING))
      return rego_bi_type_error(ctx, "operand 1 non-string value found in pattern object");
    pairs[i] =
        (rb_pair){STR(o->u.obj.keys[i]), STR(o->u.obj.vals[i]), LEN(o->u.obj.keys[i]), LEN(o->u.obj.vals[i])};
  }
  *out = replace_pairs(ctx, args[1], pairs, o->u.obj.len);
  return REGO_BI_OK;
}

/* ---- indexing -------------------------------------------------------------- */

/* Rune index of the byte offset off. */
static int64_t rune_index(const char *s, size_t off) { return (int64_t)rb_utf8_count(s, off); }

static rego_bi_status bi_indexof(rego_bctx *ctx, rv *const *args, rv **out) {
  rego_bi_status st = two_strings(ctx, args);
  if (st) return st;
  if (LEN(args[1]) == 0) return rego_bi_error(ctx, "empty search character");
  const char *hit = find_bytes(STR(args[0]), LEN(args[0]), STR(args[1]), LEN(args[1]));
  /* A byte match must start on a rune boundary to count (Go compares runes). */
  while (hit) {
    size_t off = (size_t)(hit - STR(args[0]));
    size_t b = rb_utf8_offset(STR(args[0]), LEN(args[0]), (size_t)rune_index(STR(args[0]), off));
    if (b == off) break;
    hit = find_bytes(hit + 1, LEN(args[0]) - off - 1, STR(args[1]), LEN(args[1]));
  }
  *out = rv_int(ctx->arena, hit ? rune_index(STR(args[0]), (size_t)(hit - STR(args[0]))) : -1);
  return REGO_BI_OK;
}

static rego_bi_status bi_indexof_n(rego_bctx *ctx, rv *const *args, rv **out) {
  rego_bi_status st = two_strings(ctx, args);
  if (st) return st;
  if (LEN(args[1]) == 0) return rego_bi_error(ctx, "empty search character");
  const char *s = STR(args[0]), *q = STR(args[1]);
  size_t n = LEN(args[0]), qn = LEN(args[1]), i = 0, w;
  int64_t ri = 0;
  rv_vec v = {0};
  while (i < n) {
    if (qn <= n - i && memcmp(s + i, q, qn) == 0) rv_vec_push(ctx->arena, &v, rv_int(ctx->arena, ri));
    rb_utf8_decode((const unsigned char *)s + i, n - i, &w);
    i += w;
    ri++;
  }
  *out = rv_array(ctx->arena, v.items, v.len);
  return REGO_BI_OK;
}

static rego_bi_status bi_substring(rego_bctx *ctx, rv *const *args, rv **out) {
  RB_EXPECT(ctx, args, 0, RV_STRING, "string");
  int64_t start, length;
  rego_bi_status st;
  if ((st = rb_int_operand(ctx, args, 1, &start)) != REGO_BI_OK) return st;
  if ((st = rb_int_operand(ctx, args, 2, &length)) != REGO_BI_OK) return st;
  if (start < 0) return rego_bi_error(ctx, "negative offset");
  const char *s = STR(args[0]);
  size_t n = LEN(args[0]);
  size_t b0 = rb_utf8_offset(s, n, (size_t)start);
  if (b0 >= n) return (*out = &rv_empty_str_v), REGO_BI_OK;
  size_t b1 = length < 0 ? n : b0 + rb_utf8_offset(s + b0, n - b0, (size_t)length);
  if (b0 == 0 && b1 == n) return (*out = args[0]), REGO_BI_OK;
  *out = mkstr(ctx, s + b0, b1 - b0);
  return REGO_BI_OK;
}

static rego_bi_status bi_strings_count(rego_bctx *ctx, rv *const *args, rv **out) {
  rego_bi_status st = two_strings(ctx, args);
  if (st) return st;
  const char *s = STR(args[0]), *q = STR(args[1]);
  size_t n = LEN(args[0]), qn = LEN(args[1]);
  if (qn == 0) return (*out = rv_int(ctx->arena, (int64_t)rb_utf8_count(s, n) + 1)), REGO_BI_OK;
  int64_t count = 0;
  const char *hit;
  size_t start = 0;
  while ((hit = find_bytes(s + start, n - start, q, qn)) != NULL) {
    count++;
    start = (size_t)(hit - s) + qn;
  }
  *out = rv_int(ctx->arena, count);
  return REGO_BI_OK;
}

static rego_bi_status bi_reverse(rego_bctx *ctx, rv *const *args, rv **out) {
  RB_EXPECT(ctx, args, 0, RV_STRING, "string");
  const char *s = STR(args[0]);
  size_t n = LEN(args[0]), i = 0, w;
  char *buf = rv_alloc(ctx->arena, n + 1);
  while (i < n) {
    int32_t r = rb_utf8_decode((const unsigned char *)s + i, n - i, &w);
    char enc[4];
    size_t el = rb_utf8_encode(r, enc);
    /* Go re-encodes each rune; an invalid byte becomes U+FFFD (3 bytes) and
     * then the buffer is sized by input length, so keep the raw byte. */
    if (el != w)
      memcpy(buf + n - i - w, s + i, w);
    else
      memcpy(buf + n - i - w, enc, el);
    i += w;
  }
  buf[n] = '\0';
  *out = rv_string_nocopy(ctx->arena, buf, n);
  return REGO_BI_OK;
}

/* ---- trimming -------------------------------------------------------------- */

static bool in_cutset(int32_t r, const char *cut, size_t cn) {
  size_t i = 0, w;
  while (i < cn) {
    if (rb_utf8_decode((const unsigned char *)cut + i, cn - i, &w) == r) return true;
    i += w;
  }
  return false;
}

static bool go_is_space(int32_t r) {
  switch (r) {
  case '\t':
  case '\n':
  case '\v':
  case '\f':
  case '\r':
  case ' ':
  case 0x85:
  case 0xA0:
  case 0x1680:
  case 0x2028:
  case 0x2029:
  case 0x202F:
  case 0x205F:
  case 0x3000: return true;
  default: return r >= 0x2000 && r <= 0x200A;
  }
}

/* Trims runes for which keep() is false from the left and/or right. */
static rego_bi_status trim_generic(rego_bctx *ctx, rv *const *args, rv **out, bool left, bool right,
                                   const char *cut, size_t cn, bool space) {
  const char *s = STR(args[0]);
  size_t n = LEN(args[0]);
  size_t b0 = 0, b1 = n, w;
  if (left) {
    while (b0 < n) {
      int32_t r = rb_utf8_decode((const unsigned char *)s + b0, n - b0, &w);
      if (space ? !go_is_space(r) : !in_cutset(r, cut, cn)) break;
      b0 += w;
    }
  }
  if (right) {
    while (b1 > b0) {
      /* find the start of the last rune */
      size_t k = b1 - 1;
      while (k > b0 && b1 - k < 4 && ((unsigned char)s[k] & 0xC0) == 0x80)
        k--;
      int32_t r = rb_utf8_decode((const unsigned char *)s + k, b1 - k, &w);
      if (k + w != b1) {
        k = b1 - 1;
        r = RB_RUNE_ERROR;
      }
      if (space ? !go_is_space(r) : !in_cutset(r, cut, cn)) break;
      b1 = k;
    }
  }
  if (b0 == 0 && b1 == n)
    *out = args[0];
  else
    *out = mkstr(ctx, s + b0, b1 - b0);
  return REGO_BI_OK;
}

#define TRIM_FN(name, l, r)                                                                                  \
  static rego_bi_status bi_##name(rego_bctx *ctx, rv *const *args, rv **out) {                               \
    rego_bi_status st = two_strings(ctx, args);                                                              \
    if (st) return st;                                                                                       \
    return trim_generic(ctx, args, out, l, r, STR(args[1]), LEN(args[1]), false);                            \
  }
TRIM_FN(trim, true, true)
TRIM_FN(trim_left, true, false)
TRIM_FN(trim_right, false, true)

static rego_bi_status bi_trim_space(rego_bctx *ctx, rv *const *args, rv **out) {
  RB_EXPECT(ctx, args, 0, RV_STRING, "string");
  return trim_generic(ctx, args, out, true, true, NULL, 0, true);
}

static rego_bi_status bi_trim_prefix(rego_bctx *ctx, rv *const *args, rv **out) {
  rego_bi_status st = two_strings(ctx, args);
  if (st) return st;
  size_t n = LEN(args[0]), m = LEN(args[1]);
  if (m == 0 || m > n || memcmp(STR(args[0]), STR(args[1]), m) != 0) return (*out = args[0]), REGO_BI_OK;
  *out = mkstr(ctx, STR(args[0]) + m, n - m);
  return REGO_BI_OK;
}

static rego_bi_status bi_trim_suffix(rego_bctx *ctx, rv *const *args, rv **out) {
  rego_bi_status st = two_strings(ctx, args);
  if (st) return st;
  size_t n = LEN(args[0]), m = LEN(args[1]);
  if (m == 0 || m > n || memcmp(STR(args[0]) + n - m, STR(args[1]), m) != 0)
    return (*out = args[0]), REGO_BI_OK;
  *out = mkstr(ctx, STR(args[0]), n - m);
  return REGO_BI_OK;
}

/* ---- any_prefix_match / any_suffix_match ---------------------------------- */

static rego_bi_status string_list(rego_bctx *ctx, const rv *v, int argno, rv *const **items, size_t *n,
                                  rv *const *single) {
  if (rv_is(v, RV_STRING)) {
    *items = single;
    *n = 1;
    return REGO_BI_OK;
  }
  if (!rv_is(v, RV_ARRAY) && !rv_is(v, RV_SET))
    return rego_bi_operand_error(ctx, argno, "one of {string, set, array}", v);
  for (size_t i = 0; i < v->u.arr.len; i++)
    if (!rv_is(v->u.arr.items[i], RV_STRING))
      return rego_bi_type_error(ctx, "operand %d must be %s of strings but got %s containing %s", argno,
                                rv_type_name(v), rv_type_name(v), rv_type_name(v->u.arr.items[i]));
  *items = v->u.arr.items;
  *n = v->u.arr.len;
  return REGO_BI_OK;
}

static rego_bi_status any_match(rego_bctx *ctx, rv *const *args, rv **out, bool suffix) {
  rv *const *a, *const *b;
  size_t na, nb;
  rego_bi_status st;
  if ((st = string_list(ctx, args[0], 1, &a, &na, &args[0])) != REGO_BI_OK) return st;
  if ((st = string_list(ctx, args[1], 2, &b, &nb, &args[1])) != REGO_BI_OK) return st;
  bool found = false;
  for (size_t i = 0; i < na && !found; i++) {
    for (size_t j = 0; j < nb && !found; j++) {
      size_t n = LEN(a[i]), m = LEN(b[j]);
      if (m > n) continue;
      found = memcmp(STR(a[i]) + (suffix ? n - m : 0), STR(b[j]), m) == 0;
    }
  }
  *out = rv_bool(found);
  return REGO_BI_OK;
}

static rego_bi_status bi_any_prefix_match(rego_bctx *ctx, rv *const *args, rv **out) {
  return any_match(ctx, args, out, false);
}
static rego_bi_status bi_any_suffix_match(rego_bctx *ctx, rv *const *args, rv **out) {
  return any_match(ctx, args, out, true);
}

/* ---- format_int ------------------------------------------------------------ */

static rego_bi_status bi_format_int(rego_bctx *ctx, rv *const *args, rv **out) {
  RB_EXPECT(ctx, args, 0, RV_NUMBER, "number");
  RB_EXPECT(ctx, args, 1, RV_NUMBER, "number");
  int64_t base;
  if (args[1]->numkind != RV_NUM_INT || !rv_num_get_i64(args[1], &base) ||
      (base != 2 && base != 8 && base != 10 && base != 16))
    return rego_bi_type_error(ctx, "operand 2 must be one of {2, 8, 10, 16}");
  const rv *x = args[0];
  rb_fmt_arg a;
  char digits[400];
  if (x->numkind == RV_NUM_INT) {
    a = (rb_fmt_arg){.kind = RB_FMT_INT, .i = x->u.i};
  } else if (x->numkind == RV_NUM_BIG) {
    a = (rb_fmt_arg){.kind = RB_FMT_BIG, .s = x->u.str.s, .len = x->u.str.len};
  } else {
    double t = x->u.d < 0 ? -__builtin_floor(-x->u.d) : __builtin_floor(x->u.d);
    if (t > -9.2e18 && t < 9.2e18) {
      a = (rb_fmt_arg){.kind = RB_FMT_INT, .i = (int64_t)t};
    } else {
      snprintf(digits, sizeof digits, "%.0f", t);
      a = (rb_fmt_arg){.kind = RB_FMT_BIG, .s = digits, .len = strlen(digits)};
    }
  }
  const char *fmt = base == 2 ? "%b" : base == 8 ? "%o" : base == 10 ? "%d" : "%x";
  tr_buf b = TR_BUF_INIT;
  rb_gofmt(&b, fmt, 2, &a, 1);
  *out = mkstr(ctx, b.data ? (const char *)b.data : "", b.len);
  tr_buf_free(&b);
  return REGO_BI_OK;
}

/* ---- sprintf --------------------------------------------------------------- */

static rego_bi_status bi_sprintf(rego_bctx *ctx, rv *const *args, rv **out) {
  RB_EXPECT(ctx, args, 0, RV_STRING, "string");
  RB_EXPECT(ctx, args, 1, RV_ARRAY, "array");
  const rv *arr = args[1];
  size_t n = arr->u.arr.len;
  rb_fmt_arg *fa = rv_alloc(ctx->arena, (n ? n : 1) * sizeof(rb_fmt_arg));
  for (size_t i = 0; i < n; i++) {
    const rv *x = arr->u.arr.items[i];
    if (rv_is(x, RV_NUMBER) && x->numkind == RV_NUM_INT) {
      fa[i] = (rb_fmt_arg){.kind = RB_FMT_INT, .i = x->u.i};
    } else if (rv_is(x, RV_NUMBER) && x->numkind == RV_NUM_BIG) {
      fa[i] = (rb_fmt_arg){.kind = RB_FMT_BIG, .s = x->u.str.s, .len = x->u.str.len};
    } else if (rv_is(x, RV_NUMBER)) {
      /* Integral doubles print as integers: OPA's arithmetic yields integer
       * text for integral results, so %d of 10 / 2 is "5". */
      double d = x->u.d;
      if (d == __builtin_floor(d) && d > -9.2e18 && d < 9.2e18)
        fa[i] = (rb_fmt_arg){.kind = RB_FMT_INT, .i = (int64_t)d};
      else
        fa[i] = (rb_fmt_arg){.kind = RB_FMT_FLOAT, .f = d};
    } else if (rv_is(x, RV_STRING)) {
      fa[i] = (rb_fmt_arg){.kind = RB_FMT_STR, .s = x->u.str.s, .len = x->u.str.len};
    } else {
      size_t len;
      const char *t = rb_rego_text(ctx->arena, x, false, &len);
      fa[i] = (rb_fmt_arg){.kind = RB_FMT_STR, .s = t, .len = len};
    }
  }
  tr_buf b = TR_BUF_INIT;
  if (!rb_gofmt(&b, STR(args[0]), LEN(args[0]), fa, n)) {
    tr_buf_free(&b);
    return rego_bi_error(ctx, "out of memory");
  }
  *out = mkstr(ctx, b.data ? (const char *)b.data : "", b.len);
  tr_buf_free(&b);
  return REGO_BI_OK;
}

const rego_builtin_def rego_builtins_strings[] = {
    {"concat", 2, bi_concat, 0},
    {"contains", 2, bi_contains, 0},
    {"startswith", 2, bi_startswith, 0},
    {"endswith", 2, bi_endswith, 0},
    {"format_int", 2, bi_format_int, 0},
    {"indexof", 2, bi_indexof, 0},
    {"indexof_n", 2, bi_indexof_n, 0},
    {"lower", 1, bi_lower, 0},
    {"upper", 1, bi_upper, 0},
    {"replace", 3, bi_replace, 0},
    {"split", 2, bi_split, 0},
    {"sprintf", 2, bi_sprintf, 0},
    {"substring", 3, bi_substring, 0},
    {"trim", 2, bi_trim, 0},
    {"trim_left", 2, bi_trim_left, 0},
    {"trim_prefix", 2, bi_trim_prefix, 0},
    {"trim_right", 2, bi_trim_right, 0},
    {"trim_suffix", 2, bi_trim_suffix, 0},
    {"trim_space", 1, bi_trim_space, 0},
    {"strings.replace_n", 2, bi_replace_n, 0},
    {"strings.reverse", 1, bi_reverse, 0},
    {"strings.any_prefix_match", 2, bi_any_prefix_match, 0},
    {"strings.any_suffix_match", 2, bi_any_suffix_match, 0},
    {"strings.count", 2, bi_strings_count, 0},
    {NULL, 0, NULL, 0},
};
