/* internal.h — the Rego engine's AST, compiled policy and evaluator entry
 * points. Private to src/rego (not for the builtin families).
 *
 * Pipeline: parse.c (text → AST, one arena per policy) → compile.c (merge
 * modules into a tree of data nodes, resolve names, give every variable a
 * frame slot, reorder body statements only where safety needs it, fold
 * constants) → eval.c (top-down evaluation with backtracking in
 * continuation-passing style over the compiled AST). */
#ifndef TRUSTEE_REGO_INTERNAL_H
#define TRUSTEE_REGO_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"
#include "rego/builtins/builtins.h"
#include "rego/rego.h"
#include "rego/value.h"

typedef struct {
  const char *file;
  int line, col;
} rloc;

typedef enum {
  TK_SCALAR, /* u.v */
  TK_VAR,
  TK_REF,
  TK_ARRAY,
  TK_OBJECT, /* items: k0, v0, k1, v1, ... */
  TK_SET,
  TK_ARRCOMP,
  TK_SETCOMP,
  TK_OBJCOMP,
  TK_CALL,
} tkind;

/* Resolution of a variable / ref head (set by compile.c). */
typedef enum {
  VR_UNRESOLVED = 0,
  VR_LOCAL, /* frame slot */
  VR_INPUT, /* input document */
  VR_DATA,  /* data root; ref parts continue from u.ref.node */
} vres;

/* Call target kind (set by compile.c). */
typedef enum {
  CT_NONE = 0,
  CT_BUILTIN, /* u.call.bi */
  CT_FUNC,    /* u.call.node: user function */
  CT_HOST,    /* u.call.host: index into the policy's host declarations */
  CT_PRINT,   /* print/trace: always true, no effect */
} ctkind;

typedef struct term term;
typedef struct body body;
typedef struct dnode dnode;

struct term {
  uint8_t kind;     /* tkind */
  uint8_t ground;   /* no variables anywhere inside (constant or data/input ref) */
  uint8_t has_vars; /* contains a var in pattern position (array/object items) or anywhere */
  uint8_t op;       /* TK_CALL written as an operator (==, +, in, ...): always the builtin */
  rloc loc;
  rv *constv; /* value when the term is a compile-time constant */
  union {
    rv *v; /* TK_SCALAR */
    struct {
      const char *name;
      int res; /* vres */
      int slot;
    } var;
    struct {
      term *head;
      term **parts;
      int nparts;
      /* compiled: head resolves to data node `node` after consuming `skip` parts (rule names) */
      dnode *node;
      int skip;
    } ref;
    struct {
      term **items;
      int n;
    } coll;
    struct {
      term *key; /* objcomp only */
      term *val;
      body *body;
      int sid; /* compile: scope id */
    } comp;
    struct {
      term *fn; /* name as var or ref term */
      char *name;
      term **args;
      int nargs;
      int ct; /* ctkind */
      const rego_builtin_def *bi;
      dnode *node;
      int host;
      int arity;
    } call;
  } u;
};

typedef enum {
  EX_TERM,
  EX_UNIFY,  /* a = b */
  EX_ASSIGN, /* a := b */
  EX_NOT,
  EX_SOME,   /* declaration only */
  EX_SOMEIN, /* some [key,] val in coll:  a = key (or NULL), b = val, c = coll */
  EX_EVERY,  /* every [key,] val in coll { body } */
} exkind;

typedef struct {
  term *target; /* input..., data..., or a function name */
  term *value;
} withmod;

typedef struct expr expr;
struct expr {
  uint8_t kind;
  rloc loc;
  term *a, *b, *c;
  expr *neg;  /* EX_NOT */
  body *body; /* EX_EVERY */
  withmod *withs;
  int nwith;
  int sid;         /* EX_EVERY: compile-time scope id */
  int qidx;        /* top-level query statement: 1-based source index */
  const char *src; /* statement source text (queries) */
  int srclen;
};

struct body {
  expr **exprs;
  int n;
};

typedef enum {
  RK_COMPLETE,
  RK_SET,    /* p contains x / v0 p[x] { } */
  RK_OBJECT, /* any rule whose head has a non-constant part after the static prefix */
  RK_FUNC,
} rkind;

typedef struct rule rule;
typedef struct module module;
struct rule {
  uint8_t kind; /* rkind */
  bool is_default;
  rloc loc;
  term **path; /* head ref parts; path[0] is the name (string scalar), others terms */
  int npath;
  int nstatic; /* leading constant-string parts of path */
  term **args; /* functions */
  int nargs;
  term *key;   /* RK_SET element */
  term *value; /* NULL = true */
  body *body;  /* NULL = unconditional */
  rule *else_;
  module *mod;
  int nslots; /* frame size (shared by the else chain) */
  bool value_const;
  bool set_leaf; /* p[x].y contains z: object whose leaves are sets */
  char **slotnames;
};

typedef struct {
  char *alias; /* local name */
  term *path;  /* ref term: data.x.y or input.x */
} import_decl;

struct module {
  const char *file;
  char **pkg; /* package path segments (after "data") */
  int npkg;
  import_decl *imports;
  int nimports;
  rule **rules;
  int nrules;
  bool v0;        /* no rego.v1/future imports and v0 syntax used */
  dnode *pkgnode; /* compile: the package's data node */
};

struct dnode {
  rv *key; /* segment as string value */
  const char *name;
  dnode *parent;
  dnode **children; /* sorted by name */
  int nchildren, capchildren;
  rule **rules; /* non-default rules at exactly this path */
  int nrules, caprules;
  rule *dflt;
  int kind; /* -1 none, else rkind of its rules */
  int id;   /* index into per-evaluation caches */
  int arity;
  bool has_rules_below; /* any rule in this subtree */
  bool rule_root;       /* the first head segment of some rule of the parent package */
};

struct rego_policy {
  rv_arena *arena;
  module **mods;
  int nmods;
  dnode *root; /* data */
  int nnodes;
  rego_host_decl *hosts;
  size_t nhosts;
  int max_depth;
};

/* ---- parse.c ---- */
/* Parses one module. Memory in arena. */
tr_err *rego_parse_module(rv_arena *a, const char *file, const char *text, int max_depth, bool v0_compat,
                          module **out);
/* Parses a query body ("x = 1; y := 2") or a term. */
tr_err *rego_parse_query(rv_arena *a, const char *file, const char *text, int max_depth, body **out);
tr_err *rego_parse_term_text(rv_arena *a, const char *text, int max_depth, term **out);
/* Decodes JSON string escapes (value.c). */
char *rv_unescape(rv_arena *a, const char *p, const char *end, size_t *len_out, const char **err);

/* ---- compile.c ---- */
tr_err *rego_compile_modules(rego_policy *p);
/* Compiles a query against the policy. Query variables get slots 0..nvars-1. */
typedef struct {
  body *body;
  int nslots;
  char **slotnames; /* user-visible names (NULL for generated) */
  int nvars;        /* user-visible variables, in order of first appearance */
  int *var_slots;
} cquery;
tr_err *rego_compile_query(const rego_policy *p, rv_arena *a, body *b, cquery *out);
dnode *rego_node_child(const dnode *n, const char *name, size_t len);

/* ---- ops.c ---- */
extern const rego_builtin_def rego_builtins_core[];

/* ---- eval.c ---- */
typedef struct ev ev;
typedef struct {
  const rego_policy *p;
  rv *input; /* NULL = undefined */
  rv *data;  /* base data, object */
  const rego_host_binding *hosts;
  size_t nhosts;
  bool strict;
  uint64_t max_steps;
  int64_t now_ns;
  rv_arena *arena;
  bool single_term_query; /* CLI/OPA API: a lone term query reports false too */
} ev_setup;

/* Error codes as OPA names them. */
typedef enum {
  RE_NONE = 0,
  RE_CONFLICT,  /* eval_conflict_error */
  RE_TYPE,      /* eval_type_error */
  RE_BUILTIN,   /* eval_builtin_error */
  RE_RECURSION, /* rego_recursion_error */
  RE_UNSAFE,    /* rego_unsafe_var_error */
  RE_LIMIT,     /* evaluation limit */
  RE_HOST,      /* host function error */
  RE_INTERNAL,
} ecode;
const char *rego_ecode_name(ecode c);

typedef struct {
  ecode code;
  char msg[600];
  rloc loc;
  tr_err *host_err; /* RE_HOST: owned */
} ev_error;

/* Evaluates a data path (segments after "data"); sets *out (NULL = undefined). */
int rego_eval_path(const ev_setup *s, const char *const *segs, int nsegs, rv **out, ev_error *err);
/* Evaluates a compiled query; calls row(rowctx, slots) for every solution. */
int rego_eval_cquery(const ev_setup *s, const cquery *q, void (*row)(void *, rv **, rv **), void *rowctx,
                     ev_error *err);
void rego_bi_cache_free(rego_bi_cache *c);

/* Converts an ev_error to a tr_err. */
tr_err *rego_ev_error_to_tr(ev_error *e);

#endif
