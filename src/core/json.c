#include "core/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

tr_err *tr_json_parse(const char *buf, size_t len, json_t **out) {
  json_error_t jerr;
  json_t *v = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
  if (!v)
    return tr_err_new(TR_E_INVALID, "invalid JSON at line %d column %d: %s", jerr.line, jerr.column,
                      jerr.text);
  *out = v;
  return NULL;
}

const char *tr_json_type_name(const json_t *v) {
  if (!v) return "nothing";
  switch (json_typeof(v)) {
  case JSON_OBJECT: return "object";
  case JSON_ARRAY: return "array";
  case JSON_STRING: return "string";
  case JSON_INTEGER: return "integer";
  case JSON_REAL: return "number";
  case JSON_TRUE:
  case JSON_FALSE: return "boolean";
  case JSON_NULL: return "null";
  }
  return "unknown";
}

json_t *tr_json_path(const json_t *root, const char *path) {
  const json_t *cur = root;
  const char *p = path;
  char seg[256];
  while (cur && *p) {
    const char *dot = strchr(p, '.');
    size_t n = dot ? (size_t)(dot - p) : strlen(p);
    if (n >= sizeof seg || !json_is_object(cur)) return NULL;
    memcpy(seg, p, n);
    seg[n] = 0;
    cur = json_object_get(cur, seg);
    p = dot ? dot + 1 : p + n;
  }
  return (json_t *)cur;
}

static tr_err *field_err(const char *label, const char *path, const char *fmt_tail, const char *a,
                         const char *b) {
  char name[512];
  if (label && *label)
    snprintf(name, sizeof name, "%s.%s", label, path);
  else
    snprintf(name, sizeof name, "%s", path);
  if (b) return tr_err_new(TR_E_INVALID, "field `%s`: expected %s, got %s", name, a, b);
  (void)fmt_tail;
  return tr_err_new(TR_E_INVALID, "field `%s`: %s", name, a);
}

/* Looks up and type-checks; *v NULL with no error means missing (optional). */
static tr_err *lookup(const json_t *obj, const char *label, const char *path, bool required, json_type want,
                      const char *want_name, json_t **v) {
  json_t *f = tr_json_path(obj, path);
  if (!f || json_is_null(f)) {
    *v = NULL;
    if (required) return field_err(label, path, NULL, "missing", NULL);
    return NULL;
  }
  bool ok;
  if (want == JSON_TRUE)
    ok = json_is_boolean(f);
  else
    ok = json_typeof(f) == want;
  if (!ok) return field_err(label, path, NULL, want_name, tr_json_type_name(f));
  *v = f;
  return NULL;
}

#define GETTER(fn, req, jt, tname, ctype, conv)                                                              \
  tr_err *fn(const json_t *obj, const char *label, const char *path, ctype *out) {                           \
    json_t *v = NULL;                                                                                        \
    tr_err *e = lookup(obj, label, path, req, jt, tname, &v);                                                \
    if (e) return e;                                                                                         \
    if (v) *out = conv;                                                                                      \
    return NULL;                                                                                             \
  }

GETTER(tr_json_get_string, true, JSON_STRING, "string", const char *, json_string_value(v))
GETTER(tr_json_opt_string, false, JSON_STRING, "string", const char *, json_string_value(v))
GETTER(tr_json_get_int, true, JSON_INTEGER, "integer", int64_t, (int64_t)json_integer_value(v))
GETTER(tr_json_opt_int, false, JSON_INTEGER, "integer", int64_t, (int64_t)json_integer_value(v))
GETTER(tr_json_get_bool, true, JSON_TRUE, "boolean", bool, json_is_true(v))
GETTER(tr_json_opt_bool, false, JSON_TRUE, "boolean", bool, json_is_true(v))
GETTER(tr_json_get_object, true, JSON_OBJECT, "object", json_t *, v)
GETTER(tr_json_opt_object, false, JSON_OBJECT, "object", json_t *, v)
GETTER(tr_json_get_array, true, JSON_ARRAY, "array", json_t *, v)
GETTER(tr_json_opt_array, false, JSON_ARRAY, "array", json_t *, v)

char *tr_json_dump_compact(const json_t *v) { return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY); }

char *tr_json_dump_sorted(const json_t *v) {
  return json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
}

char *tr_json_dump_pretty(const json_t *v) { return json_dumps(v, JSON_INDENT(2) | JSON_ENCODE_ANY); }
