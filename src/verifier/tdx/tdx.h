/* tdx.h — upstream's TDX claims (tdx/claims.rs), shared by the `tdx` and
 * `az-tdx-vtpm` verifiers. */
#ifndef TRUSTEE_VERIFIER_TDX_H
#define TRUSTEE_VERIFIER_TDX_H

#include <jansson.h>

#include "verifier/dcap/dcap.h"

/* {"quote":{"header","body"[,"type","size"]}, "td_attributes", "report_data",
 * "init_data"[, "platform_instance_id"][, "uefi_event_logs"]} for a TD quote
 * (v4/v5). event_log (may be NULL) is the parsed log's entry array; it is
 * copied. NULL on allocation failure. */
json_t *tr_tdx_claims(const tr_dcap_quote *q, const json_t *event_log, const tr_dcap_platform *p);

#endif
