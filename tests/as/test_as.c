/* test_as.c — the library end to end: create from config, evaluate sample
 * evidence into EAR / Simple tokens, policy set/get/list/delete with the
 * compiled cache following the store, default policies not overwriting a
 * stored copy (LocalFs, across restarts), concurrent evaluation. */
/* cmocka needs these first */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "as/as.h"
#include "as/as_internal.h"
#include "core/buf.h"
#include "core/encoding.h"
#include "core/json.h"

static json_t *J(const char *s) {
  json_error_t je;
  json_t *j = json_loads(s, 0, &je);
  if (!j) fail_msg("bad test JSON: %s", je.text);
  return j;
}

static tr_as *new_as(const char *config) {
  json_t *c = config ? J(config) : NULL;
  tr_as *as = NULL;
  tr_err *e = tr_as_new(c, &as);
  json_decref(c);
  if (e) fail_msg("tr_as_new: %s", tr_err_msg(e));
  return as;
}

/* Decodes the token payload (signature checks live in test_ear and e2e). */
static json_t *payload(const char *tok) {
  const char *d1 = strchr(tok, '.'), *d2 = strrchr(tok, '.');
  assert_true(d1 && d2 && d2 > d1);
  uint8_t *p = NULL;
  size_t n = 0;
  assert_null(tr_b64_decode(d1 + 1, (size_t)(d2 - d1 - 1), TR_B64_URL_NOPAD, &p, &n));
  json_t *j = NULL;
  assert_null(tr_json_parse((char *)p, n, &j));
  free(p);
  return j;
}

static char *evaluate(tr_as *as, const char *evidence, const char *policy, tr_err **err) {
  json_t *ev = J(evidence);
  tr_as_request r = {.tee = "sample", .evidence = ev};
  const char *ids[] = {policy};
  char *tok = NULL;
  *err = tr_as_evaluate(as, &r, 1, policy ? ids : NULL, policy ? 1 : 0, &tok);
  json_decref(ev);
  return tok;
}

static const char *status_of(const json_t *p, const char *sub) {
  return json_string_value(
      json_object_get(json_object_get(json_object_get(p, "submods"), sub), "ear.status"));
}

static void register_rvs(tr_as *as) {
  const char *vals =
      "{\"svn\":[\"1\"],\"launch_digest\":[\"abcde\"],\"major_version\":1,\"minimum_minor_version\":1}";
  char *pl = tr_b64_encode(vals, strlen(vals), TR_B64_STD);
  char msg[512];
  snprintf(msg, sizeof(msg), "{\"version\":\"0.1.0\",\"type\":\"sample\",\"payload\":\"%s\"}", pl);
  free(pl);
  assert_null(tr_rvps_register(tr_as_rvps(as), msg, strlen(msg)));
}

static void test_ear_default_policy(void **s) {
  (void)s;
  tr_as *as = new_as(NULL);
  tr_err *e = NULL;
  char *tok = evaluate(as, "{\"svn\":\"1\"}", NULL, &e);
  if (e) fail_msg("%s", tr_err_msg(e));
  json_t *p = payload(tok);
  assert_string_equal(status_of(p, "cpu0"), "contraindicated");
  free(tok);
  json_decref(p);
  register_rvs(as);
  tok = evaluate(as, "{\"svn\":\"1\"}", "default", &e);
  assert_null(e);
  p = payload(tok);
  assert_string_equal(status_of(p, "cpu0"), "affirming");
  free(tok);
  json_decref(p);
  /* a wrong svn is not in the reference values */
  tok = evaluate(as, "{\"svn\":\"9\"}", NULL, &e);
  p = payload(tok);
  assert_string_equal(status_of(p, "cpu0"), "contraindicated");
  free(tok);
  json_decref(p);
  tr_as_free(as);
}

static void test_policy_crud_and_cache(void **s) {
  (void)s;
  tr_as *as = new_as(NULL);
  const char *p1 = "package policy\nimport rego.v1\ntrust_claims := {\"hardware\": 2}\n";
  const char *p2 = "package policy\nimport rego.v1\ntrust_claims := {\"hardware\": 97}\n";
  assert_null(tr_as_set_policy(as, "mine_cpu", p1));
  tr_err *e = NULL;
  char *tok = evaluate(as, "{\"svn\":\"1\"}", "mine", &e);
  assert_null(e);
  json_t *p = payload(tok);
  assert_string_equal(status_of(p, "cpu0"), "affirming");
  free(tok);
  json_decref(p);
  /* set invalidates the compiled copy */
  assert_null(tr_as_set_policy(as, "mine_cpu", p2));
  tok = evaluate(as, "{\"svn\":\"1\"}", "mine", &e);
  p = payload(tok);
  assert_string_equal(status_of(p, "cpu0"), "contraindicated");
  free(tok);
  json_decref(p);
  char *text = NULL;
  assert_null(tr_as_get_policy(as, "mine_cpu", &text));
  assert_string_equal(text, p2);
  free(text);
  json_t *list = NULL;
  assert_null(tr_as_list_policies(as, &list));
  assert_int_equal(json_object_size(list), 5);
  assert_int_equal(strlen(json_string_value(json_object_get(list, "mine_cpu"))), 96);
  json_decref(list);
  assert_null(tr_as_delete_policy(as, "mine_cpu"));
  e = tr_as_delete_policy(as, "mine_cpu");
  assert_int_equal(tr_err_code(e), TR_E_NOTFOUND);
  tr_err_free(e);
  tok = evaluate(as, "{\"svn\":\"1\"}", "mine", &e);
  assert_null(tok);
  assert_int_equal(tr_err_code(e), TR_E_NOTFOUND);
  assert_non_null(strstr(tr_err_msg(e), "policy `mine_cpu` not found"));
  tr_err_free(e);
  /* bad ids and bad text */
  e = tr_as_set_policy(as, "a/../b", p1);
  assert_int_equal(tr_err_code(e), TR_E_INVALID);
  tr_err_free(e);
  e = tr_as_set_policy(as, "x_cpu", "package policy\ntrust_claims := {");
  assert_int_equal(tr_err_code(e), TR_E_INVALID);
  assert_non_null(strstr(tr_err_msg(e), "does not compile"));
  tr_err_free(e);
  tr_as_free(as);
}

/* Deleting a policy drops its compiled copy: the cache holds what the store
 * holds, not every id ever evaluated. */
static void test_delete_drops_cached_copy(void **s) {
  (void)s;
  tr_as *as = new_as(NULL);
  char id[32], base[32];
  for (int i = 0; i < 20; i++) {
    snprintf(base, sizeof(base), "tmp%d", i);
    snprintf(id, sizeof(id), "tmp%d_cpu", i);
    assert_null(
        tr_as_set_policy(as, id, "package policy\nimport rego.v1\ntrust_claims := {\"hardware\": 2}\n"));
    tr_err *e = NULL;
    char *tok = evaluate(as, "{\"svn\":\"1\"}", base, &e);
    assert_null(e);
    free(tok);
    assert_null(tr_as_delete_policy(as, id));
  }
  assert_int_equal(tr_as_policy_cache_len(as->policies), 0);
  tr_as_free(as);
}

static void test_localfs_defaults_not_overwritten(void **s) {
  (void)s;
  char dir[] = "/tmp/as-test-XXXXXX";
  assert_non_null(mkdtemp(dir));
  char cfg[1024];
  snprintf(cfg, sizeof(cfg),
           "{\"storage_backend\":{\"storage_type\":\"LocalFs\",\"backends\":{\"local_fs\":{\"dir_path\":\"%"
           "s\"}}}}",
           dir);
  tr_as *as = new_as(cfg);
  const char *mine = "package policy\nimport rego.v1\ntrust_claims := {\"executables\": 2}\n";
  assert_null(tr_as_set_policy(as, "default_cpu", mine));
  tr_as_free(as);
  /* upstream layout on disk */
  char path[1200];
  snprintf(path, sizeof(path), "%s/attestation_service_policy/default_cpu.rego", dir);
  assert_int_equal(access(path, R_OK), 0);
  as = new_as(cfg); /* restart: the edited default_cpu survives */
  char *text = NULL;
  assert_null(tr_as_get_policy(as, "default_cpu", &text));
  assert_string_equal(text, mine);
  free(text);
  /* a stored policy broken on disk is the server's fault (500), not the
   * request's: TR_E_INTERNAL naming the policy and the compile error */
  assert_null(tr_write_file_atomic(path, "package policy\nx :=", 19, 0600));
  tr_err *e = NULL;
  char *tok = evaluate(as, "{\"svn\":\"1\"}", NULL, &e);
  assert_null(tok);
  assert_non_null(e);
  if (tr_err_code(e) != TR_E_INTERNAL || !strstr(tr_err_msg(e), "default_cpu"))
    fail_msg("code %d: %s", tr_err_code(e), tr_err_msg(e));
  tr_err_free(e);
  tr_as_free(as);
  char cmd[1300];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
  assert_int_equal(system(cmd), 0);
}

static void test_documented_config_shape(void **s) {
  (void)s;
  char dir[] = "/tmp/as-doc-XXXXXX";
  assert_non_null(mkdtemp(dir));
  char cfg[1024];
  snprintf(cfg, sizeof(cfg),
           "{\"work_dir\":\"%s\",\"policy_engine\":\"opa\",\"rvps_config\":{\"type\":\"BuiltIn\","
           "\"store_type\":\"LocalFs\",\"store_config\":{\"file_path\":\"%s/rv\"}},"
           "\"attestation_token_broker\":{\"type\":\"Ear\",\"duration_min\":5}}",
           dir, dir);
  tr_as *as = new_as(cfg);
  register_rvs(as);
  tr_err *e = NULL;
  char *tok = evaluate(as, "{\"svn\":\"1\"}", NULL, &e);
  assert_null(e);
  json_t *p = payload(tok);
  assert_string_equal(status_of(p, "cpu0"), "affirming");
  free(tok);
  json_decref(p);
  tr_as_free(as);
  /* the reference values persisted in the documented LocalFs store */
  as = new_as(cfg);
  json_t *v = NULL;
  assert_null(tr_rvps_query(tr_as_rvps(as), "svn", &v));
  assert_non_null(v);
  json_decref(v);
  tr_as_free(as);
  char cmd[1300];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
  assert_int_equal(system(cmd), 0);
}

static void test_simple_broker(void **s) {
  (void)s;
  tr_as *as = new_as("{\"attestation_token_broker\":{\"type\":\"Simple\"}}");
  tr_err *e = NULL;
  char *tok = evaluate(as, "{\"svn\":\"1\"}", NULL, &e);
  if (e) fail_msg("%s", tr_err_msg(e));
  json_t *p = payload(tok);
  assert_string_equal(json_string_value(json_object_get(p, "tee")), "sample");
  assert_string_equal(json_string_value(json_object_get(json_object_get(p, "tcb-status"), "sample.svn")),
                      "1");
  assert_non_null(json_object_get(p, "jwk"));
  assert_non_null(json_object_get(p, "jti"));
  free(tok);
  json_decref(p);
  json_t *jwks = tr_as_jwks(as);
  assert_string_equal(
      json_string_value(json_object_get(json_array_get(json_object_get(jwks, "keys"), 0), "alg")), "RS384");
  json_decref(jwks);
  tr_as_free(as);
}

static tr_as *shared_as;
static void *hammer(void *arg) {
  (void)arg;
  for (int i = 0; i < 50; i++) {
    tr_err *e = NULL;
    char *tok = evaluate(shared_as, "{\"svn\":\"1\"}", NULL, &e);
    if (e || !tok) return (void *)1;
    free(tok);
    if (i % 10 == 0) {
      e = tr_as_set_policy(shared_as, "other_cpu",
                           "package policy\nimport rego.v1\ntrust_claims := {\"hardware\": 2}\n");
      if (e) return (void *)1;
    }
  }
  return NULL;
}

static void test_concurrent(void **s) {
  (void)s;
  shared_as = new_as(NULL);
  register_rvs(shared_as);
  pthread_t t[4];
  for (int i = 0; i < 4; i++)
    pthread_create(&t[i], NULL, hammer, NULL);
  for (int i = 0; i < 4; i++) {
    void *r = NULL;
    pthread_join(t[i], &r);
    assert_null(r);
  }
  tr_as_free(shared_as);
}

/* Sets <id>_cpu, evaluates <id>: must fail as the server's error (500)
 * with `needle` in the message. */
static void expect_policy_failure(tr_as *as, const char *id, const char *text, const char *needle) {
  char pid[128];
  snprintf(pid, sizeof(pid), "%s_cpu", id);
  assert_null(tr_as_set_policy(as, pid, text));
  tr_err *e = NULL;
  char *tok = evaluate(as, "{\"svn\":\"1\"}", id, &e);
  assert_null(tok);
  assert_non_null(e);
  if (tr_err_code(e) != TR_E_INTERNAL || !strstr(tr_err_msg(e), needle))
    fail_msg("code %d: %s", tr_err_code(e), tr_err_msg(e));
  tr_err_free(e);
}

/* query_reference_value: an absent id is null (not an error); a non-string
 * argument is an evaluation error; a wrong arity does not compile; builtin
 * errors are strict (to_number("x") fails the evaluation, not just the rule). */
static void test_query_reference_value(void **s) {
  (void)s;
  tr_as *as = new_as(NULL);
  register_rvs(as);
  assert_null(tr_as_set_policy(as, "qrv_cpu",
                               "package policy\nimport rego.v1\n"
                               "default hw := 97\n"
                               "hw := 2 if query_reference_value(\"nosuch\") == null\n"
                               "default ex := 97\n"
                               "ex := 3 if input.sample.svn in query_reference_value(\"svn\")\n"
                               "trust_claims := {\"hardware\": hw, \"executables\": ex}\n"));
  tr_err *e = NULL;
  char *tok = evaluate(as, "{\"svn\":\"1\"}", "qrv", &e);
  if (e) fail_msg("%s", tr_err_msg(e));
  json_t *p = payload(tok);
  json_t *tv =
      json_object_get(json_object_get(json_object_get(p, "submods"), "cpu0"), "ear.trustworthiness-vector");
  assert_int_equal(json_integer_value(json_object_get(tv, "hardware")), 2);
  assert_int_equal(json_integer_value(json_object_get(tv, "executables")), 3);
  free(tok);
  json_decref(p);
  /* non-string argument: an error naming the function, the server's fault */
  expect_policy_failure(as, "qrvnum",
                        "package policy\nimport rego.v1\n"
                        "trust_claims := {\"hardware\": 2} if query_reference_value(1) == null\n",
                        "query_reference_value");
  /* wrong arity is refused when the policy is set */
  e = tr_as_set_policy(as, "qrvarity_cpu",
                       "package policy\nimport rego.v1\n"
                       "trust_claims := {\"hardware\": 2} if query_reference_value(\"a\", \"b\") == null\n");
  assert_non_null(e);
  assert_int_equal(tr_err_code(e), TR_E_INVALID);
  tr_err_free(e);
  /* strict builtin errors */
  expect_policy_failure(as, "strict",
                        "package policy\nimport rego.v1\n"
                        "default hw := 97\nhw := to_number(\"x\")\n"
                        "trust_claims := {\"hardware\": hw}\n",
                        "strict_cpu");
  tr_as_free(as);
}

/* One policy replaced while other threads evaluate it: every evaluation sees
 * one whole version (the compiled copy in use stays alive). */
static void *flip_hammer(void *arg) {
  long me = (long)arg;
  static const char *const ver[2] = {"package policy\nimport rego.v1\ntrust_claims := {\"hardware\": 2}\n",
                                     "package policy\nimport rego.v1\ntrust_claims := {\"hardware\": 33}\n"};
  for (int i = 0; i < 60; i++) {
    tr_err *e = NULL;
    if (me % 2 == 0 && i % 3 == 0 && (e = tr_as_set_policy(shared_as, "flip_cpu", ver[(i / 3) % 2]))) {
      tr_err_free(e);
      return (void *)1;
    }
    char *tok = evaluate(shared_as, "{\"svn\":\"1\"}", "flip", &e);
    if (e || !tok) {
      tr_err_free(e);
      return (void *)2;
    }
    json_t *p = payload(tok);
    free(tok);
    json_int_t hw = json_integer_value(json_object_get(
        json_object_get(json_object_get(json_object_get(p, "submods"), "cpu0"), "ear.trustworthiness-vector"),
        "hardware"));
    json_decref(p);
    if (hw != 2 && hw != 33) return (void *)3;
  }
  return NULL;
}

static void test_concurrent_replace_same_policy(void **s) {
  (void)s;
  shared_as = new_as(NULL);
  assert_null(tr_as_set_policy(shared_as, "flip_cpu",
                               "package policy\nimport rego.v1\ntrust_claims := {\"hardware\": 2}\n"));
  pthread_t t[4];
  for (long i = 0; i < 4; i++)
    pthread_create(&t[i], NULL, flip_hammer, (void *)i);
  for (int i = 0; i < 4; i++) {
    void *r = NULL;
    pthread_join(t[i], &r);
    if (r) fail_msg("thread %d failed (%ld)", i, (long)r);
  }
  tr_as_free(shared_as);
}

static void test_errors(void **s) {
  (void)s;
  tr_as *as = new_as(NULL);
  tr_err *e = NULL;
  char *tok = NULL;
  /* upstream's most common surprise: a policy stored as `plain` is not the
   * one EAR evaluates for policy_ids ["plain"] — the error says what to do */
  assert_null(
      tr_as_set_policy(as, "plain", "package policy\nimport rego.v1\ntrust_claims := {\"hardware\": 2}\n"));
  tok = evaluate(as, "{\"svn\":\"1\"}", "plain", &e);
  assert_null(tok);
  assert_int_equal(tr_err_code(e), TR_E_NOTFOUND);
  if (!strstr(tr_err_msg(e), "policy `plain_cpu` not found") ||
      !strstr(tr_err_msg(e), "store it as `plain_cpu`"))
    fail_msg("%s", tr_err_msg(e));
  tr_err_free(e);
  e = tr_as_evaluate(as, NULL, 0, NULL, 0, &tok);
  assert_int_equal(tr_err_code(e), TR_E_INVALID);
  tr_err_free(e);
  json_t *ev = J("{\"svn\":\"1\",\"report_data\":\"AQID\"}");
  tr_as_request r = {.tee = "sample",
                     .evidence = ev,
                     .runtime_data = {.kind = TR_DATA_RAW, .raw = (const uint8_t *)"x", .raw_len = 1}};
  e = tr_as_evaluate(as, &r, 1, NULL, 0, &tok);
  assert_int_equal(tr_err_code(e), TR_E_VERIFY);
  assert_non_null(strstr(tr_err_msg(e), "request 0 (tee sample)"));
  tr_err_free(e);
  r.tee = "nope";
  e = tr_as_evaluate(as, &r, 1, NULL, 0, &tok);
  assert_int_equal(tr_err_code(e), TR_E_UNSUPPORTED);
  tr_err_free(e);
  json_decref(ev);
  char *c = NULL;
  assert_null(tr_as_challenge(as, "sample", NULL, &c));
  assert_string_equal(c, "");
  free(c);
  tr_as_free(as);
  json_t *cfg = J("{\"rvps_config\":{\"type\":\"GrpcRemote\"}}");
  e = tr_as_new(cfg, &as);
  assert_int_equal(tr_err_code(e), TR_E_UNSUPPORTED);
  tr_err_free(e);
  json_decref(cfg);
  cfg = J("{\"attestation_token_broker\":{\"signer\":{\"key_path\":\"/nonexistent\"}}}");
  e = tr_as_new(cfg, &as);
  assert_non_null(e);
  assert_non_null(strstr(tr_err_msg(e), "token signer"));
  tr_err_free(e);
  json_decref(cfg);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_ear_default_policy),
      cmocka_unit_test(test_policy_crud_and_cache),
      cmocka_unit_test(test_delete_drops_cached_copy),
      cmocka_unit_test(test_localfs_defaults_not_overwritten),
      cmocka_unit_test(test_documented_config_shape),
      cmocka_unit_test(test_simple_broker),
      cmocka_unit_test(test_concurrent),
      cmocka_unit_test(test_concurrent_replace_same_policy),
      cmocka_unit_test(test_query_reference_value),
      cmocka_unit_test(test_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
