/* http_api.h — the restful-as REST API over a tr_as (routes of upstream's
 * restful-as plus GET/DELETE /policy/<id> and the reference-value pair), as a tr_http_handler.
 *
 *   POST /attestation            both request shapes (as/request.h) → token text
 *   POST /policy                 {"type"?,"policy_id","policy":b64url} → 200 ""
 *   GET  /policy                 [{"policy-id": id}, ...]
 *   GET  /policy/<id>            the Rego text
 *   DELETE /policy/<id>          200 ""
 *   POST /reference-value        RVPS register message {"version","type","payload"} → 200 ""
 *   GET  /reference-value/<id>   the stored value JSON (404 when unknown)
 *   POST /challenge              {"tee","tee_params"} → challenge text
 *   GET  /.well-known/jwks.json  the token signer's JWKS
 *   GET  /healthz                200 ""
 *
 * Errors are JSON {"error": "<reason chain>"} with a status from the error
 * code (tr_as_http_status). */
#ifndef TRUSTEE_AS_HTTP_API_H
#define TRUSTEE_AS_HTTP_API_H

#include "as/as.h"
#include "as/http_server.h"

/* ctx is the tr_as *. */
void tr_as_http_handle(void *ctx, const tr_http_request *req, tr_http_response *resp);
int tr_as_http_status(const tr_err *e);

#endif
