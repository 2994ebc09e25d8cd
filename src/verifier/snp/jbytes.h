/* jbytes.h — byte strings serialised by serde as JSON arrays of numbers
 * ([48, 130, ...]), as SNP, Azure vTPM v0 and TPM evidence carry them.
 * Shared by the snp, az-snp-vtpm, az-tdx-vtpm and tpm verifiers. */
#ifndef TRUSTEE_VERIFIER_SNP_JBYTES_H
#define TRUSTEE_VERIFIER_SNP_JBYTES_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

/* Decodes `a` (an array of exactly n numbers 0..255) into dst; `what` names
 * the field in errors. */
tr_err *tr_jbytes_fixed(const json_t *a, const char *what, uint8_t *dst, size_t n);
/* Decodes an array of any length up to max into a new buffer (*out: caller
 * frees, non-NULL on success even when empty). */
tr_err *tr_jbytes_alloc(const json_t *a, const char *what, size_t max, uint8_t **out, size_t *len);

#endif
