/* rvps.c — the tr_rvps object: a local implementation over a tr_kv store
 * (namespace "reference_value", key = name, value = the JSON record) or a
 * custom one behind tr_rvps_ops. Concurrency is the store's: each stored
 * record is written with one atomic set, so concurrent registrations never
 * lose an update (the last writer of a name wins, every other name stays). */
#include "rvps/rvps.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/json.h"
#include "core/log.h"

struct tr_rvps {
  const tr_rvps_ops *ops;
  void *state;
};

typedef struct {
  tr_kv *kv;
  bool owns_kv;
} local;

static tr_err *local_register(void *state, const char *msg, size_t len) {
  local *l = state;
  json_t *recs;
  tr_err *e = tr_rvps_extract(msg, len, (int64_t)time(NULL), &recs);
  if (e) return e;
  size_t i;
  json_t *rec;
  json_array_foreach(recs, i, rec) {
    const char *name = json_string_value(json_object_get(rec, "name"));
    char *text = tr_json_dump_compact(rec);
    if (!text) {
      e = tr_err_new(TR_E_NOMEM, "out of memory");
      break;
    }
    e = tr_kv_set(l->kv, TR_RVPS_NAMESPACE, name, text, strlen(text), true, 0);
    free(text);
    if (e) {
      e = tr_err_wrap(e, "store reference value `%s`", name);
      break;
    }
    TR_DEBUG("rvps", "registered reference value %s", name);
  }
  json_decref(recs);
  return e;
}

/* Loads a stored record; *rec NULL when absent. */
static tr_err *load_record(local *l, const char *name, json_t **rec) {
  *rec = NULL;
  uint8_t *data;
  size_t n;
  tr_err *e = tr_kv_get(l->kv, TR_RVPS_NAMESPACE, name, &data, &n);
  if (e && tr_err_code(e) == TR_E_NOTFOUND) {
    tr_err_free(e);
    return NULL;
  }
  if (e) return e;
  json_t *r;
  e = tr_json_parse((const char *)data, n, &r);
  free(data);
  if (e) return tr_err_wrap(e, "stored reference value `%s` is corrupt", name);
  const char *exp;
  json_t *value = json_object_get(r, "value");
  e = tr_json_get_string(r, "reference value", "expiration", &exp);
  if (!e && !value) e = tr_err_new(TR_E_INVALID, "field `reference value.value`: missing");
  if (e) {
    json_decref(r);
    return tr_err_wrap(e, "stored reference value `%s` is corrupt", name);
  }
  *rec = r;
  return NULL;
}

static bool record_expired(const json_t *rec, int64_t now) {
  int64_t t;
  tr_err *e = tr_rvps_parse_time(json_string_value(json_object_get(rec, "expiration")), &t);
  if (e) {
    tr_err_free(e);
    return true; /* unreadable expiration: never trust it */
  }
  return now > t; /* upstream's expired(): now > expiration */
}

static tr_err *local_query(void *state, const char *name, json_t **value) {
  *value = NULL;
  tr_err *e = tr_kv_check_key(name);
  if (e) {
    /* A name that cannot be stored cannot be found: absent, not an error. */
    tr_err_free(e);
    return NULL;
  }
  json_t *rec;
  e = load_record(state, name, &rec);
  if (e || !rec) return e;
  if (record_expired(rec, (int64_t)time(NULL))) {
    TR_WARN("rvps", "reference value %s expired or has an unreadable expiration (%s); treated as absent",
            name, json_string_value(json_object_get(rec, "expiration")));
  } else {
    *value = json_incref(json_object_get(rec, "value"));
  }
  json_decref(rec);
  return NULL;
}

static tr_err *local_list(void *state, json_t **records) {
  local *l = state;
  *records = NULL;
  char **keys;
  size_t n;
  tr_err *e = tr_kv_list(l->kv, TR_RVPS_NAMESPACE, &keys, &n);
  if (e) return e;
  json_t *arr = json_array();
  if (!arr) e = tr_err_new(TR_E_NOMEM, "out of memory");
  for (size_t i = 0; !e && i < n; i++) {
    json_t *rec;
    e = load_record(l, keys[i], &rec);
    if (!e && rec) json_array_append_new(arr, rec); /* deleted meanwhile: skipped */
  }
  tr_kv_keys_free(keys, n);
  if (e) {
    json_decref(arr);
    return e;
  }
  *records = arr;
  return NULL;
}

static tr_err *local_query_all(void *state, json_t **values) {
  *values = NULL;
  json_t *recs;
  tr_err *e = local_list(state, &recs);
  if (e) return e;
  json_t *out = json_object();
  int64_t now = (int64_t)time(NULL);
  size_t i;
  json_t *rec;
  json_array_foreach(recs, i, rec) {
    if (record_expired(rec, now)) continue;
    json_object_set(out, json_string_value(json_object_get(rec, "name")), json_object_get(rec, "value"));
  }
  json_decref(recs);
  *values = out;
  return out ? NULL : tr_err_new(TR_E_NOMEM, "out of memory");
}

static tr_err *local_del(void *state, const char *name) {
  local *l = state;
  tr_err *e = tr_kv_delete(l->kv, TR_RVPS_NAMESPACE, name);
  if (e && tr_err_code(e) == TR_E_NOTFOUND) {
    tr_err_free(e);
    return tr_err_new(TR_E_NOTFOUND, "reference value `%.128s` not found", name);
  }
  return e;
}

static void local_free(void *state) {
  local *l = state;
  if (l->owns_kv) tr_kv_close(l->kv);
  free(l);
}

static const tr_rvps_ops local_ops = {
    .name = "BuiltIn",
    .register_message = local_register,
    .query = local_query,
    .query_all = local_query_all,
    .list = local_list,
    .del = local_del,
    .free = local_free,
};

tr_err *tr_rvps_new_custom(const tr_rvps_ops *ops, void *state, tr_rvps **out) {
  *out = NULL;
  tr_rvps *r = calloc(1, sizeof *r);
  if (!r) {
    if (ops->free) ops->free(state);
    return tr_err_new(TR_E_NOMEM, "out of memory");
  }
  r->ops = ops;
  r->state = state;
  *out = r;
  return NULL;
}

static tr_err *new_local(tr_kv *kv, bool owns, tr_rvps **out) {
  *out = NULL;
  if (!kv) return tr_err_new(TR_E_INVALID, "rvps: no store");
  local *l = calloc(1, sizeof *l);
  if (!l) {
    if (owns) tr_kv_close(kv);
    return tr_err_new(TR_E_NOMEM, "out of memory");
  }
  l->kv = kv;
  l->owns_kv = owns;
  return tr_rvps_new_custom(&local_ops, l, out);
}

tr_err *tr_rvps_new(tr_kv *kv, tr_rvps **out) { return new_local(kv, false, out); }
tr_err *tr_rvps_new_owning(tr_kv *kv, tr_rvps **out) { return new_local(kv, true, out); }

void tr_rvps_free(tr_rvps *r) {
  if (!r) return;
  if (r->ops->free) r->ops->free(r->state);
  free(r);
}

static tr_err *unsupported(const tr_rvps *r, const char *what) {
  return tr_err_new(TR_E_UNSUPPORTED, "%s RVPS does not support %s", r->ops->name ? r->ops->name : "this",
                    what);
}

tr_err *tr_rvps_register(tr_rvps *r, const char *message_json, size_t len) {
  if (!r->ops->register_message) return unsupported(r, "register");
  return tr_err_wrap(
      r->ops->register_message(r->state, message_json ? message_json : "", message_json ? len : 0),
      "register reference value");
}

tr_err *tr_rvps_query(tr_rvps *r, const char *name, json_t **value) {
  *value = NULL;
  if (!r->ops->query) return unsupported(r, "query");
  return tr_err_wrap(r->ops->query(r->state, name ? name : "", value), "query reference value");
}

tr_err *tr_rvps_query_all(tr_rvps *r, json_t **values) {
  *values = NULL;
  if (!r->ops->query_all) return unsupported(r, "query all");
  return tr_err_wrap(r->ops->query_all(r->state, values), "query reference values");
}

tr_err *tr_rvps_list(tr_rvps *r, json_t **records) {
  *records = NULL;
  if (!r->ops->list) return unsupported(r, "list");
  return tr_err_wrap(r->ops->list(r->state, records), "list reference values");
}

tr_err *tr_rvps_delete(tr_rvps *r, const char *name) {
  if (!r->ops->del) return unsupported(r, "delete");
  return tr_err_wrap(r->ops->del(r->state, name ? name : ""), "delete reference value");
}
