/* config_file.h — reading the JSON (or, by a .toml extension, TOML) config
 * files of grpc-as and rvps, as upstream's `config` crate does by extension. */
#ifndef TRUSTEE_GRPC_CONFIG_FILE_H
#define TRUSTEE_GRPC_CONFIG_FILE_H

#include <jansson.h>

#include "core/error.h"

/* *out: new reference to the top-level object. Errors name the file. */
tr_err *tr_grpc_read_config(const char *path, json_t **out);

#endif
