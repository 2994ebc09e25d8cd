/* rvps — the Reference Value Provider Service gRPC server (upstream's flags):
 *
 *   rvps [-c CONFIG] [-a IP:PORT] [--max-message-size BYTES] [--workers N]
 *
 * Serves reference.ReferenceValueProviderService (Register, Query, List,
 * Delete) and grpc.health.v1.Health on -a (default 127.0.0.1:50003; port 0 =
 * a free port, named by the "listening on" log line). Config: JSON (or TOML
 * by extension), every shape of docs/rvps.md (documented store_type/
 * store_config, upstream's storage, ...). Upstream falls back to Memory when
 * the config cannot be read; we do that only when no -c was given and the
 * default /etc/rvps.json does not exist — a config the operator named and
 * that is broken stops the start (silently losing persistence is worse). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "grpc/config_file.h"
#include "grpc/daemon.h"
#include "grpc/server.h"
#include "grpc/services.h"
#include "rvps/rvps.h"

#define DEFAULT_CONFIG "/etc/rvps.json"

static void usage(FILE *f) {
  fprintf(f, "usage: rvps [-c CONFIG] [-a IP:PORT] [--max-message-size BYTES] [--workers N]\n"
             "  -c, --config            RVPS config (default " DEFAULT_CONFIG "; Memory store when absent)\n"
             "  -a, --address           gRPC address (default 127.0.0.1:50003)\n"
             "      --max-message-size  largest request in bytes (default 16777216)\n"
             "      --workers           concurrent calls (default: 2 x CPUs, at least 4)\n");
}

static unsigned long number(const char *opt, const char *v) {
  char *end = NULL;
  unsigned long n = strtoul(v, &end, 10);
  if (!*v || *end || n == 0) {
    fprintf(stderr, "rvps: --%s needs a positive number\n", opt);
    exit(2);
  }
  return n;
}

int main(int argc, char **argv) {
  tr_log_init();
  const char *config_path = NULL, *addr = "127.0.0.1:50003";
  unsigned long max_msg = 0, workers = 0;
  static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                       {"address", required_argument, NULL, 'a'},
                                       {"max-message-size", required_argument, NULL, 'M'},
                                       {"workers", required_argument, NULL, 'W'},
                                       {"help", no_argument, NULL, 'h'},
                                       {"version", no_argument, NULL, 'V'},
                                       {NULL, 0, NULL, 0}};
  int c;
  while ((c = getopt_long(argc, argv, "c:a:hV", opts, NULL)) != -1) {
    switch (c) {
    case 'c': config_path = optarg; break;
    case 'a': addr = optarg; break;
    case 'M': max_msg = number("max-message-size", optarg); break;
    case 'W': workers = number("workers", optarg); break;
    case 'h': usage(stdout); return 0;
    case 'V': printf("rvps (trustee-c) 0.1.0\n"); return 0;
    default: usage(stderr); return 2;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "rvps: unexpected argument `%s`\n", argv[optind]);
    return 2;
  }
  json_t *config = NULL;
  tr_err *e = NULL;
  if (!config_path && access(DEFAULT_CONFIG, F_OK) != 0) {
    TR_WARN("rvps", "no config file (%s absent): using the Memory store; values are lost on restart",
            DEFAULT_CONFIG);
  } else {
    const char *p = config_path ? config_path : DEFAULT_CONFIG;
    if (!(e = tr_grpc_read_config(p, &config))) TR_INFO("rvps", "using config file %s", p);
  }
  tr_rvps *rvps = NULL;
  if (!e) e = tr_rvps_from_config(config, &rvps);
  json_decref(config);
  if (e) {
    fprintf(stderr, "rvps: %s\n", tr_err_msg(e));
    tr_err_free(e);
    return 1;
  }
  sigset_t set;
  tr_daemon_block_signals(&set);

  tr_grpc_method methods[TR_GRPC_RVPS_NMETHODS];
  tr_grpc_rvps_methods(rvps, methods);
  const char *health[] = {TR_GRPC_RVPS_SERVICE};
  tr_grpc_server_config sc = {.listen = addr,
                              .max_message = max_msg,
                              .workers = (unsigned)workers,
                              .methods = methods,
                              .nmethods = TR_GRPC_RVPS_NMETHODS,
                              .health_services = health,
                              .nhealth = 1,
                              .name = "rvps"};
  tr_grpc_server *srv = NULL;
  if ((e = tr_grpc_server_start(&sc, &srv))) {
    fprintf(stderr, "rvps: %s\n", tr_err_msg(e));
    tr_err_free(e);
    tr_rvps_free(rvps);
    return 1;
  }
  char where[200];
  tr_grpc_format_addr(addr, tr_grpc_server_port(srv), where, sizeof(where));
  TR_INFO("rvps", "listening on http://%s", where);
  tr_daemon_wait(&set, "rvps");
  tr_grpc_server_stop(srv, 5000);
  tr_rvps_free(rvps);
  return 0;
}
