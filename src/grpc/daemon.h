/* daemon.h — start-up and shut-down steps shared by the grpc-as, restful-as
 * and rvps daemons (cmd/): building the AS with its RVPS from the AS config,
 * and the signal handling around the serving threads. */
#ifndef TRUSTEE_GRPC_DAEMON_H
#define TRUSTEE_GRPC_DAEMON_H

#include <jansson.h>
#include <signal.h>

#include "as/as.h"
#include "core/error.h"
#include "rvps/rvps.h"

/* Builds the AS from its config (borrowed; NULL = built-in defaults). With
 * rvps_config {"type":"GrpcRemote"} the RVPS is a gRPC client, returned in
 * *remote: the AS borrows it, so free it (tr_rvps_free) after tr_as_free.
 * Otherwise *remote is NULL and the AS builds its own RVPS. On error both
 * outputs are NULL and nothing is left to free. */
tr_err *tr_daemon_as_new(const json_t *config, tr_as **as, tr_rvps **remote);

/* Blocks SIGINT and SIGTERM in the calling thread and ignores SIGPIPE. Call
 * before starting any thread: threads inherit the mask, so the signals stay
 * pending for tr_daemon_wait. *set receives the blocked set. */
void tr_daemon_block_signals(sigset_t *set);

/* Waits for one of the signals in *set and logs, under `name`,
 * "signal N: shutting down". */
void tr_daemon_wait(const sigset_t *set, const char *name);

#endif
