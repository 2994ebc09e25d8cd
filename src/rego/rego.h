/* rego.h — the public API of the Rego v1 engine.
 *
 * Compile once, evaluate many times: a rego_policy is immutable after
 * rego_compile and may be evaluated concurrently from any number of threads
 * without locking. Evaluation allocates only per-call state.
 *
 * Values cross the API as jansson JSON (input, data, results, host function
 * arguments) or, on the hot path, as pre-converted rego_value handles so an
 * input that is evaluated by several rules is converted once. Rego sets come
 * out as JSON arrays and non-string object keys as their JSON text. */
#ifndef TRUSTEE_REGO_REGO_H
#define TRUSTEE_REGO_REGO_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

typedef struct rego_policy rego_policy;
typedef struct rego_value rego_value;

typedef struct {
  const char *name; /* file name for messages ("policy.rego") */
  const char *text; /* module source, NUL-terminated */
} rego_module_src;

/* A host function: called with `nargs` defined arguments (an undefined
 * argument makes the call undefined without calling). Set *result to a new
 * JSON reference, or leave it NULL for "undefined". Returning an error
 * aborts the evaluation with that error. */
typedef tr_err *(*rego_host_fn)(void *ctx, json_t *const *args, size_t nargs, json_t **result);

typedef struct {
  const char *name; /* e.g. "query_reference_value" (may be dotted) */
  int arity;
} rego_host_decl;

typedef struct {
  const rego_host_decl *hosts; /* functions the modules may call */
  size_t nhosts;
  int max_depth;  /* parser nesting limit; 0 = default (1000) */
  bool v0_compat; /* also accept v0 rule bodies without `if` (`p { }`, `p[x] { }`);
                     false (default) rejects them, as Trustee's regorus does */
} rego_compile_opts;

/* Errors carry "file:line:col: message". opts may be NULL. */
tr_err *rego_compile(const rego_module_src *modules, size_t nmodules, const rego_compile_opts *opts,
                     rego_policy **out);
void rego_policy_free(rego_policy *p);

/* True when the policy defines a rule (or package subtree) at `path`
 * ("data.policy.allow"). */
bool rego_policy_defines(const rego_policy *p, const char *path);

typedef struct {
  const char *name;
  rego_host_fn fn;
  void *ctx;
} rego_host_binding;

typedef struct {
  const json_t *input;           /* NULL: input undefined (unless input_value) */
  const rego_value *input_value; /* pre-converted input; wins over `input` */
  const json_t *data;            /* base data document; NULL = {} */
  const rego_value *data_value;  /* pre-converted data; wins over `data` */
  const rego_host_binding *hosts;
  size_t nhosts;
  bool strict_builtin_errors; /* Trustee runs strict */
  uint64_t max_steps;         /* 0 = default (10 million) */
  int64_t time_ns;            /* time.now_ns(); 0 = real clock, fixed per evaluation */
  size_t max_memory;          /* bytes of values one evaluation may build; 0 = default (256 MiB) */
} rego_eval_opts;

typedef enum {
  REGO_DEFINED = 0, /* *value is set */
  REGO_UNDEFINED,   /* the rule exists but produced no value */
  REGO_NO_RULE,     /* the policy defines nothing at that path */
} rego_status;

/* Evaluates a rule/document path such as "data.policy.allow".
 * *value (new reference) is set only for REGO_DEFINED. */
tr_err *rego_eval_rule(const rego_policy *p, const char *path, const rego_eval_opts *opts,
                       rego_status *status, json_t **value);

/* Evaluates a query body ("data.policy.x == 1; y := 2") against the policy
 * and returns OPA's result shape: {"result":[{"expressions":[{"value":..,
 * "text":..,"location":{"row":..,"col":..}}],"bindings":{..}}]} or {} when
 * undefined. The query is parsed and compiled per call (CLI use). */
tr_err *rego_eval_query(const rego_policy *p, const char *query, const rego_eval_opts *opts, json_t **result);

/* The same, as text with exact numbers (integers beyond 64 bits keep their
 * digits, which jansson cannot hold). REGO_TEXT_JSON: OPA's result shape,
 * indented; REGO_TEXT_PRETTY: for humans — the value of a lone expression,
 * else the bindings of each row, or `undefined`. *out is malloc'd. */
typedef enum { REGO_TEXT_JSON = 0, REGO_TEXT_PRETTY = 1 } rego_text_format;
tr_err *rego_eval_query_text(const rego_policy *p, const char *query, const rego_eval_opts *opts,
                             rego_text_format format, char **out);

/* Converting JSON to engine values once, for repeated evaluation. */
tr_err *rego_value_from_json_text(const char *text, size_t len, rego_value **out); /* exact big numbers */
tr_err *rego_value_from_json(const json_t *json, rego_value **out);
json_t *rego_value_to_json(const rego_value *v);
void rego_value_free(rego_value *v);

#endif
