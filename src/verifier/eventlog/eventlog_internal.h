/* eventlog_internal.h — shared by eventlog.c and devpath.c (not API). */
#ifndef TRUSTEE_VERIFIER_EVENTLOG_INTERNAL_H
#define TRUSTEE_VERIFIER_EVENTLOG_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>

#include "core/buf.h"
#include "core/error.h"

uint64_t tr_el_le64(const uint8_t *p);
bool tr_el_utf8_valid(const uint8_t *s, size_t n);
/* UTF-16LE → UTF-8 (nbytes/2 units); lossy: unpaired surrogates become
 * U+FFFD, else they fail (false). */
bool tr_el_utf16le(tr_buf *b, const uint8_t *s, size_t nbytes, bool lossy);
/* Renders a UEFI device path (sequence of nodes) as upstream's strings. */
tr_err *tr_el_device_paths(const uint8_t *p, size_t n, json_t *out);

#endif
