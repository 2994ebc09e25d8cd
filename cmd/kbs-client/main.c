/* kbs-client — upstream's command line client for the KBS (verbs and flags
 * as tools/kbs-client/src/main.rs), plus a few extras (--raw, --evidence-file,
 * --tee, --tee-key-type, config get-resource-policy). Results go to stdout,
 * logs and errors to stderr; exit status 1 on failure. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/client.h"
#include "core/buf.h"
#include "core/encoding.h"
#include "core/log.h"
#include "kbs/policies.h"

#define ADMIN_TOKEN_COMPOSE "kbs/config/docker-compose/admin-token"

static const char usage_text[] =
    "A command line client tool for KBS APIs.\n"
    "\n"
    "Usage: kbs-client [--url URL] [--cert-file PEM] <COMMAND>\n"
    "\n"
    "Commands:\n"
    "  attest [--tee-key-file PEM] [INIT_DATA]\n"
    "      Attest (RCAR) and print the attestation token\n"
    "  get-resource --path REPO/TYPE/TAG [--tee-key-file PEM] [--attestation-token FILE] [--raw] "
    "[INIT_DATA]\n"
    "      Get a confidential resource (printed base64 unless --raw)\n"
    "  config [--admin-token-file FILE] <CONFIG COMMAND>\n"
    "      set-attestation-policy [--type rego] [--id default_cpu] --policy-file FILE\n"
    "      set-resource-policy --policy-file FILE | --allow-all | --deny-all | --affirming | --default\n"
    "      get-resource-policy\n"
    "      set-resource --path REPO/TYPE/TAG --resource-file FILE\n"
    "      delete-resource --path REPO/TYPE/TAG\n"
    "      get-reference-value --id ID\n"
    "      set-sample-reference-value NAME VALUE [--as-integer | --as-bool] [--as-single-value]\n"
    "\n"
    "Options:\n"
    "  --url URL          KBS root URL [default: http://127.0.0.1:8080]\n"
    "  --cert-file PEM    KBS HTTPS root certificate\n"
    "  attest/get-resource extras: --evidence-file FILE (pre-existing evidence), --tee NAME (default "
    "sample),\n"
    "                     --tee-key-type P-256|P-521|RSA-2048 (generated key kind)\n"
    "\n"
    "Admin token: --admin-token-file, else ./" ADMIN_TOKEN_COMPOSE ", else $HOME/.trustee/admin-token,\n"
    "else none (works only with authorization_mode = InsecureAllowAll).\n";

typedef struct {
  int argc;
  char **argv;
  int i;
} args;

static int fail(const char *fmt, const char *a) {
  fprintf(stderr, "Error: ");
  fprintf(stderr, fmt, a);
  fprintf(stderr, "\n");
  return 1;
}

static int fail_err(tr_err *e) {
  fprintf(stderr, "Error: %s\n", tr_err_msg(e));
  tr_err_free(e);
  return 1;
}

/* Matches `--name VALUE` or `--name=VALUE` at argv[i]; advances. */
static bool opt_value(args *a, const char *name, const char **out) {
  const char *s = a->argv[a->i];
  size_t n = strlen(name);
  if (strncmp(s, name, n) != 0) return false;
  if (s[n] == '=') {
    *out = s + n + 1;
    a->i++;
    return true;
  }
  if (s[n] == 0 && a->i + 1 < a->argc) {
    *out = a->argv[a->i + 1];
    a->i += 2;
    return true;
  }
  return false;
}

static bool opt_flag(args *a, const char *name) {
  if (strcmp(a->argv[a->i], name) != 0) return false;
  a->i++;
  return true;
}

static char *read_text(const char *path, size_t *len, tr_err **e) {
  uint8_t *d = NULL;
  size_t n = 0;
  *e = tr_read_file(path, 0, &d, &n);
  if (*e) {
    *e = tr_err_wrap(*e, "Failed to read: %s", path);
    return NULL;
  }
  if (len) *len = n;
  return (char *)d;
}

static char *trim(char *s) {
  while (*s == ' ' || *s == '\n' || *s == '\r' || *s == '\t')
    s++;
  size_t n = strlen(s);
  while (n && (s[n - 1] == ' ' || s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == '\t'))
    s[--n] = 0;
  return s;
}

/* ---------------------------------------------------------- attest / get */

typedef struct {
  const char *tee_key_file, *token_file, *path, *evidence_file, *tee, *key_type, *init_data;
  bool raw;
} guest_opts;

static int parse_guest(args *a, guest_opts *o, bool get) {
  while (a->i < a->argc) {
    if (opt_value(a, "--tee-key-file", &o->tee_key_file) ||
        opt_value(a, "--evidence-file", &o->evidence_file) || opt_value(a, "--tee", &o->tee) ||
        opt_value(a, "--tee-key-type", &o->key_type))
      continue;
    if (get && (opt_value(a, "--path", &o->path) || opt_value(a, "--attestation-token", &o->token_file)))
      continue;
    if (get && opt_flag(a, "--raw")) {
      o->raw = true;
      continue;
    }
    const char *s = a->argv[a->i];
    if (s[0] == '-' && s[1] == '-') return fail("unexpected argument `%s`", s);
    if (o->init_data) return fail("unexpected argument `%s`", s);
    o->init_data = s;
    a->i++;
  }
  if (get && !o->path) return fail("%s", "the following required arguments were not provided: --path <PATH>");
  return 0;
}

static tr_err *setup_guest(kbs_client *c, const guest_opts *o) {
  tr_err *e = NULL;
  if (o->tee_key_file) {
    size_t n;
    char *pem = read_text(o->tee_key_file, &n, &e);
    if (!e) e = kbs_client_set_tee_key_pem(c, pem, n);
    free(pem);
  } else if (o->key_type) {
    e = kbs_client_generate_tee_key(c, o->key_type);
  }
  if (!e && o->tee) kbs_client_set_tee(c, o->tee);
  if (!e && o->evidence_file) {
    char *ev = read_text(o->evidence_file, NULL, &e);
    if (!e) e = kbs_client_set_evidence(c, o->tee, ev);
    free(ev);
  }
  if (!e && o->init_data) kbs_client_set_init_data(c, o->init_data);
  return e;
}

static int cmd_attest(kbs_client *c, args *a) {
  guest_opts o = {0};
  if (parse_guest(a, &o, false)) return 1;
  tr_err *e = setup_guest(c, &o);
  char *tok = NULL;
  if (!e) e = kbs_client_attest(c, &tok);
  if (e) return fail_err(e);
  printf("%s\n", tok);
  free(tok);
  return 0;
}

static int cmd_get_resource(kbs_client *c, args *a) {
  guest_opts o = {0};
  if (parse_guest(a, &o, true)) return 1;
  if (o.token_file && !o.tee_key_file)
    return fail("%s",
                "if `--attestation-token` is set, `--tee_key_file` argument should also be set, and the "
                "public part of TEE Key should be consistent with tee-pubkey in the token.");
  tr_err *e = setup_guest(c, &o);
  uint8_t *res = NULL;
  size_t n = 0;
  if (!e && o.token_file) {
    char *tok = read_text(o.token_file, NULL, &e);
    if (!e) e = kbs_client_get_resource_with_token(c, o.path, trim(tok), &res, &n);
    free(tok);
  } else if (!e) {
    e = kbs_client_get_resource(c, o.path, &res, &n);
  }
  if (e) return fail_err(e);
  if (o.raw) {
    fwrite(res, 1, n, stdout);
  } else {
    char *b = tr_b64_encode(res, n, TR_B64_STD);
    printf("%s\n", b);
    free(b);
  }
  free(res);
  return 0;
}

/* ---------------------------------------------------------------- config */

static char *admin_token(const char *file, tr_err **e) {
  *e = NULL;
  if (file) {
    char *t = read_text(file, NULL, e);
    if (*e) return NULL;
    char *r = strdup(trim(t));
    free(t);
    return r;
  }
  uint8_t *d = NULL;
  size_t n;
  tr_err *x = tr_read_file(ADMIN_TOKEN_COMPOSE, 0, &d, &n);
  if (!x) {
    char *r = strdup(trim((char *)d));
    free(d);
    return r;
  }
  tr_err_free(x);
  const char *home = getenv("HOME");
  if (home) {
    char *p = NULL;
    if (asprintf(&p, "%s/.trustee/admin-token", home) >= 0) {
      x = tr_read_file(p, 0, &d, &n);
      free(p);
      if (!x) {
        char *r = strdup(trim((char *)d));
        free(d);
        return r;
      }
      tr_err_free(x);
    }
  }
  TR_WARN("kbs-client",
          "No admin token configured. Sending anonymous admin requests; this only works when KBS "
          "admin authorization_mode is InsecureAllowAll.");
  return NULL;
}

/* Sends an admin request; 200 → *body (may be NULL); else error with the body. */
static tr_err *admin_call(kbs_client *c, const char *token, const char *method, const char *rel,
                          const char *ctype, const void *body, size_t len, char **resp) {
  long st = 0;
  char *rb = NULL;
  tr_err *e = kbs_client_request(c, method, rel, token, ctype, body, len, &st, &rb, NULL);
  if (e) return e;
  if (st != 200) {
    e = tr_err_new(TR_E_IO, "Request Failed, Response: \"%s\" (HTTP %ld)", rb ? rb : "", st);
    free(rb);
    return e;
  }
  if (resp)
    *resp = rb;
  else
    free(rb);
  return NULL;
}

static char *json_text(json_t *o) {
  char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
  json_decref(o);
  return s;
}

static int policy_post(kbs_client *c, const char *tok, const char *rel, json_t *body, const char *what,
                       const uint8_t *policy, size_t plen) {
  char *b = json_text(body);
  tr_err *e = admin_call(c, tok, "POST", rel, "application/json", b, strlen(b), NULL);
  free(b);
  if (e) return fail_err(e);
  char *p64 = tr_b64_encode(policy, plen, TR_B64_STD);
  printf("Set %s policy success \n policy: %s\n", what, p64);
  free(p64);
  return 0;
}

static int cmd_config(kbs_client *c, args *a) {
  const char *token_file = NULL;
  while (a->i < a->argc && opt_value(a, "--admin-token-file", &token_file)) {
  }
  if (a->i >= a->argc) return fail("%s", "config: missing command (see --help)");
  const char *sub = a->argv[a->i++];
  const char *type = NULL, *id = NULL, *policy_file = NULL, *path = NULL, *resource_file = NULL;
  bool allow_all = false, deny_all = false, affirming = false, deflt = false;
  bool as_int = false, as_bool = false, single = false;
  const char *pos[2] = {NULL, NULL};
  int npos = 0;
  while (a->i < a->argc) {
    if (opt_value(a, "--admin-token-file", &token_file) || opt_value(a, "--type", &type) ||
        opt_value(a, "--id", &id) || opt_value(a, "--policy-file", &policy_file) ||
        opt_value(a, "--path", &path) || opt_value(a, "--resource-file", &resource_file))
      continue;
    if (opt_flag(a, "--allow-all"))
      allow_all = true;
    else if (opt_flag(a, "--deny-all"))
      deny_all = true;
    else if (opt_flag(a, "--affirming"))
      affirming = true;
    else if (opt_flag(a, "--default"))
      deflt = true;
    else if (opt_flag(a, "--as-integer"))
      as_int = true;
    else if (opt_flag(a, "--as-bool"))
      as_bool = true;
    else if (opt_flag(a, "--as-single-value"))
      single = true;
    else if (a->argv[a->i][0] != '-' && npos < 2)
      pos[npos++] = a->argv[a->i++];
    else
      return fail("unexpected argument `%s`", a->argv[a->i]);
  }
  tr_err *e = NULL;
  char *tok = admin_token(token_file, &e);
  if (e) return fail_err(e);
  int rc = 0;
  if (strcmp(sub, "set-attestation-policy") == 0) {
    if (!policy_file) {
      rc = fail("%s", "the following required arguments were not provided: --policy-file <POLICY_FILE>");
    } else {
      size_t n = 0;
      char *p = read_text(policy_file, &n, &e);
      if (e) {
        rc = fail_err(e);
      } else {
        if (!id) TR_WARN("kbs-client", "no policy_id set; using default_cpu");
        char *p64 = tr_b64_encode(p, n, TR_B64_URL_NOPAD);
        json_t *b = json_pack("{s:s,s:s,s:s}", "type", type ? type : "rego", "policy_id",
                              id ? id : "default_cpu", "policy", p64);
        rc = policy_post(c, tok, "attestation-policy", b, "attestation", (uint8_t *)p, n);
        free(p64);
        free(p);
      }
    }
  } else if (strcmp(sub, "set-resource-policy") == 0) {
    int chosen = !!policy_file + allow_all + deny_all + affirming + deflt;
    const char *builtin = allow_all   ? KBS_POLICY_ALLOW_ALL
                          : deny_all  ? KBS_POLICY_DENY_ALL
                          : affirming ? KBS_POLICY_AFFIRMING
                          : deflt     ? KBS_POLICY_DEFAULT
                                      : NULL;
    if (chosen > 1) {
      rc = fail("%s",
                "set-resource-policy: --policy-file, --allow-all, --deny-all, --affirming and --default are "
                "mutually exclusive");
    } else if (!chosen) {
      rc = fail("%s", "No policy specified");
    } else {
      size_t n = 0;
      char *p = policy_file ? read_text(policy_file, &n, &e) : strdup(builtin);
      if (e) {
        rc = fail_err(e);
      } else {
        if (!policy_file) n = strlen(p);
        char *p64 = tr_b64_encode(p, n, TR_B64_URL_NOPAD);
        rc = policy_post(c, tok, "resource-policy", json_pack("{s:s}", "policy", p64), "resource",
                         (uint8_t *)p, n);
        free(p64);
        free(p);
      }
    }
  } else if (strcmp(sub, "get-resource-policy") == 0) {
    char *body = NULL;
    e = admin_call(c, tok, "GET", "resource-policy", NULL, NULL, 0, &body);
    if (e)
      rc = fail_err(e);
    else
      printf("%s\n", body ? body : "");
    free(body);
  } else if (strcmp(sub, "set-resource") == 0) {
    if (!path || !resource_file) {
      rc = fail("%s", "the following required arguments were not provided: --path <PATH> --resource-file "
                      "<RESOURCE_FILE>");
    } else {
      size_t n = 0;
      char *d = read_text(resource_file, &n, &e);
      char *rel = NULL;
      if (!e && asprintf(&rel, "resource/%s", path) < 0) rel = NULL;
      if (!e) e = admin_call(c, tok, "POST", rel, "application/octet-stream", d, n, NULL);
      if (e) {
        rc = fail_err(e);
      } else {
        char *b = tr_b64_encode(d, n, TR_B64_STD);
        printf("Set resource success \n resource: %s\n", b);
        free(b);
      }
      free(rel);
      free(d);
    }
  } else if (strcmp(sub, "delete-resource") == 0) {
    char *rel = NULL;
    if (!path) {
      rc = fail("%s", "the following required arguments were not provided: --path <PATH>");
    } else if (asprintf(&rel, "resource/%s", path) >= 0) {
      e = admin_call(c, tok, "DELETE", rel, NULL, NULL, 0, NULL);
      if (e)
        rc = fail_err(e);
      else
        printf("Delete resource success\n");
      free(rel);
    }
  } else if (strcmp(sub, "get-reference-value") == 0) {
    char *rel = NULL, *body = NULL;
    if (!id) {
      rc = fail("%s", "the following required arguments were not provided: --id <ID>");
    } else if (asprintf(&rel, "reference-value/%s", id) >= 0) {
      e = admin_call(c, tok, "GET", rel, NULL, NULL, 0, &body);
      if (e) {
        rc = fail_err(e);
      } else {
        /* Upstream prints the body with Rust's Debug formatting of a String. */
        putchar('"');
        for (const char *p = body ? body : ""; *p; p++) {
          if (*p == '"' || *p == '\\') putchar('\\');
          if (*p == '\n') {
            fputs("\\n", stdout);
            continue;
          }
          putchar(*p);
        }
        printf("\"\n");
      }
      free(body);
      free(rel);
    }
  } else if (strcmp(sub, "set-sample-reference-value") == 0) {
    if (npos != 2) {
      rc = fail("%s", "set-sample-reference-value needs NAME and VALUE");
    } else if (as_int && as_bool) {
      rc = fail("%s", "--as-integer and --as-bool are mutually exclusive");
    } else {
      json_t *v = NULL;
      char *end = NULL;
      if (as_int) {
        long long x = strtoll(pos[1], &end, 10);
        if (!*pos[1] || *end || x < -2147483648LL || x > 2147483647LL)
          rc = fail("invalid integer `%s`", pos[1]);
        else
          v = json_integer(x);
      } else if (as_bool) {
        if (strcmp(pos[1], "true") == 0)
          v = json_true();
        else if (strcmp(pos[1], "false") == 0)
          v = json_false();
        else
          rc = fail("invalid bool `%s`", pos[1]);
      } else {
        v = json_string(pos[1]);
      }
      if (v) {
        json_t *payload = json_object();
        json_object_set_new(payload, pos[0], single ? v : json_pack("[o]", v));
        char *pt = json_text(payload);
        char *p64 = tr_b64_encode(pt, strlen(pt), TR_B64_STD);
        char *b = json_text(json_pack("{s:s,s:s,s:s}", "version", "0.1.0", "type", "sample", "payload", p64));
        e = admin_call(c, tok, "POST", "reference-value", "application/json", b, strlen(b), NULL);
        if (e)
          rc = fail_err(e);
        else
          printf("Reference Values Updated\n");
        free(b);
        free(p64);
        free(pt);
      }
    }
  } else {
    rc = fail("unknown config command `%s` (see --help)", sub);
  }
  free(tok);
  return rc;
}

int main(int argc, char **argv) {
  tr_log_init();
  args a = {argc, argv, 1};
  const char *url = "http://127.0.0.1:8080", *cert = NULL;
  while (a.i < argc && argv[a.i][0] == '-') {
    if (opt_value(&a, "--url", &url) || opt_value(&a, "--cert-file", &cert)) continue;
    if (strcmp(argv[a.i], "-h") == 0 || strcmp(argv[a.i], "--help") == 0) {
      fputs(usage_text, stdout);
      return 0;
    }
    if (strcmp(argv[a.i], "-V") == 0 || strcmp(argv[a.i], "--version") == 0) {
      printf("kbs-client (trustee-c) 0.1.0\n");
      return 0;
    }
    return fail("unexpected argument `%s` (see --help)", argv[a.i]);
  }
  if (a.i >= argc) {
    fputs(usage_text, stderr);
    return 2;
  }
  const char *cmd = argv[a.i++];
  /* Accept the global options after the command too. */
  for (int j = a.i; j < argc; j++) {
    if ((strcmp(argv[j], "--url") == 0 || strcmp(argv[j], "--cert-file") == 0) && j + 1 < argc) {
      if (strcmp(argv[j], "--url") == 0)
        url = argv[j + 1];
      else
        cert = argv[j + 1];
      for (int m = j; m + 2 < argc; m++)
        argv[m] = argv[m + 2];
      argc -= 2;
      a.argc = argc;
      j--;
    }
  }
  kbs_client *c = NULL;
  tr_err *e = kbs_client_new(url, cert, &c);
  if (e) return fail_err(e);
  int rc;
  if (strcmp(cmd, "attest") == 0)
    rc = cmd_attest(c, &a);
  else if (strcmp(cmd, "get-resource") == 0)
    rc = cmd_get_resource(c, &a);
  else if (strcmp(cmd, "config") == 0)
    rc = cmd_config(c, &a);
  else
    rc = fail("unknown command `%s` (see --help)", cmd);
  kbs_client_free(c);
  return rc;
}
