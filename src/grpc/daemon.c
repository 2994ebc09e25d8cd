/* daemon.c — see daemon.h. */
#include "grpc/daemon.h"

#include <pthread.h>

#include "core/log.h"
#include "grpc/as_client.h"

tr_err *tr_daemon_as_new(const json_t *config, tr_as **as, tr_rvps **remote) {
  *as = NULL;
  *remote = NULL;
  tr_err *e = NULL;
  if (config && tr_grpc_rvps_config_is_remote(config))
    e = tr_grpc_rvps_from_as_config(json_object_get(config, "rvps_config"), remote);
  if (!e) {
    tr_as_shared sh = {.rvps = *remote};
    e = tr_as_new_shared(config, &sh, as);
  }
  if (e) {
    tr_rvps_free(*remote);
    *remote = NULL;
  }
  return e;
}

void tr_daemon_block_signals(sigset_t *set) {
  sigemptyset(set);
  sigaddset(set, SIGINT);
  sigaddset(set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, set, NULL); /* worker threads inherit the mask */
  signal(SIGPIPE, SIG_IGN);
}

void tr_daemon_wait(const sigset_t *set, const char *name) {
  int sig = 0;
  sigwait(set, &sig);
  TR_INFO(name, "signal %d: shutting down", sig);
}
