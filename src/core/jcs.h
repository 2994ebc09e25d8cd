/* jcs.h — RFC 8785 JSON Canonicalization Scheme over jansson values.
 *
 * Output: no whitespace; object members sorted by their names' UTF-16 code
 * units (so U+1F600, a surrogate pair 0xD83D..., sorts before U+FB33);
 * strings escaped exactly as ECMAScript JSON.stringify does (\b \f \n \r \t
 * \" \\, other controls as \u00xx in lower-case hex, everything else —
 * including '/', DEL and U+2028 — as raw UTF-8); numbers formatted by
 * ECMAScript Number::toString (shortest round-trip digits: 1e+21, 0.000001,
 * 1e-7, 333333333.3333333; -0 → 0).
 *
 * Integers: jansson keeps JSON integers as int64. A JavaScript number is a
 * double, so integers with |v| <= 2^53 print exactly and larger ones are
 * rounded to the nearest double first (9007199254740993 → 9007199254740992),
 * as JSON.parse + JCS would. Integers beyond int64 never reach this code:
 * tr_json_parse rejects them ("too big integer"), so such documents cannot
 * be canonicalised at all. NaN and infinities are errors (RFC 8785 §3.2.2.2;
 * jansson cannot hold them anyway). Nesting deeper than TR_JCS_MAX_DEPTH is an
 * error (TR_E_LIMIT). */
#ifndef TRUSTEE_CORE_JCS_H
#define TRUSTEE_CORE_JCS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/digest.h"
#include "core/error.h"

#define TR_JCS_MAX_DEPTH 512

/* Canonical form of v; *out is NUL-terminated, caller frees; *out_len
 * (may be NULL) excludes the NUL. */
tr_err *tr_jcs(const json_t *v, char **out, size_t *out_len);

/* digest(JCS(v)) — the runtime-data hash. out holds TR_DIGEST_MAX bytes. */
tr_err *tr_jcs_digest(const json_t *v, tr_digest_alg alg, uint8_t *out, size_t *out_len);

/* ECMAScript Number::toString of d into buf (at least 32 bytes). Errors for
 * NaN and infinities. */
tr_err *tr_jcs_number(double d, char *buf, size_t buflen);

#endif
