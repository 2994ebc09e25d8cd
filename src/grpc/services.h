/* services.h — the gRPC services trustee-c serves, as method tables for
 * tr_grpc_server (server.h):
 *
 *  attestation.AttestationService (grpc-as): AttestationEvaluate (current
 *    AttestationRequest and the documented older single-request shape, see
 *    tr_grpc_decode_attestation), SetAttestationPolicy, GetAttestationChallenge;
 *  reference.ReferenceValueProviderService (rvps, and grpc-as on the same
 *    port): RegisterReferenceValue, QueryReferenceValue (unset result for
 *    unknown ids), ListReferenceValues, DeleteReferenceValue (NOT_FOUND).
 *
 * The contexts (tr_as, tr_rvps) are borrowed and must outlive the server. */
#ifndef TRUSTEE_GRPC_SERVICES_H
#define TRUSTEE_GRPC_SERVICES_H

#include "as/as.h"
#include "as/request.h"
#include "grpc/server.h"
#include "rvps/rvps.h"

#define TR_GRPC_AS_SERVICE "attestation.AttestationService"
#define TR_GRPC_RVPS_SERVICE "reference.ReferenceValueProviderService"
#define TR_GRPC_AS_NMETHODS 3
#define TR_GRPC_RVPS_NMETHODS 4

void tr_grpc_as_methods(tr_as *as, tr_grpc_method out[TR_GRPC_AS_NMETHODS]);
void tr_grpc_rvps_methods(tr_rvps *rvps, tr_grpc_method out[TR_GRPC_RVPS_NMETHODS]);

/* Decodes an AttestationEvaluate request body (either shape) into parsed AS
 * requests. *legacy tells which shape it was. Malformed bytes and bad
 * fields are TR_E_INVALID naming the field. Used by the service and the
 * fuzz target. */
tr_err *tr_grpc_decode_attestation(const uint8_t *buf, size_t len, tr_as_parsed **out, int *legacy);

#endif
