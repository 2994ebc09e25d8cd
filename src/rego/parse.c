/* parse.c — lexer and recursive-descent parser for Rego v1 (v0 partial-rule
 * heads `p[x] { }` accepted). Output is the AST of internal.h, allocated in
 * the policy arena. Nesting is bounded by max_depth so that hostile input
 * (100k `[`) gives an error instead of exhausting the stack.
 *
 * Newlines separate body statements, so the lexer records whether a token
 * follows a line break; postfix `[`/`(`/`.` and binary `-` never continue a
 * term across one. */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rego/internal.h"

typedef enum {
  T_EOF,
  T_IDENT,
  T_STRING,
  T_NUMBER,
  T_LBRACE,
  T_RBRACE,
  T_LBRACK,
  T_RBRACK,
  T_LPAREN,
  T_RPAREN,
  T_DOT,
  T_COMMA,
  T_SEMI,
  T_COLON,
  T_ASSIGN, /* := */
  T_UNIFY,  /* = */
  T_EQ,
  T_NEQ,
  T_LT,
  T_LTE,
  T_GT,
  T_GTE,
  T_PLUS,
  T_MINUS,
  T_STAR,
  T_SLASH,
  T_PERCENT,
  T_AMP,
  T_BAR,
} ttype;

typedef struct {
  ttype t;
  const char *s; /* token text start */
  size_t n;
  bool nl; /* preceded by a newline */
  int line, col;
  rv *v; /* decoded string/number */
} token;

typedef struct {
  rv_arena *a;
  const char *file, *src, *p, *end;
  int line;
  const char *linestart;
  token tok, peek;
  bool has_peek;
  int depth, max_depth;
  jmp_buf jb;
  char err[512];
  int wildcard;
  const char *prev_end; /* end of the previous token */
  bool v0;              /* accept v0 rule bodies without `if` */
  bool no_bar;          /* `|` ends the current term (comprehension bar position) */
  term *ref_last;       /* the ref ref_append extended last, and its parts capacity */
  int ref_cap;
} P;

static void __attribute__((noreturn, format(printf, 3, 4)))
perr(P *ps, const token *at, const char *fmt, ...) {
  char m[400];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(m, sizeof m, fmt, ap);
  va_end(ap);
  snprintf(ps->err, sizeof ps->err, "%s:%d:%d: rego_parse_error: %s", ps->file, at ? at->line : ps->line,
           at ? at->col : (int)(ps->p - ps->linestart) + 1, m);
  longjmp(ps->jb, 1);
}

/* ---- lexer ---- */

static void lex(P *ps, token *t) {
  bool nl = false;
  for (;;) {
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\r' || *ps->p == '\n')) {
      if (*ps->p == '\n') {
        nl = true;
        ps->line++;
        ps->linestart = ps->p + 1;
      }
      ps->p++;
    }
    if (ps->p < ps->end && *ps->p == '#') {
      while (ps->p < ps->end && *ps->p != '\n')
        ps->p++;
      continue;
    }
    break;
  }
  t->nl = nl;
  t->s = ps->p;
  t->line = ps->line;
  t->col = (int)(ps->p - ps->linestart) + 1;
  t->v = NULL;
  if (ps->p >= ps->end) {
    t->t = T_EOF;
    t->n = 0;
    return;
  }
  char c = *ps->p;
  if (isalpha((unsigned char)c) || c == '_') {
    while (ps->p < ps->end && (isalnum((unsigned char)*ps->p) || *ps->p == '_'))
      ps->p++;
    t->t = T_IDENT;
  } else if (isdigit((unsigned char)c) ||
             (c == '.' && ps->p + 1 < ps->end && isdigit((unsigned char)ps->p[1]))) {
    while (ps->p < ps->end && isdigit((unsigned char)*ps->p))
      ps->p++;
    if (ps->p + 1 < ps->end && *ps->p == '.' && isdigit((unsigned char)ps->p[1])) {
      ps->p++;
      while (ps->p < ps->end && isdigit((unsigned char)*ps->p))
        ps->p++;
    }
    if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
      const char *q = ps->p + 1;
      if (q < ps->end && (*q == '+' || *q == '-')) q++;
      if (q < ps->end && isdigit((unsigned char)*q)) {
        ps->p = q;
        while (ps->p < ps->end && isdigit((unsigned char)*ps->p))
          ps->p++;
      }
    }
    t->t = T_NUMBER;
    t->n = (size_t)(ps->p - t->s);
    t->v = rv_number_from_text(ps->a, t->s, t->n);
    if (!t->v) perr(ps, t, "invalid number %.*s", (int)t->n, t->s);
    return;
  } else if (c == '"') {
    ps->p++;
    bool esc = false;
    while (ps->p < ps->end && *ps->p != '"') {
      if (*ps->p == '\n') perr(ps, t, "unterminated string");
      if (*ps->p == '\\') {
        esc = true;
        ps->p++;
      }
      ps->p++;
    }
    if (ps->p >= ps->end) perr(ps, t, "unterminated string");
    const char *st = t->s + 1, *en = ps->p;
    ps->p++;
    t->t = T_STRING;
    t->n = (size_t)(ps->p - t->s);
    if (!esc) {
      t->v = rv_string(ps->a, st, (size_t)(en - st));
    } else {
      size_t n;
      const char *e = NULL;
      char *d = rv_unescape(ps->a, st, en, &n, &e);
      if (!d) perr(ps, t, "%s in string", e);
      t->v = rv_string_nocopy(ps->a, d, n);
    }
    return;
  } else if (c == '`') {
    ps->p++;
    const char *st = ps->p;
    while (ps->p < ps->end && *ps->p != '`') {
      if (*ps->p == '\n') {
        ps->line++;
        ps->linestart = ps->p + 1;
      }
      ps->p++;
    }
    if (ps->p >= ps->end) perr(ps, t, "unterminated raw string");
    t->v = rv_string(ps->a, st, (size_t)(ps->p - st));
    ps->p++;
    t->t = T_STRING;
    t->n = (size_t)(ps->p - t->s);
    return;
  } else {
    ps->p++;
    char d = ps->p < ps->end ? *ps->p : 0;
    switch (c) {
    case '{': t->t = T_LBRACE; break;
    case '}': t->t = T_RBRACE; break;
    case '[': t->t = T_LBRACK; break;
    case ']': t->t = T_RBRACK; break;
    case '(': t->t = T_LPAREN; break;
    case ')': t->t = T_RPAREN; break;
    case '.': t->t = T_DOT; break;
    case ',': t->t = T_COMMA; break;
    case ';': t->t = T_SEMI; break;
    case ':':
      if (d == '=')
        ps->p++, t->t = T_ASSIGN;
      else
        t->t = T_COLON;
      break;
    case '=':
      if (d == '=')
        ps->p++, t->t = T_EQ;
      else
        t->t = T_UNIFY;
      break;
    case '!':
      if (d != '=') perr(ps, t, "unexpected '!'");
      ps->p++;
      t->t = T_NEQ;
      break;
    case '<':
      if (d == '=')
        ps->p++, t->t = T_LTE;
      else
        t->t = T_LT;
      break;
    case '>':
      if (d == '=')
        ps->p++, t->t = T_GTE;
      else
        t->t = T_GT;
      break;
    case '+': t->t = T_PLUS; break;
    case '-': t->t = T_MINUS; break;
    case '*': t->t = T_STAR; break;
    case '/': t->t = T_SLASH; break;
    case '%': t->t = T_PERCENT; break;
    case '&': t->t = T_AMP; break;
    case '|': t->t = T_BAR; break;
    default: perr(ps, t, "unexpected character '%c'", c);
    }
  }
  t->n = (size_t)(ps->p - t->s);
}

static void next(P *ps) {
  ps->prev_end = ps->tok.s ? ps->tok.s + ps->tok.n : ps->src;
  if (ps->has_peek) {
    ps->tok = ps->peek;
    ps->has_peek = false;
  } else {
    lex(ps, &ps->tok);
  }
}

static token *peek(P *ps) {
  if (!ps->has_peek) {
    lex(ps, &ps->peek);
    ps->has_peek = true;
  }
  return &ps->peek;
}

static bool is_kw(const token *t, const char *kw) {
  return t->t == T_IDENT && t->n == strlen(kw) && memcmp(t->s, kw, t->n) == 0;
}

static const char *const keywords[] = {"package", "import", "default", "if",       "else", "not",
                                       "some",    "every",  "in",      "contains", "with", "as",
                                       "true",    "false",  "null",    NULL};

static bool is_keyword_tok(const token *t) {
  if (t->t != T_IDENT) return false;
  for (int i = 0; keywords[i]; i++)
    if (is_kw(t, keywords[i])) return true;
  return false;
}

static void expect(P *ps, ttype t, const char *what) {
  if (ps->tok.t != t) perr(ps, &ps->tok, "expected %s", what);
  next(ps);
}

static rloc loc_of(P *ps, const token *t) { return (rloc){ps->file, t->line, t->col}; }

/* ---- AST constructors ---- */

static term *mk(P *ps, tkind k, const token *at) {
  term *t = rv_zalloc(ps->a, sizeof(term));
  t->kind = (uint8_t)k;
  t->loc = at ? loc_of(ps, at) : (rloc){ps->file, ps->line, 0};
  return t;
}

static term *mk_scalar(P *ps, rv *v, const token *at) {
  term *t = mk(ps, TK_SCALAR, at);
  t->u.v = v;
  return t;
}

static term *mk_var(P *ps, const char *name, size_t n, const token *at) {
  term *t = mk(ps, TK_VAR, at);
  if (n == 1 && name[0] == '_') {
    t->u.var.name = rv_sprintf(ps->a, NULL, "_$%d", ps->wildcard++);
  } else {
    t->u.var.name = rv_strndup(ps->a, name, n);
  }
  return t;
}

static term *mk_call(P *ps, const char *name, term **args, int n, const token *at) {
  term *t = mk(ps, TK_CALL, at);
  t->u.call.name = rv_strndup(ps->a, name, strlen(name));
  t->u.call.args = rv_alloc(ps->a, sizeof(term *) * (size_t)(n ? n : 1));
  if (n) memcpy(t->u.call.args, args, sizeof(term *) * (size_t)n);
  t->u.call.nargs = n;
  return t;
}

/* Operator calls (infix, unary minus, `in`): resolved to the builtin even
 * when a package defines a function of that name (regorus semantics). */
static term *mk_call2(P *ps, const char *name, term *a, term *b, const token *at) {
  term *args[2] = {a, b};
  term *t = mk_call(ps, name, args, 2, at);
  t->op = 1;
  return t;
}

typedef struct {
  void **items;
  int n, cap;
} pvec;

static void pv_push(P *ps, pvec *v, void *x) {
  if (v->n == v->cap) {
    int nc = v->cap ? v->cap * 2 : 4;
    void **ni = rv_alloc(ps->a, sizeof(void *) * (size_t)nc);
    if (v->n) memcpy(ni, v->items, sizeof(void *) * (size_t)v->n);
    v->items = ni;
    v->cap = nc;
  }
  v->items[v->n++] = x;
}

/* ---- terms ---- */

static term *parse_expr_in(P *ps, bool allow_kv);
static term *parse_full(P *ps, bool allow_kv);
static body *parse_body_until(P *ps, ttype close);
static term *parse_term(P *ps);

static void enter(P *ps) {
  if (++ps->depth > ps->max_depth) perr(ps, &ps->tok, "nesting depth limit %d exceeded", ps->max_depth);
}
static void leave(P *ps) { ps->depth--; }

/* `|` is set union except where it may be a comprehension's bar: right
 * after the first element (or first key: value) of a collection literal.
 * There ps->no_bar is set; every nested bracket, call, parenthesis or
 * statement clears it for its inside (bar_allow / bar_restore). */
static bool bar_allow(P *ps, bool allow) {
  bool old = ps->no_bar;
  ps->no_bar = !allow;
  return old;
}
static void bar_restore(P *ps, bool old) { ps->no_bar = old; }

/* Call name from a var/ref term: "a.b.c" when all parts are constant strings. */
static char *call_name(P *ps, term *fn) {
  if (fn->kind == TK_VAR) return (char *)fn->u.var.name;
  if (fn->kind != TK_REF || fn->u.ref.head->kind != TK_VAR) return NULL;
  rv_buf b = {.a = ps->a};
  rv_buf_puts(&b, fn->u.ref.head->u.var.name);
  for (int i = 0; i < fn->u.ref.nparts; i++) {
    term *pt = fn->u.ref.parts[i];
    if (pt->kind != TK_SCALAR || pt->u.v->kind != RV_STRING) return NULL;
    rv_buf_putc(&b, '.');
    rv_buf_put(&b, pt->u.v->u.str.s, pt->u.v->u.str.len);
  }
  return b.s;
}

/* t.part / t[part]: turns t into a ref (if it is not one) and appends.
 * The parts array of the ref being extended is remembered with its
 * capacity, so a chain a.b.c... grows geometrically (linear time and
 * memory) instead of being copied on every part. A ref may have at most
 * max_depth parts: rule heads and `with` targets become nested documents,
 * which are bounded like any other nesting. */
static term *ref_append(P *ps, term *t, term *part, const token *at) {
  if (t->kind != TK_REF) {
    term *r = mk(ps, TK_REF, at);
    r->loc = t->loc;
    r->u.ref.head = t;
    t = r;
  }
  if (t->u.ref.nparts >= ps->max_depth)
    perr(ps, at, "reference too long (more than %d parts)", ps->max_depth);
  int cap = t == ps->ref_last ? ps->ref_cap : t->u.ref.nparts;
  pvec v = {(void **)t->u.ref.parts, t->u.ref.nparts, cap};
  pv_push(ps, &v, part);
  t->u.ref.parts = (term **)v.items;
  t->u.ref.nparts = v.n;
  ps->ref_last = t;
  ps->ref_cap = v.cap;
  return t;
}

static term *parse_postfix(P *ps, term *t) {
  for (;;) {
    token *tk = &ps->tok;
    if (tk->nl) return t;
    if (tk->t == T_DOT) {
      token dt = *tk;
      next(ps);
      if (ps->tok.t != T_IDENT) perr(ps, &ps->tok, "expected name after '.'");
      term *part = mk_scalar(ps, rv_string(ps->a, ps->tok.s, ps->tok.n), &ps->tok);
      next(ps);
      t = ref_append(ps, t, part, &dt);
    } else if (tk->t == T_LBRACK) {
      token bt = *tk;
      next(ps);
      enter(ps);
      term *part = parse_full(ps, false);
      leave(ps);
      expect(ps, T_RBRACK, "']'");
      t = ref_append(ps, t, part, &bt);
    } else if (tk->t == T_LPAREN && (t->kind == TK_VAR || t->kind == TK_REF)) {
      char *name = call_name(ps, t);
      if (!name) perr(ps, tk, "invalid function name");
      token ct = *tk;
      next(ps);
      enter(ps);
      pvec args = {0};
      while (ps->tok.t != T_RPAREN) {
        pv_push(ps, &args, parse_full(ps, false));
        if (ps->tok.t == T_COMMA)
          next(ps);
        else if (ps->tok.t != T_RPAREN)
          perr(ps, &ps->tok, "expected ',' or ')' in call");
      }
      leave(ps);
      next(ps);
      term *c = mk_call(ps, name, (term **)args.items, args.n, &ct);
      c->loc = t->loc;
      c->u.call.fn = t;
      t = c;
    } else {
      return t;
    }
  }
}

static term *parse_collection(P *ps, bool brace) {
  token open = ps->tok;
  next(ps);
  enter(ps);
  ttype close = brace ? T_RBRACE : T_RBRACK;
  term *res;
  if (ps->tok.t == close) {
    next(ps);
    res = mk(ps, brace ? TK_OBJECT : TK_ARRAY, &open);
    leave(ps);
    return res;
  }
  /* the first element (key: value) may be followed by a comprehension bar */
  bool nb = bar_allow(ps, false);
  term *first = parse_expr_in(ps, false);
  if (brace && ps->tok.t == T_COLON) {
    next(ps);
    term *val = parse_expr_in(ps, false);
    bar_restore(ps, nb);
    if (ps->tok.t == T_BAR) {
      next(ps);
      res = mk(ps, TK_OBJCOMP, &open);
      res->u.comp.key = first;
      res->u.comp.val = val;
      res->u.comp.body = parse_body_until(ps, T_RBRACE);
      next(ps);
      leave(ps);
      return res;
    }
    pvec items = {0};
    pv_push(ps, &items, first);
    pv_push(ps, &items, val);
    while (ps->tok.t == T_COMMA) {
      next(ps);
      if (ps->tok.t == T_RBRACE) break;
      pv_push(ps, &items, parse_full(ps, false));
      expect(ps, T_COLON, "':' in object");
      pv_push(ps, &items, parse_full(ps, false));
    }
    expect(ps, T_RBRACE, "'}' or ','");
    res = mk(ps, TK_OBJECT, &open);
    res->u.coll.items = (term **)items.items;
    res->u.coll.n = items.n;
    leave(ps);
    return res;
  }
  bar_restore(ps, nb);
  if (ps->tok.t == T_BAR) {
    next(ps);
    res = mk(ps, brace ? TK_SETCOMP : TK_ARRCOMP, &open);
    res->u.comp.val = first;
    res->u.comp.body = parse_body_until(ps, close);
    next(ps);
    leave(ps);
    return res;
  }
  pvec items = {0};
  pv_push(ps, &items, first);
  while (ps->tok.t == T_COMMA) {
    next(ps);
    if (ps->tok.t == close) break;
    pv_push(ps, &items, parse_full(ps, false));
  }
  expect(ps, close, brace ? "'}' or ','" : "']' or ','");
  res = mk(ps, brace ? TK_SET : TK_ARRAY, &open);
  res->u.coll.items = (term **)items.items;
  res->u.coll.n = items.n;
  leave(ps);
  return res;
}

static term *parse_primary(P *ps) {
  token t = ps->tok;
  switch (t.t) {
  case T_NUMBER: next(ps); return mk_scalar(ps, t.v, &t);
  case T_STRING: next(ps); return mk_scalar(ps, t.v, &t);
  case T_LBRACK: return parse_collection(ps, false);
  case T_LBRACE: return parse_collection(ps, true);
  case T_LPAREN: {
    next(ps);
    enter(ps);
    term *in = parse_full(ps, true);
    leave(ps);
    expect(ps, T_RPAREN, "')'");
    return in;
  }
  case T_MINUS: {
    next(ps);
    if (ps->tok.t == T_NUMBER && !ps->tok.nl) {
      token nt = ps->tok;
      next(ps);
      rv_buf b = {.a = ps->a};
      rv_buf_putc(&b, '-');
      rv_buf_put(&b, nt.s, nt.n);
      rv *v = rv_number_from_text(ps->a, b.s, b.len);
      return mk_scalar(ps, v, &t);
    }
    enter(ps);
    term *x = parse_term(ps);
    leave(ps);
    return mk_call2(ps, "minus", mk_scalar(ps, rv_int(ps->a, 0), &t), x, &t);
  }
  case T_IDENT:
    if (is_kw(&t, "true")) {
      next(ps);
      return mk_scalar(ps, RV_TRUE, &t);
    }
    if (is_kw(&t, "false")) {
      next(ps);
      return mk_scalar(ps, RV_FALSE, &t);
    }
    if (is_kw(&t, "null")) {
      next(ps);
      return mk_scalar(ps, RV_NULLV, &t);
    }
    if (is_kw(&t, "set") && peek(ps)->t == T_LPAREN) {
      next(ps);
      next(ps);
      expect(ps, T_RPAREN, "')' after set(");
      return mk(ps, TK_SET, &t);
    }
    if (is_keyword_tok(&t) && !is_kw(&t, "contains") && !is_kw(&t, "if"))
      perr(ps, &t, "unexpected keyword %.*s", (int)t.n, t.s);
    next(ps);
    return mk_var(ps, t.s, t.n, &t);
  default: perr(ps, &t, "unexpected token '%.*s'", (int)(t.n ? t.n : 3), t.n ? t.s : "EOF");
  }
}

static term *parse_term(P *ps) {
  term *t = parse_primary(ps);
  return parse_postfix(ps, t);
}

/* Binary operators by precedence level (loosest first), as OPA and
 * regorus parse them: relations ; | ; & ; + - ; * / %. Names are OPA's
 * builtin names. */
static const char *binop_name(P *ps, int lvl, ttype t) {
  switch (lvl) {
  case 0:
    return t == T_EQ    ? "equal"
           : t == T_NEQ ? "neq"
           : t == T_LT  ? "lt"
           : t == T_LTE ? "lte"
           : t == T_GT  ? "gt"
           : t == T_GTE ? "gte"
                        : NULL;
  case 1: return t == T_BAR && !ps->no_bar ? "or" : NULL;
  case 2: return t == T_AMP ? "and" : NULL;
  case 3: return t == T_PLUS ? "plus" : t == T_MINUS ? "minus" : NULL;
  default: return t == T_STAR ? "mul" : t == T_SLASH ? "div" : t == T_PERCENT ? "rem" : NULL;
  }
}

/* Operator chains build left-deep trees: each operator counts as one
 * nesting level so that `1-1-1-...` cannot build an unbounded tree. */
static term *parse_level(P *ps, int lvl) {
  if (lvl > 4) return parse_term(ps);
  term *l = parse_level(ps, lvl + 1);
  int n = 0;
  for (;;) {
    token t = ps->tok;
    const char *op = binop_name(ps, lvl, t.t);
    if (!op || t.nl) break;
    enter(ps);
    n++;
    next(ps);
    l = mk_call2(ps, op, l, parse_level(ps, lvl + 1), &t);
  }
  ps->depth -= n;
  return l;
}

static term *parse_or(P *ps) { return parse_level(ps, 0); }

/* `in` binds loosest among terms. allow_kv: `k, v in xs` allowed (statement level). */
static term *parse_expr_in(P *ps, bool allow_kv) {
  enter(ps);
  term *l = parse_or(ps);
  if (allow_kv && ps->tok.t == T_COMMA) {
    /* only a membership `k, v in coll` may continue with a comma here */
    token ct = ps->tok;
    next(ps);
    term *v = parse_or(ps);
    if (!is_kw(&ps->tok, "in")) perr(ps, &ct, "unexpected ','");
    token it = ps->tok;
    next(ps);
    term *coll = parse_or(ps);
    term *args[3] = {l, v, coll};
    l = mk_call(ps, "internal.member_3", args, 3, &it);
    l->op = 1;
  }
  int n = 0;
  while (is_kw(&ps->tok, "in") && !ps->tok.nl) {
    token it = ps->tok;
    enter(ps);
    n++;
    next(ps);
    l = mk_call2(ps, "internal.member_2", l, parse_or(ps), &it);
  }
  ps->depth -= n;
  leave(ps);
  return l;
}

/* A full expression where `|` cannot be a comprehension bar. */
static term *parse_full(P *ps, bool allow_kv) {
  bool nb = bar_allow(ps, true);
  term *l = parse_expr_in(ps, allow_kv);
  bar_restore(ps, nb);
  return l;
}

/* ---- statements ---- */

static expr *mk_expr(P *ps, exkind k, const token *at) {
  expr *e = rv_zalloc(ps->a, sizeof(expr));
  e->kind = (uint8_t)k;
  e->loc = loc_of(ps, at);
  return e;
}

static body *parse_braced_body(P *ps);

static expr *parse_stmt(P *ps);

static void parse_withs(P *ps, expr *e) {
  pvec ws = {0};
  while (is_kw(&ps->tok, "with")) {
    next(ps);
    withmod *w = rv_zalloc(ps->a, sizeof(withmod));
    w->target = parse_term(ps);
    if (!is_kw(&ps->tok, "as")) perr(ps, &ps->tok, "expected 'as' in with");
    next(ps);
    w->value = parse_full(ps, false);
    pv_push(ps, &ws, w);
  }
  if (ws.n) {
    e->withs = rv_alloc(ps->a, sizeof(withmod) * (size_t)ws.n);
    for (int i = 0; i < ws.n; i++)
      e->withs[i] = *(withmod *)ws.items[i];
    e->nwith = ws.n;
  }
}

static expr *parse_stmt_in(P *ps);

/* A statement (also inside a comprehension body) is never in bar position. */
static expr *parse_stmt(P *ps) {
  bool nb = bar_allow(ps, true);
  expr *e = parse_stmt_in(ps);
  bar_restore(ps, nb);
  return e;
}

static expr *parse_stmt_in(P *ps) {
  token st = ps->tok;
  expr *e;
  enter(ps);
  if (is_kw(&st, "not")) {
    next(ps);
    e = mk_expr(ps, EX_NOT, &st);
    e->neg = parse_stmt(ps);
    leave(ps);
    return e; /* `with` attaches to the inner expression */
  }
  if (is_kw(&st, "some")) {
    next(ps);
    /* some x, y   |   some x in xs   |   some k, v in xs */
    term *first = parse_or(ps);
    if (is_kw(&ps->tok, "in") || ps->tok.t == T_COMMA) {
      pvec vars = {0};
      pv_push(ps, &vars, first);
      while (ps->tok.t == T_COMMA) {
        next(ps);
        pv_push(ps, &vars, parse_or(ps));
      }
      if (is_kw(&ps->tok, "in")) {
        if (vars.n > 2) perr(ps, &st, "too many variables in some ... in");
        next(ps);
        e = mk_expr(ps, EX_SOMEIN, &st);
        if (vars.n == 2) {
          e->a = vars.items[0];
          e->b = vars.items[1];
        } else {
          e->b = vars.items[0];
        }
        e->c = parse_full(ps, false);
      } else {
        e = mk_expr(ps, EX_SOME, &st);
        term *t = mk(ps, TK_ARRAY, &st);
        t->u.coll.items = (term **)vars.items;
        t->u.coll.n = vars.n;
        for (int i = 0; i < vars.n; i++)
          if (((term *)vars.items[i])->kind != TK_VAR) perr(ps, &st, "expected variable in some");
        e->a = t;
      }
    } else {
      if (first->kind != TK_VAR) perr(ps, &st, "expected variable in some");
      e = mk_expr(ps, EX_SOME, &st);
      term *t = mk(ps, TK_ARRAY, &st);
      t->u.coll.items = rv_alloc(ps->a, sizeof(term *));
      t->u.coll.items[0] = first;
      t->u.coll.n = 1;
      e->a = t;
    }
    parse_withs(ps, e);
    leave(ps);
    return e;
  }
  if (is_kw(&st, "every")) {
    next(ps);
    e = mk_expr(ps, EX_EVERY, &st);
    term *first = parse_or(ps);
    if (ps->tok.t == T_COMMA) {
      next(ps);
      e->a = first;
      e->b = parse_or(ps);
    } else {
      e->b = first;
    }
    if (!is_kw(&ps->tok, "in")) perr(ps, &ps->tok, "expected 'in' in every");
    next(ps);
    e->c = parse_full(ps, false);
    if (ps->tok.t != T_LBRACE) perr(ps, &ps->tok, "expected '{' after every domain");
    e->body = parse_braced_body(ps);
    parse_withs(ps, e);
    leave(ps);
    return e;
  }
  term *l = parse_full(ps, true);
  if (ps->tok.t == T_ASSIGN || ps->tok.t == T_UNIFY) {
    bool assign = ps->tok.t == T_ASSIGN;
    token ot = ps->tok;
    next(ps);
    e = mk_expr(ps, assign ? EX_ASSIGN : EX_UNIFY, &ot);
    e->loc = loc_of(ps, &st);
    e->a = l;
    e->b = parse_full(ps, false);
  } else {
    e = mk_expr(ps, EX_TERM, &st);
    e->a = l;
  }
  parse_withs(ps, e);
  leave(ps);
  return e;
}

static body *mk_body(P *ps, pvec *v) {
  body *b = rv_zalloc(ps->a, sizeof(body));
  b->exprs = (expr **)v->items;
  b->n = v->n;
  return b;
}

/* Statements separated by ';' or newlines until `close` (not consumed). */
static body *parse_body_until(P *ps, ttype close) {
  pvec v = {0};
  enter(ps);
  for (;;) {
    while (ps->tok.t == T_SEMI)
      next(ps);
    if (ps->tok.t == close) break;
    if (ps->tok.t == T_EOF) perr(ps, &ps->tok, "unexpected end of input in body");
    if (v.n && !ps->tok.nl && ps->tok.t != T_SEMI) {
      /* previous statement must be followed by ; or newline */
      perr(ps, &ps->tok, "unexpected token '%.*s' after statement", (int)ps->tok.n, ps->tok.s);
    }
    const char *st = ps->tok.s;
    expr *x = parse_stmt(ps);
    x->src = st;
    x->srclen = (int)(ps->prev_end - st);
    pv_push(ps, &v, x);
    if (ps->tok.t == T_SEMI) {
      next(ps);
      ps->tok.nl = true; /* what follows a ';' starts a new statement */
    }
  }
  if (v.n == 0) perr(ps, &ps->tok, "found empty body");
  leave(ps);
  return mk_body(ps, &v);
}

static body *parse_braced_body(P *ps) {
  expect(ps, T_LBRACE, "'{'");
  body *b = parse_body_until(ps, T_RBRACE);
  next(ps);
  return b;
}

/* After `if`: a braced body or a single statement. */
static body *parse_if_body(P *ps) {
  if (ps->tok.t == T_LBRACE) {
    /* `if {` is a body unless it only parses as a term (`if {x: 1 | ...}`) */
    P *saved = malloc(sizeof(P));
    if (!saved) abort();
    *saved = *ps;
    if (setjmp(ps->jb) == 0) {
      body *b = parse_braced_body(ps);
      memcpy(ps->jb, saved->jb, sizeof(jmp_buf));
      free(saved);
      return b;
    }
    *ps = *saved;
    free(saved);
  }
  pvec v = {0};
  pv_push(ps, &v, parse_stmt(ps));
  return mk_body(ps, &v);
}

/* ---- rules ---- */

static rule *mk_rule(P *ps, module *m, const token *at) {
  rule *r = rv_zalloc(ps->a, sizeof(rule));
  r->loc = loc_of(ps, at);
  r->mod = m;
  return r;
}

static void parse_else_chain(P *ps, module *m, rule *r) {
  rule *prev = r;
  while (is_kw(&ps->tok, "else")) {
    token et = ps->tok;
    next(ps);
    rule *e = mk_rule(ps, m, &et);
    e->kind = r->kind;
    e->path = r->path;
    e->npath = r->npath;
    e->args = r->args;
    e->nargs = r->nargs;
    if (ps->tok.t == T_ASSIGN || ps->tok.t == T_UNIFY) {
      next(ps);
      e->value = parse_full(ps, false);
    }
    if (is_kw(&ps->tok, "if")) {
      next(ps);
      e->body = parse_if_body(ps);
    } else if (ps->tok.t == T_LBRACE && !ps->tok.nl) {
      if (!ps->v0) perr(ps, &ps->tok, "`if` keyword is required before rule body");
      e->body = parse_braced_body(ps);
    }
    prev->else_ = e;
    prev = e;
  }
}

static void parse_rule(P *ps, module *m, pvec *rules) {
  token st = ps->tok;
  bool is_default = false;
  if (is_kw(&st, "default")) {
    is_default = true;
    next(ps);
  }
  if (ps->tok.t != T_IDENT || is_keyword_tok(&ps->tok)) perr(ps, &ps->tok, "expected rule name");
  rule *r = mk_rule(ps, m, &st);
  r->is_default = is_default;
  /* head ref */
  pvec path = {0};
  pv_push(ps, &path, mk_scalar(ps, rv_string(ps->a, ps->tok.s, ps->tok.n), &ps->tok));
  next(ps);
  bool bracket_last = false;
  for (;;) {
    if (path.n > ps->max_depth) perr(ps, &ps->tok, "reference too long (more than %d parts)", ps->max_depth);
    if (ps->tok.t == T_DOT && !ps->tok.nl) {
      next(ps);
      if (ps->tok.t != T_IDENT) perr(ps, &ps->tok, "expected name after '.'");
      pv_push(ps, &path, mk_scalar(ps, rv_string(ps->a, ps->tok.s, ps->tok.n), &ps->tok));
      next(ps);
      bracket_last = false;
    } else if (ps->tok.t == T_LBRACK && !ps->tok.nl) {
      next(ps);
      pv_push(ps, &path, parse_full(ps, false));
      expect(ps, T_RBRACK, "']'");
      bracket_last = true;
    } else {
      break;
    }
  }
  r->path = (term **)path.items;
  r->npath = path.n;
  if (ps->tok.t == T_LPAREN && !ps->tok.nl) {
    next(ps);
    pvec args = {0};
    while (ps->tok.t != T_RPAREN) {
      pv_push(ps, &args, parse_full(ps, false));
      if (ps->tok.t == T_COMMA)
        next(ps);
      else if (ps->tok.t != T_RPAREN)
        perr(ps, &ps->tok, "expected ',' or ')' in function head");
    }
    next(ps);
    r->kind = RK_FUNC;
    r->args = (term **)args.items;
    r->nargs = args.n;
  } else {
    r->kind = RK_COMPLETE;
  }
  bool has_value = false;
  if (is_kw(&ps->tok, "contains")) {
    if (r->kind == RK_FUNC || is_default) perr(ps, &ps->tok, "unexpected contains");
    next(ps);
    r->kind = RK_SET;
    r->key = parse_full(ps, false);
  } else if (ps->tok.t == T_ASSIGN || ps->tok.t == T_UNIFY) {
    next(ps);
    r->value = parse_full(ps, false);
    has_value = true;
  }
  if (is_kw(&ps->tok, "if")) {
    next(ps);
    r->body = parse_if_body(ps);
  } else if (ps->tok.t == T_LBRACE && !ps->tok.nl) {
    /* v0 body without `if` */
    if (!ps->v0) perr(ps, &ps->tok, "`if` keyword is required before rule body");
    r->body = parse_braced_body(ps);
    if (!has_value && r->kind == RK_COMPLETE && bracket_last && r->npath == 2) {
      /* v0 partial set: p[x] { ... } */
      r->kind = RK_SET;
      r->key = r->path[1];
      r->npath = 1;
    }
  } else if (!has_value && r->kind != RK_SET) {
    if (!(r->kind == RK_COMPLETE && bracket_last && r->npath >= 2))
      perr(ps, &ps->tok, "rule %.*s needs a value or a body", (int)st.n, st.s);
  }
  if (is_default) {
    if (r->body || !has_value) perr(ps, &st, "default rule must have a value and no body");
  }
  pv_push(ps, rules, r);
  parse_else_chain(ps, m, r);
}

static term *parse_ref_text(P *ps) {
  if (ps->tok.t != T_IDENT) perr(ps, &ps->tok, "expected a reference");
  return parse_term(ps);
}

static void parse_package(P *ps, module *m) {
  if (!is_kw(&ps->tok, "package")) perr(ps, &ps->tok, "expected package");
  next(ps);
  term *t = parse_ref_text(ps);
  pvec segs = {0};
  if (t->kind == TK_VAR) {
    pv_push(ps, &segs, (void *)t->u.var.name);
  } else if (t->kind == TK_REF && t->u.ref.head->kind == TK_VAR) {
    pv_push(ps, &segs, (void *)t->u.ref.head->u.var.name);
    for (int i = 0; i < t->u.ref.nparts; i++) {
      term *p = t->u.ref.parts[i];
      if (p->kind != TK_SCALAR || p->u.v->kind != RV_STRING) perr(ps, NULL, "invalid package path");
      pv_push(ps, &segs, (void *)p->u.v->u.str.s);
    }
  } else {
    perr(ps, NULL, "invalid package path");
  }
  m->pkg = (char **)segs.items;
  m->npkg = segs.n;
}

static void parse_imports(P *ps, module *m) {
  pvec imps = {0};
  while (is_kw(&ps->tok, "import")) {
    token it = ps->tok;
    next(ps);
    term *t = parse_ref_text(ps);
    if (!(t->kind == TK_VAR || (t->kind == TK_REF && t->u.ref.head->kind == TK_VAR)))
      perr(ps, &it, "invalid import path");
    const char *head = t->kind == TK_VAR ? t->u.var.name : t->u.ref.head->u.var.name;
    const char *last = head;
    if (t->kind == TK_REF) {
      term *lp = t->u.ref.parts[t->u.ref.nparts - 1];
      if (lp->kind == TK_SCALAR && lp->u.v->kind == RV_STRING) last = lp->u.v->u.str.s;
    }
    char *alias = NULL;
    if (is_kw(&ps->tok, "as")) {
      next(ps);
      if (ps->tok.t != T_IDENT) perr(ps, &ps->tok, "expected alias name");
      alias = rv_strndup(ps->a, ps->tok.s, ps->tok.n);
      next(ps);
    }
    if (strcmp(head, "rego") == 0 || strcmp(head, "future") == 0) continue; /* rego.v1, future.keywords */
    if (strcmp(head, "data") != 0 && strcmp(head, "input") != 0)
      perr(ps, &it, "invalid import path: must begin with input or data");
    import_decl *d = rv_zalloc(ps->a, sizeof(import_decl));
    d->alias = alias ? alias : (char *)last;
    d->path = t;
    pv_push(ps, &imps, d);
  }
  m->imports = rv_alloc(ps->a, sizeof(import_decl) * (size_t)(imps.n ? imps.n : 1));
  for (int i = 0; i < imps.n; i++)
    m->imports[i] = *(import_decl *)imps.items[i];
  m->nimports = imps.n;
}

static void init_parser(P *ps, rv_arena *a, const char *file, const char *text, int max_depth) {
  memset(ps, 0, sizeof(*ps));
  ps->a = a;
  /* Locations outlive the caller's name string: they point into the arena. */
  ps->file = file ? rv_strndup(a, file, strlen(file)) : "";
  ps->src = ps->p = text;
  ps->end = text + strlen(text);
  ps->line = 1;
  ps->linestart = text;
  ps->max_depth = max_depth > 0 ? max_depth : 1000;
}

tr_err *rego_parse_module(rv_arena *a, const char *file, const char *text, int max_depth, bool v0_compat,
                          module **out) {
  P *ps = malloc(sizeof(P));
  if (!ps) abort();
  init_parser(ps, a, file, text, max_depth);
  ps->v0 = v0_compat;
  module *m = rv_zalloc(a, sizeof(module));
  m->file = ps->file;
  if (setjmp(ps->jb)) {
    tr_err *e = tr_err_new(TR_E_INVALID, "%s", ps->err);
    free(ps);
    return e;
  }
  next(ps);
  parse_package(ps, m);
  parse_imports(ps, m);
  pvec rules = {0};
  while (ps->tok.t != T_EOF) {
    if (is_kw(&ps->tok, "import")) perr(ps, &ps->tok, "imports must come before rules");
    parse_rule(ps, m, &rules);
  }
  m->rules = (rule **)rules.items;
  m->nrules = rules.n;
  *out = m;
  free(ps);
  return NULL;
}

tr_err *rego_parse_query(rv_arena *a, const char *file, const char *text, int max_depth, body **out) {
  P *ps = malloc(sizeof(P));
  if (!ps) abort();
  init_parser(ps, a, file, text, max_depth);
  if (setjmp(ps->jb)) {
    tr_err *e = tr_err_new(TR_E_INVALID, "%s", ps->err);
    free(ps);
    return e;
  }
  next(ps);
  *out = parse_body_until(ps, T_EOF);
  free(ps);
  return NULL;
}

tr_err *rego_parse_term_text(rv_arena *a, const char *text, int max_depth, term **out) {
  P *ps = malloc(sizeof(P));
  if (!ps) abort();
  init_parser(ps, a, "input", text, max_depth);
  if (setjmp(ps->jb)) {
    tr_err *e = tr_err_new(TR_E_INVALID, "%s", ps->err);
    free(ps);
    return e;
  }
  next(ps);
  *out = parse_full(ps, false);
  if (ps->tok.t != T_EOF) {
    tr_err *e = tr_err_new(TR_E_INVALID, "input:%d:%d: unexpected trailing text", ps->tok.line, ps->tok.col);
    free(ps);
    return e;
  }
  free(ps);
  return NULL;
}
