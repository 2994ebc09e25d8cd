#include "core/encoding.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

static const char B64_STD[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char B64_URL[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

char *tr_b64_encode(const void *data, size_t len, tr_b64_variant v) {
  const uint8_t *in = data;
  const char *alpha = (v == TR_B64_URL || v == TR_B64_URL_NOPAD) ? B64_URL : B64_STD;
  bool pad = (v == TR_B64_STD || v == TR_B64_URL);
  size_t out_len = (len + 2) / 3 * 4;
  char *out = malloc(out_len + 1);
  if (!out) return NULL;
  size_t o = 0, i = 0;
  for (; i + 2 < len; i += 3) {
    uint32_t n = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
    out[o++] = alpha[n >> 18 & 63];
    out[o++] = alpha[n >> 12 & 63];
    out[o++] = alpha[n >> 6 & 63];
    out[o++] = alpha[n & 63];
  }
  if (len - i == 1) {
    uint32_t n = (uint32_t)in[i] << 16;
    out[o++] = alpha[n >> 18 & 63];
    out[o++] = alpha[n >> 12 & 63];
    if (pad) {
      out[o++] = '=';
      out[o++] = '=';
    }
  } else if (len - i == 2) {
    uint32_t n = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
    out[o++] = alpha[n >> 18 & 63];
    out[o++] = alpha[n >> 12 & 63];
    out[o++] = alpha[n >> 6 & 63];
    if (pad) out[o++] = '=';
  }
  out[o] = 0;
  return out;
}

/* Decoding tables: value + 1, 0 = not in the alphabet. */
#define B64_DEC_ALNUM                                                                                        \
  ['A'] = 1, ['B'] = 2, ['C'] = 3, ['D'] = 4, ['E'] = 5, ['F'] = 6, ['G'] = 7, ['H'] = 8, ['I'] = 9,         \
  ['J'] = 10, ['K'] = 11, ['L'] = 12, ['M'] = 13, ['N'] = 14, ['O'] = 15, ['P'] = 16, ['Q'] = 17,            \
  ['R'] = 18, ['S'] = 19, ['T'] = 20, ['U'] = 21, ['V'] = 22, ['W'] = 23, ['X'] = 24, ['Y'] = 25,            \
  ['Z'] = 26, ['a'] = 27, ['b'] = 28, ['c'] = 29, ['d'] = 30, ['e'] = 31, ['f'] = 32, ['g'] = 33,            \
  ['h'] = 34, ['i'] = 35, ['j'] = 36, ['k'] = 37, ['l'] = 38, ['m'] = 39, ['n'] = 40, ['o'] = 41,            \
  ['p'] = 42, ['q'] = 43, ['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48, ['w'] = 49,            \
  ['x'] = 50, ['y'] = 51, ['z'] = 52, ['0'] = 53, ['1'] = 54, ['2'] = 55, ['3'] = 56, ['4'] = 57,            \
  ['5'] = 58, ['6'] = 59, ['7'] = 60, ['8'] = 61, ['9'] = 62
static const uint8_t B64_DEC_STD[256] = {B64_DEC_ALNUM, ['+'] = 63, ['/'] = 64};
static const uint8_t B64_DEC_URL[256] = {B64_DEC_ALNUM, ['-'] = 63, ['_'] = 64};

static int b64_value(char c, bool url) {
  return (int)(url ? B64_DEC_URL : B64_DEC_STD)[(unsigned char)c] - 1;
}

tr_err *tr_b64_decode(const char *in, size_t len, int variant_flags, uint8_t **out, size_t *out_len) {
  if (len == (size_t)-1) len = strlen(in);
  tr_b64_variant v = (tr_b64_variant)(variant_flags & 0xff);
  bool lax = (variant_flags & TR_B64_LAX_PAD) != 0;
  bool url = (v == TR_B64_URL || v == TR_B64_URL_NOPAD);
  bool pad_required = (v == TR_B64_STD || v == TR_B64_URL) && !lax;
  bool pad_allowed = (v == TR_B64_STD || v == TR_B64_URL) || lax;
  const char *name = url ? "base64url" : "base64";

  size_t data_len = len;
  size_t pads = 0;
  while (data_len > 0 && in[data_len - 1] == '=' && pads < 2) {
    data_len--;
    pads++;
  }
  if (pads && !pad_allowed) return tr_err_new(TR_E_INVALID, "invalid %s: padding not allowed", name);
  if (pads && len % 4 != 0) return tr_err_new(TR_E_INVALID, "invalid %s: wrong padding", name);
  if (data_len % 4 == 1) return tr_err_new(TR_E_INVALID, "invalid %s: impossible length %zu", name, len);
  if (pad_required && len % 4 != 0) return tr_err_new(TR_E_INVALID, "invalid %s: missing padding", name);
  if (pads && (data_len % 4) + pads != 4) return tr_err_new(TR_E_INVALID, "invalid %s: wrong padding", name);

  uint8_t *buf = malloc(data_len / 4 * 3 + 3 + 1);
  if (!buf) return tr_err_new(TR_E_NOMEM, "out of memory");
  size_t o = 0;
  uint32_t acc = 0;
  int bits = 0;
  /* Whole quads through the table; a quad with an invalid character, and
   * the tail, go through the per-character loop below (which names the
   * offending offset). */
  const uint8_t *dec = url ? B64_DEC_URL : B64_DEC_STD;
  const unsigned char *u = (const unsigned char *)in;
  size_t i = 0;
  for (; i + 4 <= data_len; i += 4) {
    uint32_t a = dec[u[i]], b = dec[u[i + 1]], c = dec[u[i + 2]], d = dec[u[i + 3]];
    if (!a || !b || !c || !d) break;
    uint32_t n = (a - 1) << 18 | (b - 1) << 12 | (c - 1) << 6 | (d - 1);
    buf[o++] = (uint8_t)(n >> 16);
    buf[o++] = (uint8_t)(n >> 8);
    buf[o++] = (uint8_t)n;
  }
  for (; i < data_len; i++) {
    int val = b64_value(in[i], url);
    if (val < 0) {
      free(buf);
      if (in[i] == '=')
        return tr_err_new(TR_E_INVALID, "invalid %s: padding in the middle at offset %zu", name, i);
      return tr_err_new(TR_E_INVALID, "invalid %s: bad character at offset %zu", name, i);
    }
    acc = acc << 6 | (uint32_t)val;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      buf[o++] = (uint8_t)(acc >> bits);
    }
  }
  if (bits && (acc & ((1u << bits) - 1))) {
    free(buf);
    return tr_err_new(TR_E_INVALID, "invalid %s: non-zero trailing bits", name);
  }
  buf[o] = 0;
  *out = buf;
  *out_len = o;
  return NULL;
}

char *tr_hex_encode(const void *data, size_t len) {
  static const char digits[] = "0123456789abcdef";
  const uint8_t *in = data;
  char *out = malloc(len * 2 + 1);
  if (!out) return NULL;
  for (size_t i = 0; i < len; i++) {
    out[2 * i] = digits[in[i] >> 4];
    out[2 * i + 1] = digits[in[i] & 15];
  }
  out[len * 2] = 0;
  return out;
}

static int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

tr_err *tr_hex_decode(const char *in, size_t len, uint8_t **out, size_t *out_len) {
  if (len == (size_t)-1) len = strlen(in);
  if (len % 2) return tr_err_new(TR_E_INVALID, "invalid hex: odd length %zu", len);
  uint8_t *buf = malloc(len / 2 + 1);
  if (!buf) return tr_err_new(TR_E_NOMEM, "out of memory");
  for (size_t i = 0; i < len; i += 2) {
    int hi = hex_value(in[i]), lo = hex_value(in[i + 1]);
    if (hi < 0 || lo < 0) {
      free(buf);
      return tr_err_new(TR_E_INVALID, "invalid hex: bad character at offset %zu", hi < 0 ? i : i + 1);
    }
    buf[i / 2] = (uint8_t)(hi << 4 | lo);
  }
  buf[len / 2] = 0;
  *out = buf;
  *out_len = len / 2;
  return NULL;
}

bool tr_ct_equal(const void *a, size_t alen, const void *b, size_t blen) {
  if (alen != blen) return false;
  if (alen == 0) return true;
  return CRYPTO_memcmp(a, b, alen) == 0;
}

tr_err *tr_random_bytes(void *out, size_t len) {
  if (len > INT32_MAX) return tr_err_new(TR_E_INVALID, "random: too many bytes requested");
  if (RAND_bytes(out, (int)len) != 1) return tr_err_new(TR_E_CRYPTO, "random: RAND_bytes failed");
  return NULL;
}
