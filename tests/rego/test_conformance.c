/* test_conformance.c — runs OPA's Rego conformance cases (JSON form, see
 * $TRUSTEE_SHARED_DIR/conformance/opa/README.md) against the engine.
 *
 * Prints pass/skip/fail per folder and per tier. Fails when any tier-1 case
 * fails or fewer than 97% of tier-2 cases pass (skipped cases count as not
 * passed). Skips are listed with reasons in conformance-skips.txt (lines
 * "<folder> <_file> <_index> <reason>").
 *
 * Env: REGO_CONF_VERBOSE=1 prints every failing case; REGO_CONF_ONLY=<folder>
 * runs one folder. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "rego/internal.h"

typedef struct {
  char folder[64], file[128];
  int index;
  char reason[200];
} skip_ent;

static skip_ent skips[512];
static int nskips;

static void load_skips(void) {
  FILE *f = fopen("conformance-skips.txt", "r");
  if (!f) return;
  char line[512];
  while (fgets(line, sizeof line, f) && nskips < 512) {
    if (line[0] == '#' || line[0] == '\n') continue;
    skip_ent *s = &skips[nskips];
    int off = 0;
    if (sscanf(line, "%63s %127s %d %n", s->folder, s->file, &s->index, &off) >= 3) {
      snprintf(s->reason, sizeof s->reason, "%s", line + off);
      s->reason[strcspn(s->reason, "\n")] = 0;
      nskips++;
    }
  }
  fclose(f);
}

static const char *skip_reason(const char *folder, const char *file, int index) {
  for (int i = 0; i < nskips; i++)
    if (strcmp(skips[i].folder, folder) == 0 && strcmp(skips[i].file, file) == 0 && skips[i].index == index)
      return skips[i].reason;
  return NULL;
}

static rv *get(const rv *obj, const char *k) {
  return obj->kind == RV_OBJECT ? rv_object_get_str(obj, k, strlen(k)) : NULL;
}
static const char *gets(const rv *obj, const char *k) {
  rv *v = get(obj, k);
  return v && v->kind == RV_STRING ? v->u.str.s : NULL;
}

/* JSON-normalise a value: sets → arrays, non-string keys → JSON text. */
static rv *norm(rv_arena *a, rv *v) {
  rv_buf b = {.a = a};
  rv_write_json(&b, v);
  rv *out = NULL;
  tr_err *e = rv_parse_json(a, b.s, b.len, 0, &out);
  if (e) {
    tr_err_free(e);
    return v;
  }
  return out;
}

static rv *sort_row_arrays(rv_arena *a, rv *row) {
  if (row->kind != RV_OBJECT) return row;
  rv **vals = rv_alloc(a, sizeof(rv *) * (row->u.obj.len + 1));
  for (size_t i = 0; i < row->u.obj.len; i++) {
    rv *v = row->u.obj.vals[i];
    if (v->kind == RV_ARRAY) {
      rv *s = rv_set(a, v->u.arr.items, v->u.arr.len);
      /* keep duplicates out of the comparison as OPA does for sets */
      v = rv_array(a, s->u.arr.items, s->u.arr.len);
    }
    vals[i] = v;
  }
  return rv_object(a, row->u.obj.keys, vals, row->u.obj.len, NULL);
}

typedef struct {
  rv_arena *a;
  const cquery *q;
  rv_vec rows;
} rowsctx;

static void on_row(void *ctx, rv **slots, rv **exprvals) {
  (void)exprvals;
  rowsctx *r = ctx;
  rv_vec ks = {0}, vs = {0};
  for (int i = 0; i < r->q->nvars; i++) {
    int s = r->q->var_slots[i];
    if (!slots[s]) continue;
    rv_vec_push(r->a, &ks, rv_cstring(r->a, r->q->slotnames[s]));
    rv_vec_push(r->a, &vs, slots[s]);
  }
  rv_vec_push(r->a, &r->rows, rv_object(r->a, ks.items, vs.items, ks.len, NULL));
}

/* Runs a query; returns 0 and rows, or -1 with *err. */
static int run_query(rego_policy *p, rv_arena *a, const char *query, rv *input, rv *data, bool strict,
                     rv_vec *rows, char *err, size_t errlen) {
  body *b;
  tr_err *e = rego_parse_query(a, "query", query, 1000, &b);
  cquery q;
  if (!e) e = rego_compile_query(p, a, b, &q);
  if (e) {
    snprintf(err, errlen, "%s", tr_err_msg(e));
    tr_err_free(e);
    return -1;
  }
  ev_setup s = {.p = p, .input = input, .data = data, .strict = strict, .arena = a, .now_ns = 0};
  rowsctx rc = {a, &q, {0}};
  ev_error ee;
  if (rego_eval_cquery(&s, &q, on_row, &rc, &ee) != 0) {
    tr_err *te = rego_ev_error_to_tr(&ee);
    snprintf(err, errlen, "%s", tr_err_msg(te));
    tr_err_free(te);
    return -1;
  }
  *rows = rc.rows;
  return 0;
}

typedef struct {
  int pass, fail, skip;
} counts;

static bool verbose;

static void report(const char *folder, const rv *c, const char *why) {
  if (!verbose) return;
  const char *note = gets(c, "note");
  rv *idx = get(c, "_index");
  printf("FAIL %s %s#%lld (%s): %s\n", folder, gets(c, "_file"), idx ? (long long)idx->u.i : -1LL,
         note ? note : "", why);
}

/* "file:12:3: x" → "file:12: x" (OPA's messages carry no column). */
static const char *strip_col(const char *msg) {
  static char out[1100];
  const char *p = strchr(msg, ':');
  if (!p) return msg;
  const char *q = p + 1;
  while (*q >= '0' && *q <= '9')
    q++;
  if (*q != ':' || q == p + 1) return msg;
  const char *r = q + 1;
  while (*r >= '0' && *r <= '9')
    r++;
  if (*r != ':' || r == q + 1) return msg;
  snprintf(out, sizeof out, "%.*s%s", (int)(q - msg), msg, r);
  return out;
}

/* 1 pass, 0 fail */
static int run_case(const char *folder, rv *c) {
  rv_arena *a = rv_arena_new();
  int ok = 0;
  char msg[1024] = "";
  rv *mods = get(c, "modules");
  size_t nm = mods && mods->kind == RV_ARRAY ? mods->u.arr.len : 0;
  rego_module_src *src = calloc(nm + 1, sizeof(*src));
  char(*names)[32] = calloc(nm + 1, 32);
  for (size_t i = 0; i < nm; i++) {
    snprintf(names[i], 32, "test-%zu.rego", i);
    src[i].name = names[i];
    src[i].text = mods->u.arr.items[i]->u.str.s;
  }
  rego_policy *p = NULL;
  const char *want_code = gets(c, "want_error_code");
  const char *want_err = gets(c, "want_error");
  rv *want = get(c, "want_result");
  rv *strict_v = get(c, "strict_error");
  bool strict = strict_v && strict_v->kind == RV_BOOL && strict_v->u.b;
  rv *sortb = get(c, "sort_bindings");
  bool sort_bindings = sortb && sortb->kind == RV_BOOL && sortb->u.b;
  tr_err *e = rego_compile(src, nm, NULL, &p);
  int rc = 0;
  rv_vec rows = {0};
  if (e) {
    snprintf(msg, sizeof msg, "%s", tr_err_msg(e));
    tr_err_free(e);
    rc = -1;
  } else {
    rv *data = get(c, "data");
    rv *input = get(c, "input");
    const char *iterm = gets(c, "input_term");
    if (iterm) {
      rv_vec ir = {0};
      char *q = rv_sprintf(a, NULL, "__input__ := %s", iterm);
      rego_policy *empty = NULL;
      tr_err *ie = rego_compile(NULL, 0, NULL, &empty);
      if (!ie && run_query(empty, a, q, NULL, NULL, false, &ir, msg, sizeof msg) == 0 && ir.len == 1) {
        input = get(ir.items[0], "__input__");
      } else {
        input = NULL;
      }
      tr_err_free(ie);
      /* values live in `a`; the empty policy holds nothing they need */
      rego_policy_free(empty);
    }
    if (data && data->kind != RV_OBJECT) data = NULL;
    rc = run_query(p, a, gets(c, "query"), input, data, strict, &rows, msg, sizeof msg);
  }
  if (want_code || want_err) {
    if (rc == 0) {
      report(folder, c, "expected an error, got a result");
    } else if (want_code && !strstr(msg, want_code)) {
      char w[1200];
      snprintf(w, sizeof w, "wrong error code (want %s): %s", want_code, msg);
      report(folder, c, w);
    } else if (want_err && !strstr(msg, want_err) && !strstr(strip_col(msg), want_err)) {
      char w[1200];
      snprintf(w, sizeof w, "wrong error text (want \"%s\"): %s", want_err, msg);
      report(folder, c, w);
    } else {
      ok = 1;
    }
  } else if (rc != 0) {
    report(folder, c, msg);
  } else {
    rv_vec got = {0}, exp = {0};
    for (size_t i = 0; i < rows.len; i++) {
      rv *r = norm(a, rows.items[i]);
      rv_vec_push(a, &got, sort_bindings ? sort_row_arrays(a, r) : r);
    }
    if (want && want->kind == RV_ARRAY)
      for (size_t i = 0; i < want->u.arr.len; i++) {
        rv *r = want->u.arr.items[i];
        rv_vec_push(a, &exp, sort_bindings ? sort_row_arrays(a, r) : r);
      }
    rv *gs = rv_set(a, got.items, got.len), *es = rv_set(a, exp.items, exp.len);
    if (rv_equal(gs, es)) {
      ok = 1;
    } else {
      rv_buf b = {.a = a};
      rv_buf_puts(&b, "got ");
      rv_write_json(&b, gs);
      rv_buf_puts(&b, " want ");
      rv_write_json(&b, es);
      report(folder, c, b.s);
    }
  }
  rego_policy_free(p);
  free(src);
  free(names);
  rv_arena_free(a);
  return ok;
}

static int cmpstr(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void test_conformance(void **state) {
  (void)state;
  const char *shared = getenv("TRUSTEE_SHARED_DIR");
  if (!shared) shared = "../../../shared";
  char dir[1024];
  snprintf(dir, sizeof dir, "%s/conformance/opa/v1", shared);
  verbose = getenv("REGO_CONF_VERBOSE") != NULL;
  const char *only = getenv("REGO_CONF_ONLY");
  load_skips();
  DIR *d = opendir(dir);
  assert_non_null(d);
  char *files[256];
  int nf = 0;
  struct dirent *de;
  while ((de = readdir(d)) && nf < 256) {
    size_t l = strlen(de->d_name);
    if (l > 5 && strcmp(de->d_name + l - 5, ".json") == 0 && strcmp(de->d_name, "index.json") != 0)
      files[nf++] = strdup(de->d_name);
  }
  closedir(d);
  qsort(files, (size_t)nf, sizeof(char *), cmpstr);
  counts tier[4] = {0};
  for (int i = 0; i < nf; i++) {
    char path[1400];
    snprintf(path, sizeof path, "%s/%s", dir, files[i]);
    uint8_t *fdata = NULL;
    size_t flen = 0;
    tr_err *e = tr_read_file(path, 64u << 20, &fdata, &flen);
    assert_null(e);
    rv_arena *a = rv_arena_new();
    rv *doc;
    e = rv_parse_json(a, (const char *)fdata, flen, 0, &doc);
    if (e) fail_msg("%s: %s", path, tr_err_msg(e));
    const char *folder = gets(doc, "folder");
    rv *tv = get(doc, "tier");
    int t = tv ? (int)tv->u.i : 3;
    if (t < 1 || t > 3) t = 3;
    if (only && strncmp(only, folder, strlen(only)) != 0) {
      rv_arena_free(a);
      free(fdata);
      continue;
    }
    rv *cases = get(doc, "cases");
    counts fc = {0};
    for (size_t k = 0; cases && k < cases->u.arr.len; k++) {
      rv *c = cases->u.arr.items[k];
      rv *idx = get(c, "_index");
      if (skip_reason(folder, gets(c, "_file"), idx ? (int)idx->u.i : -1)) {
        fc.skip++;
        continue;
      }
      if (run_case(folder, c))
        fc.pass++;
      else
        fc.fail++;
    }
    printf("tier %d %-28s pass %3d  skip %2d  fail %3d\n", t, folder, fc.pass, fc.skip, fc.fail);
    tier[t].pass += fc.pass;
    tier[t].skip += fc.skip;
    tier[t].fail += fc.fail;
    rv_arena_free(a);
    free(fdata);
    free(files[i]);
  }
  for (int t = 1; t <= 2; t++) {
    int total = tier[t].pass + tier[t].skip + tier[t].fail;
    printf("TIER %d: %d/%d passed (%.1f%%), %d skipped, %d failed\n", t, tier[t].pass, total,
           total ? 100.0 * tier[t].pass / total : 100.0, tier[t].skip, tier[t].fail);
  }
  fflush(stdout);
  if (only) return;
  assert_int_equal(tier[1].fail, 0);
  int total2 = tier[2].pass + tier[2].skip + tier[2].fail;
  assert_true(total2 == 0 || tier[2].pass * 100 >= total2 * 97);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_conformance)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
