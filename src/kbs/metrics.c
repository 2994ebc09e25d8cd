#include "kbs/metrics.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"

static const struct {
  const char *name, *help;
} counters[KBS_M_NCOUNTERS] = {
    [KBS_M_HTTP_REQUESTS] = {"kbs_http_requests_total", "Total HTTP requests count"},
    [KBS_M_POLICY_EVALS] = {"kbs_policy_evaluations_total", "Total count of KBS policy evaluations"},
    [KBS_M_POLICY_APPROVALS] = {"kbs_policy_approvals_total",
                                "Total count of requests approved by KBS policy"},
    [KBS_M_POLICY_VIOLATIONS] = {"kbs_policy_violations_total",
                                 "Total count of requests denied by KBS policy"},
    [KBS_M_POLICY_ERRORS] = {"kbs_policy_errors_total", "Total count of errors during KBS evaluation"},
    [KBS_M_ATTEST_REQUESTS] = {"kbs_attestation_requests_total", "Total count of attestation requests"},
    [KBS_M_ATTEST_ERRORS] = {"kbs_attestation_errors_total",
                             "Total count of errors during attestation processing"},
    [KBS_M_AUTH_REQUESTS] = {"kbs_auth_requests_total", "Total count of auth requests"},
    [KBS_M_AUTH_SUCCESSES] = {"kbs_auth_successes_total",
                              "Total count of successfully authenticated requests"},
    [KBS_M_AUTH_ERRORS] = {"kbs_auth_errors_total", "Total count of errors during auth processing"},
};

static const struct {
  const char *name, *help, *label;
} families[KBS_L_NFAMILIES] = {
    [KBS_L_RESOURCE_READS] = {"kbs_resource_reads_total", "KBS resource read count", "resource_path"},
    [KBS_L_RESOURCE_WRITES] = {"kbs_resource_writes_total", "KBS resource write count", "resource_path"},
    [KBS_L_RESOURCE_DELETES] = {"kbs_resource_deletes_total", "KBS resource delete count", "resource_path"},
    [KBS_L_ATTEST_SUCCESSES] = {"kbs_attestation_successes_total", "Total count of attestation successes",
                                "tee_type"},
    [KBS_L_ATTEST_FAILURES] = {"kbs_attestation_failures_total", "Total count of attestation failures",
                               "tee_type"},
    [KBS_L_PLUGIN_REQUESTS] = {"kbs_plugin_requests_total",
                               "Total Handle RPC calls to external plugin backends", "plugin_name"},
    [KBS_L_PLUGIN_ERRORS] = {"kbs_plugin_errors_total", "Total gRPC errors from external plugin backends",
                             "plugin_name"},
};

#define MAX_BUCKETS 8

typedef struct {
  const double *bounds;
  size_t nb;
  uint64_t counts[MAX_BUCKETS]; /* non-cumulative per bucket; +Inf = count */
  uint64_t count;
  double sum;
} histo;

typedef struct {
  char *label;
  uint64_t value;
} lentry;

typedef struct {
  char *label;
  histo h;
} lhisto;

static const double dur_bounds[] = {0.0005, 0.001, 0.005, 0.01, 0.05, 0.5, 1};
static const double size_bounds[] = {32, 128, 512, 2048, 8192};
static const double plugin_bounds[] = {0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1};

/* Labelled counters: entries in insertion order (rendered so) plus an
 * open-addressing index of entry positions (+1; 0 = empty), so a request
 * costs O(1) however many resource paths have been counted. */
typedef struct {
  lentry *e;
  size_t n;
  uint32_t *idx;
  size_t cap; /* power of two, > 2 n */
} family;

struct kbs_metrics {
  _Atomic uint64_t c[KBS_M_NCOUNTERS];
  _Atomic int64_t active;
  pthread_mutex_t mu;      /* labelled families */
  pthread_mutex_t hist_mu; /* request histograms: never held with mu */
  family fam[KBS_L_NFAMILIES];
  histo dur, req, resp;
  lhisto *plug;
  size_t nplug;
  char *build_labels;
};

static char *escape_label(const char *v) {
  tr_buf b = TR_BUF_INIT;
  for (const char *p = v; *p; p++) {
    if (*p == '\\' || *p == '"') tr_buf_append_byte(&b, '\\');
    if (*p == '\n') {
      tr_buf_append_str(&b, "\\n");
      continue;
    }
    tr_buf_append_byte(&b, (uint8_t)*p);
  }
  return (char *)tr_buf_steal(&b, NULL);
}

kbs_metrics *kbs_metrics_new(const char *version, const char *git_hash, const char *build_date) {
  kbs_metrics *m = calloc(1, sizeof *m);
  if (!m) return NULL;
  pthread_mutex_init(&m->mu, NULL);
  pthread_mutex_init(&m->hist_mu, NULL);
  m->dur.bounds = dur_bounds;
  m->dur.nb = sizeof dur_bounds / sizeof *dur_bounds;
  m->req.bounds = m->resp.bounds = size_bounds;
  m->req.nb = m->resp.nb = sizeof size_bounds / sizeof *size_bounds;
  char *v = escape_label(version), *g = escape_label(git_hash), *d = escape_label(build_date);
  tr_buf b = TR_BUF_INIT;
  tr_buf_printf(&b, "build_date=\"%s\",git_hash=\"%s\",version=\"%s\"", d, g, v);
  m->build_labels = (char *)tr_buf_steal(&b, NULL);
  free(v);
  free(g);
  free(d);
  return m;
}

void kbs_metrics_free(kbs_metrics *m) {
  if (!m) return;
  for (int f = 0; f < KBS_L_NFAMILIES; f++) {
    for (size_t i = 0; i < m->fam[f].n; i++)
      free(m->fam[f].e[i].label);
    free(m->fam[f].e);
    free(m->fam[f].idx);
  }
  for (size_t i = 0; i < m->nplug; i++)
    free(m->plug[i].label);
  free(m->plug);
  free(m->build_labels);
  pthread_mutex_destroy(&m->mu);
  pthread_mutex_destroy(&m->hist_mu);
  free(m);
}

void kbs_metrics_inc(kbs_metrics *m, kbs_counter c) {
  if (m) atomic_fetch_add_explicit(&m->c[c], 1, memory_order_relaxed);
}

void kbs_metrics_active(kbs_metrics *m, int delta) {
  if (m) atomic_fetch_add_explicit(&m->active, delta, memory_order_relaxed);
}

static uint64_t label_hash(const char *s) {
  uint64_t h = 1469598103934665603ULL;
  for (; *s; s++)
    h = (h ^ (uint8_t)*s) * 1099511628211ULL;
  return h;
}

/* Slot of `label` in the index: its entry, or the empty slot to fill. */
static size_t fam_slot(const family *fm, const char *label) {
  size_t mask = fm->cap - 1, i = (size_t)label_hash(label) & mask;
  while (fm->idx[i] && strcmp(fm->e[fm->idx[i] - 1].label, label) != 0)
    i = (i + 1) & mask;
  return i;
}

static bool fam_grow(family *fm) {
  size_t cap = fm->cap ? fm->cap * 2 : 64;
  uint32_t *idx = calloc(cap, sizeof *idx);
  if (!idx) return false;
  free(fm->idx);
  fm->idx = idx;
  fm->cap = cap;
  for (size_t j = 0; j < fm->n; j++)
    fm->idx[fam_slot(fm, fm->e[j].label)] = (uint32_t)(j + 1);
  return true;
}

void kbs_metrics_inc_label(kbs_metrics *m, kbs_labelled f, const char *label) {
  if (!m || !label) return;
  pthread_mutex_lock(&m->mu);
  family *fm = &m->fam[f];
  size_t slot = fm->cap ? fam_slot(fm, label) : 0;
  if (!fm->cap || !fm->idx[slot]) {
    /* Bound the label set: an attacker-chosen path must not grow memory
     * without limit (resource paths are validated before counting). */
    if (fm->n >= 100000 || ((fm->n + 1) * 2 >= fm->cap && !fam_grow(fm))) goto out;
    lentry *n = realloc(fm->e, (fm->n + 1) * sizeof *n);
    if (n) fm->e = n;
    char *l = n ? strdup(label) : NULL;
    if (!l) goto out;
    fm->e[fm->n] = (lentry){l, 0};
    fm->n++;
    slot = fam_slot(fm, label);
    fm->idx[slot] = (uint32_t)fm->n;
  }
  fm->e[fm->idx[slot] - 1].value++;
out:
  pthread_mutex_unlock(&m->mu);
}

static void histo_observe(histo *h, double v) {
  for (size_t i = 0; i < h->nb; i++)
    if (v <= h->bounds[i]) {
      h->counts[i]++;
      break;
    }
  h->count++;
  h->sum += v;
}

void kbs_metrics_observe_request(kbs_metrics *m, double seconds, size_t reqb, size_t respb) {
  if (!m) return;
  pthread_mutex_lock(&m->hist_mu);
  histo_observe(&m->dur, seconds);
  histo_observe(&m->req, (double)reqb);
  histo_observe(&m->resp, (double)respb);
  pthread_mutex_unlock(&m->hist_mu);
}

void kbs_metrics_observe_plugin(kbs_metrics *m, const char *plugin, double seconds) {
  if (!m) return;
  pthread_mutex_lock(&m->hist_mu);
  size_t i;
  for (i = 0; i < m->nplug; i++)
    if (strcmp(m->plug[i].label, plugin) == 0) break;
  if (i == m->nplug) {
    lhisto *n = realloc(m->plug, (m->nplug + 1) * sizeof *n);
    if (!n) goto out;
    m->plug = n;
    n[i] = (lhisto){strdup(plugin), {plugin_bounds, sizeof plugin_bounds / sizeof *plugin_bounds, {0}, 0, 0}};
    m->nplug++;
  }
  histo_observe(&m->plug[i].h, seconds);
out:
  pthread_mutex_unlock(&m->hist_mu);
}

static void render_histo(tr_buf *b, const char *name, const char *labels, const histo *h) {
  uint64_t cum = 0;
  const char *sep = labels && *labels ? "," : "";
  for (size_t i = 0; i < h->nb; i++) {
    cum += h->counts[i];
    tr_buf_printf(b, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, labels ? labels : "", sep, h->bounds[i],
                  (unsigned long long)cum);
  }
  tr_buf_printf(b, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels ? labels : "", sep,
                (unsigned long long)h->count);
  if (labels && *labels) {
    tr_buf_printf(b, "%s_sum{%s} %.9g\n%s_count{%s} %llu\n", name, labels, h->sum, name, labels,
                  (unsigned long long)h->count);
  } else {
    tr_buf_printf(b, "%s_sum %.9g\n%s_count %llu\n", name, h->sum, name, (unsigned long long)h->count);
  }
}

char *kbs_metrics_render(kbs_metrics *m, size_t *len) {
  tr_buf b = TR_BUF_INIT;
  tr_buf_printf(&b, "# HELP kbs_build_info KBS binary build info\n# TYPE kbs_build_info gauge\n");
  tr_buf_printf(&b, "kbs_build_info{%s} 1\n", m->build_labels);
  tr_buf_printf(&b,
                "# HELP kbs_http_active_connections Count of HTTP connections being processed at the moment\n"
                "# TYPE kbs_http_active_connections gauge\nkbs_http_active_connections %lld\n",
                (long long)atomic_load(&m->active));
  for (int c = 0; c < KBS_M_NCOUNTERS; c++)
    tr_buf_printf(&b, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", counters[c].name, counters[c].help,
                  counters[c].name, counters[c].name, (unsigned long long)atomic_load(&m->c[c]));
  pthread_mutex_lock(&m->mu);
  for (int f = 0; f < KBS_L_NFAMILIES; f++) {
    tr_buf_printf(&b, "# HELP %s %s\n# TYPE %s counter\n", families[f].name, families[f].help,
                  families[f].name);
    for (size_t i = 0; i < m->fam[f].n; i++) {
      char *l = escape_label(m->fam[f].e[i].label);
      tr_buf_printf(&b, "%s{%s=\"%s\"} %llu\n", families[f].name, families[f].label, l,
                    (unsigned long long)m->fam[f].e[i].value);
      free(l);
    }
  }
  pthread_mutex_unlock(&m->mu);
  pthread_mutex_lock(&m->hist_mu);
  tr_buf_printf(&b, "# HELP kbs_http_request_duration_seconds Distribution of request handling duration\n"
                    "# TYPE kbs_http_request_duration_seconds histogram\n");
  render_histo(&b, "kbs_http_request_duration_seconds", NULL, &m->dur);
  tr_buf_printf(&b, "# HELP kbs_http_request_size_bytes Distribution of request body sizes\n"
                    "# TYPE kbs_http_request_size_bytes histogram\n");
  render_histo(&b, "kbs_http_request_size_bytes", NULL, &m->req);
  tr_buf_printf(&b, "# HELP kbs_http_response_size_bytes Distribution of response body sizes\n"
                    "# TYPE kbs_http_response_size_bytes histogram\n");
  render_histo(&b, "kbs_http_response_size_bytes", NULL, &m->resp);
  tr_buf_printf(&b,
                "# HELP kbs_plugin_request_duration_seconds External plugin Handle RPC latency in seconds\n"
                "# TYPE kbs_plugin_request_duration_seconds histogram\n");
  for (size_t i = 0; i < m->nplug; i++) {
    char *l = escape_label(m->plug[i].label);
    char lab[512];
    snprintf(lab, sizeof lab, "plugin_name=\"%s\"", l);
    free(l);
    render_histo(&b, "kbs_plugin_request_duration_seconds", lab, &m->plug[i].h);
  }
  pthread_mutex_unlock(&m->hist_mu);
  return (char *)tr_buf_steal(&b, len);
}
