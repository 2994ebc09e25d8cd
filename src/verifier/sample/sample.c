/* sample.c — the `sample` verifier (TEE class "cpu").
 *
 * Claims: {"svn", "report_data" (the evidence's base64 string, as upstream),
 * "launch_digest": "abcde", "platform_version": {"major":1,"minor":4},
 * "debug": false} and, when the request carried init data, "init_data" =
 * base64 standard of the expected init-data hash (unverified: the sample TEE
 * has nothing to check it against, exactly as upstream). */
#include "verifier/sample/sample.h"

#include <stdlib.h>
#include <string.h>

#include "core/encoding.h"
#include "core/json.h"
#include "core/log.h"

tr_err *tr_sample_check(const json_t *evidence, const tr_expected *report_data, json_t **svn,
                        json_t **report_data_b64) {
  if (!json_is_object(evidence))
    return tr_err_new(TR_E_INVALID, "evidence: expected object, got %s", tr_json_type_name(evidence));
  json_t *s = json_object_get(evidence, "svn");
  if (!s) return tr_err_new(TR_E_INVALID, "evidence: missing field `svn`");
  if (!json_is_string(s)) return tr_err_new(TR_E_INVALID, "evidence field `svn`: expected string");
  json_t *rd = json_object_get(evidence, "report_data");
  if (rd && !json_is_null(rd) && !json_is_string(rd))
    return tr_err_new(TR_E_INVALID, "evidence field `report_data`: expected string");
  if (!json_is_string(rd)) rd = NULL;
  if (report_data && report_data->present) {
    uint8_t *dec = NULL;
    size_t dec_len = 0;
    /* the whole string, embedded NULs included (they make it invalid) */
    tr_err *e = tr_b64_decode(rd ? json_string_value(rd) : "", rd ? json_string_length(rd) : 0, TR_B64_STD,
                              &dec, &dec_len);
    if (e) return tr_err_wrap(e, "base64 decode report data for sample evidence");
    bool same = tr_ct_equal(dec, dec_len, report_data->data, report_data->len);
    free(dec);
    if (!same) return tr_err_new(TR_E_VERIFY, "REPORT_DATA is different from that in Sample Quote");
  }
  *svn = json_copy(s);
  *report_data_b64 = rd ? json_copy(rd) : json_string("");
  if (!*svn || !*report_data_b64) {
    json_decref(*svn);
    json_decref(*report_data_b64);
    return tr_err_new(TR_E_NOMEM, "out of memory");
  }
  return NULL;
}

static tr_err *sample_evaluate(void *state, const json_t *evidence, const tr_expected *report_data,
                               const tr_expected *init_data_hash, tr_verified_list *out) {
  (void)state;
  json_t *svn = NULL, *rd = NULL;
  tr_err *e = tr_sample_check(evidence, report_data, &svn, &rd);
  if (e) return tr_err_wrap(e, "sample");
  json_t *claims =
      json_pack("{s:o, s:o, s:s, s:{s:i, s:i}, s:b}", "svn", svn, "report_data", rd, "launch_digest", "abcde",
                "platform_version", "major", 1, "minor", 4, "debug", 0);
  if (!claims) return tr_err_new(TR_E_NOMEM, "out of memory");
  if (init_data_hash && init_data_hash->present) {
    TR_DEBUG("verifier", "sample verifier does not check init-data");
    char *b64 = tr_b64_encode(init_data_hash->data ? (const void *)init_data_hash->data : "",
                              init_data_hash->len, TR_B64_STD);
    if (!b64 || json_object_set_new(claims, "init_data", json_string(b64))) {
      free(b64);
      json_decref(claims);
      return tr_err_new(TR_E_NOMEM, "out of memory");
    }
    free(b64);
  }
  return tr_verified_list_push(out, claims, "cpu");
}

const tr_verifier_ops tr_verifier_sample = {
    .tee = "sample",
    .evaluate = sample_evaluate,
};
