/* RVPS core: register/query/list/delete, expiry, message errors, config
 * shapes, restart persistence (LocalFs, LocalJson), concurrent
 * registrations, custom ops. */
/* cmocka needs these first */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/encoding.h"
#include "core/json.h"
#include "kv/kv.h"
#include "rvps/rvps.h"

#define TMPDIR_TEMPLATE "/tmp/rvpstest.XXXXXX"
#include "../kv/tmpdir_fixture.h"

/* A sample message for a JSON object text. */
static char *sample_msg(const char *obj_json, const char *field) {
  char *b64 = tr_b64_encode(obj_json, strlen(obj_json), TR_B64_STD);
  char *m;
  assert_true(asprintf(&m, "{\"version\":\"0.1.0\",\"type\":\"sample\",\"%s\":\"%s\"}", field, b64) > 0);
  free(b64);
  return m;
}

static void reg(tr_rvps *r, const char *obj_json) {
  char *m = sample_msg(obj_json, "payload");
  OK(tr_rvps_register(r, m, strlen(m)));
  free(m);
}

static void expect_query(tr_rvps *r, const char *name, const char *want_json) {
  json_t *v;
  OK(tr_rvps_query(r, name, &v));
  if (!want_json) {
    assert_null(v);
    return;
  }
  assert_non_null(v);
  char *got = tr_json_dump_sorted(v);
  assert_string_equal(got, want_json);
  free(got);
  json_decref(v);
}

static void expect_error(tr_rvps *r, const char *msg, tr_code code, const char *substr) {
  tr_err *e = tr_rvps_register(r, msg, strlen(msg));
  if (!e) fail_msg("register succeeded for %s", msg);
  if (tr_err_code(e) != code || !strstr(tr_err_msg(e), substr))
    fail_msg("for %s: got code %d message `%s`, want code %d containing `%s`", msg, tr_err_code(e),
             tr_err_msg(e), code, substr);
  tr_err_free(e);
}

static void test_register_query_list_delete(void **state) {
  (void)state;
  tr_rvps *r;
  OK(tr_rvps_from_config(NULL, &r));
  reg(r, "{\"svn\":[\"1\"],\"launch_digest\":[\"abcde\"],\"major_version\":1,\"flag\":true,\"obj\":{\"a\":[1,"
         "2]}}");
  expect_query(r, "svn", "[\"1\"]");
  expect_query(r, "launch_digest", "[\"abcde\"]");
  expect_query(r, "major_version", "1");
  expect_query(r, "flag", "true");
  expect_query(r, "obj", "{\"a\":[1,2]}");
  expect_query(r, "unknown", NULL);
  expect_query(r, "not a key!", NULL); /* unstorable name: absent, not an error */
  /* re-register overwrites */
  reg(r, "{\"svn\":[\"2\",\"3\"]}");
  expect_query(r, "svn", "[\"2\",\"3\"]");
  /* provenance is accepted for payload */
  char *m = sample_msg("{\"via_provenance\":5}", "provenance");
  OK(tr_rvps_register(r, m, strlen(m)));
  free(m);
  expect_query(r, "via_provenance", "5");
  /* version may be omitted (upstream default 0.1.0) */
  char *b64 = tr_b64_encode("{\"nover\":1}", 11, TR_B64_STD);
  char msg[256];
  snprintf(msg, sizeof msg, "{\"type\":\"sample\",\"payload\":\"%s\",\"extra\":1}", b64);
  free(b64);
  OK(tr_rvps_register(r, msg, strlen(msg)));
  expect_query(r, "nover", "1");

  json_t *recs;
  OK(tr_rvps_list(r, &recs));
  assert_int_equal(json_array_size(recs), 7);
  json_t *first = json_array_get(recs, 0);
  assert_string_equal(json_string_value(json_object_get(first, "name")), "flag");
  assert_string_equal(json_string_value(json_object_get(first, "version")), "0.1.0");
  int64_t exp;
  OK(tr_rvps_parse_time(json_string_value(json_object_get(first, "expiration")), &exp));
  int64_t now = (int64_t)time(NULL);
  assert_true(exp > now + 364 * 86400 && exp <= now + 367 * 86400);
  json_decref(recs);

  json_t *all;
  OK(tr_rvps_query_all(r, &all));
  assert_int_equal(json_object_size(all), 7);
  assert_int_equal(json_integer_value(json_object_get(all, "major_version")), 1);
  json_decref(all);

  OK(tr_rvps_delete(r, "svn"));
  expect_query(r, "svn", NULL);
  tr_err *e = tr_rvps_delete(r, "svn");
  assert_non_null(e);
  assert_int_equal(tr_err_code(e), TR_E_NOTFOUND);
  assert_non_null(strstr(tr_err_msg(e), "reference value `svn` not found"));
  tr_err_free(e);
  tr_rvps_free(r);
}

static void test_expired_not_returned(void **state) {
  (void)state;
  tr_kv *kv;
  OK(tr_kv_open("Memory", NULL, &kv));
  tr_rvps *r;
  OK(tr_rvps_new(kv, &r));
  const char *old =
      "{\"version\":\"0.1.0\",\"name\":\"old\",\"expiration\":\"2020-01-01T00:00:00Z\",\"value\":[\"x\"]}";
  const char *bad = "{\"version\":\"0.1.0\",\"name\":\"bad\",\"expiration\":\"soon\",\"value\":1}";
  OK(tr_kv_set(kv, TR_RVPS_NAMESPACE, "old", old, strlen(old), true, 0));
  OK(tr_kv_set(kv, TR_RVPS_NAMESPACE, "bad", bad, strlen(bad), true, 0));
  reg(r, "{\"fresh\":[\"y\"]}");
  expect_query(r, "old", NULL);
  expect_query(r, "bad", NULL);
  expect_query(r, "fresh", "[\"y\"]");
  json_t *all;
  OK(tr_rvps_query_all(r, &all));
  assert_int_equal(json_object_size(all), 1);
  json_decref(all);
  json_t *recs;
  OK(tr_rvps_list(r, &recs)); /* list shows expired records too */
  assert_int_equal(json_array_size(recs), 3);
  json_decref(recs);
  /* corrupt stored record: a clear error */
  OK(tr_kv_set(kv, TR_RVPS_NAMESPACE, "junk", "{", 1, true, 0));
  json_t *v;
  tr_err *e = tr_rvps_query(r, "junk", &v);
  assert_non_null(e);
  assert_non_null(strstr(tr_err_msg(e), "stored reference value `junk` is corrupt"));
  tr_err_free(e);
  tr_rvps_free(r);
  tr_kv_close(kv);
}

static void test_message_errors(void **state) {
  (void)state;
  tr_rvps *r;
  OK(tr_rvps_from_config(NULL, &r));
  char *good = tr_b64_encode("{\"a\":1}", 7, TR_B64_STD);
  const char *b64 = good;
  char msg[512];
  snprintf(msg, sizeof msg, "{\"version\":\"0.2.0\",\"type\":\"sample\",\"payload\":\"%s\"}", b64);
  expect_error(r, msg, TR_E_INVALID, "Version unmatched! Need 0.1.0, given 0.2.0.");
  snprintf(msg, sizeof msg, "{\"version\":1,\"type\":\"sample\",\"payload\":\"%s\"}", b64);
  expect_error(r, msg, TR_E_INVALID, "field `version`: expected string");
  snprintf(msg, sizeof msg, "{\"version\":\"0.1.0\",\"type\":\"nope\",\"payload\":\"%s\"}", b64);
  expect_error(r, msg, TR_E_INVALID, "Could not find extractor for `nope`");
  snprintf(msg, sizeof msg, "{\"version\":\"0.1.0\",\"type\":\"corim\",\"payload\":\"%s\"}", b64);
  expect_error(r, msg, TR_E_UNSUPPORTED, "extractor `corim` not supported yet");
  snprintf(msg, sizeof msg, "{\"version\":\"0.1.0\",\"type\":\"swid\",\"payload\":\"%s\"}", b64);
  expect_error(r, msg, TR_E_UNSUPPORTED, "extractor `swid` not supported yet");
  expect_error(r, "{\"version\":\"0.1.0\",\"type\":\"sample\"}", TR_E_INVALID, "missing field `payload`");
  expect_error(r, "{\"version\":\"0.1.0\",\"payload\":\"e30=\"}", TR_E_INVALID, "field `type`");
  expect_error(r, "{\"version\":\"0.1.0\",\"type\":\"sample\",\"payload\":7}", TR_E_INVALID,
               "field `payload`: expected string");
  expect_error(r, "{\"version\":\"0.1.0\",\"type\":\"sample\",\"payload\":\"e30=\",\"provenance\":\"e30K\"}",
               TR_E_INVALID, "both `payload` and `provenance`");
  expect_error(r, "{\"version\":\"0.1.0\",\"type\":\"sample\",\"payload\":\"not base64!\"}", TR_E_INVALID,
               "payload: base64 decode");
  expect_error(r, "{\"version\":\"0.1.0\",\"type\":\"sample\",\"payload\":\"WzFd\"}", TR_E_INVALID,
               "sample provenance must be a JSON object, got array");
  expect_error(r, "{\"version\":\"0.1.0\",\"type\":\"sample\",\"payload\":\"e30\"}", TR_E_INVALID,
               "payload: base64 decode"); /* padding required (STANDARD) */
  char *badname = sample_msg("{\"bad name\":1}", "payload");
  expect_error(r, badname, TR_E_INVALID, "member `bad name`: reference value name: invalid key");
  free(badname);
  expect_error(r, "not json", TR_E_INVALID, "parse message: invalid JSON");
  expect_error(r, "[1]", TR_E_INVALID, "expected a JSON object, got array");
  expect_error(r, "{\"type\":\"sample\",\"type\":\"sample\",\"payload\":\"e30=\"}", TR_E_INVALID,
               "duplicate");
  /* nothing was stored by the failures */
  json_t *recs;
  OK(tr_rvps_list(r, &recs));
  assert_int_equal(json_array_size(recs), 0);
  json_decref(recs);
  free(good);
  tr_rvps_free(r);
}

static void test_time_and_expiration(void **state) {
  (void)state;
  int64_t t;
  OK(tr_rvps_parse_time("2028-02-29T12:00:00Z", &t));
  char buf[32];
  tr_rvps_format_time(t, buf);
  assert_string_equal(buf, "2028-02-29T12:00:00Z");
  const char *bad[] = {"2027-02-29T00:00:00Z",
                       "2027-13-01T00:00:00Z",
                       "2027-01-01T00:00:00",
                       "2027-01-01 00:00:00Z",
                       "2027-01-01T24:00:00Z",
                       "2027-01-01T00:00:00.5Z",
                       ""};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    tr_err *e = tr_rvps_parse_time(bad[i], &t);
    assert_non_null(e);
    tr_err_free(e);
  }
  /* now + 12 months, Feb 29 clamped as chrono's checked_add_months */
  OK(tr_rvps_parse_time("2028-02-29T12:00:00Z", &t));
  const char *msg = "{\"version\":\"0.1.0\",\"type\":\"sample\",\"payload\":\"eyJhIjoxfQ==\"}";
  json_t *recs;
  OK(tr_rvps_extract(msg, strlen(msg), t, &recs));
  assert_int_equal(json_array_size(recs), 1);
  char *text = tr_json_dump_compact(json_array_get(recs, 0));
  assert_string_equal(
      text, "{\"version\":\"0.1.0\",\"name\":\"a\",\"expiration\":\"2029-02-28T12:00:00Z\",\"value\":1}");
  free(text);
  json_decref(recs);
}

static tr_rvps *open_cfg(const char *json) {
  json_t *cfg;
  OK(tr_json_parse(json, strlen(json), &cfg));
  tr_rvps *r;
  OK(tr_rvps_from_config(cfg, &r));
  json_decref(cfg);
  return r;
}

static void test_restart_localfs(void **state) {
  (void)state;
  char cfg[512];
  snprintf(cfg, sizeof cfg, "{\"store_type\":\"LocalFs\",\"store_config\":{\"file_path\":\"%s/fs\"}}",
           tmpdir);
  tr_rvps *r = open_cfg(cfg);
  reg(r, "{\"svn\":[\"1\"],\"rtmr_1\":[\"aa\",\"bb\"]}");
  tr_rvps_free(r);
  /* upstream's layout: <dir>/reference_value/<name>, raw JSON record */
  char path[256];
  snprintf(path, sizeof path, "%s/fs/reference_value/svn", tmpdir);
  uint8_t *data;
  size_t n;
  OK(tr_read_file(path, 0, &data, &n));
  assert_non_null(strstr((char *)data, "\"name\":\"svn\""));
  free(data);
  /* reopened through upstream's shape on the same directory */
  snprintf(
      cfg, sizeof cfg,
      "{\"storage\":{\"storage_type\":\"LocalFs\",\"backends\":{\"local_fs\":{\"dir_path\":\"%s/fs\"}}}}",
      tmpdir);
  r = open_cfg(cfg);
  expect_query(r, "svn", "[\"1\"]");
  expect_query(r, "rtmr_1", "[\"aa\",\"bb\"]");
  tr_rvps_free(r);
}

static void test_restart_localjson(void **state) {
  (void)state;
  char cfg[512];
  snprintf(cfg, sizeof cfg, "{\"store_type\":\"LocalJson\",\"store_config\":{\"file_path\":\"%s/rv.json\"}}",
           tmpdir);
  tr_rvps *r = open_cfg(cfg);
  reg(r, "{\"svn\":[\"1\"]}");
  tr_rvps_free(r);
  r = open_cfg(cfg);
  expect_query(r, "svn", "[\"1\"]");
  tr_rvps_free(r);
  /* upstream's current shape: <file_dir_path>/reference_value = {name: b64url(record)} */
  snprintf(cfg, sizeof cfg,
           "{\"storage\":{\"storage_type\":\"local_json\",\"backends\":{\"local_json\":{\"file_dir_path\":\"%"
           "s/lj\"}}}}",
           tmpdir);
  r = open_cfg(cfg);
  reg(r, "{\"svn\":[\"1\"]}");
  tr_rvps_free(r);
  char path[256];
  snprintf(path, sizeof path, "%s/lj/reference_value", tmpdir);
  uint8_t *data;
  size_t n;
  OK(tr_read_file(path, 0, &data, &n));
  json_t *obj;
  OK(tr_json_parse((char *)data, n, &obj));
  free(data);
  const char *b64 = json_string_value(json_object_get(obj, "svn"));
  assert_non_null(b64);
  uint8_t *rec;
  OK(tr_b64_decode(b64, (size_t)-1, TR_B64_URL, &rec, &n));
  assert_non_null(strstr((char *)rec, "\"value\":[\"1\"]"));
  free(rec);
  json_decref(obj);
  r = open_cfg(cfg);
  expect_query(r, "svn", "[\"1\"]");
  tr_rvps_free(r);
}

static void test_legacy_localjson_array(void **state) {
  (void)state;
  char path[256], cfg[512];
  snprintf(path, sizeof path, "%s/legacy.json", tmpdir);
  const char *legacy =
      "[{\"version\":\"0.1.0\",\"name\":\"svn\",\"expiration\":\"2999-01-01T00:00:00Z\",\"value\":[\"7\"]}]";
  OK(tr_write_file_atomic(path, legacy, strlen(legacy), 0600));
  snprintf(cfg, sizeof cfg, "{\"storage\":{\"type\":\"LocalJson\",\"file_path\":\"%s\"}}", path);
  tr_rvps *r = open_cfg(cfg);
  expect_query(r, "svn", "[\"7\"]");
  reg(r, "{\"other\":1}");
  expect_query(r, "svn", "[\"7\"]");
  expect_query(r, "other", "1");
  tr_rvps_free(r);
}

static void test_config_shapes(void **state) {
  (void)state;
  struct {
    const char *cfg;
    tr_code code;
    const char *substr;
  } bad[] = {
      {"{\"storage\":{\"storage_type\":\"LocalFs\"}}", TR_E_INVALID, "LocalFs configuration is required"},
      {"{\"storage\":{\"storage_type\":\"Floppy\"}}", TR_E_INVALID, "unknown storage_type `Floppy`"},
      {"{\"store_type\":\"Floppy\"}", TR_E_INVALID, "unknown storage_type `Floppy`"},
      {"{\"type\":\"GrpcRemote\",\"address\":\"127.0.0.1:50003\"}", TR_E_UNSUPPORTED, "GrpcRemote"},
      {"{\"type\":\"Other\"}", TR_E_INVALID, "unknown RVPS type `Other`"},
      {"{\"type\":\"BuiltIn\",\"storage_type\":\"LocalJson\"}", TR_E_INVALID,
       "LocalJson configuration is required"},
      {"{\"store_type\":5}", TR_E_INVALID, "field `store_type`: expected string"},
      {"[]", TR_E_INVALID, "expected object"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    json_t *cfg;
    OK(tr_json_parse(bad[i].cfg, strlen(bad[i].cfg), &cfg));
    tr_rvps *r = NULL;
    tr_err *e = tr_rvps_from_config(cfg, &r);
    json_decref(cfg);
    if (!e) fail_msg("config %s accepted", bad[i].cfg);
    if (tr_err_code(e) != bad[i].code || !strstr(tr_err_msg(e), bad[i].substr))
      fail_msg("config %s: `%s` (code %d)", bad[i].cfg, tr_err_msg(e), tr_err_code(e));
    tr_err_free(e);
    assert_null(r);
  }
  /* AS shape: BuiltIn sharing the AS storage_backend, with a type override */
  char sb[512];
  snprintf(sb, sizeof sb,
           "{\"storage_type\":\"Memory\",\"backends\":{\"local_fs\":{\"dir_path\":\"%s/asfs\"}}}", tmpdir);
  json_t *sbj, *rc;
  OK(tr_json_parse(sb, strlen(sb), &sbj));
  {
    const char *t = "{\"type\":\"BuiltIn\",\"storage_type\":\"LocalFs\"}";
    OK(tr_json_parse(t, strlen(t), &rc));
  }
  tr_rvps *r;
  OK(tr_rvps_from_as_config(rc, sbj, &r));
  reg(r, "{\"x\":1}");
  tr_rvps_free(r);
  char path[256];
  snprintf(path, sizeof path, "%s/asfs/reference_value/x", tmpdir);
  assert_int_equal(access(path, F_OK), 0);
  OK(tr_rvps_from_as_config(NULL, NULL, &r)); /* default: Memory */
  tr_rvps_free(r);
  json_decref(sbj);
  json_decref(rc);
  r = open_cfg("{}");
  reg(r, "{\"m\":1}");
  expect_query(r, "m", "1");
  tr_rvps_free(r);
}

/* ---- concurrency ---------------------------------------------------------- */

#define THREADS 4
#define PER_THREAD 20

typedef struct {
  tr_rvps *r;
  int id;
} worker;

static void *register_many(void *arg) {
  worker *w = arg;
  for (int j = 0; j < PER_THREAD; j++) {
    char obj[128];
    snprintf(obj, sizeof obj, "{\"t%d_%d\":[%d],\"shared\":[%d]}", w->id, j, j, w->id);
    reg(w->r, obj);
  }
  return NULL;
}

static void concurrent(const char *cfg_json) {
  tr_rvps *r = open_cfg(cfg_json);
  pthread_t t[THREADS];
  worker w[THREADS];
  for (int i = 0; i < THREADS; i++) {
    w[i] = (worker){r, i};
    pthread_create(&t[i], NULL, register_many, &w[i]);
  }
  for (int i = 0; i < THREADS; i++)
    pthread_join(t[i], NULL);
  json_t *all;
  OK(tr_rvps_query_all(r, &all));
  assert_int_equal(json_object_size(all), THREADS * PER_THREAD + 1);
  for (int i = 0; i < THREADS; i++)
    for (int j = 0; j < PER_THREAD; j++) {
      char name[32];
      snprintf(name, sizeof name, "t%d_%d", i, j);
      json_t *v = json_object_get(all, name);
      assert_non_null(v);
      assert_int_equal(json_integer_value(json_array_get(v, 0)), j);
    }
  json_decref(all);
  tr_rvps_free(r);
}

static void test_concurrent_registrations(void **state) {
  (void)state;
  char cfg[512];
  snprintf(cfg, sizeof cfg, "{\"store_type\":\"LocalJson\",\"store_config\":{\"file_path\":\"%s/c.json\"}}",
           tmpdir);
  concurrent(cfg);
  snprintf(cfg, sizeof cfg,
           "{\"storage\":{\"storage_type\":\"LocalJson\",\"backends\":{\"local_json\":{\"file_dir_path\":\"%"
           "s/cj\"}}}}",
           tmpdir);
  concurrent(cfg);
  snprintf(cfg, sizeof cfg, "{\"store_type\":\"LocalFs\",\"store_config\":{\"file_path\":\"%s/cfs\"}}",
           tmpdir);
  concurrent(cfg);
  concurrent("{\"store_type\":\"Memory\"}");
}

/* ---- custom ops ------------------------------------------------------------- */

typedef struct {
  int queries, freed;
} fake;

static tr_err *fake_query(void *state, const char *name, json_t **value) {
  fake *f = state;
  f->queries++;
  *value = !strcmp(name, "known") ? json_string("remote") : NULL;
  return NULL;
}

static void fake_free(void *state) { ((fake *)state)->freed++; }

static void test_custom_ops(void **state) {
  (void)state;
  static const tr_rvps_ops ops = {.name = "GrpcRemote", .query = fake_query, .free = fake_free};
  fake f = {0};
  tr_rvps *r;
  OK(tr_rvps_new_custom(&ops, &f, &r));
  expect_query(r, "known", "\"remote\"");
  expect_query(r, "other", NULL);
  assert_int_equal(f.queries, 2);
  tr_err *e = tr_rvps_register(r, "{}", 2);
  assert_non_null(e);
  assert_int_equal(tr_err_code(e), TR_E_UNSUPPORTED);
  assert_non_null(strstr(tr_err_msg(e), "GrpcRemote RVPS does not support register"));
  tr_err_free(e);
  tr_rvps_free(r);
  assert_int_equal(f.freed, 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_register_query_list_delete),
      cmocka_unit_test(test_expired_not_returned),
      cmocka_unit_test(test_message_errors),
      cmocka_unit_test(test_time_and_expiration),
      cmocka_unit_test_setup_teardown(test_restart_localfs, mk_tmp, rm_tmp),
      cmocka_unit_test_setup_teardown(test_restart_localjson, mk_tmp, rm_tmp),
      cmocka_unit_test_setup_teardown(test_legacy_localjson_array, mk_tmp, rm_tmp),
      cmocka_unit_test_setup_teardown(test_config_shapes, mk_tmp, rm_tmp),
      cmocka_unit_test_setup_teardown(test_concurrent_registrations, mk_tmp, rm_tmp),
      cmocka_unit_test(test_custom_ops),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
