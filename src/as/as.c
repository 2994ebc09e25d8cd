/* as.c — the Attestation Service: verify every request with its TEE's
 * verifier (expected report data and init-data hash derived from the
 * request), then hand the verified claims to the token broker (EAR or
 * Simple), which appraises them against policy and reference values and
 * signs the token.
 *
 * Thread safety: a tr_as is shared by all threads. The verifier set, the
 * policy store (cache + KV) and the RVPS are internally synchronised; the
 * configuration and signer are read-only after tr_as_new. */
#include <stdlib.h>
#include <string.h>

#include "as/as_internal.h"
#include "core/json.h"
#include "core/log.h"

static tr_err *open_policy_kv(tr_as *as) {
  tr_err *e = tr_kv_open(as->cfg.storage_type, as->cfg.storage_config, &as->kv);
  if (e) return tr_err_wrap(e, "open %s policy storage", as->cfg.storage_type);
  as->own_kv = true;
  return NULL;
}

static tr_err *open_rvps(tr_as *as) {
  const tr_as_config *c = &as->cfg;
  if (c->rvps_remote)
    return tr_err_new(TR_E_UNSUPPORTED,
                      "rvps_config: GrpcRemote (%s): the remote RVPS client lives in src/grpc "
                      "(tr_grpc_rvps_from_as_config); pass it in tr_as_shared.rvps",
                      c->rvps_address);
  tr_err *e = NULL;
  if (c->rvps_documented) {
    e = tr_rvps_from_config(c->rvps_raw, &as->rvps);
  } else {
    /* upstream: the built-in RVPS uses the AS storage_backend, with
     * rvps_config.storage_type as an override of its type */
    const char *type = c->rvps_storage_type ? c->rvps_storage_type : c->storage_type;
    json_t *sb = json_object_get(c->raw, "storage_backend");
    json_t *bc = tr_as_storage_backend(sb, type);
    tr_kv *kv = NULL;
    if (!c->rvps_storage_type || strcmp(type, c->storage_type) != 0 || strcmp(type, "Memory") == 0) {
      e = tr_kv_open(type, bc, &kv);
      if (!e) e = tr_rvps_new_owning(kv, &as->rvps);
    } else {
      e = tr_rvps_new(as->kv, &as->rvps); /* same store as the policies */
    }
  }
  if (e) return tr_err_wrap(e, "create built-in RVPS");
  as->own_rvps = true;
  return NULL;
}

tr_err *tr_as_new_shared(const json_t *config, const tr_as_shared *shared, tr_as **out) {
  *out = NULL;
  tr_as *as = calloc(1, sizeof(*as));
  if (!as) return tr_err_new(TR_E_NOMEM, "out of memory");
  tr_err *e = tr_as_config_parse(config, &as->cfg);
  if (e) {
    free(as);
    return e;
  }
  if (shared && shared->kv)
    as->kv = shared->kv;
  else if ((e = open_policy_kv(as)))
    goto fail;
  if (shared && shared->rvps)
    as->rvps = shared->rvps;
  else if ((e = open_rvps(as)))
    goto fail;
  if ((e = tr_verifier_set_new(as->cfg.verifier_config, &as->verifiers))) goto fail;
  if ((e = tr_as_policy_store_new(as->kv, &as->policies))) goto fail;
  if (as->cfg.broker.type == TR_AS_BROKER_EAR) {
    for (size_t i = 0; i < tr_as_ear_default_policies_len && !e; i++)
      e = tr_as_policy_install_default(as->policies, tr_as_ear_default_policies[i].id,
                                       tr_as_ear_default_policies[i].text);
  } else {
    e = tr_as_policy_install_default(as->policies, "default", tr_as_simple_default_policy);
  }
  if (e) goto fail;
  if ((e = tr_as_signer_load(&as->cfg.broker.signer, as->cfg.broker.type, &as->signer))) goto fail;
  if (!as->cfg.broker.signer.key_path)
    TR_INFO("as", "no token signer key configured: using an ephemeral %s key",
            as->cfg.broker.type == TR_AS_BROKER_EAR ? "P-256" : "RSA-2048");
  *out = as;
  return NULL;
fail:
  tr_as_free(as);
  return tr_err_wrap(e, "attestation service");
}

tr_err *tr_as_new(const json_t *config, tr_as **out) { return tr_as_new_shared(config, NULL, out); }

void tr_as_free(tr_as *as) {
  if (!as) return;
  tr_as_signer_clear(&as->signer);
  tr_as_policy_store_free(as->policies);
  tr_verifier_set_free(as->verifiers);
  if (as->own_rvps) tr_rvps_free(as->rvps);
  if (as->own_kv) tr_kv_close(as->kv);
  tr_as_config_clear(&as->cfg);
  free(as);
}

const json_t *tr_as_config_warnings(const tr_as *as) { return as->cfg.warnings; }

typedef struct {
  tr_as_expected_data rd, id;
} req_state;

tr_err *tr_as_evaluate(tr_as *as, const tr_as_request *reqs, size_t nreqs, const char *const *policy_ids,
                       size_t npolicy_ids, char **token) {
  *token = NULL;
  if (nreqs == 0) return tr_err_new(TR_E_INVALID, "no verification requests provided");
  if (nreqs > 64) return tr_err_new(TR_E_LIMIT, "too many verification requests (%zu, at most 64)", nreqs);
  req_state *rs = calloc(nreqs, sizeof(*rs));
  tr_verified_list *vl = calloc(nreqs, sizeof(*vl));
  tr_as_tee_claims *tcs = NULL;
  size_t ntcs = 0;
  tr_err *e = NULL;
  if (!rs || !vl) {
    e = tr_err_new(TR_E_NOMEM, "out of memory");
    goto out;
  }
  for (size_t i = 0; i < nreqs && !e; i++) {
    const tr_as_request *r = &reqs[i];
    const tr_verifier_ops *ops = NULL;
    void *st = NULL;
    if (!r->tee || !r->evidence)
      e = tr_err_new(TR_E_INVALID, "request is missing its tee or evidence");
    else if (!(e = tr_verifier_set_get(as->verifiers, r->tee, &ops, &st)) &&
             !(e = tr_as_runtime_expected(&r->runtime_data, r->runtime_data_hash_alg, &rs[i].rd)) &&
             !(e = tr_as_init_expected(&r->init_data, r->init_data_hash_alg, &rs[i].id))) {
      tr_expected erd = {rs[i].rd.present, rs[i].rd.data, rs[i].rd.len};
      tr_expected eid = {rs[i].id.present, rs[i].id.data, rs[i].id.len};
      e = ops->evaluate(st, r->evidence, &erd, &eid, &vl[i]);
      if (e) e = tr_err_wrap(tr_err_code(e) == TR_E_INVALID ? e : tr_err_recode(e, TR_E_VERIFY), "verifier");
    }
    if (e)
      e = tr_err_wrap(e, "request %zu (tee %.64s)", i, r->tee ? r->tee : "?");
    else
      ntcs += vl[i].len;
  }
  if (e) goto out;
  tcs = calloc(ntcs ? ntcs : 1, sizeof(*tcs));
  if (!tcs) {
    e = tr_err_new(TR_E_NOMEM, "out of memory");
    goto out;
  }
  size_t k = 0;
  for (size_t i = 0; i < nreqs; i++)
    for (size_t j = 0; j < vl[i].len; j++, k++) {
      tcs[k].tee = reqs[i].tee;
      memcpy(tcs[k].tee_class, vl[i].items[j].tee_class, sizeof(tcs[k].tee_class));
      tcs[k].claims = vl[i].items[j].claims;
      tcs[k].init_data_claims = rs[i].id.claims;
      tcs[k].runtime_data_claims = rs[i].rd.claims;
    }
  static const char *const def[] = {"default"};
  if (!policy_ids || npolicy_ids == 0) {
    policy_ids = def;
    npolicy_ids = 1;
  }
  if (as->cfg.broker.type == TR_AS_BROKER_EAR)
    e = tr_as_ear_issue(as, tcs, ntcs, policy_ids, npolicy_ids, token);
  else
    e = tr_as_simple_issue(as, tcs, ntcs, policy_ids, npolicy_ids, token);
out:
  for (size_t i = 0; rs && vl && i < nreqs; i++) {
    tr_as_expected_clear(&rs[i].rd);
    tr_as_expected_clear(&rs[i].id);
    tr_verified_list_clear(&vl[i]);
  }
  free(tcs);
  free(rs);
  free(vl);
  return e;
}

tr_err *tr_as_set_policy(tr_as *as, const char *id, const char *rego_text) {
  if (!rego_text) return tr_err_new(TR_E_INVALID, "policy text missing");
  return tr_as_policy_set(as->policies, id, rego_text);
}

tr_err *tr_as_get_policy(tr_as *as, const char *id, char **rego_text) {
  return tr_as_policy_get_text(as->policies, id, rego_text);
}

tr_err *tr_as_list_policies(tr_as *as, json_t **out) { return tr_as_policy_list(as->policies, out); }

tr_err *tr_as_delete_policy(tr_as *as, const char *id) { return tr_as_policy_delete(as->policies, id); }

tr_err *tr_as_challenge(tr_as *as, const char *tee, const json_t *params, char **out) {
  *out = NULL;
  const tr_verifier_ops *ops = NULL;
  void *st = NULL;
  tr_err *e = tr_verifier_set_get(as->verifiers, tee, &ops, &st);
  if (e) return e;
  json_t *res = NULL;
  if (ops->challenge && (e = ops->challenge(st, params, &res))) return tr_err_wrap(e, "%s challenge", tee);
  if (!res)
    *out = strdup("");
  else if (json_is_string(res))
    *out = strdup(json_string_value(res));
  else
    *out = tr_json_dump_compact(res);
  json_decref(res);
  return *out ? NULL : tr_err_new(TR_E_NOMEM, "out of memory");
}

json_t *tr_as_jwks(tr_as *as) { return json_pack("{s:[O]}", "keys", as->signer.jwk); }

tr_rvps *tr_as_rvps(tr_as *as) { return as->rvps; }
