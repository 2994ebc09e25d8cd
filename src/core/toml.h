/* toml.h — TOML text to jansson JSON (toml++ behind one C++ file, toml.cc).
 *
 * Mapping: tables → objects (keys in byte order: toml++
 * keeps tables sorted), arrays → arrays,
 * strings → strings (a string containing U+0000 is rejected, so C code can
 * treat every JSON string as a C string), integers → exact int64 integers,
 * floats → reals (inf/nan are rejected: JSON cannot carry them), booleans →
 * true/false, dates and times → strings in RFC 3339 form as written
 * ("1979-05-27T07:32:00Z", "1979-05-27T00:32:00.999999-07:00",
 * "1979-05-27", "07:32:00"). TOML 1.0 as toml++ 3.3 implements it.
 *
 * Line map: when `lines` is non-NULL it receives an object mapping the path
 * of every key and array element to its 1-based source line. A path is the
 * keys joined by '.', array elements written "[i]": "http_server",
 * "http_server.sockets", "http_server.sockets[0]", "plugins[1]" (the line of
 * that [[plugins]] header), "plugins[1].name". Keys are used verbatim (a key
 * containing '.' makes an ambiguous path; only messages depend on it). */
#ifndef TRUSTEE_CORE_TOML_H
#define TRUSTEE_CORE_TOML_H

#include <jansson.h>
#include <stddef.h>

#include "core/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Parses `len` bytes of TOML. On error (TR_E_INVALID) the message reads
 * "<file_name>:<line>:<column>: <problem>" (file_name NULL → "toml").
 * *out (an object) and *lines are new references. */
tr_err *tr_toml_parse(const char *text, size_t len, const char *file_name, json_t **out, json_t **lines);

/* Line of a path in a line map; 0 when unknown (or lines is NULL). */
int tr_toml_line(const json_t *lines, const char *path);

#ifdef __cplusplus
}
#endif

#endif
