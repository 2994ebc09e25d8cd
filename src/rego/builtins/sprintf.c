/* sprintf.c — OPA's sprintf: a port of Go's fmt.Sprintf verb machinery.
 *
 * OPA converts each array element to one of four Go types before calling
 * fmt.Sprintf: `int` (numbers that fit int64), `*big.Int` (larger
 * integers), `float64` (other numbers) and `string` (strings, and every other
 * value rendered as Rego text). Only those types need formatting here, so
 * this file follows Go's doPrintf / printArg / fmtInteger / fmtFloat /
 * big.Int.Format closely, error markers included ("%!d(string=x)",
 * "%!v(MISSING)", "%!(EXTRA int=1)"), because policies and tests compare the
 * resulting strings.
 *
 * Floats: Go prints the shortest decimal that round-trips (strconv 'g' -1).
 * We find it by asking the C library for 1..17 significant digits, each
 * correctly rounded, and taking the first that parses back to the same
 * double; explicit precisions go straight to snprintf, which rounds exactly
 * like Go (round half to even on the exact binary value). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rego/builtins/sprintf_internal.h"
#include "rego/builtins/utf8_internal.h"

typedef struct {
  bool sharp, zero, plus, minus, space, sharpV, plusV;
  bool widPresent, precPresent;
  int wid, prec;
} gofmt_flags;

typedef struct {
  tr_buf *out;
  bool ok;
  gofmt_flags f;
} pp;

static void put(pp *p, const char *s, size_t n) {
  if (!tr_buf_append(p->out, s, n)) p->ok = false;
}
static void puts_(pp *p, const char *s) { put(p, s, strlen(s)); }
static void putc_(pp *p, char c) { put(p, &c, 1); }

static void write_padding(pp *p, int n) {
  char c = p->f.zero ? '0' : ' ';
  for (int i = 0; i < n; i++)
    putc_(p, c);
}

/* fmt.pad: width counted in runes. */
static void pad(pp *p, const char *s, size_t n) {
  if (!p->f.widPresent || p->f.wid == 0) {
    put(p, s, n);
    return;
  }
  int width = p->f.wid - (int)rb_utf8_count(s, n);
  if (!p->f.minus) {
    write_padding(p, width);
    put(p, s, n);
  } else {
    put(p, s, n);
    write_padding(p, width);
  }
}

static size_t truncate_len(pp *p, const char *s, size_t n) {
  if (p->f.precPresent) return rb_utf8_offset(s, n, (size_t)p->f.prec);
  return n;
}

/* ---- strconv.Quote ------------------------------------------------------ */

/* An approximation of Go's unicode.IsPrint for non-ASCII runes: letters,
 * marks, numbers, punctuation and symbols are printable; C1 controls,
 * format characters commonly met, separators other than U+0020, surrogates,
 * private use and non-characters are not. */
static bool is_print(int32_t r) {
  if (r < 0x80) return r >= 0x20 && r < 0x7F;
  if (r < 0xA0 || r == 0xAD) return false;
  if (r >= 0x2000 && r <= 0x200F) return r < 0x200B ? false : false;
  if (r >= 0x2028 && r <= 0x202F) return false;
  if (r >= 0x205F && r <= 0x206F) return false;
  if (r == 0x3000 || r == 0xFEFF || r == 0x1680) return false;
  if (r >= 0xD800 && r <= 0xF8FF) return false;
  if ((r & 0xFFFE) == 0xFFFE) return false;
  if (r >= 0xFFF9 && r <= 0xFFFB) return false;
  if (r >= 0xE0000) return false;
  return true;
}

static bool quote_rune_into(tr_buf *b, int32_t r, size_t width, const unsigned char *raw, char quote,
                            bool ascii_only) {
  char tmp[16];
  if (width == 1 && r == RB_RUNE_ERROR) {
    snprintf(tmp, sizeof tmp, "\\x%02x", raw[0]);
    return tr_buf_append_str(b, tmp);
  }
  if (r == quote || r == '\\') {
    tmp[0] = '\\';
    tmp[1] = (char)r;
    return tr_buf_append(b, tmp, 2);
  }
  if (ascii_only ? (r < 0x80 && is_print(r)) : is_print(r)) {
    size_t n = rb_utf8_encode(r, tmp);
    return tr_buf_append(b, tmp, n);
  }
  switch (r) {
  case '\a': return tr_buf_append_str(b, "\\a");
  case '\b': return tr_buf_append_str(b, "\\b");
  case '\f': return tr_buf_append_str(b, "\\f");
  case '\n': return tr_buf_append_str(b, "\\n");
  case '\r': return tr_buf_append_str(b, "\\r");
  case '\t': return tr_buf_append_str(b, "\\t");
  case '\v': return tr_buf_append_str(b, "\\v");
  default: break;
  }
  if (r < ' ' || r == 0x7F)
    snprintf(tmp, sizeof tmp, "\\x%02x", (unsigned)r);
  else if (r < 0x10000)
    snprintf(tmp, sizeof tmp, "\\u%04x", (unsigned)r);
  else
    snprintf(tmp, sizeof tmp, "\\U%08x", (unsigned)r);
  return tr_buf_append_str(b, tmp);
}

bool rb_fmt_quote(tr_buf *out, const char *s, size_t len, bool ascii_only) {
  bool ok = tr_buf_append_byte(out, '"');
  size_t i = 0, w;
  while (ok && i < len) {
    int32_t r = rb_utf8_decode((const unsigned char *)s + i, len - i, &w);
    ok = quote_rune_into(out, r, w, (const unsigned char *)s + i, '"', ascii_only);
    i += w;
  }
  return ok && tr_buf_append_byte(out, '"');
}

static bool quote_rune(tr_buf *out, int32_t r, bool ascii_only) {
  unsigned char raw[4] = {0};
  if (r < 0 || r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF)) r = RB_RUNE_ERROR;
  size_t width = r == RB_RUNE_ERROR ? 3 : 1; /* a valid U+FFFD, not a raw byte */
  return tr_buf_append_byte(out, '\'') && quote_rune_into(out, r, width, raw, '\'', ascii_only) &&
         tr_buf_append_byte(out, '\'');
}

static bool can_backquote(const char *s, size_t n) {
  size_t i = 0, w;
  while (i < n) {
    int32_t r = rb_utf8_decode((const unsigned char *)s + i, n - i, &w);
    if (w == 1 && r == RB_RUNE_ERROR) return false;
    if (r == '`' || r == 0xFEFF) return false;
    if (r < ' ' && r != '\t') return false;
    if (r == 0x7F) return false;
    i += w;
  }
  return true;
}

/* ---- strings ------------------------------------------------------------ */

static void fmt_s(pp *p, const char *s, size_t n) { pad(p, s, truncate_len(p, s, n)); }

static void fmt_q(pp *p, const char *s, size_t n) {
  n = truncate_len(p, s, n);
  tr_buf b = TR_BUF_INIT;
  bool ok;
  if (p->f.sharp && can_backquote(s, n)) {
    ok = tr_buf_append_byte(&b, '`') && tr_buf_append(&b, s, n) && tr_buf_append_byte(&b, '`');
  } else {
    ok = rb_fmt_quote(&b, s, n, p->f.plus);
  }
  if (!ok)
    p->ok = false;
  else
    pad(p, (const char *)b.data, b.len);
  tr_buf_free(&b);
}

/* fmt.fmtSbx: hex of the bytes. */
static void fmt_sx(pp *p, const char *s, size_t n, bool upper) {
  const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  size_t length = n;
  if (p->f.precPresent && (size_t)p->f.prec < length) length = (size_t)p->f.prec;
  long width = 2 * (long)length;
  if (width > 0) {
    if (p->f.space) {
      if (p->f.sharp) width *= 2;
      width += (long)length - 1;
    } else if (p->f.sharp) {
      width += 2;
    }
  } else {
    if (p->f.widPresent) write_padding(p, p->f.wid);
    return;
  }
  if (p->f.widPresent && p->f.wid > width && !p->f.minus) write_padding(p, p->f.wid - (int)width);
  if (p->f.sharp) {
    putc_(p, '0');
    putc_(p, upper ? 'X' : 'x');
  }
  for (size_t i = 0; i < length; i++) {
    if (p->f.space && i > 0) {
      putc_(p, ' ');
      if (p->f.sharp) {
        putc_(p, '0');
        putc_(p, upper ? 'X' : 'x');
      }
    }
    unsigned char c = (unsigned char)s[i];
    putc_(p, digits[c >> 4]);
    putc_(p, digits[c & 15]);
  }
  if (p->f.widPresent && p->f.wid > width && p->f.minus) write_padding(p, p->f.wid - (int)width);
}

/* ---- integers ----------------------------------------------------------- */

static void fmt_integer(pp *p, uint64_t u, int base, bool is_signed, char verb, bool upper) {
  const char *digits = upper ? "0123456789ABCDEFX" : "0123456789abcdefx";
  bool negative = is_signed && (int64_t)u < 0;
  if (negative) u = -u;
  size_t cap = 68 + (size_t)(p->f.widPresent ? p->f.wid : 0) + (size_t)(p->f.precPresent ? p->f.prec : 0);
  char stackbuf[128];
  char *buf = cap <= sizeof stackbuf ? stackbuf : malloc(cap);
  if (!buf) {
    p->ok = false;
    return;
  }
  int prec = 0;
  if (p->f.precPresent) {
    prec = p->f.prec;
    if (prec == 0 && u == 0) {
      bool old = p->f.zero;
      p->f.zero = false;
      write_padding(p, p->f.wid);
      p->f.zero = old;
      if (buf != stackbuf) free(buf);
      return;
    }
  } else if (p->f.zero && p->f.widPresent) {
    prec = p->f.wid;
    if (negative || p->f.plus || p->f.space) prec--;
  }
  size_t i = cap;
  do {
    buf[--i] = digits[u % (unsigned)base];
    u /= (unsigned)base;
  } while (u > 0);
  while (i > 0 && prec > (int)(cap - i))
    buf[--i] = '0';
  if (p->f.sharp) {
    switch (base) {
    case 2:
      buf[--i] = 'b';
      buf[--i] = '0';
      break;
    case 8:
      if (buf[i] != '0') buf[--i] = '0';
      break;
    case 16:
      buf[--i] = digits[16];
      buf[--i] = '0';
      break;
    default: break;
    }
  }
  if (verb == 'O') {
    buf[--i] = 'o';
    buf[--i] = '0';
  }
  if (negative)
    buf[--i] = '-';
  else if (p->f.plus)
    buf[--i] = '+';
  else if (p->f.space)
    buf[--i] = ' ';
  bool old = p->f.zero;
  p->f.zero = false;
  pad(p, buf + i, cap - i);
  p->f.zero = old;
  if (buf != stackbuf) free(buf);
}

static void fmt_unicode(pp *p, uint64_t u) {
  char tmp[64];
  int n = snprintf(tmp, sizeof tmp, "U+%0*llX",
                   p->f.precPresent && p->f.prec > 4 ? (p->f.prec > 40 ? 40 : p->f.prec) : 4,
                   (unsigned long long)u);
  tr_buf b = TR_BUF_INIT;
  bool ok = tr_buf_append(&b, tmp, (size_t)n);
  if (p->f.sharp && u <= 0x10FFFF && is_print((int32_t)u)) {
    char enc[4];
    size_t m = rb_utf8_encode((int32_t)u, enc);
    ok = ok && tr_buf_append(&b, " '", 2) && tr_buf_append(&b, enc, m) && tr_buf_append_byte(&b, '\'');
  }
  bool old = p->f.zero;
  p->f.zero = false;
  if (ok)
    pad(p, (const char *)b.data, b.len);
  else
    p->ok = false;
  p->f.zero = old;
  tr_buf_free(&b);
}

static void bad_verb(pp *p, char verb, const rb_fmt_arg *a);

static void print_int(pp *p, int64_t v, char verb) {
  uint64_t u = (uint64_t)v;
  switch (verb) {
  case 'v':
  case 'd': fmt_integer(p, u, 10, true, verb, false); break;
  case 'b': fmt_integer(p, u, 2, true, verb, false); break;
  case 'o':
  case 'O': fmt_integer(p, u, 8, true, verb, false); break;
  case 'x': fmt_integer(p, u, 16, true, verb, false); break;
  case 'X': fmt_integer(p, u, 16, true, verb, true); break;
  case 'c': {
    char enc[4];
    int32_t r = u > 0x10FFFF ? RB_RUNE_ERROR : (int32_t)u;
    pad(p, enc, rb_utf8_encode(r, enc));
    break;
  }
  case 'q': {
    int32_t r = u > 0x10FFFF ? RB_RUNE_ERROR : (int32_t)u;
    tr_buf b = TR_BUF_INIT;
    bool ok;
    if (p->f.sharp && is_print(r)) {
      char enc[4];
      size_t m = rb_utf8_encode(r, enc);
      ok = tr_buf_append_byte(&b, '\'') && tr_buf_append(&b, enc, m) && tr_buf_append_byte(&b, '\'');
    } else {
      ok = quote_rune(&b, r, p->f.plus);
    }
    if (ok)
      pad(p, (const char *)b.data, b.len);
    else
      p->ok = false;
    tr_buf_free(&b);
    break;
  }
  case 'U': fmt_unicode(p, u); break;
  default: {
    rb_fmt_arg a = {.kind = RB_FMT_INT, .i = v};
    bad_verb(p, verb, &a);
  }
  }
}

/* Decimal string (no sign) to digits in `base`, most significant first.
 * Caller frees. */
static char *dec_to_base(const char *dec, size_t n, int base, bool upper) {
  const char *digs = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  unsigned char *num = malloc(n ? n : 1);
  size_t outcap = n * 4 + 2;
  char *out = malloc(outcap);
  if (!num || !out) {
    free(num);
    free(out);
    return NULL;
  }
  size_t len = 0;
  for (size_t i = 0; i < n; i++)
    num[len++] = (unsigned char)(dec[i] - '0');
  size_t start = 0, olen = 0;
  while (start < len && num[start] == 0)
    start++;
  if (start == len) out[olen++] = '0';
  while (start < len) {
    unsigned rem = 0;
    for (size_t i = start; i < len; i++) {
      unsigned cur = rem * 10 + num[i];
      num[i] = (unsigned char)(cur / (unsigned)base);
      rem = cur % (unsigned)base;
    }
    out[olen++] = digs[rem];
    while (start < len && num[start] == 0)
      start++;
  }
  for (size_t i = 0; i < olen / 2; i++) {
    char t = out[i];
    out[i] = out[olen - 1 - i];
    out[olen - 1 - i] = t;
  }
  out[olen] = '\0';
  free(num);
  return out;
}

/* math/big (*Int).Format. */
static void print_big(pp *p, const char *s, size_t n, char verb) {
  bool neg = n > 0 && s[0] == '-';
  if (neg) s++, n--;
  int base;
  switch (verb) {
  case 'b': base = 2; break;
  case 'o':
  case 'O': base = 8; break;
  case 'd':
  case 's':
  case 'v': base = 10; break;
  case 'x':
  case 'X': base = 16; break;
  default:
    puts_(p, "%!");
    putc_(p, verb);
    puts_(p, "(big.Int=");
    if (neg) putc_(p, '-');
    put(p, s, n);
    putc_(p, ')');
    return;
  }
  bool sharp = p->f.sharp || p->f.sharpV, plus = p->f.plus || p->f.plusV;
  const char *sign = neg ? "-" : plus ? "+" : p->f.space ? " " : "";
  const char *prefix = "";
  if (sharp) {
    switch (verb) {
    case 'b': prefix = "0b"; break;
    case 'o': prefix = "0"; break;
    case 'x': prefix = "0x"; break;
    case 'X': prefix = "0X"; break;
    default: break;
    }
  }
  if (verb == 'O') prefix = "0o";
  char *digits = dec_to_base(s, n, base, verb == 'X');
  if (!digits) {
    p->ok = false;
    return;
  }
  int nd = (int)strlen(digits);
  int left = 0, zeros = 0, right = 0;
  if (p->f.precPresent) {
    if (nd < p->f.prec)
      zeros = p->f.prec - nd;
    else if (nd == 1 && digits[0] == '0' && p->f.prec == 0) {
      free(digits);
      return;
    }
  }
  int length = (int)(strlen(sign) + strlen(prefix)) + zeros + nd;
  if (p->f.widPresent && length < p->f.wid) {
    int d = p->f.wid - length;
    if (p->f.minus)
      right = d;
    else if (p->f.zero && !p->f.precPresent)
      zeros = d;
    else
      left = d;
  }
  for (int i = 0; i < left; i++)
    putc_(p, ' ');
  puts_(p, sign);
  puts_(p, prefix);
  for (int i = 0; i < zeros; i++)
    putc_(p, '0');
  puts_(p, digits);
  for (int i = 0; i < right; i++)
    putc_(p, ' ');
  free(digits);
}

/* ---- floats ------------------------------------------------------------- */

/* Shortest round-trip decimal digits of |v| (v finite, non-zero): digits
 * without trailing zeros in dig (NUL-terminated), decimal point position dp
 * (value = 0.dig × 10^dp). */
static void shortest_digits(double v, char *dig, int *nd, int *dp) {
  char tmp[40];
  v = fabs(v);
  for (int prec = 1; prec <= 17; prec++) {
    snprintf(tmp, sizeof tmp, "%.*e", prec - 1, v);
    if (strtod(tmp, NULL) == v || prec == 17) break;
  }
  /* tmp = d[.ddd]e±XX */
  int n = 0;
  char *e = strchr(tmp, 'e');
  for (char *c = tmp; c < e; c++)
    if (*c != '.') dig[n++] = *c;
  while (n > 1 && dig[n - 1] == '0')
    n--;
  dig[n] = '\0';
  *nd = n;
  *dp = atoi(e + 1) + 1;
}

/* strconv's %e / %f from a digit string. */
static void fmt_e_digits(tr_buf *b, const char *dig, int nd, int dp, int prec, char fmtc) {
  char ch = nd == 0 ? '0' : dig[0];
  tr_buf_append_byte(b, (uint8_t)ch);
  if (prec > 0) {
    tr_buf_append_byte(b, '.');
    int i = 1;
    int m = nd < prec + 1 ? nd : prec + 1;
    if (i < m) {
      tr_buf_append(b, dig + i, (size_t)(m - i));
      i = m;
    }
    for (; i <= prec; i++)
      tr_buf_append_byte(b, '0');
  }
  tr_buf_append_byte(b, (uint8_t)fmtc);
  int exp = dp - 1;
  if (nd == 0) exp = 0;
  char sign = '+';
  if (exp < 0) sign = '-', exp = -exp;
  tr_buf_printf(b, "%c%02d", sign, exp);
}

static void fmt_f_digits(tr_buf *b, const char *dig, int nd, int dp, int prec) {
  if (dp > 0) {
    int m = nd < dp ? nd : dp;
    tr_buf_append(b, dig, (size_t)m);
    for (; m < dp; m++)
      tr_buf_append_byte(b, '0');
  } else {
    tr_buf_append_byte(b, '0');
  }
  if (prec > 0) {
    tr_buf_append_byte(b, '.');
    for (int i = 1; i <= prec; i++) {
      char ch = '0';
      int j = dp + i - 1;
      if (j >= 0 && j < nd) ch = dig[j];
      tr_buf_append_byte(b, (uint8_t)ch);
    }
  }
}

/* Go's %v / strconv 'g' -1 (json_style: encoding/json's float64 rules). */
bool rb_fmt_float_shortest(tr_buf *out, double f, bool json_style) {
  if (isnan(f)) return tr_buf_append_str(out, "NaN");
  if (isinf(f)) return tr_buf_append_str(out, f > 0 ? "+Inf" : "-Inf");
  size_t start = out->len;
  if (signbit(f) && !(json_style && f == 0)) tr_buf_append_byte(out, '-');
  if (f == 0) {
    tr_buf_append_byte(out, '0');
    return out->data != NULL;
  }
  char dig[40];
  int nd, dp;
  shortest_digits(f, dig, &nd, &dp);
  int exp = dp - 1;
  if (json_style) {
    double a = fabs(f);
    if (a < 1e-6 || a >= 1e21) {
      size_t before = out->len;
      fmt_e_digits(out, dig, nd, dp, nd - 1, 'e');
      /* clean up e-09 to e-9 */
      if (out->data && out->len - before >= 4) {
        char *e = memchr(out->data + before, 'e', out->len - before);
        if (e && e[2] == '0' && (size_t)(e + 3 - (char *)out->data) < out->len) {
          memmove(e + 2, e + 3, out->len - (size_t)(e + 3 - (char *)out->data));
          out->len--;
          out->data[out->len] = '\0';
        }
      }
    } else {
      fmt_f_digits(out, dig, nd, dp, nd - dp > 0 ? nd - dp : 0);
    }
  } else if (exp < -4 || exp >= 6) {
    fmt_e_digits(out, dig, nd, dp, nd - 1, 'e');
  } else {
    fmt_f_digits(out, dig, nd, dp, nd - dp > 0 ? nd - dp : 0);
  }
  (void)start;
  return out->data != NULL;
}

/* strconv.FormatFloat(f, verb, prec, 64) for the verbs fmt uses; prec -1 is
 * "shortest". Writes with a leading sign ('+' or '-') as fmt.fmtFloat
 * expects. */
static void strconv_float(tr_buf *b, double v, char verb, int prec) {
  tr_buf_append_byte(b, signbit(v) ? '-' : '+');
  double a = fabs(v);
  if (isinf(v)) {
    tr_buf_append_str(b, "Inf");
    return;
  }
  if (isnan(v)) {
    b->data[b->len - 1] = '+';
    tr_buf_append_str(b, "NaN");
    return;
  }
  char tmp[64];
  switch (verb) {
  case 'b': {
    uint64_t bits;
    memcpy(&bits, &a, sizeof bits);
    int exp = (int)((bits >> 52) & 0x7FF);
    uint64_t mant = bits & ((1ULL << 52) - 1);
    if (exp == 0)
      exp++;
    else
      mant |= 1ULL << 52;
    exp += -1023 - 52;
    tr_buf_printf(b, "%llup%c%d", (unsigned long long)mant, exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
    return;
  }
  case 'x':
  case 'X': {
    if (prec < 0)
      snprintf(tmp, sizeof tmp, verb == 'x' ? "%a" : "%A", a);
    else
      snprintf(tmp, sizeof tmp, verb == 'x' ? "%.*a" : "%.*A", prec, a);
    /* C: 0x1.8p+1, Go: 0x1.8p+01 */
    char *pp_ = strchr(tmp, verb == 'x' ? 'p' : 'P');
    if (pp_) {
      tr_buf_append(b, tmp, (size_t)(pp_ - tmp + 2));
      const char *ex = pp_ + 2;
      if (strlen(ex) < 2) tr_buf_append_byte(b, '0');
      tr_buf_append_str(b, ex);
    } else {
      tr_buf_append_str(b, tmp);
    }
    return;
  }
  case 'e':
  case 'E':
  case 'f':
    if (prec < 0) {
      char dig[40];
      int nd, dp;
      if (a == 0) {
        nd = 0, dp = 0;
        dig[0] = '\0';
      } else {
        shortest_digits(a, dig, &nd, &dp);
      }
      if (verb == 'f')
        fmt_f_digits(b, dig, nd, dp, nd - dp > 0 ? nd - dp : 0);
      else
        fmt_e_digits(b, dig, nd, dp, nd > 0 ? nd - 1 : 0, verb);
      return;
    }
    {
      if (prec > 1000) prec = 1000;
      char *txt = NULL;
      if (asprintf(&txt, verb == 'f' ? "%.*f" : verb == 'e' ? "%.*e" : "%.*E", prec, a) >= 0) {
        tr_buf_append_str(b, txt);
        free(txt);
      }
    }
    return;
  case 'g':
  case 'G':
  default:
    if (prec < 0) {
      if (a == 0) {
        tr_buf_append_byte(b, '0');
        return;
      }
      char dig[40];
      int nd, dp;
      shortest_digits(a, dig, &nd, &dp);
      /* strconv 'g' shortest: %e when exp < -4 || exp >= 6, keeping every
       * shortest digit. */
      int exp = dp - 1;
      if (exp < -4 || exp >= 6)
        fmt_e_digits(b, dig, nd, dp, nd - 1, verb == 'G' ? 'E' : 'e');
      else
        fmt_f_digits(b, dig, nd, dp, nd - dp > 0 ? nd - dp : 0);
      return;
    }
    {
      if (prec > 1000) prec = 1000;
      char *txt = NULL;
      if (asprintf(&txt, verb == 'G' ? "%.*G" : "%.*g", prec, a) >= 0) {
        tr_buf_append_str(b, txt);
        free(txt);
      }
    }
    return;
  }
}

static void fmt_float(pp *p, double v, char verb, int prec) {
  if (p->f.precPresent) prec = p->f.prec;
  tr_buf nb = TR_BUF_INIT;
  strconv_float(&nb, v, verb, prec);
  if (!nb.data) {
    p->ok = false;
    return;
  }
  char *num = (char *)nb.data;
  size_t n = nb.len;
  if (p->f.space && num[0] == '+' && !p->f.plus) num[0] = ' ';
  if (num[1] == 'I' || num[1] == 'N') {
    bool old = p->f.zero;
    p->f.zero = false;
    if (num[1] == 'N' && !p->f.space && !p->f.plus)
      pad(p, num + 1, n - 1);
    else
      pad(p, num, n);
    p->f.zero = old;
    tr_buf_free(&nb);
    return;
  }
  if (p->f.sharp && verb != 'b') {
    int digits = 0;
    if (verb == 'v' || verb == 'g' || verb == 'G' || verb == 'x') {
      digits = prec;
      if (digits == -1) digits = 6;
    }
    char tail[16] = "";
    bool has_point = false, saw_nonzero = false;
    for (size_t i = 1; i < n; i++) {
      char c = num[i];
      if (c == '.') {
        has_point = true;
      } else if (c == 'p' || c == 'P' || ((c == 'e' || c == 'E') && verb != 'x' && verb != 'X')) {
        snprintf(tail, sizeof tail, "%s", num + i);
        n = i;
        break;
      } else {
        if (c != '0') saw_nonzero = true;
        if (saw_nonzero) digits--;
      }
    }
    tr_buf_reset(&nb);
    tr_buf_append(&nb, num, n); /* num aliases nb.data: reset keeps memory */
    if (!has_point) {
      if (n == 2 && num[1] == '0') digits--;
      tr_buf_append_byte(&nb, '.');
    }
    for (; digits > 0; digits--)
      tr_buf_append_byte(&nb, '0');
    tr_buf_append_str(&nb, tail);
    if (!nb.data) {
      p->ok = false;
      return;
    }
    num = (char *)nb.data;
    n = nb.len;
  }
  if (p->f.plus || num[0] != '+') {
    if (p->f.zero && p->f.widPresent && p->f.wid > (int)n) {
      putc_(p, num[0]);
      write_padding(p, p->f.wid - (int)n);
      put(p, num + 1, n - 1);
    } else {
      pad(p, num, n);
    }
  } else {
    pad(p, num + 1, n - 1);
  }
  tr_buf_free(&nb);
}

static void print_float(pp *p, double v, char verb) {
  switch (verb) {
  case 'v': fmt_float(p, v, 'g', -1); break;
  case 'b':
  case 'g':
  case 'G':
  case 'x':
  case 'X': fmt_float(p, v, verb, -1); break;
  case 'f':
  case 'e':
  case 'E': fmt_float(p, v, verb, 6); break;
  case 'F': fmt_float(p, v, 'f', 6); break;
  default: {
    rb_fmt_arg a = {.kind = RB_FMT_FLOAT, .f = v};
    bad_verb(p, verb, &a);
  }
  }
}

static void print_str(pp *p, const char *s, size_t n, char verb) {
  switch (verb) {
  case 'v':
    if (p->f.sharpV)
      fmt_q(p, s, n);
    else
      fmt_s(p, s, n);
    break;
  case 's': fmt_s(p, s, n); break;
  case 'x': fmt_sx(p, s, n, false); break;
  case 'X': fmt_sx(p, s, n, true); break;
  case 'q': fmt_q(p, s, n); break;
  default: {
    rb_fmt_arg a = {.kind = RB_FMT_STR, .s = s, .len = n};
    bad_verb(p, verb, &a);
  }
  }
}

static const char *type_name(rb_fmt_kind k) {
  switch (k) {
  case RB_FMT_INT: return "int";
  case RB_FMT_BIG: return "*big.Int";
  case RB_FMT_FLOAT: return "float64";
  default: return "string";
  }
}

static void print_arg(pp *p, const rb_fmt_arg *a, char verb) {
  if (verb == 'T') {
    fmt_s(p, type_name(a->kind), strlen(type_name(a->kind)));
    return;
  }
  if (verb == 'p') {
    bad_verb(p, verb, a);
    return;
  }
  switch (a->kind) {
  case RB_FMT_INT: print_int(p, a->i, verb); break;
  case RB_FMT_BIG: print_big(p, a->s, a->len, verb); break;
  case RB_FMT_FLOAT: print_float(p, a->f, verb); break;
  default: print_str(p, a->s, a->len, verb); break;
  }
}

static void bad_verb(pp *p, char verb, const rb_fmt_arg *a) {
  puts_(p, "%!");
  putc_(p, verb);
  putc_(p, '(');
  puts_(p, type_name(a->kind));
  putc_(p, '=');
  print_arg(p, a, 'v');
  putc_(p, ')');
}

/* ---- doPrintf ----------------------------------------------------------- */

static bool too_large(int x) { return x > 1000000 || x < -1000000; }

static int parsenum(const char *s, size_t start, size_t end, bool *isnum, size_t *newi) {
  int num = 0;
  *isnum = false;
  if (start >= end) {
    *newi = end;
    return 0;
  }
  size_t i;
  for (i = start; i < end && s[i] >= '0' && s[i] <= '9'; i++) {
    if (too_large(num)) {
      *isnum = false;
      *newi = end;
      return 0;
    }
    num = num * 10 + (s[i] - '0');
    *isnum = true;
  }
  *newi = i;
  return num;
}

/* Returns the new argNum; updates *i, *after_index, *good, *reordered. */
static size_t arg_number(size_t argnum, const char *format, size_t end, size_t *i, size_t nargs,
                         bool *after_index, bool *good, bool *reordered) {
  *after_index = false;
  if (*i >= end || format[*i] != '[') return argnum;
  *reordered = true;
  /* parseArgNumber(format[i:]) */
  const char *f = format + *i;
  size_t flen = end - *i;
  int index = 0;
  size_t wid = 1;
  bool ok = false;
  if (flen >= 3) {
    for (size_t j = 1; j < flen; j++) {
      if (f[j] == ']') {
        bool isnum;
        size_t newi;
        int width = parsenum(f, 1, j, &isnum, &newi);
        if (!isnum || newi != j) {
          wid = j + 1;
          ok = false;
        } else {
          index = width - 1;
          wid = j + 1;
          ok = true;
        }
        break;
      }
    }
  }
  if (ok && index >= 0 && (size_t)index < nargs) {
    *i += wid;
    *after_index = true;
    return (size_t)index;
  }
  *good = false;
  *i += wid;
  *after_index = ok;
  return argnum;
}

static bool int_from_arg(const rb_fmt_arg *args, size_t nargs, size_t *argnum, int *num) {
  bool isint = false;
  *num = 0;
  if (*argnum < nargs) {
    if (args[*argnum].kind == RB_FMT_INT) {
      int64_t v = args[*argnum].i;
      isint = true;
      if (v > 1000000 || v < -1000000) {
        *num = 0;
        isint = false;
      } else {
        *num = (int)v;
      }
    }
    (*argnum)++;
  }
  return isint;
}

bool rb_gofmt(tr_buf *out, const char *format, size_t end, const rb_fmt_arg *args, size_t nargs) {
  pp p = {.out = out, .ok = true};
  size_t argnum = 0;
  bool after_index = false, reordered = false;
  size_t i = 0;
  while (i < end) {
    bool good = true;
    size_t lasti = i;
    while (i < end && format[i] != '%')
      i++;
    if (i > lasti) put(&p, format + lasti, i - lasti);
    if (i >= end) break;
    i++;
    memset(&p.f, 0, sizeof p.f);
    bool simple_done = false;
    for (; i < end; i++) {
      char c = format[i];
      if (c == '#')
        p.f.sharp = true;
      else if (c == '0')
        p.f.zero = !p.f.minus;
      else if (c == '+')
        p.f.plus = true;
      else if (c == '-')
        p.f.minus = true, p.f.zero = false;
      else if (c == ' ')
        p.f.space = true;
      else {
        if (c >= 'a' && c <= 'z' && argnum < nargs) {
          if (c == 'v') {
            p.f.sharpV = p.f.sharp;
            p.f.sharp = false;
            p.f.plusV = p.f.plus;
            p.f.plus = false;
          }
          print_arg(&p, &args[argnum], c);
          argnum++;
          i++;
          simple_done = true;
        }
        break;
      }
    }
    if (simple_done) continue;

    argnum = arg_number(argnum, format, end, &i, nargs, &after_index, &good, &reordered);
    if (i < end && format[i] == '*') {
      i++;
      p.f.widPresent = int_from_arg(args, nargs, &argnum, &p.f.wid);
      if (!p.f.widPresent) puts_(&p, "%!(BADWIDTH)");
      if (p.f.wid < 0) {
        p.f.wid = -p.f.wid;
        p.f.minus = true;
        p.f.zero = false;
      }
      after_index = false;
    } else {
      p.f.wid = parsenum(format, i, end, &p.f.widPresent, &i);
      if (after_index && p.f.widPresent) good = false;
    }
    if (i + 1 < end && format[i] == '.') {
      i++;
      if (after_index) good = false;
      argnum = arg_number(argnum, format, end, &i, nargs, &after_index, &good, &reordered);
      if (i < end && format[i] == '*') {
        i++;
        p.f.precPresent = int_from_arg(args, nargs, &argnum, &p.f.prec);
        if (p.f.prec < 0) {
          p.f.prec = 0;
          p.f.precPresent = false;
        }
        if (!p.f.precPresent) puts_(&p, "%!(BADPREC)");
        after_index = false;
      } else {
        p.f.prec = parsenum(format, i, end, &p.f.precPresent, &i);
        if (!p.f.precPresent) {
          p.f.prec = 0;
          p.f.precPresent = true;
        }
      }
    }
    if (!after_index) argnum = arg_number(argnum, format, end, &i, nargs, &after_index, &good, &reordered);
    if (i >= end) {
      puts_(&p, "%!(NOVERB)");
      break;
    }
    size_t w = 1;
    int32_t verb = (unsigned char)format[i];
    if (verb >= 0x80) verb = rb_utf8_decode((const unsigned char *)format + i, end - i, &w);
    i += w;
    if (verb == '%') {
      putc_(&p, '%');
      continue;
    }
    char vb[4];
    size_t vblen = rb_utf8_encode(verb, vb);
    if (!good || argnum >= nargs || verb >= 0x80) {
      if (!good || argnum >= nargs) {
        puts_(&p, "%!");
        put(&p, vb, vblen);
        puts_(&p, !good ? "(BADINDEX)" : "(MISSING)");
        continue;
      }
      /* a non-ASCII verb is a bad verb for every argument type */
      puts_(&p, "%!");
      put(&p, vb, vblen);
      putc_(&p, '(');
      puts_(&p, type_name(args[argnum].kind));
      putc_(&p, '=');
      print_arg(&p, &args[argnum], 'v');
      putc_(&p, ')');
      argnum++;
      continue;
    }
    if (verb == 'v') {
      p.f.sharpV = p.f.sharp;
      p.f.sharp = false;
      p.f.plusV = p.f.plus;
      p.f.plus = false;
    }
    print_arg(&p, &args[argnum], (char)verb);
    argnum++;
  }
  if (!reordered && argnum < nargs) {
    memset(&p.f, 0, sizeof p.f);
    puts_(&p, "%!(EXTRA ");
    for (size_t k = argnum; k < nargs; k++) {
      if (k > argnum) puts_(&p, ", ");
      puts_(&p, type_name(args[k].kind));
      putc_(&p, '=');
      print_arg(&p, &args[k], 'v');
    }
    putc_(&p, ')');
  }
  return p.ok;
}
