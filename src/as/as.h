/* as.h — the Attestation Service as a library: embedded in the KBS and
 * served by restful-as / grpc-as.
 *
 * One tr_as is created from an AS config (config.json shape, see
 * docs/attestation-service.md) and shared by all threads. Policies are
 * compiled once when set or first loaded and cached. */
#ifndef TRUSTEE_AS_AS_H
#define TRUSTEE_AS_AS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/digest.h"
#include "core/error.h"
#include "rvps/rvps.h"

typedef struct tr_as tr_as;

/* Runtime data / init data as the request carries them. */
typedef enum { TR_DATA_NONE = 0, TR_DATA_RAW, TR_DATA_STRUCTURED } tr_data_kind;

typedef struct {
  tr_data_kind kind;
  const uint8_t *raw; /* TR_DATA_RAW: bytes used as-is */
  size_t raw_len;
  const json_t *structured; /* runtime data: JSON, JCS-canonicalised and hashed */
  const char *toml;         /* init data "structured": TOML text, hashed exactly as given */
} tr_as_data;

typedef struct {
  const char *tee;        /* "snp", "sample", ... */
  const json_t *evidence; /* the evidence JSON value */
  tr_as_data runtime_data;
  tr_digest_alg runtime_data_hash_alg; /* 0 = sha384 */
  tr_as_data init_data;                /* RAW = digest; STRUCTURED = TOML text (`toml`), or
                                          a JSON object (`structured`, documented single-request
                                          shape): JCS-canonicalised and hashed with: */
  tr_digest_alg init_data_hash_alg;    /* 0 = sha384; only for JSON-structured init data */
} tr_as_request;

/* Creates from a parsed config.json (NULL = all defaults; see
 * docs/attestation-service.md): policy storage from storage_backend, the
 * built-in RVPS from rvps_config, the token broker and its signer, and the
 * default policies (installed without overwriting stored copies). */
tr_err *tr_as_new(const json_t *config, tr_as **out);

/* As tr_as_new, sharing state with an embedding service (the KBS): `kv`
 * (policy storage; NULL = from the config's storage_backend) and `rvps`
 * (NULL = built from rvps_config) are borrowed and must outlive the AS. */
typedef struct {
  tr_kv *kv;
  tr_rvps *rvps;
} tr_as_shared;
tr_err *tr_as_new_shared(const json_t *config, const tr_as_shared *shared, tr_as **out);

/* Warnings collected while reading the config (unknown keys, ignored
 * documented keys): a JSON array of strings, borrowed. */
const json_t *tr_as_config_warnings(const tr_as *as);
void tr_as_free(tr_as *as);

/* Verifies every request, appraises against policy_ids (NULL/0 = "default")
 * and returns the signed token (caller frees). Errors name the request
 * index, the TEE and the failing check; codes: TR_E_INVALID (bad request),
 * TR_E_UNSUPPORTED (unknown TEE), TR_E_VERIFY (evidence), TR_E_NOTFOUND
 * (unknown policy), TR_E_DENIED (Simple policy deny), TR_E_INTERNAL (a
 * stored policy failed to evaluate). */
tr_err *tr_as_evaluate(tr_as *as, const tr_as_request *reqs, size_t nreqs, const char *const *policy_ids,
                       size_t npolicy_ids, char **token);

/* Policies: id validated by the KV key rule; text must compile. */
tr_err *tr_as_set_policy(tr_as *as, const char *id, const char *rego_text);
tr_err *tr_as_get_policy(tr_as *as, const char *id, char **rego_text); /* caller frees */
/* {"<id>": "<sha384 hex of text>", ...} — new reference. */
tr_err *tr_as_list_policies(tr_as *as, json_t **out);
tr_err *tr_as_delete_policy(tr_as *as, const char *id);

/* Attestation challenge for a TEE (extra params for the nonce, e.g. IBM SE):
 * `params` is handed to the verifier's challenge op as given (restful-as
 * passes the whole {"tee","tee_params"} body). *out is the string the KBS
 * puts in Challenge.extra-params ("" when the TEE needs none). */
tr_err *tr_as_challenge(tr_as *as, const char *tee, const json_t *params, char **out);

/* The token signer's public keys as a JWKS document. New reference. */
json_t *tr_as_jwks(tr_as *as);

/* The RVPS behind this AS (built-in, or a client of a remote one). Borrowed. */
tr_rvps *tr_as_rvps(tr_as *as);

#endif
