/* restful-as — the Attestation Service REST server (upstream's flags):
 *
 *   restful-as [-c CONFIG.json] [-s IP:PORT] [-t CERT.pem -k KEY.pem]
 *              [-r ORIGIN[,ORIGIN...]]... [--max-body-size BYTES] [--threads N]
 *              [--handler-threads N]
 *
 * -s defaults to 127.0.0.1:8080; port 0 picks a free port (the log line
 * "listening on ..." names it). TLS is on when both -t and -k are given.
 * -r/--allowed_origin enables CORS for the given http(s):// origins. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "as/as.h"
#include "as/http_api.h"
#include "as/http_server.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/log.h"
#include "grpc/daemon.h"

static void usage(FILE *f) {
  fprintf(f,
          "usage: restful-as [-c CONFIG] [-s IP:PORT] [-t HTTPS_CERT -k HTTPS_KEY] [-r ORIGIN[,ORIGIN]]...\n"
          "                  [--max-body-size BYTES] [--threads N] [--handler-threads N]\n"
          "  -c, --config-file         AS config.json (default: built-in defaults)\n"
          "  -s, --socket              address to listen on (default 127.0.0.1:8080)\n"
          "  -t, --https-pubkey-cert   PEM certificate chain for HTTPS\n"
          "  -k, --https-prikey        PEM private key for HTTPS\n"
          "  -r, --allowed_origin      allowed CORS origin(s), http:// or https://\n"
          "      --max-body-size       request body limit in bytes (default 8388608)\n"
          "      --threads             HTTP I/O threads (default: number of CPUs)\n"
          "      --handler-threads     request handler threads (default: 4 per CPU, at least 8)\n");
}

int main(int argc, char **argv) {
  tr_log_init();
  const char *config_path = NULL, *sock = "127.0.0.1:8080", *cert = NULL, *key = NULL;
  char *origins[64];
  size_t norigins = 0;
  unsigned long max_body = 0, threads = 0, handler_threads = 0;
  static const struct option opts[] = {{"config-file", required_argument, NULL, 'c'},
                                       {"socket", required_argument, NULL, 's'},
                                       {"https-pubkey-cert", required_argument, NULL, 't'},
                                       {"https-prikey", required_argument, NULL, 'k'},
                                       {"allowed_origin", required_argument, NULL, 'r'},
                                       {"allowed-origin", required_argument, NULL, 'r'},
                                       {"max-body-size", required_argument, NULL, 'B'},
                                       {"threads", required_argument, NULL, 'T'},
                                       {"handler-threads", required_argument, NULL, 'H'},
                                       {"help", no_argument, NULL, 'h'},
                                       {"version", no_argument, NULL, 'V'},
                                       {NULL, 0, NULL, 0}};
  int c;
  while ((c = getopt_long(argc, argv, "c:s:t:k:r:hV", opts, NULL)) != -1) {
    switch (c) {
    case 'c': config_path = optarg; break;
    case 's': sock = optarg; break;
    case 't': cert = optarg; break;
    case 'k': key = optarg; break;
    case 'r': {
      char *save = NULL;
      for (char *t = strtok_r(optarg, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        while (*t == ' ')
          t++;
        if (!*t) continue;
        if (strncmp(t, "http://", 7) != 0 && strncmp(t, "https://", 8) != 0) {
          fprintf(stderr, "restful-as: invalid CORS origin `%s`: must start with http:// or https://\n", t);
          return 2;
        }
        if (norigins < 64) origins[norigins++] = t;
      }
      break;
    }
    case 'B':
    case 'T':
    case 'H': {
      char *end = NULL;
      unsigned long v = strtoul(optarg, &end, 10);
      if (!*optarg || *end || v == 0 || (c != 'B' && v > 1024)) {
        fprintf(stderr, "restful-as: --%s needs a positive number%s\n",
                c == 'B'   ? "max-body-size"
                : c == 'T' ? "threads"
                           : "handler-threads",
                c == 'B' ? "" : " (at most 1024)");
        return 2;
      }
      if (c == 'B')
        max_body = v;
      else if (c == 'T')
        threads = v;
      else
        handler_threads = v;
      break;
    }
    case 'h': usage(stdout); return 0;
    case 'V': printf("restful-as (trustee-c) 0.1.0\n"); return 0;
    default: usage(stderr); return 2;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "restful-as: unexpected argument `%s`\n", argv[optind]);
    return 2;
  }
  if ((cert == NULL) != (key == NULL))
    TR_WARN("restful-as", "HTTPS needs both -t and -k; serving plain HTTP");

  json_t *config = NULL;
  if (config_path) {
    uint8_t *text = NULL;
    size_t len = 0;
    tr_err *e = tr_read_file(config_path, 16 << 20, &text, &len);
    if (!e) e = tr_json_parse((const char *)text, len, &config);
    free(text);
    if (e) {
      fprintf(stderr, "restful-as: config `%s`: %s\n", config_path, tr_err_msg(e));
      tr_err_free(e);
      return 1;
    }
    TR_INFO("restful-as", "using config file %s", config_path);
  } else {
    TR_INFO("restful-as", "no config file given: using defaults");
  }
  /* rvps_config GrpcRemote: the RVPS is a gRPC client (src/grpc), handed to
   * the AS, which otherwise builds its built-in one */
  tr_rvps *remote = NULL;
  tr_as *as = NULL;
  tr_err *e = tr_daemon_as_new(config, &as, &remote);
  json_decref(config);
  if (e) {
    fprintf(stderr, "restful-as: %s\n", tr_err_msg(e));
    tr_err_free(e);
    return 1;
  }

  sigset_t set;
  tr_daemon_block_signals(&set);

  /* attestations and policy/RV calls run on handler threads (they may wait
   * on a remote RVPS); health and JWKS answer from the I/O threads */
  static const char *const inline_paths[] = {"/healthz", "/.well-known/jwks.json", NULL};
  if (!handler_threads) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    handler_threads = n > 0 ? (unsigned long)n * 4 : 4;
    if (handler_threads < 8) handler_threads = 8;
  }
  tr_http_config hc = {.listen = sock,
                       .tls_cert = cert && key ? cert : NULL,
                       .tls_key = cert && key ? key : NULL,
                       .cors_origins = (const char *const *)origins,
                       .ncors = norigins,
                       .max_body = max_body,
                       .threads = (unsigned)threads,
                       .handler_threads = (unsigned)handler_threads,
                       .inline_paths = inline_paths};
  tr_http_server *srv = NULL;
  if ((e = tr_http_start(&hc, tr_as_http_handle, as, &srv))) {
    fprintf(stderr, "restful-as: %s\n", tr_err_msg(e));
    tr_err_free(e);
    tr_as_free(as);
    tr_rvps_free(remote);
    return 1;
  }
  char where[160];
  const char *colon = strrchr(sock, ':');
  snprintf(where, sizeof(where), "%.*s:%u", (int)(colon - sock), sock, (unsigned)tr_http_port(srv));
  TR_INFO("restful-as", "listening on %s://%s", hc.tls_cert ? "https" : "http", where);
  tr_daemon_wait(&set, "restful-as");
  tr_http_stop(srv);
  tr_as_free(as);
  tr_rvps_free(remote);
  return 0;
}
