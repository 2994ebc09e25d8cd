/* http_server.h — a small HTTP/1.1 server over libmicrohttpd for
 * restful-as (and anything else that wants one): routes are the caller's,
 * this file owns connections, bodies, limits, TLS and CORS.
 *
 * Connections stay alive: the handler runs once per request after the whole
 * body arrived (MHD's second+ access-handler call), never on the first call.
 * Bodies larger than max_body are drained and answered 413 without calling
 * the handler. When cors_origins are configured, a request whose Origin
 * matches one gets Access-Control-Allow-Origin, and OPTIONS preflights are
 * answered 204 (methods GET/POST/DELETE/OPTIONS, headers content-type and
 * authorization, max-age 86400) without calling the handler. */
#ifndef TRUSTEE_AS_HTTP_SERVER_H
#define TRUSTEE_AS_HTTP_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

typedef struct tr_http_server tr_http_server;

typedef struct {
  const char *method; /* "GET", "POST", ... */
  const char *url;    /* path without query string */
  const char *body;   /* NUL-terminated; "" when none */
  size_t body_len;
  void *conn; /* opaque, for tr_http_header */
} tr_http_request;

typedef struct {
  int status;
  const char *content_type; /* static string, NULL = none */
  char *body;               /* malloc'd, freed by the server; NULL = empty */
  size_t body_len;
} tr_http_response;

/* Request header (case-insensitive name) or NULL. */
const char *tr_http_header(const tr_http_request *r, const char *name);

typedef void (*tr_http_handler)(void *ctx, const tr_http_request *req, tr_http_response *resp);

typedef struct {
  const char *listen;   /* "127.0.0.1:8080", "[::1]:8080", "0.0.0.0:0" (0 = any free port) */
  const char *tls_cert; /* PEM chain file; TLS only when both are set */
  const char *tls_key;  /* PEM private key file */
  const char *const *cors_origins;
  size_t ncors;
  size_t max_body;  /* bytes; 0 = 8 MiB */
  unsigned threads; /* I/O (MHD) threads; 0 = number of CPUs */
  /* Handler threads. 0 = the handler runs on the I/O thread that read the
   * request. N > 0 = requests are handed to N handler threads while their
   * connection is suspended, so a handler that blocks (e.g. on a stalled
   * remote RVPS) never stalls the other connections of its I/O thread;
   * requests whose path is in inline_paths (cheap ones such as /healthz)
   * still run on the I/O thread. */
  unsigned handler_threads;
  const char *const *inline_paths; /* NULL-terminated, exact paths */
} tr_http_config;

tr_err *tr_http_start(const tr_http_config *cfg, tr_http_handler h, void *ctx, tr_http_server **out);
/* The bound port (useful with port 0). */
uint16_t tr_http_port(const tr_http_server *s);
void tr_http_stop(tr_http_server *s);

/* Convenience for handlers: sets a JSON error body {"error": msg}. */
void tr_http_error(tr_http_response *resp, int status, const char *msg);
/* Takes ownership of body (may be NULL). */
void tr_http_reply(tr_http_response *resp, int status, const char *content_type, char *body);

#endif
