/* kbs — the Key Broker Service.
 *
 *   kbs --config-file FILE      (or -c FILE, or KBS_CONFIG_FILE=FILE)
 *
 * Runs until SIGINT/SIGTERM. Exit status 1 when the configuration cannot be
 * honoured (the message names what). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/kbs_config.h"
#include "core/log.h"
#include "kbs/kbs.h"

static void usage(FILE *f) {
  fprintf(f, "Usage: kbs [--config-file FILE]\n"
             "\n"
             "Key Broker Service (trustee-c). The configuration is upstream's kbs-config.toml\n"
             "(TOML, or JSON when the name ends in .json); KBS_CONFIG_FILE is used when\n"
             "--config-file is not given. See docs/kbs.md.\n");
}

int main(int argc, char **argv) {
  tr_log_init();
  const char *path = getenv("KBS_CONFIG_FILE");
  for (int i = 1; i < argc; i++) {
    if ((strcmp(argv[i], "--config-file") == 0 || strcmp(argv[i], "-c") == 0) && i + 1 < argc) {
      path = argv[++i];
    } else if (strncmp(argv[i], "--config-file=", 14) == 0) {
      path = argv[i] + 14;
    } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
      usage(stdout);
      return 0;
    } else if (strcmp(argv[i], "-V") == 0 || strcmp(argv[i], "--version") == 0) {
      printf("kbs (trustee-c) 0.1.0\n");
      return 0;
    } else {
      fprintf(stderr, "kbs: unexpected argument `%s`\n", argv[i]);
      usage(stderr);
      return 2;
    }
  }
  if (!path || !*path) {
    fprintf(stderr, "kbs: no configuration: pass --config-file FILE or set KBS_CONFIG_FILE\n");
    return 2;
  }
  tr_kbs_config *cfg = NULL;
  tr_err *e = tr_kbs_config_load(path, &cfg);
  if (e) {
    fprintf(stderr, "kbs: %s\n", tr_err_msg(e));
    tr_err_free(e);
    return 1;
  }
  for (size_t i = 0; i < cfg->nwarnings; i++)
    TR_WARN("kbs", "%s", cfg->warnings[i]);
  /* Signals are taken synchronously by this thread; block them before any
   * worker thread starts so those inherit the mask. */
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, NULL);
  signal(SIGPIPE, SIG_IGN);
  kbs *k = NULL;
  e = kbs_new(cfg, &k);
  if (!e) e = kbs_start(k);
  if (e) {
    fprintf(stderr, "kbs: %s\n", tr_err_msg(e));
    tr_err_free(e);
    kbs_free(k);
    tr_kbs_config_free(cfg);
    return 1;
  }
  for (size_t i = 0; i < cfg->http_server.nsockets; i++)
    TR_INFO("kbs", "listening on %s://%s (port %u)%s", cfg->http_server.insecure_http ? "http" : "https",
            cfg->http_server.sockets[i], kbs_port(k, i),
            kbs_resource_only(k) ? " — resource-only (passport) KBS" : "");
  int sig = 0;
  sigwait(&set, &sig);
  TR_INFO("kbs", "signal %d: shutting down", sig);
  kbs_free(k);
  tr_kbs_config_free(cfg);
  return 0;
}
