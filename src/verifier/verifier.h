/* verifier.h — the interface every TEE verifier implements, and the table
 * that finds one by TEE name.
 *
 * A verifier checks evidence cryptographically (signatures, certificate
 * chains to vendor roots, TCB), checks the binding of the expected report
 * data and init-data hash (see the per-TEE padding rules in
 * docs/attestation-service.md), and returns claims. It never trusts
 * evidence it did not verify.
 *
 * Verifier instances are created once per AS from the verifier config and
 * shared by all threads: `evaluate` must be thread-safe (caches need their
 * own locks). */
#ifndef TRUSTEE_VERIFIER_VERIFIER_H
#define TRUSTEE_VERIFIER_VERIFIER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

/* Expected values derived from the request (attestation-service.md §1.2–1.4).
 * `present` false = not provided by the request. */
typedef struct {
  bool present;
  const uint8_t *data;
  size_t len;
} tr_expected;

/* One verified device/TEE: the claims object and its class
 * ("cpu", "gpu", "switch", "ppcie", "dcu", ...). */
typedef struct {
  json_t *claims; /* owned */
  char tee_class[16];
} tr_verified;

typedef struct {
  tr_verified *items; /* owned */
  size_t len;
} tr_verified_list;

void tr_verified_list_clear(tr_verified_list *l);
/* Appends (takes ownership of claims). */
tr_err *tr_verified_list_push(tr_verified_list *l, json_t *claims, const char *tee_class);

/* The check step of a verifier that yields a single "cpu" entry: verifies the
 * evidence against its state and sets *claims (new reference) on success. */
typedef tr_err *(*tr_verifier_check_fn)(void *state, const json_t *evidence, const tr_expected *report_data,
                                        const tr_expected *init_data, json_t **claims);
/* The matching evaluate step: runs check, wraps its error with `context`
 * (the verifier's name in messages) and appends the claims to out as "cpu". */
tr_err *tr_verifier_evaluate_cpu(tr_verifier_check_fn check, const char *context, void *state,
                                 const json_t *evidence, const tr_expected *report_data,
                                 const tr_expected *init_data, tr_verified_list *out);

typedef struct tr_verifier tr_verifier;

typedef struct {
  const char *tee; /* kbs-types name: "snp", "az-snp-vtpm", "sample", ... */
  /* Builds the verifier from the AS `verifier_config` object (may be NULL =
   * defaults). *state is passed back to every call. */
  tr_err *(*create)(const json_t *config, void **state);
  void (*destroy)(void *state);
  /* Evidence is the request's evidence JSON value. Appends one or more
   * verified entries to out. */
  tr_err *(*evaluate)(void *state, const json_t *evidence, const tr_expected *report_data,
                      const tr_expected *init_data_hash, tr_verified_list *out);
  /* Optional: the challenge/nonce extra parameters for /auth or
   * GetAttestationChallenge (e.g. IBM SE); NULL when not needed. */
  tr_err *(*challenge)(void *state, const json_t *params, json_t **out);
} tr_verifier_ops;

/* The table (verifier_table.c): every compiled-in verifier, one line each. */
const tr_verifier_ops *tr_verifier_lookup(const char *tee);
/* NULL-terminated list of all known TEE names (for errors and docs). */
const char *const *tr_verifier_names(void);

/* An instantiated set of verifiers, created lazily per TEE name. */
typedef struct tr_verifier_set tr_verifier_set;
tr_err *tr_verifier_set_new(const json_t *verifier_config, tr_verifier_set **out);
/* Finds (creating on first use) the verifier for `tee`; borrowed. */
tr_err *tr_verifier_set_get(tr_verifier_set *s, const char *tee, const tr_verifier_ops **ops, void **state);
void tr_verifier_set_free(tr_verifier_set *s);

/* Helper for the per-TEE rule "shorter: right-pad with zeros; longer:
 * truncate". out must hold len bytes. */
void tr_regularize(const tr_expected *e, uint8_t *out, size_t len);

#endif
