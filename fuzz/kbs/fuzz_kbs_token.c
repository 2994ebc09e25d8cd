/* Fuzzes what the KBS does with a presented token and session cookie
 * (kbs_handle on GET /kbs/v0/resource/default/test/x, no sockets).
 * Input: first byte selects the mode, then "COOKIE\nREST":
 *   even: REST is sent as-is as `Authorization: Bearer REST` — header/JWK/
 *         x5c parsing, kid lookup, chain verification against a trusted CA;
 *   odd:  REST is used as the claims payload of a token the fuzzer signs
 *         (ES256, kid k1 of the trusted JWK set) — exercises everything
 *         after the signature: exp, TEE-key extraction and parsing, policy
 *         input conversion, the resource policy and the JWE to the key.
 * The KBS is resource-only (passport), Memory storage, allow-all policy. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/kbs_config.h"
#include "crypto/jwk.h"
#include "crypto/jws.h"
#include "kbs/kbs.h"

static kbs *k;
static tr_kbs_config *cfg;
static tr_jwk *signer;

static const char ca_pem[] = "-----BEGIN CERTIFICATE-----\n"
                             "MIIBezCCASGgAwIBAgIUBH0QztHZtoOzcQb1qiq7mjRkxLAwCgYIKoZIzj0EAwIw\n"
                             "EjEQMA4GA1UEAwwHZnV6ei1jYTAgFw0yNjExMjgwOTA2MjVaGA8yMTI2MTEwNDA5\n"
                             "MDYyNVowEjEQMA4GA1UEAwwHZnV6ei1jYTBZMBMGByqGSM49AgEGCCqGSM49AwEH\n"
                             "A0IABCguOn80En23A30ajEaaads8Nh64wQMds1STO4SB+fXbgChdl+KgOAcOVLXA\n"
                             "44xcLJkqtX3mE059I1x++yLFdfSjUzBRMB0GA1UdDgQWBBSpBzmxmixXfG/P++n8\n"
                             "M4DYQajvFTAfBgNVHSMEGDAWgBSpBzmxmixXfG/P++n8M4DYQajvFTAPBgNVHRMB\n"
                             "Af8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIBjX/oLoYtK0JpRYRUBAn5cMkJBr\n"
                             "hVJARLjR0EO6f4FyAiEA5dZZr1YvijR0pBp47jWnNbWaxVxFdfTbPHDToj9JWfY=\n"
                             "-----END CERTIFICATE-----\n";

static char *write_tmp(const char *dir, const char *name, const char *text) {
  char *p = NULL;
  if (asprintf(&p, "%s/%s", dir, name) < 0) abort();
  FILE *f = fopen(p, "w");
  if (!f || fputs(text, f) < 0 || fclose(f) != 0) abort();
  return p;
}

static void request(const char *method, const char *uri, const char *body, const char *const *hdrs) {
  kbs_http_req req = {.method = method,
                      .uri = uri,
                      .body = (const uint8_t *)body,
                      .body_len = strlen(body),
                      .fake_headers = hdrs};
  kbs_http_resp resp = {0};
  kbs_handle(k, &req, &resp);
  if (resp.status < 200 || resp.status > 599) abort();
  kbs_http_resp_clear(&resp);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  char dir[] = "/tmp/fuzz-kbs-token-XXXXXX";
  if (!mkdtemp(dir)) abort();
  if (tr_jwk_generate("P-256", &signer) || !tr_jwk_set_alg(signer, "ES256") || !tr_jwk_set_kid(signer, "k1"))
    abort();
  json_t *pub = tr_jwk_to_json(signer, false);
  json_t *set = json_pack("{s:[o]}", "keys", pub);
  char *set_text = json_dumps(set, JSON_COMPACT);
  json_decref(set);
  char *ca = write_tmp(dir, "ca.pem", ca_pem), *jwks = write_tmp(dir, "jwks.json", set_text);
  free(set_text);
  char *config = NULL;
  if (asprintf(&config,
               "[http_server]\ninsecure_http = true\n"
               "[attestation_token]\ntrusted_certs_paths = [\"%s\"]\ntrusted_jwk_sets = [\"file://%s\"]\n"
               "[attestation_service]\ntype = \"none\"\n"
               "[admin]\nauthorization_mode = \"InsecureAllowAll\"\n"
               "[[plugins]]\nname = \"resource\"\nstorage_backend_type = \"kvstorage\"\n",
               ca, jwks) < 0)
    abort();
  tr_err *e = tr_kbs_config_parse(config, "fuzz.toml", &cfg);
  if (!e) e = kbs_new(cfg, &k);
  if (e) {
    fprintf(stderr, "fuzz_kbs_token: %s\n", tr_err_msg(e));
    abort();
  }
  free(config);
  unlink(ca);
  unlink(jwks);
  rmdir(dir);
  free(ca);
  free(jwks);
  /* allow-all policy (base64url of "package policy\ndefault allow = true\n") and one resource */
  request("POST", "/kbs/v0/resource-policy",
          "{\"policy\":\"cGFja2FnZSBwb2xpY3kKZGVmYXVsdCBhbGxvdyA9IHRydWUK\"}", NULL);
  request("POST", "/kbs/v0/resource/default/test/x", "secret", NULL);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  int signed_mode = data[0] & 1;
  data++, size--;
  const uint8_t *nl = memchr(data, '\n', size);
  if (!nl) return 0;
  char *cookie = strndup((const char *)data, (size_t)(nl - data));
  char *rest = strndup((const char *)nl + 1, size - (size_t)(nl + 1 - data));
  char *token = NULL, *bearer = NULL;
  if (!cookie || !rest) goto out;
  if (signed_mode) {
    json_t *hdr = json_pack("{s:s}", "kid", "k1");
    tr_err *e = tr_jws_sign(signer, "ES256", hdr, rest, strlen(rest), &token);
    json_decref(hdr);
    if (e) {
      tr_err_free(e);
      goto out;
    }
  } else {
    token = strdup(rest);
  }
  if (!token || asprintf(&bearer, "Bearer %s", token) < 0) goto out;
  const char *hdrs[] = {"Authorization", bearer, *cookie ? "Cookie:kbs-session-id" : NULL, cookie, NULL};
  request("GET", "/kbs/v0/resource/default/test/x", "", hdrs);
out:
  free(bearer);
  free(token);
  free(rest);
  free(cookie);
  return 0;
}
