/* as_data.c — from the request's runtime data and init data to the expected
 * REPORT_DATA / init-data hash the verifier checks, and to the
 * runtime_data_claims / init_data_claims the policy sees
 * (attestation-service.md §1.2–1.3).
 *
 * Raw runtime data and raw init data (a digest) are used exactly as given,
 * never hashed: every upstream version does this whatever the API comments
 * say. Structured runtime data is canonicalised with RFC 8785 and hashed
 * with the request's algorithm. TOML init data is hashed over its exact text
 * with the algorithm it names, and its `data` table becomes init_data_claims
 * with `cdh.toml`/`aa.toml` parsed and the `policy_data` of `policy.rego`
 * lifted into `agent_policy_claims`. */
#include <stdlib.h>
#include <string.h>

#include "as/as_internal.h"
#include "core/buf.h"
#include "core/jcs.h"
#include "core/json.h"
#include "core/toml.h"

tr_err *tr_as_jcs(const json_t *v, char **out, size_t *len) {
  tr_err *e = tr_jcs(v, out, len);
  return e ? tr_err_wrap(e, "canonicalize JSON (RFC 8785)") : NULL;
}

void tr_as_expected_clear(tr_as_expected_data *e) {
  json_decref(e->claims);
  memset(e, 0, sizeof(*e));
}

static tr_err *digest_into(tr_digest_alg alg, const void *data, size_t len, tr_as_expected_data *out) {
  size_t n = 0;
  tr_err *e = tr_digest(alg ? alg : TR_SHA384, data, len, out->buf, &n);
  if (e) return e;
  out->present = true;
  out->data = out->buf;
  out->len = n;
  return NULL;
}

static tr_err *structured_expected(const json_t *v, tr_digest_alg alg, tr_as_expected_data *out) {
  char *canon = NULL;
  size_t clen = 0;
  tr_err *e = tr_as_jcs(v, &canon, &clen);
  if (e) return e;
  e = digest_into(alg, canon, clen, out);
  free(canon);
  if (e) return e;
  out->claims = json_deep_copy(v);
  return out->claims ? NULL : tr_err_new(TR_E_NOMEM, "out of memory");
}

tr_err *tr_as_runtime_expected(const tr_as_data *d, tr_digest_alg alg, tr_as_expected_data *out) {
  memset(out, 0, sizeof(*out));
  tr_err *e = NULL;
  switch (d ? d->kind : TR_DATA_NONE) {
  case TR_DATA_NONE: break;
  case TR_DATA_RAW:
    out->present = true;
    out->data = d->raw;
    out->len = d->raw_len;
    break;
  case TR_DATA_STRUCTURED:
    if (!d->structured) return tr_err_new(TR_E_INVALID, "structured runtime data: missing JSON value");
    e = structured_expected(d->structured, alg, out);
    if (e) e = tr_err_wrap(e, "structured runtime data");
    break;
  }
  if (!e && !out->claims) out->claims = json_null();
  if (e) tr_as_expected_clear(out);
  return e;
}

/* policy.rego: the JSON after the first "policy_data := {" up to the end of
 * the text (it must be the last thing in the file), or NULL. */
static json_t *extract_policy_data(const char *rego) {
  const char *pat = "policy_data := {";
  const char *at = strstr(rego, pat);
  if (!at) return NULL;
  const char *start = at + strlen(pat) - 1;
  json_error_t je;
  json_t *v = json_loadb(start, strlen(start), JSON_REJECT_DUPLICATES, &je);
  if (v && !json_is_object(v)) {
    json_decref(v);
    v = NULL;
  }
  return v;
}

tr_err *tr_as_init_data_claims(const json_t *data, json_t **claims) {
  *claims = NULL;
  json_t *c = json_deep_copy(data);
  if (!c) return tr_err_new(TR_E_NOMEM, "out of memory");
  static const char *const tomls[] = {"cdh.toml", "aa.toml"};
  for (size_t i = 0; i < 2; i++) {
    json_t *s = json_object_get(c, tomls[i]);
    if (!json_is_string(s)) continue;
    json_t *parsed = NULL;
    tr_err *e = tr_toml_parse(json_string_value(s), json_string_length(s), tomls[i], &parsed, NULL);
    if (e) {
      tr_err_free(e); /* not TOML: kept as the string, as upstream */
      continue;
    }
    json_object_set_new(c, tomls[i], parsed);
  }
  json_t *rego = json_object_get(c, "policy.rego");
  if (json_is_string(rego)) {
    json_t *pd = extract_policy_data(json_string_value(rego));
    if (pd) {
      json_object_del(c, "policy.rego");
      json_object_set_new(c, "agent_policy_claims", pd);
    }
  }
  *claims = c;
  return NULL;
}

static tr_err *toml_expected(const char *text, tr_as_expected_data *out) {
  json_t *doc = NULL;
  tr_err *e = tr_toml_parse(text, strlen(text), "initdata", &doc, NULL);
  if (e) return tr_err_wrap(e, "parse TOML init data");
  const char *version = NULL, *alg_name = NULL;
  json_t *data = NULL;
  if ((e = tr_json_get_string(doc, "initdata", "version", &version)) ||
      (e = tr_json_get_string(doc, "initdata", "algorithm", &alg_name)) ||
      (e = tr_json_get_object(doc, "initdata", "data", &data))) {
    json_decref(doc);
    return e;
  }
  /* serde names are lower case only ("sha384", not "SHA384" or "sha-384") */
  tr_digest_alg alg = tr_digest_alg_from_name(alg_name);
  if (!alg || strcmp(tr_digest_alg_name(alg), alg_name) != 0) {
    e = tr_err_new(TR_E_INVALID,
                   "initdata field `algorithm`: unknown hash algorithm `%s` (expected sha256, "
                   "sha384, sha512 or sm3)",
                   alg_name);
    json_decref(doc);
    return e;
  }
  const char *k;
  json_t *v;
  json_object_foreach(data, k, v) {
    if (!json_is_string(v)) {
      e = tr_err_new(TR_E_INVALID, "initdata field `data.%s`: expected string, got %s", k,
                     tr_json_type_name(v));
      json_decref(doc);
      return e;
    }
  }
  e = digest_into(alg, text, strlen(text), out);
  if (!e) e = tr_as_init_data_claims(data, &out->claims);
  json_decref(doc);
  return e;
}

tr_err *tr_as_init_expected(const tr_as_data *d, tr_digest_alg alg, tr_as_expected_data *out) {
  memset(out, 0, sizeof(*out));
  tr_err *e = NULL;
  switch (d ? d->kind : TR_DATA_NONE) {
  case TR_DATA_NONE: break;
  case TR_DATA_RAW:
    out->present = true;
    out->data = d->raw;
    out->len = d->raw_len;
    break;
  case TR_DATA_STRUCTURED:
    if (d->toml)
      e = toml_expected(d->toml, out);
    else if (d->structured)
      e = structured_expected(d->structured, alg, out);
    else
      e = tr_err_new(TR_E_INVALID, "structured init data: missing TOML text or JSON value");
    if (e) e = tr_err_wrap(e, "init data");
    break;
  }
  if (!e && !out->claims) out->claims = json_null();
  if (e) tr_as_expected_clear(out);
  return e;
}
