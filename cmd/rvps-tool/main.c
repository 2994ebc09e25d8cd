/* rvps-tool — client of an RVPS (rvps, or grpc-as's RVPS service):
 *
 *   rvps-tool register -p|--path MESSAGE.json [-a|--addr ADDR]
 *   rvps-tool query    -r|--reference-value-id ID [-a|--addr ADDR]
 *   rvps-tool list     [-a|--addr ADDR]
 *   rvps-tool delete   -r|--reference-value-id ID [-a|--addr ADDR]
 *
 * ADDR defaults to http://127.0.0.1:50003 (upstream). query prints the JSON
 * value on stdout, or "No reference values found for the given id" on
 * stderr with an empty stdout and exit status 0 (upstream); list prints the stored
 * records as a JSON array. Errors: "rvps-tool: <message>", exit 1; usage
 * errors exit 2. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/json.h"
#include "core/log.h"
#include "grpc/as_client.h"

static void usage(FILE *f) {
  fprintf(f, "usage: rvps-tool register -p MESSAGE.json [-a ADDR]\n"
             "       rvps-tool query -r REFERENCE_VALUE_ID [-a ADDR]\n"
             "       rvps-tool list [-a ADDR]\n"
             "       rvps-tool delete -r REFERENCE_VALUE_ID [-a ADDR]\n"
             "  -a, --addr                 RVPS address (default http://127.0.0.1:50003)\n"
             "  -p, --path                 reference value message {\"version\",\"type\",\"payload\"}\n"
             "  -r, --reference-value-id   reference value name\n");
}

static int fail(tr_err *e) {
  fprintf(stderr, "rvps-tool: %s\n", tr_err_msg(e));
  tr_err_free(e);
  return 1;
}

int main(int argc, char **argv) {
  tr_log_init();
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  const char *verb = argv[1];
  if (strcmp(verb, "-h") == 0 || strcmp(verb, "--help") == 0 || strcmp(verb, "help") == 0) {
    usage(stdout);
    return 0;
  }
  const char *addr = "http://127.0.0.1:50003", *path = NULL, *id = NULL;
  static const struct option opts[] = {{"addr", required_argument, NULL, 'a'},
                                       {"path", required_argument, NULL, 'p'},
                                       {"reference-value-id", required_argument, NULL, 'r'},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
  optind = 2;
  int c;
  while ((c = getopt_long(argc, argv, "a:p:r:h", opts, NULL)) != -1) {
    switch (c) {
    case 'a': addr = optarg; break;
    case 'p': path = optarg; break;
    case 'r': id = optarg; break;
    case 'h': usage(stdout); return 0;
    default: usage(stderr); return 2;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "rvps-tool: unexpected argument `%s`\n", argv[optind]);
    return 2;
  }
  bool reg = strcmp(verb, "register") == 0, query = strcmp(verb, "query") == 0,
       list = strcmp(verb, "list") == 0, del = strcmp(verb, "delete") == 0;
  if (!reg && !query && !list && !del) {
    fprintf(stderr, "rvps-tool: unknown command `%s` (expected register, query, list or delete)\n", verb);
    return 2;
  }
  if (reg && !path) {
    fprintf(stderr, "rvps-tool: register needs --path MESSAGE.json\n");
    return 2;
  }
  if ((query || del) && !id) {
    fprintf(stderr, "rvps-tool: %s needs --reference-value-id ID\n", verb);
    return 2;
  }
  tr_grpc_rvps_config cfg = {.address = addr, .pool_size = 1, .connect_ms = -1};
  tr_rvps *r = NULL;
  tr_err *e = tr_grpc_rvps_remote_new(&cfg, &r);
  if (e) return fail(e);
  if (reg) {
    uint8_t *msg = NULL;
    size_t len = 0;
    e = tr_read_file(path, 64u << 20, &msg, &len);
    if (e) e = tr_err_wrap(e, "read provenance");
    if (!e) e = tr_rvps_register(r, (const char *)msg, len);
    free(msg);
    if (!e) TR_INFO("rvps-tool", "Register provenance succeeded.");
  } else if (query) {
    json_t *v = NULL;
    e = tr_rvps_query(r, id, &v);
    if (!e && v) {
      char *t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
      printf("%s\n", t ? t : "");
      free(t);
    } else if (!e) { /* upstream says so and exits 0; stdout stays empty */
      fprintf(stderr, "No reference values found for the given id\n");
    }
    json_decref(v);
  } else if (list) {
    json_t *v = NULL;
    e = tr_rvps_list(r, &v);
    if (!e) {
      char *t = json_dumps(v, JSON_INDENT(2));
      printf("%s\n", t ? t : "[]");
      free(t);
    }
    json_decref(v);
  } else {
    e = tr_rvps_delete(r, id);
    if (!e) TR_INFO("rvps-tool", "Delete reference value `%s` succeeded.", id);
  }
  tr_rvps_free(r);
  return e ? fail(e) : 0;
}
