/* vcek_source.c — where a VCEK comes from when the evidence carries none:
 * upstream's `snp_verifier.vcek_sources`, tried in the configured order.
 *
 *   {"type": "OfflineStore", "path"?: dir}
 *       {dir}/vcek/{hwid}/{bl..._tee..._snp..._ucode..[_fmc..]}_vcek.der, else
 *       {dir}/vcek/{hwid}/vcek.der (default dir
 *       /opt/confidential-containers/attestation-service/kds-store).
 *   {"type": "KDS", "base_url"?: url, and trustee-c extensions:
 *    "cache_dir"?: dir, "retries"?: n (3), "retry_delay_ms"?: ms (250),
 *    "timeout_ms"?: ms (10000)}
 *       GET {base|https://kdsintf.amd.com}/vcek/v1/{Gen}/{hwid}?[fmcSPL=NN&]
 *       blSPL=NN&teeSPL=NN&snpSPL=NN&ucodeSPL=NN.
 *
 * KDS answers are cached in memory for the life of the verifier and, with
 * cache_dir, on disk in the offline-store layout (so a cache directory can
 * later serve as an OfflineStore). One mutex serialises fetches so that
 * concurrent attestations of one chip fetch its VCEK once. Network errors,
 * HTTP 429 and 5xx are retried with exponential backoff; other statuses are
 * final. The certificate's authenticity is decided by the caller's `accept`
 * callback (the AMD chain check), which runs on every certificate found
 * BEFORE anything is cached: an answer that does not verify (a proxy's page,
 * a MITM on an http base_url, a stale file) is never cached, so it cannot
 * pin a failure for that chip, and a cached file that no longer verifies is
 * fetched again. A store file that does not verify moves on to the next
 * source. */
#include <curl/curl.h>
#include <errno.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/buf.h"
#include "core/json.h"
#include "core/log.h"
#include "verifier/snp/snp.h"

#define DEFAULT_STORE "/opt/confidential-containers/attestation-service/kds-store"
#define DEFAULT_KDS "https://kdsintf.amd.com"
#define MAX_VCEK (64 * 1024)

typedef enum { SRC_OFFLINE, SRC_KDS } src_type;

typedef struct {
  src_type type;
  char *path; /* store dir or KDS base URL */
  char *cache_dir;
  int64_t retries, retry_delay_ms, timeout_ms;
} source;

typedef struct {
  char *url;
  uint8_t *der;
  size_t len;
} mem_entry;

struct tr_snp_sources {
  source *src;
  size_t n;
  pthread_mutex_t mu; /* guards mem and serialises KDS fetches */
  mem_entry *mem;
  size_t mem_len;
};

void tr_snp_sources_free(tr_snp_sources *s) {
  if (!s) return;
  for (size_t i = 0; i < s->n; i++) {
    free(s->src[i].path);
    free(s->src[i].cache_dir);
  }
  for (size_t i = 0; i < s->mem_len; i++) {
    free(s->mem[i].url);
    free(s->mem[i].der);
  }
  free(s->mem);
  free(s->src);
  pthread_mutex_destroy(&s->mu);
  curl_global_cleanup();
  free(s);
}

static tr_err *parse_source(const json_t *o, size_t idx, source *out) {
  char label[64];
  snprintf(label, sizeof(label), "snp_verifier.vcek_sources[%zu]", idx);
  if (!json_is_object(o)) return tr_err_new(TR_E_INVALID, "%s: expected object", label);
  const char *type = NULL, *path = NULL, *cache = NULL;
  tr_err *e = tr_json_get_string(o, label, "type", &type);
  if (e) return e;
  out->retries = 3;
  out->retry_delay_ms = 250;
  out->timeout_ms = 10000;
  if (strcmp(type, "OfflineStore") == 0) {
    out->type = SRC_OFFLINE;
    if ((e = tr_json_opt_string(o, label, "path", &path))) return e;
    out->path = strdup(path ? path : DEFAULT_STORE);
  } else if (strcmp(type, "KDS") == 0) {
    out->type = SRC_KDS;
    if ((e = tr_json_opt_string(o, label, "base_url", &path))) return e;
    if ((e = tr_json_opt_string(o, label, "cache_dir", &cache))) return e;
    if ((e = tr_json_opt_int(o, label, "retries", &out->retries))) return e;
    if ((e = tr_json_opt_int(o, label, "retry_delay_ms", &out->retry_delay_ms))) return e;
    if ((e = tr_json_opt_int(o, label, "timeout_ms", &out->timeout_ms))) return e;
    if (out->retries < 0 || out->retries > 10 || out->retry_delay_ms < 0 || out->retry_delay_ms > 60000 ||
        out->timeout_ms <= 0)
      return tr_err_new(TR_E_INVALID, "%s: retries must be 0..10, retry_delay_ms 0..60000, timeout_ms > 0",
                        label);
    out->path = strdup(path ? path : DEFAULT_KDS);
    size_t n = out->path ? strlen(out->path) : 0;
    while (n > 0 && out->path[n - 1] == '/')
      out->path[--n] = 0;
    if (cache) out->cache_dir = strdup(cache);
  } else {
    return tr_err_new(TR_E_INVALID, "%s: unknown type `%s` (expected KDS or OfflineStore)", label, type);
  }
  if (!out->path || (cache && !out->cache_dir)) return tr_err_new(TR_E_NOMEM, "out of memory");
  return NULL;
}

tr_err *tr_snp_sources_new(const json_t *verifier_config, tr_snp_sources **out) {
  *out = NULL;
  tr_snp_sources *s = calloc(1, sizeof(*s));
  if (!s) return tr_err_new(TR_E_NOMEM, "out of memory");
  pthread_mutex_init(&s->mu, NULL);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  json_t *snp = NULL, *list = NULL;
  tr_err *e = NULL;
  if (verifier_config && json_is_object(verifier_config)) {
    e = tr_json_opt_object(verifier_config, "verifier_config", "snp_verifier", &snp);
    if (!e && snp) e = tr_json_opt_array(snp, "snp_verifier", "vcek_sources", &list);
  }
  size_t n = list ? json_array_size(list) : 1;
  if (!e) {
    s->src = calloc(n ? n : 1, sizeof(source));
    if (!s->src) e = tr_err_new(TR_E_NOMEM, "out of memory");
  }
  if (!e && !list) {
    s->src[0] = (source){SRC_KDS, strdup(DEFAULT_KDS), NULL, 3, 250, 10000};
    s->n = 1;
    if (!s->src[0].path) e = tr_err_new(TR_E_NOMEM, "out of memory");
  }
  for (size_t i = 0; !e && list && i < n; i++) {
    e = parse_source(json_array_get(list, i), i, &s->src[i]);
    s->n = i + 1;
  }
  if (e) {
    tr_snp_sources_free(s);
    return e;
  }
  *out = s;
  return NULL;
}

/* ---- offline store ------------------------------------------------------- */

static tr_err *read_exact_file(const char *path, uint8_t **der, size_t *len) {
  return tr_read_file(path, MAX_VCEK, der, len);
}

static tr_err *from_store(const char *dir, const tr_snp_report *r, tr_snp_vcek_accept accept, void *ud,
                          uint8_t **der, size_t *len) {
  char hw[129], prefix[48];
  tr_snp_hwid_hex(r, hw);
  tr_snp_tcb_prefix(&r->reported_tcb, prefix);
  char *tcb_path = NULL, *flat_path = NULL;
  tr_err *e = NULL;
  if (asprintf(&tcb_path, "%s/vcek/%s/%s_vcek.der", dir, hw, prefix) < 0) tcb_path = NULL;
  if (asprintf(&flat_path, "%s/vcek/%s/vcek.der", dir, hw) < 0) flat_path = NULL;
  if (!tcb_path || !flat_path) {
    e = tr_err_new(TR_E_NOMEM, "out of memory");
  } else {
    struct stat st;
    const char *use = tcb_path;
    if (stat(tcb_path, &st) != 0) {
      if (errno != ENOENT && errno != ENOTDIR)
        e = tr_err_new(TR_E_IO, "Failed to stat VCEK at %s: %s", tcb_path, strerror(errno));
      use = flat_path;
    }
    if (!e) {
      e = read_exact_file(use, der, len);
      if (e) {
        e = tr_err_wrap(e, "Failed to read VCEK from offline store at %s", use);
      } else if ((e = accept(ud, *der, *len))) {
        e = tr_err_wrap(e, "VCEK from the offline store at %s failed verification", use);
        free(*der);
        *der = NULL;
      }
    }
  }
  free(tcb_path);
  free(flat_path);
  return e;
}

/* ---- KDS ----------------------------------------------------------------- */

static size_t on_body(char *p, size_t size, size_t n, void *ud) {
  tr_buf *b = ud;
  if (b->len + size * n > MAX_VCEK) return 0;
  return tr_buf_append(b, p, size * n) ? size * n : 0;
}

static void sleep_ms(int64_t ms) {
  struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

static tr_err *http_get(const source *src, const char *url, uint8_t **der, size_t *len) {
  tr_err *last = NULL;
  int64_t delay = src->retry_delay_ms;
  for (int64_t attempt = 0; attempt <= src->retries; attempt++) {
    if (attempt > 0) {
      TR_WARN("snp", "KDS fetch of %s failed (%s); retry %lld in %lld ms", url, tr_err_msg(last),
              (long long)attempt, (long long)delay);
      sleep_ms(delay);
      delay *= 2;
    }
    tr_err_free(last);
    last = NULL;
    CURL *c = curl_easy_init();
    if (!c) return tr_err_new(TR_E_NOMEM, "curl_easy_init failed");
    tr_buf body = TR_BUF_INIT;
    char errbuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)src->timeout_ms);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 3L);
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    if (rc != CURLE_OK) {
      last = tr_err_new(TR_E_IO, "Unable to send request for VCEK to %s: %s", url,
                        errbuf[0] ? errbuf : curl_easy_strerror(rc));
    } else if (status == 200) {
      *der = tr_buf_steal(&body, len);
      return NULL;
    } else {
      last = tr_err_new(status == 404 ? TR_E_NOTFOUND : TR_E_IO,
                        "Unable to fetch VCEK from URL: HTTP %ld, %s", status, url);
    }
    tr_buf_free(&body);
    if (rc == CURLE_OK && status != 429 && status < 500) break; /* final answer */
  }
  return last;
}

static bool is_der_cert(const uint8_t *d, size_t n) {
  const unsigned char *p = d;
  X509 *x = d2i_X509(NULL, &p, (long)n);
  bool ok = x && p == d + n;
  X509_free(x);
  return ok;
}

static tr_err *mkdir_p(const char *path) {
  char *p = strdup(path);
  if (!p) return tr_err_new(TR_E_NOMEM, "out of memory");
  for (char *q = p + 1; *q; q++) {
    if (*q != '/') continue;
    *q = 0;
    if (mkdir(p, 0755) != 0 && errno != EEXIST) {
      tr_err *e = tr_err_new(TR_E_IO, "mkdir %s: %s", p, strerror(errno));
      free(p);
      return e;
    }
    *q = '/';
  }
  tr_err *e = NULL;
  if (mkdir(p, 0755) != 0 && errno != EEXIST) e = tr_err_new(TR_E_IO, "mkdir %s: %s", p, strerror(errno));
  free(p);
  return e;
}

static tr_err *from_kds(tr_snp_sources *s, const source *src, const tr_snp_report *r, tr_snp_gen gen,
                        tr_snp_vcek_accept accept, void *ud, uint8_t **der, size_t *len) {
  static const uint8_t zero[64];
  if (memcmp(TR_SNP_CHIP_ID(r), zero, 64) == 0)
    return tr_err_new(TR_E_INVALID,
                      "Hardware ID is 0s on attestation report. Confirm that MASK_CHIP_ID is set to 0 "
                      "to request VCEK from KDS.");
  const tr_snp_tcb *t = &r->reported_tcb;
  if (gen == TR_SNP_TURIN && !t->has_fmc)
    return tr_err_new(TR_E_INVALID, "A Turin processor must have a fmc value");
  char hw[129], fmc[16] = "", prefix[48];
  tr_snp_hwid_hex(r, hw);
  tr_snp_tcb_prefix(t, prefix);
  if (gen == TR_SNP_TURIN) snprintf(fmc, sizeof(fmc), "fmcSPL=%02u&", t->fmc);
  char *url = NULL;
  if (asprintf(&url, "%s/vcek/v1/%s/%s?%sblSPL=%02u&teeSPL=%02u&snpSPL=%02u&ucodeSPL=%02u", src->path,
               tr_snp_gen_name(gen), hw, fmc, t->bootloader, t->tee, t->snp, t->microcode) < 0)
    return tr_err_new(TR_E_NOMEM, "out of memory");
  tr_err *e = NULL;
  pthread_mutex_lock(&s->mu);
  for (size_t i = 0; i < s->mem_len; i++) {
    if (strcmp(s->mem[i].url, url) == 0) {
      *der = malloc(s->mem[i].len);
      if (!*der) {
        e = tr_err_new(TR_E_NOMEM, "out of memory");
      } else {
        memcpy(*der, s->mem[i].der, s->mem[i].len);
        *len = s->mem[i].len;
        /* Verified when cached; the chain cache makes this a lookup. */
        e = accept(ud, *der, *len);
      }
      goto out;
    }
  }
  char *disk = NULL;
  if (src->cache_dir && asprintf(&disk, "%s/vcek/%s/%s_vcek.der", src->cache_dir, hw, prefix) < 0)
    disk = NULL;
  tr_err *de = disk ? read_exact_file(disk, der, len) : tr_err_new(TR_E_NOTFOUND, "no disk cache");
  if (!de && (de = accept(ud, *der, *len))) {
    TR_WARN("snp", "cached VCEK %s does not verify (%s); fetching it again", disk, tr_err_msg(de));
    free(*der);
    *der = NULL;
  }
  if (de) {
    tr_err_free(de);
    e = http_get(src, url, der, len);
    if (!e && !is_der_cert(*der, *len)) {
      /* Never cache an answer that is not even a certificate (a proxy's
       * error page, a truncated body). */
      free(*der);
      *der = NULL;
      e = tr_err_new(TR_E_IO, "KDS answer for %s is not a DER certificate", url);
    }
    if (!e && (e = accept(ud, *der, *len))) {
      /* Nor one that is not AMD's. */
      e = tr_err_wrap(e, "Certificate chain from KDS failed verification");
      free(*der);
      *der = NULL;
    }
    if (!e && disk) {
      char *dir = strdup(disk);
      char *slash = dir ? strrchr(dir, '/') : NULL;
      if (slash) *slash = 0;
      tr_err *we = dir ? mkdir_p(dir) : NULL;
      if (!we) we = tr_write_file_atomic(disk, *der, *len, 0644);
      if (we) TR_WARN("snp", "cannot write the KDS cache: %s", tr_err_msg(we));
      tr_err_free(we);
      free(dir);
    }
  }
  free(disk);
  if (!e) {
    mem_entry *m = realloc(s->mem, (s->mem_len + 1) * sizeof(*m));
    uint8_t *copy = malloc(*len ? *len : 1);
    if (m) s->mem = m;
    if (m && copy) {
      memcpy(copy, *der, *len);
      m[s->mem_len++] = (mem_entry){url, copy, *len};
      url = NULL;
    } else {
      free(copy);
    }
  }
out:
  pthread_mutex_unlock(&s->mu);
  free(url);
  return e;
}

tr_err *tr_snp_sources_fetch(tr_snp_sources *s, const tr_snp_report *r, tr_snp_gen gen,
                             tr_snp_vcek_accept accept, void *ud, uint8_t **der, size_t *len) {
  *der = NULL;
  *len = 0;
  tr_buf why = TR_BUF_INIT;
  bool rejected = false, unreachable = false;
  for (size_t i = 0; i < s->n; i++) {
    const source *src = &s->src[i];
    tr_err *e = src->type == SRC_OFFLINE ? from_store(src->path, r, accept, ud, der, len)
                                         : from_kds(s, src, r, gen, accept, ud, der, len);
    if (!e) {
      tr_buf_free(&why);
      return NULL;
    }
    if (tr_err_code(e) == TR_E_VERIFY) rejected = true;
    if (tr_err_code(e) == TR_E_IO || tr_err_code(e) == TR_E_NOMEM) unreachable = true;
    TR_DEBUG("snp", "failed to fetch vcek from source %zu: %s", i, tr_err_msg(e));
    tr_buf_printf(&why, "%s%s: %s", why.len ? "; " : "", src->type == SRC_OFFLINE ? "OfflineStore" : "KDS",
                  tr_err_msg(e));
    tr_err_free(e);
  }
  /* A source that answered with a certificate that does not verify, or that
   * has no VCEK for this chip, makes the evidence unverifiable (the guest's
   * problem); a source that could not be reached is ours (a server error, so
   * that a fleet is not told its genuine evidence is bad while KDS is down). */
  tr_code code = rejected ? TR_E_VERIFY : unreachable ? TR_E_IO : TR_E_VERIFY;
  tr_err *e = tr_err_new(code, "Failed to fetch VCEK from any configured source (%s)",
                         why.len ? (char *)why.data : "none configured");
  tr_buf_free(&why);
  return e;
}
