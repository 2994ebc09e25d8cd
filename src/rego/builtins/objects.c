/* objects.c — object.get/keys/remove/union/union_n/filter/subset and
 * json.filter/json.remove (OPA semantics: union merges nested objects with
 * the right side winning, json.* paths are "a/b/c" strings with JSON-pointer
 * escapes or arrays of segments, array elements are addressed by their
 * index as a string). */
#include "rego/builtins/common_internal.h"

/* ---- object.get ----------------------------------------------------------------- */

/* Go's ast Value.Find along a path: objects by key, arrays by integer
 * index, sets by element. NULL when the path does not exist. */
static rv *find_path(rv *v, rv *const *path, size_t n) {
  for (size_t i = 0; i < n; i++) {
    const rv *seg = path[i];
    switch (v->kind) {
    case RV_OBJECT: v = rv_object_get(v, seg); break;
    case RV_ARRAY: {
      int64_t idx;
      if (!rv_is(seg, RV_NUMBER) || !rv_num_get_i64(seg, &idx) || idx < 0 || (uint64_t)idx >= v->u.arr.len)
        return NULL;
      v = v->u.arr.items[idx];
      break;
    }
    case RV_SET: {
      ptrdiff_t k = -1;
      for (size_t j = 0; j < v->u.arr.len && k < 0; j++)
        if (rv_equal(v->u.arr.items[j], seg)) k = (ptrdiff_t)j;
      if (k < 0) return NULL;
      v = v->u.arr.items[k];
      break;
    }
    default: return NULL;
    }
    if (!v) return NULL;
  }
  return v;
}

static rego_bi_status bi_get(rego_bctx *ctx, rv *const *args, rv **out) {
  RB_EXPECT(ctx, args, 0, RV_OBJECT, "object");
  if (!rv_is(args[1], RV_ARRAY)) {
    rv *v = rv_object_get(args[0], args[1]);
    *out = v ? v : args[2];
    return REGO_BI_OK;
  }
  if (args[1]->u.arr.len == 0) return (*out = args[0]), REGO_BI_OK;
  rv *v = find_path(args[0], args[1]->u.arr.items, args[1]->u.arr.len);
  *out = v ? v : args[2];
  return REGO_BI_OK;
}

static rego_bi_status bi_keys(rego_bctx *ctx, rv *const *args, rv **out) {
  RB_EXPECT(ctx, args, 0, RV_OBJECT, "object");
  *out = rv_set(ctx->arena, args[0]->u.obj.keys, args[0]->u.obj.len);
  return REGO_BI_OK;
}

/* ---- filter trees ------------------------------------------------------------------ */

/* A mutable tree of paths (pathsToObject): a leaf keeps a whole value. */
typedef struct fnode {
  rv *key;
  struct fnode **kids;
  size_t nkids, cap;
  bool leaf;
} fnode;

static fnode *fnode_new(rv_arena *a, rv *key) {
  fnode *n = rv_zalloc(a, sizeof *n);
  n->key = key;
  return n;
}

static fnode *fnode_child(const fnode *n, const rv *key) {
  for (size_t i = 0; i < n->nkids; i++)
    if (rv_equal(n->kids[i]->key, key)) return n->kids[i];
  return NULL;
}

static fnode *fnode_add(rv_arena *a, fnode *n, rv *key) {
  fnode *c = fnode_child(n, key);
  if (c) return c;
  if (n->nkids == n->cap) {
    size_t nc = n->cap ? n->cap * 2 : 4;
    fnode **k = rv_alloc(a, nc * sizeof *k);
    if (n->nkids) memcpy(k, n->kids, n->nkids * sizeof *k);
    n->kids = k;
    n->cap = nc;
  }
  c = fnode_new(a, key);
  n->kids[n->nkids++] = c;
  return c;
}

/* Adds one path; an existing leaf on the way makes it redundant, and a
 * path ending at an inner node turns that node into a leaf. */
static void fnode_insert(rv_arena *a, fnode *root, rv *const *path, size_t n) {
  if (n == 0) return;
  fnode *node = root;
  for (size_t i = 0; i + 1 < n; i++) {
    fnode *c = fnode_child(node, path[i]);
    if (c && c->leaf) return;
    node = c ? c : fnode_add(a, node, path[i]);
  }
  fnode *last = fnode_add(a, node, path[n - 1]);
  last->leaf = true;
  last->nkids = 0;
}

static rv *index_key(rv_arena *a, size_t i) {
  char buf[32];
  int n = snprintf(buf, sizeof buf, "%zu", i);
  return rv_string(a, buf, (size_t)n);
}

static rv *filter_value(rv_arena *a, rv *v, const fnode *f) {
  if (f->leaf) return v;
  rv_vec items = {0}, keys = {0};
  switch (v->kind) {
  case RV_ARRAY:
    for (size_t i = 0; i < v->u.arr.len; i++) {
      const fnode *c = fnode_child(f, index_key(a, i));
      if (c) rv_vec_push(a, &items, filter_value(a, v->u.arr.items[i], c));
    }
    return rv_array(a, items.items, items.len);
  case RV_SET:
    for (size_t i = 0; i < v->u.arr.len; i++) {
      const fnode *c = fnode_child(f, v->u.arr.items[i]);
      if (c) rv_vec_push(a, &items, filter_value(a, v->u.arr.items[i], c));
    }
    return rv_set(a, items.items, items.len);
  case RV_OBJECT:
    for (size_t i = 0; i < v->u.obj.len; i++) {
      const fnode *c = fnode_child(f, v->u.obj.keys[i]);
      if (c) {
        rv_vec_push(a, &keys, v->u.obj.keys[i]);
        rv_vec_push(a, &items, filter_value(a, v->u.obj.vals[i], c));
      }
    }
    return rv_object(a, keys.items, items.items, keys.len, NULL);
  default: return v;
  }
}

/* jsonRemove: NULL means "drop this value". */
static rv *remove_value(rv_arena *a, rv *v, const fnode *f) {
  if (!f) return v;
  if (f->leaf) return NULL;
  rv_vec items = {0}, keys = {0};
  switch (v->kind) {
  case RV_OBJECT:
    for (size_t i = 0; i < v->u.obj.len; i++) {
      rv *d = remove_value(a, v->u.obj.vals[i], fnode_child(f, v->u.obj.keys[i]));
      if (d) {
        rv_vec_push(a, &keys, v->u.obj.keys[i]);
        rv_vec_push(a, &items, d);
      }
    }
    return rv_object(a, keys.items, items.items, keys.len, NULL);
  case RV_SET:
    for (size_t i = 0; i < v->u.arr.len; i++) {
      rv *d = remove_value(a, v->u.arr.items[i], fnode_child(f, v->u.arr.items[i]));
      if (d) rv_vec_push(a, &items, d);
    }
    return rv_set(a, items.items, items.len);
  case RV_ARRAY:
    for (size_t i = 0; i < v->u.arr.len; i++) {
      rv *d = remove_value(a, v->u.arr.items[i], fnode_child(f, index_key(a, i)));
      if (d) rv_vec_push(a, &items, d);
    }
    return rv_array(a, items.items, items.len);
  default: return v;
  }
}

/* getObjectKeysParam: object keys, set or array elements. */
static rego_bi_status keys_param(rego_bctx *ctx, const rv *p, rv *const **items, size_t *n) {
  if (rv_is(p, RV_OBJECT))
    *items = p->u.obj.keys, *n = p->u.obj.len;
  else if (rv_is(p, RV_SET) || rv_is(p, RV_ARRAY))
    *items = p->u.arr.items, *n = p->u.arr.len;
  else
    return rego_bi_operand_error(ctx, 2, "one of {object, set, array}", p);
  return REGO_BI_OK;
}

static rego_bi_status bi_remove(rego_bctx *ctx, rv *const *args, rv **out) {
  RB_EXPECT(ctx, args, 0, RV_OBJECT, "object");
  rv *const *ks = NULL;
  size_t nk = 0;
  rego_bi_status st = keys_param(ctx, args[1], &ks, &nk);
  if (st) return st;
  const rv *o = args[0];
  rv_vec keys = {0}, vals = {0};
  for (size_t i = 0; i < o->u.obj.len; i++) {
    bool drop = false;
    for (size_t j = 0; j < nk && !drop; j++)
      drop = rv_equal(o->u.obj.keys[i], ks[j]);
    if (!drop) {
      rv_vec_push(ctx->arena, &keys, o->u.obj.keys[i]);
      rv_vec_push(ctx->arena, &vals, o->u.obj.vals[i]);
    }
  }
  *out = keys.len == o->u.obj.len ? args[0] : rv_object(ctx->arena, keys.items, vals.items, keys.len, NULL);
  return REGO_BI_OK;
}

static rego_bi_status bi_filter(rego_bctx *ctx, rv *const *args, rv **out) {
  RB_EXPECT(ctx, args, 0, RV_OBJECT, "object");
  rv *const *ks = NULL;
  size_t nk = 0;
  rego_bi_status st = keys_param(ctx, args[1], &ks, &nk);
  if (st) return st;
  fnode *root = fnode_new(ctx->arena, NULL);
  for (size_t i = 0; i < nk; i++)
    fnode_insert(ctx->arena, root, &ks[i], 1);
  *out = filter_value(ctx->arena, args[0], root);
  return REGO_BI_OK;
}

/* ---- union ---------------------------------------------------------------------------- */

static rv *merge(rv_arena *a, rv *x, rv *y) {
  if (rv_equal(x, y)) return x;
  size_t n = x->u.obj.len + y->u.obj.len;
  rv **keys = rv_alloc(a, (n ? n : 1) * sizeof(rv *)), **vals = rv_alloc(a, (n ? n : 1) * sizeof(rv *));
  size_t i = 0, j = 0, k = 0;
  while (i < x->u.obj.len || j < y->u.obj.len) {
    int c = i >= x->u.obj.len ? 1 : j >= y->u.obj.len ? -1 : rv_compare(x->u.obj.keys[i], y->u.obj.keys[j]);
    if (c < 0) {
      keys[k] = x->u.obj.keys[i], vals[k++] = x->u.obj.vals[i++];
    } else if (c > 0) {
      keys[k] = y->u.obj.keys[j], vals[k++] = y->u.obj.vals[j++];
    } else {
      rv *xv = x->u.obj.vals[i], *yv = y->u.obj.vals[j];
      keys[k] = y->u.obj.keys[j];
      vals[k++] = rv_is(xv, RV_OBJECT) && rv_is(yv, RV_OBJECT) ? merge(a, xv, yv) : yv;
      i++, j++;
    }
  }
  return rv_object(a, keys, vals, k, NULL);
}

static rego_bi_status bi_union(rego_bctx *ctx, rv *const *args, rv **out) {
  RB_EXPECT(ctx, args, 0, RV_OBJECT, "object");
  RB_EXPECT(ctx, args, 1, RV_OBJECT, "object");
  *out = merge(ctx->arena, args[0], args[1]);
  return REGO_BI_OK;
}

static rego_bi_status bi_union_n(rego_bctx *ctx, rv *const *args, rv **out) {
  RB_EXPECT(ctx, args, 0, RV_ARRAY, "array");
  const rv *arr = args[0];
  for (size_t i = 0; i < arr->u.arr.len; i++)
    if (!rv_is(arr->u.arr.items[i], RV_OBJECT))
      return rego_bi_type_error(ctx, "operand 1 must be array of objects but got array containing %s",
                                rv_type_name(arr->u.arr.items[i]));
  rv *acc = &rv_empty_obj_v;
  for (size_t i = 0; i < arr->u.arr.len; i++)
    acc = merge(ctx->arena, acc, arr->u.arr.items[i]);
  *out = acc;
  return REGO_BI_OK;
}

/* ---- subset ----------------------------------------------------------------------------- */

static bool array_subset(const rv *super, const rv *sub) {
  size_t n = super->u.arr.len, m = sub->u.arr.len;
  if (m == 0) return true;
  if (m > n) return false;
  for (size_t i = 0; i + m <= n; i++) {
    bool all = true;
    for (size_t j = 0; j < m && all; j++)
      all = rv_equal(super->u.arr.items[i + j], sub->u.arr.items[j]);
    if (all) return true;
  }
  return false;
}

static bool set_subset(const rv *super, const rv *sub) {
  for (size_t i = 0; i < sub->u.arr.len; i++)
    if (!rv_set_contains(super, sub->u.arr.items[i])) return false;
  return true;
}

static bool array_set_subset(const rv *super, const rv *sub) {
  for (size_t i = 0; i < sub->u.arr.len; i++) {
    bool found = false;
    for (size_t j = 0; j < super->u.arr.len && !found; j++)
      found = rv_equal(super->u.arr.items[j], sub->u.arr.items[i]);
    if (!found) return false;
  }
  return true;
}

static bool object_subset(const rv *super, const rv *sub) {
  for (size_t i = 0; i < sub->u.obj.len; i++) {
    const rv *sv = rv_object_get(super, sub->u.obj.keys[i]);
    const rv *bv = sub->u.obj.vals[i];
    if (!sv) return false;
    bool ok;
    if (rv_is(bv, RV_OBJECT) && rv_is(sv, RV_OBJECT))
      ok = object_subset(sv, bv);
    else if (rv_is(bv, RV_SET) && rv_is(sv, RV_SET))
      ok = set_subset(sv, bv);
    else if (rv_is(bv, RV_ARRAY) && rv_is(sv, RV_ARRAY))
      ok = array_subset(sv, bv);
    else if (rv_is(sv, RV_ARRAY) && rv_is(bv, RV_SET))
      ok = array_set_subset(sv, bv);
    else
      ok = rv_equal(sv, bv);
    if (!ok) return false;
  }
  return true;
}

static rego_bi_status bi_subset(rego_bctx *ctx, rv *const *args, rv **out) {
  const rv *super = args[0], *sub = args[1];
  if (rv_is(super, RV_OBJECT) && rv_is(sub, RV_OBJECT))
    *out = rv_bool(object_subset(super, sub));
  else if (rv_is(super, RV_SET) && rv_is(sub, RV_SET))
    *out = rv_bool(set_subset(super, sub));
  else if (rv_is(super, RV_ARRAY) && rv_is(sub, RV_ARRAY))
    *out = rv_bool(array_subset(super, sub));
  else if (rv_is(super, RV_ARRAY) && rv_is(sub, RV_SET))
    *out = rv_bool(array_set_subset(super, sub));
  else
    return rego_bi_type_error(ctx, "both arguments object.subset must be of the same type or array and set");
  return REGO_BI_OK;
}

/* ---- json.filter / json.remove ------------------------------------------------------------ */

/* Splits a JSON-pointer-like string path ("a/b", "/a/b"; leading slashes
 * ignored; ~1 is '/', then ~0 is '~') into string segments appended to segs. */
static void pointer_segments(rv_arena *a, const char *s, const char *e, rv_vec *segs) {
  while (s < e && *s == '/')
    s++;
  for (;;) {
    const char *slash = memchr(s, '/', (size_t)(e - s));
    const char *end = slash ? slash : e;
    char *buf = rv_alloc(a, (size_t)(end - s) + 1);
    size_t bl = 0;
    for (const char *q = s; q < end; q++) {
      if (q[0] == '~' && q + 1 < end && q[1] == '1')
        buf[bl++] = '/', q++;
      else
        buf[bl++] = *q;
    }
    size_t out = 0;
    for (size_t q = 0; q < bl; q++) {
      if (buf[q] == '~' && q + 1 < bl && buf[q + 1] == '0')
        buf[out++] = '~', q++;
      else
        buf[out++] = buf[q];
    }
    buf[out] = '\0';
    rv_vec_push(a, segs, rv_string_nocopy(a, buf, out));
    if (!slash) return;
    s = slash + 1;
  }
}

static rego_bi_status json_paths(rego_bctx *ctx, const rv *p, fnode **root_out) {
  if (!rv_is(p, RV_ARRAY) && !rv_is(p, RV_SET))
    return rego_bi_operand_error(ctx, 2, "one of {set, array}", p);
  fnode *root = fnode_new(ctx->arena, NULL);
  for (size_t i = 0; i < p->u.arr.len; i++) {
    const rv *path = p->u.arr.items[i];
    rv_vec segs = {0};
    if (rv_is(path, RV_STRING)) {
      if (path->u.str.len == 0) continue;
      pointer_segments(ctx->arena, path->u.str.s, path->u.str.s + path->u.str.len, &segs);
    } else if (rv_is(path, RV_ARRAY)) {
      for (size_t j = 0; j < path->u.arr.len; j++)
        rv_vec_push(ctx->arena, &segs, path->u.arr.items[j]);
    } else {
      return rego_bi_type_error(
          ctx,
          "operand 2 must be one of {set, array} containing string paths or array of path "
          "segments but got %s",
          rv_type_name(path));
    }
    fnode_insert(ctx->arena, root, segs.items, segs.len);
  }
  *root_out = root;
  return REGO_BI_OK;
}

static rego_bi_status bi_json_filter(rego_bctx *ctx, rv *const *args, rv **out) {
  RB_EXPECT(ctx, args, 0, RV_OBJECT, "object");
  fnode *root;
  rego_bi_status st = json_paths(ctx, args[1], &root);
  if (st) return st;
  *out = filter_value(ctx->arena, args[0], root);
  return REGO_BI_OK;
}

static rego_bi_status bi_json_remove(rego_bctx *ctx, rv *const *args, rv **out) {
  RB_EXPECT(ctx, args, 0, RV_OBJECT, "object");
  fnode *root;
  rego_bi_status st = json_paths(ctx, args[1], &root);
  if (st) return st;
  rv *r = remove_value(ctx->arena, args[0], root);
  if (!r) return REGO_BI_UNDEFINED;
  *out = r;
  return REGO_BI_OK;
}

/* ---- json.patch ------------------------------------------------------------------------- */

/* RFC 6902 on Rego values, as OPA's edit tree: object members by key, array
 * elements by index ("-" appends), set elements by the element itself. Any
 * failure makes the call undefined (OPA returns no result, not an error). */

/* An array index segment: a non-negative integer number, or a decimal
 * string without leading zeros. */
static bool seg_index(const rv *seg, size_t len, bool allow_end, size_t *out) {
  int64_t i;
  if (rv_is(seg, RV_NUMBER)) {
    if (!rv_num_get_i64(seg, &i) || i < 0) return false;
  } else if (rv_is(seg, RV_STRING)) {
    const char *s = seg->u.str.s;
    size_t n = seg->u.str.len;
    if (n == 0 || n > 18 || (n > 1 && s[0] == '0')) return false;
    i = 0;
    for (size_t k = 0; k < n; k++) {
      if (s[k] < '0' || s[k] > '9') return false;
      i = i * 10 + (s[k] - '0');
    }
  } else {
    return false;
  }
  if ((uint64_t)i > len || (!allow_end && (uint64_t)i == len)) return false;
  *out = (size_t)i;
  return true;
}

static rv *child_of(rv *v, const rv *seg) {
  size_t idx;
  switch (v->kind) {
  case RV_OBJECT: return rv_object_get(v, seg);
  case RV_ARRAY: return seg_index(seg, v->u.arr.len, false, &idx) ? v->u.arr.items[idx] : NULL;
  case RV_SET: return rv_set_contains(v, seg) ? (rv *)seg : NULL;
  default: return NULL;
  }
}

enum { PATCH_ADD, PATCH_DEL };

/* v with `seg` set to val (val NULL: removed); NULL on failure. For arrays
 * `insert` chooses insertion (add) over replacement (a changed child). */
static rv *with_child(rv_arena *a, rv *v, const rv *seg, rv *val, bool insert) {
  size_t n = v->kind == RV_OBJECT ? v->u.obj.len : v->u.arr.len, idx;
  rv_vec items = {0}, keys = {0};
  switch (v->kind) {
  case RV_OBJECT: {
    bool found = false;
    for (size_t i = 0; i < n; i++) {
      if (rv_equal(v->u.obj.keys[i], seg)) {
        found = true;
        if (!val) continue;
        rv_vec_push(a, &keys, v->u.obj.keys[i]);
        rv_vec_push(a, &items, val);
      } else {
        rv_vec_push(a, &keys, v->u.obj.keys[i]);
        rv_vec_push(a, &items, v->u.obj.vals[i]);
      }
    }
    if (!found && !val) return NULL;
    if (!found) {
      rv_vec_push(a, &keys, (rv *)seg);
      rv_vec_push(a, &items, val);
    }
    return rv_object(a, keys.items, items.items, keys.len, NULL);
  }
  case RV_ARRAY: {
    bool append = insert && val && rv_is(seg, RV_STRING) && seg->u.str.len == 1 && seg->u.str.s[0] == '-';
    if (append)
      idx = n;
    else if (!seg_index(seg, n, insert && val, &idx))
      return NULL;
    for (size_t i = 0; i <= n; i++) {
      if (i == idx) {
        if (val) rv_vec_push(a, &items, val);
        if (!(insert && val) && i < n) continue; /* replaced or removed */
      }
      if (i < n) rv_vec_push(a, &items, v->u.arr.items[i]);
    }
    return rv_array(a, items.items, items.len);
  }
  case RV_SET: {
    bool found = rv_set_contains(v, seg);
    if (insert && val && !rv_equal(val, seg)) return NULL; /* a set member is its own key */
    if (!insert && !found) return NULL;
    if (!val && !found) return NULL;
    for (size_t i = 0; i < n; i++)
      if (!rv_equal(v->u.arr.items[i], seg)) rv_vec_push(a, &items, v->u.arr.items[i]);
    if (val) rv_vec_push(a, &items, val);
    return rv_set(a, items.items, items.len);
  }
  default: return NULL;
  }
}

static rv *patch_at(rv_arena *a, rv *v, rv *const *path, size_t n, int op, rv *val) {
  if (n == 0) return op == PATCH_ADD ? val : NULL;
  if (n == 1) return with_child(a, v, path[0], op == PATCH_ADD ? val : NULL, true);
  rv *child = child_of(v, path[0]);
  if (!child) return NULL;
  rv *nc = patch_at(a, child, path + 1, n - 1, op, val);
  return nc ? with_child(a, v, path[0], nc, false) : NULL;
}

static rv *value_at(rv *v, rv *const *path, size_t n) {
  for (size_t i = 0; i < n && v; i++)
    v = child_of(v, path[i]);
  return v;
}

/* parsePath: "" is the root, "a/b" and "/a/b" are key paths (JSON-pointer
 * escapes), an array is a list of segments. */
static bool patch_path(rv_arena *a, const rv *p, rv_vec *segs) {
  *segs = (rv_vec){0};
  if (rv_is(p, RV_ARRAY)) {
    for (size_t i = 0; i < p->u.arr.len; i++)
      rv_vec_push(a, segs, p->u.arr.items[i]);
    return true;
  }
  if (!rv_is(p, RV_STRING)) return false;
  if (p->u.str.len == 0) return true;
  pointer_segments(a, p->u.str.s, p->u.str.s + p->u.str.len, segs);
  return true;
}

static rego_bi_status bi_json_patch(rego_bctx *ctx, rv *const *args, rv **out) {
  RB_EXPECT(ctx, args, 1, RV_ARRAY, "array");
  rv_arena *a = ctx->arena;
  rv *doc = args[0];
  const rv *ops = args[1];
  for (size_t i = 0; i < ops->u.arr.len; i++) {
    const rv *o = ops->u.arr.items[i];
    if (!rv_is(o, RV_OBJECT)) return REGO_BI_UNDEFINED;
    const rv *opv = rv_object_get_str(o, "op", 2), *pathv = rv_object_get_str(o, "path", 4);
    rv *from = rv_object_get_str(o, "from", 4), *value = rv_object_get_str(o, "value", 5);
    if (!rv_is(opv, RV_STRING) || !pathv) return REGO_BI_UNDEFINED;
    const char *op = opv->u.str.s;
    rv_vec path, fpath;
    if (!patch_path(a, pathv, &path)) return REGO_BI_UNDEFINED;
    bool needs_from = !strcmp(op, "move") || !strcmp(op, "copy");
    bool needs_value = !strcmp(op, "add") || !strcmp(op, "replace") || !strcmp(op, "test");
    if ((needs_from && (!from || !patch_path(a, from, &fpath))) || (needs_value && !value))
      return REGO_BI_UNDEFINED;
    if (!strcmp(op, "add")) {
      doc = patch_at(a, doc, path.items, path.len, PATCH_ADD, value);
    } else if (!strcmp(op, "remove")) {
      doc = patch_at(a, doc, path.items, path.len, PATCH_DEL, NULL);
    } else if (!strcmp(op, "replace")) {
      doc = path.len ? patch_at(a, doc, path.items, path.len, PATCH_DEL, NULL) : doc;
      if (doc) doc = patch_at(a, doc, path.items, path.len, PATCH_ADD, value);
    } else if (!strcmp(op, "move") || !strcmp(op, "copy")) {
      rv *chunk = value_at(doc, fpath.items, fpath.len);
      if (!chunk) return REGO_BI_UNDEFINED;
      if (op[0] == 'm') doc = patch_at(a, doc, fpath.items, fpath.len, PATCH_DEL, NULL);
      if (doc) doc = patch_at(a, doc, path.items, path.len, PATCH_ADD, chunk);
    } else if (!strcmp(op, "test")) {
      rv *cur = value_at(doc, path.items, path.len);
      if (!cur || !rv_equal(cur, value)) return REGO_BI_UNDEFINED;
    } else {
      return REGO_BI_UNDEFINED;
    }
    if (!doc) return REGO_BI_UNDEFINED;
  }
  *out = doc;
  return REGO_BI_OK;
}

const rego_builtin_def rego_builtins_objects[] = {
    {"object.get", 3, bi_get, 0},
    {"object.keys", 1, bi_keys, 0},
    {"object.remove", 2, bi_remove, 0},
    {"object.filter", 2, bi_filter, 0},
    {"object.union", 2, bi_union, 0},
    {"object.union_n", 1, bi_union_n, 0},
    {"object.subset", 2, bi_subset, 0},
    {"json.filter", 2, bi_json_filter, 0},
    {"json.remove", 2, bi_json_remove, 0},
    {"json.patch", 2, bi_json_patch, 0},
    {NULL, 0, NULL, 0},
};
