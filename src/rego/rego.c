/* rego.c — the public API (rego.h): compile modules into an immutable
 * policy, evaluate rules and queries, convert values. */
#include <stdlib.h>
#include <string.h>

#include "rego/internal.h"

struct rego_value {
  rv_arena *a;
  rv *v;
};

tr_err *rego_compile(const rego_module_src *modules, size_t nmodules, const rego_compile_opts *opts,
                     rego_policy **out) {
  rego_policy *p = calloc(1, sizeof(*p));
  if (!p) return tr_err_new(TR_E_NOMEM, "out of memory");
  p->arena = rv_arena_new();
  p->max_depth = opts && opts->max_depth > 0 ? opts->max_depth : 1000;
  if (opts && opts->nhosts) {
    p->hosts = rv_alloc(p->arena, sizeof(rego_host_decl) * opts->nhosts);
    for (size_t i = 0; i < opts->nhosts; i++) {
      p->hosts[i].name = rv_strndup(p->arena, opts->hosts[i].name, strlen(opts->hosts[i].name));
      p->hosts[i].arity = opts->hosts[i].arity;
    }
    p->nhosts = opts->nhosts;
  }
  p->mods = rv_alloc(p->arena, sizeof(module *) * (nmodules ? nmodules : 1));
  for (size_t i = 0; i < nmodules; i++) {
    tr_err *e = rego_parse_module(p->arena, modules[i].name, modules[i].text, p->max_depth,
                                  opts && opts->v0_compat, &p->mods[i]);
    if (e) {
      rego_policy_free(p);
      return e;
    }
    p->nmods++;
  }
  tr_err *e = rego_compile_modules(p);
  if (e) {
    rego_policy_free(p);
    return e;
  }
  *out = p;
  return NULL;
}

void rego_policy_free(rego_policy *p) {
  if (!p) return;
  rv_arena_free(p->arena);
  free(p);
}

/* Splits "data.a.b" (or "a.b") into segments after data. */
static int split_path(rv_arena *a, const char *path, const char ***segs) {
  if (strncmp(path, "data", 4) == 0 && (path[4] == 0 || path[4] == '.')) path += path[4] ? 5 : 4;
  int n = 0;
  const char **s = rv_alloc(a, sizeof(char *) * (strlen(path) + 1));
  while (*path) {
    const char *d = strchr(path, '.');
    size_t l = d ? (size_t)(d - path) : strlen(path);
    s[n++] = rv_strndup(a, path, l);
    path += l + (d ? 1 : 0);
  }
  *segs = s;
  return n;
}

bool rego_policy_defines(const rego_policy *p, const char *path) {
  if (strncmp(path, "data", 4) == 0 && (path[4] == 0 || path[4] == '.')) path += path[4] ? 5 : 4;
  const dnode *n = p->root;
  while (*path && n) {
    const char *d = strchr(path, '.');
    size_t l = d ? (size_t)(d - path) : strlen(path);
    n = rego_node_child(n, path, l);
    path += l + (d ? 1 : 0);
    if (n && n->kind >= 0) return n->kind != RK_FUNC;
  }
  return n && n->has_rules_below;
}

/* Memory one evaluation may allocate before it stops with a limit error. */
#define EVAL_MEMORY_LIMIT ((size_t)256 << 20)

static tr_err *setup(const rego_policy *p, const rego_eval_opts *opts, rv_arena *a, ev_setup *s) {
  memset(s, 0, sizeof(*s));
  rv_arena_set_limit(a, EVAL_MEMORY_LIMIT);
  s->p = p;
  s->arena = a;
  if (opts) {
    if (opts->max_memory) rv_arena_set_limit(a, opts->max_memory);
    tr_err *e = NULL;
    if (opts->input_value)
      s->input = opts->input_value->v;
    else if (opts->input)
      e = rv_from_json_checked(a, opts->input, "input", &s->input);
    if (e) return e;
    if (opts->data_value)
      s->data = opts->data_value->v;
    else if (opts->data)
      e = rv_from_json_checked(a, opts->data, "data", &s->data);
    if (e) return e;
    if (s->data && s->data->kind != RV_OBJECT) return tr_err_new(TR_E_INVALID, "data must be a JSON object");
    s->hosts = opts->hosts;
    s->nhosts = opts->nhosts;
    s->strict = opts->strict_builtin_errors;
    s->max_steps = opts->max_steps;
    s->now_ns = opts->time_ns;
  }
  return NULL;
}

tr_err *rego_eval_rule(const rego_policy *p, const char *path, const rego_eval_opts *opts,
                       rego_status *status, json_t **value) {
  *status = REGO_NO_RULE;
  if (value) *value = NULL;
  if (!rego_policy_defines(p, path)) return NULL;
  rv_arena *a = rv_arena_new();
  ev_setup s;
  tr_err *e = setup(p, opts, a, &s);
  if (e) {
    rv_arena_free(a);
    return e;
  }
  const char **segs;
  int n = split_path(a, path, &segs);
  rv *out = NULL;
  ev_error err;
  if (rego_eval_path(&s, segs, n, &out, &err) != 0) {
    e = rego_ev_error_to_tr(&err);
    rv_arena_free(a);
    return e;
  }
  if (out) {
    *status = REGO_DEFINED;
    if (value) *value = rv_to_json(out);
  } else {
    *status = REGO_UNDEFINED;
  }
  rv_arena_free(a);
  return NULL;
}

/* Rows as engine values, for exact text output. */
typedef struct {
  const cquery *q;
  rv_arena *a;
  rv_vec rows;   /* result rows in OPA's shape */
  rv_vec values; /* per row: value of the first expression */
  int nbindings; /* rows with bindings */
} vrows;

static rv *str(rv_arena *a, const char *s) { return rv_cstring(a, s); }

static void add_vrow(void *ctx, rv **slots, rv **exprvals) {
  vrows *r = ctx;
  const body *b = r->q->body;
  rv_vec exprs = {0};
  rv *first = NULL;
  for (int i = 1; i <= b->n; i++) {
    for (int j = 0; j < b->n; j++) {
      const expr *x = b->exprs[j];
      if (x->qidx != i) continue;
      rv *v = x->kind == EX_TERM && exprvals[i - 1] ? exprvals[i - 1] : RV_TRUE;
      if (!first) first = v;
      rv *lk[2] = {str(r->a, "col"), str(r->a, "row")};
      rv *lv[2] = {rv_int(r->a, x->loc.col), rv_int(r->a, x->loc.line)};
      rv *ks[3] = {str(r->a, "location"), str(r->a, "text"), str(r->a, "value")};
      rv *vs[3] = {rv_object(r->a, lk, lv, 2, NULL),
                   rv_string(r->a, x->src ? x->src : "", (size_t)(x->src ? x->srclen : 0)), v};
      rv_vec_push(r->a, &exprs, rv_object(r->a, ks, vs, 3, NULL));
    }
  }
  rv_vec ks = {0}, vs = {0};
  rv_vec_push(r->a, &ks, str(r->a, "expressions"));
  rv_vec_push(r->a, &vs, rv_array(r->a, exprs.items, exprs.len));
  if (r->q->nvars) {
    rv_vec bk = {0}, bv = {0};
    for (int i = 0; i < r->q->nvars; i++) {
      int slot = r->q->var_slots[i];
      if (!slots[slot]) continue;
      rv_vec_push(r->a, &bk, str(r->a, r->q->slotnames[slot]));
      rv_vec_push(r->a, &bv, slots[slot]);
    }
    rv_vec_push(r->a, &ks, str(r->a, "bindings"));
    rv_vec_push(r->a, &vs, rv_object(r->a, bk.items, bv.items, bk.len, NULL));
    r->nbindings++;
    first = rv_object(r->a, bk.items, bv.items, bk.len, NULL);
  }
  rv_vec_push(r->a, &r->rows, rv_object(r->a, ks.items, vs.items, ks.len, NULL));
  rv_vec_push(r->a, &r->values, first ? first : RV_TRUE);
}

/* Runs a query and collects its rows in OPA's shape (values in arena a). */
static tr_err *run_query(const rego_policy *p, const char *query, const rego_eval_opts *opts, rv_arena *a,
                         vrows *r, cquery *q) {
  body *b;
  tr_err *e = rego_parse_query(a, "query", query, p->max_depth, &b);
  if (!e) e = rego_compile_query(p, a, b, q);
  ev_setup s;
  if (!e) e = setup(p, opts, a, &s);
  if (e) return e;
  s.single_term_query = true;
  *r = (vrows){q, a, {0}, {0}, 0};
  ev_error err;
  if (rego_eval_cquery(&s, q, add_vrow, r, &err) != 0) return rego_ev_error_to_tr(&err);
  return NULL;
}

static rv *result_doc(rv_arena *a, vrows *r) {
  if (r->rows.len == 0) return &rv_empty_obj_v;
  rv *k = str(a, "result"), *v = rv_array(a, r->rows.items, r->rows.len);
  return rv_object(a, &k, &v, 1, NULL);
}

tr_err *rego_eval_query(const rego_policy *p, const char *query, const rego_eval_opts *opts,
                        json_t **result) {
  rv_arena *a = rv_arena_new();
  vrows r;
  cquery q;
  tr_err *e = run_query(p, query, opts, a, &r, &q);
  if (!e) *result = rv_to_json(result_doc(a, &r));
  rv_arena_free(a);
  return e;
}

tr_err *rego_eval_query_text(const rego_policy *p, const char *query, const rego_eval_opts *opts,
                             rego_text_format format, char **out) {
  rv_arena *a = rv_arena_new();
  vrows r;
  cquery q;
  tr_err *e = run_query(p, query, opts, a, &r, &q);
  if (e) {
    rv_arena_free(a);
    return e;
  }
  rv_buf tb = {0};
  if (format == REGO_TEXT_PRETTY) {
    if (r.rows.len == 0)
      rv_buf_puts(&tb, "undefined");
    else if (r.rows.len == 1 && !r.nbindings)
      rv_write_json_pretty(&tb, r.values.items[0], 2, 0);
    else
      rv_write_json_pretty(&tb, rv_array(a, r.values.items, r.values.len), 2, 0);
  } else {
    rv_write_json_pretty(&tb, result_doc(a, &r), 2, 0);
  }
  *out = tb.s;
  rv_arena_free(a);
  return NULL;
}

tr_err *rego_value_from_json_text(const char *text, size_t len, rego_value **out) {
  rego_value *v = calloc(1, sizeof(*v));
  if (!v) return tr_err_new(TR_E_NOMEM, "out of memory");
  v->a = rv_arena_new();
  tr_err *e = rv_parse_json(v->a, text, len, 0, &v->v);
  if (e) {
    rego_value_free(v);
    return e;
  }
  *out = v;
  return NULL;
}

tr_err *rego_value_from_json(const json_t *json, rego_value **out) {
  rego_value *v = calloc(1, sizeof(*v));
  if (!v) return tr_err_new(TR_E_NOMEM, "out of memory");
  v->a = rv_arena_new();
  tr_err *e = rv_from_json_checked(v->a, json, "value", &v->v);
  if (e) {
    rego_value_free(v);
    return e;
  }
  *out = v;
  return NULL;
}

json_t *rego_value_to_json(const rego_value *v) { return rv_to_json(v->v); }

void rego_value_free(rego_value *v) {
  if (!v) return;
  rv_arena_free(v->a);
  free(v);
}
