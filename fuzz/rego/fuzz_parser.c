/* fuzz_parser — Rego module text → parse, compile, and (bounded) evaluate
 * the whole data document. Must never crash, hang or leak, whatever the
 * text; deep nesting must come back as an error. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rego/rego.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 65536) return 0;
  char *text = malloc(size + 1);
  if (!text) return 0;
  memcpy(text, data, size);
  text[size] = 0;
  rego_module_src m = {"fuzz.rego", text};
  rego_host_decl h = {"query_reference_value", 1};
  rego_compile_opts o = {.hosts = &h, .nhosts = 1, .max_depth = 200};
  rego_policy *p = NULL;
  tr_err *e = rego_compile(&m, 1, &o, &p);
  if (e) {
    tr_err_free(e);
  } else {
    json_t *in = json_pack("{s:i,s:[i,s]}", "x", 1, "y", 2, "z");
    rego_eval_opts eo = {.input = in, .max_steps = 20000};
    rego_status st;
    json_t *v = NULL;
    e = rego_eval_rule(p, "data", &eo, &st, &v);
    tr_err_free(e);
    json_decref(v);
    json_t *res = NULL;
    e = rego_eval_query(p, "data.fuzz = x", &eo, &res);
    tr_err_free(e);
    json_decref(res);
    json_decref(in);
    rego_policy_free(p);
  }
  free(text);
  return 0;
}
