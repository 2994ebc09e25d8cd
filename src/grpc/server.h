/* server.h — a unary gRPC server on libgrpc's C core API.
 *
 * Design (details at the top of server.c): one completion queue shared by
 * `workers` threads; every method is registered so its request message
 * arrives with the call, and the worker that sees a call runs its handler
 * and sends the answer. At most `workers` handlers run at once; further
 * calls wait inside gRPC. Messages above max_message are refused by gRPC
 * itself with RESOURCE_EXHAUSTED before a handler runs; bytes that do not
 * decode are the handler's INVALID_ARGUMENT. Errors become statuses by
 * tr_grpc_status_from_code with the error chain as the status message.
 *
 * The standard health service grpc.health.v1.Health is built in: Check
 * answers SERVING for "" and every name in health_services, NOT_FOUND for
 * others (as grpc's reference implementation); Watch streams the current
 * status (SERVING or SERVICE_UNKNOWN), keeps the stream open until the
 * client cancels, and on stop sends NOT_SERVING and ends it (UNAVAILABLE).
 *
 * Stop: no new calls, running calls get `grace_ms` to finish, then the rest
 * are cancelled; all threads are joined. */
#ifndef TRUSTEE_GRPC_SERVER_H
#define TRUSTEE_GRPC_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

typedef struct tr_grpc_server tr_grpc_server;

/* A unary method handler: `req` is the raw request message; on success
 * *resp is a malloc'd encoded response (freed by the server; may be empty).
 * Runs on a worker thread; must be thread-safe. */
typedef tr_err *(*tr_grpc_unary_fn)(void *ctx, const uint8_t *req, size_t len, uint8_t **resp,
                                    size_t *resp_len);

typedef struct {
  const char *path; /* "/package.Service/Method" */
  tr_grpc_unary_fn fn;
  void *ctx;
} tr_grpc_method;

typedef struct {
  const char *listen;            /* "127.0.0.1:3000", "[::1]:0", "0.0.0.0:50004"; port 0 = any free port */
  const char *tls_cert;          /* PEM chain file; TLS only when both are set */
  const char *tls_key;           /* PEM private key file */
  size_t max_message;            /* receive limit in bytes; 0 = TR_GRPC_DEFAULT_MAX_MESSAGE */
  unsigned workers;              /* worker threads; 0 = 2 x CPUs (at least 4) */
  const tr_grpc_method *methods; /* copied */
  size_t nmethods;
  const char *const *health_services; /* names reported SERVING (copied) */
  size_t nhealth;
  const char *name; /* for log lines, e.g. "grpc-as" */
} tr_grpc_server_config;

tr_err *tr_grpc_server_start(const tr_grpc_server_config *cfg, tr_grpc_server **out);
/* The bound port (useful with port 0). */
uint16_t tr_grpc_server_port(const tr_grpc_server *s);
/* Graceful stop and free. NULL is a no-op. */
void tr_grpc_server_stop(tr_grpc_server *s, int grace_ms);

/* "host:port" of `listen` with the bound port, e.g. "127.0.0.1:43121". */
void tr_grpc_format_addr(const char *listen, uint16_t port, char *buf, size_t size);

#endif
