/* tmpdir_fixture.h — helpers shared by the cmocka tests that keep stores on
 * disk (kv/test_kv_layout.c, rvps/test_rvps.c): OK() fails the test with the
 * error's message, and mk_tmp/rm_tmp are a setup/teardown pair giving each
 * test a fresh directory `tmpdir` (template TMPDIR_TEMPLATE, which the
 * includer may define first). Include after cmocka.h. */
#ifndef TRUSTEE_TESTS_TMPDIR_FIXTURE_H
#define TRUSTEE_TESTS_TMPDIR_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>

#include "core/error.h"

#ifndef TMPDIR_TEMPLATE
#define TMPDIR_TEMPLATE "/tmp/trtest.XXXXXX"
#endif

#define OK(expr)                                                                                             \
  do {                                                                                                       \
    tr_err *e_ = (expr);                                                                                     \
    if (e_) fail_msg("%s: %s", #expr, tr_err_msg(e_));                                                       \
  } while (0)

static char tmpdir[128];

static int mk_tmp(void **state) {
  (void)state;
  snprintf(tmpdir, sizeof tmpdir, TMPDIR_TEMPLATE);
  return mkdtemp(tmpdir) ? 0 : -1;
}

static int rm_tmp(void **state) {
  (void)state;
  char cmd[200];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
  return system(cmd) == 0 ? 0 : -1;
}

#endif
