/* as_simple.c — the Simple token broker (attestation_token_broker.type =
 * "Simple"), as the CoCo documentation describes it and upstream's former
 * token/simple.rs implemented it (removed upstream in Oct 2025):
 *
 *  - policy ids are used as given (no `_<class>` suffix), "default" when none;
 *  - input = every TEE's claims flattened to dotted keys ("sample.svn"), with
 *    `report_data` and `init_data` unprefixed ("" when absent);
 *  - data = {"reference": {name: value, ...}} with every unexpired reference
 *    value of the RVPS;
 *  - rule data.policy.allow must be `true` for every policy id, otherwise
 *    the request fails with "Reject by policy <id>" (undefined counts as a
 *    deny: a policy that says nothing does not admit);
 *  - the token is RS384 by default; header {"alg":"RS384","jwk":{...},
 *    "typ":"JWT"}; claims (sorted at every level, as serde_json maps without
 *    preserve_order are, like the documentation's example): customized_claims
 *    {init_data, runtime_data}, evaluation-reports [{policy-id, policy-hash
 *    (SHA-384 hex of the text), evaluation-result (JSON text)}], exp, iat,
 *    iss, jti, jwk, nbf, tcb-status (the flattened claims), tee. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "as/as_internal.h"
#include "core/encoding.h"
#include "core/json.h"

static tr_err *flatten(json_t *into, const json_t *v, const char *prefix);

/* flatten(into, v, "<prefix>.<key>") */
static tr_err *flatten_member(json_t *into, const json_t *v, const char *prefix, const char *key) {
  size_t n = strlen(prefix) + strlen(key) + 2;
  char *p = malloc(n);
  if (!p) return tr_err_new(TR_E_NOMEM, "out of memory");
  snprintf(p, n, "%s.%s", prefix, key);
  tr_err *e = flatten(into, v, p);
  free(p);
  return e;
}

static tr_err *flatten(json_t *into, const json_t *v, const char *prefix) {
  if (json_is_object(v)) {
    const char *k;
    json_t *x;
    json_object_foreach((json_t *)v, k, x) {
      tr_err *e = flatten_member(into, x, prefix, k);
      if (e) return e;
    }
    return NULL;
  }
  return json_object_set_new(into, prefix, json_deep_copy(v)) ? tr_err_new(TR_E_NOMEM, "out of memory")
                                                              : NULL;
}

tr_err *tr_as_flatten_claims(const char *tee, const json_t *claims, json_t *into) {
  if (!json_is_object(claims)) return tr_err_new(TR_E_INTERNAL, "%s verifier: claims must be an object", tee);
  const char *k;
  json_t *x;
  json_object_foreach((json_t *)claims, k, x) {
    if (strcmp(k, "report_data") == 0 || strcmp(k, "init_data") == 0) continue;
    tr_err *e = flatten_member(into, x, tee, k);
    if (e) return e;
  }
  static const char *const unprefixed[] = {"report_data", "init_data"};
  for (int i = 0; i < 2; i++) {
    json_t *v = json_object_get(claims, unprefixed[i]);
    json_object_set_new(into, unprefixed[i], v ? json_deep_copy(v) : json_string(""));
  }
  return NULL;
}

static tr_err *evaluate_one(tr_as *as, const char *id, const rego_value *iv, const rego_value *dv,
                            json_t **report) {
  tr_as_compiled *c = NULL;
  tr_err *e = tr_as_policy_acquire(as->policies, id, &c);
  if (e) return e;
  rego_host_binding hb = {"query_reference_value", tr_as_qrv_host, as->rvps};
  rego_eval_opts o = {
      .input_value = iv, .data_value = dv, .hosts = &hb, .nhosts = 1, .strict_builtin_errors = true};
  rego_status st = REGO_UNDEFINED;
  json_t *allow = NULL;
  e = rego_eval_rule(c->policy, "data.policy.allow", &o, &st, &allow);
  if (e && tr_err_code(e) != TR_E_NOMEM)
    e = tr_err_recode(e, TR_E_INTERNAL); /* the policy failed, not the client */
  if (!e && (st != REGO_DEFINED || !json_is_true(allow)))
    e = tr_err_new(TR_E_DENIED, "Reject by policy %s", id);
  if (!e) {
    json_t *res = json_pack("{s:O}", "allow", allow);
    char *txt = res ? tr_json_dump_compact(res) : NULL;
    *report =
        txt ? json_pack("{s:s, s:s, s:s}", "evaluation-result", txt, "policy-hash", c->hash, "policy-id", id)
            : NULL;
    free(txt);
    json_decref(res);
    if (!*report) e = tr_err_new(TR_E_NOMEM, "out of memory");
  }
  json_decref(allow);
  tr_as_policy_release(as->policies, c);
  return e ? tr_err_wrap(e, "policy `%s`", id) : NULL;
}

static char *random_id(void) {
  static const char an[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  uint8_t r[10];
  tr_err *e = tr_random_bytes(r, sizeof(r));
  if (e) {
    tr_err_free(e);
    return NULL;
  }
  char *s = malloc(11);
  if (!s) return NULL;
  for (int i = 0; i < 10; i++)
    s[i] = an[r[i] % 62]; /* 256 % 62 bias is irrelevant for a token id */
  s[10] = 0;
  return s;
}

tr_err *tr_as_simple_issue(tr_as *as, tr_as_tee_claims *tcs, size_t n, const char *const *policy_ids,
                           size_t npolicy_ids, char **token) {
  *token = NULL;
  if (n == 0) return tr_err_new(TR_E_INVALID, "no verified claims");
  json_t *flat = json_object(), *refs = NULL, *data = NULL, *reports = json_array(), *claims = NULL;
  rego_value *iv = NULL, *dv = NULL;
  char *jti = NULL, *txt = NULL;
  tr_err *e = NULL;
  if (!flat || !reports) {
    e = tr_err_new(TR_E_NOMEM, "out of memory");
    goto out;
  }
  for (size_t i = 0; i < n && !e; i++)
    e = tr_as_flatten_claims(tcs[i].tee, tcs[i].claims, flat);
  if (e) goto out;
  if (as->rvps) {
    if ((e = tr_rvps_query_all(as->rvps, &refs))) {
      e = tr_err_wrap(e, "read reference values");
      goto out;
    }
  } else {
    refs = json_object();
  }
  data = json_pack("{s:O}", "reference", refs);
  if (!data) {
    e = tr_err_new(TR_E_NOMEM, "out of memory");
    goto out;
  }
  if ((e = rego_value_from_json(flat, &iv)) || (e = rego_value_from_json(data, &dv))) goto out;
  static const char *const def[] = {"default"};
  if (npolicy_ids == 0) {
    policy_ids = def;
    npolicy_ids = 1;
  }
  for (size_t i = 0; i < npolicy_ids; i++) {
    json_t *rep = NULL;
    if ((e = evaluate_one(as, policy_ids[i], iv, dv, &rep))) goto out;
    json_array_append_new(reports, rep);
  }
  int64_t now = (int64_t)time(NULL);
  jti = random_id();
  json_t *sorted_flat = tr_as_sorted_copy(flat);
  claims =
      jti && sorted_flat
          ? json_pack("{s:{s:O, s:O}, s:O, s:I, s:I, s:s, s:s, s:O, s:I, s:O, s:s}", "customized_claims",
                      "init_data", tcs[0].init_data_claims ? tcs[0].init_data_claims : json_null(),
                      "runtime_data", tcs[0].runtime_data_claims ? tcs[0].runtime_data_claims : json_null(),
                      "evaluation-reports", reports, "exp",
                      (json_int_t)(now + as->cfg.broker.duration_min * 60), "iat", (json_int_t)now, "iss",
                      as->cfg.broker.issuer_name, "jti", jti, "jwk", as->signer.jwk, "nbf", (json_int_t)now,
                      "tcb-status", sorted_flat, "tee", tcs[0].tee)
          : NULL;
  json_decref(sorted_flat);
  /* every level sorted (serde_json maps without preserve_order upstream),
   * including the runtime/init data claims the client sent */
  json_t *sorted_claims = claims ? tr_as_sorted_copy(claims) : NULL;
  txt = sorted_claims ? tr_json_dump_compact(sorted_claims) : NULL;
  json_decref(sorted_claims);
  if (!txt)
    e = tr_err_new(TR_E_NOMEM, "out of memory");
  else
    e = tr_as_sign_jwt(&as->signer, txt, strlen(txt), token);
out:
  free(txt);
  free(jti);
  rego_value_free(iv);
  rego_value_free(dv);
  json_decref(flat);
  json_decref(refs);
  json_decref(data);
  json_decref(reports);
  json_decref(claims);
  return e;
}
