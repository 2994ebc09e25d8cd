/* glob_internal.h — gobwas/glob patterns as anchored Go regular
 * expressions (exposed for the fuzz target). */
#ifndef TRUSTEE_REGO_BUILTINS_GLOB_INTERNAL_H
#define TRUSTEE_REGO_BUILTINS_GLOB_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

/* Appends the regex for pattern p with separator runes seps. False with a
 * message in err for a malformed glob. */
bool rb_glob_to_regex(const char *p, size_t n, const int32_t *seps, size_t nseps, tr_buf *out, char *err,
                      size_t errlen);

#endif
