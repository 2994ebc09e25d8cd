/* json.c — json.marshal, json.marshal_with_options, json.unmarshal,
 * json.is_valid.
 *
 * Marshalling follows Go's encoding/json as OPA calls it: object keys
 * sorted, sets as (sorted) arrays, non-string keys as their JSON text,
 * HTML-sensitive characters escaped (\u003c \u003e \u0026), U+2028/U+2029
 * escaped, invalid UTF-8 replaced by \ufffd, and MarshalIndent's layout
 * (with OPA's prefix on the first line too). */
#include "core/buf.h"
#include "rego/builtins/common_internal.h"
#include "rego/builtins/utf8_internal.h"

static void put_string(tr_buf *b, const char *s, size_t n) {
  static const char hx[] = "0123456789abcdef";
  tr_buf_append_byte(b, '"');
  size_t i = 0, w;
  while (i < n) {
    unsigned char c = (unsigned char)s[i];
    if (c < 0x80) {
      switch (c) {
      case '"': tr_buf_append_str(b, "\\\""); break;
      case '\\': tr_buf_append_str(b, "\\\\"); break;
      case '\n': tr_buf_append_str(b, "\\n"); break;
      case '\r': tr_buf_append_str(b, "\\r"); break;
      case '\t': tr_buf_append_str(b, "\\t"); break;
      case '\b': tr_buf_append_str(b, "\\b"); break;
      case '\f': tr_buf_append_str(b, "\\f"); break;
      default:
        if (c < 0x20 || c == '<' || c == '>' || c == '&') {
          char e[6] = {'\\', 'u', '0', '0', hx[c >> 4], hx[c & 15]};
          tr_buf_append(b, e, 6);
        } else {
          tr_buf_append_byte(b, c);
        }
      }
      i++;
      continue;
    }
    int32_t r = rb_utf8_decode((const unsigned char *)s + i, n - i, &w);
    if (r == RB_RUNE_ERROR && w == 1)
      tr_buf_append_str(b, "\\ufffd");
    else if (r == 0x2028 || r == 0x2029)
      tr_buf_append_str(b, r == 0x2028 ? "\\u2028" : "\\u2029");
    else
      tr_buf_append(b, s + i, w);
    i += w;
  }
  tr_buf_append_byte(b, '"');
}

typedef struct {
  const char *prefix, *indent;
  size_t plen, ilen;
  bool pretty;
} mfmt;

static void newline(tr_buf *b, const mfmt *f, int depth) {
  tr_buf_append_byte(b, '\n');
  tr_buf_append(b, f->prefix, f->plen);
  for (int i = 0; i < depth; i++)
    tr_buf_append(b, f->indent, f->ilen);
}

static void marshal(rv_arena *a, tr_buf *b, const rv *v, const mfmt *f, int depth) {
  switch (v->kind) {
  case RV_NULL: tr_buf_append_str(b, "null"); return;
  case RV_BOOL: tr_buf_append_str(b, v->u.b ? "true" : "false"); return;
  case RV_NUMBER: {
    rv_buf nb = {.a = a};
    rv_write_number(&nb, v);
    tr_buf_append(b, nb.s, nb.len);
    return;
  }
  case RV_STRING: put_string(b, v->u.str.s, v->u.str.len); return;
  case RV_ARRAY:
  case RV_SET:
    tr_buf_append_byte(b, '[');
    for (size_t i = 0; i < v->u.arr.len; i++) {
      if (i) tr_buf_append_byte(b, ',');
      if (f->pretty) newline(b, f, depth + 1);
      marshal(a, b, v->u.arr.items[i], f, depth + 1);
    }
    if (f->pretty && v->u.arr.len) newline(b, f, depth);
    tr_buf_append_byte(b, ']');
    return;
  case RV_OBJECT: {
    /* Go sorts map keys by their string form; non-string keys use their
     * JSON text, so order those too. */
    size_t n = v->u.obj.len;
    const char **ks = rv_alloc(a, (n + 1) * sizeof(char *));
    size_t *kl = rv_alloc(a, (n + 1) * sizeof(size_t));
    size_t *ord = rv_alloc(a, (n + 1) * sizeof(size_t));
    for (size_t i = 0; i < n; i++) {
      const rv *k = v->u.obj.keys[i];
      if (rv_is(k, RV_STRING))
        ks[i] = k->u.str.s, kl[i] = k->u.str.len;
      else {
        rv_buf kb = {.a = a};
        rv_write_json(&kb, k);
        ks[i] = kb.s ? kb.s : "", kl[i] = kb.len;
      }
      ord[i] = i;
    }
    for (size_t i = 1; i < n; i++) { /* insertion sort by bytes (keys are mostly sorted already) */
      size_t x = ord[i], j = i;
      while (j > 0) {
        size_t y = ord[j - 1], m = kl[x] < kl[y] ? kl[x] : kl[y];
        int c = memcmp(ks[y], ks[x], m);
        if (c < 0 || (c == 0 && kl[y] <= kl[x])) break;
        ord[j] = y;
        j--;
      }
      ord[j] = x;
    }
    tr_buf_append_byte(b, '{');
    for (size_t i = 0; i < n; i++) {
      if (i) tr_buf_append_byte(b, ',');
      if (f->pretty) newline(b, f, depth + 1);
      put_string(b, ks[ord[i]], kl[ord[i]]);
      tr_buf_append_str(b, f->pretty ? ": " : ":");
      marshal(a, b, v->u.obj.vals[ord[i]], f, depth + 1);
    }
    if (f->pretty && n) newline(b, f, depth);
    tr_buf_append_byte(b, '}');
    return;
  }
  default: return;
  }
}

static rv *marshal_value(rego_bctx *ctx, const rv *v, const mfmt *f) {
  tr_buf b = TR_BUF_INIT;
  if (f->pretty) tr_buf_append(&b, f->prefix, f->plen);
  marshal(ctx->arena, &b, v, f, 0);
  rv *r = rv_string(ctx->arena, b.data ? (const char *)b.data : "", b.len);
  tr_buf_free(&b);
  return r;
}

static rego_bi_status bi_marshal(rego_bctx *ctx, rv *const *args, rv **out) {
  mfmt f = {"", "", 0, 0, false};
  *out = marshal_value(ctx, args[0], &f);
  return REGO_BI_OK;
}

static rego_bi_status bi_marshal_with_options(rego_bctx *ctx, rv *const *args, rv **out) {
  RB_EXPECT(ctx, args, 1, RV_OBJECT, "object");
  const rv *o = args[1];
  mfmt f = {"", "\t", 0, 1, false};
  bool implicit = false, explicit_set = false, explicit_val = false;
  for (size_t i = 0; i < o->u.obj.len; i++) {
    const rv *k = o->u.obj.keys[i], *v = o->u.obj.vals[i];
    if (!rv_is(k, RV_STRING)) {
      size_t tl;
      const char *t = rb_rego_text(ctx->arena, k, false, &tl);
      return rego_bi_type_error(
          ctx, "operand 2 failed to stringify key %s at index %zu: operand %zu must be string but got %s", t,
          i, i, rv_type_name(k));
    }
    const char *key = k->u.str.s;
    if (!strcmp(key, "prefix") || !strcmp(key, "indent")) {
      if (!rv_is(v, RV_STRING))
        return rego_bi_type_error(
            ctx, "operand 2 key \"%s\" failed cast to string: operand %zu must be string but got %s", key, i,
            rv_type_name(v));
      if (key[0] == 'p')
        f.prefix = v->u.str.s, f.plen = v->u.str.len;
      else
        f.indent = v->u.str.s, f.ilen = v->u.str.len;
      implicit = true;
    } else if (!strcmp(key, "pretty")) {
      explicit_set = true;
      if (!rv_is(v, RV_BOOL)) return rego_bi_type_error(ctx, "operand 2 key \"%s\" failed cast to bool", key);
      explicit_val = v->u.b;
    } else {
      return rego_bi_type_error(ctx, "operand 2 object contained unknown key \"%s\"", key);
    }
  }
  f.pretty = explicit_set ? explicit_val : implicit;
  *out = marshal_value(ctx, args[0], &f);
  return REGO_BI_OK;
}

static rego_bi_status bi_unmarshal(rego_bctx *ctx, rv *const *args, rv **out) {
  RB_EXPECT(ctx, args, 0, RV_STRING, "string");
  tr_err *e = rv_parse_json(ctx->arena, args[0]->u.str.s, args[0]->u.str.len, 0, out);
  if (e) {
    rego_bi_status st = rego_bi_error(ctx, "%s", tr_err_msg(e));
    tr_err_free(e);
    return st;
  }
  return REGO_BI_OK;
}

static rego_bi_status bi_is_valid(rego_bctx *ctx, rv *const *args, rv **out) {
  if (!rv_is(args[0], RV_STRING)) return (*out = RV_FALSE), REGO_BI_OK;
  rv *v;
  tr_err *e = rv_parse_json(ctx->arena, args[0]->u.str.s, args[0]->u.str.len, 0, &v);
  *out = rv_bool(e == NULL);
  tr_err_free(e);
  return REGO_BI_OK;
}

const rego_builtin_def rego_builtins_json[] = {
    {"json.marshal", 1, bi_marshal, 0},
    {"json.marshal_with_options", 2, bi_marshal_with_options, 0},
    {"json.unmarshal", 1, bi_unmarshal, 0},
    {"json.is_valid", 1, bi_is_valid, 0},
    {NULL, 0, NULL, 0},
};
