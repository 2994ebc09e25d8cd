/* Unit tests: log level parsing, TRUSTEE_LOG → RUST_LOG fallback, line format. */
/* cmocka.h needs these before it. */
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"

static void test_parse_level(void **state) {
  (void)state;
  static const struct {
    const char *s;
    tr_log_level want;
  } ok[] = {{"error", TR_LOG_ERROR}, {"WARN", TR_LOG_WARN},   {"warning", TR_LOG_WARN},
            {"Info", TR_LOG_INFO},   {"debug", TR_LOG_DEBUG}, {"trace", TR_LOG_TRACE}};
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
    tr_log_level l = TR_LOG_ERROR;
    assert_true(tr_log_parse_level(ok[i].s, &l));
    assert_int_equal(l, ok[i].want);
  }
  tr_log_level l = TR_LOG_TRACE;
  assert_false(tr_log_parse_level("verbose", &l));
  assert_false(tr_log_parse_level("", &l));
  assert_false(tr_log_parse_level("kbs=debug", &l));
  assert_int_equal(l, TR_LOG_TRACE);
}

/* Sets both variables (NULL = unset), resets to info, runs tr_log_init. */
static void init_with(const char *trustee, const char *rust) {
  if (trustee)
    setenv("TRUSTEE_LOG", trustee, 1);
  else
    unsetenv("TRUSTEE_LOG");
  if (rust)
    setenv("RUST_LOG", rust, 1);
  else
    unsetenv("RUST_LOG");
  tr_log_set_level(TR_LOG_INFO);
  tr_log_init();
}

static tr_log_level current(void) {
  for (int l = TR_LOG_TRACE; l > TR_LOG_ERROR; l--)
    if (tr_log_enabled((tr_log_level)l)) return (tr_log_level)l;
  return TR_LOG_ERROR;
}

static void test_env(void **state) {
  (void)state;
  init_with(NULL, NULL);
  assert_int_equal(current(), TR_LOG_INFO); /* default */
  init_with("debug", NULL);
  assert_int_equal(current(), TR_LOG_DEBUG);
  init_with(NULL, "warn");
  assert_int_equal(current(), TR_LOG_WARN);
  init_with("error", "trace"); /* TRUSTEE_LOG wins */
  assert_int_equal(current(), TR_LOG_ERROR);
  init_with("", "trace"); /* empty TRUSTEE_LOG falls back */
  assert_int_equal(current(), TR_LOG_TRACE);
  init_with(NULL, "info,kbs=debug"); /* RUST_LOG directive list: first bare level */
  assert_int_equal(current(), TR_LOG_INFO);
  init_with(NULL, "actix_web=warn,debug");
  assert_int_equal(current(), TR_LOG_DEBUG);
  init_with(NULL, "kbs=debug"); /* no bare level: default */
  assert_int_equal(current(), TR_LOG_INFO);
  init_with("loud", NULL); /* unknown: default */
  assert_int_equal(current(), TR_LOG_INFO);
  assert_true(tr_log_enabled(TR_LOG_ERROR));
  assert_false(tr_log_enabled(TR_LOG_DEBUG));
  unsetenv("TRUSTEE_LOG");
  unsetenv("RUST_LOG");
}

/* Runs fn with stderr redirected to a file and returns what it wrote. */
static void capture_stderr(void (*fn)(void), char *buf, size_t size) {
  char path[] = "/tmp/trlogXXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  fflush(stderr);
  int saved = dup(2);
  dup2(fd, 2);
  fn();
  fflush(stderr);
  dup2(saved, 2);
  close(saved);
  memset(buf, 0, size);
  lseek(fd, 0, SEEK_SET);
  ssize_t n = read(fd, buf, size - 1);
  close(fd);
  unlink(path);
  assert_true(n > 0);
}

static void log_format_lines(void) {
  tr_log_set_level(TR_LOG_INFO);
  tr_log_set_request_id("req-42");
  TR_INFO("kbs", "hello %d", 7);
  tr_log_set_request_id(NULL);
  TR_WARN(NULL, "second");
  TR_DEBUG("kbs", "not shown");
}

static void test_format(void **state) {
  (void)state;
  char buf[1024];
  capture_stderr(log_format_lines, buf, sizeof buf);
  char *nl = strchr(buf, '\n');
  assert_non_null(nl);
  *nl = 0;
  /* "[2026-11-28T07:59:28.123Z INFO kbs req=req-42] hello 7" */
  assert_int_equal(buf[0], '[');
  assert_int_equal(buf[11], 'T');
  assert_non_null(strstr(buf, "Z INFO kbs req=req-42] hello 7"));
  assert_non_null(strstr(nl + 1, " WARN trustee] second\n"));
  assert_null(strstr(nl + 1, "not shown"));
}

static void log_forgery_attempt(void) {
  tr_log_set_level(TR_LOG_INFO);
  TR_WARN("kbs", "invalid key `%s`", "a\n[2026-01-01T00:00:00.000Z INFO kbs] admin login ok\r\x1b[2J\x7f");
}

/* Messages carry attacker-chosen text (keys, ids, JSON excerpts in error
 * messages): a newline in one must not start a forged log line, and other
 * control bytes (ESC sequences) must not reach a terminal. */
static void test_control_chars_escaped(void **state) {
  (void)state;
  char buf[1024];
  capture_stderr(log_forgery_attempt, buf, sizeof buf);
  char *nl = strchr(buf, '\n');
  assert_non_null(nl);
  assert_int_equal(nl[1], 0); /* exactly one line */
  assert_non_null(strstr(
      buf, "invalid key `a\\x0a[2026-01-01T00:00:00.000Z INFO kbs] admin login ok\\x0d\\x1b[2J\\x7f`"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_parse_level),
      cmocka_unit_test(test_env),
      cmocka_unit_test(test_format),
      cmocka_unit_test(test_control_chars_escaped),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
