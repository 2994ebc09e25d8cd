/* as_ear.c — appraisal of verified claims against the `<id>_<tee class>`
 * policy and the EAR (EAT Attestation Result) token, as upstream's
 * ear_token/broker.rs emits it (attestation-service.md §1.5–§2).
 *
 * Where upstream panics or silently wraps, this file returns clear errors:
 * an unknown trust-claim name, a non-integer or out-of-range (-128..127)
 * trust-claim value, a trust_claims that is not an object, a malformed
 * `extensions` entry, a verifier claim `init_data`/`report_data` that is not
 * a string. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "as/as_internal.h"
#include "core/json.h"
#include "core/log.h"

const char *const tr_as_trust_claim_names[8] = {"instance-identity", "configuration", "executables",
                                                "file-system",       "hardware",      "runtime-opaque",
                                                "storage-opaque",    "sourced-data"};

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

json_t *tr_as_sorted_copy(const json_t *v) {
  if (json_is_object(v)) {
    size_t n = json_object_size(v);
    const char **keys = malloc((n ? n : 1) * sizeof(*keys));
    json_t *o = json_object();
    if (!keys || !o) {
      free(keys);
      json_decref(o);
      return NULL;
    }
    size_t i = 0;
    const char *k;
    json_t *x;
    json_object_foreach((json_t *)v, k, x) keys[i++] = k;
    qsort(keys, n, sizeof(*keys), cmp_str);
    for (i = 0; i < n; i++) {
      json_t *c = tr_as_sorted_copy(json_object_get(v, keys[i]));
      if (!c || json_object_set_new(o, keys[i], c)) {
        free(keys);
        json_decref(o);
        return NULL;
      }
    }
    free(keys);
    return o;
  }
  if (json_is_array(v)) {
    json_t *a = json_array();
    for (size_t i = 0; a && i < json_array_size(v); i++) {
      json_t *c = tr_as_sorted_copy(json_array_get(v, i));
      if (!c || json_array_append_new(a, c)) {
        json_decref(a);
        return NULL;
      }
    }
    return a;
  }
  return json_deep_copy(v);
}

tr_err *tr_as_policy_input(const tr_as_tee_claims *tc, bool verbose, json_t **out) {
  *out = NULL;
  json_t *claims = json_deep_copy(tc->claims);
  json_t *m = json_object();
  if (!claims || !m) goto nomem;
  if (json_is_object(claims)) {
    json_t *id = json_object_get(claims, "init_data");
    if (id) {
      if (!json_is_string(id)) {
        json_decref(claims);
        json_decref(m);
        return tr_err_new(TR_E_INTERNAL, "%s verifier: claim `init_data` is not a string", tc->tee);
      }
      json_object_set(m, "init_data", id);
      json_object_set_new(m, "init_data_claims",
                          tc->init_data_claims ? json_deep_copy(tc->init_data_claims) : json_null());
      json_object_del(claims, "init_data");
    }
    json_t *rd = json_object_get(claims, "report_data");
    if (rd) {
      if (!json_is_string(rd)) {
        json_decref(claims);
        json_decref(m);
        return tr_err_new(TR_E_INTERNAL, "%s verifier: claim `report_data` is not a string", tc->tee);
      }
      json_object_set(m, "report_data", rd);
      json_t *rdc = tc->runtime_data_claims ? json_deep_copy(tc->runtime_data_claims) : json_null();
      if (!verbose && json_is_object(rdc)) json_object_del(rdc, "additional-evidence");
      json_object_set_new(m, "runtime_data_claims", rdc);
      json_object_del(claims, "report_data");
    }
  }
  json_object_set_new(m, tc->tee, claims);
  claims = NULL;
  *out = tr_as_sorted_copy(m);
  json_decref(m);
  return *out ? NULL : tr_err_new(TR_E_NOMEM, "out of memory");
nomem:
  json_decref(claims);
  json_decref(m);
  return tr_err_new(TR_E_NOMEM, "out of memory");
}

int tr_as_tier(int64_t v) {
  if (v >= -1 && v <= 1) return 0;
  if (v >= -32 && v <= 31) return 2;
  if (v >= -96 && v <= 95) return 32;
  return 96;
}

const char *tr_as_tier_name(int tier) {
  switch (tier) {
  case 0: return "none";
  case 2: return "affirming";
  case 32: return "warning";
  default: return "contraindicated";
  }
}

tr_err *tr_as_trust_vector(const json_t *tcl, int8_t vec[8], bool set[8]) {
  memset(vec, 0, 8);
  memset(set, 0, 8 * sizeof(bool));
  if (!json_is_object(tcl))
    return tr_err_new(TR_E_INVALID, "rule `trust_claims`: expected object, got %s", tr_json_type_name(tcl));
  const char *k;
  json_t *v;
  json_object_foreach((json_t *)tcl, k, v) {
    int idx = -1;
    for (int i = 0; i < 8; i++)
      if (strcmp(k, tr_as_trust_claim_names[i]) == 0) idx = i;
    if (idx < 0)
      return tr_err_new(TR_E_INVALID,
                        "rule `trust_claims`: unknown trust claim `%s` (expected instance-identity, "
                        "configuration, executables, file-system, hardware, runtime-opaque, "
                        "storage-opaque or sourced-data)",
                        k);
    if (!json_is_integer(v) &&
        !(json_is_real(v) && json_real_value(v) == (double)(int64_t)json_real_value(v)))
      return tr_err_new(TR_E_INVALID, "rule `trust_claims`: claim `%s`: expected integer, got %s", k,
                        tr_json_type_name(v));
    int64_t x = json_is_integer(v) ? json_integer_value(v) : (int64_t)json_real_value(v);
    if (x < -128 || x > 127)
      return tr_err_new(TR_E_INVALID, "rule `trust_claims`: claim `%s`: value %lld out of range -128..127", k,
                        (long long)x);
    vec[idx] = (int8_t)x;
    set[idx] = true;
  }
  if (json_object_size(tcl) == 0)
    return tr_err_new(TR_E_INVALID, "rule `trust_claims`: at least one policy claim must be set");
  return NULL;
}

static bool reserved_name(const char *n) {
  static const char *const r[] = {"ear.status",
                                  "ear.trustworthiness-vector",
                                  "ear.appraisal-policy-id",
                                  "ear.veraison.annotated-evidence",
                                  "ear.veraison.policy-claims",
                                  "ear.veraison.key-attestation",
                                  NULL};
  for (const char *const *p = r; *p; p++)
    if (strcmp(*p, n) == 0) return true;
  return false;
}

tr_err *tr_as_appraisal(const int8_t vec[8], const bool set[8], const char *policy_id, json_t *annotated,
                        const json_t *extensions, json_t **out) {
  *out = NULL;
  int status = 0;
  json_t *tv = json_object();
  json_t *a = json_object();
  if (!tv || !a) {
    json_decref(tv);
    json_decref(a);
    return tr_err_new(TR_E_NOMEM, "out of memory");
  }
  for (int i = 0; i < 8; i++) {
    if (!set[i]) continue;
    json_object_set_new(tv, tr_as_trust_claim_names[i], json_integer(vec[i]));
    int t = tr_as_tier(vec[i]);
    if (t > status) status = t;
  }
  json_object_set_new(a, "ear.status", json_string(tr_as_tier_name(status)));
  json_object_set_new(a, "ear.trustworthiness-vector", tv);
  json_object_set_new(a, "ear.appraisal-policy-id", json_string(policy_id));
  if (annotated && json_object_size(annotated))
    json_object_set(a, "ear.veraison.annotated-evidence", annotated);
  if (extensions && !json_is_null(extensions)) {
    if (!json_is_array(extensions)) {
      json_decref(a);
      return tr_err_new(TR_E_INVALID, "rule `extensions`: expected array, got %s",
                        tr_json_type_name(extensions));
    }
    size_t i;
    json_t *x;
    json_array_foreach(extensions, i, x) {
      json_t *name = json_object_get(x, "name"), *key = json_object_get(x, "key"),
             *val = json_object_get(x, "value");
      const char *why = NULL;
      if (!json_is_object(x))
        why = "expected object {\"name\",\"key\",\"value\"}";
      else if (!json_is_string(name))
        why = "`name` must be a string";
      else if (!json_is_integer(key) || json_integer_value(key) < INT32_MIN ||
               json_integer_value(key) > INT32_MAX)
        why = "`key` must be a 32-bit integer";
      else if (!val)
        why = "missing `value`";
      else if (reserved_name(json_string_value(name)))
        why = "`name` is a reserved appraisal member";
      for (size_t j = 0; j < i && !why; j++) {
        json_t *prev = json_array_get(extensions, j);
        if (strcmp(json_string_value(json_object_get(prev, "name")), json_string_value(name)) == 0)
          why = "duplicate extension name";
        else if (json_integer_value(json_object_get(prev, "key")) == json_integer_value(key))
          why = "duplicate extension key";
      }
      if (why) {
        json_decref(a);
        return tr_err_new(TR_E_INVALID, "rule `extensions`: entry %zu: %s", i, why);
      }
    }
    /* rust-ear keeps extensions in a map ordered by name and leaves out
     * null values when serialising: emit them the same way */
    size_t n = json_array_size(extensions);
    const char **names = malloc((n ? n : 1) * sizeof(*names));
    if (!names) {
      json_decref(a);
      return tr_err_new(TR_E_NOMEM, "out of memory");
    }
    for (i = 0; i < n; i++)
      names[i] = json_string_value(json_object_get(json_array_get(extensions, i), "name"));
    qsort(names, n, sizeof(*names), cmp_str);
    for (i = 0; i < n; i++) {
      json_t *val = NULL;
      for (size_t j = 0; j < n && !val; j++) {
        json_t *x2 = json_array_get(extensions, j);
        if (strcmp(json_string_value(json_object_get(x2, "name")), names[i]) == 0)
          val = json_object_get(x2, "value");
      }
      if (!json_is_null(val) && json_object_set(a, names[i], val)) {
        free(names);
        json_decref(a);
        return tr_err_new(TR_E_NOMEM, "out of memory");
      }
    }
    free(names);
  }
  *out = a;
  return NULL;
}

tr_err *tr_as_qrv_host(void *ctx, json_t *const *args, size_t nargs, json_t **result) {
  *result = NULL;
  if (nargs != 1) return tr_err_new(TR_E_INVALID, "query_reference_value requires exactly one parameter");
  if (!json_is_string(args[0]))
    return tr_err_new(TR_E_TYPE, "query_reference_value parameter must be a string, got %s",
                      tr_json_type_name(args[0]));
  if (!ctx) {
    *result = json_null();
    return NULL;
  }
  json_t *v = NULL;
  tr_err *e = tr_rvps_query((tr_rvps *)ctx, json_string_value(args[0]), &v);
  if (e) return tr_err_wrap(e, "get reference value `%s` from RVPS", json_string_value(args[0]));
  if (!v) {
    TR_DEBUG("as", "no reference value `%s`, using null", json_string_value(args[0]));
    v = json_null();
  }
  *result = v;
  return NULL;
}

/* Evaluates one rule; *val NULL when the rule is absent or undefined. */
static tr_err *eval_rule(const rego_policy *p, const char *path, const rego_eval_opts *o, json_t **val) {
  rego_status st = REGO_UNDEFINED;
  *val = NULL;
  tr_err *e = rego_eval_rule(p, path, o, &st, val);
  if (e) return e;
  if (st != REGO_DEFINED) {
    json_decref(*val);
    *val = NULL;
  }
  return NULL;
}

static tr_err *appraise(tr_as *as, const tr_as_tee_claims *tc, const char *base_id, json_t **out) {
  json_t *input = NULL;
  tr_err *e = tr_as_policy_input(tc, as->cfg.broker.verbose_token, &input);
  if (e) return e;
  char pid[512];
  snprintf(pid, sizeof(pid), "%s_%s", base_id, tc->tee_class);
  tr_as_compiled *c = NULL;
  rego_value *iv = NULL;
  json_t *tcl = NULL, *ext = NULL;
  if ((e = tr_as_policy_acquire(as->policies, pid, &c))) {
    char *plain = NULL;
    tr_err *pe = NULL;
    if (tr_err_code(e) == TR_E_NOTFOUND && !(pe = tr_as_policy_get_text(as->policies, base_id, &plain)))
      e = tr_err_wrap(e,
                      "policy `%s` exists, but the EAR broker evaluates `<policy id>_<tee class>`: "
                      "store it as `%s`",
                      base_id, pid);
    tr_err_free(pe);
    free(plain);
    goto out;
  }
  if ((e = rego_value_from_json(input, &iv))) goto bad_policy;
  rego_host_binding hb = {"query_reference_value", tr_as_qrv_host, as->rvps};
  rego_eval_opts o = {.input_value = iv, .hosts = &hb, .nhosts = 1, .strict_builtin_errors = true};
  if ((e = eval_rule(c->policy, "data.policy.trust_claims", &o, &tcl))) goto bad_policy;
  if ((e = eval_rule(c->policy, "data.policy.extensions", &o, &ext))) goto bad_policy;
  int8_t vec[8];
  bool set[8];
  if (tcl) {
    e = tr_as_trust_vector(tcl, vec, set);
  } else {
    TR_WARN("as", "no trust claims from policy `%s`: all trust vector claims set to 0", pid);
    memset(vec, 0, sizeof(vec));
    for (int i = 0; i < 8; i++)
      set[i] = true;
  }
  if (!e) e = tr_as_appraisal(vec, set, base_id, input, ext, out);
bad_policy:
  /* past the lookup, a failure is the policy's (the server's), not the client's */
  if (e && tr_err_code(e) != TR_E_NOMEM) e = tr_err_recode(e, TR_E_INTERNAL);
out:
  if (e) e = tr_err_wrap(e, "policy `%s`", pid);
  rego_value_free(iv);
  json_decref(tcl);
  json_decref(ext);
  json_decref(input);
  tr_as_policy_release(as->policies, c);
  return e;
}

typedef struct {
  char name[40];
  json_t *appraisal;
} submod;

static int cmp_submod(const void *a, const void *b) {
  return strcmp(((const submod *)a)->name, ((const submod *)b)->name);
}

tr_err *tr_as_ear_issue(tr_as *as, tr_as_tee_claims *tcs, size_t n, const char *const *policy_ids,
                        size_t npolicy_ids, char **token) {
  *token = NULL;
  if (npolicy_ids == 0) return tr_err_new(TR_E_INVALID, "no policy is given for EAR token generation");
  if (npolicy_ids > 1) TR_DEBUG("as", "EAR token only uses the first policy id; the rest are ignored");
  if (n == 0) return tr_err_new(TR_E_INVALID, "no verified claims");
  submod *subs = calloc(n, sizeof(*subs));
  if (!subs) return tr_err_new(TR_E_NOMEM, "out of memory");
  tr_err *e = NULL;
  for (size_t i = 0; i < n && !e; i++) {
    size_t index = 0;
    for (size_t j = 0; j < i; j++)
      if (strcmp(tcs[j].tee_class, tcs[i].tee_class) == 0) index++;
    snprintf(subs[i].name, sizeof(subs[i].name), "%s%zu", tcs[i].tee_class, index);
    e = appraise(as, &tcs[i], policy_ids[0], &subs[i].appraisal);
  }
  json_t *payload = NULL;
  if (!e) {
    qsort(subs, n, sizeof(*subs), cmp_submod);
    json_t *sm = json_object();
    for (size_t i = 0; sm && i < n; i++)
      json_object_set(sm, subs[i].name, subs[i].appraisal);
    int64_t now = (int64_t)time(NULL);
    const tr_as_broker_config *b = &as->cfg.broker;
    payload = sm ? json_pack("{s:s, s:I, s:{s:s, s:s}, s:o, s:I, s:s}", "eat_profile", b->profile_name, "iat",
                             (json_int_t)now, "ear.verifier-id", "developer", b->developer_name, "build",
                             b->build_name, "submods", sm, "exp", (json_int_t)(now + b->duration_min * 60),
                             "iss", b->issuer_name)
                 : NULL;
    char *txt = payload ? tr_json_dump_compact(payload) : NULL;
    if (!txt)
      e = tr_err_new(TR_E_NOMEM, "out of memory");
    else
      e = tr_as_sign_jwt(&as->signer, txt, strlen(txt), token);
    free(txt);
  }
  for (size_t i = 0; i < n; i++)
    json_decref(subs[i].appraisal);
  free(subs);
  json_decref(payload);
  return e;
}
