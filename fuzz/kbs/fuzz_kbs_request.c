/* Fuzzes the whole dispatcher (kbs_handle) without sockets: input is
 * "METHOD\nURI\nBODY". The KBS runs the built-in AS on Memory storage with
 * InsecureAllowAll admin, so /auth, /attest, admin bodies, resource paths
 * and policies are all reachable. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/kbs_config.h"
#include "kbs/kbs.h"

static kbs *k;
static tr_kbs_config *cfg;

static const char config[] = "[http_server]\ninsecure_http = true\n"
                             "[attestation_token]\ninsecure_header_jwk = true\n"
                             "[admin]\nauthorization_mode = \"InsecureAllowAll\"\n"
                             "[[plugins]]\nname = \"resource\"\nstorage_backend_type = \"kvstorage\"\n"
                             "[[plugins]]\nname = \"sample\"\nitem = \"x\"\n";

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  tr_err *e = tr_kbs_config_parse(config, "fuzz.toml", &cfg);
  if (!e) e = kbs_new(cfg, &k);
  if (e) abort();
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const uint8_t *nl1 = memchr(data, '\n', size);
  if (!nl1) return 0;
  const uint8_t *nl2 = memchr(nl1 + 1, '\n', size - (size_t)(nl1 + 1 - data));
  if (!nl2) return 0;
  char *method = strndup((const char *)data, (size_t)(nl1 - data));
  char *uri = strndup((const char *)nl1 + 1, (size_t)(nl2 - nl1 - 1));
  if (!method || !uri || uri[0] != '/') goto out;
  kbs_http_req req = {
      .method = method, .uri = uri, .body = nl2 + 1, .body_len = size - (size_t)(nl2 + 1 - data)};
  kbs_http_resp resp = {0};
  kbs_handle(k, &req, &resp);
  if (resp.status < 200 || resp.status > 599) abort();
  kbs_http_resp_clear(&resp);
out:
  free(method);
  free(uri);
  return 0;
}
