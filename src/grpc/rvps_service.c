/* rvps_service.c — reference.ReferenceValueProviderService over a tr_rvps
 * (served by `rvps`, and by `grpc-as` for its own RVPS). Message prefixes
 * follow upstream ("Register reference value: ..."); statuses follow the
 * error's code instead of upstream's blanket ABORTED. */
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "grpc/reference.pb-c.h"
#include "grpc/rpc.h"
#include "grpc/services.h"

static tr_err *reg(void *ctx, const uint8_t *req, size_t len, uint8_t **resp, size_t *rlen) {
  ProtobufCMessage *m = NULL;
  tr_err *e = tr_grpc_unpack(&reference__reference_value_register_request__descriptor, req, len, &m);
  if (e) return tr_err_wrap(e, "Register reference value");
  {
    const char *msg = ((Reference__ReferenceValueRegisterRequest *)m)->message;
    e = tr_rvps_register(ctx, msg, strlen(msg));
    tr_grpc_msg_free(m);
  }
  if (e) return e; /* the RVPS names the operation */
  Reference__ReferenceValueRegisterResponse r = REFERENCE__REFERENCE_VALUE_REGISTER_RESPONSE__INIT;
  return tr_grpc_pack(&r.base, resp, rlen);
}

static tr_err *query(void *ctx, const uint8_t *req, size_t len, uint8_t **resp, size_t *rlen) {
  ProtobufCMessage *m = NULL;
  json_t *v = NULL;
  tr_err *e = tr_grpc_unpack(&reference__reference_value_query_request__descriptor, req, len, &m);
  if (e) return tr_err_wrap(e, "Query reference value");
  {
    e = tr_rvps_query(ctx, ((Reference__ReferenceValueQueryRequest *)m)->reference_value_id, &v);
    tr_grpc_msg_free(m);
  }
  if (e) return e; /* the RVPS names the operation */
  Reference__ReferenceValueQueryResponse r = REFERENCE__REFERENCE_VALUE_QUERY_RESPONSE__INIT;
  char *text = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
  json_decref(v);
  if (text) r.reference_value_results = text; /* unset (absent) when unknown */
  e = tr_grpc_pack(&r.base, resp, rlen);
  free(text);
  return e;
}

static tr_err *list(void *ctx, const uint8_t *req, size_t len, uint8_t **resp, size_t *rlen) {
  ProtobufCMessage *m = NULL;
  json_t *v = NULL;
  tr_err *e = tr_grpc_unpack(&reference__reference_value_list_request__descriptor, req, len, &m);
  tr_grpc_msg_free(m);
  if (e) return tr_err_wrap(e, "List reference values");
  e = tr_rvps_list(ctx, &v);
  if (e) return e; /* the RVPS names the operation */
  Reference__ReferenceValueListResponse r = REFERENCE__REFERENCE_VALUE_LIST_RESPONSE__INIT;
  char *text = json_dumps(v, JSON_COMPACT);
  json_decref(v);
  if (!text) return tr_err_new(TR_E_NOMEM, "out of memory");
  r.reference_values = text;
  e = tr_grpc_pack(&r.base, resp, rlen);
  free(text);
  return e;
}

static tr_err *del(void *ctx, const uint8_t *req, size_t len, uint8_t **resp, size_t *rlen) {
  ProtobufCMessage *m = NULL;
  tr_err *e = tr_grpc_unpack(&reference__reference_value_delete_request__descriptor, req, len, &m);
  if (e) return tr_err_wrap(e, "Delete reference value");
  {
    e = tr_rvps_delete(ctx, ((Reference__ReferenceValueDeleteRequest *)m)->reference_value_id);
    tr_grpc_msg_free(m);
  }
  if (e) return e; /* the RVPS names the operation */
  Reference__ReferenceValueDeleteResponse r = REFERENCE__REFERENCE_VALUE_DELETE_RESPONSE__INIT;
  return tr_grpc_pack(&r.base, resp, rlen);
}

void tr_grpc_rvps_methods(tr_rvps *rvps, tr_grpc_method out[TR_GRPC_RVPS_NMETHODS]) {
  out[0] = (tr_grpc_method){"/" TR_GRPC_RVPS_SERVICE "/RegisterReferenceValue", reg, rvps};
  out[1] = (tr_grpc_method){"/" TR_GRPC_RVPS_SERVICE "/QueryReferenceValue", query, rvps};
  out[2] = (tr_grpc_method){"/" TR_GRPC_RVPS_SERVICE "/ListReferenceValues", list, rvps};
  out[3] = (tr_grpc_method){"/" TR_GRPC_RVPS_SERVICE "/DeleteReferenceValue", del, rvps};
}
