/* rpc.h — what the gRPC server and client share: status codes, the mapping
 * between tr_err codes and gRPC statuses, and protobuf-c pack/unpack helpers
 * that turn malformed bytes into TR_E_INVALID errors naming the message.
 * The tr_code <-> status table is in rpc.c and docs/grpc.md. */
#ifndef TRUSTEE_GRPC_RPC_H
#define TRUSTEE_GRPC_RPC_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

/* gRPC status codes (same numbers as grpc_status_code). */
typedef enum {
  TR_GRPC_OK = 0,
  TR_GRPC_CANCELLED = 1,
  TR_GRPC_UNKNOWN = 2,
  TR_GRPC_INVALID_ARGUMENT = 3,
  TR_GRPC_DEADLINE_EXCEEDED = 4,
  TR_GRPC_NOT_FOUND = 5,
  TR_GRPC_ALREADY_EXISTS = 6,
  TR_GRPC_PERMISSION_DENIED = 7,
  TR_GRPC_RESOURCE_EXHAUSTED = 8,
  TR_GRPC_FAILED_PRECONDITION = 9,
  TR_GRPC_ABORTED = 10,
  TR_GRPC_OUT_OF_RANGE = 11,
  TR_GRPC_UNIMPLEMENTED = 12,
  TR_GRPC_INTERNAL = 13,
  TR_GRPC_UNAVAILABLE = 14,
  TR_GRPC_DATA_LOSS = 15,
  TR_GRPC_UNAUTHENTICATED = 16,
} tr_grpc_status;

/* "INVALID_ARGUMENT", ... ("UNKNOWN" for out-of-range values). */
const char *tr_grpc_status_name(int status);
tr_grpc_status tr_grpc_status_from_code(tr_code code);
tr_code tr_grpc_code_from_status(int status);

/* Default maximum message size, both directions (16 MiB). */
#define TR_GRPC_DEFAULT_MAX_MESSAGE (16u << 20)

/* Opaque protobuf-c types, so that users of this header need not include
 * protobuf-c. */
struct ProtobufCMessage;
struct ProtobufCMessageDescriptor;

/* Unpacks `len` bytes as message `d`; malformed input -> TR_E_INVALID
 * "malformed <full name> message". Free with tr_grpc_msg_free. */
tr_err *tr_grpc_unpack(const struct ProtobufCMessageDescriptor *d, const uint8_t *buf, size_t len,
                       struct ProtobufCMessage **out);
void tr_grpc_msg_free(struct ProtobufCMessage *m);
/* Packs into a new malloc'd buffer (*len may be 0; *out is never NULL on success). */
tr_err *tr_grpc_pack(const struct ProtobufCMessage *m, uint8_t **out, size_t *len);

#endif
