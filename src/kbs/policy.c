/* policy.c — the resource policy: Rego, rule data.policy.allow, stored in
 * KV namespace `kbs` under `resource-policy.rego` (upstream's layout), the
 * built-in default installed when none is stored. The compiled policy is
 * immutable and shared by all threads; a new one is swapped in under a
 * write lock.
 *
 * The store is the source of truth (replicas share it, docs/ha.md): every
 * evaluation reads the stored text and uses the compiled copy only when the
 * text is byte-identical; otherwise the stored text is compiled, evaluated
 * and becomes the cached copy. So a policy set through another replica is
 * applied on the next request, never a stale one. */
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "kbs/internal.h"
#include "kbs/policies.h"
#include "kv/kv.h"
#include "rego/rego.h"

struct kbs_policy {
  tr_kv *kv;
  pthread_rwlock_t lock;
  rego_policy *compiled;
  char *text; /* the text `compiled` was built from */
  size_t len;
};

static tr_err *compile(const char *text, rego_policy **out) {
  rego_module_src m = {"resource-policy.rego", text};
  return rego_compile(&m, 1, NULL, out);
}

tr_err *kbs_policy_new(tr_kv *kv, kbs_policy **out) {
  kbs_policy *p = calloc(1, sizeof *p);
  if (!p) return tr_err_new(TR_E_NOMEM, "out of memory");
  p->kv = kv;
  pthread_rwlock_init(&p->lock, NULL);
  uint8_t *text = NULL;
  size_t len = 0;
  tr_err *e = tr_kv_get(kv, KBS_NS_POLICY, KBS_POLICY_KEY, &text, &len);
  if (e && tr_err_code(e) == TR_E_NOTFOUND) {
    tr_err_free(e);
    e = tr_kv_set(kv, KBS_NS_POLICY, KBS_POLICY_KEY, KBS_POLICY_DEFAULT, strlen(KBS_POLICY_DEFAULT), false,
                  0);
    if (e && tr_err_code(e) == TR_E_CONFLICT) tr_err_free(e), e = NULL;
    if (!e) e = tr_kv_get(kv, KBS_NS_POLICY, KBS_POLICY_KEY, &text, &len);
  }
  if (!e && strlen((char *)text) != len) e = tr_err_new(TR_E_INVALID, "stored policy contains NUL bytes");
  if (!e) e = compile((char *)text, &p->compiled);
  if (!e) p->text = (char *)text, p->len = len, text = NULL;
  free(text);
  if (e) {
    kbs_policy_free(p);
    return tr_err_wrap(e, "resource policy (namespace `kbs`, key `" KBS_POLICY_KEY "`)");
  }
  *out = p;
  return NULL;
}

void kbs_policy_free(kbs_policy *p) {
  if (!p) return;
  rego_policy_free(p->compiled);
  free(p->text);
  pthread_rwlock_destroy(&p->lock);
  free(p);
}

/* Makes (c, text) the cached copy; the previous one is freed. */
static void install(kbs_policy *p, rego_policy *c, const char *text, size_t len) {
  char *t = malloc(len + 1);
  if (!t) { /* keep the old copy: the next evaluation recompiles */
    rego_policy_free(c);
    return;
  }
  memcpy(t, text, len);
  t[len] = 0;
  pthread_rwlock_wrlock(&p->lock);
  rego_policy *old = p->compiled;
  char *old_text = p->text;
  p->compiled = c;
  p->text = t;
  p->len = len;
  pthread_rwlock_unlock(&p->lock);
  rego_policy_free(old);
  free(old_text);
}

tr_err *kbs_policy_set_text(kbs_policy *p, const char *text, size_t len) {
  if (strlen(text) != len) return tr_err_new(TR_E_INVALID, "policy contains NUL bytes");
  rego_policy *c = NULL;
  tr_err *e = compile(text, &c);
  if (e) return e;
  e = tr_kv_set(p->kv, KBS_NS_POLICY, KBS_POLICY_KEY, text, len, true, 0);
  if (e) {
    rego_policy_free(c);
    return tr_err_wrap(e, "storing the policy");
  }
  install(p, c, text, len);
  return NULL;
}

tr_err *kbs_policy_allow(kbs_policy *p, const json_t *claims, const struct rego_value *claims_value,
                         const json_t *data, bool *allowed, bool *well_formed) {
  *allowed = false;
  *well_formed = false;
  rego_eval_opts o = {
      .input = claims, .input_value = claims_value, .data = data, .strict_builtin_errors = true};
  rego_status st;
  json_t *v = NULL;
  uint8_t *text = NULL;
  size_t len = 0;
  tr_err *e = tr_kv_get(p->kv, KBS_NS_POLICY, KBS_POLICY_KEY, &text, &len);
  if (e) return tr_err_wrap(e, "reading the resource policy (namespace `kbs`, key `" KBS_POLICY_KEY "`)");
  if (strlen((char *)text) != len) {
    free(text);
    return tr_err_new(TR_E_INVALID, "stored resource policy contains NUL bytes");
  }
  pthread_rwlock_rdlock(&p->lock);
  bool same = p->text && p->len == len && memcmp(p->text, text, len) == 0;
  if (same) e = rego_eval_rule(p->compiled, "data.policy.allow", &o, &st, &v);
  pthread_rwlock_unlock(&p->lock);
  if (!same) { /* changed in the store (another replica, or an edit): use the stored text */
    rego_policy *c = NULL;
    e = compile((char *)text, &c);
    if (e) e = tr_err_wrap(e, "stored resource policy does not compile");
    if (!e) e = rego_eval_rule(c, "data.policy.allow", &o, &st, &v);
    if (c) install(p, c, (char *)text, len);
  }
  free(text);
  if (e) return e;
  if (st == REGO_DEFINED && json_is_boolean(v)) {
    *well_formed = true;
    *allowed = json_is_true(v);
  }
  json_decref(v);
  return NULL;
}

tr_err *kbs_policy_list(kbs_policy *p, json_t **ids) {
  char **keys = NULL;
  size_t n = 0;
  tr_err *e = tr_kv_list(p->kv, KBS_NS_POLICY, &keys, &n);
  if (e) return e;
  json_t *a = json_array();
  for (size_t i = 0; i < n; i++) {
    size_t l = strlen(keys[i]);
    if (l > 5 && strcmp(keys[i] + l - 5, ".rego") == 0) l -= 5;
    json_array_append_new(a, json_stringn(keys[i], l));
  }
  tr_kv_keys_free(keys, n);
  *ids = a;
  return NULL;
}
