/* kv: upstream-compatible on-disk layouts, configuration shapes and their
 * errors, key/namespace validation messages. (The behavioural suite run on
 * every backend is kv_suite.c.) */
/* cmocka needs these first */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/encoding.h"
#include "core/json.h"
#include "kv/kv.h"

#define TMPDIR_TEMPLATE "/tmp/kvlayout.XXXXXX"
#include "tmpdir_fixture.h"

static json_t *parse(const char *text) {
  json_t *j;
  OK(tr_json_parse(text, strlen(text), &j));
  return j;
}

static void expect_file(const char *rel, const void *want, size_t wlen) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", tmpdir, rel);
  uint8_t *data;
  size_t n;
  OK(tr_read_file(path, 0, &data, &n));
  assert_int_equal(n, wlen);
  assert_memory_equal(data, want, wlen);
  free(data);
}

static void test_localfs_layout(void **state) {
  (void)state;
  char cfg[256];
  snprintf(cfg, sizeof cfg, "{\"dir_path\":\"%s/fs\"}", tmpdir);
  json_t *c = parse(cfg);
  tr_kv *kv;
  OK(tr_kv_open("local_fs", c, &kv));
  json_decref(c);
  assert_string_equal(tr_kv_storage_type(kv), "LocalFs");
  OK(tr_kv_set(kv, "repository", "one/two/three", "secret", 6, true, 0));
  expect_file("fs/repository/one\\x2Ftwo\\x2Fthree", "secret", 6); /* upstream's file name */
  /* a file written by upstream is read back, '\x2F' mapped to '/' */
  char path[512];
  snprintf(path, sizeof path, "%s/fs/repository/a\\x2Fb", tmpdir);
  OK(tr_write_file_atomic(path, "raw", 3, 0600));
  char **keys;
  size_t n;
  OK(tr_kv_list(kv, "repository", &keys, &n));
  assert_int_equal(n, 2);
  assert_string_equal(keys[0], "a/b");
  assert_string_equal(keys[1], "one/two/three");
  tr_kv_keys_free(keys, n);
  /* an expiring value carries the envelope; a plain one stays raw */
  OK(tr_kv_set(kv, "kbs_protocol_session", "s1", "v", 1, true, 100));
  snprintf(path, sizeof path, "%s/fs/kbs_protocol_session/s1", tmpdir);
  uint8_t *data;
  OK(tr_read_file(path, 0, &data, &n));
  assert_int_equal(n, 16);
  assert_memory_equal(data, "\0TRKV1\0", 7);
  assert_int_equal(data[15], 'v');
  free(data);
  /* nested namespaces are nested directories, as upstream's join */
  OK(tr_kv_set(kv, "plugin/x", "k", "n", 1, true, 0));
  expect_file("fs/plugin/x/k", "n", 1);
  /* a key too long for a file name after encoding */
  char longkey[400];
  memset(longkey, 'a', sizeof longkey - 1);
  longkey[sizeof longkey - 1] = 0;
  tr_err *e = tr_kv_set(kv, "repository", longkey, "v", 1, true, 0);
  assert_non_null(e);
  assert_int_equal(tr_err_code(e), TR_E_LIMIT);
  tr_err_free(e);
  tr_kv_close(kv);
}

static void test_localjson_layout(void **state) {
  (void)state;
  char cfg[256];
  snprintf(cfg, sizeof cfg, "{\"file_dir_path\":\"%s/lj\"}", tmpdir);
  json_t *c = parse(cfg);
  tr_kv *kv;
  OK(tr_kv_open("LocalJson", c, &kv));
  json_decref(c);
  const uint8_t val[] = {0xfb, 0xff, 0x00, 'x'};
  OK(tr_kv_set(kv, "attestation_service_policy", "default_cpu.rego", val, sizeof val, true, 0));
  char path[512];
  snprintf(path, sizeof path, "%s/lj/attestation_service_policy", tmpdir);
  uint8_t *data;
  size_t n;
  OK(tr_read_file(path, 0, &data, &n));
  /* base64url with padding, as upstream */
  assert_string_equal((char *)data, "{\"default_cpu.rego\":\"-_8AeA==\"}");
  free(data);
  /* a file written by upstream (its own base64url) is read */
  const char *up = "{\"svn\":\"eyJ2ZXJzaW9uIjoiMC4xLjAifQ==\"}";
  snprintf(path, sizeof path, "%s/lj/reference_value", tmpdir);
  OK(tr_write_file_atomic(path, up, strlen(up), 0600));
  uint8_t *v;
  OK(tr_kv_get(kv, "reference_value", "svn", &v, &n));
  assert_string_equal((char *)v, "{\"version\":\"0.1.0\"}");
  free(v);
  /* a corrupt file is an error naming it, never an empty store */
  OK(tr_write_file_atomic(path, "{", 1, 0600));
  tr_err *e = tr_kv_get(kv, "reference_value", "svn", &v, &n);
  assert_non_null(e);
  assert_non_null(strstr(tr_err_msg(e), "reference_value"));
  tr_err_free(e);
  e = tr_kv_set(kv, "reference_value", "svn", "x", 1, true, 0);
  assert_non_null(e); /* and is not overwritten */
  tr_err_free(e);
  tr_kv_close(kv);
}

static void expect_open_error(const char *sb, const char *override, tr_code code, const char *substr) {
  json_t *j = sb ? parse(sb) : NULL;
  tr_kv *kv = NULL;
  tr_err *e = tr_kv_open_storage_backend(j, override, &kv);
  json_decref(j);
  if (!e) fail_msg("%s opened", sb ? sb : "(null)");
  if (tr_err_code(e) != code || !strstr(tr_err_msg(e), substr))
    fail_msg("%s: `%s` (code %d), want `%s`", sb ? sb : "(null)", tr_err_msg(e), tr_err_code(e), substr);
  tr_err_free(e);
  assert_null(kv);
}

static void test_config_shapes(void **state) {
  (void)state;
  tr_kv *kv;
  OK(tr_kv_open_storage_backend(NULL, NULL, &kv));
  assert_string_equal(tr_kv_storage_type(kv), "Memory");
  tr_kv_close(kv);
  char sb[512];
  snprintf(sb, sizeof sb,
           "{\"storage_type\":\"Memory\",\"backends\":{\"local_fs\":{\"dir_path\":\"%s/a\"},"
           "\"sqlite\":{\"path\":\"%s/k.db\"}}}",
           tmpdir, tmpdir);
  json_t *j = parse(sb);
  OK(tr_kv_open_storage_backend(j, "sqlite", &kv)); /* override, as session_storage_type */
  assert_string_equal(tr_kv_storage_type(kv), "Sqlite");
  tr_kv_close(kv);
  OK(tr_kv_open_storage_backend(j, "LocalFs", &kv));
  assert_string_equal(tr_kv_storage_type(kv), "LocalFs");
  tr_kv_close(kv);
  json_decref(j);
  expect_open_error("{\"storage_type\":\"LocalJson\"}", NULL, TR_E_INVALID,
                    "LocalJson configuration is required (storage_backend.backends.local_json)");
  expect_open_error("{\"storage_type\":\"Tape\"}", NULL, TR_E_INVALID, "unknown storage_type `Tape`");
  expect_open_error("{\"storage_type\":3}", NULL, TR_E_INVALID, "storage_type");
  expect_open_error("{\"storage_type\":\"LocalFs\",\"backends\":{\"local_fs\":{\"dir_path\":7}}}", NULL,
                    TR_E_INVALID, "dir_path");
  expect_open_error("{\"storage_type\":\"Redis\",\"backends\":{\"redis\":{\"url\":\"rediss://h:1\"}}}", NULL,
                    TR_E_UNSUPPORTED, "rediss://");
  expect_open_error("{\"storage_type\":\"Redis\",\"backends\":{\"redis\":{\"url\":\"http://h\"}}}", NULL,
                    TR_E_INVALID, "field `url`");
  /* nothing listens on port 1: a clear connection error at open, as upstream */
  if (!getenv("REDIS_URL"))
    expect_open_error(
        "{\"storage_type\":\"Redis\",\"backends\":{\"redis\":{\"url\":\"redis://127.0.0.1:1\"}}}", NULL,
        TR_E_IO, "cannot connect to Redis at 127.0.0.1:1");
  if (!getenv("POSTGRES_URL"))
    expect_open_error("{\"storage_type\":\"Postgres\",\"backends\":{\"postgres\":{\"host\":\"127.0.0.1\","
                      "\"port\":1}}}",
                      NULL, TR_E_IO, "cannot connect to PostgreSQL");
  expect_open_error("{\"storage_type\":\"Postgres\",\"backends\":{\"postgres\":{\"port\":70000}}}", NULL,
                    TR_E_INVALID, "field `port`");
}

static void test_key_messages(void **state) {
  (void)state;
  tr_err *e = tr_kv_check_key("a b");
  assert_non_null(e);
  assert_string_equal(tr_err_msg(e), "invalid key `a b`: character 0x20 at offset 1 (allowed: ASCII letters, "
                                     "digits, '-', '_', '.', '/', ':')");
  tr_err_free(e);
  OK(tr_kv_check_key("rvps:///github.com/confidential-containers/x:v0.18.0"));
  OK(tr_kv_check_key("default/key/1"));
  e = tr_kv_check_namespace("a/../b");
  assert_non_null(e);
  assert_non_null(strstr(tr_err_msg(e), "a segment starts with '.'"));
  tr_err_free(e);
  OK(tr_kv_check_namespace("kbs_protocol_session"));
}

/* LocalJson (file_dir_path) keeps "<ns>.lock" and "<ns>.tmp.XXXXXX" beside
 * each namespace file: a namespace "kbs.lock" would be stored in the lock
 * file of namespace "kbs" (renamed over it, so two writers would lock two
 * different inodes and lose updates). Such names are reserved. */
static void test_reserved_namespace_suffixes(void **state) {
  (void)state;
  const char *bad[] = {"kbs.lock", "a/b.lock", "kbs.tmp.Ab12Cd", "x.tmp.y/z"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    tr_err *e = tr_kv_check_namespace(bad[i]);
    if (!e) fail_msg("namespace `%s` accepted", bad[i]);
    assert_non_null(strstr(tr_err_msg(e), "reserved"));
    tr_err_free(e);
  }
  OK(tr_kv_check_namespace("locks"));
  OK(tr_kv_check_namespace("a.lockfile"));
  OK(tr_kv_check_namespace("v1.tmp"));

  char cfg_text[300];
  snprintf(cfg_text, sizeof cfg_text, "{\"file_dir_path\":\"%s\"}", tmpdir);
  json_t *cfg = parse(cfg_text);
  tr_kv *kv;
  OK(tr_kv_open("LocalJson", cfg, &kv));
  json_decref(cfg);
  OK(tr_kv_set(kv, "kbs", "k", "v", 1, true, 0));
  tr_err *e = tr_kv_set(kv, "kbs.lock", "k", "x", 1, true, 0);
  assert_non_null(e);
  assert_int_equal(tr_err_code(e), TR_E_INVALID);
  tr_err_free(e);
  struct stat st;
  char lock[300];
  snprintf(lock, sizeof lock, "%s/kbs.lock", tmpdir);
  assert_int_equal(stat(lock, &st), 0);
  assert_int_equal(st.st_size, 0); /* still the empty lock file */
  tr_kv_close(kv);
}

/* Coarse timestamps (kernels before multigrain timestamps stamp files with
 * the jiffy clock, 4 ms at HZ=250; some filesystems use 1 s) are simulated
 * by truncating the file's mtime to the current second after every write. */
static void same_tick(const char *file) {
  const struct timespec t[2] = {{time(NULL), 0}, {time(NULL), 0}};
  assert_int_equal(utimensat(AT_FDCWD, file, t, 0), 0);
}

/* LocalJson readers cache the parsed file keyed by (inode, size, mtime).
 * ext4 hands a freed inode number to the next new file, and two rewrites in
 * the same timestamp tick have the same mtime, so "get, set, set, get" with
 * values of one length could see the first file's identity again and return
 * a value that was overwritten twice. Every get must see the last set. */
static void stale_cache_round(const char *cfg_text, const char *file) {
  json_t *cfg = parse(cfg_text);
  tr_kv *kv;
  OK(tr_kv_open("LocalJson", cfg, &kv));
  json_decref(cfg);
  OK(tr_kv_set(kv, "ns", "k", "v0000", 5, true, 0));
  same_tick(file);
  for (int i = 1; i < 400; i += 2) {
    uint8_t *v;
    size_t n;
    char a[8], b[8];
    snprintf(a, sizeof a, "v%04d", i);
    snprintf(b, sizeof b, "v%04d", i + 1);
    OK(tr_kv_get(kv, "ns", "k", &v, &n)); /* caches the current file */
    free(v);
    OK(tr_kv_set(kv, "ns", "k", a, 5, true, 0));
    same_tick(file);
    OK(tr_kv_set(kv, "ns", "k", b, 5, true, 0));
    same_tick(file);
    OK(tr_kv_get(kv, "ns", "k", &v, &n));
    if (n != 5 || memcmp(v, b, 5) != 0) fail_msg("round %d: got `%.*s`, want `%s`", i, (int)n, v, b);
    free(v);
  }
  tr_kv_close(kv);
}

static void test_localjson_cache_sees_every_write(void **state) {
  (void)state;
  char cfg[300], file[300];
  snprintf(cfg, sizeof cfg, "{\"file_dir_path\":\"%s/dir\"}", tmpdir);
  snprintf(file, sizeof file, "%s/dir/ns", tmpdir);
  stale_cache_round(cfg, file);
  snprintf(cfg, sizeof cfg, "{\"file_path\":\"%s/one.json\"}", tmpdir);
  snprintf(file, sizeof file, "%s/one.json", tmpdir);
  stale_cache_round(cfg, file);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_localfs_layout, mk_tmp, rm_tmp),
      cmocka_unit_test_setup_teardown(test_localjson_layout, mk_tmp, rm_tmp),
      cmocka_unit_test_setup_teardown(test_config_shapes, mk_tmp, rm_tmp),
      cmocka_unit_test_setup_teardown(test_localjson_cache_sees_every_write, mk_tmp, rm_tmp),
      cmocka_unit_test(test_key_messages),
      cmocka_unit_test_setup_teardown(test_reserved_namespace_suffixes, mk_tmp, rm_tmp),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
