/* digest.h — hash functions by Trustee's names: sha256, sha384, sha512, sm3
 * (case-insensitive, as kbs-types parses them). */
#ifndef TRUSTEE_CORE_DIGEST_H
#define TRUSTEE_CORE_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

#define TR_DIGEST_MAX 64

typedef enum { TR_SHA256 = 1, TR_SHA384, TR_SHA512, TR_SM3 } tr_digest_alg;

/* Parses a name; 0 when unknown. */
tr_digest_alg tr_digest_alg_from_name(const char *name);
/* Canonical lower-case name. */
const char *tr_digest_alg_name(tr_digest_alg alg);
size_t tr_digest_size(tr_digest_alg alg);

/* out must hold TR_DIGEST_MAX bytes; *out_len receives the digest size. */
tr_err *tr_digest(tr_digest_alg alg, const void *data, size_t len, uint8_t *out, size_t *out_len);
/* By name; error names the unknown algorithm. */
tr_err *tr_digest_by_name(const char *name, const void *data, size_t len, uint8_t *out, size_t *out_len);

#endif
