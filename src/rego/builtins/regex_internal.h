/* regex_internal.h — Go RE2 syntax on top of PCRE2.
 *
 * OPA's regular expressions are Go's regexp package (RE2 syntax, leftmost-
 * first matching, UTF-8). rb_re_translate validates a pattern against Go's
 * grammar (rejecting what Go rejects: backreferences, lookaround, atomic
 * groups, possessive or nested repetition, repeat counts above 1000, unknown
 * escapes) and rewrites the few constructs whose meaning differs in PCRE2
 * (\s and \v, octal escapes). Compiled patterns live in a bounded,
 * thread-safe, reference-counted process cache; matching runs with PCRE2
 * match/depth/heap limits so a hostile pattern cannot hang an evaluation. */
#ifndef TRUSTEE_REGO_BUILTINS_REGEX_INTERNAL_H
#define TRUSTEE_REGO_BUILTINS_REGEX_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

/* Translates Go syntax to PCRE2 syntax into out (NUL-terminated). On a
 * syntax error returns false with Go-style text in err. */
bool rb_re_translate(const char *pat, size_t n, tr_buf *out, char *err, size_t errlen);

typedef struct rb_re rb_re;

/* A compiled Go regexp (template: regex.template_match's delimiters, 0 for
 * a plain pattern). NULL with err set on a syntax error. Release with
 * rb_re_release. */
rb_re *rb_re_get(const char *pat, size_t n, char tdelim_start, char tdelim_end, char *err, size_t errlen);
void rb_re_release(rb_re *re);
/* Number of capture groups (not counting the whole match). */
uint32_t rb_re_groups(const rb_re *re);
/* Index of a named group, or -1. */
int rb_re_group_index(const rb_re *re, const char *name, size_t len);

/* Searches subject[start..] (anchors still relative to the whole subject).
 * Returns 1 with ov[0..2*(groups+1)) filled (unset groups = SIZE_MAX), 0 for
 * no match, -1 when the match limit was hit. ov must hold 2*(groups+1). */
int rb_re_exec(const rb_re *re, const char *subject, size_t len, size_t start, size_t *ov);

#endif
