/* source.c — where DCAP collateral comes from.
 *
 * Order for one (TEE, FMSPC, PCK CA kind):
 *   1. in-memory bundles (tr_dcap_add_bundle, `collateral_bundles` files in
 *      the dcap-qvl JSON shape), matched by their TCB info id and FMSPC;
 *   2. the on-disk cache (`cache_dir`): one file per key,
 *      {sgx|tdx}-{FMSPC}-{platform|processor}-{early|standard}.json, in the
 *      same bundle shape, used while every nextUpdate is in the future;
 *   3. the configured service: a PCS/PCCS base URL (Intel PCS v4 API:
 *      .../{sgx|tdx}/certification/v4/tcb, /qe/identity, sgx/.../pckcrl,
 *      root CA CRL from the root's CRL distribution point on Intel's PCS,
 *      .../rootcacrl on a PCCS), or `file://` = the PCS client tool's JSON.
 *      A successful fetch is written to the cache (atomically);
 *   4. a stale cache entry when the service fails (the verifier's expired-
 *      collateral policy then decides).
 * Nothing here is trusted: the caller verifies every signature and chain.
 * One mutex serialises fetches (collateral is per FMSPC, fetched rarely). */
#include <curl/curl.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "core/buf.h"
#include "core/encoding.h"
#include "core/json.h"
#include "core/log.h"
#include "core/time.h"
#include "verifier/dcap/dcap_internal.h"
#include "verifier/intel_roots/intel_roots.h"

#define INTEL_PCS "https://api.trustedservices.intel.com/sgx/certification/v4/"
#define MAX_BODY (4 * 1024 * 1024)

typedef enum { SRC_HTTP, SRC_FILE } src_kind;

typedef struct {
  uint32_t tee;
  uint8_t fmspc[6];
  tr_dcap_collateral_raw raw;
} mem_bundle;

struct tr_dcap_sources {
  src_kind kind;
  char *base; /* HTTP: scheme://host[:port]/ */
  bool is_pcs, secure;
  char *file; /* file:// path */
  char *cache_dir;
  char update[16];
  long timeout_ms;
  pthread_mutex_t mu;
  mem_bundle *mem;
  size_t nmem;
  char desc[512];
};

/* ---- configuration ------------------------------------------------------------- */

/* sgx_default_qcnl.conf is JSON with `//` comment lines. */
static tr_err *qcnl_url(const char *path, char **url) {
  *url = NULL;
  uint8_t *txt;
  size_t n;
  if (tr_read_file(path, 1 << 20, &txt, &n) != NULL) return NULL; /* absent: not an error */
  tr_buf b = TR_BUF_INIT;
  for (char *line = (char *)txt; line && *line;) {
    char *nl = strchr(line, '\n');
    size_t len = nl ? (size_t)(nl - line + 1) : strlen(line);
    const char *p = line;
    while (*p == ' ' || *p == '\t')
      p++;
    if (!(p[0] == '/' && p[1] == '/')) tr_buf_append(&b, line, len);
    line = nl ? nl + 1 : NULL;
  }
  free(txt);
  json_t *conf = NULL;
  tr_err *e = tr_json_parse((const char *)b.data, b.len, &conf);
  tr_buf_free(&b);
  if (e) return tr_err_wrap(e, "%s", path);
  const char *u = NULL;
  e = tr_json_opt_string(conf, path, "collateral_service", &u);
  if (!e && !u) e = tr_json_opt_string(conf, path, "pccs_url", &u);
  if (!e && u && !(*url = strdup(u))) e = tr_err_new(TR_E_NOMEM, "out of memory");
  json_decref(conf);
  return e;
}

static tr_err *set_service(tr_dcap_sources *s, const char *url) {
  if (strncmp(url, "file://", 7) == 0) {
    s->kind = SRC_FILE;
    s->file = strdup(url + 7);
    if (!s->file) return tr_err_new(TR_E_NOMEM, "out of memory");
    snprintf(s->desc, sizeof(s->desc), "%s", url);
    return NULL;
  }
  const char *sep = strstr(url, "://");
  if (!sep || (strncasecmp(url, "http://", 7) != 0 && strncasecmp(url, "https://", 8) != 0))
    return tr_err_new(TR_E_INVALID,
                      "dcap_verifier.collateral_service: \"%s\" is not an http(s):// or file:// URL", url);
  const char *host = sep + 3, *end = host + strcspn(host, "/?#");
  if (end == host)
    return tr_err_new(TR_E_INVALID, "dcap_verifier.collateral_service: \"%s\" has no host", url);
  /* As upstream: the path is dropped, endpoints are built from the root. */
  if (asprintf(&s->base, "%.*s/", (int)(end - url), url) < 0) return tr_err_new(TR_E_NOMEM, "out of memory");
  size_t hl = (size_t)(end - host);
  const char *pcs = "api.trustedservices.intel.com";
  s->is_pcs = hl == strlen(pcs) && strncasecmp(host, pcs, hl) == 0;
  s->kind = SRC_HTTP;
  snprintf(s->desc, sizeof(s->desc), "%s", s->base);
  return NULL;
}

tr_err *tr_dcap_sources_new(const json_t *cfg, tr_dcap_sources **out) {
  *out = NULL;
  tr_dcap_sources *s = calloc(1, sizeof(*s));
  if (!s) return tr_err_new(TR_E_NOMEM, "out of memory");
  pthread_mutex_init(&s->mu, NULL);
  s->secure = true;
  s->timeout_ms = 10000;
  strcpy(s->update, "early");
  const char *L = "dcap_verifier", *url = NULL, *update = NULL, *cache = NULL, *qcnl = NULL;
  int64_t tmo = 0;
  tr_err *e = NULL;
  if (cfg) {
    e = tr_json_opt_string(cfg, L, "collateral_service", &url);
    if (!e) e = tr_json_opt_string(cfg, L, "tcb_update_type", &update);
    if (!e) e = tr_json_opt_string(cfg, L, "cache_dir", &cache);
    if (!e) e = tr_json_opt_string(cfg, L, "qcnl_conf", &qcnl);
    if (!e) e = tr_json_opt_bool(cfg, L, "use_secure_cert", &s->secure);
    if (!e) e = tr_json_opt_int(cfg, L, "timeout_ms", &tmo);
  }
  if (!e && update) {
    if (strcmp(update, "early") != 0 && strcmp(update, "standard") != 0)
      e = tr_err_new(TR_E_INVALID,
                     "dcap_verifier.tcb_update_type: \"%s\" (expected \"early\" or \"standard\")", update);
    else
      snprintf(s->update, sizeof(s->update), "%s", update);
  }
  if (!e && tmo > 0) s->timeout_ms = (long)tmo;
  if (!e && cache && !(s->cache_dir = strdup(cache))) e = tr_err_new(TR_E_NOMEM, "out of memory");
  char *from_qcnl = NULL;
  if (!e && !url) {
    e = qcnl_url(qcnl ? qcnl : "/etc/sgx_default_qcnl.conf", &from_qcnl);
    url = from_qcnl;
  }
  if (!e) e = set_service(s, url ? url : INTEL_PCS);
  free(from_qcnl);
  if (!e && s->kind == SRC_HTTP) curl_global_init(CURL_GLOBAL_DEFAULT);
  if (e) {
    tr_dcap_sources_free(s);
    return e;
  }
  *out = s;
  return NULL;
}

void tr_dcap_sources_free(tr_dcap_sources *s) {
  if (!s) return;
  if (s->kind == SRC_HTTP) curl_global_cleanup();
  for (size_t i = 0; i < s->nmem; i++)
    tr_dcap_collateral_raw_clear(&s->mem[i].raw);
  free(s->mem);
  free(s->base);
  free(s->file);
  free(s->cache_dir);
  pthread_mutex_destroy(&s->mu);
  free(s);
}

const char *tr_dcap_sources_describe(const tr_dcap_sources *s) { return s->desc; }

/* ---- bundle helpers ----------------------------------------------------------- */

static tr_err *raw_copy(const tr_dcap_collateral_raw *in, tr_dcap_collateral_raw *out) {
  json_t *j = tr_dcap_collateral_raw_to_json(in);
  if (!j) return tr_err_new(TR_E_NOMEM, "out of memory");
  tr_err *e = tr_dcap_collateral_raw_from_json(j, out);
  json_decref(j);
  return e;
}

/* TEE and FMSPC named by a bundle's TCB info. */
static tr_err *raw_key(const tr_dcap_collateral_raw *r, uint32_t *tee, uint8_t fmspc[6]) {
  json_t *ti = NULL;
  tr_err *e = tr_json_parse(r->tcb_info, strlen(r->tcb_info), &ti);
  if (e) return tr_err_wrap(e, "collateral tcb_info");
  const char *id = NULL, *f = NULL;
  e = tr_json_opt_string(ti, "tcb_info", "id", &id);
  if (!e) e = tr_json_get_string(ti, "tcb_info", "fmspc", &f);
  uint8_t *raw = NULL;
  size_t n = 0;
  if (!e) e = tr_hex_decode(f, strlen(f), &raw, &n);
  if (!e && n != 6) e = tr_err_new(TR_E_INVALID, "collateral tcb_info: fmspc is not 6 bytes");
  if (!e) {
    memcpy(fmspc, raw, 6);
    *tee = id && strcmp(id, "TDX") == 0 ? TR_DCAP_TEE_TDX : TR_DCAP_TEE_SGX;
  }
  free(raw);
  json_decref(ti);
  return e;
}

tr_err *tr_dcap_sources_add_bundle(tr_dcap_sources *s, const tr_dcap_collateral_raw *raw) {
  mem_bundle b;
  memset(&b, 0, sizeof(b));
  tr_err *e = raw_key(raw, &b.tee, b.fmspc);
  if (!e) e = raw_copy(raw, &b.raw);
  if (e) return e;
  pthread_mutex_lock(&s->mu);
  mem_bundle *m = realloc(s->mem, (s->nmem + 1) * sizeof(*m));
  if (m) {
    s->mem = m;
    s->mem[s->nmem++] = b;
  }
  pthread_mutex_unlock(&s->mu);
  if (!m) {
    tr_dcap_collateral_raw_clear(&b.raw);
    return tr_err_new(TR_E_NOMEM, "out of memory");
  }
  return NULL;
}

/* Earliest nextUpdate of a bundle's documents and CRLs (0 if unreadable). */
static int64_t raw_next_update(const tr_dcap_collateral_raw *r) {
  int64_t best = 0;
  const char *docs[2] = {r->tcb_info, r->qe_identity};
  for (int i = 0; i < 2; i++) {
    json_t *j = NULL;
    const char *nu = NULL;
    int64_t t;
    tr_err *e = tr_json_parse(docs[i], strlen(docs[i]), &j);
    if (!e) e = tr_json_get_string(j, NULL, "nextUpdate", &nu);
    if (!e) e = tr_time_parse_rfc3339(nu, &t, NULL);
    json_decref(j);
    if (e) {
      tr_err_free(e);
      return 0;
    }
    if (!best || t < best) best = t;
  }
  const uint8_t *crls[2] = {r->pck_crl, r->root_ca_crl};
  size_t lens[2] = {r->pck_crl_len, r->root_ca_crl_len};
  for (int i = 0; i < 2; i++) {
    X509_CRL *c = NULL;
    tr_err *e = tr_x509_parse_crl(crls[i], lens[i], &c);
    if (e) {
      tr_err_free(e);
      return 0;
    }
    int64_t t = tr_dcap_asn1_time(X509_CRL_get0_nextUpdate(c));
    X509_CRL_free(c);
    if (!best || t < best) best = t;
  }
  return best;
}

static char *cache_path(const tr_dcap_sources *s, uint32_t tee, const uint8_t fmspc[6], bool platform) {
  char *p = NULL;
  if (asprintf(&p, "%s/%s-%02X%02X%02X%02X%02X%02X-%s-%s.json", s->cache_dir,
               tee == TR_DCAP_TEE_TDX ? "tdx" : "sgx", fmspc[0], fmspc[1], fmspc[2], fmspc[3], fmspc[4],
               fmspc[5], platform ? "platform" : "processor", s->update) < 0)
    return NULL;
  return p;
}

static tr_err *load_bundle_file(const char *path, tr_dcap_collateral_raw *out) {
  uint8_t *txt;
  size_t n;
  tr_err *e = tr_read_file(path, 8 << 20, &txt, &n);
  if (e) return e;
  json_t *j = NULL;
  e = tr_json_parse((const char *)txt, n, &j);
  free(txt);
  if (!e) e = tr_dcap_collateral_raw_from_json(j, out);
  json_decref(j);
  return e ? tr_err_wrap(e, "%s", path) : NULL;
}

static void store_cache(const tr_dcap_sources *s, const char *path, const tr_dcap_collateral_raw *raw) {
  json_t *j = tr_dcap_collateral_raw_to_json(raw);
  char *txt = j ? tr_json_dump_pretty(j) : NULL;
  json_decref(j);
  if (!txt) return;
  mkdir(s->cache_dir, 0700);
  tr_err *e = tr_write_file_atomic(path, txt, strlen(txt), 0600);
  if (e) {
    TR_WARN("dcap", "collateral cache: %s", tr_err_msg(e));
    tr_err_free(e);
  }
  free(txt);
}

/* ---- HTTP (PCS / PCCS) --------------------------------------------------------- */

typedef struct {
  tr_buf body;
  const char *want; /* header name to capture (lower case compare) */
  char *header;
} http_resp;

static size_t on_body(char *p, size_t sz, size_t n, void *u) {
  http_resp *r = u;
  if (r->body.len + sz * n > MAX_BODY || !tr_buf_append(&r->body, p, sz * n)) return 0;
  return sz * n;
}

static size_t on_header(char *p, size_t sz, size_t n, void *u) {
  http_resp *r = u;
  size_t len = sz * n, wl = r->want ? strlen(r->want) : 0;
  if (wl && len > wl + 1 && strncasecmp(p, r->want, wl) == 0 && p[wl] == ':') {
    const char *v = p + wl + 1;
    size_t vl = len - wl - 1;
    while (vl && (*v == ' ' || *v == '\t'))
      v++, vl--;
    while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
      vl--;
    free(r->header);
    r->header = strndup(v, vl);
  }
  return len;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Percent-decoding ('+' stays '+', as upstream's urlencoding::decode). */
static char *url_decode(const char *s) {
  if (!s) return NULL;
  size_t n = strlen(s);
  char *o = malloc(n + 1), *w = o;
  if (!o) return NULL;
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
      *w++ = (char)(hexval(s[i + 1]) << 4 | hexval(s[i + 2]));
      i += 2;
    } else {
      *w++ = s[i];
    }
  }
  *w = 0;
  return o;
}

static tr_err *http_get(const tr_dcap_sources *s, const char *url, const char *header, http_resp *r) {
  memset(r, 0, sizeof(*r));
  r->want = header;
  CURL *c = curl_easy_init();
  if (!c) return tr_err_new(TR_E_NOMEM, "curl: init failed");
  char errbuf[CURL_ERROR_SIZE] = "";
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, s->timeout_ms);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, 3L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  if (!s->secure) {
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  CURLcode rc = curl_easy_perform(c);
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(c);
  tr_err *e = NULL;
  if (rc != CURLE_OK)
    e = tr_err_new(TR_E_IO, "GET %s: %s", url, errbuf[0] ? errbuf : curl_easy_strerror(rc));
  else if (status == 404 || status == 410)
    e = tr_err_new(TR_E_NOTFOUND, "GET %s: HTTP %ld (collateral not available)", url, status);
  else if (status != 200)
    e = tr_err_new(TR_E_IO, "GET %s: HTTP %ld", url, status);
  else if (header && !r->header)
    e = tr_err_new(TR_E_INVALID, "GET %s: response has no %s header", url, header);
  if (e) {
    tr_buf_free(&r->body);
    free(r->header);
    r->header = NULL;
  }
  return e;
}

/* A CRL body: DER, PEM, or hex text (PCCS variants) → DER. */
static tr_err *crl_der(const tr_buf *b, uint8_t **out, size_t *len) {
  if (b->len && b->data[0] == 0x30) {
    *out = malloc(b->len);
    if (!*out) return tr_err_new(TR_E_NOMEM, "out of memory");
    memcpy(*out, b->data, b->len);
    *len = b->len;
    return NULL;
  }
  if (b->len > 10 && memcmp(b->data, "-----BEGIN", 10) == 0) {
    X509_CRL *c = NULL;
    tr_err *e = tr_x509_parse_crl(b->data, b->len, &c);
    if (e) return e;
    unsigned char *d = NULL;
    int n = i2d_X509_CRL(c, &d);
    X509_CRL_free(c);
    if (n <= 0) return tr_err_new(TR_E_INVALID, "CRL: cannot re-encode");
    *out = malloc((size_t)n);
    if (*out) memcpy(*out, d, (size_t)n);
    OPENSSL_free(d);
    *len = (size_t)n;
    return *out ? NULL : tr_err_new(TR_E_NOMEM, "out of memory");
  }
  size_t n = b->len;
  while (n && (b->data[n - 1] == '\n' || b->data[n - 1] == '\r'))
    n--;
  return tr_hex_decode((const char *)b->data, n, out, len);
}

/* The root CA's CRL distribution point URI (the last certificate of a chain). */
static tr_err *root_cdp(const char *chain_pem, char **url) {
  STACK_OF(X509) *sk = NULL;
  tr_err *e = tr_x509_parse_bundle(chain_pem, strlen(chain_pem), &sk);
  if (e) return e;
  X509 *root = sk_X509_value(sk, sk_X509_num(sk) - 1);
  STACK_OF(DIST_POINT) *dps = root ? X509_get_ext_d2i(root, NID_crl_distribution_points, NULL, NULL) : NULL;
  *url = NULL;
  for (int i = 0; dps && !*url && i < sk_DIST_POINT_num(dps); i++) {
    DIST_POINT *dp = sk_DIST_POINT_value(dps, i);
    if (!dp->distpoint || dp->distpoint->type != 0) continue;
    GENERAL_NAMES *gns = dp->distpoint->name.fullname;
    for (int j = 0; !*url && j < sk_GENERAL_NAME_num(gns); j++) {
      GENERAL_NAME *gn = sk_GENERAL_NAME_value(gns, j);
      if (gn->type == GEN_URI)
        *url = strndup((const char *)ASN1_STRING_get0_data(gn->d.uniformResourceIdentifier),
                       (size_t)ASN1_STRING_length(gn->d.uniformResourceIdentifier));
    }
  }
  CRL_DIST_POINTS_free(dps);
  tr_x509_stack_free(sk);
  return *url ? NULL : tr_err_new(TR_E_INVALID, "root CA certificate has no CRL distribution point URI");
}

static tr_err *fetch_http(const tr_dcap_sources *s, uint32_t tee, const uint8_t f[6], bool platform,
                          tr_dcap_collateral_raw *o) {
  const char *t = tee == TR_DCAP_TEE_TDX ? "tdx" : "sgx";
  char url[1024];
  http_resp r;
  tr_err *e;
  memset(o, 0, sizeof(*o));
  snprintf(url, sizeof(url), "%s%s/certification/v4/tcb?fmspc=%02X%02X%02X%02X%02X%02X&update=%s", s->base, t,
           f[0], f[1], f[2], f[3], f[4], f[5], s->update);
  if ((e = http_get(s, url, "TCB-Info-Issuer-Chain", &r))) return tr_err_wrap(e, "failed to fetch TcbInfo");
  e = tr_dcap_split_signed((const char *)r.body.data, r.body.len, "tcbInfo", &o->tcb_info,
                           o->tcb_info_signature);
  o->tcb_info_issuer_chain = url_decode(r.header);
  tr_buf_free(&r.body);
  free(r.header);
  if (e) goto fail;
  snprintf(url, sizeof(url), "%s%s/certification/v4/qe/identity?update=%s", s->base, t, s->update);
  if ((e = http_get(s, url, "SGX-Enclave-Identity-Issuer-Chain", &r))) {
    e = tr_err_wrap(e, "failed to fetch QeIdentity");
    goto fail;
  }
  e = tr_dcap_split_signed((const char *)r.body.data, r.body.len, "enclaveIdentity", &o->qe_identity,
                           o->qe_identity_signature);
  o->qe_identity_issuer_chain = url_decode(r.header);
  tr_buf_free(&r.body);
  free(r.header);
  if (e) goto fail;
  snprintf(url, sizeof(url), "%ssgx/certification/v4/pckcrl?ca=%s&encoding=der", s->base,
           platform ? "platform" : "processor");
  if ((e = http_get(s, url, "SGX-PCK-CRL-Issuer-Chain", &r))) {
    e = tr_err_wrap(e, "failed to fetch PCK CRL");
    goto fail;
  }
  e = crl_der(&r.body, &o->pck_crl, &o->pck_crl_len);
  o->pck_crl_issuer_chain = url_decode(r.header);
  tr_buf_free(&r.body);
  free(r.header);
  if (e) goto fail;
  char *cdp = NULL;
  if (s->is_pcs) {
    /* the CDP of the embedded root, not of the (not yet verified) chain
     * received in a header: no URL of the response is ever fetched */
    if ((e = root_cdp(tr_intel_sgx_root_ca_pem, &cdp))) goto fail;
    snprintf(url, sizeof(url), "%s", cdp);
    free(cdp);
  } else {
    snprintf(url, sizeof(url), "%ssgx/certification/v4/rootcacrl", s->base);
  }
  if ((e = http_get(s, url, NULL, &r))) {
    e = tr_err_wrap(e, "failed to fetch Root CA CRL");
    goto fail;
  }
  e = crl_der(&r.body, &o->root_ca_crl, &o->root_ca_crl_len);
  tr_buf_free(&r.body);
  if (e) goto fail;
  if (!o->tcb_info_issuer_chain || !o->qe_identity_issuer_chain || !o->pck_crl_issuer_chain) {
    e = tr_err_new(TR_E_NOMEM, "out of memory");
    goto fail;
  }
  return NULL;
fail:
  tr_dcap_collateral_raw_clear(o);
  return e;
}

/* ---- file:// (Intel PCS client tool output) ----------------------------------------- */

static tr_err *signed_obj_text(const json_t *doc, const char *member, char **text, uint8_t sig[64]) {
  char *dump = tr_json_dump_compact(doc);
  if (!dump) return tr_err_new(TR_E_NOMEM, "out of memory");
  tr_err *e = tr_dcap_split_signed(dump, strlen(dump), member, text, sig);
  free(dump);
  return e;
}

static tr_err *chain_field(const json_t *certs, const char *path, char **out) {
  const char *v;
  tr_err *e = tr_json_get_string(certs, "collaterals.certificates", path, &v);
  if (e) return e;
  *out = url_decode(v);
  return *out ? NULL : tr_err_new(TR_E_NOMEM, "out of memory");
}

static tr_err *hex_field_dup(const json_t *o, const char *label, const char *k, uint8_t **out, size_t *len) {
  const char *v;
  tr_err *e = tr_json_get_string(o, label, k, &v);
  if (!e) e = tr_hex_decode(v, strlen(v), out, len);
  return e;
}

static tr_err *fetch_file(const tr_dcap_sources *s, uint32_t tee, const uint8_t f[6], bool platform,
                          tr_dcap_collateral_raw *o) {
  memset(o, 0, sizeof(*o));
  uint8_t *txt;
  size_t n;
  tr_err *e = tr_read_file(s->file, 64 << 20, &txt, &n);
  if (e) return tr_err_wrap(e, "collateral not available from %s", s->desc);
  json_t *root = NULL, *col = NULL, *infos = NULL, *certs = NULL, *crls = NULL;
  e = tr_json_parse((const char *)txt, n, &root);
  free(txt);
  if (!e) e = tr_json_get_object(root, NULL, "collaterals", &col);
  if (!e) e = tr_json_get_array(col, "collaterals", "tcbinfos", &infos);
  if (!e) e = tr_json_get_object(col, "collaterals", "certificates", &certs);
  if (!e) e = tr_json_get_object(col, "collaterals", "pckcacrl", &crls);
  if (e) goto done;
  bool tdx = tee == TR_DCAP_TEE_TDX, early = strcmp(s->update, "early") == 0;
  char want[13];
  snprintf(want, sizeof(want), "%02X%02X%02X%02X%02X%02X", f[0], f[1], f[2], f[3], f[4], f[5]);
  json_t *entry = NULL, *it;
  size_t i;
  json_array_foreach(infos, i, it) {
    const char *fm = json_string_value(json_object_get(it, "fmspc"));
    if (fm && strcasecmp(fm, want) == 0) entry = it;
  }
  const char *k = tdx ? "tdx_tcbinfo" : "sgx_tcbinfo";
  char kearly[32];
  snprintf(kearly, sizeof(kearly), "%s_early", k);
  json_t *ti = entry ? (early && json_object_get(entry, kearly) ? json_object_get(entry, kearly)
                                                                : json_object_get(entry, k))
                     : NULL;
  const char *qk = tdx ? "tdqeidentity" : "qeidentity";
  snprintf(kearly, sizeof(kearly), "%s_early", qk);
  json_t *qe =
      early && json_object_get(col, kearly) ? json_object_get(col, kearly) : json_object_get(col, qk);
  if (!json_is_object(ti) || !json_is_object(qe)) {
    e = tr_err_new(TR_E_NOTFOUND, "collateral not available from %s (%s TCB info for FMSPC %s / QE identity)",
                   s->desc, tdx ? "TDX" : "SGX", want);
    goto done;
  }
  e = signed_obj_text(ti, "tcbInfo", &o->tcb_info, o->tcb_info_signature);
  if (!e) e = signed_obj_text(qe, "enclaveIdentity", &o->qe_identity, o->qe_identity_signature);
  if (!e) e = chain_field(certs, "TCB-Info-Issuer-Chain", &o->tcb_info_issuer_chain);
  if (!e) e = chain_field(certs, "SGX-Enclave-Identity-Issuer-Chain", &o->qe_identity_issuer_chain);
  if (!e)
    e = chain_field(certs,
                    platform ? "SGX-PCK-Certificate-Issuer-Chain.PLATFORM"
                             : "SGX-PCK-Certificate-Issuer-Chain.PROCESSOR",
                    &o->pck_crl_issuer_chain);
  if (!e)
    e = hex_field_dup(crls, "collaterals.pckcacrl", platform ? "platformCrl" : "processorCrl", &o->pck_crl,
                      &o->pck_crl_len);
  if (!e) e = hex_field_dup(col, "collaterals", "rootcacrl", &o->root_ca_crl, &o->root_ca_crl_len);
  if (!e) {
    const char *cdp = NULL;
    char *want_cdp = NULL;
    e = tr_json_opt_string(col, "collaterals", "rootcacrl_cdp", &cdp);
    tr_err *ce = !e && cdp ? root_cdp(o->qe_identity_issuer_chain, &want_cdp) : NULL;
    if (ce)
      tr_err_free(ce); /* no CDP to compare with: the root CA CRL is verified anyway */
    else if (!e && cdp && strcmp(cdp, want_cdp) != 0)
      e = tr_err_new(TR_E_INVALID, "%s: rootcacrl_cdp %s differs from the root CA's %s", s->desc, cdp,
                     want_cdp);
    free(want_cdp);
  }
done:
  json_decref(root);
  if (e) tr_dcap_collateral_raw_clear(o);
  return e;
}

/* ---- lookup --------------------------------------------------------------------- */

tr_err *tr_dcap_sources_get(tr_dcap_sources *s, uint32_t tee, const uint8_t fmspc[6], bool platform_ca,
                            int64_t at, tr_dcap_collateral_raw *out) {
  tr_err *e = NULL;
  pthread_mutex_lock(&s->mu);
  for (size_t i = 0; i < s->nmem; i++) {
    if (s->mem[i].tee == tee && memcmp(s->mem[i].fmspc, fmspc, 6) == 0) {
      e = raw_copy(&s->mem[i].raw, out);
      pthread_mutex_unlock(&s->mu);
      return e;
    }
  }
  char *path = s->cache_dir ? cache_path(s, tee, fmspc, platform_ca) : NULL;
  tr_dcap_collateral_raw stale;
  bool have_stale = false;
  memset(&stale, 0, sizeof(stale));
  if (path) {
    tr_err *ce = load_bundle_file(path, &stale);
    if (!ce) {
      if (raw_next_update(&stale) > at) {
        *out = stale;
        free(path);
        pthread_mutex_unlock(&s->mu);
        return NULL;
      }
      have_stale = true;
    }
    tr_err_free(ce);
  }
  e = s->kind == SRC_HTTP ? fetch_http(s, tee, fmspc, platform_ca, out)
                          : fetch_file(s, tee, fmspc, platform_ca, out);
  if (!e && path) store_cache(s, path, out);
  if (e && have_stale) {
    TR_WARN("dcap", "collateral service failed (%s); using the stale cached collateral %s", tr_err_msg(e),
            path);
    tr_err_free(e);
    e = NULL;
    *out = stale;
    have_stale = false;
  }
  if (have_stale) tr_dcap_collateral_raw_clear(&stale);
  free(path);
  pthread_mutex_unlock(&s->mu);
  return e;
}
