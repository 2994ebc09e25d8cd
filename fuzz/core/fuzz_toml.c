/* Fuzz: TOML → JSON (toml++ shim) and the kbs-config loader on top. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/kbs_config.h"
#include "core/toml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  json_t *v = NULL, *lines = NULL;
  tr_err *e = tr_toml_parse((const char *)data, size, "fuzz.toml", &v, &lines);
  if (e) {
    tr_err_free(e);
    return 0;
  }
  if (!json_is_object(v) || !json_is_object(lines)) abort();
  json_decref(v);
  json_decref(lines);
  if (memchr(data, 0, size)) return 0;
  char *text = malloc(size + 1);
  if (!text) return 0;
  memcpy(text, data, size);
  text[size] = 0;
  tr_kbs_config *cfg = NULL;
  e = tr_kbs_config_parse(text, "fuzz.toml", &cfg);
  if (e) {
    if (cfg) abort();
    tr_err_free(e);
  } else {
    if (!cfg || cfg->http_server.nsockets == 0) abort();
    tr_kbs_config_free(cfg);
  }
  free(text);
  return 0;
}
