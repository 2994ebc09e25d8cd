/* trustee-rego — evaluate and check Rego policies with the trustee-c engine.
 *
 *   trustee-rego eval [-d FILE|DIR]... [-i INPUT.json] [--format json|pretty]
 *                     [--strict-builtin-errors] [--reference-values RV.json] [--v0-compatible] QUERY
 *   trustee-rego check FILE...
 *   trustee-rego bench [-d FILE|DIR]... [-i INPUT.json] [--reference-values RV.json]
 *                      [--strict-builtin-errors] [--rounds N] RULE
 *
 * OPA-compatible where the same things exist: `-d` loads .rego modules and
 * .json data (a directory loads all of them; a data file in dir/a/b/ is
 * mounted at data.a.b), `--format json` prints OPA's result shape and `{}`
 * when the query is undefined. Exit status: 0 on success (also undefined), 1
 * on a parse/compile/eval error (printed as `file:line:col: message`), 2 on
 * bad usage. `--reference-values` binds the AS host function
 * query_reference_value(id) to a JSON object (an absent id gives null), so
 * an attestation policy runs offline exactly as the AS evaluates it. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/buf.h"
#include "core/json.h"
#include "rego/rego.h"

typedef struct {
  rego_module_src *mods;
  size_t nmods, capmods;
  json_t *data;
  int errors;
} loader;

static void usage(FILE *f) {
  fprintf(f, "usage: trustee-rego eval [-d FILE|DIR]... [-i INPUT.json] [--format json|pretty]\n"
             "                         [--strict-builtin-errors] [--reference-values RV.json]\n"
             "                         [--v0-compatible] QUERY\n"
             "       trustee-rego check FILE...\n"
             "       trustee-rego bench [-d FILE|DIR]... [-i INPUT.json] [--reference-values RV.json]\n"
             "                          [--strict-builtin-errors] [--rounds N] RULE\n");
}

static bool ends_with(const char *s, const char *suf) {
  size_t a = strlen(s), b = strlen(suf);
  return a >= b && strcmp(s + a - b, suf) == 0;
}

static void add_module(loader *l, const char *path) {
  uint8_t *text;
  size_t len;
  tr_err *e = tr_read_file(path, 0, &text, &len);
  if (e) {
    fprintf(stderr, "%s: %s\n", path, tr_err_msg(e));
    tr_err_free(e);
    l->errors++;
    return;
  }
  if (l->nmods == l->capmods) {
    l->capmods = l->capmods ? l->capmods * 2 : 8;
    l->mods = realloc(l->mods, l->capmods * sizeof(*l->mods));
    if (!l->mods) abort();
  }
  l->mods[l->nmods].name = strdup(path);
  l->mods[l->nmods].text = (const char *)text;
  l->nmods++;
}

/* Mounts doc at data.<prefix...> and merges it into l->data. */
static void add_data(loader *l, const char *path, const char *prefix) {
  uint8_t *text;
  size_t len;
  tr_err *e = tr_read_file(path, 0, &text, &len);
  json_t *doc = NULL;
  if (!e) e = tr_json_parse((const char *)text, len, &doc);
  free(text);
  if (e) {
    fprintf(stderr, "%s: %s\n", path, tr_err_msg(e));
    tr_err_free(e);
    l->errors++;
    return;
  }
  /* wrap in the directory prefix */
  char *pre = strdup(prefix ? prefix : "");
  for (;;) {
    char *slash = strrchr(pre, '/');
    char *seg = slash ? slash + 1 : pre;
    if (!*seg) break;
    json_t *w = json_object();
    json_object_set_new(w, seg, doc);
    doc = w;
    if (!slash) break;
    *slash = 0;
  }
  free(pre);
  if (!json_is_object(doc)) {
    fprintf(stderr, "%s: data file must hold a JSON object\n", path);
    json_decref(doc);
    l->errors++;
    return;
  }
  json_object_update_recursive(l->data, doc);
  json_decref(doc);
}

static void load_path(loader *l, const char *path, const char *rel, bool top) {
  struct stat st;
  if (stat(path, &st) != 0) {
    fprintf(stderr, "%s: no such file or directory\n", path);
    l->errors++;
    return;
  }
  if (S_ISDIR(st.st_mode)) {
    DIR *d = opendir(path);
    if (!d) {
      fprintf(stderr, "%s: cannot open directory\n", path);
      l->errors++;
      return;
    }
    struct dirent *de;
    char **names = NULL;
    size_t n = 0;
    while ((de = readdir(d))) {
      if (de->d_name[0] == '.') continue;
      names = realloc(names, (n + 1) * sizeof(char *));
      names[n++] = strdup(de->d_name);
    }
    closedir(d);
    for (size_t i = 0; i < n; i++) {
      char child[4096], crel[4096];
      snprintf(child, sizeof child, "%s/%s", path, names[i]);
      if (rel && *rel)
        snprintf(crel, sizeof crel, "%s/%s", rel, names[i]);
      else
        snprintf(crel, sizeof crel, "%s", names[i]);
      struct stat cs;
      if (stat(child, &cs) == 0 && S_ISDIR(cs.st_mode))
        load_path(l, child, crel, false);
      else if (ends_with(names[i], ".rego"))
        add_module(l, child);
      else if (ends_with(names[i], ".json")) {
        /* mounted at the file's directory relative to the -d root */
        char *dir = strdup(crel);
        char *slash = strrchr(dir, '/');
        if (slash)
          *slash = 0;
        else
          dir[0] = 0;
        add_data(l, child, dir);
        free(dir);
      }
      free(names[i]);
    }
    free(names);
    return;
  }
  (void)top;
  if (ends_with(path, ".json"))
    add_data(l, path, NULL);
  else
    add_module(l, path);
}

static void loader_free(loader *l) {
  for (size_t i = 0; i < l->nmods; i++) {
    free((char *)l->mods[i].name);
    free((char *)l->mods[i].text);
  }
  free(l->mods);
  json_decref(l->data);
}

static tr_err *rv_lookup(void *ctx, json_t *const *args, size_t nargs, json_t **result) {
  json_t *rvs = ctx;
  if (nargs != 1 || !json_is_string(args[0]))
    return tr_err_new(TR_E_INVALID, "query_reference_value: argument must be a string id");
  json_t *v = json_object_get(rvs, json_string_value(args[0]));
  *result = v ? json_incref(v) : json_null();
  return NULL;
}

static int cmd_check(int argc, char **argv) {
  if (argc < 1) {
    usage(stderr);
    return 2;
  }
  loader l = {.data = json_object()};
  for (int i = 0; i < argc; i++)
    load_path(&l, argv[i], "", true);
  int rc = l.errors ? 1 : 0;
  /* report every module's parse errors, then compile them together */
  for (size_t i = 0; i < l.nmods; i++) {
    rego_policy *p = NULL;
    rego_host_decl h = {"query_reference_value", 1};
    rego_compile_opts o = {.hosts = &h, .nhosts = 1};
    tr_err *e = rego_compile(&l.mods[i], 1, &o, &p);
    if (e && strstr(tr_err_msg(e), "rego_parse_error")) {
      fprintf(stderr, "%s\n", tr_err_msg(e));
      rc = 1;
    }
    tr_err_free(e);
    rego_policy_free(p);
  }
  if (rc == 0) {
    rego_policy *p = NULL;
    rego_host_decl h = {"query_reference_value", 1};
    rego_compile_opts o = {.hosts = &h, .nhosts = 1};
    tr_err *e = rego_compile(l.mods, l.nmods, &o, &p);
    if (e) {
      fprintf(stderr, "%s\n", tr_err_msg(e));
      tr_err_free(e);
      rc = 1;
    }
    rego_policy_free(p);
  }
  loader_free(&l);
  return rc;
}

/* Options shared by eval and bench. */
typedef struct {
  loader l;
  const char *input_path, *rv_path, *query, *format;
  bool strict, v0;
  long rounds; /* bench only */
  rego_value *input;
  json_t *rvs;
  rego_policy *p;
  rego_host_decl h;
  rego_host_binding hb;
} run_opts;

/* Returns 0, or the exit status for bad usage. */
static int parse_opts(run_opts *o, int argc, char **argv, bool bench) {
  *o = (run_opts){.l = {.data = json_object()}, .format = "json", .rounds = 10000};
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    if ((strcmp(a, "-d") == 0 || strcmp(a, "--data") == 0) && i + 1 < argc)
      load_path(&o->l, argv[++i], "", true);
    else if ((strcmp(a, "-i") == 0 || strcmp(a, "--input") == 0) && i + 1 < argc)
      o->input_path = argv[++i];
    else if (!bench && (strcmp(a, "-f") == 0 || strcmp(a, "--format") == 0) && i + 1 < argc)
      o->format = argv[++i];
    else if (!bench && strncmp(a, "--format=", 9) == 0)
      o->format = a + 9;
    else if (strcmp(a, "--strict-builtin-errors") == 0)
      o->strict = true;
    else if (strcmp(a, "--v0-compatible") == 0)
      o->v0 = true;
    else if (strcmp(a, "--reference-values") == 0 && i + 1 < argc)
      o->rv_path = argv[++i];
    else if (bench && strcmp(a, "--rounds") == 0 && i + 1 < argc)
      o->rounds = strtol(argv[++i], NULL, 10);
    else if (a[0] == '-' && a[1]) {
      fprintf(stderr, "trustee-rego: unknown option %s\n", a);
      usage(stderr);
      return 2;
    } else if (!o->query)
      o->query = a;
    else {
      fprintf(stderr, "trustee-rego: unexpected argument %s\n", a);
      return 2;
    }
  }
  if (!o->query || o->rounds < 1 || o->rounds > 100000000 ||
      (strcmp(o->format, "json") != 0 && strcmp(o->format, "pretty") != 0)) {
    usage(stderr);
    return 2;
  }
  return 0;
}

/* Loads input and reference values and compiles the modules. */
static tr_err *prepare(run_opts *o, rego_eval_opts *eo) {
  tr_err *e = NULL;
  if (o->input_path) {
    uint8_t *text;
    size_t len;
    e = tr_read_file(o->input_path, 0, &text, &len);
    if (!e) {
      e = rego_value_from_json_text((const char *)text, len, &o->input);
      free(text);
    }
    if (e) return tr_err_wrap(e, "%s", o->input_path);
  }
  o->h = (rego_host_decl){"query_reference_value", 1};
  rego_compile_opts copts = {.v0_compat = o->v0};
  if (o->rv_path) {
    uint8_t *text;
    size_t len;
    e = tr_read_file(o->rv_path, 0, &text, &len);
    if (!e) {
      e = tr_json_parse((const char *)text, len, &o->rvs);
      free(text);
    }
    if (!e && !json_is_object(o->rvs)) e = tr_err_new(TR_E_INVALID, "must hold a JSON object of id -> value");
    if (e) return tr_err_wrap(e, "%s", o->rv_path);
    copts.hosts = &o->h;
    copts.nhosts = 1;
    o->hb = (rego_host_binding){"query_reference_value", rv_lookup, o->rvs};
  }
  e = rego_compile(o->l.mods, o->l.nmods, &copts, &o->p);
  if (e) return e;
  *eo = (rego_eval_opts){.input_value = o->input, .data = o->l.data, .strict_builtin_errors = o->strict};
  if (o->rv_path) {
    eo->hosts = &o->hb;
    eo->nhosts = 1;
  }
  return NULL;
}

static int finish(run_opts *o, tr_err *e, int rc) {
  if (e) {
    fprintf(stderr, "%s\n", tr_err_msg(e));
    tr_err_free(e);
    rc = 1;
  }
  json_decref(o->rvs);
  rego_value_free(o->input);
  rego_policy_free(o->p);
  loader_free(&o->l);
  return rc;
}

static int cmd_eval(int argc, char **argv) {
  run_opts o;
  int rc = parse_opts(&o, argc, argv, false);
  if (rc || o.l.errors) return finish(&o, NULL, rc ? rc : 1); /* load errors are already printed */
  rego_eval_opts eo;
  tr_err *e = prepare(&o, &eo);
  char *text = NULL;
  if (!e)
    e = rego_eval_query_text(o.p, o.query, &eo,
                             strcmp(o.format, "pretty") == 0 ? REGO_TEXT_PRETTY : REGO_TEXT_JSON, &text);
  if (!e) printf("%s\n", text);
  free(text);
  return finish(&o, e, 0);
}

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* bench: median time of rego_eval_rule(RULE) with the input converted once
 * (prepared mode, as the KBS/AS hot path), and of compiling the modules.
 * Timing is per call, so the median ignores scheduler noise. */
static int cmd_bench(int argc, char **argv) {
  run_opts o;
  int rc = parse_opts(&o, argc, argv, true);
  if (rc || o.l.errors) return finish(&o, NULL, rc ? rc : 1);
  rego_eval_opts eo;
  double t0 = now_ns();
  tr_err *e = prepare(&o, &eo);
  double compile_ns = now_ns() - t0;
  rego_value *data = NULL;
  if (!e) e = rego_value_from_json(o.l.data, &data);
  if (e) return finish(&o, e, 1);
  eo.data = NULL;
  eo.data_value = data;
  double *t = malloc(sizeof(double) * (size_t)o.rounds);
  rego_status st = REGO_NO_RULE;
  for (long i = 0; i < o.rounds && !e; i++) {
    json_t *v = NULL;
    double s = now_ns();
    e = rego_eval_rule(o.p, o.query, &eo, &st, &v);
    t[i] = now_ns() - s;
    json_decref(v);
  }
  if (!e) {
    qsort(t, (size_t)o.rounds, sizeof(double), cmp_double);
    printf("rule      %s (%s)\n", o.query,
           st == REGO_DEFINED     ? "defined"
           : st == REGO_UNDEFINED ? "undefined"
                                  : "no rule");
    printf("eval      median %.0f ns, p90 %.0f ns over %ld runs (prepared input)\n", t[o.rounds / 2],
           t[o.rounds * 9 / 10], o.rounds);
    printf("compile   %.0f ns (input/reference values loaded, modules parsed and compiled once)\n",
           compile_ns);
  }
  free(t);
  rego_value_free(data);
  return finish(&o, e, 0);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  if (strcmp(argv[1], "eval") == 0) return cmd_eval(argc - 2, argv + 2);
  if (strcmp(argv[1], "check") == 0) return cmd_check(argc - 2, argv + 2);
  if (strcmp(argv[1], "bench") == 0) return cmd_bench(argc - 2, argv + 2);
  if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
    usage(stdout);
    return 0;
  }
  usage(stderr);
  return 2;
}
