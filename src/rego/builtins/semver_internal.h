/* semver_internal.h — semantic version parsing and precedence (exposed for
 * the fuzz target). */
#ifndef TRUSTEE_REGO_BUILTINS_SEMVER_INTERNAL_H
#define TRUSTEE_REGO_BUILTINS_SEMVER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
  int64_t num[3];
  const char *pre; /* points into the parsed text; not NUL-terminated */
  size_t pre_len;
} rb_semver;

bool rb_semver_parse(const char *s, size_t n, rb_semver *v);
/* -1, 0 or 1. */
int rb_semver_compare(const rb_semver *a, const rb_semver *b);

#endif
