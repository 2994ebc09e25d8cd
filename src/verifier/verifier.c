/* verifier.c — the verified-claims list, the per-TEE padding rule and the
 * lazily instantiated verifier set shared by all threads of one AS.
 *
 * The set creates a verifier the first time its TEE is asked for, under a
 * mutex; afterwards lookups read an array that only grows, so callers hold
 * the lock only for the short search. Verifier state itself is required to
 * be thread-safe (verifier.h). */
#include "verifier/verifier.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

void tr_verified_list_clear(tr_verified_list *l) {
  if (!l) return;
  for (size_t i = 0; i < l->len; i++)
    json_decref(l->items[i].claims);
  free(l->items);
  l->items = NULL;
  l->len = 0;
}

tr_err *tr_verified_list_push(tr_verified_list *l, json_t *claims, const char *tee_class) {
  if (!claims) return tr_err_new(TR_E_INTERNAL, "verifier returned no claims");
  if (!tee_class || !*tee_class || strlen(tee_class) >= sizeof(l->items[0].tee_class)) {
    json_decref(claims);
    return tr_err_new(TR_E_INTERNAL, "invalid TEE class `%s`", tee_class ? tee_class : "");
  }
  tr_verified *n = realloc(l->items, (l->len + 1) * sizeof(*n));
  if (!n) {
    json_decref(claims);
    return tr_err_new(TR_E_NOMEM, "out of memory");
  }
  l->items = n;
  n[l->len].claims = claims;
  strcpy(n[l->len].tee_class, tee_class);
  l->len++;
  return NULL;
}

tr_err *tr_verifier_evaluate_cpu(tr_verifier_check_fn check, const char *context, void *state,
                                 const json_t *evidence, const tr_expected *report_data,
                                 const tr_expected *init_data, tr_verified_list *out) {
  json_t *claims = NULL;
  tr_err *e = check(state, evidence, report_data, init_data, &claims);
  if (e) return tr_err_wrap(e, "%s", context);
  return tr_verified_list_push(out, claims, "cpu");
}

void tr_regularize(const tr_expected *e, uint8_t *out, size_t len) {
  memset(out, 0, len);
  if (!e || !e->present || !e->data) return;
  memcpy(out, e->data, e->len < len ? e->len : len);
}

typedef struct {
  const tr_verifier_ops *ops;
  void *state;
} tr_verifier_inst;

struct tr_verifier_set {
  pthread_mutex_t mu;
  json_t *config; /* verifier_config (own reference) or NULL */
  tr_verifier_inst *insts;
  size_t len;
};

tr_err *tr_verifier_set_new(const json_t *verifier_config, tr_verifier_set **out) {
  *out = NULL;
  if (verifier_config && !json_is_object(verifier_config) && !json_is_null(verifier_config))
    return tr_err_new(TR_E_INVALID, "verifier_config: expected object, got %s",
                      json_is_array(verifier_config) ? "array" : "scalar");
  tr_verifier_set *s = calloc(1, sizeof(*s));
  if (!s) return tr_err_new(TR_E_NOMEM, "out of memory");
  pthread_mutex_init(&s->mu, NULL);
  if (verifier_config && json_is_object(verifier_config)) s->config = json_incref((json_t *)verifier_config);
  *out = s;
  return NULL;
}

tr_err *tr_verifier_set_get(tr_verifier_set *s, const char *tee, const tr_verifier_ops **ops, void **state) {
  const tr_verifier_ops *o = tr_verifier_lookup(tee);
  if (!o) {
    /* Name the supported set so a typo is easy to fix. */
    char names[512] = "";
    size_t used = 0;
    for (const char *const *n = tr_verifier_names(); *n && used < sizeof(names) - 64; n++) {
      int w = snprintf(names + used, sizeof(names) - used, "%s%s", used ? ", " : "", *n);
      if (w > 0) used += (size_t)w;
    }
    return tr_err_new(TR_E_UNSUPPORTED, "unknown or unsupported tee `%.64s%s` (supported: %s)",
                      tee ? tee : "", tee && strlen(tee) > 64 ? "..." : "", names);
  }
  tr_err *err = NULL;
  pthread_mutex_lock(&s->mu);
  for (size_t i = 0; i < s->len; i++) {
    if (s->insts[i].ops == o) {
      *ops = o;
      *state = s->insts[i].state;
      pthread_mutex_unlock(&s->mu);
      return NULL;
    }
  }
  void *st = NULL;
  if (o->create) err = o->create(s->config, &st);
  if (!err) {
    tr_verifier_inst *n = realloc(s->insts, (s->len + 1) * sizeof(*n));
    if (!n) {
      if (o->destroy) o->destroy(st);
      err = tr_err_new(TR_E_NOMEM, "out of memory");
    } else {
      s->insts = n;
      n[s->len].ops = o;
      n[s->len].state = st;
      s->len++;
      *ops = o;
      *state = st;
    }
  } else {
    err = tr_err_wrap(err, "create %s verifier", o->tee);
  }
  pthread_mutex_unlock(&s->mu);
  return err;
}

void tr_verifier_set_free(tr_verifier_set *s) {
  if (!s) return;
  for (size_t i = 0; i < s->len; i++)
    if (s->insts[i].ops->destroy) s->insts[i].ops->destroy(s->insts[i].state);
  free(s->insts);
  json_decref(s->config);
  pthread_mutex_destroy(&s->mu);
  free(s);
}
