/* as_service.c — attestation.AttestationService over a tr_as.
 *
 * AttestationEvaluate accepts two request shapes on the same method:
 *  - current upstream: AttestationRequest {verification_requests=1 (message),
 *    policy_ids=2};
 *  - the CoCo documentation's older one: {tee=1, evidence=2, raw_runtime_data=3 |
 *    structured_runtime_data=4, raw_init_data=5 | structured_init_data=6,
 *    runtime_data_hash_algorithm=7, init_data_hash_algorithm=8, policy_ids=9}.
 * Both have a length-delimited field 1. When its first occurrence is exactly
 * a known TEE name the request is the older shape (a valid
 * IndividualAttestationRequest never is: its bytes start with a field tag,
 * and no TEE name's first byte is a valid proto3 tag). The decoded message is
 * turned into the AS REST body JSON and parsed by as/request.c, so both
 * front doors share one set of checks and error messages. */
#include <protobuf-c/protobuf-c.h>
#include <stdlib.h>
#include <string.h>

#include "core/encoding.h"
#include "core/json.h"
#include "grpc/attestation.pb-c.h"
#include "grpc/rpc.h"
#include "grpc/services.h"
#include "verifier/verifier.h"

/* Reads a base-128 varint; false when truncated or longer than 10 bytes. */
static bool varint(const uint8_t *b, size_t len, size_t *pos, uint64_t *v) {
  *v = 0;
  for (int shift = 0; shift < 70 && *pos < len; shift += 7) {
    uint8_t c = b[(*pos)++];
    *v |= (uint64_t)(c & 0x7f) << shift;
    if (!(c & 0x80)) return true;
  }
  return false;
}

/* The first length-delimited field 1 of a message, if the framing up to it
 * is sound. */
static bool first_field1(const uint8_t *b, size_t len, const uint8_t **val, size_t *vlen) {
  size_t pos = 0;
  while (pos < len) {
    uint64_t tag, n;
    if (!varint(b, len, &pos, &tag)) return false;
    switch (tag & 7) {
    case 0:
      if (!varint(b, len, &pos, &n)) return false;
      break;
    case 1:
      if (len - pos < 8) return false;
      pos += 8;
      break;
    case 5:
      if (len - pos < 4) return false;
      pos += 4;
      break;
    case 2:
      if (!varint(b, len, &pos, &n) || n > len - pos) return false;
      if ((tag >> 3) == 1) {
        *val = b + pos;
        *vlen = (size_t)n;
        return true;
      }
      pos += (size_t)n;
      break;
    default: return false;
    }
  }
  return false;
}

static bool is_tee_name(const uint8_t *v, size_t n) {
  for (const char *const *t = tr_verifier_names(); t && *t; t++)
    if (strlen(*t) == n && memcmp(*t, v, n) == 0) return true;
  return false;
}

static tr_err *json_text(const char *field, const char *text, json_t **out) {
  tr_err *e = tr_json_parse(text, strlen(text), out);
  return e ? tr_err_wrap(tr_err_recode(e, TR_E_INVALID), "field `%s`: not JSON", field) : NULL;
}

/* A JSON string of a protobuf string field; protobuf-c does not check
 * UTF-8, so this is where invalid text is refused, naming the field. */
static json_t *jstr(const char *v, const char *label, const char *field, tr_err **e) {
  json_t *s = json_string(v ? v : "");
  if (!s && !*e)
    *e = tr_err_new(TR_E_INVALID, "field `%s%s%s`: not valid UTF-8", label, *label ? "." : "", field);
  return s;
}

static void set_str(json_t *o, const char *k, const char *v, const char *label, tr_err **e) {
  if (v && *v) json_object_set_new(o, k, jstr(v, label, k, e));
}

static json_t *choice(const char *k, json_t *v) {
  json_t *o = json_object();
  json_object_set_new(o, k, v);
  return o;
}

static json_t *string_array(char **v, size_t n, tr_err **e) {
  json_t *a = json_array();
  for (size_t i = 0; i < n; i++)
    json_array_append_new(a, jstr(v[i], "", "policy_ids", e));
  return a;
}

static tr_err *current_to_json(const Attestation__AttestationRequest *r, json_t *body) {
  tr_err *e = NULL;
  json_t *vr = json_array();
  json_object_set_new(body, "verification_requests", vr);
  json_object_set_new(body, "policy_ids", string_array(r->policy_ids, r->n_policy_ids, &e));
  for (size_t i = 0; i < r->n_verification_requests && !e; i++) {
    const Attestation__IndividualAttestationRequest *q = r->verification_requests[i];
    char l[48], f[96];
    snprintf(l, sizeof(l), "verification_requests[%zu]", i);
    json_t *o = json_object();
    json_array_append_new(vr, o);
    json_object_set_new(o, "tee", jstr(q->tee, l, "tee", &e));
    json_object_set_new(o, "evidence", jstr(q->evidence, l, "evidence", &e));
    set_str(o, "runtime_data_hash_algorithm", q->runtime_data_hash_algorithm, l, &e);
    if (q->runtime_data_case == ATTESTATION__INDIVIDUAL_ATTESTATION_REQUEST__RUNTIME_DATA_RAW_RUNTIME_DATA) {
      json_object_set_new(o, "runtime_data",
                          choice("raw", jstr(q->raw_runtime_data, l, "raw_runtime_data", &e)));
    } else if (!e && q->runtime_data_case ==
                         ATTESTATION__INDIVIDUAL_ATTESTATION_REQUEST__RUNTIME_DATA_STRUCTURED_RUNTIME_DATA) {
      json_t *v = NULL;
      snprintf(f, sizeof(f), "%s.structured_runtime_data", l);
      if ((e = json_text(f, q->structured_runtime_data, &v))) return e;
      json_object_set_new(o, "runtime_data", choice("structured", v));
    }
    if (q->init_data_case == ATTESTATION__INDIVIDUAL_ATTESTATION_REQUEST__INIT_DATA_INIT_DATA_DIGEST)
      json_object_set_new(o, "init_data",
                          choice("init_data_digest", jstr(q->init_data_digest, l, "init_data_digest", &e)));
    else if (q->init_data_case == ATTESTATION__INDIVIDUAL_ATTESTATION_REQUEST__INIT_DATA_INIT_DATA_TOML)
      json_object_set_new(o, "init_data",
                          choice("init_data_toml", jstr(q->init_data_toml, l, "init_data_toml", &e)));
  }
  return e;
}

static tr_err *legacy_to_json(const Attestation__LegacyAttestationRequest *r, json_t *body) {
  tr_err *e = NULL;
  json_t *v = NULL;
  json_object_set_new(body, "tee", jstr(r->tee, "", "tee", &e));
  json_object_set_new(body, "evidence", jstr(r->evidence, "", "evidence", &e));
  json_object_set_new(body, "policy_ids", string_array(r->policy_ids, r->n_policy_ids, &e));
  set_str(body, "runtime_data_hash_algorithm", r->runtime_data_hash_algorithm, "", &e);
  set_str(body, "init_data_hash_algorithm", r->init_data_hash_algorithm, "", &e);
  if (e) return e;
  if (r->runtime_data_case == ATTESTATION__LEGACY_ATTESTATION_REQUEST__RUNTIME_DATA_RAW_RUNTIME_DATA) {
    json_object_set_new(body, "runtime_data",
                        choice("raw", jstr(r->raw_runtime_data, "", "raw_runtime_data", &e)));
  } else if (r->runtime_data_case ==
             ATTESTATION__LEGACY_ATTESTATION_REQUEST__RUNTIME_DATA_STRUCTURED_RUNTIME_DATA) {
    if ((e = json_text("structured_runtime_data", r->structured_runtime_data, &v))) return e;
    json_object_set_new(body, "runtime_data", choice("structured", v));
  }
  if (r->init_data_case == ATTESTATION__LEGACY_ATTESTATION_REQUEST__INIT_DATA_RAW_INIT_DATA) {
    json_object_set_new(body, "init_data", choice("raw", jstr(r->raw_init_data, "", "raw_init_data", &e)));
  } else if (r->init_data_case == ATTESTATION__LEGACY_ATTESTATION_REQUEST__INIT_DATA_STRUCTURED_INIT_DATA) {
    /* documented as a JSON map; a TOML document is taken as such */
    const char *t = r->structured_init_data;
    v = NULL;
    if (tr_err_consume(tr_json_parse(t, strlen(t), &v)) || !json_is_object(v)) {
      json_decref(v);
      v = jstr(t, "", "structured_init_data", &e);
    }
    json_object_set_new(body, "init_data", choice("structured", v));
  }
  return e;
}

tr_err *tr_grpc_decode_attestation(const uint8_t *buf, size_t len, tr_as_parsed **out, int *legacy) {
  *out = NULL;
  const uint8_t *f1 = NULL;
  size_t f1len = 0;
  *legacy = first_field1(buf, len, &f1, &f1len) && is_tee_name(f1, f1len);
  ProtobufCMessage *m = NULL;
  tr_err *e = tr_grpc_unpack(*legacy ? &attestation__legacy_attestation_request__descriptor
                                     : &attestation__attestation_request__descriptor,
                             buf, len, &m);
  if (e) return e;
  json_t *body = json_object();
  e = *legacy ? legacy_to_json((Attestation__LegacyAttestationRequest *)m, body)
              : current_to_json((Attestation__AttestationRequest *)m, body);
  tr_grpc_msg_free(m);
  char *text = e ? NULL : json_dumps(body, JSON_COMPACT);
  json_decref(body);
  if (!e && !text) e = tr_err_new(TR_E_NOMEM, "out of memory");
  if (!e) e = tr_as_parse_attestation(text, strlen(text), out);
  free(text);
  return e;
}

static tr_err *evaluate(void *ctx, const uint8_t *req, size_t len, uint8_t **resp, size_t *rlen) {
  tr_as_parsed *p = NULL;
  int legacy = 0;
  tr_err *e = tr_grpc_decode_attestation(req, len, &p, &legacy);
  if (e) return tr_err_wrap(e, "AttestationEvaluate");
  char *token = NULL;
  e = tr_as_evaluate(ctx, p->reqs, p->nreqs, (const char *const *)p->policy_ids, p->npolicy_ids, &token);
  tr_as_parsed_free(p);
  if (e) return tr_err_wrap(e, "Attestation evaluation failed");
  Attestation__AttestationResponse r = ATTESTATION__ATTESTATION_RESPONSE__INIT;
  r.attestation_token = token;
  e = tr_grpc_pack(&r.base, resp, rlen);
  free(token);
  return e;
}

static tr_err *set_policy(void *ctx, const uint8_t *req, size_t len, uint8_t **resp, size_t *rlen) {
  ProtobufCMessage *m = NULL;
  tr_err *e = tr_grpc_unpack(&attestation__set_policy_request__descriptor, req, len, &m);
  if (e) return tr_err_wrap(e, "Set Attestation Policy Failed");
  Attestation__SetPolicyRequest *r = (Attestation__SetPolicyRequest *)m;
  uint8_t *text = NULL;
  size_t tlen = 0;
  e = tr_b64_decode(r->policy, strlen(r->policy), TR_B64_URL_NOPAD | TR_B64_LAX_PAD, &text, &tlen);
  if (e)
    e = tr_err_wrap(tr_err_recode(e, TR_E_INVALID), "field `policy`: base64url decode");
  else if (strlen((char *)text) != tlen)
    e = tr_err_new(TR_E_INVALID, "field `policy`: decoded policy contains NUL");
  if (!e) e = tr_as_set_policy(ctx, r->policy_id, (const char *)text);
  free(text);
  tr_grpc_msg_free(m);
  if (e) return tr_err_wrap(e, "Set Attestation Policy Failed");
  Attestation__SetPolicyResponse out = ATTESTATION__SET_POLICY_RESPONSE__INIT;
  return tr_grpc_pack(&out.base, resp, rlen);
}

static tr_err *challenge(void *ctx, const uint8_t *req, size_t len, uint8_t **resp, size_t *rlen) {
  ProtobufCMessage *m = NULL;
  tr_err *e = tr_grpc_unpack(&attestation__challenge_request__descriptor, req, len, &m);
  if (e) return tr_err_wrap(e, "Challenge");
  Attestation__ChallengeRequest *r = (Attestation__ChallengeRequest *)m;
  json_t *params = json_object();
  for (size_t i = 0; i < r->n_inner && !e; i++) {
    json_t *v = jstr(r->inner[i]->value, "inner", r->inner[i]->key, &e);
    if (json_object_set_new(params, r->inner[i]->key, v) && !e)
      e = tr_err_new(TR_E_INVALID, "field `inner`: key is not valid UTF-8");
  }
  tr_grpc_msg_free(m);
  if (e) {
    json_decref(params);
    return tr_err_wrap(e, "Challenge");
  }
  const char *tee = json_string_value(json_object_get(params, "tee"));
  char *out = NULL;
  if (!tee)
    e = tr_err_new(TR_E_INVALID, "Error parse inner_tee tee: `inner` has no `tee`");
  else if (!json_object_get(params, "tee_params"))
    e = tr_err_new(TR_E_INVALID, "Error parse inner_tee tee_params: `inner` has no `tee_params`");
  else
    e = tr_as_challenge(ctx, tee, params, &out);
  json_decref(params);
  if (e) return tr_err_wrap(e, "Challenge");
  Attestation__ChallengeResponse cr = ATTESTATION__CHALLENGE_RESPONSE__INIT;
  cr.attestation_challenge = out;
  e = tr_grpc_pack(&cr.base, resp, rlen);
  free(out);
  return e;
}

void tr_grpc_as_methods(tr_as *as, tr_grpc_method out[TR_GRPC_AS_NMETHODS]) {
  out[0] = (tr_grpc_method){"/" TR_GRPC_AS_SERVICE "/AttestationEvaluate", evaluate, as};
  out[1] = (tr_grpc_method){"/" TR_GRPC_AS_SERVICE "/SetAttestationPolicy", set_policy, as};
  out[2] = (tr_grpc_method){"/" TR_GRPC_AS_SERVICE "/GetAttestationChallenge", challenge, as};
}
