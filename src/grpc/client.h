/* client.h — unary gRPC calls on libgrpc's C core API, over a small pool of
 * HTTP/2 connections.
 *
 * Target forms: "host:port", "http://host:port" (plaintext), "https://host:port"
 * (TLS; roots from ca_file, else gRPC's defaults), "dns:///host:port",
 * "unix:/path". The pool holds up to pool_size channels, each its own
 * connection (created on first use). A call takes the first channel with no
 * call in flight, else the least busy one (HTTP/2 multiplexes), so the
 * number of connections follows concurrency up to pool_size, like
 * upstream's mobc pool (max_open = pool_size). Reconnection backoff is short
 * (100 ms initial, 2 s max) so a restarted peer is found again quickly.
 *
 * Errors of a call: "<target> <method>: <STATUS>: <server message>" with the
 * tr_code from tr_grpc_code_from_status (UNAVAILABLE -> TR_E_IO). */
#ifndef TRUSTEE_GRPC_CLIENT_H
#define TRUSTEE_GRPC_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

typedef struct tr_grpc_client tr_grpc_client;

typedef struct {
  const char *target;
  const char *ca_file; /* PEM roots for https:// targets; NULL = defaults */
  size_t pool_size;    /* 0 = 1 */
  int64_t timeout_ms;  /* per call; 0 = 30 s */
  size_t max_message;  /* receive limit; 0 = TR_GRPC_DEFAULT_MAX_MESSAGE */
} tr_grpc_client_config;

tr_err *tr_grpc_client_new(const tr_grpc_client_config *cfg, tr_grpc_client **out);
void tr_grpc_client_free(tr_grpc_client *c);
/* The target as configured (scheme stripped). */
const char *tr_grpc_client_target(const tr_grpc_client *c);

/* One unary call. timeout_ms 0 = the client's. *resp malloc'd (caller frees). */
tr_err *tr_grpc_call(tr_grpc_client *c, const char *method, const uint8_t *req, size_t len,
                     int64_t timeout_ms, uint8_t **resp, size_t *resp_len);

/* Connects the first channel and waits up to timeout_ms for it to be
 * ready: TR_E_IO "<target> is unreachable ..." otherwise. */
tr_err *tr_grpc_client_wait_ready(tr_grpc_client *c, int64_t timeout_ms);

#endif
