/* eval.c — top-down Rego evaluation with backtracking.
 *
 * Design (read before editing):
 *  - Continuation-passing style. Every generator (a body, a term, a
 *    unification) takes a `kont` and calls it once per solution. A kont
 *    returns RC_OK to ask for more solutions, RC_STOP to cut the search
 *    (negation, early exit of constant-valued rules) or RC_ERR (e->err is
 *    set). Non-zero codes propagate straight up.
 *  - Variables live in frame slots (one frame per rule/function call);
 *    bindings are recorded on a trail and undone on backtracking.
 *  - Rule documents are materialised whole, once per evaluation, and cached
 *    per data node. A `with` modifier switches to a fresh cache epoch while
 *    it is active, so results computed under it never leak out.
 *  - All values are allocated in the evaluation arena (value.h); nothing is
 *    freed before the evaluation ends. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rego/internal.h"

enum { RC_OK = 0, RC_STOP = 1, RC_ERR = -1 };

typedef struct kont kont;
typedef int (*kfn)(ev *e, kont *k, rv *v);
struct kont {
  kfn fn;
};

typedef struct {
  uint32_t epoch;
  uint8_t state; /* 0 none, 1 in progress, 2 done */
  rv *val;
} nstate;

typedef struct {
  int kind; /* 0 data path, 1 function */
  rv **path;
  int npath;
  rv *value;
  /* function override */
  const rego_builtin_def *bi;
  dnode *fnode;
  int host;   /* host function index + 1 (0 = none) */
  term *repl; /* TK_CALL marker naming the replacement function, or NULL */
} override;

struct ev {
  const rego_policy *p;
  rv_arena *a;
  rv *input, *data;
  rv **frame;
  rv ***trail;
  size_t ntrail, captrail;
  nstate *nodes;
  nstate *pkgs;
  uint32_t epoch, epoch_next;
  override *ovr;
  int novr, capovr;
  int ndata_ovr, nfn_ovr;
  uint64_t steps, max_steps;
  int depth;
  ev_error *err;
  rego_bctx bctx;
  const rego_host_binding *hosts;
  size_t nhosts;
  bool strict;
  rv **qexprvals;
  bool q_single;
  const char *stack_base; /* address of a local in the entry point */
};

#define MAX_CALL_DEPTH 400
/* C stack the evaluator may use below its entry point. Evaluation recurses
 * (continuations), so long bodies and deep terms are bounded here with a
 * clear error instead of overflowing a worker thread's stack. */
#define MAX_STACK_BYTES (1u << 20)

/* ---- errors ---- */

const char *rego_ecode_name(ecode c) {
  switch (c) {
  case RE_CONFLICT: return "eval_conflict_error";
  case RE_TYPE: return "eval_type_error";
  case RE_BUILTIN: return "eval_builtin_error";
  case RE_RECURSION: return "rego_recursion_error";
  case RE_UNSAFE: return "rego_unsafe_var_error";
  case RE_LIMIT: return "eval_limit_error";
  case RE_HOST: return "eval_host_error";
  case RE_INTERNAL: return "eval_internal_error";
  default: return "";
  }
}

static int fail(ev *e, ecode code, rloc loc, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int fail(ev *e, ecode code, rloc loc, const char *fmt, ...) {
  if (e->err->code != RE_NONE) return RC_ERR;
  e->err->code = code;
  e->err->loc = loc;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(e->err->msg, sizeof e->err->msg, fmt, ap);
  va_end(ap);
  return RC_ERR;
}

tr_err *rego_ev_error_to_tr(ev_error *er) {
  if (er->code == RE_HOST && er->host_err) {
    tr_err *h = er->host_err;
    er->host_err = NULL;
    return tr_err_wrap(h, "%s:%d:%d: %s", er->loc.file ? er->loc.file : "", er->loc.line, er->loc.col,
                       er->msg);
  }
  tr_code tc = er->code == RE_TYPE       ? TR_E_TYPE
               : er->code == RE_CONFLICT ? TR_E_CONFLICT
               : er->code == RE_LIMIT    ? TR_E_LIMIT
                                         : TR_E_INVALID;
  if (er->loc.line)
    return tr_err_new(tc, "%s:%d:%d: %s: %s", er->loc.file ? er->loc.file : "", er->loc.line, er->loc.col,
                      rego_ecode_name(er->code), er->msg);
  return tr_err_new(tc, "%s: %s", rego_ecode_name(er->code), er->msg);
}

/* ---- trail ---- */

static void bind(ev *e, int slot, rv *v) {
  if (e->ntrail == e->captrail) {
    size_t nc = e->captrail ? e->captrail * 2 : 64;
    rv ***nt = rv_alloc(e->a, sizeof(rv **) * nc);
    if (e->ntrail) memcpy(nt, e->trail, sizeof(rv **) * e->ntrail);
    e->trail = nt;
    e->captrail = nc;
  }
  e->frame[slot] = v;
  e->trail[e->ntrail++] = &e->frame[slot];
}

static void undo(ev *e, size_t mark) {
  while (e->ntrail > mark)
    *e->trail[--e->ntrail] = NULL;
}

/* ---- forward ---- */

static int eval_term(ev *e, term *t, kont *k);
static int eval_body(ev *e, body *b, int i, kont *k);
static int eval_expr(ev *e, expr *x, kont *k);
static int unify_val(ev *e, term *t, rv *v, kont *k);
static int node_value(ev *e, dnode *n, rloc loc, rv **out);
static bool stack_exhausted(ev *e);
static int merge_children(ev *e, dnode *n, rloc loc, rv **v);
static int package_value(ev *e, dnode *n, rv *base, rloc loc, rv **out);

/* ---- helpers ---- */

static rv *index_value(ev *e, rv *v, rv *key) {
  (void)e;
  switch (v->kind) {
  case RV_OBJECT: return rv_object_get(v, key);
  case RV_ARRAY: {
    int64_t i;
    if (key->kind != RV_NUMBER || !rv_num_get_i64(key, &i)) return NULL;
    if (key->numkind == RV_NUM_FLOAT) return NULL; /* 1.0 is not an index... OPA accepts integral numbers */
    if (i < 0 || (size_t)i >= v->u.arr.len) return NULL;
    return v->u.arr.items[i];
  }
  case RV_SET: return rv_set_contains(v, key) ? key : NULL;
  default: return NULL;
  }
}

/* True when the term can be evaluated to a value without binding (all vars bound). */
static bool term_bound(ev *e, const term *t) {
  switch (t->kind) {
  case TK_SCALAR: return true;
  case TK_VAR: return t->u.var.res != VR_LOCAL || e->frame[t->u.var.slot] != NULL;
  case TK_ARRAY:
  case TK_OBJECT:
  case TK_SET:
    if (t->constv) return true;
    for (int i = 0; i < t->u.coll.n; i++)
      if (!term_bound(e, t->u.coll.items[i])) return false;
    return true;
  default: return true;
  }
}

/* ---- term evaluation ---- */

typedef struct {
  kont k;
  term *t;
  int i;
  rv *child;
  kont *next;
} walkk;

static int walk_value(ev *e, term *t, int i, rv *v, kont *k);

static int walk_after_unify(ev *e, kont *k, rv *unused) {
  (void)unused;
  walkk *w = (walkk *)k;
  return walk_value(e, w->t, w->i, w->child, w->next);
}

typedef struct {
  kont k;
  term *t;
  int i;
  rv *v;
  kont *next;
} walkkeyk;

static int walk_with_key(ev *e, kont *k, rv *key) {
  walkkeyk *w = (walkkeyk *)k;
  rv *c = index_value(e, w->v, key);
  if (!c) return RC_OK;
  return walk_value(e, w->t, w->i + 1, c, w->next);
}

/* Iteration over arrays (index, item), objects (key, value) and sets
 * (element, element); scalars have no entries. */
static size_t coll_len(const rv *v) {
  if (v->kind == RV_OBJECT) return v->u.obj.len;
  if (v->kind == RV_ARRAY || v->kind == RV_SET) return v->u.arr.len;
  return 0;
}

static void coll_entry(ev *e, const rv *v, size_t j, rv **key, rv **val) {
  if (v->kind == RV_OBJECT) {
    *key = v->u.obj.keys[j];
    *val = v->u.obj.vals[j];
  } else if (v->kind == RV_SET) {
    *key = *val = v->u.arr.items[j];
  } else {
    *key = rv_int(e->a, (int64_t)j);
    *val = v->u.arr.items[j];
  }
}

/* Base data is JSON: data.x[2] also finds data.x["2"]. */
static rv *index_data_value(ev *e, rv *v, rv *key, bool in_data) {
  rv *r = index_value(e, v, key);
  if (r || !in_data || v->kind != RV_OBJECT || key->kind != RV_NUMBER) return r;
  rv_buf b = {.a = e->a};
  rv_write_number(&b, key);
  return rv_object_get_str(v, b.s, b.len);
}

static int walk_value(ev *e, term *t, int i, rv *v, kont *k) {
  bool in_data = t->u.ref.head->kind == TK_VAR && t->u.ref.head->u.var.res == VR_DATA;
  for (; i < t->u.ref.nparts; i++) {
    term *pt = t->u.ref.parts[i];
    rv *key = pt->constv;
    if (!key && pt->kind == TK_VAR && pt->u.var.res == VR_LOCAL) key = e->frame[pt->u.var.slot];
    if (key) {
      v = index_data_value(e, v, key, in_data);
      if (!v) return RC_OK;
      continue;
    }
    if (term_bound(e, pt)) {
      walkkeyk wk = {{walk_with_key}, t, i, v, k};
      return eval_term(e, pt, &wk.k);
    }
    /* iterate, unifying the part with each key */
    walkk wk = {{walk_after_unify}, t, i + 1, NULL, k};
    size_t mark = e->ntrail, n = coll_len(v);
    for (size_t j = 0; j < n; j++) {
      rv *key;
      coll_entry(e, v, j, &key, &wk.child);
      int r = unify_val(e, pt, key, &wk.k);
      undo(e, mark);
      if (r) return r;
    }
    return RC_OK;
  }
  return k->fn(e, k, v);
}

/* --- data --- */

typedef struct {
  kont k;
  term *t;
  int i;
  dnode *node;
  rv *base;
  kont *next;
  rv *key;
} datak;

static int data_walk(ev *e, term *t, int i, dnode *n, rv *base, kont *k);

static int data_after_unify(ev *e, kont *k, rv *unused) {
  (void)unused;
  datak *d = (datak *)k;
  return data_walk(e, d->t, d->i, d->node, d->base, d->next);
}

static int data_with_key(ev *e, kont *k, rv *key) {
  datak *d = (datak *)k;
  if (key->kind == RV_NUMBER) { /* data keys are strings: data[2] reads data["2"] */
    rv_buf b = {.a = e->a};
    rv_write_number(&b, key);
    key = rv_string_nocopy(e->a, b.s, b.len);
  }
  dnode *ch = key->kind == RV_STRING ? rego_node_child(d->node, key->u.str.s, key->u.str.len) : NULL;
  rv *b = d->base && d->base->kind == RV_OBJECT ? rv_object_get(d->base, key) : NULL;
  if (!ch && !b) return RC_OK;
  return data_walk(e, d->t, d->i + 1, ch, b, d->next);
}

static rv *set_path(ev *e, rv *v, rv **path, int n, rv *val) {
  if (n == 0) return val;
  rv *cur = v && v->kind == RV_OBJECT ? v : NULL;
  rv *child = cur ? rv_object_get(cur, path[0]) : NULL;
  rv *nc = set_path(e, child, path + 1, n - 1, val);
  size_t len = cur ? cur->u.obj.len : 0;
  rv **ks = rv_alloc(e->a, sizeof(rv *) * (len + 1));
  rv **vs = rv_alloc(e->a, sizeof(rv *) * (len + 1));
  size_t m = 0;
  for (size_t i = 0; i < len; i++) {
    if (rv_equal(cur->u.obj.keys[i], path[0])) continue;
    ks[m] = cur->u.obj.keys[i];
    vs[m++] = cur->u.obj.vals[i];
  }
  ks[m] = path[0];
  vs[m++] = nc;
  return rv_object(e->a, ks, vs, m, NULL);
}

/* True when a `with data.<path> as ...` replaces this node's document:
 * the override names the node itself or one of its ancestors (`with
 * data.p as {}` hides every rule of package p, also when a reference
 * jumps straight to data.p.allow). */
static bool node_overridden(ev *e, dnode *n) {
  if (!e->ndata_ovr || !n || !n->parent) return false;
  int depth = 0;
  for (dnode *x = n; x->parent; x = x->parent)
    depth++;
  for (int o = 0; o < e->novr; o++) {
    override *ov = &e->ovr[o];
    if (ov->kind != 0 || ov->npath > depth) continue;
    dnode *x = n;
    for (int d = depth; d > ov->npath; d--)
      x = x->parent;
    int i = ov->npath - 1;
    for (; i >= 0 && x->parent; i--, x = x->parent)
      if (!rv_equal(ov->path[i], x->key)) break;
    if (i < 0) return true;
  }
  return false;
}

static int data_walk(ev *e, term *t, int i, dnode *n, rv *base, kont *k) {
  if (n && e->ndata_ovr && node_overridden(e, n)) n = NULL;
  if (!n) {
    if (!base) return RC_OK;
    return walk_value(e, t, i, base, k);
  }
  if (n->kind >= 0) {
    rv *v;
    if (base) return walk_value(e, t, i, base, k); /* base documents take precedence */
    if (node_value(e, n, t->loc, &v)) return RC_ERR;
    if (!v) return RC_OK;
    return walk_value(e, t, i, v, k);
  }
  if (i == t->u.ref.nparts) {
    rv *v;
    if (package_value(e, n, base, t->loc, &v)) return RC_ERR;
    return k->fn(e, k, v);
  }
  term *pt = t->u.ref.parts[i];
  rv *key = pt->constv;
  if (!key && pt->kind == TK_VAR && pt->u.var.res == VR_LOCAL) key = e->frame[pt->u.var.slot];
  datak dk = {{data_after_unify}, t, i + 1, NULL, NULL, k, NULL};
  if (key) {
    dk.node = n;
    dk.base = base;
    dk.i = i;
    return data_with_key(e, &dk.k, key);
  }
  if (term_bound(e, pt)) {
    dk.k.fn = data_with_key;
    dk.node = n;
    dk.base = base;
    dk.i = i;
    return eval_term(e, pt, &dk.k);
  }
  /* iterate over the union of child nodes and base keys */
  size_t mark = e->ntrail;
  int ci = 0;
  size_t bi = 0;
  size_t bn = base && base->kind == RV_OBJECT ? base->u.obj.len : 0;
  while (ci < n->nchildren || bi < bn) {
    dnode *ch = ci < n->nchildren ? n->children[ci] : NULL;
    rv *bk = bi < bn ? base->u.obj.keys[bi] : NULL;
    int c = !ch ? 1 : !bk ? -1 : rv_compare(ch->key, bk);
    rv *keyv;
    if (c < 0) {
      keyv = ch->key;
      dk.node = ch;
      dk.base = NULL;
      ci++;
    } else if (c > 0) {
      keyv = bk;
      dk.node = NULL;
      dk.base = base->u.obj.vals[bi];
      bi++;
    } else {
      keyv = ch->key;
      dk.node = ch;
      dk.base = base->u.obj.vals[bi];
      ci++, bi++;
    }
    if (dk.node && dk.node->kind == RK_FUNC) continue;
    int r = unify_val(e, pt, keyv, &dk.k);
    undo(e, mark);
    if (r) return r;
  }
  return RC_OK;
}

/* --- composite terms --- */

typedef struct {
  kont k;
  term *t;
  int i;
  rv **vals;
  kont *next;
} itemsk;

static int items_step(ev *e, term *t, int i, rv **vals, kont *k);

static int items_got(ev *e, kont *k, rv *v) {
  itemsk *s = (itemsk *)k;
  s->vals[s->i] = v;
  return items_step(e, s->t, s->i + 1, s->vals, s->next);
}

static int items_step(ev *e, term *t, int i, rv **vals, kont *k) {
  while (i < t->u.coll.n && t->u.coll.items[i]->constv) {
    vals[i] = t->u.coll.items[i]->constv;
    i++;
  }
  if (i < t->u.coll.n) {
    itemsk s = {{items_got}, t, i, vals, k};
    return eval_term(e, t->u.coll.items[i], &s.k);
  }
  int n = t->u.coll.n;
  rv *res;
  if (t->kind == TK_ARRAY)
    res = rv_array(e->a, vals, (size_t)n);
  else if (t->kind == TK_SET)
    res = rv_set(e->a, vals, (size_t)n);
  else {
    rv **ks = rv_alloc(e->a, sizeof(rv *) * (size_t)(n / 2 + 1));
    rv **vs = rv_alloc(e->a, sizeof(rv *) * (size_t)(n / 2 + 1));
    for (int j = 0; j < n / 2; j++)
      ks[j] = vals[2 * j], vs[j] = vals[2 * j + 1];
    bool conflict = false;
    res = rv_object(e->a, ks, vs, (size_t)n / 2, &conflict);
    if (!res) return fail(e, RE_CONFLICT, t->loc, "object keys must be unique");
  }
  return k->fn(e, k, res);
}

/* --- comprehensions --- */

typedef struct {
  kont k;
  term *t;
  rv_vec keys, vals;
} compk;

typedef struct {
  kont k;
  compk *c;
  rv *key;
} compvalk;

static int comp_val(ev *e, kont *k, rv *v) {
  compvalk *cv = (compvalk *)k;
  if (cv->c->t->kind == TK_OBJCOMP) rv_vec_push(e->a, &cv->c->keys, cv->key);
  rv_vec_push(e->a, &cv->c->vals, v);
  return RC_OK;
}

static int comp_key(ev *e, kont *k, rv *key) {
  compvalk *cv = (compvalk *)k;
  compvalk inner = {{comp_val}, cv->c, key};
  return eval_term(e, cv->c->t->u.comp.val, &inner.k);
}

static int comp_solution(ev *e, kont *k, rv *unused) {
  (void)unused;
  compk *c = (compk *)k;
  compvalk cv = {{comp_val}, c, NULL};
  if (c->t->kind == TK_OBJCOMP) {
    cv.k.fn = comp_key;
    return eval_term(e, c->t->u.comp.key, &cv.k);
  }
  return eval_term(e, c->t->u.comp.val, &cv.k);
}

static int eval_comprehension(ev *e, term *t, kont *k) {
  compk c = {{comp_solution}, t, {0}, {0}};
  size_t mark = e->ntrail;
  int r = eval_body(e, t->u.comp.body, 0, &c.k);
  undo(e, mark);
  if (r == RC_ERR) return r;
  rv *res;
  if (t->kind == TK_ARRCOMP)
    res = rv_array(e->a, c.vals.items, c.vals.len);
  else if (t->kind == TK_SETCOMP)
    res = rv_set(e->a, c.vals.items, c.vals.len);
  else {
    bool conflict = false;
    res = rv_object(e->a, c.keys.items, c.vals.items, c.keys.len, &conflict);
    if (!res) return fail(e, RE_CONFLICT, t->loc, "object keys must be unique");
  }
  return k->fn(e, k, res);
}

/* --- calls --- */

static int call_function(ev *e, dnode *n, rv **args, int nargs, rloc loc, rv **out);

static int call_builtin(ev *e, const rego_builtin_def *bi, rv **args, term *t, rv **out) {
  e->bctx.name = bi->name;
  e->bctx.err_kind = REGO_BI_ERR_NONE;
  *out = NULL;
  rego_bi_status st = bi->fn(&e->bctx, args, out);
  /* one call may build a large result: stop before anything else grows it */
  if (rv_arena_over_limit(e->a)) return fail(e, RE_LIMIT, t->loc, "evaluation memory limit exceeded");
  if (st == REGO_BI_OK) {
    if (!*out) return fail(e, RE_INTERNAL, t->loc, "%s returned no value", bi->name);
    return RC_OK;
  }
  *out = NULL;
  if (st == REGO_BI_UNDEFINED) return RC_OK;
  if (!e->strict) return RC_OK;
  ecode code = e->bctx.err_kind == REGO_BI_ERR_TYPE ? RE_TYPE : RE_BUILTIN;
  if (e->bctx.err_raw) return fail(e, code, t->loc, "%s", e->bctx.err_msg);
  return fail(e, code, t->loc, "%s: %s", bi->name, e->bctx.err_msg);
}

static int call_host(ev *e, int idx, rv **args, int nargs, term *t, rv **out) {
  *out = NULL;
  const char *name = e->p->hosts[idx].name;
  const rego_host_binding *hb = NULL;
  for (size_t i = 0; i < e->nhosts; i++)
    if (strcmp(e->hosts[i].name, name) == 0) hb = &e->hosts[i];
  if (!hb || !hb->fn) return fail(e, RE_HOST, t->loc, "host function %s is not available", name);
  json_t *jargs[8] = {0};
  if (nargs > 8) return fail(e, RE_HOST, t->loc, "host function %s: too many arguments", name);
  for (int i = 0; i < nargs; i++)
    jargs[i] = rv_to_json(args[i]);
  json_t *res = NULL;
  tr_err *err = hb->fn(hb->ctx, jargs, (size_t)nargs, &res);
  for (int i = 0; i < nargs; i++)
    json_decref(jargs[i]);
  if (err) {
    json_decref(res);
    fail(e, RE_HOST, t->loc, "%s", name);
    e->err->host_err = err;
    return RC_ERR;
  }
  if (res) {
    *out = rv_from_json(e->a, res);
    json_decref(res);
    if (!*out) return fail(e, RE_HOST, t->loc, "%s: result nested too deep", name);
  }
  return RC_OK;
}

/* Finds a `with` replacement for a call target. */
static override *find_fn_override(ev *e, term *t) {
  for (int o = e->novr - 1; o >= 0; o--) {
    override *ov = &e->ovr[o];
    if (ov->kind != 1) continue;
    if (t->u.call.ct == CT_BUILTIN && ov->bi == t->u.call.bi && ov->bi) return ov;
    if (t->u.call.ct == CT_FUNC && ov->fnode == t->u.call.node && ov->fnode) return ov;
    if (t->u.call.ct == CT_HOST && ov->host == t->u.call.host + 1) return ov;
  }
  return NULL;
}

static int dispatch(ev *e, term *t, int ct, const rego_builtin_def *bi, dnode *node, int host, rv **args,
                    int nargs, rv **out) {
  switch (ct) {
  case CT_BUILTIN: return call_builtin(e, bi, args, t, out);
  case CT_FUNC: return call_function(e, node, args, nargs, t->loc, out);
  case CT_HOST: return call_host(e, host, args, nargs, t, out);
  case CT_PRINT: *out = RV_TRUE; return RC_OK;
  }
  return fail(e, RE_INTERNAL, t->loc, "unresolved call %s", t->u.call.name);
}

typedef struct {
  kont k;
  term *t;
  int i, n;
  rv **vals;
  kont *next;
} argk;

static int args_step(ev *e, term *t, int i, int n, rv **vals, kont *k);

static int arg_got(ev *e, kont *k, rv *v) {
  argk *a = (argk *)k;
  a->vals[a->i] = v;
  int done = 0;
  for (int j = 0; j < a->n; j++)
    done += a->vals[j] != NULL;
  int r = args_step(e, a->t, done, a->n, a->vals, a->next);
  a->vals[a->i] = NULL;
  return r;
}

typedef struct {
  kont k;
  kont *next;
} truek;

static int true_after(ev *e, kont *k, rv *unused) {
  (void)unused;
  truek *tk = (truek *)k;
  return tk->next->fn(e, tk->next, RV_TRUE);
}

static bool unbound_var(ev *e, const term *t) {
  return t->kind == TK_VAR && t->u.var.res == VR_LOCAL && !e->frame[t->u.var.slot];
}

static int args_step(ev *e, term *t, int i, int n, rv **vals, kont *k) {
  /* i counts evaluated args; a plain unbound var is evaluated after the
   * others (a ref in a later argument may bind it: x == input.xs[x]) */
  if (i < n) {
    int pick = -1;
    for (int j = 0; j < n && pick < 0; j++)
      if (!vals[j] && !unbound_var(e, t->u.call.args[j])) pick = j;
    if (pick < 0)
      for (int j = 0; j < n && pick < 0; j++)
        if (!vals[j]) pick = j;
    term *at = t->u.call.args[pick];
    if (at->constv) {
      vals[pick] = at->constv;
      int r = args_step(e, t, i + 1, n, vals, k);
      vals[pick] = NULL;
      return r;
    }
    argk a = {{arg_got}, t, pick, n, vals, k};
    a.i = pick;
    (void)i;
    return eval_term(e, at, &a.k);
  }
  rv *out = NULL;
  int r;
  override *ov = e->nfn_ovr ? find_fn_override(e, t) : NULL;
  if (ov) {
    if (ov->repl) {
      term *rt = ov->repl;
      int saved_nf = e->nfn_ovr; /* a mock sees original functions (no mock calls another) */
      e->nfn_ovr = 0;
      uint32_t saved_epoch = e->epoch;
      e->epoch = ++e->epoch_next;
      r = dispatch(e, t, rt->u.call.ct, rt->u.call.bi, rt->u.call.node, rt->u.call.host, vals, n, &out);
      e->epoch = saved_epoch;
      e->nfn_ovr = saved_nf;
    } else {
      out = ov->value;
      r = RC_OK;
    }
  } else {
    r = dispatch(e, t, t->u.call.ct, t->u.call.bi, t->u.call.node, t->u.call.host, vals, n, &out);
  }
  if (r) return r;
  if (!out) return RC_OK;
  if (t->u.call.nargs == n + 1 && t->u.call.ct != CT_PRINT) {
    truek tk = {{true_after}, k};
    return unify_val(e, t->u.call.args[n], out, &tk.k);
  }
  return k->fn(e, k, out);
}

static int eval_call(ev *e, term *t, kont *k) {
  int n = t->u.call.nargs;
  if (t->u.call.ct != CT_PRINT && n == t->u.call.arity + 1) n = t->u.call.arity;
  rv *small[8] = {0};
  rv **vals = n <= 8 ? small : rv_zalloc(e->a, sizeof(rv *) * (size_t)n);
  if (t->u.call.ct == CT_PRINT) {
    /* print/trace: evaluate nothing observable; always true */
    return k->fn(e, k, RV_TRUE);
  }
  return args_step(e, t, 0, n, vals, k);
}

typedef struct {
  kont k;
  term *t;
  kont *next;
} headwalk;

static int head_walk(ev *e, kont *k, rv *v) {
  headwalk *w = (headwalk *)k;
  return walk_value(e, w->t, 0, v, w->next);
}

static int eval_term(ev *e, term *t, kont *k) {
  if (t->constv) return k->fn(e, k, t->constv);
  if (stack_exhausted(e)) return fail(e, RE_LIMIT, t->loc, "evaluation nesting too deep (stack limit)");
  switch (t->kind) {
  case TK_SCALAR: return k->fn(e, k, t->u.v);
  case TK_VAR: {
    if (t->u.var.res == VR_INPUT) return e->input ? k->fn(e, k, e->input) : RC_OK;
    if (t->u.var.res == VR_DATA) {
      term tmp = *t;
      tmp.kind = TK_REF;
      tmp.u.ref.head = t;
      tmp.u.ref.parts = NULL;
      tmp.u.ref.nparts = 0;
      return data_walk(e, &tmp, 0, e->p->root, e->data, k);
    }
    rv *v = e->frame[t->u.var.slot];
    if (!v) return fail(e, RE_UNSAFE, t->loc, "var %s is unsafe", t->u.var.name);
    return k->fn(e, k, v);
  }
  case TK_REF: {
    term *h = t->u.ref.head;
    if (h->kind == TK_VAR) {
      if (h->u.var.res == VR_INPUT) return e->input ? walk_value(e, t, 0, e->input, k) : RC_OK;
      if (h->u.var.res == VR_DATA) {
        rv *base = e->data;
        for (int i = 0; i < t->u.ref.skip && base; i++) {
          rv *key = t->u.ref.parts[i]->constv;
          base = base->kind == RV_OBJECT ? rv_object_get(base, key) : NULL;
        }
        return data_walk(e, t, t->u.ref.skip, t->u.ref.node, base, k);
      }
      rv *v = e->frame[h->u.var.slot];
      if (!v) return fail(e, RE_UNSAFE, h->loc, "var %s is unsafe", h->u.var.name);
      return walk_value(e, t, 0, v, k);
    }
    headwalk w = {{head_walk}, t, k};
    return eval_term(e, h, &w.k);
  }
  case TK_ARRAY:
  case TK_SET:
  case TK_OBJECT: {
    rv **vals = rv_alloc(e->a, sizeof(rv *) * (size_t)(t->u.coll.n ? t->u.coll.n : 1));
    return items_step(e, t, 0, vals, k);
  }
  case TK_ARRCOMP:
  case TK_SETCOMP:
  case TK_OBJCOMP: return eval_comprehension(e, t, k);
  case TK_CALL: return eval_call(e, t, k);
  }
  return RC_OK;
}

/* ---- unification ---- */

typedef struct {
  kont k;
  term *t; /* array/object pattern */
  rv *v;
  int i;
  kont *next;
} seqk;

static int unify_seq(ev *e, term *t, rv *v, int i, kont *k);

static int seq_next(ev *e, kont *k, rv *unused) {
  (void)unused;
  seqk *s = (seqk *)k;
  return unify_seq(e, s->t, s->v, s->i, s->next);
}

typedef struct {
  kont k;
  term *t;
  rv *v;
  int i;
  kont *next;
} objkeyk;

static int obj_key_got(ev *e, kont *k, rv *key) {
  objkeyk *o = (objkeyk *)k;
  rv *val = rv_object_get(o->v, key);
  if (!val) return RC_OK;
  seqk s = {{seq_next}, o->t, o->v, o->i + 2, o->next};
  return unify_val(e, o->t->u.coll.items[o->i + 1], val, &s.k);
}

static int unify_seq(ev *e, term *t, rv *v, int i, kont *k) {
  if (t->kind == TK_ARRAY) {
    if (i == t->u.coll.n) return k->fn(e, k, NULL);
    seqk s = {{seq_next}, t, v, i + 1, k};
    return unify_val(e, t->u.coll.items[i], v->u.arr.items[i], &s.k);
  }
  /* object */
  if (i >= t->u.coll.n) return k->fn(e, k, NULL);
  objkeyk o = {{obj_key_got}, t, v, i, k};
  return eval_term(e, t->u.coll.items[i], &o.k);
}

typedef struct {
  kont k;
  rv *v;
  kont *next;
} eqk;

static int eq_check(ev *e, kont *k, rv *x) {
  eqk *q = (eqk *)k;
  if (!rv_equal(x, q->v)) return RC_OK;
  return q->next->fn(e, q->next, NULL);
}

static int unify_val(ev *e, term *t, rv *v, kont *k) {
  if (t->constv) return rv_equal(t->constv, v) ? k->fn(e, k, NULL) : RC_OK;
  switch (t->kind) {
  case TK_VAR:
    if (t->u.var.res == VR_LOCAL) {
      rv *cur = e->frame[t->u.var.slot];
      if (cur) return rv_equal(cur, v) ? k->fn(e, k, NULL) : RC_OK;
      size_t mark = e->ntrail;
      bind(e, t->u.var.slot, v);
      int r = k->fn(e, k, NULL);
      undo(e, mark);
      return r;
    }
    break;
  case TK_ARRAY:
    if (v->kind != RV_ARRAY || v->u.arr.len != (size_t)t->u.coll.n) return RC_OK;
    return unify_seq(e, t, v, 0, k);
  case TK_OBJECT:
    if (v->kind != RV_OBJECT || v->u.obj.len * 2 != (size_t)t->u.coll.n) return RC_OK;
    return unify_seq(e, t, v, 0, k);
  default: break;
  }
  eqk q = {{eq_check}, v, k};
  return eval_term(e, t, &q.k);
}

static bool has_unbound(ev *e, term *t) {
  switch (t->kind) {
  case TK_VAR: return t->u.var.res == VR_LOCAL && !e->frame[t->u.var.slot];
  case TK_ARRAY:
  case TK_OBJECT:
    if (t->constv) return false;
    for (int i = 0; i < t->u.coll.n; i++)
      if ((t->kind == TK_ARRAY || i % 2) && has_unbound(e, t->u.coll.items[i])) return true;
    return false;
  default: return false;
  }
}

typedef struct {
  kont k;
  term *other;
  kont *next;
} unifyk;

static int unify_other(ev *e, kont *k, rv *v) {
  unifyk *u = (unifyk *)k;
  return unify_val(e, u->other, v, u->next);
}

static int unify_terms(ev *e, term *a, term *b, kont *k);

typedef struct {
  kont k;
  term *a, *b;
  int i;
  kont *next;
} pairk;

static int pair_next(ev *e, kont *k, rv *unused) {
  (void)unused;
  pairk *p = (pairk *)k;
  if (p->i == p->a->u.coll.n) return p->next->fn(e, p->next, NULL);
  pairk n = {{pair_next}, p->a, p->b, p->i + 1, p->next};
  return unify_terms(e, p->a->u.coll.items[p->i], p->b->u.coll.items[p->i], &n.k);
}

typedef struct {
  kont k;
  term *a, *b;
  int i;
  kont *next;
} opairk;

/* Both objects with the same constant keys: unify values pairwise. */
static int opair_next(ev *e, kont *k, rv *unused) {
  (void)unused;
  opairk *p = (opairk *)k;
  if (p->i >= p->a->u.coll.n) return p->next->fn(e, p->next, NULL);
  term *ka = p->a->u.coll.items[p->i];
  for (int j = 0; j < p->b->u.coll.n; j += 2) {
    if (!rv_equal(ka->constv, p->b->u.coll.items[j]->constv)) continue;
    opairk n = {{opair_next}, p->a, p->b, p->i + 2, p->next};
    return unify_terms(e, p->a->u.coll.items[p->i + 1], p->b->u.coll.items[j + 1], &n.k);
  }
  return RC_OK;
}

static bool const_keys(const term *t) {
  for (int i = 0; i < t->u.coll.n; i += 2)
    if (!t->u.coll.items[i]->constv) return false;
  return true;
}

static int unify_terms(ev *e, term *a, term *b, kont *k) {
  if (a->kind == TK_OBJECT && b->kind == TK_OBJECT && has_unbound(e, a) && has_unbound(e, b)) {
    if (a->u.coll.n != b->u.coll.n || !const_keys(a) || !const_keys(b)) return RC_OK;
    opairk p = {{opair_next}, a, b, 0, k};
    return opair_next(e, &p.k, NULL);
  }
  if (a->kind == TK_ARRAY && b->kind == TK_ARRAY && has_unbound(e, a) && has_unbound(e, b)) {
    if (a->u.coll.n != b->u.coll.n) return RC_OK;
    pairk p = {{pair_next}, a, b, 0, k};
    return pair_next(e, &p.k, NULL);
  }
  if (has_unbound(e, a)) {
    if (has_unbound(e, b) && a->kind == TK_VAR && b->kind == TK_VAR)
      return fail(e, RE_UNSAFE, a->loc, "var %s is unsafe", a->u.var.name);
    unifyk u = {{unify_other}, a, k};
    return eval_term(e, b, &u.k);
  }
  unifyk u = {{unify_other}, b, k};
  return eval_term(e, a, &u.k);
}

/* ---- expressions ---- */

typedef struct {
  kont k;
  kont *next;
  int qidx;
  bool keep_false; /* lone non-call term of a query: false is its value */
} truthk;

static int truth(ev *e, kont *k, rv *v) {
  truthk *t = (truthk *)k;
  /* a lone term query (data.policy.allow) reports its value, false included */
  if (v->kind == RV_BOOL && !v->u.b && !t->keep_false) return RC_OK;
  if (t->qidx && e->qexprvals) e->qexprvals[t->qidx - 1] = v;
  return t->next->fn(e, t->next, NULL);
}

typedef struct {
  kont k;
  bool found;
} stopk;

static int stop_fn(ev *e, kont *k, rv *v) {
  (void)e;
  (void)v;
  ((stopk *)k)->found = true;
  return RC_STOP;
}

typedef struct {
  kont k;
  term *lhs;
  kont *next;
} assignk;

static int assign_got(ev *e, kont *k, rv *v) {
  assignk *a = (assignk *)k;
  return unify_val(e, a->lhs, v, a->next);
}

/* some k, v in coll / every */
typedef struct {
  kont k;
  expr *x;
  kont *next;
} inK;

typedef struct {
  kont k;
  term *valpat;
  rv *val;
  kont *next;
} kvk;

static int kv_after_key(ev *e, kont *k, rv *unused) {
  (void)unused;
  kvk *s = (kvk *)k;
  return unify_val(e, s->valpat, s->val, s->next);
}

static int bind_kv(ev *e, term *kp, term *vp, rv *key, rv *val, kont *k) {
  if (!kp) return unify_val(e, vp, val, k);
  kvk s = {{kv_after_key}, vp, val, k};
  return unify_val(e, kp, key, &s.k);
}

static int somein_coll(ev *e, kont *k, rv *coll) {
  inK *s = (inK *)k;
  expr *x = s->x;
  size_t mark = e->ntrail, n = coll_len(coll);
  for (size_t i = 0; i < n; i++) {
    rv *key, *val;
    coll_entry(e, coll, i, &key, &val);
    int r = bind_kv(e, x->a, x->b, key, val, s->next);
    undo(e, mark);
    if (r) return r;
  }
  return RC_OK;
}

typedef struct {
  kont k;
  body *b;
  bool ok;
} everybodyk;

static int every_elem(ev *e, kont *k, rv *unused) {
  (void)unused;
  everybodyk *eb = (everybodyk *)k;
  stopk st = {{stop_fn}, false};
  int r = eval_body(e, eb->b, 0, &st.k);
  if (r == RC_ERR) return r;
  if (!st.found) {
    eb->ok = false;
    return RC_STOP;
  }
  return RC_OK;
}

static int every_coll(ev *e, kont *k, rv *coll) {
  inK *s = (inK *)k;
  expr *x = s->x;
  everybodyk eb = {{every_elem}, x->body, true};
  if (coll->kind != RV_OBJECT && coll->kind != RV_ARRAY && coll->kind != RV_SET) return RC_OK;
  size_t mark = e->ntrail;
  size_t n = coll_len(coll);
  for (size_t i = 0; i < n && eb.ok; i++) {
    rv *key, *val;
    coll_entry(e, coll, i, &key, &val);
    int r = bind_kv(e, x->a, x->b, key, val, &eb.k);
    undo(e, mark);
    if (r == RC_ERR) return r;
  }
  if (!eb.ok) return RC_OK;
  return s->next->fn(e, s->next, NULL);
}

static int eval_expr_inner(ev *e, expr *x, kont *k) {
  switch (x->kind) {
  case EX_TERM: {
    truthk t = {{truth}, k, x->qidx, x->qidx && e->q_single && x->a->kind != TK_CALL};
    return eval_term(e, x->a, &t.k);
  }
  case EX_UNIFY: return unify_terms(e, x->a, x->b, k);
  case EX_ASSIGN: {
    assignk a = {{assign_got}, x->a, k};
    return eval_term(e, x->b, &a.k);
  }
  case EX_NOT: {
    stopk st = {{stop_fn}, false};
    size_t mark = e->ntrail;
    int r = eval_expr(e, x->neg, &st.k);
    undo(e, mark);
    if (r == RC_ERR) return r;
    if (st.found) return RC_OK;
    return k->fn(e, k, NULL);
  }
  case EX_SOME: return k->fn(e, k, NULL);
  case EX_SOMEIN: {
    inK s = {{somein_coll}, x, k};
    return eval_term(e, x->c, &s.k);
  }
  case EX_EVERY: {
    inK s = {{every_coll}, x, k};
    return eval_term(e, x->c, &s.k);
  }
  }
  return RC_OK;
}

/* --- with --- */

typedef struct {
  kont k;
  kont *next;
  /* state to restore for the continuation and re-apply after */
  rv *outer_input, *outer_data;
  int outer_novr, outer_ndata, outer_nfn;
  uint32_t outer_epoch;
} withk;

static int with_cont(ev *e, kont *k, rv *v) {
  withk *w = (withk *)k;
  rv *in_input = e->input, *in_data = e->data;
  int in_novr = e->novr, in_nd = e->ndata_ovr, in_nf = e->nfn_ovr;
  uint32_t in_epoch = e->epoch;
  e->input = w->outer_input;
  e->data = w->outer_data;
  e->novr = w->outer_novr;
  e->ndata_ovr = w->outer_ndata;
  e->nfn_ovr = w->outer_nfn;
  e->epoch = w->outer_epoch;
  int r = w->next->fn(e, w->next, v);
  /* re-apply (the override array may have been grown; entries above outer_novr are ours) */
  e->input = in_input;
  e->data = in_data;
  e->novr = in_novr;
  e->ndata_ovr = in_nd;
  e->nfn_ovr = in_nf;
  e->epoch = in_epoch;
  return r;
}

#define MAX_OVERRIDES 64

static bool push_override(ev *e, override ov) {
  if (!e->ovr)
    e->ovr = rv_alloc(e->a, sizeof(override) * MAX_OVERRIDES); /* never moves: mocks point into it */
  if (e->novr == MAX_OVERRIDES) return false;
  e->ovr[e->novr++] = ov;
  return true;
}

typedef struct {
  kont k;
  rv *v;
  bool got;
} firstk;

static int first_fn(ev *e, kont *k, rv *v) {
  (void)e;
  firstk *f = (firstk *)k;
  f->v = v;
  f->got = true;
  return RC_STOP;
}

static int eval_with(ev *e, expr *x, kont *k) {
  rv *outer_input = e->input, *outer_data = e->data;
  int outer_novr = e->novr, outer_nd = e->ndata_ovr, outer_nf = e->nfn_ovr;
  uint32_t outer_epoch = e->epoch;
  int r = RC_OK;
  for (int i = 0; i < x->nwith; i++) {
    withmod *w = &x->withs[i];
    term *tg = w->target;
    rv *val = NULL;
    term *repl = NULL;
    if (w->value->kind == TK_CALL && w->value->u.call.nargs == 0 && w->value->u.call.ct != CT_NONE &&
        !w->value->u.call.fn) {
      repl = w->value;
    } else {
      firstk f = {{first_fn}, NULL, false};
      r = eval_term(e, w->value, &f.k);
      if (r == RC_ERR) goto out;
      r = RC_OK;
      if (!f.got) goto out; /* undefined value: expression undefined */
      val = f.v;
    }
    if (tg->kind == TK_CALL) {
      override ov = {.kind = 1, .value = val, .repl = repl};
      if (tg->u.call.ct == CT_BUILTIN)
        ov.bi = tg->u.call.bi;
      else if (tg->u.call.ct == CT_FUNC)
        ov.fnode = tg->u.call.node;
      else if (tg->u.call.ct == CT_HOST)
        ov.host = tg->u.call.host + 1;
      else
        continue;
      if (!push_override(e, ov)) {
        r = fail(e, RE_LIMIT, x->loc, "too many nested with modifiers");
        goto out;
      }
      e->nfn_ovr++;
      continue;
    }
    if (!val) {
      r = fail(e, RE_TYPE, tg->loc, "with: replacement for data/input must be a value");
      goto out;
    }
    term *h = tg->kind == TK_REF ? tg->u.ref.head : tg;
    int np = tg->kind == TK_REF ? tg->u.ref.nparts : 0;
    rv **path = rv_alloc(e->a, sizeof(rv *) * (size_t)(np + 1));
    for (int j = 0; j < np; j++)
      path[j] = tg->u.ref.parts[j]->u.v;
    if (h->u.var.res == VR_INPUT) {
      e->input = np ? set_path(e, e->input, path, np, val) : val;
    } else {
      /* base documents take precedence over rules, so patching the base
       * data replaces both */
      e->data = np ? set_path(e, e->data, path, np, val) : val;
      override ov = {.kind = 0, .path = path, .npath = np, .value = val};
      if (!push_override(e, ov)) {
        r = fail(e, RE_LIMIT, x->loc, "too many nested with modifiers");
        goto out;
      }
      e->ndata_ovr++;
    }
  }
  e->epoch = ++e->epoch_next;
  {
    withk wk = {{with_cont}, k, outer_input, outer_data, outer_novr, outer_nd, outer_nf, outer_epoch};
    r = eval_expr_inner(e, x, &wk.k);
  }
out:
  e->input = outer_input;
  e->data = outer_data;
  e->novr = outer_novr;
  e->ndata_ovr = outer_nd;
  e->nfn_ovr = outer_nf;
  e->epoch = outer_epoch;
  return r;
}

static bool stack_exhausted(ev *e) {
  char here;
  return e->stack_base && (size_t)(e->stack_base - &here) > MAX_STACK_BYTES;
}

static int eval_expr(ev *e, expr *x, kont *k) {
  if (stack_exhausted(e)) return fail(e, RE_LIMIT, x->loc, "evaluation nesting too deep (stack limit)");
  if (++e->steps > e->max_steps)
    return fail(e, RE_LIMIT, x->loc, "evaluation step limit (%llu) exceeded",
                (unsigned long long)e->max_steps);
  if (rv_arena_over_limit(e->a)) return fail(e, RE_LIMIT, x->loc, "evaluation memory limit exceeded");
  if (x->nwith) return eval_with(e, x, k);
  return eval_expr_inner(e, x, k);
}

typedef struct {
  kont k;
  body *b;
  int i;
  kont *next;
} bodyk;

static int body_next(ev *e, kont *k, rv *unused) {
  (void)unused;
  bodyk *bk = (bodyk *)k;
  return eval_body(e, bk->b, bk->i, bk->next);
}

static int eval_body(ev *e, body *b, int i, kont *k) {
  if (i == b->n) return k->fn(e, k, NULL);
  if (i == b->n - 1) return eval_expr(e, b->exprs[i], k);
  bodyk bk = {{body_next}, b, i + 1, k};
  return eval_expr(e, b->exprs[i], &bk.k);
}

/* ---- rules ---- */

static rv **frame_new(ev *e, int n) { return rv_zalloc(e->a, sizeof(rv *) * (size_t)(n ? n : 1)); }

typedef struct {
  kont k;
  rule *r;
  rv *result;
  bool produced;
  dnode *n;
  bool func;
} completek;

static int complete_val(ev *e, kont *k, rv *v) {
  completek *c = (completek *)k;
  if (c->result && !rv_equal(c->result, v)) {
    if (c->func)
      return fail(e, RE_CONFLICT, c->r->loc, "functions must not produce multiple outputs for same inputs");
    return fail(e, RE_CONFLICT, c->r->loc, "complete rules must not produce multiple outputs");
  }
  c->result = v;
  c->produced = true;
  return c->r->value_const ? RC_STOP : RC_OK;
}

static int complete_solution(ev *e, kont *k, rv *unused) {
  (void)unused;
  completek *c = (completek *)k;
  if (!c->r->value) return complete_val(e, k, RV_TRUE);
  /* evaluate the value term; complete_val sees the same struct */
  c->k.fn = complete_val;
  int r = eval_term(e, c->r->value, &c->k);
  c->k.fn = complete_solution;
  return r;
}

/* Evaluates one rule chain (rule + else) in a fresh frame; keeps c->result. */
static int eval_chain(ev *e, rule *r, completek *c, rv **args, int nargs);

typedef struct {
  kont k;
  rule *x;
  completek *c;
} argsbodyk;

static int args_then_body(ev *e, kont *k, rv *unused) {
  (void)unused;
  argsbodyk *ab = (argsbodyk *)k;
  if (!ab->x->body) return complete_solution(e, &ab->c->k, NULL);
  return eval_body(e, ab->x->body, 0, &ab->c->k);
}

typedef struct {
  kont k;
  rule *r;
  rv **args;
  int i, n;
  kont *next;
} fargk;

static int farg_step(ev *e, kont *k, rv *unused) {
  (void)unused;
  fargk *f = (fargk *)k;
  if (f->i == f->n) return f->next->fn(e, f->next, NULL);
  fargk nf = {{farg_step}, f->r, f->args, f->i + 1, f->n, f->next};
  return unify_val(e, f->r->args[f->i], f->args[f->i], &nf.k);
}

static int eval_chain(ev *e, rule *r, completek *c, rv **args, int nargs) {
  rv **saved = e->frame;
  size_t mark = e->ntrail;
  e->frame = frame_new(e, r->nslots);
  int res = RC_OK;
  for (rule *x = r; x; x = x->else_) {
    c->r = x;
    c->produced = false;
    c->k.fn = complete_solution;
    argsbodyk ab = {{args_then_body}, x, c};
    if (nargs) {
      fargk f = {{farg_step}, r, args, 0, nargs, &ab.k};
      res = farg_step(e, &f.k, NULL);
    } else {
      res = args_then_body(e, &ab.k, NULL);
    }
    undo(e, mark);
    if (res == RC_STOP) res = RC_OK;
    if (res) break;
    if (c->produced) break;
  }
  e->frame = saved;
  return res;
}

/* Partial set / object rules. */
typedef struct {
  kont k;
  rule *r;
  rv_vec items; /* set elements, or object tuples (as arrays [k1..kn, v]) */
  rv **keys;    /* scratch for object keys */
  int nkeys;
} partialk;

typedef struct {
  kont k;
  partialk *p;
  int i;
} pkeyk;

static int partial_emit_obj(ev *e, partialk *p, int i);

static int pkey_got(ev *e, kont *k, rv *v) {
  pkeyk *pk = (pkeyk *)k;
  pk->p->keys[pk->i] = v;
  return partial_emit_obj(e, pk->p, pk->i + 1);
}

static int pval_got(ev *e, kont *k, rv *v) {
  pkeyk *pk = (pkeyk *)k;
  partialk *p = pk->p;
  p->keys[p->nkeys] = v;
  rv_vec_push(e->a, &p->items, rv_array(e->a, p->keys, (size_t)p->nkeys + 1));
  return RC_OK;
}

static int partial_emit_obj(ev *e, partialk *p, int i) {
  rule *r = p->r;
  if (i < p->nkeys) {
    pkeyk pk = {{pkey_got}, p, i};
    return eval_term(e, r->path[r->nstatic + i], &pk.k);
  }
  if (!r->value) {
    pkeyk pk = {{pval_got}, p, i};
    return pval_got(e, &pk.k, RV_TRUE);
  }
  pkeyk pk = {{pval_got}, p, i};
  return eval_term(e, r->value, &pk.k);
}

static int set_elem(ev *e, kont *k, rv *v) {
  partialk *p = (partialk *)k;
  rv_vec_push(e->a, &p->items, v);
  return RC_OK;
}

static int partial_solution(ev *e, kont *k, rv *unused) {
  (void)unused;
  partialk *p = (partialk *)k;
  if (p->r->kind == RK_SET) {
    p->k.fn = set_elem;
    int r = eval_term(e, p->r->key, &p->k);
    p->k.fn = partial_solution;
    return r;
  }
  return partial_emit_obj(e, p, 0);
}

static int tuple_cmp(const void *x, const void *y) {
  const rv *a = *(rv *const *)x, *b = *(rv *const *)y;
  size_t n = a->u.arr.len < b->u.arr.len ? a->u.arr.len : b->u.arr.len;
  for (size_t i = 0; i + 1 < n; i++) {
    int c = rv_compare(a->u.arr.items[i], b->u.arr.items[i]);
    if (c) return c;
  }
  return (int)a->u.arr.len - (int)b->u.arr.len;
}

/* Builds a nested object from sorted tuples [k_depth.., v]; conflicts are errors. */
static rv *build_nested(ev *e, rv **tuples, size_t n, size_t depth, bool *conflict, bool setleaf) {
  rv_vec ks = {0}, vs = {0};
  size_t i = 0;
  while (i < n) {
    size_t j = i + 1;
    rv *key = tuples[i]->u.arr.items[depth];
    while (j < n && rv_equal(tuples[j]->u.arr.items[depth], key))
      j++;
    bool leaf = tuples[i]->u.arr.len == depth + 2;
    rv *val;
    if (leaf && setleaf) {
      rv_vec el = {0};
      for (size_t m = i; m < j; m++) {
        if (tuples[m]->u.arr.len != depth + 2) {
          *conflict = true;
          return NULL;
        }
        rv_vec_push(e->a, &el, tuples[m]->u.arr.items[depth + 1]);
      }
      val = rv_set(e->a, el.items, el.len);
    } else if (leaf) {
      val = tuples[i]->u.arr.items[depth + 1];
      for (size_t m = i + 1; m < j; m++) {
        if (tuples[m]->u.arr.len != depth + 2 || !rv_equal(tuples[m]->u.arr.items[depth + 1], val)) {
          *conflict = true;
          return NULL;
        }
      }
    } else {
      for (size_t m = i; m < j; m++)
        if (tuples[m]->u.arr.len == depth + 2) {
          *conflict = true;
          return NULL;
        }
      val = build_nested(e, tuples + i, j - i, depth + 1, conflict, setleaf);
      if (!val) return NULL;
    }
    rv_vec_push(e->a, &ks, key);
    rv_vec_push(e->a, &vs, val);
    i = j;
  }
  return rv_object(e->a, ks.items, vs.items, ks.len, conflict);
}

static int eval_partial(ev *e, dnode *n, rloc loc, rv **out) {
  partialk p = {{partial_solution}, NULL, {0}, NULL, 0};
  for (int i = 0; i < n->nrules; i++) {
    rule *r = n->rules[i];
    p.r = r;
    p.nkeys = r->npath - r->nstatic;
    p.keys = rv_alloc(e->a, sizeof(rv *) * (size_t)(p.nkeys + 1));
    rv **saved = e->frame;
    size_t mark = e->ntrail;
    e->frame = frame_new(e, r->nslots);
    int res = r->body ? eval_body(e, r->body, 0, &p.k) : partial_solution(e, &p.k, NULL);
    undo(e, mark);
    e->frame = saved;
    if (res == RC_ERR) return res;
  }
  if (n->kind == RK_SET) {
    *out = rv_set(e->a, p.items.items, p.items.len);
    return RC_OK;
  }
  if (p.items.len > 1) qsort(p.items.items, p.items.len, sizeof(rv *), tuple_cmp);
  bool conflict = false, setleaf = false;
  for (int i = 0; i < n->nrules; i++)
    setleaf |= n->rules[i]->set_leaf;
  rv *obj = build_nested(e, p.items.items, p.items.len, 0, &conflict, setleaf);
  if (!obj || conflict) return fail(e, RE_CONFLICT, loc, "object keys must be unique");
  *out = obj;
  return RC_OK;
}

static int eval_complete(ev *e, dnode *n, rv **out) {
  completek c = {{complete_solution}, NULL, NULL, false, n, false};
  for (int i = 0; i < n->nrules; i++) {
    int r = eval_chain(e, n->rules[i], &c, NULL, 0);
    if (r) return r;
  }
  if (!c.result && n->dflt) {
    completek d = {{complete_solution}, NULL, NULL, false, n, false};
    int r = eval_chain(e, n->dflt, &d, NULL, 0);
    if (r) return r;
    c.result = d.result;
  }
  *out = c.result;
  return RC_OK;
}

/* An object rule node may also have constant-path rules below it
 * (p[k] := v and p.foo := 1): their values join the object. */
/* Merges two documents; la/lb = how many levels of a/b are path structure
 * (below that, objects are rule values and must not be merged into). */
static rv *deep_merge(ev *e, rv *a, rv *b, int la, int lb, bool *conflict) {
  if (rv_equal(a, b)) return a;
  if (a->kind == RV_SET && b->kind == RV_SET) {
    size_t n = a->u.arr.len + b->u.arr.len;
    rv **items = rv_alloc(e->a, sizeof(rv *) * n);
    memcpy(items, a->u.arr.items, sizeof(rv *) * a->u.arr.len);
    memcpy(items + a->u.arr.len, b->u.arr.items, sizeof(rv *) * b->u.arr.len);
    return rv_set(e->a, items, n);
  }
  if (a->kind != RV_OBJECT || b->kind != RV_OBJECT || la <= 0 || lb <= 0) {
    *conflict = true;
    return NULL;
  }
  rv_vec ks = {0}, vs = {0};
  for (size_t i = 0; i < a->u.obj.len; i++) {
    rv *k = a->u.obj.keys[i], *va = a->u.obj.vals[i];
    rv *vb = rv_object_get(b, k);
    if (vb) {
      va = deep_merge(e, va, vb, la - 1, lb - 1, conflict);
      if (!va) return NULL;
    }
    rv_vec_push(e->a, &ks, k);
    rv_vec_push(e->a, &vs, va);
  }
  for (size_t i = 0; i < b->u.obj.len; i++) {
    if (rv_object_get(a, b->u.obj.keys[i])) continue;
    rv_vec_push(e->a, &ks, b->u.obj.keys[i]);
    rv_vec_push(e->a, &vs, b->u.obj.vals[i]);
  }
  return rv_object(e->a, ks.items, vs.items, ks.len, conflict);
}

/* An object rule node may also have constant-path rules below it
 * (p[k] := v and p.foo := 1): their values join the object. */
static int rule_levels(const dnode *n) {
  int l = 0;
  for (int i = 0; i < n->nrules; i++)
    if (n->rules[i]->npath - n->rules[i]->nstatic > l) l = n->rules[i]->npath - n->rules[i]->nstatic;
  return l;
}

static int merge_children(ev *e, dnode *n, rloc loc, rv **v) {
  rv *obj = *v ? *v : &rv_empty_obj_v;
  int la = rule_levels(n);
  for (int i = 0; i < n->nchildren; i++) {
    dnode *ch = n->children[i];
    if (ch->kind == RK_FUNC) continue;
    rv *cv = NULL;
    int r = ch->kind >= 0 ? node_value(e, ch, loc, &cv) : package_value(e, ch, NULL, loc, &cv);
    if (r) return r;
    if (!cv) continue;
    rv *kk = ch->key;
    rv *one = rv_object(e->a, &kk, &cv, 1, NULL);
    bool conflict = false;
    int lb = ch->kind < 0 ? 1000 : 1 + (ch->kind == RK_OBJECT ? rule_levels(ch) : 0);
    obj = deep_merge(e, obj, one, la, lb, &conflict);
    if (!obj) return fail(e, RE_CONFLICT, loc, "object keys must be unique");
  }
  *v = obj;
  return RC_OK;
}

static int node_value(ev *e, dnode *n, rloc loc, rv **out) {
  nstate *s = &e->nodes[n->id];
  if (s->epoch == e->epoch) {
    if (s->state == 2) {
      *out = s->val;
      return RC_OK;
    }
    if (s->state == 1) return fail(e, RE_RECURSION, loc, "rule data.%s is recursive", n->name);
  }
  if (n->kind == RK_FUNC) {
    *out = NULL;
    return RC_OK;
  }
  if (++e->depth > MAX_CALL_DEPTH) return fail(e, RE_LIMIT, loc, "rule evaluation depth limit exceeded");
  uint32_t my_epoch = e->epoch;
  s->epoch = my_epoch;
  s->state = 1;
  rv *v = NULL;
  int r = n->kind == RK_COMPLETE ? eval_complete(e, n, &v) : eval_partial(e, n, loc, &v);
  if (!r && n->kind == RK_OBJECT && n->nchildren) r = merge_children(e, n, loc, &v);
  e->depth--;
  s = &e->nodes[n->id];
  if (r) {
    s->state = 0;
    s->epoch = 0;
    return r;
  }
  s->epoch = my_epoch;
  s->state = 2;
  s->val = v;
  *out = v;
  return RC_OK;
}

static int package_value(ev *e, dnode *n, rv *base, rloc loc, rv **out) {
  nstate *s = &e->pkgs[n->id];
  if (s->epoch == e->epoch && s->state == 2 && !e->ndata_ovr) {
    *out = s->val;
    return RC_OK;
  }
  rv_vec ks = {0}, vs = {0};
  int ci = 0;
  size_t bi = 0, bn = base && base->kind == RV_OBJECT ? base->u.obj.len : 0;
  while (ci < n->nchildren || bi < bn) {
    dnode *ch = ci < n->nchildren ? n->children[ci] : NULL;
    rv *bk = bi < bn ? base->u.obj.keys[bi] : NULL;
    int c = !ch ? 1 : !bk ? -1 : rv_compare(ch->key, bk);
    rv *val = NULL, *key;
    if (c > 0) {
      key = bk;
      val = base->u.obj.vals[bi++];
    } else {
      key = ch->key;
      rv *cb = c == 0 ? base->u.obj.vals[bi++] : NULL;
      ci++;
      if (ch->kind == RK_FUNC) {
        continue;
      } else if (e->ndata_ovr && node_overridden(e, ch)) {
        val = cb;
      } else if (ch->kind >= 0) {
        if (cb)
          val = cb;
        else if (node_value(e, ch, loc, &val))
          return RC_ERR;
      } else {
        if (package_value(e, ch, cb, loc, &val)) return RC_ERR;
      }
    }
    if (!val) continue;
    rv_vec_push(e->a, &ks, key);
    rv_vec_push(e->a, &vs, val);
  }
  rv *obj = rv_object(e->a, ks.items, vs.items, ks.len, NULL);
  if (!obj) obj = &rv_empty_obj_v;
  s = &e->pkgs[n->id];
  s->epoch = e->epoch;
  s->state = 2;
  s->val = obj;
  *out = obj;
  return RC_OK;
}

static int call_function(ev *e, dnode *n, rv **args, int nargs, rloc loc, rv **out) {
  *out = NULL;
  nstate *s = &e->nodes[n->id];
  if (s->state == 1 && s->epoch == e->epoch)
    return fail(e, RE_RECURSION, loc, "function data.%s is recursive", n->name);
  if (++e->depth > MAX_CALL_DEPTH) return fail(e, RE_LIMIT, loc, "function call depth limit exceeded");
  uint8_t saved_state = s->state;
  uint32_t saved_epoch = s->epoch;
  s->state = 1;
  s->epoch = e->epoch;
  completek c = {{complete_solution}, NULL, NULL, false, n, true};
  int r = RC_OK;
  for (int i = 0; i < n->nrules && !r; i++)
    r = eval_chain(e, n->rules[i], &c, args, nargs);
  if (!r && !c.result && n->dflt) {
    completek d = {{complete_solution}, NULL, NULL, false, n, true};
    r = eval_chain(e, n->dflt, &d, args, nargs);
    c.result = d.result;
  }
  s = &e->nodes[n->id];
  s->state = saved_state;
  s->epoch = saved_epoch;
  e->depth--;
  if (r) return r;
  *out = c.result;
  return RC_OK;
}

/* ---- entry points ---- */

static void ev_init(ev *e, const ev_setup *s, ev_error *err) {
  memset(e, 0, sizeof(*e));
  e->p = s->p;
  e->a = s->arena;
  e->input = s->input;
  e->data = s->data ? s->data : &rv_empty_obj_v;
  e->hosts = s->hosts;
  e->nhosts = s->nhosts;
  e->strict = s->strict;
  e->max_steps = s->max_steps ? s->max_steps : 10000000ull;
  e->err = err;
  e->epoch = 1;
  e->epoch_next = 1;
  e->nodes = rv_zalloc(e->a, sizeof(nstate) * (size_t)(s->p->nnodes + 1));
  e->pkgs = rv_zalloc(e->a, sizeof(nstate) * (size_t)(s->p->nnodes + 1));
  e->bctx.arena = e->a;
  e->bctx.strict = s->strict;
  e->bctx.now_ns = s->now_ns;
  if (!e->bctx.now_ns) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    e->bctx.now_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
  }
  e->bctx.eval = e;
  memset(err, 0, sizeof(*err));
}

static void ev_done(ev *e) { rego_bi_cache_free(e->bctx.cache); }

int rego_eval_path(const ev_setup *s, const char *const *segs, int nsegs, rv **out, ev_error *err) {
  ev e;
  ev_init(&e, s, err);
  char stack_marker;
  e.stack_base = &stack_marker;
  *out = NULL;
  dnode *n = s->p->root;
  rv *base = e.data;
  int i = 0;
  for (; i < nsegs && n && n->kind < 0; i++) {
    size_t l = strlen(segs[i]);
    dnode *ch = rego_node_child(n, segs[i], l);
    base = base && base->kind == RV_OBJECT ? rv_object_get_str(base, segs[i], l) : NULL;
    n = ch;
  }
  rv *v = NULL;
  int r = RC_OK;
  if (n && n->kind >= 0) {
    r = node_value(&e, n, (rloc){0}, &v);
  } else if (n) {
    r = package_value(&e, n, base, (rloc){0}, &v);
  } else {
    v = base;
  }
  for (; !r && v && i < nsegs; i++) {
    rv *key = rv_cstring(e.a, segs[i]);
    v = index_value(&e, v, key);
  }
  ev_done(&e);
  if (r) return -1;
  *out = v;
  return 0;
}

typedef struct {
  kont k;
  const cquery *q;
  void (*row)(void *, rv **, rv **);
  void *ctx;
  rv **exprvals;
} rowk;

static int row_fn(ev *e, kont *k, rv *unused) {
  (void)unused;
  rowk *r = (rowk *)k;
  r->row(r->ctx, e->frame, r->exprvals);
  return RC_OK;
}

int rego_eval_cquery(const ev_setup *s, const cquery *q, void (*row)(void *, rv **, rv **), void *rowctx,
                     ev_error *err) {
  ev e;
  ev_init(&e, s, err);
  char stack_marker;
  e.stack_base = &stack_marker;
  e.frame = frame_new(&e, q->nslots);
  rowk rk = {{row_fn}, q, row, rowctx, NULL};
  rk.exprvals = rv_zalloc(e.a, sizeof(rv *) * (size_t)(q->body->n + 1));
  e.qexprvals = rk.exprvals;
  e.q_single = s->single_term_query && q->body->n == 1;
  int r = eval_body(&e, q->body, 0, &rk.k);
  ev_done(&e);
  return r == RC_ERR ? -1 : 0;
}
