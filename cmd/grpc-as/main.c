/* grpc-as — the Attestation Service gRPC server (upstream's flags):
 *
 *   grpc-as [-c CONFIG.json] [-s IP:PORT] [-t CERT.pem -k KEY.pem]
 *           [--jwks-socket IP:PORT|none] [--max-message-size BYTES] [--workers N]
 *
 * Serves attestation.AttestationService, reference.ReferenceValueProviderService
 * (the AS's own RVPS, so KBS -> AS -> RVPS works with one address) and
 * grpc.health.v1.Health on -s (default 127.0.0.1:3000; port 0 = a free port,
 * the "listening on" log line names it). Upstream also answers
 * GET /.well-known/jwks.json on the gRPC port; libgrpc's C core cannot serve
 * HTTP/1.1 there, so the JWKS is on its own HTTP listener: --jwks-socket,
 * default the -s host with the gRPC port + 1 (HTTPS with -t/-k), "none" to
 * disable. With rvps_config {"type":"GrpcRemote"} the RVPS must be reachable
 * at start. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "as/as.h"
#include "as/http_server.h"
#include "core/json.h"
#include "core/log.h"
#include "grpc/config_file.h"
#include "grpc/daemon.h"
#include "grpc/server.h"
#include "grpc/services.h"

static void usage(FILE *f) {
  fprintf(
      f, "usage: grpc-as [-c CONFIG] [-s IP:PORT] [-t HTTPS_CERT -k HTTPS_KEY] [--jwks-socket IP:PORT|none]\n"
         "               [--max-message-size BYTES] [--workers N]\n"
         "  -c, --config-file         AS config.json (default: built-in defaults)\n"
         "  -s, --socket              gRPC address (default 127.0.0.1:3000)\n"
         "  -t, --https-pubkey-cert   PEM certificate chain for TLS\n"
         "  -k, --https-prikey        PEM private key for TLS\n"
         "      --jwks-socket         HTTP address of GET /.well-known/jwks.json\n"
         "                            (default: -s host, gRPC port + 1; `none` disables)\n"
         "      --max-message-size    largest request in bytes (default 16777216)\n"
         "      --workers             concurrent calls (default: 2 x CPUs, at least 4)\n");
}

static void jwks_handler(void *ctx, const tr_http_request *req, tr_http_response *resp) {
  if (strcmp(req->url, "/.well-known/jwks.json") != 0) return tr_http_error(resp, 404, "not found");
  if (strcmp(req->method, "GET") != 0) return tr_http_error(resp, 405, "method not allowed");
  json_t *set = tr_as_jwks(ctx);
  char *body = set ? json_dumps(set, JSON_COMPACT) : NULL;
  json_decref(set);
  if (!body) return tr_http_error(resp, 500, "failed to get JWKS");
  tr_http_reply(resp, 200, "application/json", body);
}

static unsigned long number(const char *opt, const char *v) {
  char *end = NULL;
  unsigned long n = strtoul(v, &end, 10);
  if (!*v || *end || n == 0) {
    fprintf(stderr, "grpc-as: --%s needs a positive number\n", opt);
    exit(2);
  }
  return n;
}

int main(int argc, char **argv) {
  tr_log_init();
  const char *config_path = NULL, *sock = "127.0.0.1:3000", *cert = NULL, *key = NULL, *jwks_sock = NULL;
  unsigned long max_msg = 0, workers = 0;
  static const struct option opts[] = {{"config-file", required_argument, NULL, 'c'},
                                       {"socket", required_argument, NULL, 's'},
                                       {"https-pubkey-cert", required_argument, NULL, 't'},
                                       {"https-prikey", required_argument, NULL, 'k'},
                                       {"jwks-socket", required_argument, NULL, 'J'},
                                       {"max-message-size", required_argument, NULL, 'M'},
                                       {"workers", required_argument, NULL, 'W'},
                                       {"help", no_argument, NULL, 'h'},
                                       {"version", no_argument, NULL, 'V'},
                                       {NULL, 0, NULL, 0}};
  int c;
  while ((c = getopt_long(argc, argv, "c:s:t:k:hV", opts, NULL)) != -1) {
    switch (c) {
    case 'c': config_path = optarg; break;
    case 's': sock = optarg; break;
    case 't': cert = optarg; break;
    case 'k': key = optarg; break;
    case 'J': jwks_sock = optarg; break;
    case 'M': max_msg = number("max-message-size", optarg); break;
    case 'W': workers = number("workers", optarg); break;
    case 'h': usage(stdout); return 0;
    case 'V': printf("grpc-as (trustee-c) 0.1.0\n"); return 0;
    default: usage(stderr); return 2;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "grpc-as: unexpected argument `%s`\n", argv[optind]);
    return 2;
  }
  if ((cert == NULL) != (key == NULL)) {
    fprintf(stderr, "grpc-as: HTTPS public key cert and private key must be provided to enable HTTPS.\n");
    return 2;
  }

  json_t *config = NULL;
  tr_err *e = NULL;
  if (config_path && (e = tr_grpc_read_config(config_path, &config))) {
    fprintf(stderr, "grpc-as: %s\n", tr_err_msg(e));
    tr_err_free(e);
    return 1;
  }
  TR_INFO("grpc-as", config_path ? "using config file %s" : "no config file given: using defaults%s",
          config_path ? config_path : "");
  tr_rvps *remote = NULL;
  tr_as *as = NULL;
  e = tr_daemon_as_new(config, &as, &remote);
  json_decref(config);
  if (e) {
    fprintf(stderr, "grpc-as: %s\n", tr_err_msg(e));
    tr_err_free(e);
    return 1;
  }

  sigset_t set;
  tr_daemon_block_signals(&set);

  tr_grpc_method methods[TR_GRPC_AS_NMETHODS + TR_GRPC_RVPS_NMETHODS];
  tr_grpc_as_methods(as, methods);
  tr_grpc_rvps_methods(tr_as_rvps(as), methods + TR_GRPC_AS_NMETHODS);
  const char *health[] = {TR_GRPC_AS_SERVICE, TR_GRPC_RVPS_SERVICE};
  tr_grpc_server_config sc = {.listen = sock,
                              .tls_cert = cert,
                              .tls_key = key,
                              .max_message = max_msg,
                              .workers = (unsigned)workers,
                              .methods = methods,
                              .nmethods = TR_GRPC_AS_NMETHODS + TR_GRPC_RVPS_NMETHODS,
                              .health_services = health,
                              .nhealth = 2,
                              .name = "grpc-as"};
  tr_grpc_server *srv = NULL;
  tr_http_server *http = NULL;
  int rc = 0;
  if ((e = tr_grpc_server_start(&sc, &srv))) goto fail;
  char where[200];
  tr_grpc_format_addr(sock, tr_grpc_server_port(srv), where, sizeof(where));
  TR_INFO("grpc-as", "listening on %s://%s", cert ? "https" : "http", where);
  if (!jwks_sock || strcmp(jwks_sock, "none") != 0) {
    char def[200];
    uint16_t gp = tr_grpc_server_port(srv);
    if (!jwks_sock) {
      const char *colon = strrchr(sock, ':');
      snprintf(def, sizeof(def), "%.*s:%u", (int)(colon ? colon - sock : (long)strlen(sock)), sock,
               (unsigned)(strcmp(colon ? colon + 1 : "", "0") == 0 ? 0 : gp + 1));
      jwks_sock = def;
    }
    tr_http_config hc = {
        .listen = jwks_sock, .tls_cert = cert, .tls_key = key, .max_body = 4096, .threads = 2};
    if ((e = tr_http_start(&hc, jwks_handler, as, &http))) {
      e = tr_err_wrap(e, "JWKS listener (--jwks-socket %s)", jwks_sock);
      goto fail;
    }
    tr_grpc_format_addr(jwks_sock, tr_http_port(http), where, sizeof(where));
    TR_INFO("grpc-as", "JWKS endpoint available at %s://%s/.well-known/jwks.json", cert ? "https" : "http",
            where);
  }
  tr_daemon_wait(&set, "grpc-as");
  goto done;
fail:
  fprintf(stderr, "grpc-as: %s\n", tr_err_msg(e));
  tr_err_free(e);
  rc = 1;
done:
  tr_http_stop(http);
  tr_grpc_server_stop(srv, 5000);
  tr_as_free(as);
  tr_rvps_free(remote);
  return rc;
}
