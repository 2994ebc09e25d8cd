/* test_config.c — config.json in the documented and the current upstream
 * shapes (upstream's shipped configs), defaults, type errors naming the key,
 * unknown keys as warnings. */
/* cmocka needs these first */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */
#include <stdlib.h>
#include <string.h>

#include "as/as_internal.h"

static json_t *load_vector(const char *rel) {
  const char *shared = getenv("TRUSTEE_SHARED_DIR");
  char path[1024];
  snprintf(path, sizeof(path), "%s/vectors/trustee/attestation-service/%s",
           shared ? shared : "../../../shared", rel);
  json_error_t je;
  json_t *j = json_load_file(path, 0, &je);
  if (!j) fail_msg("cannot load %s: %s", path, je.text);
  return j;
}

static json_t *J(const char *s) {
  json_error_t je;
  json_t *j = json_loads(s, 0, &je);
  if (!j) fail_msg("bad test JSON: %s", je.text);
  return j;
}

static void test_defaults(void **s) {
  (void)s;
  tr_as_config c;
  assert_null(tr_as_config_parse(NULL, &c));
  assert_string_equal(c.storage_type, "Memory");
  assert_int_equal(c.broker.type, TR_AS_BROKER_EAR);
  assert_int_equal(c.broker.duration_min, 5);
  assert_string_equal(c.broker.issuer_name, "CoCo-Attestation-Service");
  assert_string_equal(c.broker.developer_name, "https://confidentialcontainers.org");
  assert_string_equal(c.broker.profile_name, "tag:github.com,2024:confidential-containers/Trustee");
  assert_true(c.broker.verbose_token);
  assert_null(c.broker.signer.key_path);
  assert_false(c.rvps_remote);
  assert_int_equal(json_array_size(c.warnings), 0);
  tr_as_config_clear(&c);
}

static void test_upstream_example1(void **s) {
  (void)s;
  json_t *j = load_vector("tests/configs/example1.json");
  tr_as_config c;
  assert_null(tr_as_config_parse(j, &c));
  assert_string_equal(c.storage_type, "LocalFs");
  assert_string_equal(json_string_value(json_object_get(c.storage_config, "dir_path")),
                      "/opt/confidential-containers/attestation-service");
  assert_string_equal(c.broker.issuer_name, "test");
  assert_string_equal(c.broker.developer_name, "someone");
  assert_string_equal(c.broker.build_name, "0.1.0");
  assert_int_equal(json_array_size(c.warnings), 0);
  tr_as_config_clear(&c);
  json_decref(j);
}

static void test_upstream_example2_signer(void **s) {
  (void)s;
  json_t *j = load_vector("tests/configs/example2.json");
  tr_as_config c;
  assert_null(tr_as_config_parse(j, &c));
  assert_string_equal(c.storage_type, "Memory");
  assert_string_equal(c.broker.signer.key_path, "/etc/key");
  assert_string_equal(c.broker.signer.cert_url, "https://example.io");
  assert_string_equal(c.broker.signer.cert_path, "/etc/cert.pem");
  tr_as_config_clear(&c);
  json_decref(j);
}

static void test_shipped_configs_with_extra_keys(void **s) {
  (void)s;
  /* config.json carries work_dir and rvps storage_type; the tpm one a verifier_config */
  json_t *j = load_vector("config.json");
  tr_as_config c;
  assert_null(tr_as_config_parse(j, &c));
  assert_string_equal(c.work_dir, "/var/lib/attestation-service/");
  assert_string_equal(c.rvps_storage_type, "LocalFs");
  tr_as_config_clear(&c);
  json_decref(j);
  j = load_vector("tests/configs/example_with_tpm_verifier.json");
  assert_null(tr_as_config_parse(j, &c));
  assert_non_null(json_object_get(c.verifier_config, "tpm_verifier"));
  assert_int_equal(c.broker.type, TR_AS_BROKER_EAR);
  tr_as_config_clear(&c);
  json_decref(j);
}

static void test_documented_shape(void **s) {
  (void)s;
  json_t *j =
      J("{\"work_dir\":\"/var/lib/attestation-service/\",\"policy_engine\":\"opa\","
        "\"rvps_config\":{\"type\":\"BuiltIn\",\"store_type\":\"LocalFs\","
        "\"store_config\":{\"file_path\":\"/var/lib/attestation-service/reference-values\"}},"
        "\"attestation_token_broker\":{\"type\":\"Simple\",\"duration_min\":7,\"issuer_name\":\"some-body\","
        "\"policy_dir\":\"/x\",\"signer\":{\"key_path\":\"/etc/coco-as/signer.key\","
        "\"cert_url\":\"https://example.io/coco-as-certchain\",\"cert_path\":\"/etc/coco-as/signer.pub\"}}}");
  tr_as_config c;
  assert_null(tr_as_config_parse(j, &c));
  assert_true(c.rvps_documented);
  assert_int_equal(c.broker.type, TR_AS_BROKER_SIMPLE);
  assert_int_equal(c.broker.duration_min, 7);
  assert_string_equal(c.broker.issuer_name, "some-body");
  /* policy_dir is accepted with a warning */
  assert_int_equal(json_array_size(c.warnings), 1);
  assert_non_null(strstr(json_string_value(json_array_get(c.warnings, 0)), "policy_dir"));
  tr_as_config_clear(&c);
  json_decref(j);
  j = J("{\"rvps_config\":{\"type\":\"GrpcRemote\"}}");
  assert_null(tr_as_config_parse(j, &c));
  assert_true(c.rvps_remote);
  assert_string_equal(c.rvps_address, "127.0.0.1:50003");
  tr_as_config_clear(&c);
  json_decref(j);
}

static void test_unknown_keys_warn(void **s) {
  (void)s;
  json_t *j = J("{\"bogus\":1,\"attestation_token_broker\":{\"duraton_min\":3},"
                "\"storage_backend\":{\"storage_type\":\"local_json\",\"backends\":{\"local_json\":"
                "{\"file_dir_path\":\"/tmp/x\"}},\"extra\":true},"
                "\"verifier_config\":{\"snp_verifer\":{},\"tpm_verifier\":{}}}");
  tr_as_config c;
  assert_null(tr_as_config_parse(j, &c));
  assert_string_equal(c.storage_type, "LocalJson");
  assert_string_equal(json_string_value(json_object_get(c.storage_config, "file_dir_path")), "/tmp/x");
  assert_int_equal(json_array_size(c.warnings), 4);
  char *all = json_dumps(c.warnings, 0);
  assert_non_null(strstr(all, "`verifier_config.snp_verifer`"));
  assert_non_null(strstr(all, "`bogus`"));
  assert_non_null(strstr(all, "`attestation_token_broker.duraton_min`"));
  assert_non_null(strstr(all, "`storage_backend.extra`"));
  free(all);
  tr_as_config_clear(&c);
  json_decref(j);
}

static void test_type_errors_name_key(void **s) {
  (void)s;
  const char *cases[][2] = {
      {"[]", "expected a JSON object"},
      {"{\"attestation_token_broker\":{\"duration_min\":\"5\"}}", "attestation_token_broker.duration_min"},
      {"{\"attestation_token_broker\":{\"duration_min\":0}}", "attestation_token_broker.duration_min"},
      {"{\"attestation_token_broker\":{\"type\":\"Jwt\"}}", "attestation_token_broker.type"},
      {"{\"attestation_token_broker\":{\"signer\":{}}}", "attestation_token_broker.signer.key_path"},
      {"{\"attestation_token_broker\":{\"signer\":{\"key_path\":1}}}",
       "attestation_token_broker.signer.key_path"},
      {"{\"attestation_token_broker\":{\"verbose_token\":1}}", "attestation_token_broker.verbose_token"},
      {"{\"attestation_token_broker\":[]}", "attestation_token_broker"},
      {"{\"rvps_config\":{\"type\":\"Cloud\"}}", "rvps_config.type"},
      {"{\"rvps_config\":{\"storage_type\":\"Floppy\"}}", "rvps_config.storage_type"},
      {"{\"storage_backend\":{\"storage_type\":5}}", "storage_backend.storage_type"},
      {"{\"storage_backend\":{\"backends\":{\"local_fs\":3}}}", "storage_backend.backends.local_fs"},
      {"{\"verifier_config\":\"x\"}", "verifier_config"},
      {"{\"verifier_config\":{\"snp_verifier\":5}}", "verifier_config.snp_verifier"},
      {"{\"verifier_config\":{\"dcap_verifier\":[]}}", "verifier_config.dcap_verifier"},
      {"{\"work_dir\":1}", "work_dir"},
      {"{\"policy_engine\":\"cedar\"}", "policy_engine"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    json_t *j = J(cases[i][0]);
    tr_as_config c;
    tr_err *e = tr_as_config_parse(j, &c);
    if (!e) fail_msg("case %zu: no error", i);
    assert_int_equal(tr_err_code(e), TR_E_INVALID);
    if (!strstr(tr_err_msg(e), cases[i][1]))
      fail_msg("case %zu: `%s` lacks `%s`", i, tr_err_msg(e), cases[i][1]);
    tr_err_free(e);
    json_decref(j);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_defaults),
      cmocka_unit_test(test_upstream_example1),
      cmocka_unit_test(test_upstream_example2_signer),
      cmocka_unit_test(test_shipped_configs_with_extra_keys),
      cmocka_unit_test(test_documented_shape),
      cmocka_unit_test(test_unknown_keys_warn),
      cmocka_unit_test(test_type_errors_name_key),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
