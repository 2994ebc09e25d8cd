/* fuzz_evaluate.c — a POST /attestation body through the whole library path:
 * request parsing, the sample/sampledevice verifiers (report-data binding),
 * runtime/init data, the §1.5 policy input, the default EAR policies with
 * query_reference_value against a built-in RVPS holding the sample reference
 * values, and token signing. One AS is created on first use and shared by
 * every run, as restful-as shares one. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "as/as.h"
#include "as/request.h"
#include "core/encoding.h"
#include "core/log.h"

static tr_as *shared_as(void) {
  static tr_as *as;
  if (as) return as;
  tr_err *e = tr_as_new(NULL, &as);
  if (e) abort();
  const char *vals =
      "{\"svn\":[\"1\"],\"launch_digest\":[\"abcde\"],\"major_version\":1,\"minimum_minor_version\":1,"
      "\"device_svn\":[\"2\"]}";
  char *pl = tr_b64_encode(vals, strlen(vals), TR_B64_STD);
  char msg[512];
  snprintf(msg, sizeof(msg), "{\"version\":\"0.1.0\",\"type\":\"sample\",\"payload\":\"%s\"}", pl);
  free(pl);
  if ((e = tr_rvps_register(tr_as_rvps(as), msg, strlen(msg)))) abort();
  return as;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  tr_as *as = shared_as();
  tr_as_parsed *p = NULL;
  tr_err *e = tr_as_parse_attestation((const char *)data, size, &p);
  if (!e) {
    char *tok = NULL;
    e = tr_as_evaluate(as, p->reqs, p->nreqs, (const char *const *)p->policy_ids, p->npolicy_ids, &tok);
    /* a token is only issued for a request that verified */
    if (!e && (!tok || strchr(tok, '.') == NULL)) abort();
    free(tok);
    tr_as_parsed_free(p);
  }
  tr_err_free(e);
  return 0;
}
