/* kbs_config.c — loader for kbs-config.toml (see kbs_config.h). */
#include "core/kbs_config.h"

#include <stdlib.h>

const char *tr_kbs_kv_type_name(tr_kbs_kv_type t) {
  static const char *const names[] = {"Memory", "LocalJson", "LocalFs", "Postgres", "Redis", "Sqlite"};
  return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : "?";
}

const char *tr_kbs_kv_backend_key(tr_kbs_kv_type t) {
  static const char *const keys[] = {NULL, "local_json", "local_fs", "postgres", "redis", "sqlite"};
  return (unsigned)t < sizeof keys / sizeof keys[0] ? keys[t] : NULL;
}

tr_err *tr_kbs_config_load(const char *path, tr_kbs_config **out) {
  (void)path;
  *out = NULL;
  return tr_err_new(TR_E_UNSUPPORTED, "kbs config loader not implemented yet");
}

tr_err *tr_kbs_config_parse(const char *toml_text, const char *file_name, tr_kbs_config **out) {
  (void)toml_text;
  (void)file_name;
  *out = NULL;
  return tr_err_new(TR_E_UNSUPPORTED, "kbs config loader not implemented yet");
}

void tr_kbs_config_free(tr_kbs_config *cfg) { free(cfg); }
