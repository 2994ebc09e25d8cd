/* request.c — parsing of the AS REST request bodies (see request.h). All
 * input here is untrusted: every field is type-checked, base64 is decoded
 * strictly (alphabet and trailing bits; padding optional), and every error
 * names the field. */
#include "as/request.h"

#include <stdlib.h>
#include <string.h>

#include "core/encoding.h"
#include "core/json.h"

#define B64URL (TR_B64_URL_NOPAD | TR_B64_LAX_PAD)
#define TR_AS_MAX_REQUESTS 64 /* tr_as_evaluate's limit, checked before decoding */
#define TR_AS_MAX_POLICY_IDS 64

void tr_as_parsed_free(tr_as_parsed *p) {
  if (!p) return;
  for (size_t i = 0; i < p->nreqs; i++) {
    json_decref(p->evidence ? p->evidence[i] : NULL);
    if (p->bufs) {
      free(p->bufs[2 * i]);
      free(p->bufs[2 * i + 1]);
    }
  }
  for (size_t i = 0; i < p->npolicy_ids; i++)
    free(p->policy_ids[i]);
  free(p->policy_ids);
  free(p->reqs);
  free(p->evidence);
  free(p->bufs);
  json_decref(p->body);
  free(p);
}

static tr_err *b64_field(const char *label, const char *field, const json_t *v, uint8_t **out, size_t *len) {
  if (!json_is_string(v))
    return tr_err_new(TR_E_INVALID, "field `%s.%s`: expected base64url string, got %s", label, field,
                      tr_json_type_name(v));
  tr_err *e = tr_b64_decode(json_string_value(v), json_string_length(v), B64URL, out, len);
  return e ? tr_err_wrap(tr_err_recode(e, TR_E_INVALID), "field `%s.%s`: base64url decode", label, field)
           : NULL;
}

static tr_err *hash_alg(const json_t *obj, const char *label, const char *field, tr_digest_alg *out) {
  const char *name = NULL;
  tr_err *e = tr_json_opt_string(obj, label, field, &name);
  if (e) return tr_err_recode(e, TR_E_INVALID);
  if (!name) return NULL;
  *out = tr_digest_alg_from_name(name);
  if (!*out)
    return tr_err_new(TR_E_INVALID,
                      "field `%s.%s`: unknown hash algorithm `%.64s` (expected sha256, sha384, "
                      "sha512 or sm3)",
                      label, field, name);
  return NULL;
}

/* The one member of a {"a": ...} / {"b": ...} choice object. */
static tr_err *one_member(const json_t *obj, const char *label, const char *field, const char **key,
                          json_t **val) {
  if (!json_is_object(obj))
    return tr_err_new(TR_E_INVALID, "field `%s.%s`: expected object, got %s", label, field,
                      tr_json_type_name(obj));
  if (json_object_size(obj) != 1)
    return tr_err_new(TR_E_INVALID, "field `%s.%s`: expected exactly one member, got %zu", label, field,
                      json_object_size(obj));
  void *it = json_object_iter((json_t *)obj);
  *key = json_object_iter_key(it);
  *val = json_object_iter_value(it);
  return NULL;
}

static tr_err *parse_one(tr_as_parsed *p, size_t i, const json_t *r, const char *label) {
  tr_as_request *q = &p->reqs[i];
  if (!json_is_object(r))
    return tr_err_new(TR_E_INVALID, "field `%s`: expected object, got %s", label, tr_json_type_name(r));
  tr_err *e = NULL;
  const char *tee = NULL;
  if ((e = tr_json_get_string(r, label, "tee", &tee))) return tr_err_recode(e, TR_E_INVALID);
  q->tee = tee;
  json_t *ev = json_object_get(r, "evidence");
  if (!ev) return tr_err_new(TR_E_INVALID, "field `%s.evidence`: missing", label);
  uint8_t *raw = NULL;
  size_t raw_len = 0;
  if ((e = b64_field(label, "evidence", ev, &raw, &raw_len))) return e;
  e = tr_json_parse((const char *)raw, raw_len, &p->evidence[i]);
  free(raw);
  if (e) return tr_err_wrap(tr_err_recode(e, TR_E_INVALID), "field `%s.evidence`: not JSON", label);
  q->evidence = p->evidence[i];

  json_t *rd = json_object_get(r, "runtime_data");
  if (rd && !json_is_null(rd)) {
    const char *k;
    json_t *v;
    if ((e = one_member(rd, label, "runtime_data", &k, &v))) return e;
    if (strcmp(k, "raw") == 0) {
      if ((e = b64_field(label, "runtime_data.raw", v, &p->bufs[2 * i], &q->runtime_data.raw_len))) return e;
      q->runtime_data.kind = TR_DATA_RAW;
      q->runtime_data.raw = p->bufs[2 * i];
    } else if (strcmp(k, "structured") == 0) {
      q->runtime_data.kind = TR_DATA_STRUCTURED;
      q->runtime_data.structured = v;
    } else {
      return tr_err_new(TR_E_INVALID,
                        "field `%s.runtime_data`: unknown member `%.64s` (expected `raw` or "
                        "`structured`)",
                        label, k);
    }
  }
  json_t *id = json_object_get(r, "init_data");
  if (id && !json_is_null(id)) {
    const char *k;
    json_t *v;
    if ((e = one_member(id, label, "init_data", &k, &v))) return e;
    if (strcmp(k, "init_data_digest") == 0 || strcmp(k, "raw") == 0) {
      char f[48];
      snprintf(f, sizeof(f), "init_data.%s", k);
      if ((e = b64_field(label, f, v, &p->bufs[2 * i + 1], &q->init_data.raw_len))) return e;
      q->init_data.kind = TR_DATA_RAW;
      q->init_data.raw = p->bufs[2 * i + 1];
    } else if (strcmp(k, "init_data_toml") == 0 || (strcmp(k, "structured") == 0 && json_is_string(v))) {
      if (!json_is_string(v))
        return tr_err_new(TR_E_INVALID, "field `%s.init_data.%s`: expected TOML string, got %s", label, k,
                          tr_json_type_name(v));
      q->init_data.kind = TR_DATA_STRUCTURED;
      q->init_data.toml = json_string_value(v);
      if (strlen(q->init_data.toml) != json_string_length(v))
        return tr_err_new(TR_E_INVALID, "field `%s.init_data.%s`: contains NUL", label, k);
    } else if (strcmp(k, "structured") == 0) {
      if (!json_is_object(v))
        return tr_err_new(TR_E_INVALID,
                          "field `%s.init_data.structured`: expected TOML string or JSON object, "
                          "got %s",
                          label, tr_json_type_name(v));
      q->init_data.kind = TR_DATA_STRUCTURED;
      q->init_data.structured = v;
    } else {
      return tr_err_new(TR_E_INVALID,
                        "field `%s.init_data`: unknown member `%.64s` (expected `init_data_digest`, "
                        "`init_data_toml`, `raw` or `structured`)",
                        label, k);
    }
  }
  if ((e = hash_alg(r, label, "runtime_data_hash_algorithm", &q->runtime_data_hash_alg))) return e;
  if ((e = hash_alg(r, label, "init_data_hash_algorithm", &q->init_data_hash_alg))) return e;
  if (!q->runtime_data_hash_alg) q->runtime_data_hash_alg = TR_SHA384;
  if (!q->init_data_hash_alg) q->init_data_hash_alg = TR_SHA384;
  return NULL;
}

static tr_err *alloc_reqs(tr_as_parsed *p, size_t n) {
  p->reqs = calloc(n, sizeof(*p->reqs));
  p->evidence = calloc(n, sizeof(*p->evidence));
  p->bufs = calloc(2 * n, sizeof(*p->bufs));
  if (!p->reqs || !p->evidence || !p->bufs) return tr_err_new(TR_E_NOMEM, "out of memory");
  p->nreqs = n;
  return NULL;
}

static tr_err *parse_policy_ids(tr_as_parsed *p, const json_t *body) {
  json_t *ids = json_object_get(body, "policy_ids");
  if (!ids || json_is_null(ids)) return NULL;
  if (!json_is_array(ids))
    return tr_err_new(TR_E_INVALID, "field `policy_ids`: expected array of strings, got %s",
                      tr_json_type_name(ids));
  size_t n = json_array_size(ids);
  if (n == 0) return NULL;
  /* EAR uses the first; Simple evaluates each (with every reference value) */
  if (n > TR_AS_MAX_POLICY_IDS)
    return tr_err_new(TR_E_INVALID, "field `policy_ids`: at most %d policy ids, got %zu",
                      TR_AS_MAX_POLICY_IDS, n);
  p->policy_ids = calloc(n, sizeof(char *));
  if (!p->policy_ids) return tr_err_new(TR_E_NOMEM, "out of memory");
  for (size_t i = 0; i < n; i++) {
    json_t *v = json_array_get(ids, i);
    if (!json_is_string(v))
      return tr_err_new(TR_E_INVALID, "field `policy_ids[%zu]`: expected string, got %s", i,
                        tr_json_type_name(v));
    p->policy_ids[i] = strdup(json_string_value(v));
    if (!p->policy_ids[i]) return tr_err_new(TR_E_NOMEM, "out of memory");
    p->npolicy_ids = i + 1;
  }
  return NULL;
}

tr_err *tr_as_parse_attestation(const char *body, size_t len, tr_as_parsed **out) {
  *out = NULL;
  tr_as_parsed *p = calloc(1, sizeof(*p));
  if (!p) return tr_err_new(TR_E_NOMEM, "out of memory");
  tr_err *e = tr_json_parse(body, len, &p->body);
  if (e) {
    tr_as_parsed_free(p);
    return tr_err_wrap(tr_err_recode(e, TR_E_INVALID), "request body is not JSON");
  }
  if (!json_is_object(p->body)) {
    e = tr_err_new(TR_E_INVALID, "request body: expected object, got %s", tr_json_type_name(p->body));
    goto fail;
  }
  json_t *vr = json_object_get(p->body, "verification_requests");
  if (vr) {
    if (!json_is_array(vr)) {
      e = tr_err_new(TR_E_INVALID, "field `verification_requests`: expected array, got %s",
                     tr_json_type_name(vr));
      goto fail;
    }
    size_t n = json_array_size(vr);
    if (n == 0) {
      e = tr_err_new(TR_E_INVALID, "field `verification_requests`: no verification requests provided");
      goto fail;
    }
    if (n > TR_AS_MAX_REQUESTS) {
      e = tr_err_new(TR_E_INVALID, "field `verification_requests`: at most %d requests, got %zu",
                     TR_AS_MAX_REQUESTS, n);
      goto fail;
    }
    if ((e = alloc_reqs(p, n))) goto fail;
    for (size_t i = 0; i < n; i++) {
      char label[48];
      snprintf(label, sizeof(label), "verification_requests[%zu]", i);
      if ((e = parse_one(p, i, json_array_get(vr, i), label))) goto fail;
    }
  } else {
    if (!json_object_get(p->body, "tee")) {
      e = tr_err_new(TR_E_INVALID, "request body: missing field `verification_requests` (or `tee` for the "
                                   "single-request shape)");
      goto fail;
    }
    if ((e = alloc_reqs(p, 1))) goto fail;
    if ((e = parse_one(p, 0, p->body, "request"))) goto fail;
  }
  if ((e = parse_policy_ids(p, p->body))) goto fail;
  *out = p;
  return NULL;
fail:
  tr_as_parsed_free(p);
  return e;
}

tr_err *tr_as_parse_set_policy(const char *body, size_t len, char **id, char **text) {
  *id = *text = NULL;
  json_t *b = NULL;
  tr_err *e = tr_json_parse(body, len, &b);
  if (e) return tr_err_wrap(tr_err_recode(e, TR_E_INVALID), "request body is not JSON");
  const char *pid = NULL, *type = NULL;
  json_t *pol = NULL;
  if (!json_is_object(b)) {
    e = tr_err_new(TR_E_INVALID, "request body: expected object, got %s", tr_json_type_name(b));
  } else if ((e = tr_json_get_string(b, NULL, "policy_id", &pid)) ||
             (e = tr_json_opt_string(b, NULL, "type", &type))) {
    e = tr_err_recode(e, TR_E_INVALID);
  } else if (type && strcmp(type, "rego") != 0) {
    e = tr_err_new(TR_E_INVALID, "field `type`: unsupported policy type `%.64s` (expected `rego`)", type);
  } else if (!(pol = json_object_get(b, "policy"))) {
    e = tr_err_new(TR_E_INVALID, "field `policy`: missing");
  } else {
    uint8_t *dec = NULL;
    size_t dlen = 0;
    if (!(e = b64_field("request", "policy", pol, &dec, &dlen))) {
      if (strlen((char *)dec) != dlen) {
        e = tr_err_new(TR_E_INVALID, "field `policy`: decoded policy contains NUL");
        free(dec);
      } else {
        *text = (char *)dec;
        *id = strdup(pid);
        if (!*id) e = tr_err_new(TR_E_NOMEM, "out of memory");
      }
    }
  }
  json_decref(b);
  if (e) {
    free(*id);
    free(*text);
    *id = *text = NULL;
  }
  return e;
}

tr_err *tr_as_parse_challenge(const char *body, size_t len, char **tee, json_t **params) {
  *tee = NULL;
  *params = NULL;
  json_t *b = NULL;
  tr_err *e = tr_json_parse(body, len, &b);
  if (e) return tr_err_wrap(tr_err_recode(e, TR_E_INVALID), "request body is not JSON");
  const char *t = NULL, *tp = NULL;
  if (!json_is_object(b))
    e = tr_err_new(TR_E_INVALID, "request body: expected object, got %s", tr_json_type_name(b));
  else if ((e = tr_json_get_string(b, NULL, "tee", &t)) ||
           (e = tr_json_get_string(b, NULL, "tee_params", &tp)))
    e = tr_err_recode(e, TR_E_INVALID);
  if (!e && !(*tee = strdup(t))) e = tr_err_new(TR_E_NOMEM, "out of memory");
  if (e) {
    json_decref(b);
    return e;
  }
  *params = b;
  return NULL;
}
