/* fetch.c — keys and key sets from files or https (start-up only). */
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/json.h"
#include "kbs/internal.h"

#define FETCH_MAX (4u << 20)

static size_t write_cb(char *ptr, size_t size, size_t nmemb, void *ud) {
  tr_buf *b = ud;
  size_t n = size * nmemb;
  if (b->len + n > FETCH_MAX) return 0;
  return tr_buf_append(b, ptr, n) ? n : 0;
}

static tr_err *https_get(const char *url, uint8_t **out, size_t *len) {
  CURL *c = curl_easy_init();
  if (!c) return tr_err_new(TR_E_NOMEM, "curl_easy_init failed");
  tr_buf b = TR_BUF_INIT;
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
  curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "https");
  /* Tests (and private PKIs) point this at their CA bundle. */
  const char *ca = getenv("KBS_FETCH_CA_FILE");
  if (ca && *ca) curl_easy_setopt(c, CURLOPT_CAINFO, ca);
  CURLcode rc = curl_easy_perform(c);
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(c);
  if (rc != CURLE_OK) {
    tr_buf_free(&b);
    return tr_err_new(TR_E_IO, "GET %s: %s", url, curl_easy_strerror(rc));
  }
  if (status != 200) {
    tr_buf_free(&b);
    return tr_err_new(TR_E_IO, "GET %s: HTTP status %ld", url, status);
  }
  *out = tr_buf_steal(&b, len);
  return NULL;
}

tr_err *kbs_fetch_uri(const char *uri, uint8_t **out, size_t *len) {
  if (strncmp(uri, "https://", 8) == 0) return https_get(uri, out, len);
  const char *path = uri;
  if (strncmp(uri, "file://", 7) == 0)
    path = uri + 7;
  else if (strstr(uri, "://"))
    return tr_err_new(TR_E_UNSUPPORTED, "`%s`: only file:// and https:// are supported", uri);
  return tr_read_file(path, FETCH_MAX, out, len);
}

static tr_err *jwks_from_bytes(const char *src, const uint8_t *d, size_t n, tr_jwks *out) {
  json_t *j = NULL;
  tr_err *e = tr_json_parse((const char *)d, n, &j);
  if (!e) e = tr_jwks_from_json(j, out);
  json_decref(j);
  if (!e && out->len == 0) e = tr_err_new(TR_E_INVALID, "no keys");
  return e ? tr_err_wrap(e, "JWKS %s", src) : NULL;
}

tr_err *kbs_load_jwks(const char *uri, tr_jwks *out) {
  memset(out, 0, sizeof *out);
  uint8_t *d = NULL;
  size_t n = 0;
  tr_err *e = kbs_fetch_uri(uri, &d, &n);
  if (!e) e = jwks_from_bytes(uri, d, n, out);
  free(d);
  if (!e || strncmp(uri, "https://", 8) != 0) return e;
  /* OpenID discovery: <url>/.well-known/openid-configuration → jwks_uri. */
  tr_err_free(e);
  tr_jwks_clear(out);
  char *disc = NULL;
  size_t ul = strlen(uri);
  if (asprintf(&disc, "%s%s.well-known/openid-configuration", uri, ul && uri[ul - 1] == '/' ? "" : "/") < 0)
    return tr_err_new(TR_E_NOMEM, "out of memory");
  e = https_get(disc, &d, &n);
  json_t *cfg = NULL;
  const char *jwks_uri = NULL;
  if (!e) e = tr_json_parse((const char *)d, n, &cfg);
  free(d);
  d = NULL;
  if (!e) e = tr_json_get_string(cfg, NULL, "jwks_uri", &jwks_uri);
  if (!e && strncmp(jwks_uri, "https://", 8) != 0)
    e = tr_err_new(TR_E_INVALID, "jwks_uri `%s` is not https", jwks_uri);
  if (!e) e = https_get(jwks_uri, &d, &n);
  if (!e) e = jwks_from_bytes(jwks_uri, d, n, out);
  free(d);
  json_decref(cfg);
  if (e) e = tr_err_wrap(e, "%s is neither a JWKS nor an OpenID issuer (%s)", uri, disc);
  free(disc);
  return e;
}
