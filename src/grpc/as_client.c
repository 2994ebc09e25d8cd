/* as_client.c — remote AS and remote RVPS over gRPC (see as_client.h). */
#include "grpc/as_client.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/encoding.h"
#include "core/json.h"
#include "grpc/attestation.pb-c.h"
#include "grpc/client.h"
#include "grpc/reference.pb-c.h"
#include "grpc/rpc.h"
#include "grpc/services.h"

/* ------------------------------------------------------------ remote RVPS */

typedef struct {
  tr_grpc_client *c;
  bool owned;
  int64_t timeout_ms;
} rvps_remote;

#define RVPS_PATH(m) "/" TR_GRPC_RVPS_SERVICE "/" m

/* One call: pack `req`, call, unpack into `rd`. */
static tr_err *call(tr_grpc_client *c, const char *method, const ProtobufCMessage *req,
                    const ProtobufCMessageDescriptor *rd, int64_t timeout_ms, ProtobufCMessage **resp) {
  uint8_t *out = NULL, *in = NULL;
  size_t olen = 0, ilen = 0;
  tr_err *e = tr_grpc_pack(req, &out, &olen);
  if (!e) e = tr_grpc_call(c, method, out, olen, timeout_ms, &in, &ilen);
  free(out);
  if (!e) e = tr_grpc_unpack(rd, in, ilen, resp);
  free(in);
  return e;
}

static tr_err *rv_register(void *st, const char *msg, size_t len) {
  rvps_remote *r = st;
  char *copy = strndup(msg, len);
  if (!copy) return tr_err_new(TR_E_NOMEM, "out of memory");
  Reference__ReferenceValueRegisterRequest q = REFERENCE__REFERENCE_VALUE_REGISTER_REQUEST__INIT;
  q.message = copy;
  ProtobufCMessage *m = NULL;
  tr_err *e = call(r->c, RVPS_PATH("RegisterReferenceValue"), &q.base,
                   &reference__reference_value_register_response__descriptor, r->timeout_ms, &m);
  tr_grpc_msg_free(m);
  free(copy);
  return e ? tr_err_wrap(e, "remote RVPS") : NULL;
}

static tr_err *rv_query(void *st, const char *name, json_t **value) {
  rvps_remote *r = st;
  *value = NULL;
  Reference__ReferenceValueQueryRequest q = REFERENCE__REFERENCE_VALUE_QUERY_REQUEST__INIT;
  q.reference_value_id = (char *)name;
  ProtobufCMessage *m = NULL;
  tr_err *e = call(r->c, RVPS_PATH("QueryReferenceValue"), &q.base,
                   &reference__reference_value_query_response__descriptor, TR_GRPC_RVPS_QUERY_TIMEOUT_MS, &m);
  if (e) return tr_err_wrap(e, "remote RVPS");
  const char *t = ((Reference__ReferenceValueQueryResponse *)m)->reference_value_results;
  if (t && *t) {
    e = tr_json_parse(t, strlen(t), value);
    if (e)
      e = tr_err_wrap(e, "remote RVPS %s: reference value `%s` is not JSON", tr_grpc_client_target(r->c),
                      name);
  }
  tr_grpc_msg_free(m);
  return e;
}

static tr_err *rv_list(void *st, json_t **records) {
  rvps_remote *r = st;
  *records = NULL;
  Reference__ReferenceValueListRequest q = REFERENCE__REFERENCE_VALUE_LIST_REQUEST__INIT;
  ProtobufCMessage *m = NULL;
  tr_err *e = call(r->c, RVPS_PATH("ListReferenceValues"), &q.base,
                   &reference__reference_value_list_response__descriptor, r->timeout_ms, &m);
  if (e) return tr_err_wrap(e, "remote RVPS");
  const char *t = ((Reference__ReferenceValueListResponse *)m)->reference_values;
  e = tr_json_parse(t, strlen(t), records);
  if (!e && !json_is_array(*records)) e = tr_err_new(TR_E_INVALID, "expected a JSON array");
  if (e) {
    json_decref(*records);
    *records = NULL;
    e = tr_err_wrap(e, "remote RVPS %s: list", tr_grpc_client_target(r->c));
  }
  tr_grpc_msg_free(m);
  return e;
}

/* {name: value} of the unexpired records (the Simple broker's input). */
static tr_err *rv_query_all(void *st, json_t **values) {
  json_t *recs = NULL;
  tr_err *e = rv_list(st, &recs);
  if (e) return e;
  *values = json_object();
  int64_t now = (int64_t)time(NULL);
  size_t i;
  json_t *rec;
  json_array_foreach(recs, i, rec) {
    const char *name = json_string_value(json_object_get(rec, "name"));
    const char *exp = json_string_value(json_object_get(rec, "expiration"));
    int64_t t = 0;
    if (!name || !exp || tr_err_consume(tr_rvps_parse_time(exp, &t)) || now > t) continue;
    json_object_set(*values, name, json_object_get(rec, "value"));
  }
  json_decref(recs);
  return NULL;
}

static tr_err *rv_delete(void *st, const char *name) {
  rvps_remote *r = st;
  Reference__ReferenceValueDeleteRequest q = REFERENCE__REFERENCE_VALUE_DELETE_REQUEST__INIT;
  q.reference_value_id = (char *)name;
  ProtobufCMessage *m = NULL;
  tr_err *e = call(r->c, RVPS_PATH("DeleteReferenceValue"), &q.base,
                   &reference__reference_value_delete_response__descriptor, r->timeout_ms, &m);
  tr_grpc_msg_free(m);
  return e ? tr_err_wrap(e, "remote RVPS") : NULL;
}

static void rv_free(void *st) {
  rvps_remote *r = st;
  if (r && r->owned) tr_grpc_client_free(r->c);
  free(r);
}

static const tr_rvps_ops remote_ops = {"GrpcRemote", rv_register, rv_query, rv_query_all,
                                       rv_list,      rv_delete,   rv_free};

static tr_err *wrap_client(tr_grpc_client *c, bool owned, int64_t timeout_ms, tr_rvps **out) {
  rvps_remote *r = calloc(1, sizeof(*r));
  if (!r) {
    if (owned) tr_grpc_client_free(c);
    return tr_err_new(TR_E_NOMEM, "out of memory");
  }
  r->c = c;
  r->owned = owned;
  r->timeout_ms = timeout_ms;
  return tr_rvps_new_custom(&remote_ops, r, out);
}

tr_err *tr_grpc_rvps_remote_new(const tr_grpc_rvps_config *cfg, tr_rvps **out) {
  *out = NULL;
  const char *addr = cfg && cfg->address ? cfg->address : TR_GRPC_RVPS_DEFAULT_ADDR;
  int64_t to = cfg && cfg->timeout_ms > 0 ? cfg->timeout_ms : TR_GRPC_RVPS_TIMEOUT_MS;
  tr_grpc_client_config cc = {
      .target = addr, .pool_size = cfg && cfg->pool_size ? cfg->pool_size : 10, .timeout_ms = to};
  tr_grpc_client *c = NULL;
  tr_err *e = tr_grpc_client_new(&cc, &c);
  if (e) return tr_err_wrap(e, "GrpcRemote RVPS");
  int64_t connect = cfg && cfg->connect_ms ? cfg->connect_ms : 5000;
  if (connect > 0 && (e = tr_grpc_client_wait_ready(c, connect))) {
    tr_grpc_client_free(c);
    return tr_err_wrap(e, "GrpcRemote RVPS");
  }
  return wrap_client(c, true, to, out);
}

bool tr_grpc_rvps_config_is_remote(const json_t *as_config) {
  const json_t *rc = json_object_get(as_config, "rvps_config");
  const char *t = json_string_value(json_object_get(rc, "type"));
  return t && strcasecmp(t, "GrpcRemote") == 0;
}

tr_err *tr_grpc_rvps_from_as_config(const json_t *rvps_config, tr_rvps **out) {
  *out = NULL;
  const char *t = json_string_value(json_object_get(rvps_config, "type"));
  if (!t || strcasecmp(t, "GrpcRemote") != 0)
    return tr_err_new(TR_E_UNSUPPORTED, "rvps_config: only type GrpcRemote is built by the gRPC module");
  const json_t *a = json_object_get(rvps_config, "address");
  if (a && !json_is_string(a))
    return tr_err_new(TR_E_INVALID, "field `rvps_config.address`: expected string");
  tr_grpc_rvps_config cfg = {.address = a ? json_string_value(a) : NULL};
  return tr_grpc_rvps_remote_new(&cfg, out);
}

/* --------------------------------------------------------------- remote AS */

struct tr_grpc_as_client {
  tr_grpc_client *c;
  tr_rvps *rvps;
};

#define AS_PATH(m) "/" TR_GRPC_AS_SERVICE "/" m

tr_err *tr_grpc_as_client_new(const char *addr, size_t pool_size, tr_grpc_as_client **out) {
  *out = NULL;
  tr_grpc_as_client *a = calloc(1, sizeof(*a));
  if (!a) return tr_err_new(TR_E_NOMEM, "out of memory");
  tr_grpc_client_config cc = {
      .target = addr, .pool_size = pool_size ? pool_size : 100, .timeout_ms = TR_GRPC_AS_TIMEOUT_MS};
  tr_err *e = tr_grpc_client_new(&cc, &a->c);
  if (!e) e = wrap_client(a->c, false, TR_GRPC_RVPS_TIMEOUT_MS, &a->rvps);
  if (e) {
    tr_grpc_as_client_free(a);
    return tr_err_wrap(e, "remote attestation service %s", addr ? addr : "");
  }
  *out = a;
  return NULL;
}

void tr_grpc_as_client_free(tr_grpc_as_client *a) {
  if (!a) return;
  tr_rvps_free(a->rvps);
  tr_grpc_client_free(a->c);
  free(a);
}

tr_rvps *tr_grpc_as_client_rvps(tr_grpc_as_client *a) { return a->rvps; }

static char *b64url(const void *d, size_t n) { return tr_b64_encode(d, n, TR_B64_URL_NOPAD); }

static void free_individual(Attestation__IndividualAttestationRequest *q) {
  free(q->evidence);
  if (q->runtime_data_case) free(q->raw_runtime_data); /* either member of the union */
  if (q->init_data_case == ATTESTATION__INDIVIDUAL_ATTESTATION_REQUEST__INIT_DATA_INIT_DATA_DIGEST)
    free(q->init_data_digest);
}

static tr_err *fill_individual(const tr_as_request *r, size_t i,
                               Attestation__IndividualAttestationRequest *q) {
  attestation__individual_attestation_request__init(q);
  q->tee = (char *)r->tee;
  char *ev = tr_json_dump_compact(r->evidence);
  q->evidence = ev ? b64url(ev, strlen(ev)) : NULL;
  free(ev);
  if (!q->evidence) return tr_err_new(TR_E_NOMEM, "out of memory");
  q->runtime_data_hash_algorithm =
      (char *)tr_digest_alg_name(r->runtime_data_hash_alg ? r->runtime_data_hash_alg : TR_SHA384);
  if (r->runtime_data.kind == TR_DATA_RAW) {
    q->runtime_data_case = ATTESTATION__INDIVIDUAL_ATTESTATION_REQUEST__RUNTIME_DATA_RAW_RUNTIME_DATA;
    q->raw_runtime_data = b64url(r->runtime_data.raw, r->runtime_data.raw_len);
  } else if (r->runtime_data.kind == TR_DATA_STRUCTURED) {
    q->runtime_data_case = ATTESTATION__INDIVIDUAL_ATTESTATION_REQUEST__RUNTIME_DATA_STRUCTURED_RUNTIME_DATA;
    q->structured_runtime_data = tr_json_dump_compact(r->runtime_data.structured);
  }
  if (q->runtime_data_case && !q->raw_runtime_data) return tr_err_new(TR_E_NOMEM, "out of memory");
  if (r->init_data.kind == TR_DATA_RAW) {
    q->init_data_case = ATTESTATION__INDIVIDUAL_ATTESTATION_REQUEST__INIT_DATA_INIT_DATA_DIGEST;
    q->init_data_digest = b64url(r->init_data.raw, r->init_data.raw_len);
    if (!q->init_data_digest) return tr_err_new(TR_E_NOMEM, "out of memory");
  } else if (r->init_data.kind == TR_DATA_STRUCTURED) {
    if (!r->init_data.toml)
      return tr_err_new(TR_E_UNSUPPORTED,
                        "request %zu: init data as a JSON object cannot be sent to a gRPC AS "
                        "(only TOML or a digest)",
                        i);
    q->init_data_case = ATTESTATION__INDIVIDUAL_ATTESTATION_REQUEST__INIT_DATA_INIT_DATA_TOML;
    q->init_data_toml = (char *)r->init_data.toml;
  }
  return NULL;
}

tr_err *tr_grpc_as_evaluate(tr_grpc_as_client *a, const tr_as_request *reqs, size_t nreqs,
                            const char *const *policy_ids, size_t npolicy_ids, char **token) {
  *token = NULL;
  Attestation__IndividualAttestationRequest *items = calloc(nreqs ? nreqs : 1, sizeof(*items));
  Attestation__IndividualAttestationRequest **ptrs = calloc(nreqs ? nreqs : 1, sizeof(*ptrs));
  tr_err *e = items && ptrs ? NULL : tr_err_new(TR_E_NOMEM, "out of memory");
  size_t filled = 0;
  for (; !e && filled < nreqs; filled++) {
    ptrs[filled] = &items[filled];
    e = fill_individual(&reqs[filled], filled, &items[filled]);
  }
  const char *def = "default";
  Attestation__AttestationRequest q = ATTESTATION__ATTESTATION_REQUEST__INIT;
  q.n_verification_requests = nreqs;
  q.verification_requests = ptrs;
  q.n_policy_ids = npolicy_ids ? npolicy_ids : 1;
  q.policy_ids = (char **)(npolicy_ids ? policy_ids : &def);
  ProtobufCMessage *m = NULL;
  if (!e)
    e = call(a->c, AS_PATH("AttestationEvaluate"), &q.base, &attestation__attestation_response__descriptor, 0,
             &m);
  for (size_t i = 0; i < filled; i++)
    free_individual(&items[i]);
  free(items);
  free(ptrs);
  if (e) return tr_err_wrap(e, "remote attestation service");
  *token = strdup(((Attestation__AttestationResponse *)m)->attestation_token);
  tr_grpc_msg_free(m);
  return *token ? NULL : tr_err_new(TR_E_NOMEM, "out of memory");
}

tr_err *tr_grpc_as_set_policy(tr_grpc_as_client *a, const char *id, const char *rego_text) {
  Attestation__SetPolicyRequest q = ATTESTATION__SET_POLICY_REQUEST__INIT;
  q.policy_id = (char *)id;
  q.policy = b64url(rego_text, strlen(rego_text));
  if (!q.policy) return tr_err_new(TR_E_NOMEM, "out of memory");
  ProtobufCMessage *m = NULL;
  tr_err *e = call(a->c, AS_PATH("SetAttestationPolicy"), &q.base,
                   &attestation__set_policy_response__descriptor, 0, &m);
  tr_grpc_msg_free(m);
  free(q.policy);
  return e ? tr_err_wrap(e, "remote attestation service") : NULL;
}

tr_err *tr_grpc_as_challenge(tr_grpc_as_client *a, const char *tee, const json_t *params, char **out) {
  *out = NULL;
  /* upstream's KBS: inner = {"tee": <tee>, "tee_params": <JSON text of the extra params>} */
  char *tp = params ? tr_json_dump_compact(params) : NULL;
  Attestation__ChallengeRequest__InnerEntry ents[2];
  attestation__challenge_request__inner_entry__init(&ents[0]);
  attestation__challenge_request__inner_entry__init(&ents[1]);
  ents[0].key = "tee";
  ents[0].value = (char *)tee;
  ents[1].key = "tee_params";
  ents[1].value = tp ? tp : "";
  Attestation__ChallengeRequest__InnerEntry *ptrs[2] = {&ents[0], &ents[1]};
  Attestation__ChallengeRequest q = ATTESTATION__CHALLENGE_REQUEST__INIT;
  q.n_inner = 2;
  q.inner = ptrs;
  ProtobufCMessage *m = NULL;
  tr_err *e = call(a->c, AS_PATH("GetAttestationChallenge"), &q.base,
                   &attestation__challenge_response__descriptor, 0, &m);
  free(tp);
  if (e) return tr_err_wrap(e, "remote attestation service");
  *out = strdup(((Attestation__ChallengeResponse *)m)->attestation_challenge);
  tr_grpc_msg_free(m);
  return *out ? NULL : tr_err_new(TR_E_NOMEM, "out of memory");
}
