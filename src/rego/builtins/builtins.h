/* builtins.h — the interface between the Rego evaluator and the builtin
 * function families (src/rego/builtins/<family>.c).
 *
 * CHANGE NOTES (newest first; keep compatible):
 *   - The engine links a family by a STRONG reference when src/rego/builtins/<family>.c
 *     exists (src/rego/module.cmake defines REGO_HAVE_FAMILY_<family>), because a weak
 *     reference does not pull an object out of a static library. So: put family
 *     <family> in a file named exactly <family>.c (e.g. strings.c exports
 *     rego_builtins_strings), or add it to the list in module.cmake. A family file may
 *     be split: helper files with other names are fine as long as <family>.c defines the table.
 *
 * A family file exports one table, e.g.
 *
 *     const rego_builtin_def rego_builtins_strings[] = {
 *         {"concat", 2, bi_concat, 0},
 *         {"trim_space", 1, bi_trim_space, 0},
 *         {NULL, 0, NULL, 0},
 *     };
 *
 * The evaluator declares every family table weak and skips tables that are
 * not linked, so a family can land at any time. Names must be unique across
 * all tables (the first one wins otherwise). Operators (==, +, &, in, ...)
 * and print/trace live in the evaluator, not here.
 *
 * CALLING CONVENTION
 *   - The evaluator calls fn only with `arity` DEFINED arguments (an
 *     undefined argument makes the whole call undefined before fn runs).
 *     The out-parameter form `f(x, out)` is handled by the evaluator.
 *   - Success: set *out to a value (allocated on ctx->arena with the value.h
 *     constructors, or one of the arguments / a part of one, or a static
 *     singleton) and return REGO_BI_OK.
 *   - "No value" (e.g. object.get never is, but regex.find_n on nothing
 *     might be): return REGO_BI_UNDEFINED; *out is ignored.
 *   - Wrong operand type: return rego_bi_type_error(ctx, ...) or
 *     rego_bi_operand_error(...). Code eval_type_error.
 *   - Anything else that fails (bad regex, unparsable time, division by
 *     zero): return rego_bi_error(ctx, ...). Code eval_builtin_error.
 *   Both error helpers record the message and return REGO_BI_ERROR. The
 *   evaluator decides what an error means: in strict mode it aborts the
 *   evaluation with "<name>: <message>" and the code; in lenient mode (OPA's
 *   default) the call is undefined. So builtins NEVER check ctx->strict for
 *   errors; it is there only for builtins whose behaviour differs otherwise.
 *   - Messages are written WITHOUT the builtin name; the evaluator prefixes
 *     "<name>: " (ctx->name) itself. Use rego_bi_error_raw to suppress the
 *     prefix when OPA's text differs (e.g. "reverse: ..." for strings.reverse).
 *   - A builtin must not keep pointers to the arena after it returns, must
 *     not block, and must be thread-safe (no static mutable state).
 */
#ifndef TRUSTEE_REGO_BUILTINS_BUILTINS_H
#define TRUSTEE_REGO_BUILTINS_BUILTINS_H

#include <stdbool.h>
#include <stdint.h>

#include "rego/value.h"

typedef enum {
  REGO_BI_OK = 0,
  REGO_BI_UNDEFINED = 1,
  REGO_BI_ERROR = 2,
} rego_bi_status;

typedef enum {
  REGO_BI_ERR_NONE = 0,
  REGO_BI_ERR_TYPE,    /* eval_type_error */
  REGO_BI_ERR_BUILTIN, /* eval_builtin_error */
} rego_bi_errkind;

typedef struct rego_bi_cache rego_bi_cache; /* evaluator-private */

typedef struct {
  rv_arena *arena;  /* allocate results here */
  bool strict;      /* strict builtin errors (informational, see above) */
  int64_t now_ns;   /* time.now_ns() of this evaluation, fixed for its whole run */
  const char *name; /* name of the builtin being called, e.g. "object.union_n" */
  /* error slot, filled by the helpers below */
  rego_bi_errkind err_kind;
  bool err_raw; /* message already carries its prefix */
  char err_msg[512];
  rego_bi_cache *cache; /* per-evaluation cache, see rego_bi_cache_* */
  void *eval;           /* evaluator-private */
} rego_bctx;

typedef rego_bi_status (*rego_builtin_fn)(rego_bctx *ctx, rv *const *args, rv **out);

enum {
  REGO_BI_NONDET = 1u << 0, /* result may differ between calls with equal args (rand.*, time.now_ns) */
};

typedef struct {
  const char *name; /* dotted Rego name, e.g. "strings.replace_n"; NULL terminates a table */
  int arity;        /* number of arguments (fixed) */
  rego_builtin_fn fn;
  unsigned flags; /* REGO_BI_* */
} rego_builtin_def;

/* Error helpers: record the message (formatted printf-style, truncated to
 * fit err_msg) and return REGO_BI_ERROR. */
rego_bi_status rego_bi_type_error(rego_bctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
rego_bi_status rego_bi_error(rego_bctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Like the above but the message is used verbatim (no "<name>: " prefix). */
rego_bi_status rego_bi_error_raw(rego_bctx *ctx, rego_bi_errkind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* OPA's operand message: "operand <argno> must be <expected> but got <type of got>",
 * e.g. rego_bi_operand_error(ctx, 1, "one of {array, object, set, string}", args[0]).
 * argno is 1-based. Code eval_type_error. */
rego_bi_status rego_bi_operand_error(rego_bctx *ctx, int argno, const char *expected, const rv *got);

/* Per-evaluation cache for expensive derived objects (compiled regexes,
 * parsed layouts, rand.intn results). `kind` is a static string naming the
 * use ("regex"); `key` is any value. get returns NULL when absent; put takes
 * ownership of obj and calls free_fn(obj) when the evaluation ends. */
void *rego_bi_cache_get(rego_bctx *ctx, const char *kind, const rv *key);
void rego_bi_cache_put(rego_bctx *ctx, const char *kind, const rv *key, void *obj, void (*free_fn)(void *));

/* The families. Each table is terminated by a {NULL} entry. Declared weak
 * so the engine links whether or not a family file exists yet; the
 * evaluator skips tables whose address is NULL. */
#define REGO_BUILTIN_FAMILIES(X)                                                                             \
  X(aggregates)                                                                                              \
  X(arrays)                                                                                                  \
  X(sets)                                                                                                    \
  X(objects)                                                                                                 \
  X(strings)                                                                                                 \
  X(regex)                                                                                                   \
  X(types)                                                                                                   \
  X(numbers)                                                                                                 \
  X(bits)                                                                                                    \
  X(conversions)                                                                                             \
  X(encoding)                                                                                                \
  X(time)                                                                                                    \
  X(semver)                                                                                                  \
  X(glob)                                                                                                    \
  X(crypto)                                                                                                  \
  X(units)                                                                                                   \
  X(json)                                                                                                    \
  X(misc)

#ifndef REGO_BUILTINS_NO_WEAK_DECLS
#define REGO_DECLARE_FAMILY(f) extern const rego_builtin_def rego_builtins_##f[] __attribute__((weak));
REGO_BUILTIN_FAMILIES(REGO_DECLARE_FAMILY)
#undef REGO_DECLARE_FAMILY
#endif

/* Builtin lookup across all linked families (NULL when unknown). */
const rego_builtin_def *rego_builtin_lookup(const char *name);

#endif
