/* value.h — the Rego engine's internal values, shared by the evaluator and
 * the builtin families (src/rego/builtins/<family>.c).
 *
 * MEMORY RULE (read this first)
 * -----------------------------
 * Values are IMMUTABLE and ARENA-ALLOCATED. There is no reference counting
 * and nothing is ever freed individually.
 *   - Every evaluation owns one rv_arena; everything created while it runs
 *     (temporaries, builtin results, rule values) lives there and dies with
 *     it in one rv_arena_free at the end of the evaluation.
 *   - Constants of a compiled policy live in the policy's arena; a
 *     pre-converted input (rego_value) lives in its own arena. Both outlive
 *     any evaluation that uses them, so an evaluation may point at them
 *     freely, and a new value may share sub-values with any other value.
 *   - A builtin allocates its result (and anything inside it) with the
 *     constructors below on ctx->arena (see builtins/builtins.h). It may
 *     return one of its arguments, or a part of one, unchanged. It must never
 *     modify a value it did not just create itself.
 *   - Allocation never returns NULL: on malloc failure the process aborts
 *     (as xmalloc would). An arena may carry a soft byte limit; exceeding it
 *     sets rv_arena_over_limit() and the evaluator stops with a limit error
 *     at its next step.
 *   - A NULL `rv *` means "undefined" wherever a function says so.
 *
 * REPRESENTATION
 *   kinds are ordered as Rego's total order: null < boolean < number <
 *   string < array < object < set, so comparing kinds first is correct.
 *   Numbers are an exact int64, a double, or a big integer kept as its
 *   canonical decimal text ("-18446744073709551616"; only for integers that
 *   do not fit int64). An int and a float of the same value compare equal
 *   and hash the same.
 *   Strings are byte strings (UTF-8 by convention) with an explicit length
 *   and a terminating NUL (so .s can be passed to C string functions when
 *   the string holds no NUL byte).
 *   Sets and objects are kept SORTED by rv_compare on their elements/keys,
 *   without duplicates: lookup is a binary search, iteration is in Rego's
 *   canonical order, equality is a linear merge. Object keys may be any
 *   value (non-string keys are allowed).
 *
 * THREADS: values are immutable, so any number of threads may read shared
 * values (policy constants, pre-converted input) concurrently. An arena is
 * used by one thread at a time. */
#ifndef TRUSTEE_REGO_VALUE_H
#define TRUSTEE_REGO_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/error.h"

/* ---- arena ----------------------------------------------------------------------------------------------
 */

typedef struct rv_arena rv_arena;

rv_arena *rv_arena_new(void);
void rv_arena_free(rv_arena *a);
/* Frees everything but keeps the first chunk for reuse. */
void rv_arena_reset(rv_arena *a);
/* 0 = no limit. */
void rv_arena_set_limit(rv_arena *a, size_t max_bytes);
bool rv_arena_over_limit(const rv_arena *a);
size_t rv_arena_used(const rv_arena *a);

/* 16-byte aligned, uninitialised / zeroed. Never NULL. */
void *rv_alloc(rv_arena *a, size_t n);
void *rv_zalloc(rv_arena *a, size_t n);
char *rv_strndup(rv_arena *a, const char *s, size_t n);
/* printf into the arena; *len_out (may be NULL) receives the length. */
char *rv_sprintf(rv_arena *a, size_t *len_out, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ---- values ---------------------------------------------------------------------------------------------
 */

typedef enum {
  RV_NULL = 0,
  RV_BOOL = 1,
  RV_NUMBER = 2,
  RV_STRING = 3,
  RV_ARRAY = 4,
  RV_OBJECT = 5,
  RV_SET = 6,
} rv_kind;

typedef enum {
  RV_NUM_INT = 0,   /* .i */
  RV_NUM_FLOAT = 1, /* .d (finite) */
  RV_NUM_BIG = 2,   /* .str: canonical decimal text of an integer outside int64 */
} rv_numkind;

typedef struct rv rv;
struct rv {
  uint8_t kind;    /* rv_kind */
  uint8_t numkind; /* rv_numkind when kind == RV_NUMBER */
  uint16_t flags;  /* internal to the engine; builtins ignore */
  uint32_t hash;   /* reserved (0); values are never written after construction */
  union {
    bool b;
    int64_t i;
    double d;
    struct {
      const char *s; /* NUL-terminated */
      size_t len;
    } str; /* RV_STRING, and RV_NUMBER/RV_NUM_BIG */
    struct {
      rv **items;
      size_t len;
    } arr; /* RV_ARRAY and RV_SET (sorted, unique) */
    struct {
      rv **keys; /* sorted, unique */
      rv **vals;
      size_t len;
    } obj; /* RV_OBJECT */
  } u;
};

/* Shared immutable singletons (no arena needed). */
extern rv rv_null_v, rv_true_v, rv_false_v, rv_empty_str_v, rv_empty_arr_v, rv_empty_obj_v, rv_empty_set_v;
#define RV_NULLV (&rv_null_v)
#define RV_TRUE (&rv_true_v)
#define RV_FALSE (&rv_false_v)
static inline rv *rv_bool(bool b) { return b ? RV_TRUE : RV_FALSE; }

rv *rv_int(rv_arena *a, int64_t i);
/* A finite double; NaN/Inf are not values (callers must report an error). */
rv *rv_float(rv_arena *a, double d);
/* A number from its decimal/JSON text ("12", "-1.5e3", "18446744073709551616").
 * Integers that fit int64 become RV_NUM_INT, bigger integers RV_NUM_BIG,
 * everything else a double. NULL if the text is not a number or overflows double. */
rv *rv_number_from_text(rv_arena *a, const char *s, size_t len);
/* Copies the bytes. */
rv *rv_string(rv_arena *a, const char *s, size_t len);
rv *rv_cstring(rv_arena *a, const char *s);
/* Does not copy: s must live as long as the value (arena or static). s[len] must be NUL. */
rv *rv_string_nocopy(rv_arena *a, const char *s, size_t len);

/* Containers. The item/key/value pointer arrays are COPIED, so callers may
 * pass a temporary buffer. */
rv *rv_array(rv_arena *a, rv *const *items, size_t n);
/* Sorts and removes duplicates. */
rv *rv_set(rv_arena *a, rv *const *items, size_t n);
/* Sorts by key. Equal keys with equal values are merged; equal keys with
 * different values return NULL and set *conflict (if conflict != NULL). */
rv *rv_object(rv_arena *a, rv *const *keys, rv *const *vals, size_t n, bool *conflict);

/* A growable vector of values in an arena, for building containers. */
typedef struct {
  rv **items;
  size_t len, cap;
} rv_vec;
void rv_vec_push(rv_arena *a, rv_vec *v, rv *x);

/* ---- accessors ------------------------------------------------------------------------------------------
 */

static inline bool rv_is(const rv *v, rv_kind k) { return v && v->kind == k; }
static inline bool rv_is_int(const rv *v) { return v && v->kind == RV_NUMBER && v->numkind != RV_NUM_FLOAT; }
/* "null", "boolean", "number", "string", "array", "object", "set" (OPA's type_name). */
const char *rv_type_name(const rv *v);

/* Element count of array/set/object, byte length of a string. */
static inline size_t rv_len(const rv *v) {
  return v->kind == RV_OBJECT ? v->u.obj.len : (v->kind == RV_STRING ? v->u.str.len : v->u.arr.len);
}

/* Numbers. */
/* True if v is an integer number representable as int64 (an integral
 * double such as 3.0 counts). */
bool rv_num_get_i64(const rv *v, int64_t *out);
/* Any number as a double (big integers approximated). */
double rv_num_to_double(const rv *v);
/* True for ints, bigs and integral doubles. */
bool rv_num_is_integer(const rv *v);

/* Lookup: binary search. NULL when absent. */
rv *rv_object_get(const rv *obj, const rv *key);
/* Same with a string key (no allocation). */
rv *rv_object_get_str(const rv *obj, const char *key, size_t len);
bool rv_set_contains(const rv *set, const rv *x);
/* Index of an exact key/element, or -1. */
ptrdiff_t rv_object_find(const rv *obj, const rv *key);

/* Iteration is plain indexing (sorted order for sets and objects):
 *   for (size_t i = 0; i < v->u.arr.len; i++) v->u.arr.items[i]      array, set
 *   for (size_t i = 0; i < v->u.obj.len; i++) v->u.obj.keys[i] / vals[i] */

/* ---- order, equality, hashing ---------------------------------------------------------------------------
 */

/* Rego's total order: <0, 0, >0. Numbers compare by value (1 == 1.0; big
 * integers exactly). Arrays lexicographically; objects by sorted keys then
 * values; sets element-wise in sorted order, then by length. */
int rv_compare(const rv *a, const rv *b);
bool rv_equal(const rv *a, const rv *b);
uint32_t rv_hash(const rv *v);

/* ---- conversion -----------------------------------------------------------------------------------------
 */

/* JSON text → value, exact numbers (big integers kept), strict (no
 * trailing garbage; duplicate keys: the last one wins, as in Go).
 * max_depth 0 = 1000. Errors name the line and column. */
tr_err *rv_parse_json(rv_arena *a, const char *text, size_t len, int max_depth, rv **out);
/* jansson → value. Containers nested deeper than RV_JSON_MAX_DEPTH (the
 * same bound as jansson's parser) are refused: rv_from_json returns NULL,
 * rv_from_json_checked an error naming `what` ("input"). */
#define RV_JSON_MAX_DEPTH 2048
rv *rv_from_json(rv_arena *a, const json_t *j);
tr_err *rv_from_json_checked(rv_arena *a, const json_t *j, const char *what, rv **out);
/* value → jansson (new reference). Sets become arrays (sorted), non-string
 * keys their JSON text, big integers a json_real approximation. */
json_t *rv_to_json(const rv *v);

/* Text output into a growable buffer. */
typedef struct {
  char *s;
  size_t len, cap;
  rv_arena *a; /* NULL: heap (malloc/realloc; caller frees .s) */
} rv_buf;
void rv_buf_put(rv_buf *b, const char *s, size_t n);
void rv_buf_puts(rv_buf *b, const char *s);
void rv_buf_putc(rv_buf *b, char c);
/* Compact JSON (sets as arrays, non-string keys as their JSON text). Exact numbers. */
void rv_write_json(rv_buf *b, const rv *v);
/* The same, indented by `indent` spaces per level (starting at `level`). */
void rv_write_json_pretty(rv_buf *b, const rv *v, int indent, int level);
/* Rego term syntax as OPA prints values (sprintf %v, error messages):
 * strings quoted inside collections but bare at top level when
 * bare_strings; sets as {1, 2} and set() when empty. */
void rv_write_rego(rv_buf *b, const rv *v, bool bare_strings);
/* Number text: ints as digits, integral doubles below 1e21 without
 * fraction, other doubles in shortest round-trip form. */
void rv_write_number(rv_buf *b, const rv *v);

#endif
