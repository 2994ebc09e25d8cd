/* http_api.c — see http_api.h. */
#include "as/http_api.h"

#include <stdlib.h>
#include <string.h>

#include "as/request.h"
#include "core/json.h"
#include "core/log.h"

int tr_as_http_status(const tr_err *e) {
  switch (tr_err_code(e)) {
  case TR_E_INVALID:
  case TR_E_UNSUPPORTED:
  case TR_E_TYPE: return 400;
  case TR_E_AUTH: return 401;
  case TR_E_VERIFY:
  case TR_E_DENIED:
  case TR_E_EXPIRED: return 403;
  case TR_E_NOTFOUND: return 404;
  case TR_E_CONFLICT: return 409;
  case TR_E_LIMIT: return 413;
  default: return 500;
  }
}

static void fail(tr_http_response *resp, tr_err *e, const char *what) {
  int st = tr_as_http_status(e);
  if (st >= 500)
    TR_ERROR("restful-as", "%s: %s", what, tr_err_msg(e));
  else
    TR_INFO("restful-as", "%s: %s", what, tr_err_msg(e));
  tr_http_error(resp, st, tr_err_msg(e));
  tr_err_free(e);
}

static void attestation(tr_as *as, const tr_http_request *q, tr_http_response *resp) {
  tr_as_parsed *p = NULL;
  tr_err *e = tr_as_parse_attestation(q->body, q->body_len, &p);
  if (e) return fail(resp, e, "attestation");
  char *token = NULL;
  e = tr_as_evaluate(as, p->reqs, p->nreqs, (const char *const *)p->policy_ids, p->npolicy_ids, &token);
  tr_as_parsed_free(p);
  if (e) return fail(resp, tr_err_wrap(e, "attestation report evaluate"), "attestation");
  tr_http_reply(resp, 200, "text/plain", token);
}

static void set_policy(tr_as *as, const tr_http_request *q, tr_http_response *resp) {
  char *id = NULL, *text = NULL;
  tr_err *e = tr_as_parse_set_policy(q->body, q->body_len, &id, &text);
  if (!e) e = tr_as_set_policy(as, id, text);
  free(id);
  free(text);
  if (e) return fail(resp, e, "set policy");
  tr_http_reply(resp, 200, NULL, NULL);
}

static void list_policies(tr_as *as, tr_http_response *resp) {
  json_t *m = NULL;
  tr_err *e = tr_as_list_policies(as, &m);
  if (e) return fail(resp, e, "list policies");
  json_t *arr = json_array();
  const char *k;
  json_t *v;
  json_object_foreach(m, k, v) json_array_append_new(arr, json_pack("{s:s}", "policy-id", k));
  json_decref(m);
  tr_http_reply(resp, 200, "application/json", tr_json_dump_compact(arr));
  json_decref(arr);
}

static void one_policy(tr_as *as, const char *method, const char *id, tr_http_response *resp) {
  if (strcmp(method, "GET") == 0) {
    char *text = NULL;
    tr_err *e = tr_as_get_policy(as, id, &text);
    if (e) return fail(resp, e, "get policy");
    tr_http_reply(resp, 200, "text/plain", text);
  } else {
    tr_err *e = tr_as_delete_policy(as, id);
    if (e) return fail(resp, e, "delete policy");
    tr_http_reply(resp, 200, NULL, NULL);
  }
}

static void challenge(tr_as *as, const tr_http_request *q, tr_http_response *resp) {
  char *tee = NULL;
  json_t *params = NULL;
  tr_err *e = tr_as_parse_challenge(q->body, q->body_len, &tee, &params);
  char *out = NULL;
  if (!e) e = tr_as_challenge(as, tee, params, &out);
  free(tee);
  json_decref(params);
  if (e) return fail(resp, e, "challenge");
  tr_http_reply(resp, 200, "text/plain", out);
}

static void register_rv(tr_as *as, const tr_http_request *q, tr_http_response *resp) {
  tr_rvps *r = tr_as_rvps(as);
  if (!r) return tr_http_error(resp, 501, "no RVPS behind this attestation service");
  tr_err *e = tr_rvps_register(r, q->body, q->body_len);
  if (e) return fail(resp, tr_err_wrap(e, "register reference value"), "register reference value");
  tr_http_reply(resp, 200, NULL, NULL);
}

static void query_rv(tr_as *as, const char *id, tr_http_response *resp) {
  tr_rvps *r = tr_as_rvps(as);
  if (!r) return tr_http_error(resp, 501, "no RVPS behind this attestation service");
  json_t *v = NULL;
  tr_err *e = tr_rvps_query(r, id, &v);
  if (e) return fail(resp, tr_err_wrap(e, "query reference value"), "query reference value");
  if (!v) {
    char msg[300];
    snprintf(msg, sizeof(msg), "no reference value `%.200s`", id);
    return tr_http_error(resp, 404, msg);
  }
  tr_http_reply(resp, 200, "application/json", tr_json_dump_compact(v));
  json_decref(v);
}

void tr_as_http_handle(void *ctx, const tr_http_request *q, tr_http_response *resp) {
  tr_as *as = ctx;
  const char *u = q->url, *m = q->method;
  bool get = strcmp(m, "GET") == 0, post = strcmp(m, "POST") == 0, del = strcmp(m, "DELETE") == 0;
  if (strcmp(u, "/attestation") == 0) {
    if (post) return attestation(as, q, resp);
  } else if (strcmp(u, "/policy") == 0) {
    if (post) return set_policy(as, q, resp);
    if (get) return list_policies(as, resp);
  } else if (strncmp(u, "/policy/", 8) == 0 && u[8]) {
    if (get || del) return one_policy(as, m, u + 8, resp);
  } else if (strcmp(u, "/reference-value") == 0) {
    if (post) return register_rv(as, q, resp);
  } else if (strncmp(u, "/reference-value/", 17) == 0 && u[17]) {
    if (get) return query_rv(as, u + 17, resp);
  } else if (strcmp(u, "/challenge") == 0) {
    if (post) return challenge(as, q, resp);
  } else if (strcmp(u, "/.well-known/jwks.json") == 0) {
    if (get) {
      json_t *j = tr_as_jwks(as);
      tr_http_reply(resp, 200, "application/json", j ? tr_json_dump_compact(j) : NULL);
      json_decref(j);
      return;
    }
  } else if (strcmp(u, "/healthz") == 0) {
    if (get) return tr_http_reply(resp, 200, NULL, NULL);
  } else {
    char msg[300];
    snprintf(msg, sizeof(msg), "no such endpoint `%.200s`", u);
    return tr_http_error(resp, 404, msg);
  }
  char msg[300];
  snprintf(msg, sizeof(msg), "method %.16s not allowed on `%.200s`", m, u);
  tr_http_error(resp, 405, msg);
}
