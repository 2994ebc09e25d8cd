/* metrics.h — the KBS's Prometheus metrics, upstream's names, labels and
 * buckets (kbs/src/prometheus/mod.rs). One instance per KBS; counters are
 * atomics, labelled families take a mutex. Text exposition format 0.0.4.
 *
 * Deviation (docs/kbs.md): upstream observes response sizes in the request
 * size histogram and never fills kbs_http_response_size_bytes; here request
 * sizes go to the request histogram and response sizes to the response one. */
#ifndef TRUSTEE_KBS_METRICS_H
#define TRUSTEE_KBS_METRICS_H

#include <stddef.h>

typedef struct kbs_metrics kbs_metrics;

typedef enum {
  KBS_M_HTTP_REQUESTS = 0,
  KBS_M_POLICY_EVALS,
  KBS_M_POLICY_APPROVALS,
  KBS_M_POLICY_VIOLATIONS,
  KBS_M_POLICY_ERRORS,
  KBS_M_ATTEST_REQUESTS,
  KBS_M_ATTEST_ERRORS,
  KBS_M_AUTH_REQUESTS,
  KBS_M_AUTH_SUCCESSES,
  KBS_M_AUTH_ERRORS,
  KBS_M_NCOUNTERS
} kbs_counter;

typedef enum {
  KBS_L_RESOURCE_READS = 0,
  KBS_L_RESOURCE_WRITES,
  KBS_L_RESOURCE_DELETES,
  KBS_L_ATTEST_SUCCESSES,
  KBS_L_ATTEST_FAILURES,
  KBS_L_PLUGIN_REQUESTS,
  KBS_L_PLUGIN_ERRORS,
  KBS_L_NFAMILIES
} kbs_labelled;

kbs_metrics *kbs_metrics_new(const char *version, const char *git_hash, const char *build_date);
void kbs_metrics_free(kbs_metrics *m);

void kbs_metrics_inc(kbs_metrics *m, kbs_counter c);
void kbs_metrics_inc_label(kbs_metrics *m, kbs_labelled f, const char *label_value);
void kbs_metrics_active(kbs_metrics *m, int delta);
void kbs_metrics_observe_request(kbs_metrics *m, double seconds, size_t request_bytes, size_t response_bytes);
void kbs_metrics_observe_plugin(kbs_metrics *m, const char *plugin, double seconds);

/* Text exposition; caller frees. */
char *kbs_metrics_render(kbs_metrics *m, size_t *len);

#endif
