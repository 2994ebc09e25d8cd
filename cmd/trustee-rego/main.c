/* trustee-rego — evaluate and check Rego policies with the trustee-c engine.
 *
 *   trustee-rego eval [-d FILE|DIR]... [-i INPUT.json] [--format json|pretty]
 *                     [--strict-builtin-errors] [--reference-values RV.json] [--v0-compatible] QUERY
 *   trustee-rego check FILE...
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
             "       trustee-rego check FILE...\n");
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
      if (rel && *rel) snprintf(crel, sizeof crel, "%s/%s", rel, names[i]);
      else snprintf(crel, sizeof crel, "%s", names[i]);
      struct stat cs;
      if (stat(child, &cs) == 0 && S_ISDIR(cs.st_mode)) load_path(l, child, crel, false);
      else if (ends_with(names[i], ".rego")) add_module(l, child);
      else if (ends_with(names[i], ".json")) {
        /* mounted at the file's directory relative to the -d root */
        char *dir = strdup(crel);
        char *slash = strrchr(dir, '/');
        if (slash) *slash = 0;
        else dir[0] = 0;
        add_data(l, child, dir);
        free(dir);
      }
      free(names[i]);
    }
    free(names);
    return;
  }
  (void)top;
  if (ends_with(path, ".json")) add_data(l, path, NULL);
  else add_module(l, path);
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
  for (int i = 0; i < argc; i++) load_path(&l, argv[i], "", true);
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

static int cmd_eval(int argc, char **argv) {
  loader l = {.data = json_object()};
  const char *input_path = NULL, *rv_path = NULL, *query = NULL, *format = "json";
  bool strict = false, v0 = false;
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    if ((strcmp(a, "-d") == 0 || strcmp(a, "--data") == 0) && i + 1 < argc) load_path(&l, argv[++i], "", true);
    else if ((strcmp(a, "-i") == 0 || strcmp(a, "--input") == 0) && i + 1 < argc) input_path = argv[++i];
    else if ((strcmp(a, "-f") == 0 || strcmp(a, "--format") == 0) && i + 1 < argc) format = argv[++i];
    else if (strncmp(a, "--format=", 9) == 0) format = a + 9;
    else if (strcmp(a, "--strict-builtin-errors") == 0) strict = true;
    else if (strcmp(a, "--v0-compatible") == 0) v0 = true;
    else if (strcmp(a, "--reference-values") == 0 && i + 1 < argc) rv_path = argv[++i];
    else if (a[0] == '-' && a[1]) {
      fprintf(stderr, "trustee-rego: unknown option %s\n", a);
      usage(stderr);
      loader_free(&l);
      return 2;
    } else if (!query) query = a;
    else {
      fprintf(stderr, "trustee-rego: unexpected argument %s\n", a);
      loader_free(&l);
      return 2;
    }
  }
  if (!query || (strcmp(format, "json") != 0 && strcmp(format, "pretty") != 0)) {
    usage(stderr);
    loader_free(&l);
    return 2;
  }
  int rc = 1;
  rego_value *input = NULL;
  json_t *rvs = NULL;
  rego_policy *p = NULL;
  tr_err *e = NULL;
  if (l.errors) goto done;
  if (input_path) {
    uint8_t *text;
    size_t len;
    e = tr_read_file(input_path, 0, &text, &len);
    if (!e) {
      e = rego_value_from_json_text((const char *)text, len, &input);
      free(text);
    }
    if (e) {
      e = tr_err_wrap(e, "%s", input_path);
      goto done;
    }
  }
  rego_host_decl h = {"query_reference_value", 1};
  rego_compile_opts copts = {.v0_compat = v0};
  rego_host_binding hb = {0};
  if (rv_path) {
    uint8_t *text;
    size_t len;
    e = tr_read_file(rv_path, 0, &text, &len);
    if (!e) {
      e = tr_json_parse((const char *)text, len, &rvs);
      free(text);
    }
    if (!e && !json_is_object(rvs)) e = tr_err_new(TR_E_INVALID, "must hold a JSON object of id -> value");
    if (e) {
      e = tr_err_wrap(e, "%s", rv_path);
      goto done;
    }
    copts.hosts = &h;
    copts.nhosts = 1;
    hb = (rego_host_binding){"query_reference_value", rv_lookup, rvs};
  }
  e = rego_compile(l.mods, l.nmods, &copts, &p);
  if (e) goto done;
  rego_eval_opts eo = {.input_value = input, .data = l.data, .strict_builtin_errors = strict};
  if (rv_path) {
    eo.hosts = &hb;
    eo.nhosts = 1;
  }
  char *text = NULL;
  e = rego_eval_query_text(p, query, &eo, strcmp(format, "pretty") == 0 ? REGO_TEXT_PRETTY : REGO_TEXT_JSON, &text);
  if (e) goto done;
  printf("%s\n", text);
  free(text);
  rc = 0;
done:
  if (e) {
    fprintf(stderr, "%s\n", tr_err_msg(e));
    tr_err_free(e);
  }
  json_decref(rvs);
  rego_value_free(input);
  rego_policy_free(p);
  loader_free(&l);
  return rc;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  if (strcmp(argv[1], "eval") == 0) return cmd_eval(argc - 2, argv + 2);
  if (strcmp(argv[1], "check") == 0) return cmd_check(argc - 2, argv + 2);
  if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
    usage(stdout);
    return 0;
  }
  usage(stderr);
  return 2;
}
