/* rvps_config.c — the RVPS configuration shapes (documented, upstream's
 * rvps.json, older upstream, and the AS's rvps_config), all mapped onto one
 * tr_kv store. See docs/rvps.md for the table. */
#include <string.h>

#include "core/json.h"
#include "core/log.h"
#include "rvps/rvps.h"

/* {"store_type": T, "store_config": {...}} or {"type": T, ...flat config}. */
static tr_err *open_documented(const char *type, const json_t *store_config, tr_rvps **out) {
  json_t *cfg = store_config ? json_deep_copy(store_config) : json_object();
  if (!cfg) return tr_err_new(TR_E_NOMEM, "out of memory");
  json_object_del(cfg, "type");
  /* The documented LocalFs `file_path` names the store's directory. */
  bool fs = !strcmp(type, "LocalFs") || !strcmp(type, "local_fs");
  json_t *fp = json_object_get(cfg, "file_path");
  if (fs && fp && !json_object_get(cfg, "dir_path")) json_object_set(cfg, "dir_path", fp);
  tr_kv *kv;
  tr_err *e = tr_kv_open(type, cfg, &kv);
  json_decref(cfg);
  if (e) return e;
  return tr_rvps_new_owning(kv, out);
}

static tr_err *open_storage_backend(const json_t *sb, const char *override, tr_rvps **out) {
  tr_kv *kv;
  tr_err *e = tr_kv_open_storage_backend(sb, override, &kv);
  if (e) return e;
  return tr_rvps_new_owning(kv, out);
}

static tr_err *from_as(const json_t *rc, const json_t *storage_backend, tr_rvps **out) {
  const char *type = "BuiltIn", *store_type = NULL, *override = NULL;
  json_t *store_config = NULL;
  tr_err *e;
  if ((e = tr_json_opt_string(rc, "rvps_config", "type", &type)) ||
      (e = tr_json_opt_string(rc, "rvps_config", "store_type", &store_type)) ||
      (e = tr_json_opt_object(rc, "rvps_config", "store_config", &store_config)) ||
      (e = tr_json_opt_string(rc, "rvps_config", "storage_type", &override)))
    return e;
  if (!strcmp(type, "GrpcRemote"))
    return tr_err_new(TR_E_UNSUPPORTED,
                      "rvps_config: type GrpcRemote is served by the gRPC client, not here");
  if (strcmp(type, "BuiltIn") != 0)
    return tr_err_new(TR_E_INVALID,
                      "field `rvps_config.type`: unknown RVPS type `%s` (BuiltIn or GrpcRemote)", type);
  if (store_type) return open_documented(store_type, store_config, out);
  return open_storage_backend(storage_backend, override, out);
}

tr_err *tr_rvps_from_as_config(const json_t *rvps_config, const json_t *storage_backend, tr_rvps **out) {
  *out = NULL;
  if (rvps_config && !json_is_object(rvps_config))
    return tr_err_new(TR_E_INVALID, "rvps_config: expected object, got %s", tr_json_type_name(rvps_config));
  if (!rvps_config) return open_storage_backend(storage_backend, NULL, out);
  return tr_err_wrap(from_as(rvps_config, storage_backend, out), "rvps config");
}

tr_err *tr_rvps_from_config(const json_t *config, tr_rvps **out) {
  *out = NULL;
  if (!config) return open_storage_backend(NULL, NULL, out);
  if (!json_is_object(config))
    return tr_err_new(TR_E_INVALID, "rvps config: expected object, got %s", tr_json_type_name(config));
  tr_err *e;
  const char *store_type = NULL;
  json_t *store_config = NULL, *storage = NULL;
  if ((e = tr_json_opt_string(config, NULL, "store_type", &store_type)) ||
      (e = tr_json_opt_object(config, NULL, "store_config", &store_config)) ||
      (e = tr_json_opt_object(config, NULL, "storage", &storage)))
    return tr_err_wrap(e, "rvps config");
  if (store_type) return tr_err_wrap(open_documented(store_type, store_config, out), "rvps config");
  if (storage) {
    const char *old_type = NULL;
    if ((e = tr_json_opt_string(storage, "storage", "type", &old_type))) return tr_err_wrap(e, "rvps config");
    if (old_type) return tr_err_wrap(open_documented(old_type, storage, out), "rvps config");
    return tr_err_wrap(open_storage_backend(storage, NULL, out), "rvps config: storage");
  }
  if (json_object_get(config, "type") || json_object_get(config, "storage_type"))
    return tr_rvps_from_as_config(config, json_object_get(config, "storage_backend"), out);
  return open_storage_backend(NULL, NULL, out);
}
