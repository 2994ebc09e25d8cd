/* glob.c — glob.match and glob.quote_meta with gobwas/glob semantics (as
 * OPA uses it): `*` matches any run of non-separator characters, `**` any
 * run at all, `?` one non-separator character, `[abc]` `[a-z]` `[!...]`
 * one character of (not of) a class, `{a,b}` alternatives, `\` escapes.
 * The whole input must match.
 *
 * A glob is translated to an anchored Go-syntax regular expression and
 * compiled through the regex family's cache, so matching inherits PCRE2's
 * match limits (no exponential backtracking on hostile patterns). */
#include "core/buf.h"
#include "rego/builtins/common_internal.h"
#include "rego/builtins/glob_internal.h"
#include "rego/builtins/regex_internal.h"
#include "rego/builtins/utf8_internal.h"

static void put_rune_escaped(tr_buf *b, int32_t r) {
  char tmp[16];
  snprintf(tmp, sizeof tmp, "\\x{%x}", (unsigned)r);
  tr_buf_append_str(b, tmp);
}

static void seps_class(tr_buf *b, const int32_t *seps, size_t nseps, bool single) {
  if (nseps == 0) {
    tr_buf_append_str(b, single ? "." : ".*");
    return;
  }
  tr_buf_append_str(b, "[^");
  for (size_t i = 0; i < nseps; i++)
    put_rune_escaped(b, seps[i]);
  tr_buf_append_str(b, single ? "]" : "]*");
}

/* Translates pattern[*i..] until end or, inside {...}, an unnested ',' or
 * '}' (which is left at *i). */
static bool tr_seq(const char *p, size_t n, size_t *i, const int32_t *seps, size_t nseps, int depth,
                   tr_buf *b, char *err, size_t errlen) {
  if (depth > 64) {
    snprintf(err, errlen, "glob: nesting too deep");
    return false;
  }
  while (*i < n) {
    char c = p[*i];
    if (depth > 0 && (c == ',' || c == '}')) return true;
    size_t w;
    switch (c) {
    case '*':
      if (*i + 1 < n && p[*i + 1] == '*') {
        tr_buf_append_str(b, ".*");
        *i += 2;
      } else {
        seps_class(b, seps, nseps, false);
        (*i)++;
      }
      break;
    case '?':
      seps_class(b, seps, nseps, true);
      (*i)++;
      break;
    case '\\':
      if (*i + 1 >= n) {
        snprintf(err, errlen, "glob: unexpected end of input after escape");
        return false;
      }
      (*i)++;
      put_rune_escaped(b, rb_utf8_decode((const unsigned char *)p + *i, n - *i, &w));
      *i += w;
      break;
    case '[': {
      (*i)++;
      bool neg = *i < n && p[*i] == '!';
      if (neg) (*i)++;
      tr_buf_append_str(b, neg ? "[^" : "[");
      size_t items = 0;
      while (*i < n && p[*i] != ']') {
        int32_t lo;
        if (p[*i] == '\\' && *i + 1 < n) (*i)++;
        lo = rb_utf8_decode((const unsigned char *)p + *i, n - *i, &w);
        *i += w;
        put_rune_escaped(b, lo);
        if (*i + 1 < n && p[*i] == '-' && p[*i + 1] != ']') {
          (*i)++;
          int32_t hi = rb_utf8_decode((const unsigned char *)p + *i, n - *i, &w);
          *i += w;
          if (hi < lo) {
            snprintf(err, errlen, "glob: invalid range");
            return false;
          }
          tr_buf_append_byte(b, '-');
          put_rune_escaped(b, hi);
        }
        items++;
      }
      if (*i >= n || items == 0) {
        snprintf(err, errlen, "glob: unexpected end of input in character class");
        return false;
      }
      (*i)++;
      tr_buf_append_byte(b, ']');
      break;
    }
    case '{':
      (*i)++;
      tr_buf_append_str(b, "(?:");
      for (;;) {
        if (!tr_seq(p, n, i, seps, nseps, depth + 1, b, err, errlen)) return false;
        if (*i >= n) {
          snprintf(err, errlen, "glob: unexpected end of input in alternatives");
          return false;
        }
        if (p[*i] == '}') {
          (*i)++;
          break;
        }
        tr_buf_append_byte(b, '|');
        (*i)++;
      }
      tr_buf_append_byte(b, ')');
      break;
    case ']':
    case '}': snprintf(err, errlen, "glob: unexpected '%c'", c); return false;
    default: put_rune_escaped(b, rb_utf8_decode((const unsigned char *)p + *i, n - *i, &w)); *i += w;
    }
  }
  return true;
}

bool rb_glob_to_regex(const char *p, size_t n, const int32_t *seps, size_t nseps, tr_buf *out, char *err,
                      size_t errlen) {
  size_t i = 0;
  tr_buf_append_str(out, "(?s)^");
  if (!tr_seq(p, n, &i, seps, nseps, 0, out, err, errlen)) return false;
  tr_buf_append_byte(out, '$');
  return out->data != NULL;
}

static rego_bi_status bi_match(rego_bctx *ctx, rv *const *args, rv **out) {
  RB_EXPECT(ctx, args, 0, RV_STRING, "string");
  const rv *d = args[1];
  int32_t *seps = NULL;
  size_t nseps = 0;
  int32_t dot = '.';
  if (rv_is(d, RV_ARRAY)) {
    seps = rv_alloc(ctx->arena, (d->u.arr.len + 1) * sizeof(int32_t));
    for (size_t i = 0; i < d->u.arr.len; i++) {
      const rv *e = d->u.arr.items[i];
      if (!rv_is(e, RV_STRING))
        return rego_bi_type_error(ctx, "operand 2 must be array of strings but got array containing %s",
                                  rv_type_name(e));
      size_t w;
      if (e->u.str.len == 0)
        return rego_bi_type_error(ctx, "operand 2 must be array of runes but got array containing string");
      int32_t r = rb_utf8_decode((const unsigned char *)e->u.str.s, e->u.str.len, &w);
      if (w != e->u.str.len)
        return rego_bi_type_error(ctx, "operand 2 must be array of runes but got array containing string");
      seps[nseps++] = r;
    }
    if (nseps == 0) seps = &dot, nseps = 1;
  } else if (!rv_is(d, RV_NULL)) {
    return rego_bi_operand_error(ctx, 2, "one of {array, null}", d);
  }
  RB_EXPECT(ctx, args, 2, RV_STRING, "string");
  tr_buf re_text = TR_BUF_INIT;
  char err[300];
  if (!rb_glob_to_regex(args[0]->u.str.s, args[0]->u.str.len, seps, nseps, &re_text, err, sizeof err)) {
    tr_buf_free(&re_text);
    return rego_bi_error(ctx, "%s", err);
  }
  rb_re *re = rb_re_get((const char *)re_text.data, re_text.len, 0, 0, err, sizeof err);
  tr_buf_free(&re_text);
  if (!re) return rego_bi_error(ctx, "%s", err);
  size_t *ov = rv_alloc(ctx->arena, 2 * ((size_t)rb_re_groups(re) + 1) * sizeof(size_t));
  int rc = rb_re_exec(re, args[2]->u.str.s, args[2]->u.str.len, 0, ov);
  rb_re_release(re);
  if (rc < 0) return rego_bi_error(ctx, "glob match limit exceeded");
  *out = rv_bool(rc == 1);
  return REGO_BI_OK;
}

static rego_bi_status bi_quote_meta(rego_bctx *ctx, rv *const *args, rv **out) {
  RB_EXPECT(ctx, args, 0, RV_STRING, "string");
  const char *s = args[0]->u.str.s;
  size_t n = args[0]->u.str.len, k = 0;
  char *o = rv_alloc(ctx->arena, 2 * n + 1);
  for (size_t i = 0; i < n; i++) {
    if (strchr("*?\\[]{}", s[i]) && s[i]) o[k++] = '\\';
    o[k++] = s[i];
  }
  o[k] = '\0';
  *out = rv_string_nocopy(ctx->arena, o, k);
  return REGO_BI_OK;
}

const rego_builtin_def rego_builtins_glob[] = {
    {"glob.match", 3, bi_match, 0},
    {"glob.quote_meta", 1, bi_quote_meta, 0},
    {NULL, 0, NULL, 0},
};
