/* interop_tool — a small CLI over the crypto module for the jwcrypto interop
 * test (interop_jwcrypto.py). Test-only; not installed.
 *
 *   interop_tool gen <kind>                           -> private JWK
 *   interop_tool pubjwk <jwk-file>                    -> public JWK
 *   interop_tool thumbprint <jwk-file>                -> RFC 7638 SHA-256, b64url
 *   interop_tool encrypt <jwk-file> <alg> <enc> <compact|flat>   stdin -> JWE
 *   interop_tool decrypt <jwk-file>                   stdin JWE -> plaintext
 *   interop_tool sign <jwk-file> <alg>                stdin payload -> compact JWS
 *   interop_tool verify <jwk-file> <alg>              stdin JWS -> payload
 * Exit status 1 and the error on stderr on failure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/encoding.h"
#include "core/json.h"
#include "crypto/jwe.h"
#include "crypto/jwk.h"
#include "crypto/jws.h"

static tr_buf read_stdin(void) {
  tr_buf b = TR_BUF_INIT;
  char chunk[4096];
  size_t n;
  while ((n = fread(chunk, 1, sizeof chunk, stdin)) > 0)
    tr_buf_append(&b, chunk, n);
  if (!b.data) tr_buf_append(&b, "", 0);
  return b;
}

static int fail(tr_err *e) {
  fprintf(stderr, "error: %s\n", tr_err_msg(e));
  tr_err_free(e);
  return 1;
}

static tr_err *load(const char *path, tr_jwk **k) {
  uint8_t *d = NULL;
  size_t n = 0;
  tr_err *e = tr_read_file(path, 0, &d, &n);
  if (!e) e = tr_jwk_from_json_text((const char *)d, n, k);
  free(d);
  return e;
}

static int print_json(json_t *j) {
  char *s = tr_json_dump_compact(j);
  fputs(s, stdout);
  free(s);
  json_decref(j);
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: see the comment at the top of interop_tool.c\n");
    return 2;
  }
  const char *cmd = argv[1];
  tr_jwk *k = NULL;
  tr_err *e = NULL;
  int rc = 0;
  if (strcmp(cmd, "gen") == 0) {
    if ((e = tr_jwk_generate(argv[2], &k))) return fail(e);
    rc = print_json(tr_jwk_to_json(k, true));
    tr_jwk_free(k);
    return rc;
  }
  if ((e = load(argv[2], &k))) return fail(e);
  tr_buf in = TR_BUF_INIT;
  if (strcmp(cmd, "pubjwk") == 0) {
    rc = print_json(tr_jwk_to_json(k, false));
  } else if (strcmp(cmd, "thumbprint") == 0) {
    uint8_t d[TR_DIGEST_MAX];
    size_t n;
    if (!(e = tr_jwk_thumbprint(k, TR_SHA256, d, &n))) {
      char *s = tr_b64_encode(d, n, TR_B64_URL_NOPAD);
      fputs(s, stdout);
      free(s);
    }
  } else if (strcmp(cmd, "encrypt") == 0 && argc == 6) {
    in = read_stdin();
    if (strcmp(argv[5], "compact") == 0) {
      char *out = NULL;
      if (!(e = tr_jwe_encrypt_compact(k, argv[3], argv[4], in.data, in.len, &out))) fputs(out, stdout);
      free(out);
    } else {
      json_t *o = NULL;
      if (!(e = tr_jwe_encrypt_flattened(k, argv[3], argv[4], in.data, in.len, &o))) print_json(o);
    }
  } else if (strcmp(cmd, "decrypt") == 0) {
    in = read_stdin();
    uint8_t *pt = NULL;
    size_t n = 0;
    if (!(e = tr_jwe_decrypt(k, (const char *)in.data, in.len, &pt, &n))) fwrite(pt, 1, n, stdout);
    free(pt);
  } else if (strcmp(cmd, "sign") == 0 && argc == 4) {
    in = read_stdin();
    char *out = NULL;
    json_t *extra = json_pack("{s:s}", "typ", "JWT");
    if (!(e = tr_jws_sign(k, argv[3], extra, in.data, in.len, &out))) fputs(out, stdout);
    json_decref(extra);
    free(out);
  } else if (strcmp(cmd, "verify") == 0 && argc == 4) {
    in = read_stdin();
    tr_jws j;
    if (!(e = tr_jws_parse((const char *)in.data, in.len, &j))) {
      if (!(e = tr_jws_verify(&j, k, argv[3]))) fwrite(j.payload, 1, j.payload_len, stdout);
      tr_jws_clear(&j);
    }
  } else {
    fprintf(stderr, "unknown command or wrong arguments: %s\n", cmd);
    rc = 2;
  }
  tr_buf_free(&in);
  tr_jwk_free(k);
  return e ? fail(e) : rc;
}
