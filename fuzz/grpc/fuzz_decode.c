/* fuzz_decode.c — the gRPC request decoding path of grpc-as and rvps:
 * AttestationEvaluate bodies in both shapes (wire-level shape detection,
 * protobuf-c unpacking, conversion to the AS request and its parser), and
 * the other request messages the services unpack. Must never crash or leak;
 * every failure must be a TR_E_INVALID-class error. */
#include <protobuf-c/protobuf-c.h>
#include <stdint.h>
#include <stdlib.h>

#include "grpc/attestation.pb-c.h"
#include "grpc/reference.pb-c.h"
#include "grpc/rpc.h"
#include "grpc/services.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  tr_as_parsed *p = NULL;
  int legacy = 0;
  tr_err *e = tr_grpc_decode_attestation(data, size, &p, &legacy);
  if (e) {
    tr_code c = tr_err_code(e);
    if (c != TR_E_INVALID && c != TR_E_LIMIT && c != TR_E_NOMEM) abort();
    tr_err_free(e);
  }
  tr_as_parsed_free(p);
  static const ProtobufCMessageDescriptor *const others[] = {
      &attestation__set_policy_request__descriptor, &attestation__challenge_request__descriptor,
      &reference__reference_value_register_request__descriptor,
      &reference__reference_value_query_request__descriptor,
      &reference__reference_value_delete_request__descriptor};
  for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
    ProtobufCMessage *m = NULL;
    e = tr_grpc_unpack(others[i], data, size, &m);
    tr_err_free(e);
    tr_grpc_msg_free(m);
  }
  return 0;
}
