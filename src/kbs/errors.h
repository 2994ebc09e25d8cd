/* errors.h — the KBS error model (upstream kbs/src/error.rs).
 *
 * Every failure answers a compact JSON body
 *   {"type":"https://github.com/confidential-containers/kbs/errors/<Variant>","detail":"<text>"}
 * with status 404 for PluginNotFound / InvalidRequestPath and 401 for every
 * other variant — the guest's client re-attests on 401 and gives up on
 * anything else. trustee-c's deliberate deviations (docs/kbs.md): 400 when a
 * body that must be JSON is not JSON at all, 404 for a resource that does not
 * exist (only after token and policy passed), 413 for an oversized body
 * (answered by the HTTP layer, empty body). `detail` starts with upstream's
 * Display text and then names the precise cause. */
#ifndef TRUSTEE_KBS_ERRORS_H
#define TRUSTEE_KBS_ERRORS_H

#include "core/error.h"
#include "kbs/http.h"

typedef enum {
  KBS_E_ADMIN_AUTH_INITIALIZATION = 0,
  KBS_E_ADMIN_AUTH_ACCESS,
  KBS_E_ATTESTATION,
  KBS_E_INVALID_REQUEST_PATH,
  KBS_E_JWE,
  KBS_E_PLUGIN_NOT_FOUND,
  KBS_E_PLUGIN_INTERNAL,
  KBS_E_POLICY_DENY,
  KBS_E_PARSE_POLICY,
  KBS_E_POLICY_ENGINE,
  KBS_E_RVPS,
  KBS_E_SERDE,
  KBS_E_TOKEN_NOT_FOUND,
  KBS_E_TOKEN_VERIFIER,
  KBS_E_PROMETHEUS,
  KBS_E_RESOURCE_NOT_FOUND, /* trustee-c: PluginInternalError text, status 404 */
} kbs_error_kind;

/* Upstream variant name ("PolicyDeny"). */
const char *kbs_error_variant(kbs_error_kind k);
/* Status for a kind: 404 / 401. */
int kbs_error_status(kbs_error_kind k);

/* Fills resp with the error JSON. `cause` (may be NULL) is appended to the
 * Display text after ": ". status_override 0 = the kind's status. */
void kbs_error_respond(kbs_http_resp *resp, kbs_error_kind k, int status_override, const char *cause);
/* Same, with a formatted cause. */
void kbs_error_respondf(kbs_http_resp *resp, kbs_error_kind k, int status_override, const char *fmt, ...)
    TR_PRINTF(4, 5);
/* Consumes e: its message is the cause. */
void kbs_error_respond_err(kbs_http_resp *resp, kbs_error_kind k, int status_override, tr_err *e);

#endif
