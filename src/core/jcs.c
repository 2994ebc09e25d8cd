/* jcs.c — RFC 8785 canonicalisation (see jcs.h).
 *
 * Numbers: the shortest decimal that round-trips is found by printing with
 * %.{p}e for p = 1..17 and reading it back with strtod; glibc's printf rounds
 * correctly (ties to even), so the first p that round-trips yields the digit
 * string closest to the value, which is what ECMAScript's Number::toString
 * requires. The digits and the decimal exponent are then laid out by the
 * rules of ECMA-262 §6.1.6.1.20 (plain up to 21 integer digits, "0.000ddd"
 * down to 1e-6, exponent form otherwise). */
#include "core/jcs.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"

tr_err *tr_jcs_number(double d, char *buf, size_t buflen) {
  if (buflen < 32) return tr_err_new(TR_E_INTERNAL, "jcs: number buffer too small");
  if (!isfinite(d))
    return tr_err_new(TR_E_INVALID, "jcs: %s is not a valid JSON number", isnan(d) ? "NaN" : "Infinity");
  if (d == 0) { /* both +0 and -0 */
    strcpy(buf, "0");
    return NULL;
  }
  char *p = buf;
  if (d < 0) {
    *p++ = '-';
    d = -d;
  }
  /* Shortest round-trip digits. */
  char tmp[40];
  int prec;
  for (prec = 0; prec < 17; prec++) { /* %.{prec}e gives prec+1 significant digits */
    snprintf(tmp, sizeof tmp, "%.*e", prec, d);
    if (strtod(tmp, NULL) == d) break;
  }
  /* tmp = "d.ddddde[+-]xx": collect the digits (k of them) and n = exponent + 1. */
  char digits[20];
  int k = 0;
  const char *q = tmp;
  for (; *q && *q != 'e'; q++)
    if (*q >= '0' && *q <= '9') digits[k++] = *q;
  int n = atoi(q + 1) + 1;
  while (k > 1 && digits[k - 1] == '0')
    k--; /* e.g. "1.0e+21" cannot occur, but be safe */
  digits[k] = 0;

  if (k <= n && n <= 21) { /* integer: digits then n-k zeros */
    memcpy(p, digits, (size_t)k);
    p += k;
    for (int i = 0; i < n - k; i++)
      *p++ = '0';
  } else if (0 < n && n <= 21) { /* decimal point inside the digits */
    memcpy(p, digits, (size_t)n);
    p += n;
    *p++ = '.';
    memcpy(p, digits + n, (size_t)(k - n));
    p += k - n;
  } else if (-6 < n && n <= 0) { /* 0.000ddd */
    *p++ = '0';
    *p++ = '.';
    for (int i = 0; i < -n; i++)
      *p++ = '0';
    memcpy(p, digits, (size_t)k);
    p += k;
  } else { /* exponent form */
    *p++ = digits[0];
    if (k > 1) {
      *p++ = '.';
      memcpy(p, digits + 1, (size_t)(k - 1));
      p += k - 1;
    }
    p += sprintf(p, "e%c%d", n - 1 >= 0 ? '+' : '-', abs(n - 1));
  }
  *p = 0;
  return NULL;
}

static bool put_string(tr_buf *b, const char *s, size_t len) {
  static const char hex[] = "0123456789abcdef";
  if (!tr_buf_append_byte(b, '"')) return false;
  size_t run = 0; /* start of the pending raw run */
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    if (!tr_buf_append(b, s + run, i - run)) return false;
    run = i + 1;
    char esc[7] = {'\\', 0};
    size_t elen = 2;
    switch (c) {
    case '"': esc[1] = '"'; break;
    case '\\': esc[1] = '\\'; break;
    case '\b': esc[1] = 'b'; break;
    case '\f': esc[1] = 'f'; break;
    case '\n': esc[1] = 'n'; break;
    case '\r': esc[1] = 'r'; break;
    case '\t': esc[1] = 't'; break;
    default:
      esc[1] = 'u';
      esc[2] = '0';
      esc[3] = '0';
      esc[4] = hex[c >> 4];
      esc[5] = hex[c & 15];
      elen = 6;
    }
    if (!tr_buf_append(b, esc, elen)) return false;
  }
  return tr_buf_append(b, s + run, len - run) && tr_buf_append_byte(b, '"');
}

/* A member name as UTF-16 code units (jansson guarantees valid UTF-8). */
typedef struct {
  const char *key;
  json_t *value;
  uint16_t *u16;
  size_t n;
} member;

static bool to_utf16(const char *s, uint16_t **out, size_t *n) {
  size_t len = strlen(s);
  uint16_t *u = malloc((len + 1) * sizeof *u); /* never more units than bytes */
  if (!u) return false;
  size_t j = 0;
  const unsigned char *p = (const unsigned char *)s;
  while (*p) {
    uint32_t cp;
    if (p[0] < 0x80) {
      cp = p[0];
      p += 1;
    } else if ((p[0] & 0xe0) == 0xc0 && p[1]) {
      cp = ((uint32_t)(p[0] & 0x1f) << 6) | (p[1] & 0x3f);
      p += 2;
    } else if ((p[0] & 0xf0) == 0xe0 && p[1] && p[2]) {
      cp = ((uint32_t)(p[0] & 0x0f) << 12) | ((uint32_t)(p[1] & 0x3f) << 6) | (p[2] & 0x3f);
      p += 3;
    } else if (p[1] && p[2] && p[3]) {
      cp = ((uint32_t)(p[0] & 0x07) << 18) | ((uint32_t)(p[1] & 0x3f) << 12) |
           ((uint32_t)(p[2] & 0x3f) << 6) | (p[3] & 0x3f);
      p += 4;
    } else { /* truncated sequence: cannot come from jansson; order by the byte */
      cp = p[0];
      p += 1;
    }
    if (cp >= 0x10000) {
      cp -= 0x10000;
      u[j++] = (uint16_t)(0xd800 | (cp >> 10));
      u[j++] = (uint16_t)(0xdc00 | (cp & 0x3ff));
    } else {
      u[j++] = (uint16_t)cp;
    }
  }
  *out = u;
  *n = j;
  return true;
}

static int cmp_member(const void *a, const void *b) {
  const member *x = a, *y = b;
  size_t n = x->n < y->n ? x->n : y->n;
  for (size_t i = 0; i < n; i++)
    if (x->u16[i] != y->u16[i]) return x->u16[i] < y->u16[i] ? -1 : 1;
  return x->n < y->n ? -1 : x->n > y->n;
}

static tr_err *emit(tr_buf *b, const json_t *v, int depth);

static tr_err *emit_object(tr_buf *b, const json_t *v, int depth) {
  size_t n = json_object_size(v);
  member *m = calloc(n ? n : 1, sizeof *m);
  if (!m) return tr_err_new(TR_E_NOMEM, "jcs: out of memory");
  tr_err *e = NULL;
  size_t i = 0;
  const char *key;
  json_t *val;
  json_object_foreach((json_t *)v, key, val) {
    m[i].key = key;
    m[i].value = val;
    if (!to_utf16(key, &m[i].u16, &m[i].n)) {
      e = tr_err_new(TR_E_NOMEM, "jcs: out of memory");
      break;
    }
    i++;
  }
  if (!e) {
    qsort(m, n, sizeof *m, cmp_member);
    if (!tr_buf_append_byte(b, '{')) e = tr_err_new(TR_E_NOMEM, "jcs: out of memory");
    for (size_t j = 0; !e && j < n; j++) {
      if ((j && !tr_buf_append_byte(b, ',')) || !put_string(b, m[j].key, strlen(m[j].key)) ||
          !tr_buf_append_byte(b, ':'))
        e = tr_err_new(TR_E_NOMEM, "jcs: out of memory");
      else
        e = emit(b, m[j].value, depth + 1);
    }
    if (!e && !tr_buf_append_byte(b, '}')) e = tr_err_new(TR_E_NOMEM, "jcs: out of memory");
  }
  for (size_t j = 0; j < n; j++)
    free(m[j].u16);
  free(m);
  return e;
}

static tr_err *emit(tr_buf *b, const json_t *v, int depth) {
  if (depth > TR_JCS_MAX_DEPTH)
    return tr_err_new(TR_E_LIMIT, "jcs: nesting deeper than %d", TR_JCS_MAX_DEPTH);
  char num[40];
  tr_err *e;
  bool ok = true;
  switch (json_typeof(v)) {
  case JSON_OBJECT: return emit_object(b, v, depth);
  case JSON_ARRAY:
    ok = tr_buf_append_byte(b, '[');
    for (size_t i = 0; ok && i < json_array_size(v); i++) {
      if (i && !tr_buf_append_byte(b, ',')) {
        ok = false;
        break;
      }
      if ((e = emit(b, json_array_get(v, i), depth + 1))) return e;
    }
    ok = ok && tr_buf_append_byte(b, ']');
    break;
  case JSON_STRING: ok = put_string(b, json_string_value(v), json_string_length(v)); break;
  case JSON_INTEGER: {
    json_int_t x = json_integer_value(v);
    if (x >= -(1LL << 53) && x <= (1LL << 53)) {
      ok = tr_buf_printf(b, "%lld", (long long)x);
      break;
    }
    if ((e = tr_jcs_number((double)x, num, sizeof num))) return e;
    ok = tr_buf_append_str(b, num);
    break;
  }
  case JSON_REAL:
    if ((e = tr_jcs_number(json_real_value(v), num, sizeof num))) return e;
    ok = tr_buf_append_str(b, num);
    break;
  case JSON_TRUE: ok = tr_buf_append_str(b, "true"); break;
  case JSON_FALSE: ok = tr_buf_append_str(b, "false"); break;
  case JSON_NULL: ok = tr_buf_append_str(b, "null"); break;
  }
  return ok ? NULL : tr_err_new(TR_E_NOMEM, "jcs: out of memory");
}

tr_err *tr_jcs(const json_t *v, char **out, size_t *out_len) {
  *out = NULL;
  if (!v) return tr_err_new(TR_E_INVALID, "jcs: no value");
  tr_buf b = TR_BUF_INIT;
  tr_err *e = emit(&b, v, 0);
  if (e) {
    tr_buf_free(&b);
    return e;
  }
  size_t len;
  *out = (char *)tr_buf_steal(&b, &len);
  if (out_len) *out_len = len;
  return NULL;
}

tr_err *tr_jcs_digest(const json_t *v, tr_digest_alg alg, uint8_t *out, size_t *out_len) {
  char *s = NULL;
  size_t len = 0;
  tr_err *e = tr_jcs(v, &s, &len);
  if (e) return e;
  e = tr_digest(alg, s, len, out, out_len);
  free(s);
  return e;
}
