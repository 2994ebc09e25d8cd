/* client.c — see client.h. */
#include "client/client.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/digest.h"
#include "core/encoding.h"
#include "core/jcs.h"
#include "core/json.h"
#include "core/log.h"
#include "crypto/jwe.h"
#include "crypto/jwk.h"

#define RESP_MAX (64u << 20)

struct kbs_client {
  char *url;
  CURL *curl;
  tr_jwk *key;
  char *tee;
  char *evidence; /* JSON text or NULL */
  char *init_data;
  int rcar_attempts, get_attempts;
  unsigned pause_ms;
};

tr_err *kbs_client_new(const char *url, const char *ca_file, kbs_client **out) {
  static bool inited;
  if (!inited) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    inited = true;
  }
  kbs_client *c = calloc(1, sizeof *c);
  if (!c) return tr_err_new(TR_E_NOMEM, "out of memory");
  c->url = strdup(url);
  size_t n = strlen(c->url);
  while (n && c->url[n - 1] == '/')
    c->url[--n] = 0;
  c->tee = strdup("sample");
  c->rcar_attempts = 5;
  c->get_attempts = 3;
  c->pause_ms = 1000;
  c->curl = curl_easy_init();
  if (!c->curl || !c->url || !c->tee) {
    kbs_client_free(c);
    return tr_err_new(TR_E_NOMEM, "out of memory");
  }
  curl_easy_setopt(c->curl, CURLOPT_COOKIEFILE, ""); /* cookie engine: kbs-session-id */
  curl_easy_setopt(c->curl, CURLOPT_USERAGENT, "kbs-client/0.1.0");
  curl_easy_setopt(c->curl, CURLOPT_TIMEOUT, 60L);
  curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
  if (ca_file) curl_easy_setopt(c->curl, CURLOPT_CAINFO, ca_file);
  *out = c;
  return NULL;
}

void kbs_client_free(kbs_client *c) {
  if (!c) return;
  if (c->curl) curl_easy_cleanup(c->curl);
  tr_jwk_free(c->key);
  free(c->url);
  free(c->tee);
  free(c->evidence);
  free(c->init_data);
  free(c);
}

tr_err *kbs_client_set_tee_key_pem(kbs_client *c, const char *pem, size_t len) {
  tr_jwk *k = NULL;
  tr_err *e = tr_jwk_from_pem(pem, len, &k);
  if (e) return tr_err_wrap(e, "TEE key");
  if (!tr_jwk_is_private(k)) {
    tr_jwk_free(k);
    return tr_err_new(TR_E_INVALID, "TEE key: a private key is required (it decrypts the resources)");
  }
  tr_jwk_free(c->key);
  c->key = k;
  return NULL;
}

tr_err *kbs_client_generate_tee_key(kbs_client *c, const char *kind) {
  tr_jwk *k = NULL;
  tr_err *e = tr_jwk_generate(kind, &k);
  if (e) return tr_err_wrap(e, "TEE key");
  tr_jwk_free(c->key);
  c->key = k;
  return NULL;
}

tr_err *kbs_client_set_evidence(kbs_client *c, const char *tee, const char *evidence_json) {
  json_t *v = NULL;
  tr_err *e = tr_json_parse(evidence_json, strlen(evidence_json), &v);
  json_decref(v);
  if (e) return tr_err_wrap(e, "evidence");
  free(c->evidence);
  c->evidence = strdup(evidence_json);
  if (tee) kbs_client_set_tee(c, tee);
  return NULL;
}

void kbs_client_set_tee(kbs_client *c, const char *tee) {
  free(c->tee);
  c->tee = strdup(tee);
}

void kbs_client_set_init_data(kbs_client *c, const char *toml) {
  free(c->init_data);
  c->init_data = toml ? strdup(toml) : NULL;
}

void kbs_client_set_retries(kbs_client *c, int rcar_attempts, int get_attempts, unsigned pause_ms) {
  c->rcar_attempts = rcar_attempts > 0 ? rcar_attempts : 1;
  c->get_attempts = get_attempts > 0 ? get_attempts : 1;
  c->pause_ms = pause_ms;
}

/* ------------------------------------------------------------------ HTTP */

static size_t write_cb(char *p, size_t sz, size_t nm, void *ud) {
  tr_buf *b = ud;
  size_t n = sz * nm;
  if (b->len + n > RESP_MAX) return 0;
  return tr_buf_append(b, p, n) ? n : 0;
}

tr_err *kbs_client_request(kbs_client *c, const char *method, const char *rel, const char *token,
                           const char *content_type, const void *body, size_t len, long *status,
                           char **resp_body, size_t *resp_len) {
  char *url = NULL;
  if (asprintf(&url, "%s/kbs/v0/%s", c->url, rel) < 0) return tr_err_new(TR_E_NOMEM, "out of memory");
  CURL *h = c->curl;
  tr_buf b = TR_BUF_INIT;
  struct curl_slist *hdrs = NULL;
  char *auth = NULL, *ct = NULL;
  if (token && asprintf(&auth, "Authorization: Bearer %s", token) >= 0) hdrs = curl_slist_append(hdrs, auth);
  if (content_type && asprintf(&ct, "Content-Type: %s", content_type) >= 0)
    hdrs = curl_slist_append(hdrs, ct);
  hdrs = curl_slist_append(hdrs, "Expect:");
  curl_easy_setopt(h, CURLOPT_URL, url);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
  curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, NULL);
  curl_easy_setopt(h, CURLOPT_NOBODY, 0L);
  if (strcmp(method, "GET") == 0) {
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
  } else if (strcmp(method, "POST") == 0) {
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body ? body : "");
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? len : 0));
  } else {
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
  }
  CURLcode rc = curl_easy_perform(h);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
  curl_slist_free_all(hdrs);
  free(auth);
  free(ct);
  tr_err *e = NULL;
  if (rc != CURLE_OK) {
    e = tr_err_new(TR_E_IO, "%s %s: %s", method, url, curl_easy_strerror(rc));
    tr_buf_free(&b);
  } else {
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
    size_t n = 0;
    char *d = (char *)tr_buf_steal(&b, &n);
    if (resp_body)
      *resp_body = d;
    else
      free(d);
    if (resp_len) *resp_len = n;
  }
  free(url);
  return e;
}

/* "<status>: <body>" error for an unexpected answer. */
static tr_err *http_error(const char *what, long status, const char *body) {
  return tr_err_new(status == 401 ? TR_E_AUTH : TR_E_IO, "%s: HTTP %ld: %s", what, status,
                    body && *body ? body : "(empty body)");
}

/* ------------------------------------------------------------------ RCAR */

static json_t *tee_pubkey(const tr_jwk *k) {
  json_t *j = tr_jwk_to_json(k, false);
  json_t *o = NULL;
  if (tr_jwk_kty(k) == TR_KTY_EC) {
    o = json_pack("{s:s,s:O,s:s,s:O,s:O}", "kty", "EC", "crv", json_object_get(j, "crv"), "alg",
                  "ECDH-ES+A256KW", "x", json_object_get(j, "x"), "y", json_object_get(j, "y"));
  } else if (tr_jwk_kty(k) == TR_KTY_RSA) {
    o = json_pack("{s:s,s:s,s:O,s:O}", "kty", "RSA", "alg", "RSA-OAEP-256", "n", json_object_get(j, "n"), "e",
                  json_object_get(j, "e"));
  }
  json_decref(j);
  return o;
}

static tr_err *digest_b64(const json_t *v, tr_digest_alg alg, char **out) {
  uint8_t d[TR_DIGEST_MAX];
  size_t n = 0;
  tr_err *e = tr_jcs_digest(v, alg, d, &n);
  if (e) return e;
  *out = tr_b64_encode(d, n, TR_B64_STD);
  return *out ? NULL : tr_err_new(TR_E_NOMEM, "out of memory");
}

static tr_err *rcar_once(kbs_client *c, char **token) {
  json_t *req = json_pack("{s:s,s:s,s:{s:[s,s,s,s]}}", "version", "0.4.0", "tee", c->tee, "extra-params",
                          "supported-hash-algorithms", "sha256", "sha384", "sha512", "sm3");
  char *rb = tr_json_dump_compact(req);
  json_decref(req);
  long st = 0;
  char *body = NULL;
  size_t blen = 0;
  tr_err *e =
      kbs_client_request(c, "POST", "auth", NULL, "application/json", rb, strlen(rb), &st, &body, &blen);
  free(rb);
  if (!e && st != 200) e = http_error("/auth", st, body);
  json_t *ch = NULL, *rd = NULL, *pk = NULL, *att = NULL;
  char *add = NULL, *b64 = NULL, *ab = NULL;
  if (!e) e = tr_json_parse(body, blen, &ch);
  const char *nonce = NULL;
  if (!e) e = tr_json_get_string(ch, "challenge", "nonce", &nonce);
  if (e) goto out;
  tr_digest_alg alg = TR_SHA384;
  const json_t *ep = json_object_get(ch, "extra-params");
  const char *sel = NULL;
  if (json_is_object(ep)) {
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)ep, k, v) if (strcasecmp(k, "selected-hash-algorithm") == 0) sel =
        json_string_value(v);
  }
  if (sel && !(alg = tr_digest_alg_from_name(sel))) {
    e = tr_err_new(TR_E_UNSUPPORTED, "challenge selects unknown hash `%s`", sel);
    goto out;
  }
  pk = tee_pubkey(c->key);
  rd = json_pack("{s:s,s:O}", "nonce", nonce, "tee-pubkey", pk);
  if (getenv("ENABLE_SAMPLE_DEVICE") && !c->evidence) {
    if ((e = digest_b64(rd, alg, &b64))) goto out;
    json_t *dev = json_pack("{s:{s:s,s:s}}", "sampledevice", "svn", "2", "report_data", b64);
    add = tr_json_dump_compact(dev);
    json_decref(dev);
    free(b64);
    b64 = NULL;
  } else {
    add = strdup("");
  }
  json_t *primary = NULL;
  if (c->evidence) {
    e = tr_json_parse(c->evidence, strlen(c->evidence), &primary);
  } else {
    json_t *bind = json_pack("{s:s,s:s,s:O}", "additional-evidence", add, "nonce", nonce, "tee-pubkey", pk);
    e = digest_b64(bind, alg, &b64);
    json_decref(bind);
    if (!e) primary = json_pack("{s:s,s:s}", "svn", "1", "report_data", b64);
  }
  if (e) goto out;
  att = json_pack("{s:O,s:{s:o,s:s}}", "runtime-data", rd, "tee-evidence", "primary_evidence", primary,
                  "additional_evidence", add);
  if (c->init_data)
    json_object_set_new(att, "init-data", json_pack("{s:s,s:s}", "format", "toml", "body", c->init_data));
  ab = tr_json_dump_compact(att);
  free(body);
  body = NULL;
  e = kbs_client_request(c, "POST", "attest", NULL, "application/json", ab, strlen(ab), &st, &body, &blen);
  if (!e && st != 200) e = http_error("/attest", st, body);
  json_t *tr = NULL;
  const char *tok = NULL;
  if (!e) e = tr_json_parse(body, blen, &tr);
  if (!e) e = tr_json_get_string(tr, "attest response", "token", &tok);
  if (!e) *token = strdup(tok);
  json_decref(tr);
out:
  json_decref(ch);
  json_decref(rd);
  json_decref(pk);
  json_decref(att);
  free(add);
  free(b64);
  free(ab);
  free(body);
  return e;
}

static tr_err *ensure_key(kbs_client *c) { return c->key ? NULL : kbs_client_generate_tee_key(c, "P-256"); }

tr_err *kbs_client_attest(kbs_client *c, char **token) {
  tr_err *e = ensure_key(c);
  for (int i = 0; !e && i < c->rcar_attempts; i++) {
    e = rcar_once(c, token);
    if (!e) return NULL;
    if (i + 1 < c->rcar_attempts) {
      TR_WARN("kbs-client", "RCAR attempt %d failed: %s", i + 1, tr_err_msg(e));
      tr_err_free(e);
      e = NULL;
      usleep(c->pause_ms * 1000);
    }
  }
  return e ? tr_err_wrap(e, "RCAR handshake failed") : tr_err_new(TR_E_INTERNAL, "no RCAR attempt");
}

static tr_err *decrypt(kbs_client *c, const char *body, size_t len, uint8_t **out, size_t *olen) {
  tr_err *e = tr_jwe_decrypt(c->key, body, len, out, olen);
  return e ? tr_err_wrap(e, "decrypting the resource") : NULL;
}

static tr_err *get_loop(kbs_client *c, const char *path, const char *token, uint8_t **out, size_t *len) {
  tr_err *e = ensure_key(c);
  if (e) return e;
  char *rel = NULL;
  if (asprintf(&rel, "resource/%s", path) < 0) return tr_err_new(TR_E_NOMEM, "out of memory");
  char *last = NULL;
  for (int i = 0; i < c->get_attempts; i++) {
    long st = 0;
    char *body = NULL;
    size_t blen = 0;
    e = kbs_client_request(c, "GET", rel, token, NULL, NULL, 0, &st, &body, &blen);
    if (e) break;
    if (st == 200) {
      e = decrypt(c, body, blen, out, len);
      free(body);
      free(rel);
      free(last);
      return e;
    }
    if (st == 404) {
      e = tr_err_new(TR_E_NOTFOUND, "resource not found: %s", body && *body ? body : path);
      free(body);
      break;
    }
    if (st != 401) {
      e = tr_err_new(TR_E_IO, "KBS Server Internal Failed: HTTP %ld: %s", st, body ? body : "");
      free(body);
      break;
    }
    free(last);
    last = body;
    TR_INFO("kbs-client", "GET %s: 401 %s", path, body ? body : "");
    if (!token) {
      /* Not attested (or refused): run RCAR, then try again. */
      char *t = NULL;
      e = kbs_client_attest(c, &t);
      free(t);
      if (e) break;
    }
  }
  if (!e) {
    if (last) TR_WARN("kbs-client", "last KBS answer: %s", last);
    e = tr_err_new(TR_E_AUTH, "request unauthorized");
  }
  free(last);
  free(rel);
  return e;
}

tr_err *kbs_client_get_resource(kbs_client *c, const char *path, uint8_t **out, size_t *len) {
  return get_loop(c, path, NULL, out, len);
}

tr_err *kbs_client_get_resource_with_token(kbs_client *c, const char *path, const char *token, uint8_t **out,
                                           size_t *len) {
  if (!c->key) return tr_err_new(TR_E_INVALID, "a TEE key matching the token's tee-pubkey is required");
  return get_loop(c, path, token, out, len);
}
