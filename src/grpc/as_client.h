/* as_client.h — clients of remote trustee services over gRPC:
 *
 *  - tr_grpc_as_client: a remote Attestation Service (grpc-as or upstream's),
 *    what the KBS uses for [attestation_service] type = "coco_as_grpc"
 *    (as_addr, pool_size; 300 s per call as upstream). Its RVPS service on the
 *    same address is reachable as a tr_rvps (tr_grpc_as_client_rvps), so the
 *    KBS's /reference-value endpoints are forwarded too.
 *  - a remote RVPS as a tr_rvps (rvps/rvps.h custom ops): AS rvps_config
 *    {"type":"GrpcRemote","address":"127.0.0.1:50003"}; queries time out
 *    after 10 s (upstream), other calls after 30 s; an unreachable RVPS is an
 *    error at creation (as upstream's AS, which connects at start) and a
 *    precise error naming the address at evaluation time.
 *
 * Addresses: "host:port" or "http://host:port" (plaintext), "https://host:port"
 * (TLS with gRPC's default roots). All functions are thread-safe. */
#ifndef TRUSTEE_GRPC_AS_CLIENT_H
#define TRUSTEE_GRPC_AS_CLIENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "as/as.h"
#include "core/error.h"
#include "rvps/rvps.h"

typedef struct tr_grpc_as_client tr_grpc_as_client;

#define TR_GRPC_AS_TIMEOUT_MS 300000
#define TR_GRPC_RVPS_QUERY_TIMEOUT_MS 10000
#define TR_GRPC_RVPS_TIMEOUT_MS 30000
#define TR_GRPC_RVPS_DEFAULT_ADDR "127.0.0.1:50003"

/* pool_size 0 = 100 (upstream's default). Does not connect yet. */
tr_err *tr_grpc_as_client_new(const char *addr, size_t pool_size, tr_grpc_as_client **out);
void tr_grpc_as_client_free(tr_grpc_as_client *c);

/* As tr_as_evaluate, remotely. init data given as a JSON object (the
 * documented single-request shape) cannot be expressed in the current
 * AttestationRequest: TR_E_UNSUPPORTED. */
tr_err *tr_grpc_as_evaluate(tr_grpc_as_client *c, const tr_as_request *reqs, size_t nreqs,
                            const char *const *policy_ids, size_t npolicy_ids, char **token);
tr_err *tr_grpc_as_set_policy(tr_grpc_as_client *c, const char *id, const char *rego_text);
/* Sends ChallengeRequest.inner = {"tee": tee, "tee_params": JSON text of
 * params ("" when NULL)}, as upstream's KBS does. */
tr_err *tr_grpc_as_challenge(tr_grpc_as_client *c, const char *tee, const json_t *params, char **out);
/* The remote AS's RVPS service as a tr_rvps; borrowed, lives as long as c. */
tr_rvps *tr_grpc_as_client_rvps(tr_grpc_as_client *c);

typedef struct {
  const char *address; /* NULL = TR_GRPC_RVPS_DEFAULT_ADDR */
  size_t pool_size;    /* 0 = 10 (upstream's pool) */
  int64_t timeout_ms;  /* 0 = TR_GRPC_RVPS_TIMEOUT_MS (queries: TR_GRPC_RVPS_QUERY_TIMEOUT_MS) */
  int64_t connect_ms;  /* start-up reachability check; 0 = 5000, < 0 = no check */
} tr_grpc_rvps_config;
tr_err *tr_grpc_rvps_remote_new(const tr_grpc_rvps_config *cfg, tr_rvps **out);
/* From an AS rvps_config object; only type "GrpcRemote" (address) is built
 * here (TR_E_UNSUPPORTED otherwise: the AS builds BuiltIn itself). */
tr_err *tr_grpc_rvps_from_as_config(const json_t *rvps_config, tr_rvps **out);
/* True when the AS config's rvps_config is {"type":"GrpcRemote",...}. */
bool tr_grpc_rvps_config_is_remote(const json_t *as_config);

#endif
