/* http.h — the KBS's HTTP(S) front end on libmicrohttpd.
 *
 * One server listens on every configured socket (one MHD daemon per
 * socket, each with a pool of `workers` threads). The server reads the whole
 * request body (up to `max_body` bytes; a bigger body is answered 413 without
 * calling the handler) and then calls the handler once per request with the
 * raw request-target, method, headers and body. The handler fills a response
 * that the server sends and frees.
 *
 * MHD rule respected here: the response is queued on the handler call after
 * the body has been fully received (never on the first call), so keep-alive
 * connections stay open. */
#ifndef TRUSTEE_KBS_HTTP_H
#define TRUSTEE_KBS_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

typedef struct kbs_http_server kbs_http_server;

typedef struct {
  const char *method; /* "GET", "POST", ... */
  const char *uri;    /* raw request-target: path plus "?query" when present */
  const uint8_t *body;
  size_t body_len;
  bool has_content_length;
  size_t content_length;
  void *conn; /* opaque: for kbs_http_header / kbs_http_cookie */
  /* Requests built without a connection (tests, fuzzers): NULL-terminated
   * {name, value, ...} pairs; a cookie is the pair {"Cookie:<name>", value}. */
  const char *const *fake_headers;
} kbs_http_req;

/* Borrowed header / cookie values (valid during the handler call). */
const char *kbs_http_header(const kbs_http_req *req, const char *name);
const char *kbs_http_cookie(const kbs_http_req *req, const char *name);

typedef struct {
  int status;
  const char *content_type; /* static string, or NULL: no Content-Type header */
  uint8_t *body;            /* malloc'd, owned by the response (may be NULL) */
  size_t body_len;
  char *set_cookie; /* malloc'd Set-Cookie value, or NULL */
} kbs_http_resp;

/* Replaces the body (takes ownership of `body`). */
void kbs_http_resp_set(kbs_http_resp *r, int status, const char *content_type, char *body, size_t len);
void kbs_http_resp_clear(kbs_http_resp *r);

typedef void (*kbs_http_handler)(void *ctx, const kbs_http_req *req, kbs_http_resp *resp);
/* Called after every response with its size (for metrics); may be NULL. */
typedef void (*kbs_http_observer)(void *ctx, const kbs_http_req *req, const kbs_http_resp *resp,
                                  double seconds);

typedef struct {
  const char *const *sockets; /* "IP:port" / "[v6]:port"; port 0 = any free port */
  size_t nsockets;
  unsigned workers;     /* threads per socket, >= 1 */
  size_t max_body;      /* bytes */
  const char *cert_pem; /* NULL: plain HTTP */
  const char *key_pem;
  const char *tls_priorities; /* GnuTLS priority string, or NULL for the default */
  kbs_http_handler handler;
  kbs_http_observer observer;
  void *ctx;
} kbs_http_opts;

tr_err *kbs_http_start(const kbs_http_opts *opts, kbs_http_server **out);
/* The port actually bound by socket i (useful with port 0). */
unsigned kbs_http_port(const kbs_http_server *s, size_t i);
void kbs_http_stop(kbs_http_server *s);

/* Parses "IP:port" / "[v6]:port" / "host:port" (host must be an IP
 * literal or "localhost"). */
tr_err *kbs_http_parse_socket(const char *text, char *ip, size_t iplen, unsigned *port, bool *v6);

#endif
