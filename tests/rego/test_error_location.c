/* Error locations name the module given to rego_compile even after the
 * caller has freed its copy of the name (the AS compiles from temporary
 * strings); regression test for a dangling file pointer in evaluation errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "rego/rego.h"

static tr_err *failing_host(void *ctx, json_t *const *args, size_t nargs, json_t **result) {
  (void)ctx;
  (void)args;
  (void)nargs;
  (void)result;
  return tr_err_new(TR_E_IO, "reference value provider unreachable");
}

static void test_host_error_names_module_after_name_freed(void **state) {
  (void)state;
  char *name = strdup("policy-under-test.rego");
  rego_module_src mod = {name, "package policy\n\nallow if {\n  query_reference_value(\"x\") == 1\n}\n"};
  rego_host_decl decl = {"query_reference_value", 1};
  rego_compile_opts copts = {.hosts = &decl, .nhosts = 1};
  rego_policy *p = NULL;
  assert_null(rego_compile(&mod, 1, &copts, &p));
  memset(name, 'Z', strlen(name)); /* the caller reuses and frees its buffer */
  free(name);

  rego_host_binding bind = {"query_reference_value", failing_host, NULL};
  rego_eval_opts eo = {.hosts = &bind, .nhosts = 1, .strict_builtin_errors = true};
  rego_status st;
  json_t *v = NULL;
  tr_err *e = rego_eval_rule(p, "data.policy.allow", &eo, &st, &v);
  assert_non_null(e);
  const char *msg = tr_err_msg(e);
  if (!strstr(msg, "policy-under-test.rego:4:")) fail_msg("error does not name the module and line: %s", msg);
  assert_non_null(strstr(msg, "reference value provider unreachable"));
  tr_err_free(e);
  rego_policy_free(p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_host_error_names_module_after_name_freed),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
