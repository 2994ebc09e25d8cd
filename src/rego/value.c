/* value.c — arena, immutable Rego values, total order, hashing, JSON in/out.
 *
 * Sets and objects are sorted arrays (see value.h): building one sorts once,
 * lookups are binary searches. Numbers keep int64 exact, fall back to a
 * canonical decimal text for bigger integers and to double otherwise. */
#include "rego/value.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- arena ------------------------------------------------------------------------------------------------
 */

typedef struct chunk {
  struct chunk *next;
  size_t size, used;
  max_align_t data[];
} chunk;

struct rv_arena {
  chunk *head;  /* current chunk (list of all chunks through next) */
  chunk *first; /* kept on reset */
  size_t total, limit;
};

#define ARENA_FIRST 8192

static chunk *chunk_new(size_t size) {
  chunk *c = malloc(sizeof(chunk) + size);
  if (!c) abort();
  c->next = NULL;
  c->size = size;
  c->used = 0;
  return c;
}

rv_arena *rv_arena_new(void) {
  rv_arena *a = calloc(1, sizeof(*a));
  if (!a) abort();
  a->first = a->head = chunk_new(ARENA_FIRST);
  a->total = ARENA_FIRST;
  return a;
}

static void free_chain(chunk *c, chunk *stop) {
  while (c && c != stop) {
    chunk *n = c->next;
    free(c);
    c = n;
  }
}

void rv_arena_free(rv_arena *a) {
  if (!a) return;
  free_chain(a->head, NULL);
  free(a);
}

void rv_arena_reset(rv_arena *a) {
  free_chain(a->head, a->first);
  a->head = a->first;
  a->first->used = 0;
  a->first->next = NULL;
  a->total = a->first->size;
}

void rv_arena_set_limit(rv_arena *a, size_t max_bytes) { a->limit = max_bytes; }
bool rv_arena_over_limit(const rv_arena *a) { return a->limit && a->total > a->limit; }
size_t rv_arena_used(const rv_arena *a) { return a->total; }

void *rv_alloc(rv_arena *a, size_t n) {
  n = (n + 15) & ~(size_t)15;
  chunk *c = a->head;
  if (c->size - c->used < n) {
    size_t sz = c->size * 2;
    if (sz < n) sz = n;
    if (sz > (1u << 24) && n < (1u << 24)) sz = 1u << 24;
    chunk *nc = chunk_new(sz);
    nc->next = c;
    a->head = c = nc;
    a->total += sz;
  }
  void *p = (char *)c->data + c->used;
  c->used += n;
  return p;
}

void *rv_zalloc(rv_arena *a, size_t n) { return memset(rv_alloc(a, n), 0, n); }

char *rv_strndup(rv_arena *a, const char *s, size_t n) {
  char *d = rv_alloc(a, n + 1);
  if (n) memcpy(d, s, n);
  d[n] = 0;
  return d;
}

char *rv_sprintf(rv_arena *a, size_t *len_out, const char *fmt, ...) {
  va_list ap, ap2;
  va_start(ap, fmt);
  va_copy(ap2, ap);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0) n = 0;
  char *d = rv_alloc(a, (size_t)n + 1);
  vsnprintf(d, (size_t)n + 1, fmt, ap2);
  va_end(ap2);
  if (len_out) *len_out = (size_t)n;
  return d;
}

/* ---- constructors -----------------------------------------------------------------------------------------
 */

rv rv_null_v = {.kind = RV_NULL};
rv rv_true_v = {.kind = RV_BOOL, .u.b = true};
rv rv_false_v = {.kind = RV_BOOL, .u.b = false};
rv rv_empty_str_v = {.kind = RV_STRING, .u.str = {"", 0}};
rv rv_empty_arr_v = {.kind = RV_ARRAY};
rv rv_empty_obj_v = {.kind = RV_OBJECT};
rv rv_empty_set_v = {.kind = RV_SET};

static rv *newv(rv_arena *a, rv_kind k) {
  rv *v = rv_alloc(a, sizeof(rv));
  memset(v, 0, sizeof(*v));
  v->kind = (uint8_t)k;
  return v;
}

#define SI(n)                                                                                                \
  { .kind = RV_NUMBER, .numkind = RV_NUM_INT, .u.i = (n) }
#define SI4(n) SI(n), SI(n + 1), SI(n + 2), SI(n + 3)
static rv small_ints[33] = {SI4(-16), SI4(-12), SI4(-8), SI4(-4), SI4(0), SI4(4), SI4(8), SI4(12), SI(16)};

rv *rv_int(rv_arena *a, int64_t i) {
  if (i >= -16 && i <= 16) return &small_ints[i + 16];
  rv *v = newv(a, RV_NUMBER);
  v->numkind = RV_NUM_INT;
  v->u.i = i;
  return v;
}

rv *rv_float(rv_arena *a, double d) {
  rv *v = newv(a, RV_NUMBER);
  v->numkind = RV_NUM_FLOAT;
  v->u.d = d == 0 ? 0.0 : d;
  return v;
}

static rv *big_from_digits(rv_arena *a, bool neg, const char *digits, size_t n) {
  while (n > 1 && digits[0] == '0')
    digits++, n--;
  rv *v = newv(a, RV_NUMBER);
  v->numkind = RV_NUM_BIG;
  char *s = rv_alloc(a, n + 2);
  size_t o = 0;
  if (neg && !(n == 1 && digits[0] == '0')) s[o++] = '-';
  memcpy(s + o, digits, n);
  s[o + n] = 0;
  v->u.str.s = s;
  v->u.str.len = o + n;
  return v;
}

rv *rv_number_from_text(rv_arena *a, const char *s, size_t len) {
  if (len == 0 || len > 4096) return NULL;
  size_t i = 0;
  bool neg = false;
  if (s[i] == '-' || s[i] == '+') neg = s[i++] == '-';
  size_t ds = i;
  while (i < len && s[i] >= '0' && s[i] <= '9')
    i++;
  size_t de = i;
  if (de == ds && !(i < len && s[i] == '.')) return NULL;
  if (i == len) { /* integer */
    if (de - ds <= 18) {
      int64_t v = 0;
      for (size_t k = ds; k < de; k++)
        v = v * 10 + (s[k] - '0');
      return rv_int(a, neg ? -v : v);
    }
    errno = 0;
    char tmp[32];
    if (de - ds < 25) {
      memcpy(tmp, s, len);
      tmp[len] = 0;
      long long v = strtoll(tmp, NULL, 10);
      if (errno == 0) return rv_int(a, v);
    }
    return big_from_digits(a, neg, s + ds, de - ds);
  }
  /* fractional / exponent: double */
  char buf[4100];
  memcpy(buf, s, len);
  buf[len] = 0;
  char *end;
  errno = 0;
  double d = strtod(buf, &end);
  if (end != buf + len || !isfinite(d)) return NULL;
  /* An integral value written with exponent ("1e3") stays exact if it fits. */
  if (d == floor(d) && fabs(d) < 9007199254740992.0) {
    bool has_dot = memchr(s, '.', len) != NULL;
    if (!has_dot) return rv_int(a, (int64_t)d);
  }
  return rv_float(a, d);
}

rv *rv_string_nocopy(rv_arena *a, const char *s, size_t len) {
  if (len == 0) return &rv_empty_str_v;
  rv *v = newv(a, RV_STRING);
  v->u.str.s = s;
  v->u.str.len = len;
  return v;
}

rv *rv_string(rv_arena *a, const char *s, size_t len) {
  if (len == 0) return &rv_empty_str_v;
  return rv_string_nocopy(a, rv_strndup(a, s, len), len);
}

rv *rv_cstring(rv_arena *a, const char *s) { return rv_string(a, s, strlen(s)); }

rv *rv_array(rv_arena *a, rv *const *items, size_t n) {
  if (n == 0) return &rv_empty_arr_v;
  rv *v = newv(a, RV_ARRAY);
  v->u.arr.items = rv_alloc(a, n * sizeof(rv *));
  memcpy(v->u.arr.items, items, n * sizeof(rv *));
  v->u.arr.len = n;
  return v;
}

static int cmp_ptr(const void *x, const void *y) { return rv_compare(*(rv *const *)x, *(rv *const *)y); }

static bool sorted_unique(rv *const *items, size_t n) {
  for (size_t i = 1; i < n; i++)
    if (rv_compare(items[i - 1], items[i]) >= 0) return false;
  return true;
}

rv *rv_set(rv_arena *a, rv *const *items, size_t n) {
  if (n == 0) return &rv_empty_set_v;
  rv *v = newv(a, RV_SET);
  rv **it = rv_alloc(a, n * sizeof(rv *));
  memcpy(it, items, n * sizeof(rv *));
  if (!sorted_unique(it, n)) {
    qsort(it, n, sizeof(rv *), cmp_ptr);
    size_t o = 1;
    for (size_t i = 1; i < n; i++)
      if (rv_compare(it[o - 1], it[i]) != 0) it[o++] = it[i];
    n = o;
  }
  v->u.arr.items = it;
  v->u.arr.len = n;
  return v;
}

typedef struct {
  rv *k, *v;
  size_t idx;
} kvi;

static int cmp_kvi(const void *x, const void *y) {
  const kvi *a = x, *b = y;
  int c = rv_compare(a->k, b->k);
  if (c) return c;
  return a->idx < b->idx ? -1 : (a->idx > b->idx);
}

/* mode 0: conflict on differing duplicate values; 1: last wins */
static rv *object_build(rv_arena *a, rv *const *keys, rv *const *vals, size_t n, bool *conflict, int mode) {
  if (conflict) *conflict = false;
  if (n == 0) return &rv_empty_obj_v;
  rv *o = newv(a, RV_OBJECT);
  rv **ks = rv_alloc(a, n * sizeof(rv *));
  rv **vs = rv_alloc(a, n * sizeof(rv *));
  if (sorted_unique(keys, n)) {
    memcpy(ks, keys, n * sizeof(rv *));
    memcpy(vs, vals, n * sizeof(rv *));
  } else {
    kvi tmpbuf[16];
    kvi *t = n <= 16 ? tmpbuf : malloc(n * sizeof(kvi));
    if (!t) abort();
    for (size_t i = 0; i < n; i++)
      t[i] = (kvi){keys[i], vals[i], i};
    qsort(t, n, sizeof(kvi), cmp_kvi);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
      if (m && rv_compare(ks[m - 1], t[i].k) == 0) {
        if (mode == 1) {
          vs[m - 1] = t[i].v;
        } else if (!rv_equal(vs[m - 1], t[i].v)) {
          if (t != tmpbuf) free(t);
          if (conflict) *conflict = true;
          return NULL;
        }
        continue;
      }
      ks[m] = t[i].k;
      vs[m] = t[i].v;
      m++;
    }
    if (t != tmpbuf) free(t);
    n = m;
  }
  o->u.obj.keys = ks;
  o->u.obj.vals = vs;
  o->u.obj.len = n;
  return o;
}

rv *rv_object(rv_arena *a, rv *const *keys, rv *const *vals, size_t n, bool *conflict) {
  return object_build(a, keys, vals, n, conflict, 0);
}

void rv_vec_push(rv_arena *a, rv_vec *v, rv *x) {
  if (v->len == v->cap) {
    size_t nc = v->cap ? v->cap * 2 : 8;
    rv **ni = rv_alloc(a, nc * sizeof(rv *));
    if (v->len) memcpy(ni, v->items, v->len * sizeof(rv *));
    v->items = ni;
    v->cap = nc;
  }
  v->items[v->len++] = x;
}

/* ---- accessors --------------------------------------------------------------------------------------------
 */

const char *rv_type_name(const rv *v) {
  static const char *names[] = {"null", "boolean", "number", "string", "array", "object", "set"};
  return v ? names[v->kind] : "undefined";
}

bool rv_num_get_i64(const rv *v, int64_t *out) {
  if (!v || v->kind != RV_NUMBER) return false;
  if (v->numkind == RV_NUM_INT) {
    *out = v->u.i;
    return true;
  }
  if (v->numkind == RV_NUM_FLOAT) {
    double d = v->u.d;
    if (d == floor(d) && d >= -9223372036854775808.0 && d < 9223372036854775808.0) {
      *out = (int64_t)d;
      return true;
    }
  }
  return false;
}

double rv_num_to_double(const rv *v) {
  switch (v->numkind) {
  case RV_NUM_INT: return (double)v->u.i;
  case RV_NUM_FLOAT: return v->u.d;
  default: return strtod(v->u.str.s, NULL);
  }
}

bool rv_num_is_integer(const rv *v) {
  if (v->numkind != RV_NUM_FLOAT) return true;
  return v->u.d == floor(v->u.d);
}

static int cmp_str_bytes(const char *a, size_t al, const char *b, size_t bl) {
  if (al && bl && a[0] != b[0]) return (unsigned char)a[0] < (unsigned char)b[0] ? -1 : 1;
  int c = memcmp(a, b, al < bl ? al : bl);
  if (c) return c;
  return al < bl ? -1 : (al > bl);
}

ptrdiff_t rv_object_find(const rv *obj, const rv *key) {
  size_t lo = 0, hi = obj->u.obj.len;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    int c = rv_compare(obj->u.obj.keys[mid], key);
    if (c == 0) return (ptrdiff_t)mid;
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return -1;
}

rv *rv_object_get(const rv *obj, const rv *key) {
  if (key->kind == RV_STRING) return rv_object_get_str(obj, key->u.str.s, key->u.str.len);
  ptrdiff_t i = rv_object_find(obj, key);
  return i < 0 ? NULL : obj->u.obj.vals[i];
}

rv *rv_object_get_str(const rv *obj, const char *key, size_t len) {
  size_t n = obj->u.obj.len;
  rv *const *ks = obj->u.obj.keys;
  if (n <= 8) { /* small objects (most of an input): a scan with cheap rejects beats bisection */
    for (size_t i = 0; i < n; i++) {
      const rv *k = ks[i];
      if (k->kind == RV_STRING && k->u.str.len == len && (len == 0 || k->u.str.s[0] == key[0]) &&
          memcmp(k->u.str.s, key, len) == 0)
        return obj->u.obj.vals[i];
    }
    return NULL;
  }
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    const rv *k = ks[mid];
    int c = k->kind != RV_STRING ? (k->kind < RV_STRING ? -1 : 1)
                                 : cmp_str_bytes(k->u.str.s, k->u.str.len, key, len);
    if (c == 0) return obj->u.obj.vals[mid];
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return NULL;
}

bool rv_set_contains(const rv *set, const rv *x) {
  size_t lo = 0, hi = set->u.arr.len;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    int c = rv_compare(set->u.arr.items[mid], x);
    if (c == 0) return true;
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return false;
}

/* ---- order ------------------------------------------------------------------------------------------------
 */

static int sgn_big(const rv *v) { return v->u.str.s[0] == '-' ? -1 : 1; }

static int cmp_big(const rv *a, const rv *b) {
  int sa = sgn_big(a), sb = sgn_big(b);
  if (sa != sb) return sa < sb ? -1 : 1;
  int c;
  if (a->u.str.len != b->u.str.len)
    c = a->u.str.len < b->u.str.len ? -1 : 1;
  else
    c = strcmp(a->u.str.s, b->u.str.s);
  return sa < 0 ? -c : c;
}

static int cmp_num(const rv *a, const rv *b) {
  if (a->numkind == RV_NUM_INT && b->numkind == RV_NUM_INT) return a->u.i < b->u.i ? -1 : (a->u.i > b->u.i);
  if (a->numkind == RV_NUM_BIG || b->numkind == RV_NUM_BIG) {
    if (a->numkind == RV_NUM_BIG && b->numkind == RV_NUM_BIG) return cmp_big(a, b);
    if (a->numkind == RV_NUM_BIG && b->numkind == RV_NUM_INT) return sgn_big(a);
    if (b->numkind == RV_NUM_BIG && a->numkind == RV_NUM_INT) return -sgn_big(b);
  }
  int64_t ia, ib;
  if (a->numkind == RV_NUM_INT && rv_num_get_i64(b, &ib)) return a->u.i < ib ? -1 : (a->u.i > ib);
  if (b->numkind == RV_NUM_INT && rv_num_get_i64(a, &ia)) return ia < b->u.i ? -1 : (ia > b->u.i);
  double x = rv_num_to_double(a), y = rv_num_to_double(b);
  return x < y ? -1 : (x > y);
}

int rv_compare(const rv *a, const rv *b) {
  if (a == b) return 0;
  if (a->kind != b->kind) return a->kind < b->kind ? -1 : 1;
  switch (a->kind) {
  case RV_NULL: return 0;
  case RV_BOOL: return (int)a->u.b - (int)b->u.b;
  case RV_NUMBER: return cmp_num(a, b);
  case RV_STRING: return cmp_str_bytes(a->u.str.s, a->u.str.len, b->u.str.s, b->u.str.len);
  case RV_ARRAY:
  case RV_SET: {
    size_t n = a->u.arr.len < b->u.arr.len ? a->u.arr.len : b->u.arr.len;
    for (size_t i = 0; i < n; i++) {
      int c = rv_compare(a->u.arr.items[i], b->u.arr.items[i]);
      if (c) return c;
    }
    return a->u.arr.len < b->u.arr.len ? -1 : (a->u.arr.len > b->u.arr.len);
  }
  case RV_OBJECT: {
    size_t n = a->u.obj.len < b->u.obj.len ? a->u.obj.len : b->u.obj.len;
    for (size_t i = 0; i < n; i++) {
      int c = rv_compare(a->u.obj.keys[i], b->u.obj.keys[i]);
      if (c) return c;
      c = rv_compare(a->u.obj.vals[i], b->u.obj.vals[i]);
      if (c) return c;
    }
    return a->u.obj.len < b->u.obj.len ? -1 : (a->u.obj.len > b->u.obj.len);
  }
  }
  return 0;
}

bool rv_equal(const rv *a, const rv *b) {
  if (a == b) return true;
  if (a->kind != b->kind) return false;
  if (a->kind == RV_STRING)
    return a->u.str.len == b->u.str.len && memcmp(a->u.str.s, b->u.str.s, a->u.str.len) == 0;
  if ((a->kind == RV_ARRAY || a->kind == RV_SET) && a->u.arr.len != b->u.arr.len) return false;
  if (a->kind == RV_OBJECT && a->u.obj.len != b->u.obj.len) return false;
  return rv_compare(a, b) == 0;
}

static uint64_t mix(uint64_t h, uint64_t x) {
  h ^= x + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
  return h;
}

static uint64_t hash_bytes(const char *s, size_t n) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; i++)
    h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
  return h;
}

static uint64_t hash64(const rv *v) {
  switch (v->kind) {
  case RV_NULL: return 0x1234;
  case RV_BOOL: return v->u.b ? 0x77 : 0x78;
  case RV_NUMBER: {
    int64_t i;
    if (rv_num_get_i64(v, &i)) return mix(3, (uint64_t)i);
    if (v->numkind == RV_NUM_BIG) return hash_bytes(v->u.str.s, v->u.str.len);
    double d = v->u.d;
    uint64_t bits;
    memcpy(&bits, &d, sizeof bits);
    return mix(4, bits);
  }
  case RV_STRING: return hash_bytes(v->u.str.s, v->u.str.len);
  case RV_ARRAY:
  case RV_SET: {
    uint64_t h = v->kind;
    for (size_t i = 0; i < v->u.arr.len; i++)
      h = mix(h, rv_hash(v->u.arr.items[i]));
    return h;
  }
  case RV_OBJECT: {
    uint64_t h = 5;
    for (size_t i = 0; i < v->u.obj.len; i++)
      h = mix(mix(h, rv_hash(v->u.obj.keys[i])), rv_hash(v->u.obj.vals[i]));
    return h;
  }
  }
  return 0;
}

uint32_t rv_hash(const rv *v) {
  uint64_t h = hash64(v);
  uint32_t r = (uint32_t)(h ^ (h >> 32));
  return r ? r : 1;
}

/* ---- JSON parsing -----------------------------------------------------------------------------------------
 */

typedef struct {
  rv_arena *a;
  const char *s, *end, *p;
  int depth, max_depth;
  char err[160];
} jp;

static void jp_pos(const jp *j, int *line, int *col) {
  *line = 1;
  *col = 1;
  for (const char *q = j->s; q < j->p; q++) {
    if (*q == '\n')
      (*line)++, *col = 1;
    else
      (*col)++;
  }
}

static rv *jp_fail(jp *j, const char *msg) {
  if (!j->err[0]) snprintf(j->err, sizeof j->err, "%s", msg);
  return NULL;
}

static void jp_ws(jp *j) {
  while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
    j->p++;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static size_t utf8_put(char *o, uint32_t cp) {
  if (cp < 0x80) {
    o[0] = (char)cp;
    return 1;
  }
  if (cp < 0x800) {
    o[0] = (char)(0xC0 | (cp >> 6));
    o[1] = (char)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    o[0] = (char)(0xE0 | (cp >> 12));
    o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[2] = (char)(0x80 | (cp & 0x3F));
    return 3;
  }
  o[0] = (char)(0xF0 | (cp >> 18));
  o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
  o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
  o[3] = (char)(0x80 | (cp & 0x3F));
  return 4;
}

/* Shared with the Rego lexer through rv_unescape below. */
static bool parse_u4(const char *p, const char *end, uint32_t *out) {
  if (end - p < 4) return false;
  uint32_t v = 0;
  for (int i = 0; i < 4; i++) {
    int h = hexval(p[i]);
    if (h < 0) return false;
    v = v * 16 + (uint32_t)h;
  }
  *out = v;
  return true;
}

/* Decodes a JSON string body [p, end) (no quotes) into arena memory.
 * Returns NULL with *err set on a bad escape. */
char *rv_unescape(rv_arena *a, const char *p, const char *end, size_t *len_out, const char **err);
char *rv_unescape(rv_arena *a, const char *p, const char *end, size_t *len_out, const char **err) {
  char *o = rv_alloc(a, (size_t)(end - p) + 1), *w = o;
  while (p < end) {
    char c = *p++;
    if (c != '\\') {
      *w++ = c;
      continue;
    }
    if (p >= end) {
      *err = "bad escape";
      return NULL;
    }
    c = *p++;
    switch (c) {
    case '"': *w++ = '"'; break;
    case '\\': *w++ = '\\'; break;
    case '/': *w++ = '/'; break;
    case 'b': *w++ = '\b'; break;
    case 'f': *w++ = '\f'; break;
    case 'n': *w++ = '\n'; break;
    case 'r': *w++ = '\r'; break;
    case 't': *w++ = '\t'; break;
    case 'u': {
      uint32_t cp;
      if (!parse_u4(p, end, &cp)) {
        *err = "bad \\u escape";
        return NULL;
      }
      p += 4;
      if (cp >= 0xD800 && cp < 0xDC00) {
        uint32_t lo;
        if (end - p >= 6 && p[0] == '\\' && p[1] == 'u' && parse_u4(p + 2, end, &lo) && lo >= 0xDC00 &&
            lo < 0xE000) {
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          p += 6;
        } else {
          cp = 0xFFFD;
        }
      } else if (cp >= 0xDC00 && cp < 0xE000) {
        cp = 0xFFFD;
      }
      w += utf8_put(w, cp);
      break;
    }
    default: *err = "invalid escape"; return NULL;
    }
  }
  *w = 0;
  *len_out = (size_t)(w - o);
  return o;
}

static rv *jp_value(jp *j);

static rv *jp_string(jp *j) {
  const char *st = ++j->p;
  bool esc = false;
  while (j->p < j->end && *j->p != '"') {
    unsigned char c = (unsigned char)*j->p;
    if (c < 0x20) return jp_fail(j, "control character in string");
    if (c == '\\') {
      esc = true;
      j->p++;
      if (j->p >= j->end) break;
    }
    j->p++;
  }
  if (j->p >= j->end) return jp_fail(j, "unterminated string");
  const char *en = j->p++;
  if (!esc) return rv_string(j->a, st, (size_t)(en - st));
  size_t n;
  const char *err = NULL;
  char *d = rv_unescape(j->a, st, en, &n, &err);
  if (!d) return jp_fail(j, err);
  return rv_string_nocopy(j->a, d, n);
}

static rv *jp_number(jp *j) {
  const char *st = j->p;
  if (*j->p == '-') j->p++;
  if (j->p >= j->end || !(*j->p >= '0' && *j->p <= '9')) return jp_fail(j, "invalid number");
  if (*j->p == '0' && j->p + 1 < j->end && j->p[1] >= '0' && j->p[1] <= '9')
    return jp_fail(j, "leading zero in number");
  while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
    j->p++;
  if (j->p < j->end && *j->p == '.') {
    j->p++;
    if (j->p >= j->end || !(*j->p >= '0' && *j->p <= '9')) return jp_fail(j, "invalid number");
    while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
      j->p++;
  }
  if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
    j->p++;
    if (j->p < j->end && (*j->p == '+' || *j->p == '-')) j->p++;
    if (j->p >= j->end || !(*j->p >= '0' && *j->p <= '9')) return jp_fail(j, "invalid number");
    while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
      j->p++;
  }
  rv *v = rv_number_from_text(j->a, st, (size_t)(j->p - st));
  if (!v) return jp_fail(j, "number out of range");
  return v;
}

static bool jp_lit(jp *j, const char *w) {
  size_t n = strlen(w);
  if ((size_t)(j->end - j->p) >= n && memcmp(j->p, w, n) == 0) {
    j->p += n;
    return true;
  }
  return false;
}

static rv *jp_value(jp *j) {
  jp_ws(j);
  if (j->p >= j->end) return jp_fail(j, "unexpected end of input");
  char c = *j->p;
  if (c == '"') return jp_string(j);
  if (c == '-' || (c >= '0' && c <= '9')) return jp_number(j);
  if (jp_lit(j, "null")) return RV_NULLV;
  if (jp_lit(j, "true")) return RV_TRUE;
  if (jp_lit(j, "false")) return RV_FALSE;
  if (c != '[' && c != '{') return jp_fail(j, "unexpected character");
  if (++j->depth > j->max_depth) return jp_fail(j, "nesting too deep");
  j->p++;
  rv_vec ks = {0}, vs = {0};
  char close = c == '[' ? ']' : '}';
  jp_ws(j);
  if (j->p < j->end && *j->p == close) {
    j->p++;
  } else {
    for (;;) {
      if (c == '{') {
        jp_ws(j);
        if (j->p >= j->end || *j->p != '"') return jp_fail(j, "expected string key");
        rv *k = jp_string(j);
        if (!k) return NULL;
        jp_ws(j);
        if (j->p >= j->end || *j->p != ':') return jp_fail(j, "expected ':'");
        j->p++;
        rv_vec_push(j->a, &ks, k);
      }
      rv *v = jp_value(j);
      if (!v) return NULL;
      rv_vec_push(j->a, &vs, v);
      jp_ws(j);
      if (j->p < j->end && *j->p == ',') {
        j->p++;
        continue;
      }
      if (j->p < j->end && *j->p == close) {
        j->p++;
        break;
      }
      return jp_fail(j, c == '[' ? "expected ',' or ']'" : "expected ',' or '}'");
    }
  }
  j->depth--;
  if (c == '[') return rv_array(j->a, vs.items, vs.len);
  return object_build(j->a, ks.items, vs.items, ks.len, NULL, 1);
}

tr_err *rv_parse_json(rv_arena *a, const char *text, size_t len, int max_depth, rv **out) {
  jp j = {.a = a, .s = text, .end = text + len, .p = text, .max_depth = max_depth > 0 ? max_depth : 1000};
  rv *v = jp_value(&j);
  if (v) {
    jp_ws(&j);
    if (j.p != j.end) v = jp_fail(&j, "trailing data after JSON value");
  }
  if (!v) {
    int line, col;
    jp_pos(&j, &line, &col);
    return tr_err_new(TR_E_INVALID, "json: %d:%d: %s", line, col, j.err);
  }
  *out = v;
  return NULL;
}

/* ---- jansson ----------------------------------------------------------------------------------------------
 */

/* Recursion is bounded by max_depth (the C stack of a worker thread must
 * survive any json_t a caller hands in, also one built in memory beyond
 * jansson's own parser limit). NULL when deeper. */
static rv *from_json_rec(rv_arena *a, const json_t *j, int depth) {
  switch (json_typeof(j)) {
  case JSON_NULL: return RV_NULLV;
  case JSON_TRUE: return RV_TRUE;
  case JSON_FALSE: return RV_FALSE;
  case JSON_INTEGER: return rv_int(a, json_integer_value(j));
  case JSON_REAL: return rv_float(a, json_real_value(j));
  case JSON_STRING: return rv_string(a, json_string_value(j), json_string_length(j));
  case JSON_ARRAY: {
    if (depth <= 0) return NULL;
    size_t n = json_array_size(j);
    rv **it = n ? rv_alloc(a, n * sizeof(rv *)) : NULL;
    for (size_t i = 0; i < n; i++)
      if (!(it[i] = from_json_rec(a, json_array_get(j, i), depth - 1))) return NULL;
    return rv_array(a, it, n);
  }
  case JSON_OBJECT: {
    if (depth <= 0) return NULL;
    size_t n = json_object_size(j), i = 0, klen;
    rv **ks = n ? rv_alloc(a, n * sizeof(rv *)) : NULL;
    rv **vs = n ? rv_alloc(a, n * sizeof(rv *)) : NULL;
    const char *k;
    json_t *v;
    json_object_keylen_foreach((json_t *)j, k, klen, v) {
      ks[i] = rv_string(a, k, klen);
      if (!(vs[i] = from_json_rec(a, v, depth - 1))) return NULL;
      i++;
    }
    return object_build(a, ks, vs, n, NULL, 1);
  }
  }
  return RV_NULLV;
}

rv *rv_from_json(rv_arena *a, const json_t *j) { return from_json_rec(a, j, RV_JSON_MAX_DEPTH); }

tr_err *rv_from_json_checked(rv_arena *a, const json_t *j, const char *what, rv **out) {
  *out = from_json_rec(a, j, RV_JSON_MAX_DEPTH);
  if (!*out)
    return tr_err_new(TR_E_INVALID, "%s: JSON nested too deep (more than %d levels)", what,
                      RV_JSON_MAX_DEPTH);
  return NULL;
}

json_t *rv_to_json(const rv *v) {
  switch (v->kind) {
  case RV_NULL: return json_null();
  case RV_BOOL: return json_boolean(v->u.b);
  case RV_NUMBER: {
    int64_t i;
    if (v->numkind == RV_NUM_INT) return json_integer(v->u.i);
    if (rv_num_get_i64(v, &i) && fabs(v->u.d) < 1e18) return json_integer(i);
    return json_real(rv_num_to_double(v));
  }
  case RV_STRING: return json_stringn(v->u.str.s, v->u.str.len);
  case RV_ARRAY:
  case RV_SET: {
    json_t *a = json_array();
    for (size_t i = 0; i < v->u.arr.len; i++)
      json_array_append_new(a, rv_to_json(v->u.arr.items[i]));
    return a;
  }
  case RV_OBJECT: {
    json_t *o = json_object();
    for (size_t i = 0; i < v->u.obj.len; i++) {
      const rv *k = v->u.obj.keys[i];
      if (k->kind == RV_STRING) {
        json_object_setn_new(o, k->u.str.s, k->u.str.len, rv_to_json(v->u.obj.vals[i]));
      } else {
        rv_buf b = {0};
        rv_write_json(&b, k);
        json_object_setn_new(o, b.s, b.len, rv_to_json(v->u.obj.vals[i]));
        free(b.s);
      }
    }
    return o;
  }
  }
  return json_null();
}

/* ---- text output ------------------------------------------------------------------------------------------
 */

void rv_buf_put(rv_buf *b, const char *s, size_t n) {
  if (b->len + n + 1 > b->cap) {
    size_t nc = b->cap ? b->cap * 2 : 64;
    while (nc < b->len + n + 1)
      nc *= 2;
    char *ns;
    if (b->a) {
      ns = rv_alloc(b->a, nc);
      if (b->len) memcpy(ns, b->s, b->len);
    } else {
      ns = realloc(b->s, nc);
      if (!ns) abort();
    }
    b->s = ns;
    b->cap = nc;
  }
  if (n) memcpy(b->s + b->len, s, n);
  b->len += n;
  b->s[b->len] = 0;
}

void rv_buf_puts(rv_buf *b, const char *s) { rv_buf_put(b, s, strlen(s)); }
void rv_buf_putc(rv_buf *b, char c) { rv_buf_put(b, &c, 1); }

void rv_write_number(rv_buf *b, const rv *v) {
  char tmp[40];
  if (v->numkind == RV_NUM_INT) {
    int n = snprintf(tmp, sizeof tmp, "%lld", (long long)v->u.i);
    rv_buf_put(b, tmp, (size_t)n);
    return;
  }
  if (v->numkind == RV_NUM_BIG) {
    rv_buf_put(b, v->u.str.s, v->u.str.len);
    return;
  }
  double d = v->u.d;
  if (d == floor(d) && fabs(d) < 1e21) {
    int n = snprintf(tmp, sizeof tmp, "%.0f", d);
    rv_buf_put(b, tmp, (size_t)n);
    return;
  }
  for (int prec = 1; prec <= 17; prec++) {
    snprintf(tmp, sizeof tmp, "%.*g", prec, d);
    if (strtod(tmp, NULL) == d) break;
  }
  rv_buf_puts(b, tmp);
}

static void write_json_string(rv_buf *b, const char *s, size_t n) {
  static const char hex[] = "0123456789abcdef";
  rv_buf_putc(b, '"');
  size_t run = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    const char *esc = NULL;
    char ub[7];
    if (c == '"')
      esc = "\\\"";
    else if (c == '\\')
      esc = "\\\\";
    else if (c == '\n')
      esc = "\\n";
    else if (c == '\r')
      esc = "\\r";
    else if (c == '\t')
      esc = "\\t";
    else if (c < 0x20 || c == '<' || c == '>' || c == '&') {
      ub[0] = '\\', ub[1] = 'u', ub[2] = '0', ub[3] = '0', ub[4] = hex[c >> 4], ub[5] = hex[c & 15],
      ub[6] = 0;
      esc = ub;
    }
    if (esc) {
      rv_buf_put(b, s + i - run, run);
      run = 0;
      rv_buf_puts(b, esc);
    } else {
      run++;
    }
  }
  rv_buf_put(b, s + n - run, run);
  rv_buf_putc(b, '"');
}

void rv_write_json(rv_buf *b, const rv *v) {
  switch (v->kind) {
  case RV_NULL: rv_buf_puts(b, "null"); return;
  case RV_BOOL: rv_buf_puts(b, v->u.b ? "true" : "false"); return;
  case RV_NUMBER: rv_write_number(b, v); return;
  case RV_STRING: write_json_string(b, v->u.str.s, v->u.str.len); return;
  case RV_ARRAY:
  case RV_SET:
    rv_buf_putc(b, '[');
    for (size_t i = 0; i < v->u.arr.len; i++) {
      if (i) rv_buf_putc(b, ',');
      rv_write_json(b, v->u.arr.items[i]);
    }
    rv_buf_putc(b, ']');
    return;
  case RV_OBJECT:
    rv_buf_putc(b, '{');
    for (size_t i = 0; i < v->u.obj.len; i++) {
      if (i) rv_buf_putc(b, ',');
      const rv *k = v->u.obj.keys[i];
      if (k->kind == RV_STRING) {
        rv_write_json(b, k);
      } else {
        rv_buf kb = {0};
        rv_write_json(&kb, k);
        write_json_string(b, kb.s, kb.len);
        free(kb.s);
      }
      rv_buf_putc(b, ':');
      rv_write_json(b, v->u.obj.vals[i]);
    }
    rv_buf_putc(b, '}');
    return;
  }
}

static void put_indent(rv_buf *b, int n) {
  rv_buf_putc(b, '\n');
  for (int i = 0; i < n; i++)
    rv_buf_putc(b, ' ');
}

void rv_write_json_pretty(rv_buf *b, const rv *v, int indent, int level) {
  bool obj = v->kind == RV_OBJECT;
  size_t n = obj ? v->u.obj.len : (v->kind == RV_ARRAY || v->kind == RV_SET) ? v->u.arr.len : 0;
  if ((!obj && v->kind != RV_ARRAY && v->kind != RV_SET) || n == 0) {
    rv_write_json(b, v);
    return;
  }
  rv_buf_putc(b, obj ? '{' : '[');
  for (size_t i = 0; i < n; i++) {
    if (i) rv_buf_putc(b, ',');
    put_indent(b, (level + 1) * indent);
    if (obj) {
      const rv *k = v->u.obj.keys[i];
      if (k->kind == RV_STRING) {
        rv_write_json(b, k);
      } else {
        rv_buf kb = {0};
        rv_write_json(&kb, k);
        write_json_string(b, kb.s, kb.len);
        free(kb.s);
      }
      rv_buf_puts(b, ": ");
      rv_write_json_pretty(b, v->u.obj.vals[i], indent, level + 1);
    } else {
      rv_write_json_pretty(b, v->u.arr.items[i], indent, level + 1);
    }
  }
  put_indent(b, level * indent);
  rv_buf_putc(b, obj ? '}' : ']');
}

void rv_write_rego(rv_buf *b, const rv *v, bool bare_strings) {
  switch (v->kind) {
  case RV_STRING:
    if (bare_strings)
      rv_buf_put(b, v->u.str.s, v->u.str.len);
    else
      write_json_string(b, v->u.str.s, v->u.str.len);
    return;
  case RV_ARRAY:
    rv_buf_putc(b, '[');
    for (size_t i = 0; i < v->u.arr.len; i++) {
      if (i) rv_buf_puts(b, ", ");
      rv_write_rego(b, v->u.arr.items[i], false);
    }
    rv_buf_putc(b, ']');
    return;
  case RV_SET:
    if (v->u.arr.len == 0) {
      rv_buf_puts(b, "set()");
      return;
    }
    rv_buf_putc(b, '{');
    for (size_t i = 0; i < v->u.arr.len; i++) {
      if (i) rv_buf_puts(b, ", ");
      rv_write_rego(b, v->u.arr.items[i], false);
    }
    rv_buf_putc(b, '}');
    return;
  case RV_OBJECT:
    rv_buf_putc(b, '{');
    for (size_t i = 0; i < v->u.obj.len; i++) {
      if (i) rv_buf_puts(b, ", ");
      rv_write_rego(b, v->u.obj.keys[i], false);
      rv_buf_puts(b, ": ");
      rv_write_rego(b, v->u.obj.vals[i], false);
    }
    rv_buf_putc(b, '}');
    return;
  default: rv_write_json(b, v); return;
  }
}
