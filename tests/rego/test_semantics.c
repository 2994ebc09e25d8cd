/* test_semantics.c — differential cases of Rego semantics that decide
 * whether a secret is released: undefined vs false, `not`, default and
 * else, conflicts, `with` scoping, operators, unification, numbers,
 * strict builtin errors; plus robustness against deep/huge inputs and
 * policies. Each expected result is what OPA / regorus (Trustee's engine)
 * give for the same module (reasoned from their documented semantics; the
 * reference is noted where it is not obvious). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "rego/rego.h"

static json_t *J(const char *text) {
  json_t *j = NULL;
  tr_err *e = tr_json_parse(text, strlen(text), &j);
  if (e) fail_msg("bad test JSON %s: %s", text, tr_err_msg(e));
  return j;
}

static rego_policy *compile1(const char *text, tr_err **err) {
  rego_module_src m = {"t.rego", text};
  rego_policy *p = NULL;
  *err = rego_compile(&m, 1, NULL, &p);
  return p;
}

/* One case: `want` is the JSON value, "undefined", "no_rule", or
 * "error:<substring>" (compile or evaluation error). */
typedef struct {
  const char *note;
  const char *policy;
  const char *input; /* NULL: no input */
  const char *rule;
  const char *want;
  bool lenient; /* default: strict builtin errors, as Trustee runs */
} rcase;

static int run_case(const rcase *c) {
  tr_err *e = NULL;
  rego_policy *p = compile1(c->policy, &e);
  char got[4096];
  rego_status st = REGO_NO_RULE;
  json_t *v = NULL;
  if (!e) {
    json_t *in = c->input ? J(c->input) : NULL;
    rego_eval_opts o = {.input = in, .strict_builtin_errors = !c->lenient};
    e = rego_eval_rule(p, c->rule, &o, &st, &v);
    json_decref(in);
  }
  if (e)
    snprintf(got, sizeof got, "error:%s", tr_err_msg(e));
  else if (st == REGO_NO_RULE)
    snprintf(got, sizeof got, "no_rule");
  else if (st == REGO_UNDEFINED)
    snprintf(got, sizeof got, "undefined");
  else {
    char *d = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    snprintf(got, sizeof got, "%s", d);
    free(d);
  }
  int ok;
  if (strncmp(c->want, "error:", 6) == 0) {
    ok = e && strstr(got, c->want + 6) != NULL;
  } else if (!strcmp(c->want, "undefined") || !strcmp(c->want, "no_rule")) {
    ok = !e && !strcmp(got, c->want);
  } else {
    json_t *w = J(c->want);
    ok = !e && st == REGO_DEFINED && json_equal(w, v);
    json_decref(w);
  }
  if (!ok) printf("FAIL %s: want %s, got %s\n", c->note, c->want, got);
  json_decref(v);
  tr_err_free(e);
  rego_policy_free(p);
  return ok;
}

static void run_cases(const rcase *cs, size_t n) {
  int bad = 0;
  for (size_t i = 0; i < n; i++)
    bad += !run_case(&cs[i]);
  assert_int_equal(bad, 0);
}

#define RUN(cs) run_cases(cs, sizeof(cs) / sizeof(cs[0]))

/* ---- operators are never user functions ---- */

/* regorus evaluates `==`, `<`, `+`, ... natively; a package function or rule
 * that happens to be named like OPA's internal operator builtin ("equal",
 * "lt", "plus", ...) must not change what the operator means. (OPA itself
 * had this as a bug: open-policy-agent/opa#4912.) */
static void test_operators_not_shadowed(void **s) {
  (void)s;
  static const rcase cs[] = {
      {"equal fn", "package p\nequal(a, b) := true\nr if 1 == 2\n", NULL, "data.p.r", "undefined"},
      {"lt fn", "package p\nlt(a, b) := true\nr if 3 < 2\n", NULL, "data.p.r", "undefined"},
      {"gte fn", "package p\ngte(a, b) := true\nr if 1 >= 2\n", NULL, "data.p.r", "undefined"},
      {"neq fn", "package p\nneq(a, b) := true\nr if 1 != 1\n", NULL, "data.p.r", "undefined"},
      {"plus rule", "package p\nplus := 5\nr := 1 + 2\n", NULL, "data.p.r", "3"},
      {"minus fn", "package p\nminus(a, b) := 100\nr := 5 - 2\n", NULL, "data.p.r", "3"},
      {"unary minus", "package p\nminus(a, b) := 100\nr := -x if x := 4\n", NULL, "data.p.r", "-4"},
      {"mul/div/rem",
       "package p\nmul(a, b) := 0\ndiv(a, b) := 0\nrem(a, b) := 0\nr := [2 * 3, 6 / 3, 7 % 4]\n", NULL,
       "data.p.r", "[6, 2, 3]"},
      {"and/or sets", "package p\nand(a, b) := 0\nor(a, b) := 0\nr := [{1, 2} & {2}, {1} | {3}]\n", NULL,
       "data.p.r", "[[2], [1, 3]]"},
      {"in", "package p\ninternal := {\"member_2\": 1}\nr if 3 in [2]\n", NULL, "data.p.r", "undefined"},
      /* calling a shadowed name explicitly still reaches the user function */
      {"explicit call", "package p\nequal(a, b) := \"mine\"\nr := equal(1, 2)\n", NULL, "data.p.r",
       "\"mine\""},
      {"count shadowed", "package p\ncount(x) := 7\nr := count([1])\n", NULL, "data.p.r", "7"},
  };
  RUN(cs);
}

/* ---- operator precedence (OPA and regorus: `in` < relations < | < & < + - < * / %) ---- */

static void test_operator_precedence(void **s) {
  (void)s;
  static const rcase cs[] = {
      {"& under ==", "package p\nr if { {2} == {1, 2} & {2} }\n", NULL, "data.p.r", "true"},
      {"| under ==", "package p\nr if { {1, 2} == {1} | {2} }\n", NULL, "data.p.r", "true"},
      {"& before |", "package p\nr := {1} | {2, 3} & {3}\n", NULL, "data.p.r", "[1, 3]"},
      {"| under !=", "package p\nr if { {1} != {1} | {2} }\n", NULL, "data.p.r", "true"},
      {"| in in", "package p\nr if { 3 in {1} | {3} }\n", NULL, "data.p.r", "true"},
      {"- before &", "package p\nr := {1, 2} - {1} & {2, 3}\n", NULL, "data.p.r", "[2]"},
      {"| in later array item", "package p\nr := [1, {1} | {2}]\n", NULL, "data.p.r", "[1, [1, 2]]"},
      {"| in call arg", "package p\nr := count({1} | {2})\n", NULL, "data.p.r", "2"},
      {"| in parens", "package p\nr := [({1} | {2})]\n", NULL, "data.p.r", "[[1, 2]]"},
      {"| in object value", "package p\nr := {\"a\": 1, \"b\": {1} | {2}}\n", NULL, "data.p.r",
       "{\"a\": 1, \"b\": [1, 2]}"},
      {"comprehension bar", "package p\nr := [x | some x in [1, 2]]\n", NULL, "data.p.r", "[1, 2]"},
      {"set comprehension bar", "package p\nr := {x | some x in [1, 2]}\n", NULL, "data.p.r", "[1, 2]"},
      {"object comprehension bar", "package p\nr := {x: 1 | some x in [\"a\"]}\n", NULL, "data.p.r",
       "{\"a\": 1}"},
      {"comprehension with union inside", "package p\nr := [x | some x in {1} | {2}]\n", NULL, "data.p.r",
       "[1, 2]"},
      {"arith", "package p\nr := [1 + 2 * 3, (1 + 2) * 3, 7 - 2 - 1, 8 / 2 / 2, 2 * 3 % 4]\n", NULL,
       "data.p.r", "[7, 9, 4, 2, 2]"},
      {"relations chain", "package p\nr if { 1 < 2 == true }\n", NULL, "data.p.r", "true"},
  };
  RUN(cs);
}

/* ---- with data.<prefix> replaces the rules below it ---- */

static void test_with_data_prefix(void **s) {
  (void)s;
  static const rcase cs[] = {
      {"pkg replaced", "package p\nallow if true\nt := v if { v := data.p.allow with data.p as {} }\n", NULL,
       "data.p.t", "undefined"},
      {"pkg replaced not", "package p\nallow if true\nu := 1 if { not data.p.allow with data.p as {} }\n",
       NULL, "data.p.u", "1"},
      {"pkg replaced value",
       "package p\nallow if true\nt := v if { v := data.p.allow with data.p as {\"allow\": 9} }\n", NULL,
       "data.p.t", "9"},
      {"other package", "package q\nallow if true\n", NULL, "data.q.allow", "true"},
      {"sub package", "package a.b\nallow if true\n", NULL, "data.a.b.allow", "true"},
  };
  RUN(cs);
  /* a second module queried through a replaced ancestor package */
  rego_module_src ms[2] = {{"a.rego", "package a.b\nallow if true\n"},
                           {"q.rego",
                            "package q\nt := v if { v := data.a.b.allow with data.a as {\"b\": {}} }\n"
                            "w := v if { v := data.a.b.allow with data.a.c as 1 }\n"}};
  rego_policy *p = NULL;
  tr_err *e = rego_compile(ms, 2, NULL, &p);
  assert_null(e);
  rego_status st;
  json_t *v = NULL;
  assert_null(rego_eval_rule(p, "data.q.t", NULL, &st, &v));
  assert_int_equal(st, REGO_UNDEFINED);
  assert_null(rego_eval_rule(p, "data.q.w", NULL, &st, &v));
  assert_int_equal(st, REGO_DEFINED);
  assert_true(json_is_true(v));
  json_decref(v);
  rego_policy_free(p);
}

/* ---- long references ---- */

/* A reference with a very long chain of parts (a.b.b.b...) must parse in
 * linear time and memory, or be refused with a clear error. */
static void test_long_ref_chain(void **s) {
  (void)s;
  size_t n = 100000;
  char *text = malloc(n * 2 + 64);
  strcpy(text, "package p\nr := input");
  size_t o = strlen(text);
  for (size_t i = 0; i < n; i++)
    memcpy(text + o + 2 * i, ".b", 2);
  strcpy(text + o + 2 * n, "\n");
  tr_err *e = NULL;
  rego_policy *p = compile1(text, &e);
  if (e) {
    assert_non_null(strstr(tr_err_msg(e), "too long"));
    tr_err_free(e);
  }
  rego_policy_free(p);
  /* the same as a rule head (it would be a 100k-deep document) */
  strcpy(text, "package p\nr");
  o = strlen(text);
  for (size_t i = 0; i < n; i++)
    memcpy(text + o + 2 * i, ".b", 2);
  strcpy(text + o + 2 * n, " := 1\n");
  p = compile1(text, &e);
  if (e) {
    assert_non_null(strstr(tr_err_msg(e), "too long"));
    tr_err_free(e);
  } else {
    rego_status st;
    json_t *v = NULL;
    e = rego_eval_rule(p, "data.p.r", NULL, &st, &v);
    tr_err_free(e);
    json_decref(v);
  }
  rego_policy_free(p);
  free(text);
}

/* ---- deep input ---- */

/* Input nested 100k deep (a json_t built in memory, beyond jansson's
 * parser limit) must give an error, never overflow the C stack. */
static void test_deep_input_json(void **s) {
  (void)s;
  json_t *j = json_integer(1);
  for (int i = 0; i < 100000; i++) {
    json_t *a = json_array();
    json_array_append_new(a, j);
    j = a;
  }
  json_t *in = json_object();
  json_object_set_new(in, "d", j);
  tr_err *e = NULL;
  rego_policy *p = compile1("package p\nc := count(input.d)\neq if input.d == input.d\n", &e);
  assert_null(e);
  rego_eval_opts o = {.input = in, .strict_builtin_errors = true};
  rego_status st;
  json_t *v = NULL;
  e = rego_eval_rule(p, "data.p.c", &o, &st, &v);
  assert_non_null(e);
  assert_non_null(strstr(tr_err_msg(e), "deep"));
  tr_err_free(e);
  rego_eval_opts od = {.data = in};
  e = rego_eval_rule(p, "data.p.eq", &od, &st, &v);
  assert_non_null(e);
  tr_err_free(e);
  rego_value *rv = NULL;
  e = rego_value_from_json(in, &rv);
  assert_non_null(e);
  tr_err_free(e);
  rego_policy_free(p);
  /* jansson's json_decref recurses too: take the chain apart iteratively */
  json_t *cur = json_incref(json_object_get(in, "d"));
  json_decref(in);
  while (json_is_array(cur)) {
    json_t *next = json_incref(json_array_get(cur, 0));
    json_array_clear(cur);
    json_decref(cur);
    cur = next;
  }
  json_decref(cur);
}

/* ---- memory limit ---- */

/* The per-evaluation memory limit holds even when few steps allocate a
 * lot (a builtin result of megabytes per iteration): the limit is checked
 * at every step and after every builtin call, not every 1024 steps. */
static void test_memory_limit(void **s) {
  (void)s;
  tr_err *e = NULL;
  rego_policy *p = compile1(
      "package p\nr := [count(numbers.range(1, 100000 + i)) | some i in numbers.range(1, 20)]\n", &e);
  assert_null(e);
  rego_eval_opts o = {.strict_builtin_errors = true, .max_memory = 8u << 20};
  rego_status st;
  json_t *v = NULL;
  e = rego_eval_rule(p, "data.p.r", &o, &st, &v);
  assert_non_null(e);
  assert_non_null(strstr(tr_err_msg(e), "memory limit"));
  tr_err_free(e);
  /* the default limit lets the same evaluation through */
  rego_eval_opts d = {.strict_builtin_errors = true};
  e = rego_eval_rule(p, "data.p.r", &d, &st, &v);
  assert_null(e);
  assert_int_equal(st, REGO_DEFINED);
  assert_int_equal(json_array_size(v), 20);
  json_decref(v);
  rego_policy_free(p);
}

/* ---- one compiled policy, many threads ---- */

/* Regex (process-wide cache with eviction: 300 distinct patterns per run
 * cycle the 256 entries), time zones (process-wide cache), `with`, rule
 * caches and builtin errors, from 4 threads on one policy. Every run must
 * give the single-threaded result. Run under -fsanitize=thread too. */
static const char *conc_policy =
    "package p\n"
    "pats := [sprintf(\"^a%d+$\", [i]) | some i in numbers.range(1, 300)]\n"
    "matched := count([p | some p in pats; regex.match(p, input.s)])\n"
    "zones := [time.format([0, z, \"15:04 MST\"]) | some z in [\"Europe/Paris\", \"Asia/Tokyo\", "
    "\"America/New_York\"]]\n"
    "x := input.n\n"
    "w := [a, b] if { a := x with input.n as 5; b := x }\n"
    "bad := count([1 | to_number(input.s)])\n"
    "out := {\"matched\": matched, \"zones\": zones, \"w\": w}\n";

typedef struct {
  rego_policy *p;
  const char *want;
  int bad;
} conc_arg;

#include <pthread.h>

static char *conc_eval(rego_policy *p, int n) {
  char buf[128];
  snprintf(buf, sizeof buf, "{\"s\": \"a1111\", \"n\": %d}", n);
  json_t *in = J(buf);
  rego_eval_opts o = {.input = in, .strict_builtin_errors = true};
  rego_status st;
  json_t *v = NULL;
  tr_err *e = rego_eval_rule(p, "data.p.out", &o, &st, &v);
  char *r = e ? strdup(tr_err_msg(e)) : json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
  tr_err_free(e);
  json_decref(v);
  /* strict builtin error aborts; lenient makes the call undefined */
  e = rego_eval_rule(p, "data.p.bad", &o, &st, &v);
  if (!e || !strstr(tr_err_msg(e), "to_number")) {
    free(r);
    r = strdup("strict error lost");
  }
  tr_err_free(e);
  json_decref(in);
  return r;
}

static void *conc_main(void *arg) {
  conc_arg *a = arg;
  for (int i = 0; i < 20; i++) {
    char *r = conc_eval(a->p, 7);
    if (strcmp(r, a->want) != 0) a->bad++;
    free(r);
  }
  return NULL;
}

static void test_concurrent_builtins(void **s) {
  (void)s;
  tr_err *e = NULL;
  rego_policy *p = compile1(conc_policy, &e);
  assert_null(e);
  char *want = conc_eval(p, 7);
  assert_string_equal(want,
                      "{\"matched\":3,\"w\":[5,7],\"zones\":[\"01:00 CET\",\"09:00 JST\",\"19:00 EST\"]}");
  pthread_t t[4];
  conc_arg args[4];
  for (int i = 0; i < 4; i++) {
    args[i] = (conc_arg){p, want, 0};
    assert_int_equal(pthread_create(&t[i], NULL, conc_main, &args[i]), 0);
  }
  for (int i = 0; i < 4; i++) {
    pthread_join(t[i], NULL);
    assert_int_equal(args[i].bad, 0);
  }
  free(want);
  rego_policy_free(p);
}

/* ---- closures: comprehension / every bodies see the enclosing body's variables ---- */

/* OPA (reorderBodyForClosures): a variable of a comprehension body that
 * also occurs in the enclosing body outside any closure IS the enclosing
 * variable, and the comprehension is evaluated after the statement that
 * binds it, even when that statement comes later in the source. `:=` or
 * `some` inside the comprehension declares a new local instead. */
static void test_closure_vars(void **s) {
  (void)s;
#define in "{\"arr\": [1, 2, 3]}"
  static const rcase cs[] = {
      {"bound later by =", "package p\nr := c if { c := [x | x = input.arr[_]]; x = 2 }\n", in, "data.p.r",
       "[2]"},
      {"bound earlier", "package p\nr := c if { x = 2; c := [x | x = input.arr[_]] }\n", in, "data.p.r",
       "[2]"},
      {"filter var later", "package p\nr := c if { c := [y | some y in input.arr; y > m]; m = 1 }\n", in,
       "data.p.r", "[2, 3]"},
      {"ref var later", "package p\nr := c if { c := [x | some i; x = input.arr[i]]; x = input.arr[1] }\n",
       in, "data.p.r", "[2]"},
      {"every later", "package p\nr if { every y in input.arr { y > m }; m = 0 }\n", in, "data.p.r", "true"},
      {"every later fails", "package p\nr if { every y in input.arr { y > m }; m = 1 }\n", in, "data.p.r",
       "undefined"},
      {":= shadows", "package p\nr := c if { c := [x | x := input.arr[_]]; x = 2 }\n", in, "data.p.r",
       "[1, 2, 3]"},
      {"some shadows", "package p\nr := c if { c := [x | some x in input.arr]; x = 2 }\n", in, "data.p.r",
       "[1, 2, 3]"},
      {"local only", "package p\nr := [x | x = input.arr[_]]\n", in, "data.p.r", "[1, 2, 3]"},
      {"siblings stay separate",
       "package p\nr := [a, b] if { a := [x | x = input.arr[_]]; b := [x | x = input.arr[_]; x > 1] }\n", in,
       "data.p.r", "[[1, 2, 3], [2, 3]]"},
      {"rule name is not a local", "package p\nm := 2\nr := [y | some y in input.arr; y > m]\n", in,
       "data.p.r", "[3]"},
      {"unbound closure var", "package p\nr := c if { c := [x | x > m]; count([m]) > 0 }\n", in, "data.p.r",
       "error:unsafe"},
  };
#undef in
  RUN(cs);
}

/* ---- input and data cannot be shadowed (OPA, regorus) ---- */

static void test_no_shadowing_input_data(void **s) {
  (void)s;
  static const rcase cs[] = {
      {"input :=", "package p\nr := input if { input := 1 }\n", "{}", "data.p.r",
       "error:must not shadow input"},
      {"data :=", "package p\nr := data if { data := 1 }\n", "{}", "data.p.r", "error:must not shadow data"},
      {"every input", "package p\nr if { every input in [1] { true } }\n", "{}", "data.p.r",
       "error:must not shadow input"},
      {"comprehension input :=", "package p\nr := [1 | input := 2]\n", "{}", "data.p.r",
       "error:must not shadow input"},
      {"input_x is fine", "package p\nr := input_x if { input_x := 1 }\n", "{}", "data.p.r", "1"},
  };
  RUN(cs);
}

/* ---- big policies ---- */

/* Many rules in one package and many bodies of one partial rule: compile
 * must stay near-linear in memory (the data-tree children and rule lists
 * used to be copied on every insertion: 40k + 40k rules took 12 GB). The
 * address space is capped (outside ASan, which reserves terabytes) so a
 * regression fails here instead of exhausting the machine. */
#include <sys/resource.h>
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define REGO_TEST_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define REGO_TEST_SANITIZED 1
#endif
#endif

static void test_many_rules(void **s) {
  (void)s;
  int n = 40000;
  size_t cap = (size_t)n * 80 + 64;
  char *text = malloc(cap);
  size_t o = (size_t)sprintf(text, "package p\n");
  for (int i = 0; i < n; i++)
    o += (size_t)sprintf(text + o, "r%d := %d\n", i, i);
  for (int i = 0; i < n; i++)
    o += (size_t)sprintf(text + o, "a contains %d if input.x == %d\n", i, i);
  struct rlimit old;
  getrlimit(RLIMIT_AS, &old);
#ifndef REGO_TEST_SANITIZED
  struct rlimit lim = {(rlim_t)3 << 30, old.rlim_max};
  setrlimit(RLIMIT_AS, &lim);
#endif
  tr_err *e = NULL;
  rego_policy *p = compile1(text, &e);
  assert_null(e);
  json_t *in = J("{\"x\": 17}");
  rego_eval_opts eo = {.input = in, .strict_builtin_errors = true};
  rego_status st;
  json_t *v = NULL;
  assert_null(rego_eval_rule(p, "data.p.a", &eo, &st, &v));
  assert_int_equal(st, REGO_DEFINED);
  assert_int_equal(json_array_size(v), 1);
  json_decref(v);
  assert_null(rego_eval_rule(p, "data.p.r39999", &eo, &st, &v));
  assert_int_equal(json_integer_value(v), 39999);
  json_decref(v);
  rego_policy_free(p);
  setrlimit(RLIMIT_AS, &old);
  json_decref(in);
  free(text);
}

/* ---- long rule chains ---- */

/* A chain of 200k rules (r1 := r0, r2 := r1, ...): the static recursion
 * check walks it without C recursion; evaluation stops at the rule depth
 * limit with an error; closing the chain into a cycle is a recursion error. */
static void test_long_rule_chain(void **s) {
  (void)s;
  int n = 200000;
  char *text = malloc((size_t)n * 32 + 64);
  size_t o = (size_t)sprintf(text, "package p\nr0 := 1\n");
  for (int i = 1; i < n; i++)
    o += (size_t)sprintf(text + o, "r%d := r%d\n", i, i - 1);
  tr_err *e = NULL;
  rego_policy *p = compile1(text, &e);
  assert_null(e);
  rego_status st;
  json_t *v = NULL;
  e = rego_eval_rule(p, "data.p.r199999", NULL, &st, &v);
  assert_non_null(e);
  assert_non_null(strstr(tr_err_msg(e), "depth limit"));
  tr_err_free(e);
  assert_null(rego_eval_rule(p, "data.p.r300", NULL, &st, &v));
  assert_int_equal(json_integer_value(v), 1);
  json_decref(v);
  rego_policy_free(p);
  sprintf(text + o, "r0 := r%d if false\n", n - 1);
  p = compile1(text, &e);
  assert_null(p);
  assert_non_null(e);
  assert_non_null(strstr(tr_err_msg(e), "rego_recursion_error"));
  tr_err_free(e);
  free(text);
}

/* ---- reference semantics (verified against OPA's documented behaviour) ---- */

static void test_reference_semantics(void **s) {
  (void)s;
  static const rcase cs[] = {
      /* undefined vs false, default, else */
      {"complete false body, no default", "package p\nallow if input.x == 1\n", "{\"x\": 2}", "data.p.allow",
       "undefined"},
      {"default used", "package p\ndefault allow := false\nallow if input.x == 1\n", "{\"x\": 2}",
       "data.p.allow", "false"},
      {"default not used", "package p\ndefault allow := false\nallow if input.x == 1\n", "{\"x\": 1}",
       "data.p.allow", "true"},
      {"missing rule", "package p\nallow := true\n", NULL, "data.p.deny", "no_rule"},
      {"only false stops a bare ref",
       "package p\na if input.zero\nb if input.empty\nc if input.f\nd if input.n\n",
       "{\"zero\": 0, \"empty\": {}, \"f\": false, \"n\": null}", "data.p",
       "{\"a\": true, \"b\": true, \"d\": true}"},
      {"else chain skips undefined bodies",
       "package p\nr := 1 if { input.a } else := 2 if { input.b } else := 3\n", "{\"b\": false}", "data.p.r",
       "3"},
      {"else when head value undefined", "package p\nr := input.nope if { true } else := 2\n", "{}",
       "data.p.r", "2"},
      {"default after undefined else chain",
       "package p\ndefault a := \"d\"\na := \"x\" if { input.nope } else := \"y\" if { input.nope2 }\n", "{}",
       "data.p.a", "\"d\""},
      /* not */
      {"not undefined ref", "package p\nr if not input.y.z\n", "{}", "data.p.r", "true"},
      {"not over iteration", "package p\nt if { not input.a[_] == 1 }\nu if { not input.b[_] == 1 }\n",
       "{\"a\": [2, 3], \"b\": [1]}", "data.p", "{\"t\": true}"},
      {"not over strict error is an error", "package p\nr if not count(input.x) > 0\n", "{\"x\": 2}",
       "data.p.r", "error:eval_type_error"},
      {"not over lenient error is true", "package p\nr if not count(input.x) > 0\n", "{\"x\": 2}", "data.p.r",
       "true", true},
      {"default does not hide a strict error", "package p\ndefault allow := false\nallow if { 1 / 0 == 1 }\n",
       NULL, "data.p.allow", "error:divide by zero"},
      {"strict error inside comprehension",
       "package p\ndefault allow := false\nallow if { x := [1 | to_number(\"x\")]; true }\n", NULL,
       "data.p.allow", "error:to_number"},
      {"strict error inside every",
       "package p\ndefault allow := false\nallow if { every x in [1] { to_number(\"x\") } }\n", NULL,
       "data.p.allow", "error:to_number"},
      /* conflicts */
      {"complete conflict", "package p\nr := 1 if input.a\nr := 2 if input.b\n", "{\"a\": true, \"b\": true}",
       "data.p.r", "error:eval_conflict_error"},
      {"complete same value", "package p\nr := 1 if input.a\nr := 1 if input.b\n",
       "{\"a\": true, \"b\": true}", "data.p.r", "1"},
      {"function conflict", "package p\nf(x) := 1 if x > 0\nf(x) := 2 if x > 1\nr := f(5)\n", NULL,
       "data.p.r", "error:functions must not produce multiple outputs"},
      {"function else + second body conflict",
       "package p\ng(x) := \"a\" if { x > 0 } else := \"b\"\ng(x) := \"c\" if { x < 0 }\nr := g(-1)\n", NULL,
       "data.p.r", "error:eval_conflict_error"},
      {"default function",
       "package p\ng(x) := 1 if x > 0\ng(x) := 2 if x < 0\ndefault g(_) := 0\nr := [g(5), g(-5), g(0)]\n",
       NULL, "data.p.r", "[1, 2, 0]"},
      {"partial object conflict",
       "package p\no[k] := v if { some k, v in {\"a\": 1} }\no[k] := v if { some k, v in {\"a\": 2} }\n",
       NULL, "data.p.o", "error:eval_conflict_error"},
      {"partial object 1 and 1.0 agree", "package p\no[1] := \"a\"\no[1.0] := \"a\"\n", NULL, "data.p.o",
       "{\"1\": \"a\"}"},
      {"undefined partial set is empty", "package p\ns contains x if { x := input.nope }\n", "{}", "data.p.s",
       "[]"},
      {"multiple defaults", "package p\ndefault a := 1\ndefault a := 2\n", NULL, "data.p.a",
       "error:multiple default"},
      /* iteration */
      {"some k, v in object", "package p\nr := [[k, v] | some k, v in {\"b\": 2, \"a\": 1}]\n", NULL,
       "data.p.r", "[[\"a\", 1], [\"b\", 2]]"},
      {"some in set", "package p\nr := [[k, v] | some k, v in {3, 1}]\n", NULL, "data.p.r",
       "[[1, 1], [3, 3]]"},
      {"some in string iterates nothing", "package p\nr := [x | some x in \"abc\"]\n", NULL, "data.p.r",
       "[]"},
      {"every over empty",
       "package p\na if { every x in [] { x > 100 } }\nb if { every x in {} { false } }\n", NULL, "data.p",
       "{\"a\": true, \"b\": true}"},
      {"every over undefined", "package p\nc if { every x in input.missing { false } }\n", "{}", "data.p.c",
       "undefined"},
      {"every k, v", "package p\ne if { every k, v in {\"a\": 1} { k == \"a\"; v == 1 } }\n", NULL,
       "data.p.e", "true"},
      {"in over object values",
       "package p\nr := [\"a\" in {\"a\": 1}, 1 in {\"a\": 1}, \"b\" in \"abc\", 2 in null]\n", NULL,
       "data.p.r", "[false, true, false, false]"},
      /* with */
      {"with input restored",
       "package p\na := input.x\nb := [x, y, z] if { x := a; y := a with input.x as 7; z := a }\n",
       "{\"x\": 1}", "data.p.b", "[1, 7, 1]"},
      {"with on function and builtin",
       "package p\nf(x) := x + 1\ng(x) := x * 10\nt := [a, b, c] if { a := f(1) with f as g; b := f(1); c := "
       "count([1]) with count as 42 }\n",
       NULL, "data.p.t", "[10, 2, 42]"},
      {"with mock seen by a rule, then not",
       "package p\nr := count([1, 2])\nb := [y, z] if { y := r with count as 7; z := r }\n", NULL, "data.p.b",
       "[7, 2]"},
      {"not ... with", "package p\nallow if input.ok\na if not allow with input as {\"ok\": false}\n",
       "{\"ok\": true}", "data.p.a", "true"},
      /* ref heads, contains, if */
      {"ref heads", "package p\na.b.c := 1\na.b.d := 2 if true\na.x contains 3\n", NULL, "data.p.a",
       "{\"b\": {\"c\": 1, \"d\": 2}, \"x\": [3]}"},
      {"ref head conflict", "package p\na.b := 1\na.b := 2\n", NULL, "data.p.a", "error:eval_conflict_error"},
      /* numbers, strings */
      {"numbers",
       "package p\nr := [1 == 1.0, {1: \"x\"}[1.0], -7 / 2, -7 % 3, 9007199254740993 > 9007199254740992.0]\n",
       NULL, "data.p.r", "[true, \"x\", -3.5, -1, true]"},
      {"big ints exact", "package p\nr := (18446744073709551616 + 1) - 18446744073709551616\n", NULL,
       "data.p.r", "1"},
      {"strings", "package p\nr := [\"a\\tb\\\"c\\u00e9\", `raw\\n`, count(\"\\u00e9\")]\n", NULL, "data.p.r",
       "[\"a\\tb\\\"c\u00e9\", \"raw\\\\n\", 1]"},
      {"set output sorted", "package p\nr := {3, \"a\", 1, [1], {\"k\": 1}}\n", NULL, "data.p.r",
       "[1, 3, \"a\", [1], {\"k\": 1}]"},
      /* unification */
      {"unify arrays both sides", "package p\nr := [x, y] if { [x, 2] = [1, y] }\n", NULL, "data.p.r",
       "[1, 2]"},
      {"unify objects both sides",
       "package p\nr := [x, y] if { {\"k\": x, \"j\": 2} = {\"k\": 1, \"j\": y} }\n", NULL, "data.p.r",
       "[1, 2]"},
      {"unify repeated var", "package p\nr := x if { [x, [1, x]] = [2, [1, 3]] }\n", NULL, "data.p.r",
       "undefined"},
      {"object pattern needs equal size", "package p\nr := y if { {\"a\": y} := {\"a\": 1, \"b\": 2} }\n",
       NULL, "data.p.r", "undefined"},
      {"reordering for safety", "package p\nr := z if { z = y + 1; y = input.v }\n", "{\"v\": 2}", "data.p.r",
       "3"},
  };
  RUN(cs);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_operators_not_shadowed),  cmocka_unit_test(test_operator_precedence),
      cmocka_unit_test(test_with_data_prefix),        cmocka_unit_test(test_long_ref_chain),
      cmocka_unit_test(test_deep_input_json),         cmocka_unit_test(test_memory_limit),
      cmocka_unit_test(test_concurrent_builtins),     cmocka_unit_test(test_closure_vars),
      cmocka_unit_test(test_no_shadowing_input_data), cmocka_unit_test(test_many_rules),
      cmocka_unit_test(test_long_rule_chain),         cmocka_unit_test(test_reference_semantics),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
