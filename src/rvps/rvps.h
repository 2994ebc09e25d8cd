/* rvps.h — the Reference Value Provider Service core, used built-in by the
 * AS and behind the `rvps` gRPC server (docs/rvps.md).
 *
 * Register: a message {"version":"0.1.0","type":<extractor>,"payload":<str>}
 * (the documentation's field name "provenance" is accepted for payload; a
 * missing version means 0.1.0 as upstream, any other version is an error)
 * passes the pre-processor chain, then the extractor named by `type`
 * ("sample" now; "swid"/"corim" are known but not supported yet) turns it
 * into reference values stored as {"version","name","expiration","value"}
 * (key = name) under namespace "reference_value".
 * Query returns the stored `value` of an unexpired entry (expired entries
 * are treated as absent — upstream no longer checks; we do).
 *
 * A tr_rvps is either the local implementation above or a custom one (for
 * instance the gRPC client of src/grpc) plugged in through tr_rvps_ops, so
 * that callers (AS, KBS) use one type. Thread-safe. */
#ifndef TRUSTEE_RVPS_RVPS_H
#define TRUSTEE_RVPS_RVPS_H

#include <jansson.h>
#include <stdint.h>

#include "core/error.h"
#include "kv/kv.h"

typedef struct tr_rvps tr_rvps;

#define TR_RVPS_NAMESPACE "reference_value"
#define TR_RVPS_MESSAGE_VERSION "0.1.0"
#define TR_RVPS_MAX_MESSAGE (64u << 20)

/* Borrowed kv must outlive the RVPS. */
tr_err *tr_rvps_new(tr_kv *kv, tr_rvps **out);
/* Takes ownership of kv (closed with the RVPS, also on error). */
tr_err *tr_rvps_new_owning(tr_kv *kv, tr_rvps **out);
/* From an RVPS config object (NULL or {} = Memory). Accepted shapes:
 *  - documented:  {"store_type":"LocalFs"|"LocalJson"|"Memory"|...,
 *                  "store_config":{"file_path":..}}  (LocalFs: file_path is
 *                  the directory; LocalJson: the single JSON file)
 *  - upstream rvps.json: {"storage":{"storage_type":..,"backends":{..}},
 *                  "extractors":{..}}
 *  - older upstream: {"storage":{"type":"LocalJson","file_path":..}}
 *  - AS rvps_config: {"type":"BuiltIn","storage_type":..} (storage from
 *                  `storage_backend`, see tr_rvps_from_as_config)
 * "GrpcRemote" is not built here (TR_E_UNSUPPORTED): the gRPC module makes
 * that one with tr_rvps_new_custom. */
tr_err *tr_rvps_from_config(const json_t *config, tr_rvps **out);
/* The AS's way: rvps_config (may be NULL = BuiltIn) plus the AS's
 * `storage_backend` object (may be NULL = Memory) that a BuiltIn RVPS shares,
 * with rvps_config.storage_type as the type override. */
tr_err *tr_rvps_from_as_config(const json_t *rvps_config, const json_t *storage_backend, tr_rvps **out);
void tr_rvps_free(tr_rvps *r);

tr_err *tr_rvps_register(tr_rvps *r, const char *message_json, size_t len);
/* *value: new reference, or NULL when unknown/expired (not an error). */
tr_err *tr_rvps_query(tr_rvps *r, const char *name, json_t **value);
/* {name: value, ...} of all unexpired values. New reference. */
tr_err *tr_rvps_query_all(tr_rvps *r, json_t **values);
/* Full stored records [{version,name,expiration,value}], sorted by name,
 * expired ones included (their `expiration` shows it). New reference. */
tr_err *tr_rvps_list(tr_rvps *r, json_t **records);
/* TR_E_NOTFOUND when the name is not stored. */
tr_err *tr_rvps_delete(tr_rvps *r, const char *name);

/* Pure parsing and extraction (no storage): validates the message and runs
 * the pre-processors and the extractor, returning the records
 * [{version,name,expiration,value}] it would store, expiration = now + 12
 * months (`now` in unix seconds). Used by register, the fuzzer and tools. */
tr_err *tr_rvps_extract(const char *message_json, size_t len, int64_t now, json_t **records);

/* RFC 3339 "YYYY-MM-DDTHH:MM:SSZ" as upstream stores `expiration`. */
tr_err *tr_rvps_parse_time(const char *s, int64_t *out);
/* Writes 21 bytes incl. NUL into buf. */
void tr_rvps_format_time(int64_t t, char buf[32]);

/* A custom implementation (e.g. a remote RVPS over gRPC). Operations left
 * NULL fail with TR_E_UNSUPPORTED. `free` (may be NULL) releases state when
 * the tr_rvps is freed. All operations may be called from several threads. */
typedef struct tr_rvps_ops {
  const char *name; /* for messages, e.g. "GrpcRemote" */
  tr_err *(*register_message)(void *state, const char *message_json, size_t len);
  tr_err *(*query)(void *state, const char *name, json_t **value);
  tr_err *(*query_all)(void *state, json_t **values);
  tr_err *(*list)(void *state, json_t **records);
  tr_err *(*del)(void *state, const char *name);
  void (*free)(void *state);
} tr_rvps_ops;
/* ops must outlive the RVPS (usually a static table); takes ownership of
 * state (ops->free is called on it on error too). */
tr_err *tr_rvps_new_custom(const tr_rvps_ops *ops, void *state, tr_rvps **out);

#endif
