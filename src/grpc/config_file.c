/* config_file.c — see config_file.h. */
#include "grpc/config_file.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/json.h"
#include "core/toml.h"

tr_err *tr_grpc_read_config(const char *path, json_t **out) {
  *out = NULL;
  uint8_t *text = NULL;
  size_t len = 0;
  tr_err *e = tr_read_file(path, 16 << 20, &text, &len);
  size_t pl = strlen(path);
  if (!e) {
    if (pl > 5 && strcmp(path + pl - 5, ".toml") == 0) {
      json_t *lines = NULL;
      e = tr_toml_parse((const char *)text, len, path, out, &lines);
      json_decref(lines);
    } else {
      e = tr_json_parse((const char *)text, len, out);
    }
  }
  free(text);
  if (!e && !json_is_object(*out)) e = tr_err_new(TR_E_INVALID, "expected an object at the top level");
  if (e) {
    json_decref(*out);
    *out = NULL;
    return tr_err_wrap(e, "config `%s`", path);
  }
  return NULL;
}
