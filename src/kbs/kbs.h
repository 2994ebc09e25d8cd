/* kbs.h — the Key Broker Service as a library (the `kbs` binary is a thin
 * main over it; tests and fuzzers drive kbs_handle directly).
 *
 * kbs_new builds everything from a loaded kbs-config.toml — storage, the
 * built-in Attestation Service (unless `[attestation_service] type = "none"`:
 * resource-only / passport KBS), token verification, admin auth, plugins —
 * and refuses to start on anything it cannot honour, naming it. kbs_start
 * listens; kbs_free stops and releases everything. */
#ifndef TRUSTEE_KBS_KBS_H
#define TRUSTEE_KBS_KBS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"
#include "core/kbs_config.h"
#include "kbs/http.h"

typedef struct kbs kbs;

/* cfg is borrowed and must outlive the kbs. */
tr_err *kbs_new(const tr_kbs_config *cfg, kbs **out);
/* Listens on [http_server] sockets and starts the session cleaner. */
tr_err *kbs_start(kbs *k);
/* Port bound by socket i (after kbs_start). */
unsigned kbs_port(const kbs *k, size_t i);
/* True when the KBS serves no /auth and /attest (passport relying party). */
bool kbs_resource_only(const kbs *k);
void kbs_free(kbs *k);

/* Handles one request (what the HTTP layer calls). */
void kbs_handle(kbs *k, const kbs_http_req *req, kbs_http_resp *resp);

#endif
