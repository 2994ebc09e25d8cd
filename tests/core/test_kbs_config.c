/* Unit tests: kbs-config.toml loading — every upstream config in the shared
 * vectors loads; typed defaults; errors and warnings name key, section and
 * line. */
/* cmocka.h needs these before it. */
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/kbs_config.h"

static const char *shared(void) {
  const char *s = getenv("TRUSTEE_SHARED_DIR");
  return s ? s : "../../../shared";
}

static tr_kbs_config *load_vec(const char *rel) {
  char path[1024];
  snprintf(path, sizeof path, "%s/vectors/trustee/kbs/%s", shared(), rel);
  tr_kbs_config *cfg = NULL;
  tr_err *e = tr_kbs_config_load(path, &cfg);
  if (e) fail_msg("%s: %s", rel, tr_err_msg(e));
  return cfg;
}

static tr_kbs_config *parse_ok(const char *text) {
  tr_kbs_config *cfg = NULL;
  tr_err *e = tr_kbs_config_parse(text, "kbs-config.toml", &cfg);
  if (e) fail_msg("unexpected error: %s", tr_err_msg(e));
  return cfg;
}

static void expect_error(const char *text, const char *needle) {
  tr_kbs_config *cfg = NULL;
  tr_err *e = tr_kbs_config_parse(text, "kbs-config.toml", &cfg);
  if (!e) fail_msg("expected an error containing `%s`", needle);
  assert_null(cfg);
  if (!strstr(tr_err_msg(e), needle)) fail_msg("error `%s` lacks `%s`", tr_err_msg(e), needle);
  tr_err_free(e);
}

static bool has_warning(const tr_kbs_config *cfg, const char *needle) {
  for (size_t i = 0; i < cfg->nwarnings; i++)
    if (strstr(cfg->warnings[i], needle)) return true;
  return false;
}

static void test_all_vectors_load(void **state) {
  (void)state;
  static const char *const dirs[] = {"config", "test_data/configs", "test/config", "config/docker-compose"};
  int count = 0;
  for (size_t d = 0; d < 4; d++) {
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/vectors/trustee/kbs/%s", shared(), dirs[d]);
    DIR *dh = opendir(dir);
    if (!dh) fail_msg("cannot open %s", dir);
    struct dirent *de;
    while ((de = readdir(dh))) {
      size_t n = strlen(de->d_name);
      if (n < 5 || strcmp(de->d_name + n - 5, ".toml")) continue;
      char rel[512];
      snprintf(rel, sizeof rel, "%s/%s", dirs[d], de->d_name);
      tr_kbs_config *cfg = load_vec(rel);
      assert_true(cfg->http_server.nsockets >= 1);
      for (size_t i = 0; i < cfg->nwarnings; i++)
        fprintf(stderr, "  warning: %s\n", cfg->warnings[i]);
      tr_kbs_config_free(cfg);
      count++;
    }
    closedir(dh);
  }
  assert_true(count >= 25); /* 3 + 14 + 7 + 1 today */
}

/* Mirrors upstream's config.rs rstest cases. */
static void test_upstream_cases(void **state) {
  (void)state;
  tr_kbs_config *c = load_vec("test_data/configs/coco-as-grpc-1.toml");
  assert_int_equal(c->attestation_token.ntrusted_certs_paths, 2);
  assert_string_equal(c->attestation_token.trusted_certs_paths[1], "/etc/ca2");
  assert_false(c->attestation_token.insecure_header_jwk);
  assert_int_equal(c->attestation_service.type, TR_KBS_AS_COCO_GRPC);
  assert_string_equal(c->attestation_service.as_addr, "http://127.0.0.1:50001");
  assert_int_equal(c->attestation_service.pool_size, 100);
  assert_int_equal(c->attestation_service.timeout, 600);
  assert_null(c->attestation_service.as_config);
  assert_int_equal(c->http_server.nsockets, 1);
  assert_string_equal(c->http_server.sockets[0], "0.0.0.0:8080");
  assert_false(c->http_server.insecure_http);
  assert_int_equal(c->http_server.payload_request_size, 2);
  assert_int_equal(c->http_server.payload_request_bytes, 2u << 20);
  assert_int_equal(c->http_server.worker_count, 0);
  assert_string_equal(c->http_server.private_key, "/etc/kbs-private.key");
  assert_string_equal(c->http_server.certificate, "/etc/kbs-cert.pem");
  assert_int_equal(c->http_server.tls_profile, TR_TLS_PROFILE_INTERMEDIATE);
  assert_int_equal(c->admin.mode, TR_ADMIN_DENY_ALL);
  assert_int_equal(c->storage.storage_type, TR_KBS_KV_LOCAL_JSON);
  assert_string_equal(json_string_value(json_object_get(c->storage.backend, "file_dir_path")),
                      "/opt/confidential-containers/trustee");
  assert_false(c->storage.has_session_storage_type);
  assert_int_equal(c->storage.session_storage_type, TR_KBS_KV_LOCAL_JSON);
  assert_int_equal(c->nplugins, 2);
  assert_string_equal(c->plugins[0].name, "sample");
  assert_string_equal(json_string_value(json_object_get(c->plugins[0].config, "item")), "value1");
  assert_null(json_object_get(c->plugins[0].config, "name"));
  assert_string_equal(c->plugins[1].name, "resource");
  assert_int_equal(c->plugins[1].line, 27);
  assert_int_equal(c->nwarnings, 0);
  tr_kbs_config_free(c);

  c = load_vec("test_data/configs/coco-as-builtin-1.toml");
  assert_int_equal(c->attestation_service.type, TR_KBS_AS_COCO_BUILTIN);
  assert_int_equal(c->attestation_service.timeout, 5);
  json_t *asc = c->attestation_service.as_config;
  assert_non_null(asc);
  assert_null(json_object_get(asc, "type"));
  assert_null(json_object_get(asc, "timeout"));
  assert_string_equal(json_string_value(json_object_get(json_object_get(asc, "rvps_config"), "type")),
                      "GrpcRemote");
  assert_string_equal(json_string_value(json_object_get(
                          json_object_get(c->attestation_service.raw, "rvps_config"), "address")),
                      "http://127.0.0.1:50003");
  assert_string_equal(c->http_server.sockets[0], "127.0.0.1:8080");
  assert_int_equal(c->nplugins, 0);
  tr_kbs_config_free(c);

  c = load_vec("test_data/configs/coco-as-grpc-2.toml");
  assert_true(c->storage.has_session_storage_type);
  assert_int_equal(c->storage.session_storage_type, TR_KBS_KV_MEMORY);
  assert_null(c->storage.session_backend);
  assert_int_equal(c->attestation_service.pool_size, TR_KBS_DEFAULT_AS_POOL_SIZE);
  assert_int_equal(c->admin.mode, TR_ADMIN_AUTHENTICATED);
  assert_int_equal(c->admin.nidentity_providers, 2);
  assert_string_equal(c->admin.identity_providers[1].issuer, "admin2-issuer");
  assert_string_equal(c->admin.identity_providers[1].public_key_uri,
                      "/opt/confidential-containers/trustee/admin2-pubkey.pem");
  assert_null(c->admin.identity_providers[1].audience);
  assert_null(c->admin.identity_providers[1].jwk_set_uri);
  assert_int_equal(c->admin.nacls, 2);
  assert_string_equal(c->admin.acls[0].role, "admin1");
  assert_string_equal(c->admin.acls[0].allowed_endpoints, "^/kbs/v0/resource/.+$");
  tr_kbs_config_free(c);

  c = load_vec("test_data/configs/intel-ta-1.toml");
  assert_int_equal(c->attestation_service.type, TR_KBS_AS_INTEL_TA);
  assert_string_equal(c->attestation_service.base_url, "example.io");
  assert_string_equal(c->attestation_service.api_key, "this-is-a-key");
  assert_string_equal(c->attestation_service.certs_file, "file:///etc/ita-cert.pem");
  assert_int_equal(c->attestation_service.allow_unmatched_policy, 1);
  assert_int_equal(c->attestation_service.npolicy_ids, 0);
  assert_int_equal(c->attestation_token.ntrusted_jwk_sets, 2);
  tr_kbs_config_free(c);

  c = load_vec("test_data/configs/intel-ta-2.toml");
  assert_int_equal(c->attestation_service.allow_unmatched_policy, -1);
  assert_int_equal(c->storage.storage_type, TR_KBS_KV_MEMORY);
  assert_null(c->storage.backend);
  assert_int_equal(json_object_size(c->storage.backends), 0);
  tr_kbs_config_free(c);

  c = load_vec("test_data/configs/coco-as-builtin-3.toml");
  assert_int_equal(c->admin.mode, TR_ADMIN_AUTHENTICATED);
  assert_int_equal(c->admin.nidentity_providers, 0);
  assert_int_equal(c->admin.nacls, 0);
  tr_kbs_config_free(c);

  c = load_vec("test_data/configs/tls-profile-custom-pqc.toml");
  assert_int_equal(c->http_server.tls_profile, TR_TLS_PROFILE_CUSTOM);
  assert_int_equal(c->http_server.tls_min_version, TR_TLS_VERSION_1_3);
  assert_int_equal(c->http_server.tls_max_version, TR_TLS_VERSION_1_3);
  assert_string_equal(c->http_server.tls_groups, "X25519MLKEM768:X25519:secp256r1");
  assert_string_equal(c->http_server.tls_ciphers,
                      "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256");
  tr_kbs_config_free(c);
  c = load_vec("test_data/configs/tls-profile-old.toml");
  assert_int_equal(c->http_server.tls_profile, TR_TLS_PROFILE_OLD);
  assert_int_equal(c->http_server.tls_min_version, TR_TLS_VERSION_UNSET);
  tr_kbs_config_free(c);
  c = load_vec("test_data/configs/tls-profile-modern.toml");
  assert_int_equal(c->http_server.tls_profile, TR_TLS_PROFILE_MODERN);
  tr_kbs_config_free(c);

  c = load_vec("test/config/kbs.toml");
  assert_string_equal(
      c->storage.backend == NULL ? "" : json_string_value(json_object_get(c->storage.backend, "dir_path")),
      "./work/storage");
  assert_non_null(
      json_object_get(json_object_get(c->attestation_service.as_config, "verifier_config"), "tpm_verifier"));
  assert_string_equal(c->admin.identity_providers[0].audience, "kbs");
  tr_kbs_config_free(c);

  c = load_vec("test/config/external-plugin-resource-tls.toml");
  assert_string_equal(c->plugins[0].name, "external");
  json_t *b0 = json_array_get(json_object_get(c->plugins[0].config, "backends"), 0);
  assert_string_equal(json_string_value(json_object_get(b0, "ca_cert_path")), "./work/echo-plugin-ca.pem");
  tr_kbs_config_free(c);

  /* No [attestation_service]: built-in with defaults. */
  c = load_vec("test/config/resource-kbs.toml");
  assert_int_equal(c->attestation_service.type, TR_KBS_AS_COCO_BUILTIN);
  assert_int_equal(json_object_size(c->attestation_service.as_config), 0);
  assert_int_equal(json_object_size(c->attestation_service.raw), 0);
  tr_kbs_config_free(c);
}

#define BASE_CFG "[http_server]\n[admin]\nauthorization_mode = \"DenyAll\"\n"

static void test_defaults(void **state) {
  (void)state;
  tr_kbs_config *c = parse_ok("[http_server]\n[admin]\nauthorization_mode = \"InsecureAllowAll\"\n");
  assert_int_equal(c->http_server.nsockets, 1);
  assert_string_equal(c->http_server.sockets[0], TR_KBS_DEFAULT_SOCKET);
  assert_false(c->http_server.insecure_http);
  assert_null(c->http_server.private_key);
  assert_null(c->http_server.tls_ciphers);
  assert_int_equal(c->http_server.payload_request_size, 2);
  assert_int_equal(c->attestation_service.type, TR_KBS_AS_COCO_BUILTIN);
  assert_int_equal(c->attestation_service.timeout, 5);
  assert_int_equal(c->attestation_token.ntrusted_certs_paths, 0);
  assert_false(c->attestation_token.insecure_header_jwk);
  assert_int_equal(c->admin.mode, TR_ADMIN_INSECURE_ALLOW_ALL);
  assert_int_equal(c->storage.storage_type, TR_KBS_KV_MEMORY);
  assert_int_equal(c->nplugins, 0);
  assert_int_equal(c->nwarnings, 0);
  assert_string_equal(tr_kbs_kv_type_name(c->storage.storage_type), "Memory");
  tr_kbs_config_free(c);

  /* Backend defaults are filled in; the document keeps what was written. */
  c = parse_ok("[http_server]\n[admin]\nauthorization_mode = \"DenyAll\"\n[storage_backend]\n"
               "storage_type = \"postgres\"\n[storage_backend.backends.postgres]\npassword = \"pw\"\n"
               "[storage_backend.backends.local_fs]\n");
  assert_int_equal(c->storage.storage_type, TR_KBS_KV_POSTGRES);
  assert_string_equal(json_string_value(json_object_get(c->storage.backend, "host")), "localhost");
  assert_int_equal(json_integer_value(json_object_get(c->storage.backend, "port")), 5432);
  assert_string_equal(json_string_value(json_object_get(c->storage.backend, "password")), "pw");
  assert_string_equal(
      json_string_value(json_object_get(json_object_get(c->storage.backends, "local_fs"), "dir_path")),
      "/opt/confidential-containers/storage/local_fs");
  assert_string_equal(tr_kbs_kv_backend_key(TR_KBS_KV_LOCAL_FS), "local_fs");
  assert_null(tr_kbs_kv_backend_key(TR_KBS_KV_MEMORY));
  tr_kbs_config_free(c);

  /* Legacy [policy_engine]: accepted, typed, default path when the table is empty. */
  c = parse_ok(BASE_CFG);
  assert_null(c->policy_engine_policy_path);
  tr_kbs_config_free(c);
  c = parse_ok(BASE_CFG "[policy_engine]\npolicy_path = \"/etc/kbs/policy.rego\"\n");
  assert_string_equal(c->policy_engine_policy_path, "/etc/kbs/policy.rego");
  assert_int_equal(c->nwarnings, 0);
  tr_kbs_config_free(c);
  c = parse_ok(BASE_CFG "[policy_engine]\n");
  assert_string_equal(c->policy_engine_policy_path, "/opt/confidential-containers/kbs/policy.rego");
  tr_kbs_config_free(c);
  expect_error(BASE_CFG "[policy_engine]\npolicy_path = 1\n",
               ":5: [policy_engine] policy_path: expected string");

  /* trustee-c passport mode */
  c = parse_ok(
      "[http_server]\n[admin]\nauthorization_mode = \"DenyAll\"\n[attestation_service]\ntype = \"none\"\n"
      "[attestation_token]\ntrusted_certs_paths = [\"/ca.pem\"]\n");
  assert_int_equal(c->attestation_service.type, TR_KBS_AS_NONE);
  tr_kbs_config_free(c);

  /* Other spellings of tags, IPv6 sockets, worker_count. */
  c = parse_ok(
      "session_storage_type = \"LocalFs\"\n[http_server]\nsockets = [\"[::1]:8080\", \"0.0.0.0:1\"]\n"
      "worker_count = 4\npayload_request_size = 10\n[admin]\nauthorization_mode = \"DenyAll\"\n"
      "[attestation_service]\ntype = \"CoCoASGrpc\"\n[storage_backend.backends.local_fs]\n"
      "[[plugins]]\nname = \"ResourceStorage\"\nstorage_backend_type = \"Vault\"\nvault_url = \"http://v\"\n"
      "token = \"t\"\n");
  assert_int_equal(c->attestation_service.type, TR_KBS_AS_COCO_GRPC);
  assert_string_equal(c->attestation_service.as_addr, TR_KBS_DEFAULT_AS_ADDR);
  assert_int_equal(c->http_server.nsockets, 2);
  assert_int_equal(c->http_server.worker_count, 4);
  assert_int_equal(c->http_server.payload_request_bytes, 10u << 20);
  assert_int_equal(c->storage.session_storage_type, TR_KBS_KV_LOCAL_FS);
  assert_non_null(c->storage.session_backend);
  assert_string_equal(c->plugins[0].name, "resource");
  tr_kbs_config_free(c);
}

#define BASE "[http_server]\n[admin]\nauthorization_mode = \"DenyAll\"\n"

static void test_errors(void **state) {
  (void)state;
  expect_error("[admin]\nauthorization_mode = \"DenyAll\"\n",
               "kbs-config.toml: http_server: missing required table");
  expect_error("[http_server]\n", "admin: missing required table");
  expect_error("[http_server]\ninsecure_http = \"yes\"\n[admin]\nauthorization_mode = \"DenyAll\"\n",
               "kbs-config.toml:2: [http_server] insecure_http: expected boolean, got string");
  expect_error("[http_server]\nsockets = \"0.0.0.0:80\"\n[admin]\nauthorization_mode = \"DenyAll\"\n",
               "kbs-config.toml:2: [http_server] sockets: expected array of strings, got string");
  expect_error(
      "[http_server]\nsockets = [\"0.0.0.0:80\",\n 8080]\n[admin]\nauthorization_mode = \"DenyAll\"\n",
      "kbs-config.toml:3: [http_server] sockets[1]: expected string, got integer");
  expect_error("[http_server]\nsockets = [\"localhost:80\"]\n"
               "[admin]\nauthorization_mode = \"DenyAll\"\n",
               ":2: [http_server] sockets[0]: `localhost:80` is not an IP:port");
  expect_error("[http_server]\nsockets = [\"1.2.3.4:70000\"]\n"
               "[admin]\nauthorization_mode = \"DenyAll\"\n",
               "sockets[0]");
  expect_error("[http_server]\npayload_request_size = -1\n[admin]\nauthorization_mode = \"DenyAll\"\n",
               ":2: [http_server] payload_request_size: -1 is out of range");
  expect_error("[http_server]\ntls_min_version = \"1.3\"\ntls_max_version = \"1.2\"\n"
               "[admin]\nauthorization_mode = \"DenyAll\"\n",
               ":2: [http_server] tls_min_version: tls_min_version (1.3) cannot be greater than "
               "tls_max_version (1.2)");
  expect_error(
      "[http_server]\ntls_profile = \"paranoid\"\n[admin]\nauthorization_mode = \"DenyAll\"\n",
      "tls_profile: unknown value `paranoid` (expected one of `intermediate`, `old`, `modern`, `custom`)");
  expect_error("[http_server]\n[admin]\n", ":2: [admin] authorization_mode: missing required key");
  expect_error("[http_server]\n[admin]\ntype = \"DenyAll\"\n", "[admin] authorization_mode: missing");
  expect_error("[http_server]\n[admin]\nauthorization_mode = \"DenyAll\"\nextra = 1\n",
               ":4: [admin] extra: unknown key");
  expect_error("[http_server]\n[admin]\nauthorization_mode = \"AuthenticatedAuthorization\"\n",
               "[admin] authentication: missing required table");
  expect_error("[http_server]\n[admin]\nauthorization_mode = \"AuthenticatedAuthorization\"\n"
               "[admin.authentication.bearer_jwt]\nidentity_providers = [{ issuer = \"x\" }]\n"
               "[admin.authorization.regex_acl]\n",
               ":5: [admin.authentication.bearer_jwt.identity_providers[0]]: an identity provider needs");
  expect_error(
      "[http_server]\n[admin]\nauthorization_mode = \"AuthenticatedAuthorization\"\n"
      "[admin.authentication.bearer_jwt]\n[admin.authorization.regex_acl]\n"
      "acls = [{ role = \"a\", allowed_endpoints = \"/kbs/.*\" }]\n",
      ":6: [admin.authorization.regex_acl.acls[0]] allowed_endpoints: regex `/kbs/.*` must start with");
  expect_error("[http_server]\n[admin]\nauthorization_mode = \"AuthenticatedAuthorization\"\n"
               "[admin.authentication.oidc]\n[admin.authorization.regex_acl]\n",
               ":4: [admin.authentication] oidc: unknown variant");
  expect_error(BASE "[attestation_service]\ntype = \"intel_ta\"\nbase_url = \"x\"\napi_key = \"k\"\n",
               ":4: [attestation_service] certs_file: missing required key");
  expect_error(BASE "[attestation_service]\ntype = \"coco_as_grpc\"\npool_size = \"many\"\n",
               ":6: [attestation_service] pool_size: expected integer, got string");
  expect_error(BASE "[attestation_service]\ntype = \"magic\"\n",
               ":5: [attestation_service] type: unknown value `magic`");
  expect_error(BASE "[attestation_service]\ntimeout = 1.5\n", "timeout: expected integer, got float");
  expect_error(
      BASE "[storage_backend]\nstorage_type = \"LocalFs\"\n",
      ":5: [storage_backend] storage_type: `LocalFs` needs a [storage_backend.backends.local_fs] table");
  expect_error(
      "session_storage_type = \"redis\"\n" BASE,
      "kbs-config.toml:1: session_storage_type: `Redis` needs a [storage_backend.backends.redis] table");
  expect_error(BASE "[storage_backend.backends.local_fs]\ndir_path = 5\n",
               ":5: [storage_backend.backends.local_fs] dir_path: expected string, got integer");
  expect_error(BASE "[[plugins]]\nname = \"magic\"\n", ":5: [[plugins]] #1 name: unknown value `magic`");
  expect_error(BASE "[[plugins]]\nname = \"resource\"\n[[plugins]]\nitem = 1\n",
               ":4: [[plugins]] #1 (resource) storage_backend_type: missing");
  expect_error(BASE "[[plugins]]\nname = \"sample\"\nitem = \"i\"\n[[plugins]]\nname = "
                    "\"resource\"\nstorage_backend_type = \"kvstorage\"\n"
                    "[[plugins]]\n",
               ":10: [[plugins]] #3 name: missing required key");
  expect_error(
      BASE "[[plugins]]\nname = \"external\"\nbackends = [\n{ name = \"a\", endpoint = \"https://x\" },\n]\n",
      ":7: [[plugins]] #1 (external) backends[0] ca_cert_path: required for an https:// endpoint");
  expect_error(BASE
               "[[plugins]]\nname = \"external\"\nbackends = [{ name = \"a\", endpoint = \"http://x\" },\n"
               "{ name = \"a\", endpoint = \"http://y\" }]\n",
               ":7: [[plugins]] #1 (external) backends[1] name: duplicate backend name `a`");
  expect_error(BASE "[[plugins]]\nname = \"sample\"\n", "[[plugins]] #1 (sample) item: missing required key");
  expect_error("[http_server\n", "kbs-config.toml:1:");
}

static void test_warnings(void **state) {
  (void)state;
  tr_kbs_config *c = parse_ok("old_section = { policy_path = \"/p.rego\" }\n"
                              "[http_server]\nsocket = [\"0.0.0.0:80\"]\n"
                              "tls_ciphers = \"X\"\n"
                              "[admin]\nauthorization_mode = \"DenyAll\"\n"
                              "[attestation_token]\nattestation_token_type = \"CoCo\"\n"
                              "[attestation_service]\ntype = \"coco_as_builtin\"\nwork_dir = \"/w\"\n"
                              "[[plugins]]\nname = \"sample\"\nitem = \"x\"\ncolour = \"red\"\n");
  for (size_t i = 0; i < c->nwarnings; i++)
    fprintf(stderr, "  warning: %s\n", c->warnings[i]);
  assert_true(has_warning(c, "kbs-config.toml:1: unknown key `old_section` (ignored)"));
  assert_true(has_warning(c, "kbs-config.toml:3: [http_server] unknown key `socket` (ignored)"));
  assert_true(has_warning(c, "kbs-config.toml:8: [attestation_token] unknown key `attestation_token_type`"));
  assert_true(has_warning(c, "kbs-config.toml:11: [attestation_service] unknown key `work_dir`"));
  assert_true(has_warning(c, "kbs-config.toml:15: [[plugins]] #1 (sample) unknown key `colour`"));
  assert_true(has_warning(c, "tls_profile is `intermediate` but custom TLS fields are set"));
  assert_int_equal(c->nwarnings, 6);
  /* The unknown key did not change the default. */
  assert_string_equal(c->http_server.sockets[0], "127.0.0.1:8080");
  tr_kbs_config_free(c);
}

static void test_json_and_io(void **state) {
  (void)state;
  char dir[] = "/tmp/kbscfgXXXXXX";
  assert_non_null(mkdtemp(dir));
  char path[128];
  snprintf(path, sizeof path, "%s/kbs.json", dir);
  FILE *f = fopen(path, "w");
  fputs("{\"http_server\":{\"insecure_http\":true},\"admin\":{\"authorization_mode\":\"DenyAll\"},"
        "\"session_storage_type\":null}",
        f);
  fclose(f);
  tr_kbs_config *c = NULL;
  tr_err *e = tr_kbs_config_load(path, &c);
  if (e) fail_msg("%s", tr_err_msg(e));
  assert_true(c->http_server.insecure_http);
  assert_false(c->storage.has_session_storage_type);
  tr_kbs_config_free(c);
  f = fopen(path, "w");
  fputs("{\"http_server\":{\"insecure_http\":1},\"admin\":{\"authorization_mode\":\"DenyAll\"}}", f);
  fclose(f);
  e = tr_kbs_config_load(path, &c);
  assert_non_null(e);
  assert_non_null(
      strstr(tr_err_msg(e), "kbs.json: [http_server] insecure_http: expected boolean, got integer"));
  tr_err_free(e);
  remove(path);
  e = tr_kbs_config_load(path, &c);
  assert_non_null(e);
  assert_int_equal(tr_err_code(e), TR_E_NOTFOUND);
  tr_err_free(e);
  rmdir(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_all_vectors_load), cmocka_unit_test(test_upstream_cases),
      cmocka_unit_test(test_defaults),         cmocka_unit_test(test_errors),
      cmocka_unit_test(test_warnings),         cmocka_unit_test(test_json_and_io),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
