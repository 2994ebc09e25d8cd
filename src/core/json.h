/* json.h — jansson helpers: strict parsing, typed getters whose errors name
 * the field ("field `runtime-data.nonce`: expected string, got number"),
 * and compact / key-sorted serialisation.
 *
 * Paths are dot-separated member names relative to the object passed in;
 * `label` (may be NULL) is the path of that object itself, used only to make
 * the message name the full field. Returned pointers are borrowed from the
 * JSON tree (jansson's usual rules): they live as long as the tree. */
#ifndef TRUSTEE_CORE_JSON_H
#define TRUSTEE_CORE_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"

/* Strict: duplicate keys, trailing garbage and NUL bytes in strings are
 * rejected; any JSON value is accepted at top level. *out is a new
 * reference. Errors carry line and column. */
tr_err *tr_json_parse(const char *buf, size_t len, json_t **out);

/* Name of a JSON type for messages: "string", "number", "object", ... */
const char *tr_json_type_name(const json_t *v);

/* Looks up a dotted path; NULL when any segment is missing. Borrowed. */
json_t *tr_json_path(const json_t *root, const char *path);

/* Required getters: missing or wrong type is an error naming the field. */
tr_err *tr_json_get_string(const json_t *obj, const char *label, const char *path, const char **out);
tr_err *tr_json_get_int(const json_t *obj, const char *label, const char *path, int64_t *out);
tr_err *tr_json_get_bool(const json_t *obj, const char *label, const char *path, bool *out);
tr_err *tr_json_get_object(const json_t *obj, const char *label, const char *path, json_t **out);
tr_err *tr_json_get_array(const json_t *obj, const char *label, const char *path, json_t **out);

/* Optional getters: a missing field (or JSON null) leaves *out untouched
 * and succeeds; a present field of the wrong type is an error. */
tr_err *tr_json_opt_string(const json_t *obj, const char *label, const char *path, const char **out);
tr_err *tr_json_opt_int(const json_t *obj, const char *label, const char *path, int64_t *out);
tr_err *tr_json_opt_bool(const json_t *obj, const char *label, const char *path, bool *out);
tr_err *tr_json_opt_object(const json_t *obj, const char *label, const char *path, json_t **out);
tr_err *tr_json_opt_array(const json_t *obj, const char *label, const char *path, json_t **out);

/* Serialisation; caller frees. Compact keeps insertion order; sorted orders
 * keys by byte value (use core/jcs.h for RFC 8785). NULL on OOM. */
char *tr_json_dump_compact(const json_t *v);
char *tr_json_dump_sorted(const json_t *v);
char *tr_json_dump_pretty(const json_t *v);

#endif
