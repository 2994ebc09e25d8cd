/* tdx.c — the `tdx` verifier (Intel TDX, TEE class "cpu"), upstream tdx/mod.rs.
 *
 * Evidence {"quote": base64std TD quote, "cc_eventlog": base64std | null | ""}.
 * Steps: decode; parse (an SGX v3 quote is rejected); full DCAP verification
 * (dcap/verify.c); REPORT_DATA == expected report data (pad/truncate to 64);
 * MR_CONFIG_ID == expected init-data hash (pad/truncate to 48); with an event
 * log: parse it, require every record to be replayed (index 1..4 with a
 * SHA-384 digest; stricter than upstream) and replay CC MR 1..4 (SHA-384)
 * against RTMR0..3. Claims:
 * tdx_claims.c with the parsed log, extended with the DCAP claims. */
#include <stdlib.h>
#include <string.h>

#include "core/encoding.h"
#include "core/json.h"
#include "verifier/eventlog/eventlog.h"
#include "verifier/tdx/tdx.h"
#include "verifier/verifier.h"

static tr_err *b64_field(const json_t *ev, const char *k, bool optional, uint8_t **out, size_t *len) {
  *out = NULL;
  *len = 0;
  json_t *v = json_object_get(ev, k);
  if (optional && (!v || json_is_null(v))) return NULL;
  if (!json_is_string(v))
    return tr_err_new(TR_E_INVALID, "Deserialize TDX Evidence failed.: field `%s`: expected a string", k);
  if (json_string_length(v) == 0) return NULL;
  tr_err *e = tr_b64_decode(json_string_value(v), json_string_length(v), TR_B64_STD, out, len);
  return e ? tr_err_wrap(e, "TDX evidence field `%s`", k) : NULL;
}

static tr_err *check(void *state, const json_t *evidence, const tr_expected *report_data,
                     const tr_expected *init_data, json_t **claims) {
  tr_dcap *d = state;
  if (!json_is_object(evidence))
    return tr_err_new(TR_E_INVALID, "Deserialize TDX Evidence failed.: expected an object");
  uint8_t *qb = NULL, *el = NULL;
  size_t ql, ell;
  tr_err *e = b64_field(evidence, "quote", false, &qb, &ql);
  if (!e && !qb) e = tr_err_new(TR_E_INVALID, "TDX Quote is empty.");
  if (!e) e = b64_field(evidence, "cc_eventlog", true, &el, &ell);
  tr_dcap_quote q;
  if (!e) e = tr_dcap_quote_parse(qb, ql, &q);
  if (!e && q.version == 3) e = tr_err_new(TR_E_INVALID, "expected TDX quote (v4/v5), got SGX quote (v3)");
  tr_dcap_platform pi;
  json_t *custom = NULL;
  if (!e) e = tr_dcap_verify_quote(d, &q, NULL, &pi, &custom);
  if (!e && report_data && report_data->present) {
    uint8_t rd[64];
    tr_regularize(report_data, rd, 64);
    if (memcmp(rd, q.body + TR_TD_REPORT_DATA, 64) != 0)
      e = tr_err_new(TR_E_VERIFY, "REPORT_DATA is different from that in TDX Quote");
  }
  if (!e && init_data && init_data->present) {
    uint8_t id[48];
    tr_regularize(init_data, id, 48);
    if (memcmp(id, q.body + TR_TD_MR_CONFIG_ID, 48) != 0)
      e = tr_err_new(TR_E_VERIFY, "MRCONFIGID is different from that in TDX Quote");
  }
  tr_ccel log;
  memset(&log, 0, sizeof(log));
  if (!e && el) {
    e = tr_ccel_parse(el, ell, &log);
    if (!e) e = tr_ccel_check_bound(&log, TR_TCG_SHA384, 1, 4);
    if (!e) {
      uint32_t idx[4] = {1, 2, 3, 4};
      const uint8_t *refs[4];
      size_t lens[4] = {48, 48, 48, 48};
      for (int i = 0; i < 4; i++)
        refs[i] = q.body + TR_TD_RTMR0 + 48 * i;
      e = tr_ccel_replay_and_match(&log, TR_TCG_SHA384, idx, refs, lens, 4);
    }
  }
  if (!e) {
    json_t *c = tr_tdx_claims(&q, el ? log.entries : NULL, &pi);
    if (!c || json_object_update(c, custom) != 0) {
      json_decref(c);
      e = tr_err_new(TR_E_NOMEM, "out of memory");
    } else {
      *claims = c;
    }
  }
  tr_ccel_clear(&log);
  json_decref(custom);
  free(qb);
  free(el);
  return e;
}

static tr_err *tdx_evaluate(void *state, const json_t *evidence, const tr_expected *report_data,
                            const tr_expected *init_data, tr_verified_list *out) {
  return tr_verifier_evaluate_cpu(check, "TDX Verifier", state, evidence, report_data, init_data, out);
}

const tr_verifier_ops tr_verifier_tdx = {
    .tee = "tdx",
    .create = tr_dcap_verifier_create,
    .destroy = tr_dcap_verifier_destroy,
    .evaluate = tdx_evaluate,
    .challenge = NULL,
};
