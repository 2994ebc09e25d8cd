/* request.h — the Attestation Service REST/gRPC request bodies parsed into
 * tr_as_request values (restful-as, grpc-as, the fuzz target).
 *
 * POST /attestation accepts two shapes:
 *  - upstream's current one: {"verification_requests":[{"tee", "evidence",
 *    "runtime_data"?: {"raw"|"structured"}, "init_data"?: {"init_data_digest"|
 *    "init_data_toml"}, "runtime_data_hash_algorithm"?}], "policy_ids":[...]}
 *  - the CoCo documentation's single request: {"tee", "evidence",
 *    "runtime_data"?: {"raw"|"structured"}, "init_data"?: {"raw"|"structured"},
 *    "runtime_data_hash_algorithm"?, "init_data_hash_algorithm"?, "policy_ids"?}
 * `evidence` is base64url (padding optional) of the evidence JSON; raw data
 * and digests are base64url too. Both init-data spellings are accepted in
 * both shapes. Errors are TR_E_INVALID and name the field
 * ("verification_requests[0].evidence: ..."). */
#ifndef TRUSTEE_AS_REQUEST_H
#define TRUSTEE_AS_REQUEST_H

#include "as/as.h"

typedef struct {
  tr_as_request *reqs; /* nreqs entries; their pointers point into this struct */
  size_t nreqs;
  char **policy_ids; /* npolicy_ids strings; empty list = ["default"] */
  size_t npolicy_ids;
  /* owned storage behind reqs */
  json_t **evidence;
  uint8_t **bufs;
  json_t *body;
} tr_as_parsed;

tr_err *tr_as_parse_attestation(const char *body, size_t len, tr_as_parsed **out);
void tr_as_parsed_free(tr_as_parsed *p);

/* POST /policy: {"type"?: "rego", "policy_id": str, "policy": base64url(rego)}.
 * *id and *text are owned by the caller. */
tr_err *tr_as_parse_set_policy(const char *body, size_t len, char **id, char **text);

/* POST /challenge: {"tee": str, "tee_params": str} (other string members
 * are carried along); *tee owned, *params a new reference (the object). */
tr_err *tr_as_parse_challenge(const char *body, size_t len, char **tee, json_t **params);

#endif
