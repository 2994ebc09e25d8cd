/* sampledevice.c — the `sampledevice` verifier (TEE class "gpu"): the sample
 * evidence shape for a device; claims {"svn", "report_data"}; init data is
 * ignored (upstream). */
#include "verifier/sample/sample.h"

static tr_err *sampledevice_evaluate(void *state, const json_t *evidence, const tr_expected *report_data,
                                     const tr_expected *init_data_hash, tr_verified_list *out) {
  (void)state;
  (void)init_data_hash;
  json_t *svn = NULL, *rd = NULL;
  tr_err *e = tr_sample_check(evidence, report_data, &svn, &rd);
  if (e) return tr_err_wrap(e, "sampledevice");
  json_t *claims = json_pack("{s:o, s:o}", "svn", svn, "report_data", rd);
  if (!claims) return tr_err_new(TR_E_NOMEM, "out of memory");
  return tr_verified_list_push(out, claims, "gpu");
}

const tr_verifier_ops tr_verifier_sampledevice = {
    .tee = "sampledevice",
    .evaluate = sampledevice_evaluate,
};
