/* encoding.c — base64.*, base64url.*, hex.*, urlquery.* with Go's exact
 * acceptance rules (encoding/base64 StdEncoding: padding required, CR/LF
 * ignored, non-zero trailing bits tolerated; encoding/hex; net/url
 * QueryEscape/QueryUnescape/ParseQuery) and Go's error texts. */
#include <stdlib.h>

#include "core/buf.h"
#include "rego/builtins/common_internal.h"

static const char b64_std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64_url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int b64_val(const char *alpha, unsigned char c) {
  const char *p = c ? memchr(alpha, c, 64) : NULL;
  return p ? (int)(p - alpha) : -1;
}

/* Go's Encoding.DecodeString with padding '='. Returns -1 on success or the
 * offending input offset (CorruptInputError). dst holds >= 3*ceil(n/4). */
static long go_b64_decode(const char *alpha, const unsigned char *src, size_t n, unsigned char *dst,
                          size_t *dn) {
  size_t si = 0, out = 0;
  while (si < n) {
    unsigned dbuf[4] = {0};
    int dlen = 4;
    long err = -1;
    int j;
    for (j = 0; j < 4; j++) {
      if (si == n) {
        if (j == 0) {
          *dn = out;
          return -1;
        }
        return (long)(si - (size_t)j); /* padding is required */
      }
      unsigned char in = src[si++];
      int v = b64_val(alpha, in);
      if (v >= 0) {
        dbuf[j] = (unsigned)v;
        continue;
      }
      if (in == '\n' || in == '\r') {
        j--;
        continue;
      }
      if (in != '=') return (long)(si - 1);
      if (j == 0 || j == 1) return (long)(si - 1);
      if (j == 2) {
        while (si < n && (src[si] == '\n' || src[si] == '\r'))
          si++;
        if (si == n) return (long)n;
        if (src[si] != '=') return (long)(si - 1);
        si++;
      }
      while (si < n && (src[si] == '\n' || src[si] == '\r'))
        si++;
      if (si < n) err = (long)si;
      dlen = j;
      break;
    }
    unsigned val = dbuf[0] << 18 | dbuf[1] << 12 | dbuf[2] << 6 | dbuf[3];
    unsigned char b[3] = {(unsigned char)(val >> 16), (unsigned char)(val >> 8), (unsigned char)val};
    for (int k = 0; k < dlen - 1; k++)
      dst[out++] = b[k];
    if (err >= 0) return err;
    if (dlen < 4) break;
  }
  *dn = out;
  return -1;
}

static rego_bi_status b64_decode(rego_bctx *ctx, const char *alpha, const char *s, size_t n, rv **out) {
  unsigned char *dst = rv_alloc(ctx->arena, n / 4 * 3 + 4);
  size_t dn = 0;
  long bad = go_b64_decode(alpha, (const unsigned char *)s, n, dst, &dn);
  if (bad >= 0) return rego_bi_error(ctx, "illegal base64 data at input byte %ld", bad);
  dst[dn] = 0;
  *out = rv_string_nocopy(ctx->arena, (const char *)dst, dn);
  return REGO_BI_OK;
}

static rv *b64_encode(rego_bctx *ctx, const char *alpha, const char *s, size_t n, bool pad) {
  size_t cap = (n + 2) / 3 * 4 + 1;
  char *o = rv_alloc(ctx->arena, cap);
  size_t k = 0, i = 0;
  const unsigned char *u = (const unsigned char *)s;
  for (; i + 3 <= n; i += 3) {
    unsigned v = (unsigned)u[i] << 16 | (unsigned)u[i + 1] << 8 | u[i + 2];
    o[k++] = alpha[v >> 18], o[k++] = alpha[(v >> 12) & 63], o[k++] = alpha[(v >> 6) & 63],
    o[k++] = alpha[v & 63];
  }
  if (n - i == 1) {
    unsigned v = (unsigned)u[i] << 16;
    o[k++] = alpha[v >> 18], o[k++] = alpha[(v >> 12) & 63];
    if (pad) o[k++] = '=', o[k++] = '=';
  } else if (n - i == 2) {
    unsigned v = (unsigned)u[i] << 16 | (unsigned)u[i + 1] << 8;
    o[k++] = alpha[v >> 18], o[k++] = alpha[(v >> 12) & 63], o[k++] = alpha[(v >> 6) & 63];
    if (pad) o[k++] = '=';
  }
  o[k] = '\0';
  return rv_string_nocopy(ctx->arena, o, k);
}

#define STR_ARG(ctx, args)                                                                                   \
  RB_EXPECT(ctx, args, 0, RV_STRING, "string");                                                              \
  const char *s = args[0]->u.str.s;                                                                          \
  size_t n = args[0]->u.str.len

static rego_bi_status bi_b64_encode(rego_bctx *ctx, rv *const *args, rv **out) {
  STR_ARG(ctx, args);
  *out = b64_encode(ctx, b64_std, s, n, true);
  return REGO_BI_OK;
}

static rego_bi_status bi_b64_decode(rego_bctx *ctx, rv *const *args, rv **out) {
  STR_ARG(ctx, args);
  return b64_decode(ctx, b64_std, s, n, out);
}

static rego_bi_status bi_b64_is_valid(rego_bctx *ctx, rv *const *args, rv **out) {
  if (!rv_is(args[0], RV_STRING)) return (*out = RV_FALSE), REGO_BI_OK;
  size_t n = args[0]->u.str.len, dn;
  unsigned char *dst = rv_alloc(ctx->arena, n / 4 * 3 + 4);
  *out = rv_bool(go_b64_decode(b64_std, (const unsigned char *)args[0]->u.str.s, n, dst, &dn) < 0);
  return REGO_BI_OK;
}

static rego_bi_status bi_b64url_encode(rego_bctx *ctx, rv *const *args, rv **out) {
  STR_ARG(ctx, args);
  *out = b64_encode(ctx, b64_url, s, n, true);
  return REGO_BI_OK;
}

static rego_bi_status bi_b64url_encode_no_pad(rego_bctx *ctx, rv *const *args, rv **out) {
  STR_ARG(ctx, args);
  *out = b64_encode(ctx, b64_url, s, n, false);
  return REGO_BI_OK;
}

static rego_bi_status bi_b64url_decode(rego_bctx *ctx, rv *const *args, rv **out) {
  STR_ARG(ctx, args);
  if (n == 0 || s[n - 1] != '=') {
    /* RFC 7515 appendix C: restore the padding */
    size_t extra = n % 4 == 2 ? 2 : n % 4 == 3 ? 1 : 0;
    if (n % 4 == 1) return rego_bi_error(ctx, "illegal base64url string: %s", s);
    if (extra) {
      char *p = rv_alloc(ctx->arena, n + 3);
      memcpy(p, s, n);
      memcpy(p + n, "==", extra);
      return b64_decode(ctx, b64_url, p, n + extra, out);
    }
  }
  return b64_decode(ctx, b64_url, s, n, out);
}

static rego_bi_status bi_hex_encode(rego_bctx *ctx, rv *const *args, rv **out) {
  STR_ARG(ctx, args);
  static const char hx[] = "0123456789abcdef";
  char *o = rv_alloc(ctx->arena, 2 * n + 1);
  for (size_t i = 0; i < n; i++)
    o[2 * i] = hx[(unsigned char)s[i] >> 4], o[2 * i + 1] = hx[s[i] & 15];
  o[2 * n] = '\0';
  *out = rv_string_nocopy(ctx->arena, o, 2 * n);
  return REGO_BI_OK;
}

static int hexval(unsigned char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Go's %#U of a byte value. */
static rego_bi_status hex_invalid(rego_bctx *ctx, unsigned char c) {
  if (c >= 0x20 && c < 0x7f) return rego_bi_error(ctx, "encoding/hex: invalid byte: U+%04X '%c'", c, c);
  if (c >= 0xa0)
    return rego_bi_error(ctx, "encoding/hex: invalid byte: U+%04X '%c%c'", c, 0xC0 | (c >> 6),
                         0x80 | (c & 0x3F));
  return rego_bi_error(ctx, "encoding/hex: invalid byte: U+%04X", c);
}

static rego_bi_status bi_hex_decode(rego_bctx *ctx, rv *const *args, rv **out) {
  STR_ARG(ctx, args);
  char *o = rv_alloc(ctx->arena, n / 2 + 1);
  size_t j;
  for (j = 1; j < n; j += 2) {
    int a = hexval((unsigned char)s[j - 1]), b = hexval((unsigned char)s[j]);
    if (a < 0) return hex_invalid(ctx, (unsigned char)s[j - 1]);
    if (b < 0) return hex_invalid(ctx, (unsigned char)s[j]);
    o[j / 2] = (char)(a << 4 | b);
  }
  if (n % 2 == 1) {
    if (hexval((unsigned char)s[j - 1]) < 0) return hex_invalid(ctx, (unsigned char)s[j - 1]);
    return rego_bi_error(ctx, "encoding/hex: odd length hex string");
  }
  o[n / 2] = '\0';
  *out = rv_string_nocopy(ctx->arena, o, n / 2);
  return REGO_BI_OK;
}

/* ---- urlquery -------------------------------------------------------------------- */

static void query_escape(tr_buf *b, const char *s, size_t n) {
  static const char hx[] = "0123456789ABCDEF";
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
        c == '.' || c == '~') {
      tr_buf_append_byte(b, c);
    } else if (c == ' ') {
      tr_buf_append_byte(b, '+');
    } else {
      char e[3] = {'%', hx[c >> 4], hx[c & 15]};
      tr_buf_append(b, e, 3);
    }
  }
}

/* url.QueryUnescape; on error fills err with Go's text. */
static bool query_unescape(tr_buf *b, const char *s, size_t n, char *err, size_t errlen) {
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '%') {
      if (i + 2 >= n || hexval((unsigned char)s[i + 1]) < 0 || hexval((unsigned char)s[i + 2]) < 0) {
        size_t l = n - i > 3 ? 3 : n - i;
        snprintf(err, errlen, "invalid URL escape \"%.*s\"", (int)l, s + i);
        return false;
      }
      tr_buf_append_byte(b,
                         (uint8_t)(hexval((unsigned char)s[i + 1]) << 4 | hexval((unsigned char)s[i + 2])));
      i += 2;
    } else if (s[i] == '+') {
      tr_buf_append_byte(b, ' ');
    } else {
      tr_buf_append_byte(b, (uint8_t)s[i]);
    }
  }
  return true;
}

static rv *buf_string(rego_bctx *ctx, tr_buf *b) {
  rv *r = rv_string(ctx->arena, b->data ? (const char *)b->data : "", b->len);
  tr_buf_free(b);
  return r;
}

static rego_bi_status bi_urlquery_encode(rego_bctx *ctx, rv *const *args, rv **out) {
  STR_ARG(ctx, args);
  tr_buf b = TR_BUF_INIT;
  query_escape(&b, s, n);
  *out = buf_string(ctx, &b);
  return REGO_BI_OK;
}

static rego_bi_status bi_urlquery_decode(rego_bctx *ctx, rv *const *args, rv **out) {
  STR_ARG(ctx, args);
  tr_buf b = TR_BUF_INIT;
  char err[64];
  if (!query_unescape(&b, s, n, err, sizeof err)) {
    tr_buf_free(&b);
    return rego_bi_error(ctx, "%s", err);
  }
  *out = buf_string(ctx, &b);
  return REGO_BI_OK;
}

static rego_bi_status bi_urlquery_encode_object(rego_bctx *ctx, rv *const *args, rv **out) {
  RB_EXPECT(ctx, args, 0, RV_OBJECT, "object");
  const rv *o = args[0];
  tr_buf b = TR_BUF_INIT;
  /* url.Values.Encode: keys sorted (by their text), values in order */
  for (size_t i = 0; i < o->u.obj.len; i++) {
    const rv *k = o->u.obj.keys[i], *v = o->u.obj.vals[i];
    const char *ks;
    size_t kn;
    if (rv_is(k, RV_STRING))
      ks = k->u.str.s, kn = k->u.str.len;
    else
      ks = rb_rego_text(ctx->arena, k, false, &kn);
    rv *const *vals;
    size_t nv;
    if (rv_is(v, RV_STRING))
      vals = &o->u.obj.vals[i], nv = 1;
    else if (rv_is(v, RV_ARRAY) || rv_is(v, RV_SET))
      vals = v->u.arr.items, nv = v->u.arr.len;
    else {
      tr_buf_free(&b);
      return rego_bi_type_error(ctx, "operand 1 values must be string, array[string], or set[string]");
    }
    for (size_t j = 0; j < nv; j++) {
      if (!rv_is(vals[j], RV_STRING)) {
        tr_buf_free(&b);
        return rego_bi_type_error(ctx, "operand 1 values must be string, array[string], or set[string]");
      }
      if (b.len) tr_buf_append_byte(&b, '&');
      query_escape(&b, ks, kn);
      tr_buf_append_byte(&b, '=');
      query_escape(&b, vals[j]->u.str.s, vals[j]->u.str.len);
    }
  }
  *out = buf_string(ctx, &b);
  return REGO_BI_OK;
}

static rego_bi_status bi_urlquery_decode_object(rego_bctx *ctx, rv *const *args, rv **out) {
  STR_ARG(ctx, args);
  rv_vec keys = {0};
  rv_vec *vals = NULL;
  size_t nvals = 0, cap = 0;
  char err[80] = "";
  size_t i = 0;
  while (i <= n) {
    const char *amp = memchr(s + i, '&', n - i);
    size_t end = amp ? (size_t)(amp - s) : n;
    const char *seg = s + i;
    size_t sl = end - i;
    i = end + 1;
    if (sl == 0) {
      if (!amp) break;
      continue;
    }
    if (memchr(seg, ';', sl)) {
      if (!err[0]) snprintf(err, sizeof err, "invalid semicolon separator in query");
      if (!amp) break;
      continue;
    }
    const char *eq = memchr(seg, '=', sl);
    size_t kl = eq ? (size_t)(eq - seg) : sl;
    tr_buf kb = TR_BUF_INIT, vb = TR_BUF_INIT;
    char e1[64];
    if (!query_unescape(&kb, seg, kl, e1, sizeof e1) ||
        (eq && !query_unescape(&vb, eq + 1, sl - kl - 1, e1, sizeof e1))) {
      if (!err[0]) snprintf(err, sizeof err, "%s", e1);
      tr_buf_free(&kb);
      tr_buf_free(&vb);
      if (!amp) break;
      continue;
    }
    rv *k = buf_string(ctx, &kb), *v = buf_string(ctx, &vb);
    size_t idx = 0;
    while (idx < keys.len && !rv_equal(keys.items[idx], k))
      idx++;
    if (idx == keys.len) {
      rv_vec_push(ctx->arena, &keys, k);
      if (nvals == cap) {
        size_t nc = cap ? cap * 2 : 8;
        rv_vec *nv = rv_zalloc(ctx->arena, nc * sizeof *nv);
        if (nvals) memcpy(nv, vals, nvals * sizeof *nv);
        vals = nv, cap = nc;
      }
      nvals++;
    }
    rv_vec_push(ctx->arena, &vals[idx], v);
    if (!amp) break;
  }
  if (err[0]) return rego_bi_error(ctx, "%s", err);
  rv **arrs = rv_alloc(ctx->arena, (keys.len + 1) * sizeof(rv *));
  for (size_t k = 0; k < keys.len; k++)
    arrs[k] = rv_array(ctx->arena, vals[k].items, vals[k].len);
  *out = rv_object(ctx->arena, keys.items, arrs, keys.len, NULL);
  return REGO_BI_OK;
}

const rego_builtin_def rego_builtins_encoding[] = {
    {"base64.encode", 1, bi_b64_encode, 0},
    {"base64.decode", 1, bi_b64_decode, 0},
    {"base64.is_valid", 1, bi_b64_is_valid, 0},
    {"base64url.encode", 1, bi_b64url_encode, 0},
    {"base64url.encode_no_pad", 1, bi_b64url_encode_no_pad, 0},
    {"base64url.decode", 1, bi_b64url_decode, 0},
    {"hex.encode", 1, bi_hex_encode, 0},
    {"hex.decode", 1, bi_hex_decode, 0},
    {"urlquery.encode", 1, bi_urlquery_encode, 0},
    {"urlquery.decode", 1, bi_urlquery_decode, 0},
    {"urlquery.encode_object", 1, bi_urlquery_encode_object, 0},
    {"urlquery.decode_object", 1, bi_urlquery_decode_object, 0},
    {NULL, 0, NULL, 0},
};
