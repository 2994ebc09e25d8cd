/* utf8_internal.h — UTF-8 decoding with Go's rules, shared by the string
 * builtins. An invalid or truncated sequence decodes as U+FFFD with width 1
 * (exactly like Go's utf8.DecodeRuneInString), so every byte string can be
 * walked rune by rune and OPA's rune-indexed builtins agree with Go. */
#ifndef TRUSTEE_REGO_BUILTINS_UTF8_INTERNAL_H
#define TRUSTEE_REGO_BUILTINS_UTF8_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#define RB_RUNE_ERROR 0xFFFD

/* Decodes one rune at s[0..n); n > 0. Returns the rune, sets *w. */
static inline int32_t rb_utf8_decode(const unsigned char *s, size_t n, size_t *w) {
  unsigned c = s[0];
  *w = 1;
  if (c < 0x80) return (int32_t)c;
  int len;
  uint32_t r, min;
  if (c >= 0xC2 && c <= 0xDF)
    len = 2, r = c & 0x1F, min = 0x80;
  else if (c >= 0xE0 && c <= 0xEF)
    len = 3, r = c & 0x0F, min = 0x800;
  else if (c >= 0xF0 && c <= 0xF4)
    len = 4, r = c & 0x07, min = 0x10000;
  else
    return RB_RUNE_ERROR;
  if ((size_t)len > n) return RB_RUNE_ERROR;
  for (int i = 1; i < len; i++) {
    if ((s[i] & 0xC0) != 0x80) return RB_RUNE_ERROR;
    r = (r << 6) | (s[i] & 0x3F);
  }
  if (r < min || r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF)) return RB_RUNE_ERROR;
  *w = (size_t)len;
  return (int32_t)r;
}

/* Encodes r (invalid runes become U+FFFD) into out[4]; returns the length. */
static inline size_t rb_utf8_encode(int32_t r, char *out) {
  uint32_t u = (uint32_t)r;
  if (r < 0 || u > 0x10FFFF || (u >= 0xD800 && u <= 0xDFFF)) u = RB_RUNE_ERROR;
  if (u < 0x80) {
    out[0] = (char)u;
    return 1;
  }
  if (u < 0x800) {
    out[0] = (char)(0xC0 | (u >> 6));
    out[1] = (char)(0x80 | (u & 0x3F));
    return 2;
  }
  if (u < 0x10000) {
    out[0] = (char)(0xE0 | (u >> 12));
    out[1] = (char)(0x80 | ((u >> 6) & 0x3F));
    out[2] = (char)(0x80 | (u & 0x3F));
    return 3;
  }
  out[0] = (char)(0xF0 | (u >> 18));
  out[1] = (char)(0x80 | ((u >> 12) & 0x3F));
  out[2] = (char)(0x80 | ((u >> 6) & 0x3F));
  out[3] = (char)(0x80 | (u & 0x3F));
  return 4;
}

/* Number of runes in s[0..n) (Go's utf8.RuneCountInString). */
static inline size_t rb_utf8_count(const char *s, size_t n) {
  size_t count = 0, i = 0, w;
  while (i < n) {
    rb_utf8_decode((const unsigned char *)s + i, n - i, &w);
    i += w;
    count++;
  }
  return count;
}

/* Byte offset of rune index `runes` (clamped to n). */
static inline size_t rb_utf8_offset(const char *s, size_t n, size_t runes) {
  size_t i = 0, w;
  while (i < n && runes > 0) {
    rb_utf8_decode((const unsigned char *)s + i, n - i, &w);
    i += w;
    runes--;
  }
  return i;
}

#endif
