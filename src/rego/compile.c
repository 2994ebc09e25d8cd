/* compile.c — turns parsed modules into an immutable, evaluation-ready
 * policy.
 *
 *  1. Data tree: every rule is filed under the node of its static path
 *     (data.<package>.<head parts up to the first non-constant part>); a
 *     head with a variable part after that is an object-producing rule.
 *  2. Names: each variable becomes a frame slot (one frame per rule, its
 *     else chain and nested comprehensions included). `:=`, `some` and
 *     function arguments declare; other occurrences resolve to a local in
 *     an enclosing scope, then input/data, an import alias, a rule of the
 *     package, and otherwise declare a new local. Rule names and aliases are
 *     rewritten into data refs whose leading constant parts are resolved to a
 *     data node once, here.
 *  3. Calls bind to a user function node, a host function, print, or a
 *     builtin (operators first), in that order; arity is checked.
 *  4. Safety: statements keep source order; a statement is only moved later
 *     when it needs a variable that a later statement binds (OPA's
 *     reordering). Unbindable variables are compile errors.
 *  5. Ground collections of constants are folded into values. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rego/internal.h"

typedef struct scope scope;
struct scope {
  scope *parent;
  int id;
  const char **names;
  int *slots;
  bool *assigned;
  int n, cap;
};

typedef struct {
  rego_policy *p;
  rv_arena *a;
  module *m;
  const char *file;
  /* slots */
  int nslots, capslots;
  char **slotnames;
  int *slot_scope;
  int nscopes;
  int *scope_parent;
  int capscopes;
  char err[600];
  bool failed;
} cctx;

static bool cfail(cctx *c, rloc loc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool cfail(cctx *c, rloc loc, const char *fmt, ...) {
  if (c->failed) return false;
  char m[480];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(m, sizeof m, fmt, ap);
  va_end(ap);
  snprintf(c->err, sizeof c->err, "%s:%d:%d: %s", loc.file ? loc.file : "", loc.line, loc.col, m);
  c->failed = true;
  return false;
}

/* ---- data tree ---- */

dnode *rego_node_child(const dnode *n, const char *name, size_t len) {
  int lo = 0, hi = n->nchildren;
  while (lo < hi) {
    int mid = (lo + hi) / 2;
    const dnode *ch = n->children[mid];
    size_t cl = ch->key->u.str.len;
    int r = memcmp(ch->name, name, cl < len ? cl : len);
    if (r == 0) r = cl < len ? -1 : (cl > len);
    if (r == 0) return n->children[mid];
    if (r < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return NULL;
}

static dnode *node_new(rv_arena *a, dnode *parent, const char *name, size_t len) {
  dnode *d = rv_zalloc(a, sizeof(dnode));
  d->key = rv_string(a, name, len);
  d->name = d->key->u.str.s;
  d->parent = parent;
  d->kind = -1;
  return d;
}

/* Both arrays grow geometrically (a policy may have tens of thousands of
 * rules in one package or bodies of one rule; copying on every insertion
 * made compile time and arena memory quadratic). */
static void *grow(rv_arena *a, void *items, int n, int *cap, size_t elem) {
  if (n < *cap) return items;
  int nc = *cap ? *cap * 2 : 4;
  void *ni = rv_alloc(a, elem * (size_t)nc);
  if (n) memcpy(ni, items, elem * (size_t)n);
  *cap = nc;
  return ni;
}

/* While the data tree is built, children are appended unsorted and found
 * through a hash map of (parent, name); sort_children then orders every
 * node's children once for rego_node_child's binary search (keeping them
 * sorted on each insertion moved O(n^2) pointers for n rules). */
typedef struct {
  dnode **slots;
  size_t cap, n;
} nodemap;

static size_t nm_hash(const dnode *parent, const char *name, size_t len) {
  uint64_t h = 1469598103934665603ull ^ (uint64_t)(uintptr_t)parent;
  for (size_t i = 0; i < len; i++)
    h = (h ^ (uint8_t)name[i]) * 1099511628211ull;
  return (size_t)(h ^ (h >> 29));
}

static dnode **nm_slot(nodemap *m, const dnode *parent, const char *name, size_t len) {
  size_t i = nm_hash(parent, name, len) & (m->cap - 1);
  for (;; i = (i + 1) & (m->cap - 1)) {
    dnode *d = m->slots[i];
    if (!d || (d->parent == parent && d->key->u.str.len == len && memcmp(d->name, name, len) == 0))
      return &m->slots[i];
  }
}

static void nm_put(rv_arena *a, nodemap *m, dnode *d) {
  if (2 * (m->n + 1) > m->cap) {
    nodemap g = {rv_zalloc(a, sizeof(dnode *) * (m->cap ? m->cap * 2 : 64)), m->cap ? m->cap * 2 : 64, 0};
    for (size_t i = 0; i < m->cap; i++)
      if (m->slots[i])
        *nm_slot(&g, m->slots[i]->parent, m->slots[i]->name, m->slots[i]->key->u.str.len) = m->slots[i];
    g.n = m->n;
    *m = g;
  }
  *nm_slot(m, d->parent, d->name, d->key->u.str.len) = d;
  m->n++;
}

static dnode *node_get(rv_arena *a, nodemap *m, dnode *n, const char *name, size_t len) {
  if (m->cap) {
    dnode *ch = *nm_slot(m, n, name, len);
    if (ch) return ch;
  }
  dnode *ch = node_new(a, n, name, len);
  n->children = grow(a, n->children, n->nchildren, &n->capchildren, sizeof(dnode *));
  n->children[n->nchildren++] = ch;
  nm_put(a, m, ch);
  return ch;
}

static int cmp_node_key(const void *x, const void *y) {
  return rv_compare((*(dnode *const *)x)->key, (*(dnode *const *)y)->key);
}

static void sort_children(dnode *n) {
  if (n->nchildren > 1) qsort(n->children, (size_t)n->nchildren, sizeof(dnode *), cmp_node_key);
  for (int i = 0; i < n->nchildren; i++)
    sort_children(n->children[i]);
}

static void node_add_rule(rv_arena *a, dnode *n, rule *r) {
  n->rules = grow(a, n->rules, n->nrules, &n->caprules, sizeof(rule *));
  n->rules[n->nrules++] = r;
}

static bool is_str_scalar(const term *t) { return t->kind == TK_SCALAR && t->u.v->kind == RV_STRING; }

static void number_nodes(dnode *n, int *next) {
  n->id = (*next)++;
  n->has_rules_below = n->nrules > 0 || n->dflt;
  for (int i = 0; i < n->nchildren; i++) {
    number_nodes(n->children[i], next);
    if (n->children[i]->has_rules_below) n->has_rules_below = true;
  }
}

/* ---- scopes and slots ---- */

static scope *scope_new(cctx *c, scope *parent) {
  scope *s = rv_zalloc(c->a, sizeof(scope));
  s->parent = parent;
  if (c->nscopes == c->capscopes) {
    int nc = c->capscopes ? c->capscopes * 2 : 16;
    int *np = rv_alloc(c->a, sizeof(int) * (size_t)nc);
    if (c->nscopes) memcpy(np, c->scope_parent, sizeof(int) * (size_t)c->nscopes);
    c->scope_parent = np;
    c->capscopes = nc;
  }
  s->id = c->nscopes++;
  c->scope_parent[s->id] = parent ? parent->id : -1;
  return s;
}

static int slot_new(cctx *c, scope *s, const char *name) {
  if (c->nslots == c->capslots) {
    int nc = c->capslots ? c->capslots * 2 : 16;
    char **nn = rv_alloc(c->a, sizeof(char *) * (size_t)nc);
    int *ns = rv_alloc(c->a, sizeof(int) * (size_t)nc);
    if (c->nslots) {
      memcpy(nn, c->slotnames, sizeof(char *) * (size_t)c->nslots);
      memcpy(ns, c->slot_scope, sizeof(int) * (size_t)c->nslots);
    }
    c->slotnames = nn;
    c->slot_scope = ns;
    c->capslots = nc;
  }
  c->slotnames[c->nslots] = (char *)name;
  c->slot_scope[c->nslots] = s->id;
  return c->nslots++;
}

static int scope_declare(cctx *c, scope *s, const char *name) {
  if (s->n == s->cap) {
    int nc = s->cap ? s->cap * 2 : 8;
    const char **nn = rv_alloc(c->a, sizeof(char *) * (size_t)nc);
    int *ns = rv_alloc(c->a, sizeof(int) * (size_t)nc);
    bool *na = rv_zalloc(c->a, sizeof(bool) * (size_t)nc);
    if (s->n) {
      memcpy(nn, s->names, sizeof(char *) * (size_t)s->n);
      memcpy(ns, s->slots, sizeof(int) * (size_t)s->n);
      memcpy(na, s->assigned, sizeof(bool) * (size_t)s->n);
    }
    s->names = nn;
    s->slots = ns;
    s->assigned = na;
    s->cap = nc;
  }
  int slot = slot_new(c, s, name);
  s->names[s->n] = name;
  s->slots[s->n] = slot;
  s->assigned[s->n] = false;
  s->n++;
  return slot;
}

static int scope_find_local(const scope *s, const char *name) {
  for (int i = 0; i < s->n; i++)
    if (strcmp(s->names[i], name) == 0) return i;
  return -1;
}

static int scope_lookup(const scope *s, const char *name) {
  for (; s; s = s->parent) {
    int i = scope_find_local(s, name);
    if (i >= 0) return s->slots[i];
  }
  return -1;
}

/* ---- name resolution ---- */

static term *mk_str_term(cctx *c, const char *s, rloc loc) {
  term *t = rv_zalloc(c->a, sizeof(term));
  t->kind = TK_SCALAR;
  t->u.v = rv_cstring(c->a, s);
  t->loc = loc;
  return t;
}

static term *mk_root_var(cctx *c, const char *name, int res, rloc loc) {
  term *t = rv_zalloc(c->a, sizeof(term));
  t->kind = TK_VAR;
  t->u.var.name = name;
  t->u.var.res = res;
  t->u.var.slot = -1;
  t->loc = loc;
  return t;
}

/* Is `name` the first head segment of a rule in this module's package? */
static bool package_has_rule(cctx *c, const char *name) {
  if (!c->m || !c->m->pkgnode) return false;
  const dnode *n = rego_node_child(c->m->pkgnode, name, strlen(name));
  return n && n->rule_root;
}

static const import_decl *find_import(cctx *c, const char *name) {
  if (!c->m) return NULL;
  for (int i = 0; i < c->m->nimports; i++)
    if (strcmp(c->m->imports[i].alias, name) == 0) return &c->m->imports[i];
  return NULL;
}

/* Turns var term t (in place) into a ref: head root var + prefix parts + extra parts. */
static void make_ref(cctx *c, term *t, term *head, term **prefix, int nprefix, term **extra, int nextra) {
  term **parts = rv_alloc(c->a, sizeof(term *) * (size_t)(nprefix + nextra + 1));
  for (int i = 0; i < nprefix; i++)
    parts[i] = prefix[i];
  for (int i = 0; i < nextra; i++)
    parts[nprefix + i] = extra[i];
  rloc loc = t->loc;
  memset(&t->u, 0, sizeof(t->u));
  t->kind = TK_REF;
  t->loc = loc;
  t->u.ref.head = head;
  t->u.ref.parts = parts;
  t->u.ref.nparts = nprefix + nextra;
}

/* Resolves a var head name that is not local. Returns false if it should become a new local. */
static bool resolve_global(cctx *c, term *t, term **extra, int nextra) {
  const char *name = t->u.var.name;
  if (strcmp(name, "input") == 0) {
    make_ref(c, t, mk_root_var(c, "input", VR_INPUT, t->loc), NULL, 0, extra, nextra);
    return true;
  }
  if (strcmp(name, "data") == 0) {
    make_ref(c, t, mk_root_var(c, "data", VR_DATA, t->loc), NULL, 0, extra, nextra);
    return true;
  }
  const import_decl *imp = find_import(c, name);
  if (imp) {
    term *ip = imp->path;
    const char *root = ip->kind == TK_VAR ? ip->u.var.name : ip->u.ref.head->u.var.name;
    term **pp = ip->kind == TK_REF ? ip->u.ref.parts : NULL;
    int np = ip->kind == TK_REF ? ip->u.ref.nparts : 0;
    bool is_input = strcmp(root, "input") == 0;
    make_ref(c, t, mk_root_var(c, root, is_input ? VR_INPUT : VR_DATA, t->loc), pp, np, extra, nextra);
    return true;
  }
  if (package_has_rule(c, name)) {
    int np = c->m->npkg + 1;
    term **pp = rv_alloc(c->a, sizeof(term *) * (size_t)np);
    for (int i = 0; i < c->m->npkg; i++)
      pp[i] = mk_str_term(c, c->m->pkg[i], t->loc);
    pp[np - 1] = mk_str_term(c, name, t->loc);
    make_ref(c, t, mk_root_var(c, "data", VR_DATA, t->loc), pp, np, extra, nextra);
    return true;
  }
  return false;
}

static void resolve_term(cctx *c, term *t, scope *s);
static void resolve_body(cctx *c, body *b, scope *s);

static void resolve_var(cctx *c, term *t, scope *s) {
  int slot = scope_lookup(s, t->u.var.name);
  if (slot >= 0) {
    t->u.var.res = VR_LOCAL;
    t->u.var.slot = slot;
    return;
  }
  if (resolve_global(c, t, NULL, 0)) {
    resolve_term(c, t, s);
    return;
  }
  t->u.var.res = VR_LOCAL;
  t->u.var.slot = scope_declare(c, s, t->u.var.name);
}

static void ref_find_node(cctx *c, term *t) {
  term *h = t->u.ref.head;
  if (h->kind != TK_VAR || h->u.var.res != VR_DATA) return;
  dnode *n = c->p->root;
  int skip = 0;
  for (int i = 0; i < t->u.ref.nparts; i++) {
    term *pt = t->u.ref.parts[i];
    if (!is_str_scalar(pt)) break;
    dnode *ch = rego_node_child(n, pt->u.v->u.str.s, pt->u.v->u.str.len);
    if (!ch) break;
    n = ch;
    skip = i + 1;
    if (n->kind >= 0) break; /* rules here: the rest indexes their value */
  }
  t->u.ref.node = n;
  t->u.ref.skip = skip;
}

static void resolve_call(cctx *c, term *t, scope *s) {
  for (int i = 0; i < t->u.call.nargs; i++)
    resolve_term(c, t->u.call.args[i], s);
  const char *name = t->u.call.name;
  /* user function: local rule name, alias-expanded or data path */
  char full[512];
  full[0] = 0;
  const char *dot = strchr(name, '.');
  size_t firstlen = dot ? (size_t)(dot - name) : strlen(name);
  char first[256];
  if (firstlen >= sizeof first) firstlen = sizeof first - 1;
  memcpy(first, name, firstlen);
  first[firstlen] = 0;
  const import_decl *imp = find_import(c, first);
  if (!t->op && scope_lookup(s, first) < 0) {
    if (strcmp(first, "data") == 0) {
      snprintf(full, sizeof full, "%s", dot ? dot + 1 : "");
    } else if (imp && imp->path->kind == TK_REF && strcmp(imp->path->u.ref.head->u.var.name, "data") == 0) {
      size_t o = 0;
      for (int i = 0; i < imp->path->u.ref.nparts && o < sizeof full; i++) {
        term *pt = imp->path->u.ref.parts[i];
        if (!is_str_scalar(pt)) break;
        o += (size_t)snprintf(full + o, sizeof full - o, "%s%s", i ? "." : "", pt->u.v->u.str.s);
      }
      if (dot && o < sizeof full) snprintf(full + o, sizeof full - o, "%s", dot);
    } else if (package_has_rule(c, first)) {
      size_t o = 0;
      for (int i = 0; i < c->m->npkg && o < sizeof full; i++)
        o += (size_t)snprintf(full + o, sizeof full - o, "%s%s", i ? "." : "", c->m->pkg[i]);
      if (o < sizeof full) snprintf(full + o, sizeof full - o, ".%s", name);
    }
  }
  if (full[0]) {
    dnode *n = c->p->root;
    const char *p = full;
    while (n && *p) {
      const char *e = strchr(p, '.');
      size_t l = e ? (size_t)(e - p) : strlen(p);
      n = rego_node_child(n, p, l);
      p = e ? e + 1 : p + l;
    }
    if (n && n->kind == RK_FUNC) {
      t->u.call.ct = CT_FUNC;
      t->u.call.node = n;
      t->u.call.arity = n->arity;
      goto arity;
    }
    if (n && n->kind >= 0) {
      cfail(c, t->loc, "rego_type_error: %s is not a function", name);
      return;
    }
  }
  for (size_t i = 0; i < c->p->nhosts && !t->op; i++) {
    if (strcmp(c->p->hosts[i].name, name) == 0) {
      t->u.call.ct = CT_HOST;
      t->u.call.host = (int)i;
      t->u.call.arity = c->p->hosts[i].arity;
      if (t->u.call.nargs != t->u.call.arity)
        cfail(c, t->loc, "rego_type_error: %s: expected %d arguments, got %d", name, t->u.call.arity,
              t->u.call.nargs);
      return;
    }
  }
  if (strcmp(name, "print") == 0 || strcmp(name, "trace") == 0) {
    t->u.call.ct = CT_PRINT;
    t->u.call.arity = t->u.call.nargs;
    return;
  }
  const rego_builtin_def *bi = NULL;
  for (const rego_builtin_def *d = rego_builtins_core; d->name; d++)
    if (strcmp(d->name, name) == 0) {
      bi = d;
      break;
    }
  if (!bi) bi = rego_builtin_lookup(name);
  if (!bi) {
    cfail(c, t->loc, "rego_type_error: undefined function %s", name);
    return;
  }
  t->u.call.ct = CT_BUILTIN;
  t->u.call.bi = bi;
  t->u.call.arity = bi->arity;
arity:
  if (t->u.call.nargs != t->u.call.arity && t->u.call.nargs != t->u.call.arity + 1) {
    cfail(c, t->loc, "rego_type_error: %s: %s arguments (expected %d, got %d)", name,
          t->u.call.nargs > t->u.call.arity ? "too many" : "too few", t->u.call.arity, t->u.call.nargs);
  }
}

static void resolve_term(cctx *c, term *t, scope *s) {
  if (c->failed) return;
  switch (t->kind) {
  case TK_SCALAR: return;
  case TK_VAR: resolve_var(c, t, s); return;
  case TK_REF: {
    term *h = t->u.ref.head;
    if (h->kind == TK_VAR && h->u.var.res == VR_UNRESOLVED) {
      int slot = scope_lookup(s, h->u.var.name);
      if (slot >= 0) {
        h->u.var.res = VR_LOCAL;
        h->u.var.slot = slot;
      } else {
        term *nh = rv_zalloc(c->a, sizeof(term));
        *nh = *h;
        if (resolve_global(c, nh, NULL, 0)) {
          /* splice: nh is now a ref (or root var) */
          if (nh->kind == TK_REF) {
            term **parts = rv_alloc(c->a, sizeof(term *) * (size_t)(nh->u.ref.nparts + t->u.ref.nparts + 1));
            memcpy(parts, nh->u.ref.parts, sizeof(term *) * (size_t)nh->u.ref.nparts);
            memcpy(parts + nh->u.ref.nparts, t->u.ref.parts, sizeof(term *) * (size_t)t->u.ref.nparts);
            t->u.ref.head = nh->u.ref.head;
            t->u.ref.parts = parts;
            t->u.ref.nparts += nh->u.ref.nparts;
          } else {
            t->u.ref.head = nh;
          }
        } else {
          h->u.var.res = VR_LOCAL;
          h->u.var.slot = scope_declare(c, s, h->u.var.name);
        }
      }
    } else if (h->kind != TK_VAR) {
      resolve_term(c, h, s);
    }
    for (int i = 0; i < t->u.ref.nparts; i++)
      resolve_term(c, t->u.ref.parts[i], s);
    ref_find_node(c, t);
    return;
  }
  case TK_ARRAY:
  case TK_SET:
  case TK_OBJECT:
    for (int i = 0; i < t->u.coll.n; i++)
      resolve_term(c, t->u.coll.items[i], s);
    return;
  case TK_ARRCOMP:
  case TK_SETCOMP:
  case TK_OBJCOMP: {
    scope *cs = scope_new(c, s);
    t->u.comp.sid = cs->id;
    resolve_body(c, t->u.comp.body, cs);
    if (t->u.comp.key) resolve_term(c, t->u.comp.key, cs);
    resolve_term(c, t->u.comp.val, cs);
    return;
  }
  case TK_CALL: resolve_call(c, t, s); return;
  }
}

/* Declares the variables of an assignment / some pattern in scope s. */
static void declare_pattern(cctx *c, term *t, scope *s, bool assign) {
  if (c->failed) return;
  if (t->kind == TK_VAR) {
    if (assign && (strcmp(t->u.var.name, "input") == 0 || strcmp(t->u.var.name, "data") == 0)) {
      /* OPA and regorus reject this; accepting it would silently hide the
       * real input/data from the rest of the body */
      cfail(c, t->loc, "rego_compile_error: variables must not shadow %s (use a different variable name)",
            t->u.var.name);
      return;
    }
    int i = scope_find_local(s, t->u.var.name);
    if (i >= 0) {
      if (assign && s->assigned[i] && strncmp(t->u.var.name, "_$", 2) != 0) {
        cfail(c, t->loc, "rego_compile_error: var %s assigned above", t->u.var.name);
        return;
      }
    } else {
      i = s->n;
      scope_declare(c, s, t->u.var.name);
    }
    if (assign) s->assigned[i] = true;
    t->u.var.res = VR_LOCAL;
    t->u.var.slot = s->slots[i];
    return;
  }
  if (t->kind == TK_ARRAY) {
    for (int i = 0; i < t->u.coll.n; i++)
      declare_pattern(c, t->u.coll.items[i], s, assign);
  } else if (t->kind == TK_OBJECT) {
    for (int i = 1; i < t->u.coll.n; i += 2)
      declare_pattern(c, t->u.coll.items[i], s, assign);
  } else if (t->kind == TK_SCALAR) {
    /* constants in patterns are fine */
  } else if (assign) {
    cfail(c, t->loc, "rego_compile_error: cannot assign to %s",
          t->kind == TK_REF    ? "ref"
          : t->kind == TK_CALL ? "call"
                               : "term");
  }
}

static void resolve_expr(cctx *c, expr *e, scope *s);

/* Resolves a function name (var/ref term) without arity checks; NULL if it names no function. */
static term *resolve_fn_name(cctx *c, term *t, scope *s) {
  const char *head = t->kind == TK_VAR                                    ? t->u.var.name
                     : t->kind == TK_REF && t->u.ref.head->kind == TK_VAR ? t->u.ref.head->u.var.name
                                                                          : NULL;
  if (!head) return NULL;
  if (t->kind == TK_VAR && t->u.var.res != VR_UNRESOLVED) return NULL;
  rv_buf b = {.a = c->a};
  rv_buf_puts(&b, head);
  for (int k = 0; t->kind == TK_REF && k < t->u.ref.nparts; k++) {
    term *pt = t->u.ref.parts[k];
    if (!is_str_scalar(pt)) return NULL;
    rv_buf_putc(&b, '.');
    rv_buf_puts(&b, pt->u.v->u.str.s);
  }
  term *fake = rv_zalloc(c->a, sizeof(term));
  fake->kind = TK_CALL;
  fake->loc = t->loc;
  fake->u.call.name = b.s;
  bool saved = c->failed;
  char saverr[600];
  memcpy(saverr, c->err, sizeof saverr);
  resolve_call(c, fake, s);
  c->failed = saved;
  memcpy(c->err, saverr, sizeof saverr);
  if (fake->u.call.ct == CT_NONE) return NULL;
  return fake;
}

static void resolve_withs(cctx *c, expr *e, scope *s) {
  for (int i = 0; i < e->nwith && !c->failed; i++) {
    withmod *w = &e->withs[i];
    term *t = w->target;
    const char *head = t->kind == TK_VAR                                    ? t->u.var.name
                       : t->kind == TK_REF && t->u.ref.head->kind == TK_VAR ? t->u.ref.head->u.var.name
                                                                            : NULL;
    if (!head) {
      cfail(c, t->loc, "rego_type_error: invalid with target");
      return;
    }
    if (strcmp(head, "input") == 0 || strcmp(head, "data") == 0) {
      bool is_input = strcmp(head, "input") == 0;
      if (t->kind == TK_VAR)
        resolve_global(c, t, NULL, 0);
      else
        t->u.ref.head->u.var.res = is_input ? VR_INPUT : VR_DATA;
      for (int k = 0; t->kind == TK_REF && k < t->u.ref.nparts; k++)
        if (t->u.ref.parts[k]->kind != TK_SCALAR) {
          cfail(c, t->loc, "rego_type_error: with target must be a constant path");
          return;
        }
      if (!is_input) {
        /* a data target naming a function replaces the function */
        term *f = t->kind == TK_REF && t->u.ref.nparts ? resolve_fn_name(c, t, s) : NULL;
        if (f && f->u.call.ct == CT_FUNC) {
          w->target = f;
          term *fv = resolve_fn_name(c, w->value, s);
          if (fv)
            w->value = fv;
          else
            resolve_term(c, w->value, s);
          continue;
        }
      }
      resolve_term(c, w->value, s);
      continue;
    }
    term *f = resolve_fn_name(c, t, s);
    if (!f) {
      cfail(c, t->loc,
            "rego_compile_error: with keyword target must reference existing input, data, or a function");
      return;
    }
    w->target = f; /* TK_CALL marks a function target */
    term *fv = resolve_fn_name(c, w->value, s);
    if (fv)
      w->value = fv;
    else
      resolve_term(c, w->value, s);
  }
}

static void resolve_expr(cctx *c, expr *e, scope *s) {
  if (c->failed) return;
  switch (e->kind) {
  case EX_TERM: resolve_term(c, e->a, s); break;
  case EX_UNIFY:
    resolve_term(c, e->a, s);
    resolve_term(c, e->b, s);
    break;
  case EX_ASSIGN:
    resolve_term(c, e->b, s);
    /* declared in the pre-pass */
    resolve_term(c, e->a, s);
    break;
  case EX_NOT: resolve_expr(c, e->neg, s); break;
  case EX_SOME:
    for (int i = 0; i < e->a->u.coll.n; i++)
      resolve_term(c, e->a->u.coll.items[i], s);
    break;
  case EX_SOMEIN:
    resolve_term(c, e->c, s);
    if (e->a) resolve_term(c, e->a, s);
    resolve_term(c, e->b, s);
    break;
  case EX_EVERY: {
    resolve_term(c, e->c, s);
    scope *es = scope_new(c, s);
    e->sid = es->id;
    if (e->a) declare_pattern(c, e->a, es, true);
    declare_pattern(c, e->b, es, true);
    resolve_body(c, e->body, es);
    break;
  }
  }
  resolve_withs(c, e, s);
}

static void predeclare(cctx *c, expr *e, scope *s) {
  switch (e->kind) {
  case EX_ASSIGN: declare_pattern(c, e->a, s, true); break;
  case EX_SOME:
    for (int i = 0; i < e->a->u.coll.n; i++) {
      term *v = e->a->u.coll.items[i];
      int k = scope_find_local(s, v->u.var.name);
      if (k < 0) scope_declare(c, s, v->u.var.name);
    }
    break;
  case EX_SOMEIN:
    if (e->a) declare_pattern(c, e->a, s, false);
    declare_pattern(c, e->b, s, false);
    break;
  default: break;
  }
}

/* ---- closures ----
 * OPA (reorderBodyForClosures): a variable of a comprehension or `every`
 * body that also occurs in the enclosing body outside any closure is the
 * enclosing body's variable, wherever in the body it occurs; the ordering
 * pass then evaluates the closure after the statement that binds it. So
 * before resolving a body, its own (non-:=, non-some) variables are
 * declared in its scope; `:=` / `some` inside a closure still declare new
 * locals there. */

static bool name_is_global(cctx *c, const char *name) {
  return strcmp(name, "input") == 0 || strcmp(name, "data") == 0 || find_import(c, name) ||
         package_has_rule(c, name);
}

typedef struct {
  const char **names; /* := and some targets of the body (declared where they appear) */
  int n, cap;
} nameset;

static void nameset_add(cctx *c, nameset *ns, const char *name) {
  if (ns->n == ns->cap) {
    int nc = ns->cap ? ns->cap * 2 : 8;
    const char **nn = rv_alloc(c->a, sizeof(char *) * (size_t)nc);
    if (ns->n) memcpy(nn, ns->names, sizeof(char *) * (size_t)ns->n);
    ns->names = nn;
    ns->cap = nc;
  }
  ns->names[ns->n++] = name;
}

static bool nameset_has(const nameset *ns, const char *name) {
  for (int i = 0; i < ns->n; i++)
    if (strcmp(ns->names[i], name) == 0) return true;
  return false;
}

static void pattern_names(cctx *c, term *t, nameset *ns) {
  if (t->kind == TK_VAR)
    nameset_add(c, ns, t->u.var.name);
  else if (t->kind == TK_ARRAY || t->kind == TK_OBJECT)
    for (int i = 0; i < t->u.coll.n; i++)
      pattern_names(c, t->u.coll.items[i], ns);
}

static void open_var(cctx *c, term *v, scope *s, const nameset *decl) {
  if (v->kind != TK_VAR || v->u.var.res != VR_UNRESOLVED) return;
  const char *name = v->u.var.name;
  if (scope_lookup(s, name) >= 0 || name_is_global(c, name) || nameset_has(decl, name)) return;
  scope_declare(c, s, name);
}

/* Declares the variables of t that lie outside closures. */
static void open_vars_term(cctx *c, term *t, scope *s, const nameset *decl) {
  switch (t->kind) {
  case TK_VAR: open_var(c, t, s, decl); return;
  case TK_REF:
    if (t->u.ref.head->kind == TK_VAR)
      open_var(c, t->u.ref.head, s, decl);
    else
      open_vars_term(c, t->u.ref.head, s, decl);
    for (int i = 0; i < t->u.ref.nparts; i++)
      open_vars_term(c, t->u.ref.parts[i], s, decl);
    return;
  case TK_ARRAY:
  case TK_SET:
  case TK_OBJECT:
    for (int i = 0; i < t->u.coll.n; i++)
      open_vars_term(c, t->u.coll.items[i], s, decl);
    return;
  case TK_CALL:
    for (int i = 0; i < t->u.call.nargs; i++)
      open_vars_term(c, t->u.call.args[i], s, decl);
    return;
  default: return; /* scalars; comprehensions are closures */
  }
}

static void open_vars_expr(cctx *c, expr *e, scope *s, const nameset *decl) {
  switch (e->kind) {
  case EX_TERM: open_vars_term(c, e->a, s, decl); break;
  case EX_UNIFY:
    open_vars_term(c, e->a, s, decl);
    open_vars_term(c, e->b, s, decl);
    break;
  case EX_ASSIGN: open_vars_term(c, e->b, s, decl); break;
  case EX_NOT: open_vars_expr(c, e->neg, s, decl); break;
  case EX_SOMEIN:
  case EX_EVERY: open_vars_term(c, e->c, s, decl); break;
  default: break;
  }
  for (int i = 0; i < e->nwith; i++)
    open_vars_term(c, e->withs[i].value, s, decl);
}

static void declare_open_vars(cctx *c, body *b, scope *s) {
  nameset decl = {0};
  for (int i = 0; i < b->n; i++) {
    expr *e = b->exprs[i];
    if (e->kind == EX_ASSIGN)
      pattern_names(c, e->a, &decl);
    else if (e->kind == EX_SOME)
      for (int j = 0; j < e->a->u.coll.n; j++)
        pattern_names(c, e->a->u.coll.items[j], &decl);
    else if (e->kind == EX_SOMEIN) {
      if (e->a) pattern_names(c, e->a, &decl);
      pattern_names(c, e->b, &decl);
    }
  }
  for (int i = 0; i < b->n; i++)
    open_vars_expr(c, b->exprs[i], s, &decl);
}

static void resolve_body(cctx *c, body *b, scope *s) {
  declare_open_vars(c, b, s);
  /* statements in order; declarations take effect where they appear (a later
   * `x := ...` does not capture earlier uses, as in OPA), except that a name
   * used before its `:=` in the same body is an error there. */
  for (int i = 0; i < b->n && !c->failed; i++) {
    expr *e = b->exprs[i];
    if (e->kind == EX_ASSIGN || e->kind == EX_SOME || e->kind == EX_SOMEIN) {
      if (e->kind == EX_ASSIGN || e->kind == EX_SOMEIN) {
        /* rhs/collection first, with the outer meaning of names */
        resolve_term(c, e->kind == EX_ASSIGN ? e->b : e->c, s);
      }
      predeclare(c, e, s);
      if (e->kind == EX_ASSIGN)
        resolve_term(c, e->a, s);
      else if (e->kind == EX_SOMEIN) {
        if (e->a) resolve_term(c, e->a, s);
        resolve_term(c, e->b, s);
      } else {
        resolve_expr(c, e, s);
      }
      resolve_withs(c, e, s);
      continue;
    }
    resolve_expr(c, e, s);
  }
}

/* ---- safety / ordering ---- */

typedef struct {
  uint64_t *w;
  int nw;
} bits;

static bits bits_new(cctx *c) {
  bits b;
  b.nw = (c->nslots + 63) / 64 + 1;
  b.w = rv_zalloc(c->a, sizeof(uint64_t) * (size_t)b.nw);
  return b;
}
static void bset(bits *b, int i) { b->w[i / 64] |= 1ull << (i % 64); }
static bool bget(const bits *b, int i) { return (b->w[i / 64] >> (i % 64)) & 1; }

enum { POS_NEED, POS_OUT };

typedef struct {
  cctx *c;
  int sid; /* scope of the body being ordered */
  bits *need, *prov;
  bits *refout; /* vars bound by iterating a ref (may be NULL) */
} vis;

static void visit_term(vis *v, term *t, int pos);
static void visit_expr(vis *v, expr *e);

static void visit_local(vis *v, term *t, int pos) {
  if (t->u.var.res != VR_LOCAL || t->u.var.slot < 0) return;
  int sid = v->c->slot_scope[t->u.var.slot];
  if (sid != v->sid) return; /* outer (bound) or inner (local) */
  bset(v->prov, t->u.var.slot);
  if (pos == POS_NEED) bset(v->need, t->u.var.slot);
}

static void visit_body_free(vis *v, body *b) {
  for (int i = 0; i < b->n; i++)
    visit_expr(v, b->exprs[i]);
}

static void visit_term(vis *v, term *t, int pos) {
  switch (t->kind) {
  case TK_SCALAR: return;
  case TK_VAR: visit_local(v, t, pos); return;
  case TK_REF:
    if (t->u.ref.head->kind == TK_VAR)
      visit_local(v, t->u.ref.head, POS_NEED);
    else
      visit_term(v, t->u.ref.head, POS_NEED);
    for (int i = 0; i < t->u.ref.nparts; i++) {
      term *pt = t->u.ref.parts[i];
      if (v->refout && pt->kind == TK_VAR && pt->u.var.res == VR_LOCAL && pt->u.var.slot >= 0 &&
          v->c->slot_scope[pt->u.var.slot] == v->sid)
        bset(v->refout, pt->u.var.slot);
      visit_term(v, pt, POS_OUT);
    }
    return;
  case TK_ARRAY:
    for (int i = 0; i < t->u.coll.n; i++)
      visit_term(v, t->u.coll.items[i], pos);
    return;
  case TK_OBJECT:
    for (int i = 0; i < t->u.coll.n; i++)
      visit_term(v, t->u.coll.items[i], i % 2 ? pos : POS_NEED);
    return;
  case TK_SET:
    for (int i = 0; i < t->u.coll.n; i++)
      visit_term(v, t->u.coll.items[i], POS_NEED);
    return;
  case TK_ARRCOMP:
  case TK_SETCOMP:
  case TK_OBJCOMP: {
    /* free variables of the comprehension that belong to this body are needed */
    bits prov2 = bits_new(v->c);
    vis v2 = *v;
    v2.prov = &prov2;
    if (t->u.comp.key) visit_term(&v2, t->u.comp.key, POS_NEED);
    visit_term(&v2, t->u.comp.val, POS_NEED);
    visit_body_free(&v2, t->u.comp.body);
    for (int i = 0; i < prov2.nw; i++)
      v->need->w[i] |= prov2.w[i], v->prov->w[i] |= prov2.w[i];
    return;
  }
  case TK_CALL: {
    int n = t->u.call.nargs;
    bool outp = n == t->u.call.arity + 1 && t->u.call.ct != CT_PRINT;
    for (int i = 0; i < n; i++)
      visit_term(v, t->u.call.args[i], outp && i == n - 1 ? POS_OUT : POS_NEED);
    return;
  }
  }
}

static void visit_expr(vis *v, expr *e) {
  switch (e->kind) {
  case EX_TERM: visit_term(v, e->a, POS_NEED); break;
  case EX_UNIFY:
    visit_term(v, e->a, POS_OUT);
    visit_term(v, e->b, POS_OUT);
    break;
  case EX_ASSIGN:
    visit_term(v, e->a, POS_OUT);
    visit_term(v, e->b, POS_NEED);
    break;
  case EX_NOT: {
    bits n2 = bits_new(v->c), p2 = bits_new(v->c);
    vis v2 = *v;
    v2.need = &n2;
    v2.prov = &p2;
    visit_expr(&v2, e->neg);
    /* the negation needs what it shares with the outside; it binds nothing */
    for (int i = 0; i < n2.nw; i++)
      v->need->w[i] |= (n2.w[i] | p2.w[i]) & v->prov->w[i];
    /* v->prov deliberately unchanged; see order_body for the shared set */
    break;
  }
  case EX_SOME: break;
  case EX_SOMEIN:
    if (e->a) visit_term(v, e->a, POS_OUT);
    visit_term(v, e->b, POS_OUT);
    visit_term(v, e->c, POS_NEED);
    break;
  case EX_EVERY: {
    bits p2 = bits_new(v->c);
    vis v2 = *v;
    v2.prov = &p2;
    visit_term(&v2, e->c, POS_NEED);
    visit_body_free(&v2, e->body);
    for (int i = 0; i < p2.nw; i++)
      v->need->w[i] |= p2.w[i], v->prov->w[i] |= p2.w[i];
    break;
  }
  }
  for (int i = 0; i < e->nwith; i++)
    if (e->withs[i].value->kind != TK_CALL || e->withs[i].value->u.call.nargs)
      visit_term(v, e->withs[i].value, POS_NEED);
}

static void order_body(cctx *c, body *b, int sid, bits *bound, term **head_terms, int nhead);

static void order_nested_term(cctx *c, term *t);
static void order_nested_expr(cctx *c, expr *e) {
  switch (e->kind) {
  case EX_NOT: order_nested_expr(c, e->neg); break;
  case EX_EVERY: {
    order_nested_term(c, e->c);
    /* every scope: its key/value are bound at entry */
    bits bound = bits_new(c);
    for (int i = 0; i < c->nslots; i++)
      if (c->slot_scope[i] == e->sid) bset(&bound, i);
    /* only the declared key/value are bound: rebuild from the patterns */
    bits kb = bits_new(c), kp = bits_new(c);
    vis v = {c, e->sid, &kb, &kp, NULL};
    if (e->a) visit_term(&v, e->a, POS_OUT);
    visit_term(&v, e->b, POS_OUT);
    order_body(c, e->body, e->sid, &kp, NULL, 0);
    (void)bound;
    break;
  }
  default:
    if (e->a) order_nested_term(c, e->a);
    if (e->b) order_nested_term(c, e->b);
    if (e->c) order_nested_term(c, e->c);
  }
  for (int i = 0; i < e->nwith; i++)
    order_nested_term(c, e->withs[i].value);
}

static void order_nested_term(cctx *c, term *t) {
  switch (t->kind) {
  case TK_REF:
    order_nested_term(c, t->u.ref.head);
    for (int i = 0; i < t->u.ref.nparts; i++)
      order_nested_term(c, t->u.ref.parts[i]);
    break;
  case TK_ARRAY:
  case TK_SET:
  case TK_OBJECT:
    for (int i = 0; i < t->u.coll.n; i++)
      order_nested_term(c, t->u.coll.items[i]);
    break;
  case TK_CALL:
    for (int i = 0; i < t->u.call.nargs; i++)
      order_nested_term(c, t->u.call.args[i]);
    break;
  case TK_ARRCOMP:
  case TK_SETCOMP:
  case TK_OBJCOMP: {
    term *hs[2] = {t->u.comp.val, t->u.comp.key};
    bits bound = bits_new(c);
    order_body(c, t->u.comp.body, t->u.comp.sid, &bound, hs, t->u.comp.key ? 2 : 1);
    break;
  }
  default: break;
  }
}

static void term_unbound_error(cctx *c, term *t, int sid, const bits *bound) {
  if (c->failed) return;
  if (t->kind == TK_VAR && t->u.var.res == VR_LOCAL && t->u.var.slot >= 0) {
    if (c->slot_scope[t->u.var.slot] == sid && !bget(bound, t->u.var.slot)) {
      const char *n = c->slotnames[t->u.var.slot];
      cfail(c, t->loc, "rego_unsafe_var_error: var %s is unsafe", strncmp(n, "_$", 2) == 0 ? "_" : n);
    }
    return;
  }
  if (t->kind == TK_REF) {
    term_unbound_error(c, t->u.ref.head, sid, bound);
    for (int i = 0; i < t->u.ref.nparts; i++)
      if (t->u.ref.parts[i]->kind != TK_VAR) term_unbound_error(c, t->u.ref.parts[i], sid, bound);
  } else if (t->kind == TK_ARRAY || t->kind == TK_SET || t->kind == TK_OBJECT) {
    for (int i = 0; i < t->u.coll.n; i++)
      term_unbound_error(c, t->u.coll.items[i], sid, bound);
  } else if (t->kind == TK_CALL) {
    for (int i = 0; i < t->u.call.nargs; i++)
      term_unbound_error(c, t->u.call.args[i], sid, bound);
  }
}

static bool is_unbound_var(const term *t, int sid, const cctx *c, const bits *bound) {
  return t->kind == TK_VAR && t->u.var.res == VR_LOCAL && t->u.var.slot >= 0 &&
         c->slot_scope[t->u.var.slot] == sid && !bget(bound, t->u.var.slot);
}

static void order_body(cctx *c, body *b, int sid, bits *bound, term **head_terms, int nhead) {
  if (c->failed) return;
  int n = b->n;
  bits *need = rv_alloc(c->a, sizeof(bits) * (size_t)(n ? n : 1));
  bits *prov = rv_alloc(c->a, sizeof(bits) * (size_t)(n ? n : 1));
  for (int i = 0; i < n; i++) {
    need[i] = bits_new(c);
    prov[i] = bits_new(c);
  }
  /* A negation needs the variables it shares with the rest of the body. */
  bits all = bits_new(c);
  for (int i = 0; i < n; i++) {
    if (b->exprs[i]->kind == EX_NOT) continue;
    bits ro = bits_new(c);
    vis v = {c, sid, &need[i], &prov[i], &ro};
    visit_expr(&v, b->exprs[i]);
    for (int w = 0; w < all.nw; w++) {
      all.w[w] |= prov[i].w[w];
      need[i].w[w] &= ~ro.w[w];
    }
  }
  for (int h = 0; h < nhead; h++) {
    if (!head_terms[h]) continue;
    bits hn = bits_new(c), hp = bits_new(c);
    vis v = {c, sid, &hn, &hp, NULL};
    visit_term(&v, head_terms[h], POS_NEED);
    for (int w = 0; w < all.nw; w++)
      all.w[w] |= hp.w[w];
  }
  for (int i = 0; i < n; i++) {
    if (b->exprs[i]->kind != EX_NOT) continue;
    bits ap = all;
    vis v = {c, sid, &need[i], &ap, NULL};
    visit_expr(&v, b->exprs[i]);
  }
  expr **out = rv_alloc(c->a, sizeof(expr *) * (size_t)(n ? n : 1));
  bool *done = rv_zalloc(c->a, (size_t)(n ? n : 1));
  for (int k = 0; k < n; k++) {
    int pick = -1;
    for (int i = 0; i < n && pick < 0; i++) {
      if (done[i]) continue;
      bool ok = true;
      for (int w = 0; w < need[i].nw && ok; w++)
        if (need[i].w[w] & ~bound->w[w]) ok = false;
      expr *e = b->exprs[i];
      if (ok && e->kind == EX_UNIFY && is_unbound_var(e->a, sid, c, bound) &&
          is_unbound_var(e->b, sid, c, bound))
        ok = false;
      if (ok) pick = i;
    }
    if (pick < 0) {
      /* report the first unsafe variable of the first pending statement */
      for (int i = 0; i < n; i++) {
        if (done[i]) continue;
        for (int s = 0; s < c->nslots; s++)
          if (bget(&need[i], s) && !bget(bound, s)) {
            const char *nm = c->slotnames[s];
            cfail(c, b->exprs[i]->loc, "rego_unsafe_var_error: var %s is unsafe",
                  strncmp(nm, "_$", 2) == 0 ? "_" : nm);
            return;
          }
        cfail(c, b->exprs[i]->loc, "rego_unsafe_var_error: expression is unsafe");
        return;
      }
    }
    done[pick] = true;
    out[k] = b->exprs[pick];
    if (b->exprs[pick]->kind != EX_NOT)
      for (int w = 0; w < bound->nw; w++)
        bound->w[w] |= prov[pick].w[w];
  }
  b->exprs = out;
  for (int i = 0; i < n; i++)
    order_nested_expr(c, b->exprs[i]);
  for (int h = 0; h < nhead; h++)
    if (head_terms[h]) {
      term_unbound_error(c, head_terms[h], sid, bound);
      order_nested_term(c, head_terms[h]);
    }
}

/* ---- constant folding ---- */

static void fold_term(cctx *c, term *t);
static void fold_body(cctx *c, body *b);
static void fold_expr(cctx *c, expr *e) {
  if (e->a) fold_term(c, e->a);
  if (e->b) fold_term(c, e->b);
  if (e->c) fold_term(c, e->c);
  if (e->neg) fold_expr(c, e->neg);
  if (e->body) fold_body(c, e->body);
  for (int i = 0; i < e->nwith; i++)
    fold_term(c, e->withs[i].value);
}
static void fold_body(cctx *c, body *b) {
  for (int i = 0; i < b->n; i++)
    fold_expr(c, b->exprs[i]);
}

static void fold_term(cctx *c, term *t) {
  switch (t->kind) {
  case TK_SCALAR: t->constv = t->u.v; break;
  case TK_VAR: t->has_vars = 1; break;
  case TK_REF:
    fold_term(c, t->u.ref.head);
    t->has_vars = 1;
    for (int i = 0; i < t->u.ref.nparts; i++)
      fold_term(c, t->u.ref.parts[i]);
    break;
  case TK_ARRAY:
  case TK_SET:
  case TK_OBJECT: {
    bool all = true;
    for (int i = 0; i < t->u.coll.n; i++) {
      fold_term(c, t->u.coll.items[i]);
      if (!t->u.coll.items[i]->constv) all = false;
      if (t->u.coll.items[i]->has_vars) t->has_vars = 1;
    }
    if (!all) break;
    int n = t->u.coll.n;
    rv **vals = rv_alloc(c->a, sizeof(rv *) * (size_t)(n ? n : 1));
    for (int i = 0; i < n; i++)
      vals[i] = t->u.coll.items[i]->constv;
    if (t->kind == TK_ARRAY)
      t->constv = rv_array(c->a, vals, (size_t)n);
    else if (t->kind == TK_SET)
      t->constv = rv_set(c->a, vals, (size_t)n);
    else {
      rv **ks = rv_alloc(c->a, sizeof(rv *) * (size_t)(n / 2 + 1));
      rv **vs = rv_alloc(c->a, sizeof(rv *) * (size_t)(n / 2 + 1));
      for (int i = 0; i < n / 2; i++)
        ks[i] = vals[2 * i], vs[i] = vals[2 * i + 1];
      bool conflict;
      t->constv = rv_object(c->a, ks, vs, (size_t)n / 2, &conflict);
    }
    break;
  }
  case TK_ARRCOMP:
  case TK_SETCOMP:
  case TK_OBJCOMP:
    t->has_vars = 1;
    if (t->u.comp.key) fold_term(c, t->u.comp.key);
    fold_term(c, t->u.comp.val);
    fold_body(c, t->u.comp.body);
    break;
  case TK_CALL:
    t->has_vars = 1;
    for (int i = 0; i < t->u.call.nargs; i++)
      fold_term(c, t->u.call.args[i]);
    break;
  }
}

/* ---- rules ---- */

static void compile_rule_chain(cctx *c, rule *r) {
  c->nslots = 0;
  c->capslots = 0;
  c->nscopes = 0;
  c->capscopes = 0;
  scope *s = scope_new(c, NULL);
  for (int i = 0; i < r->nargs; i++)
    declare_pattern(c, r->args[i], s, false);
  for (int i = 0; i < r->nargs; i++)
    resolve_term(c, r->args[i], s);
  for (rule *x = r; x && !c->failed; x = x->else_) {
    if (x->body) resolve_body(c, x->body, s);
    for (int i = r->nstatic; i < r->npath; i++)
      resolve_term(c, x->path[i], s);
    if (x->key) resolve_term(c, x->key, s);
    if (x->value) resolve_term(c, x->value, s);
    if (x->set_leaf && !x->value) x->value = x->key;
    if (c->failed) return;
    bits bound = bits_new(c);
    for (int i = 0; i < s->n; i++) {
      /* function arguments are bound at entry */
      bool is_arg = false;
      for (int k = 0; k < r->nargs; k++) {
        bits ab = bits_new(c), ap = bits_new(c);
        vis v = {c, s->id, &ab, &ap, NULL};
        visit_term(&v, r->args[k], POS_OUT);
        if (bget(&ap, s->slots[i])) is_arg = true;
      }
      if (is_arg) bset(&bound, s->slots[i]);
    }
    term *heads[16];
    int nh = 0;
    if (x->key) heads[nh++] = x->key;
    if (x->value) heads[nh++] = x->value;
    for (int i = r->nstatic; i < r->npath && nh < 16; i++)
      heads[nh++] = x->path[i];
    if (x->body)
      order_body(c, x->body, s->id, &bound, heads, nh);
    else
      for (int h = 0; h < nh; h++) {
        term_unbound_error(c, heads[h], s->id, &bound);
        order_nested_term(c, heads[h]);
      }
    if (x->body) fold_body(c, x->body);
    for (int h = 0; h < nh; h++)
      fold_term(c, heads[h]);
    x->value_const = !x->value || x->value->constv;
  }
  for (int i = 0; i < r->nargs; i++)
    fold_term(c, r->args[i]);
  for (rule *x = r; x; x = x->else_) {
    x->nslots = c->nslots;
    x->slotnames = c->slotnames;
  }
}

/* ---- recursion (static, as OPA: a rule that depends on itself is a compile error) ---- */

typedef struct {
  rv_arena *a;
  dnode **byid;
  int n;
  int **deps; /* per node id: dependency ids */
  int *ndeps, *capdeps;
  int *seen; /* seen[to] == from + 1: edge already added (all edges of one node are added together) */
} depgraph;

static void dep_add(depgraph *g, int from, int to) {
  if (g->seen[to] == from + 1) return;
  g->seen[to] = from + 1;
  if (g->ndeps[from] == g->capdeps[from]) {
    int nc = g->capdeps[from] ? g->capdeps[from] * 2 : 4;
    int *nd = rv_alloc(g->a, sizeof(int) * (size_t)nc);
    if (g->ndeps[from]) memcpy(nd, g->deps[from], sizeof(int) * (size_t)g->ndeps[from]);
    g->deps[from] = nd;
    g->capdeps[from] = nc;
  }
  g->deps[from][g->ndeps[from]++] = to;
}

static void dep_subtree(depgraph *g, int from, const dnode *n) {
  if (n->kind >= 0) dep_add(g, from, n->id);
  for (int i = 0; i < n->nchildren; i++)
    if (n->children[i]->has_rules_below) dep_subtree(g, from, n->children[i]);
}

/* The rules a data ref may read: constant parts must match, variable parts
 * match any child, and a ref that stops at a package reads all of it. */
static void dep_match(depgraph *g, int from, const dnode *n, term *const *parts, int k, int nparts) {
  if (n->kind >= 0) {
    dep_add(g, from, n->id);
    return;
  }
  if (k == nparts) {
    dep_subtree(g, from, n);
    return;
  }
  const term *pt = parts[k];
  if (pt->constv) {
    if (pt->constv->kind != RV_STRING) return;
    const dnode *ch = rego_node_child(n, pt->constv->u.str.s, pt->constv->u.str.len);
    if (ch) dep_match(g, from, ch, parts, k + 1, nparts);
    return;
  }
  for (int i = 0; i < n->nchildren; i++)
    if (n->children[i]->has_rules_below) dep_match(g, from, n->children[i], parts, k + 1, nparts);
}

static void deps_term(depgraph *g, int from, const term *t, dnode *root);
static void deps_body(depgraph *g, int from, const body *b, dnode *root);

static void deps_expr(depgraph *g, int from, const expr *x, dnode *root) {
  if (x->a) deps_term(g, from, x->a, root);
  if (x->b) deps_term(g, from, x->b, root);
  if (x->c) deps_term(g, from, x->c, root);
  if (x->neg) deps_expr(g, from, x->neg, root);
  if (x->body) deps_body(g, from, x->body, root);
  for (int i = 0; i < x->nwith; i++)
    deps_term(g, from, x->withs[i].value, root);
}

static void deps_body(depgraph *g, int from, const body *b, dnode *root) {
  for (int i = 0; i < b->n; i++)
    deps_expr(g, from, b->exprs[i], root);
}

static void deps_term(depgraph *g, int from, const term *t, dnode *root) {
  switch (t->kind) {
  case TK_VAR:
    if (t->u.var.res == VR_DATA) dep_subtree(g, from, root);
    return;
  case TK_REF:
    if (t->u.ref.head->kind == TK_VAR && t->u.ref.head->u.var.res == VR_DATA)
      dep_match(g, from, root, t->u.ref.parts, 0, t->u.ref.nparts);
    else
      deps_term(g, from, t->u.ref.head, root);
    for (int i = 0; i < t->u.ref.nparts; i++)
      deps_term(g, from, t->u.ref.parts[i], root);
    return;
  case TK_ARRAY:
  case TK_SET:
  case TK_OBJECT:
    for (int i = 0; i < t->u.coll.n; i++)
      deps_term(g, from, t->u.coll.items[i], root);
    return;
  case TK_ARRCOMP:
  case TK_SETCOMP:
  case TK_OBJCOMP:
    if (t->u.comp.key) deps_term(g, from, t->u.comp.key, root);
    deps_term(g, from, t->u.comp.val, root);
    deps_body(g, from, t->u.comp.body, root);
    return;
  case TK_CALL:
    if (t->u.call.ct == CT_FUNC && t->u.call.node) dep_add(g, from, t->u.call.node->id);
    for (int i = 0; i < t->u.call.nargs; i++)
      deps_term(g, from, t->u.call.args[i], root);
    return;
  default: return;
  }
}

static void index_nodes(dnode *n, dnode **byid) {
  byid[n->id] = n;
  for (int i = 0; i < n->nchildren; i++)
    index_nodes(n->children[i], byid);
}

static void node_path(const dnode *n, rv_buf *b) {
  if (n->parent) {
    node_path(n->parent, b);
    rv_buf_putc(b, '.');
    rv_buf_puts(b, n->name);
  } else {
    rv_buf_puts(b, "data");
  }
}

/* Iterative DFS (a policy may chain 100k+ rules: recursion here would
 * overflow the C stack of the thread compiling an uploaded policy); on a
 * back edge writes the cycle into err and returns true. stack/edge hold the
 * current path and the next dependency index of each node on it. */
static bool find_cycle(depgraph *g, int root, uint8_t *color, int *stack, int *edge, char *err,
                       size_t errlen) {
  int depth = 0;
  stack[0] = root;
  edge[0] = 0;
  color[root] = 1;
  while (depth >= 0) {
    int v = stack[depth];
    if (edge[depth] == g->ndeps[v]) {
      color[v] = 2;
      depth--;
      continue;
    }
    int w = g->deps[v][edge[depth]++];
    if (color[w] == 1) {
      int start = depth;
      while (start > 0 && stack[start] != w)
        start--;
      rv_buf b = {.a = g->a};
      rv_buf_puts(&b, "rego_recursion_error: rule ");
      node_path(g->byid[w], &b);
      rv_buf_puts(&b, " is recursive: ");
      for (int k = start; k <= depth; k++) {
        node_path(g->byid[stack[k]], &b);
        rv_buf_puts(&b, " -> ");
      }
      node_path(g->byid[w], &b);
      const rule *r = g->byid[w]->nrules ? g->byid[w]->rules[0] : g->byid[w]->dflt;
      snprintf(err, errlen, "%s:%d:%d: %s", r && r->loc.file ? r->loc.file : "", r ? r->loc.line : 0,
               r ? r->loc.col : 0, b.s);
      return true;
    }
    if (color[w] == 0) {
      color[w] = 1;
      stack[++depth] = w;
      edge[depth] = 0;
    }
  }
  return false;
}

static bool check_recursion(rego_policy *p, char *err, size_t errlen) {
  depgraph g = {.a = p->arena, .n = p->nnodes};
  g.byid = rv_zalloc(p->arena, sizeof(dnode *) * (size_t)(g.n + 1));
  g.deps = rv_zalloc(p->arena, sizeof(int *) * (size_t)(g.n + 1));
  g.ndeps = rv_zalloc(p->arena, sizeof(int) * (size_t)(g.n + 1));
  g.capdeps = rv_zalloc(p->arena, sizeof(int) * (size_t)(g.n + 1));
  g.seen = rv_zalloc(p->arena, sizeof(int) * (size_t)(g.n + 1));
  index_nodes(p->root, g.byid);
  for (int id = 0; id < g.n; id++) {
    dnode *n = g.byid[id];
    if (!n || n->kind < 0) continue;
    for (int i = 0; i <= n->nrules; i++) {
      rule *r = i < n->nrules ? n->rules[i] : n->dflt;
      for (rule *x = r; x; x = x->else_) {
        if (x->body) deps_body(&g, id, x->body, p->root);
        if (x->value) deps_term(&g, id, x->value, p->root);
        if (x->key) deps_term(&g, id, x->key, p->root);
        for (int k = x->nstatic; k < x->npath; k++)
          deps_term(&g, id, x->path[k], p->root);
        for (int k = 0; k < x->nargs; k++)
          deps_term(&g, id, x->args[k], p->root);
      }
    }
  }
  uint8_t *color = rv_zalloc(p->arena, (size_t)(g.n + 1));
  int *stack = rv_zalloc(p->arena, sizeof(int) * (size_t)(g.n + 1));
  int *edge = rv_zalloc(p->arena, sizeof(int) * (size_t)(g.n + 1));
  for (int id = 0; id < g.n; id++)
    if (color[id] == 0 && g.byid[id] && g.byid[id]->kind >= 0 &&
        find_cycle(&g, id, color, stack, edge, err, errlen))
      return true;
  return false;
}

tr_err *rego_compile_modules(rego_policy *p) {
  cctx c = {.p = p, .a = p->arena};
  p->root = node_new(p->arena, NULL, "data", 4);
  nodemap nm = {0};
  /* 1. data tree */
  for (int mi = 0; mi < p->nmods; mi++) {
    module *m = p->mods[mi];
    dnode *pkg = p->root;
    for (int k = 0; k < m->npkg; k++)
      pkg = node_get(p->arena, &nm, pkg, m->pkg[k], strlen(m->pkg[k]));
    m->pkgnode = pkg;
    for (int ri = 0; ri < m->nrules; ri++) {
      rule *r = m->rules[ri];
      const rv *first = r->path[0]->u.v;
      node_get(p->arena, &nm, pkg, first->u.str.s, first->u.str.len)->rule_root = true;
      int ns = 1;
      while (ns < r->npath && is_str_scalar(r->path[ns]))
        ns++;
      r->nstatic = ns;
      if (ns < r->npath) {
        if (r->kind == RK_SET) r->set_leaf = true; /* p[q].r contains s */
        if (r->kind == RK_FUNC) {
          cfail(&c, r->loc, "rego_type_error: function head must be a constant path");
          break;
        }
        if (r->is_default) {
          cfail(&c, r->loc, "rego_type_error: default rule head must be a constant path");
          break;
        }
        r->kind = RK_OBJECT;
      }
      for (rule *x = r->else_; x; x = x->else_) {
        x->kind = r->kind;
        x->nstatic = ns;
      }
      dnode *n = pkg;
      for (int k = 0; k < ns; k++) {
        const rv *sv = r->path[k]->u.v;
        n = node_get(p->arena, &nm, n, sv->u.str.s, sv->u.str.len);
      }
      if (n->kind >= 0 && n->kind != r->kind) {
        cfail(&c, r->loc, "rego_type_error: conflicting rules data.%s found", n->name);
        break;
      }
      if (r->kind == RK_FUNC) {
        if (n->kind == RK_FUNC && n->arity != r->nargs) {
          cfail(&c, r->loc, "rego_type_error: conflicting rules: function %s has arity %d and %d", n->name,
                n->arity, r->nargs);
          break;
        }
        n->arity = r->nargs;
      }
      n->kind = r->kind;
      if (r->is_default) {
        if (n->dflt) {
          cfail(&c, r->loc, "rego_type_error: multiple default rules %s found", n->name);
          break;
        }
        n->dflt = r;
      } else {
        node_add_rule(p->arena, n, r);
      }
    }
    if (c.failed) break;
  }
  if (!c.failed) {
    sort_children(p->root);
    int next_id = 0;
    number_nodes(p->root, &next_id);
    p->nnodes = next_id;
  }
  /* 2-5. each rule */
  if (c.failed) return tr_err_new(TR_E_INVALID, "%s", c.err);
  /* every rule is compiled; each failing rule reports its first error (one per line) */
  rv_buf all = {.a = p->arena};
  int nerr = 0;
  for (int mi = 0; mi < p->nmods; mi++) {
    module *m = p->mods[mi];
    c.m = m;
    for (int ri = 0; ri < m->nrules; ri++) {
      compile_rule_chain(&c, m->rules[ri]);
      if (!c.failed) continue;
      if (nerr++ < 20) {
        if (all.len) rv_buf_putc(&all, '\n');
        rv_buf_puts(&all, c.err);
      }
      c.failed = false;
    }
  }
  if (nerr) return tr_err_new(TR_E_INVALID, "%s", all.s);
  if (check_recursion(p, c.err, sizeof c.err)) return tr_err_new(TR_E_INVALID, "%s", c.err);
  return NULL;
}

tr_err *rego_compile_query(const rego_policy *p, rv_arena *a, body *b, cquery *out) {
  cctx c = {.p = (rego_policy *)p, .a = a};
  scope *s = scope_new(&c, NULL);
  for (int i = 0; i < b->n; i++)
    b->exprs[i]->qidx = i + 1;
  resolve_body(&c, b, s);
  if (!c.failed) {
    bits bound = bits_new(&c);
    order_body(&c, b, s->id, &bound, NULL, 0);
  }
  if (c.failed) return tr_err_new(TR_E_INVALID, "%s", c.err);
  fold_body(&c, b);
  out->body = b;
  out->nslots = c.nslots;
  out->slotnames = c.slotnames;
  out->var_slots = rv_alloc(a, sizeof(int) * (size_t)(s->n + 1));
  out->nvars = 0;
  for (int i = 0; i < s->n; i++) {
    const char *n = s->names[i];
    if (strncmp(n, "_$", 2) == 0 || n[0] == '$') continue;
    out->var_slots[out->nvars++] = s->slots[i];
  }
  return NULL;
}
