/* eventlog.h — Confidential Computing event logs (CCEL: TCG2 crypto-agile
 * event log as found through the ACPI CCEL table; TDX and Hygon CSV).
 *
 * The parser reproduces upstream Trustee's `eventlog` crate: the same
 * entries, details and JSON (`uefi_event_logs` items), the same failures
 * (unknown event type or algorithm, invalid UTF-8 where upstream requires
 * it) — but every read is bounds-checked (where upstream panics, this
 * returns an error). Replay folds the digests of one CC measurement register
 * index in log order: acc = H(acc || digest), starting from zeros. */
#ifndef TRUSTEE_VERIFIER_EVENTLOG_H
#define TRUSTEE_VERIFIER_EVENTLOG_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

/* TCG algorithm ids. */
#define TR_TCG_SHA1 0x4
#define TR_TCG_SHA256 0xB
#define TR_TCG_SHA384 0xC
#define TR_TCG_SHA512 0xD
#define TR_TCG_SM3 0x12

typedef struct {
  uint32_t index;
  uint16_t alg;
  uint8_t *digest; /* owned */
  size_t len;
} tr_ccel_digest;

typedef struct {
  json_t *entries;         /* array of upstream's EventlogEntry JSON (owned) */
  tr_ccel_digest *digests; /* every digest of every entry, in log order */
  size_t ndigests;
} tr_ccel;

/* Parses a raw event log. On error *out is left empty. */
tr_err *tr_ccel_parse(const uint8_t *data, size_t len, tr_ccel *out);
void tr_ccel_clear(tr_ccel *l);
/* Replays register `index` with algorithm `alg` (TR_TCG_SHA256/384/512/SM3);
 * out must hold 64 bytes; *out_len receives the digest size. */
tr_err *tr_ccel_replay(const tr_ccel *l, uint32_t index, uint16_t alg, uint8_t *out, size_t *out_len);
/* Replays and compares each (index, reference) pair; the first mismatch is
 * upstream's error: "Eventlog does not pass measurement replay CC Event Log
 * Measurement Register [index = N]. Calculated value: HEX, Given value: HEX". */
tr_err *tr_ccel_replay_and_match(const tr_ccel *l, uint16_t alg, const uint32_t *indexes,
                                 const uint8_t *const *refs, const size_t *ref_lens, size_t n);
/* Every record must be covered by a replay of registers first..last with
 * `alg`: its index in that range and a digest of `alg` among its digests.
 * Otherwise its content would reach the claims without being bound to the
 * measured registers (upstream does not check this). */
tr_err *tr_ccel_check_bound(const tr_ccel *l, uint16_t alg, uint32_t first, uint32_t last);
/* upstream's algorithm name ("SHA-384"), NULL when unknown. */
const char *tr_tcg_alg_name(uint16_t alg);

#endif
