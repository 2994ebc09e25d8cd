/* sprintf_internal.h — Go fmt.Sprintf, as OPA's sprintf builtin sees it.
 *
 * OPA hands Go's fmt four kinds of argument: Go `int` for numbers that fit
 * int64, `*big.Int` for larger integers, `float64` for other numbers, and
 * `string` for strings and for every other value (rendered as Rego text
 * first). rb_gofmt reproduces Go's verb handling for exactly these kinds,
 * including its error markers (%!d(string=x), %!v(MISSING), %!(EXTRA ...)). */
#ifndef TRUSTEE_REGO_BUILTINS_SPRINTF_INTERNAL_H
#define TRUSTEE_REGO_BUILTINS_SPRINTF_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

typedef enum {
  RB_FMT_INT,   /* i */
  RB_FMT_BIG,   /* s/len: decimal digits with optional leading '-' */
  RB_FMT_FLOAT, /* f */
  RB_FMT_STR,   /* s/len */
} rb_fmt_kind;

typedef struct {
  rb_fmt_kind kind;
  int64_t i;
  double f;
  const char *s;
  size_t len;
} rb_fmt_arg;

/* Appends Go's fmt.Sprintf(format, args...) to out. Returns false only on
 * allocation failure. */
bool rb_gofmt(tr_buf *out, const char *format, size_t flen, const rb_fmt_arg *args, size_t nargs);

/* Shortest round-trip decimal of f: Go's %v (strconv 'g' -1: exponent form
 * when exp < -4 || exp >= 6), or with json_style encoding/json's float64
 * text (exponent form below 1e-6 and from 1e21, "e-7" not "e-07"). */
bool rb_fmt_float_shortest(tr_buf *out, double f, bool json_style);

/* Go's strconv.Quote (ascii_only: QuoteToASCII). */
bool rb_fmt_quote(tr_buf *out, const char *s, size_t len, bool ascii_only);

#endif
