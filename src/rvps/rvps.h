/* rvps.h — the Reference Value Provider Service core, used built-in by the
 * AS and behind the `rvps` gRPC server.
 *
 * Register: a message {"version":"0.1.0","type":<extractor>,"payload":<str>}
 * (the documentation's field name "provenance" is accepted for payload)
 * passes the pre-processor chain, then the extractor named by `type`
 * ("sample" now) turns it into reference values stored as
 * {"version","name","expiration","value"} under namespace "reference_value".
 * Query returns the stored `value` of an unexpired entry. Thread-safe. */
#ifndef TRUSTEE_RVPS_RVPS_H
#define TRUSTEE_RVPS_RVPS_H

#include <jansson.h>

#include "core/error.h"
#include "kv/kv.h"

typedef struct tr_rvps tr_rvps;

/* Borrowed kv must outlive the RVPS. */
tr_err *tr_rvps_new(tr_kv *kv, tr_rvps **out);
/* Takes ownership of kv (closed with the RVPS). */
tr_err *tr_rvps_new_owning(tr_kv *kv, tr_rvps **out);
/* From an RVPS config object: documented shape {"store_type":..,"store_config":{..}}
 * or upstream's {"storage": {...}} / {"type":"BuiltIn", "storage_type":..}. */
tr_err *tr_rvps_from_config(const json_t *config, tr_rvps **out);
void tr_rvps_free(tr_rvps *r);

tr_err *tr_rvps_register(tr_rvps *r, const char *message_json, size_t len);
/* *value: new reference, or NULL when unknown/expired (not an error). */
tr_err *tr_rvps_query(tr_rvps *r, const char *name, json_t **value);
/* {name: value, ...} of all unexpired values. New reference. */
tr_err *tr_rvps_query_all(tr_rvps *r, json_t **values);
/* Full stored records [{version,name,expiration,value}]. */
tr_err *tr_rvps_list(tr_rvps *r, json_t **records);
tr_err *tr_rvps_delete(tr_rvps *r, const char *name);

#endif
