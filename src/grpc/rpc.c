/* rpc.c — status mapping and protobuf-c helpers (see rpc.h). */
#include "grpc/rpc.h"

#include <protobuf-c/protobuf-c.h>
#include <stdlib.h>

static const char *const status_names[] = {
    "OK",        "CANCELLED",      "UNKNOWN",           "INVALID_ARGUMENT",   "DEADLINE_EXCEEDED",
    "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
    "ABORTED",   "OUT_OF_RANGE",   "UNIMPLEMENTED",     "INTERNAL",           "UNAVAILABLE",
    "DATA_LOSS", "UNAUTHENTICATED"};

const char *tr_grpc_status_name(int status) {
  if (status < 0 || status > TR_GRPC_UNAUTHENTICATED) return "UNKNOWN";
  return status_names[status];
}

/* Where an error is born decides its code; this is the edge where codes
 * become gRPC statuses. */
tr_grpc_status tr_grpc_status_from_code(tr_code code) {
  switch (code) {
  case TR_E_INVALID: return TR_GRPC_INVALID_ARGUMENT;
  case TR_E_NOTFOUND: return TR_GRPC_NOT_FOUND;
  case TR_E_DENIED: return TR_GRPC_PERMISSION_DENIED;
  case TR_E_VERIFY: return TR_GRPC_PERMISSION_DENIED;
  case TR_E_AUTH: return TR_GRPC_UNAUTHENTICATED;
  case TR_E_EXPIRED: return TR_GRPC_FAILED_PRECONDITION;
  case TR_E_CONFLICT: return TR_GRPC_ALREADY_EXISTS;
  case TR_E_UNSUPPORTED: return TR_GRPC_UNIMPLEMENTED;
  case TR_E_LIMIT: return TR_GRPC_RESOURCE_EXHAUSTED;
  case TR_E_NOMEM: return TR_GRPC_RESOURCE_EXHAUSTED;
  case TR_E_IO: return TR_GRPC_UNAVAILABLE;
  case TR_E_CRYPTO: return TR_GRPC_INTERNAL;
  case TR_E_INTERNAL: return TR_GRPC_INTERNAL;
  case TR_E_TYPE: return TR_GRPC_INTERNAL;
  }
  return TR_GRPC_UNKNOWN;
}

/* The reverse, for errors a client receives. Upstream's servers answer
 * ABORTED for every failure (most of them failed verifications). */
tr_code tr_grpc_code_from_status(int status) {
  switch (status) {
  case TR_GRPC_INVALID_ARGUMENT:
  case TR_GRPC_OUT_OF_RANGE: return TR_E_INVALID;
  case TR_GRPC_NOT_FOUND: return TR_E_NOTFOUND;
  case TR_GRPC_PERMISSION_DENIED: return TR_E_DENIED;
  case TR_GRPC_UNAUTHENTICATED: return TR_E_AUTH;
  case TR_GRPC_FAILED_PRECONDITION: return TR_E_EXPIRED;
  case TR_GRPC_ALREADY_EXISTS: return TR_E_CONFLICT;
  case TR_GRPC_UNIMPLEMENTED: return TR_E_UNSUPPORTED;
  case TR_GRPC_RESOURCE_EXHAUSTED: return TR_E_LIMIT;
  case TR_GRPC_ABORTED: return TR_E_VERIFY;
  case TR_GRPC_UNAVAILABLE:
  case TR_GRPC_DEADLINE_EXCEEDED:
  case TR_GRPC_CANCELLED: return TR_E_IO;
  default: return TR_E_INTERNAL;
  }
}

tr_err *tr_grpc_unpack(const ProtobufCMessageDescriptor *d, const uint8_t *buf, size_t len,
                       ProtobufCMessage **out) {
  *out = protobuf_c_message_unpack(d, NULL, len, buf);
  if (!*out) return tr_err_new(TR_E_INVALID, "malformed %s message (%zu bytes)", d->name, len);
  return NULL;
}

void tr_grpc_msg_free(ProtobufCMessage *m) {
  if (m) protobuf_c_message_free_unpacked(m, NULL);
}

tr_err *tr_grpc_pack(const ProtobufCMessage *m, uint8_t **out, size_t *len) {
  size_t n = protobuf_c_message_get_packed_size(m);
  *out = malloc(n ? n : 1);
  if (!*out) return tr_err_new(TR_E_NOMEM, "out of memory");
  *len = protobuf_c_message_pack(m, *out);
  return NULL;
}
