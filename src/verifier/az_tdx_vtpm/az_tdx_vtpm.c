/* az_tdx_vtpm.c — the `az-tdx-vtpm` verifier (Azure TDX confidential VM with
 * a paravisor vTPM, TEE class "cpu").
 *
 * Steps (upstream az_tdx_vtpm/mod.rs): 1. the TPM quote is signed by the
 * HCL's AK; 2. quote nonce == expected report data; 3. PCR digest; 4. the TD
 * quote (v4/v5) is genuine — Intel DCAP; 5. SHA-256(HCL variable data) == TD
 * quote REPORT_DATA[0..32]; 6. v2: user-data; 7. init data against PCR8.
 * Claims: the TDX quote claims (no event log) + DCAP custom claims, then
 * "tpm": {"pcrNN"}, "init_data" = hex(PCR8), "report_data" = hex(nonce).
 *
 * Everything but step 4 is done here. Step 4 is the Intel DCAP verifier
 * (src/verifier/dcap: quote signature, PCK chain, collateral per
 * `verifier_config.dcap_verifier`), called through the DCAP HOOK below. */
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "verifier/az_snp_vtpm/azure.h"
#include "verifier/dcap/dcap.h"
#include "verifier/verifier.h"

#define TDX_TEE_TYPE 0x81
#define TD_REPORT_DATA_IN_BODY 520 /* tee_tcb_svn..rtmr3 */
#define QUOTE_HEADER_LEN 48

static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t le32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The TD quote's REPORT_DATA (structure only, nothing verified). */
static tr_err *td_quote_report_data(const uint8_t *q, size_t n, const uint8_t **rd) {
  if (n < QUOTE_HEADER_LEN)
    return tr_err_new(TR_E_INVALID, "TD quote: %zu bytes is shorter than its header", n);
  uint16_t version = le16(q);
  size_t off;
  if (version == 3) return tr_err_new(TR_E_INVALID, "expected TDX quote (v4/v5), got SGX quote (v3)");
  if (le32(q + 4) != TDX_TEE_TYPE)
    return tr_err_new(TR_E_INVALID, "TD quote: TEE type 0x%x is not TDX", le32(q + 4));
  if (version == 4) {
    off = QUOTE_HEADER_LEN + TD_REPORT_DATA_IN_BODY;
  } else if (version == 5) {
    if (n < QUOTE_HEADER_LEN + 6) return tr_err_new(TR_E_INVALID, "TD quote v5: truncated body descriptor");
    uint16_t body_type = le16(q + QUOTE_HEADER_LEN);
    if (body_type != 2 && body_type != 3)
      return tr_err_new(TR_E_INVALID, "TD quote v5: body type %u is not a TD report", body_type);
    off = QUOTE_HEADER_LEN + 6 + TD_REPORT_DATA_IN_BODY;
  } else {
    return tr_err_new(TR_E_INVALID, "TD quote version %u is not supported (expected 4 or 5)", version);
  }
  if (n < off + 64) return tr_err_new(TR_E_INVALID, "TD quote: truncated (%zu bytes)", n);
  *rd = q + off;
  return NULL;
}

/* ==== DCAP HOOK ==============================================================
 * The TD quote's own verification belongs to the Intel DCAP verifier, which
 * provides (src/verifier/dcap/dcap.h)
 *
 *     tr_err *tr_dcap_verify_td_quote(void *dcap_state, const uint8_t *quote,
 *                                     size_t len, json_t **claims);
 *
 * verifying the quote (QE report and signature, PCK chain to Intel's root,
 * TCB status from collateral per `verifier_config.dcap_verifier`) and
 * returning upstream's TDX claims for it without an event log
 * (tdx::claims::generate_parsed_claim(quote, None, platform_info) extended
 * with the DCAP custom claims). To enable az-tdx-vtpm:
 *   1. create the DCAP state in az_tdx_create() from `config` (store it in
 *      az_tdx_state.dcap) and free it in az_tdx_destroy();
 *   2. replace the body of az_tdx_verify_td_quote() with
 *          return tr_dcap_verify_td_quote(s->dcap, quote, len, claims);
 * Nothing else changes: the vTPM/HCL checks and the claim extension around
 * it are done and tested (tests/verifier/test_az_tdx_vtpm.c).
 * ========================================================================== */
typedef struct {
  void *dcap; /* the DCAP verifier's state, once it exists */
} az_tdx_state;

static tr_err *az_tdx_verify_td_quote(az_tdx_state *s, const uint8_t *quote, size_t len, json_t **claims) {
  return tr_dcap_verify_td_quote(s->dcap, quote, len, claims);
}
/* ==== end of DCAP HOOK ===================================================== */

static tr_err *az_tdx_create(const json_t *config, void **state) {
  az_tdx_state *s = calloc(1, sizeof(*s));
  if (!s) return tr_err_new(TR_E_NOMEM, "out of memory");
  tr_dcap *d = NULL;
  tr_err *e = tr_dcap_new(config, &d);
  s->dcap = d;
  if (e) {
    free(s);
    return e;
  }
  *state = s;
  return NULL;
}

static void az_tdx_destroy(void *state) {
  az_tdx_state *s = state;
  if (s) tr_dcap_free(s->dcap);
  free(s);
}

static tr_err *az_tdx_check(az_tdx_state *s, const json_t *evidence, const tr_expected *report_data,
                            const tr_expected *init_data, json_t **claims) {
  if (!report_data || !report_data->present) return tr_err_new(TR_E_INVALID, "unexpected empty report data");
  tr_az_evidence ev;
  tr_err *e = tr_az_evidence_parse(evidence, true, &ev);
  if (e) return tr_err_wrap(e, "Failed to deserialize Azure vTPM TDX evidence");
  tr_hcl_report h;
  TPMS_ATTEST attest;
  const uint8_t *td_rd = NULL;
  uint8_t vd[32];
  e = tr_hcl_parse(ev.hcl, ev.hcl_len, &h);
  if (!e && h.report_type != TR_HCL_TYPE_TDX)
    e = tr_err_new(TR_E_INVALID, "HCL report: invalid report type %u (expected TDX)", h.report_type);
  if (!e) e = tr_az_verify_vtpm(&ev, &h, report_data, &attest);
  if (!e) e = td_quote_report_data(ev.extra, ev.extra_len, &td_rd);
  if (!e) e = tr_hcl_var_data_sha256(&h, vd);
  if (!e && memcmp(vd, td_rd, 32) != 0) e = tr_err_new(TR_E_VERIFY, "TDX Quote report data mismatch");
  if (!e && ev.version >= 2) e = tr_hcl_check_user_data(&h, report_data);
  if (!e) e = tr_tpm_verify_init_data(&ev.quote, init_data);
  if (!e) e = az_tdx_verify_td_quote(s, ev.extra, ev.extra_len, claims);
  if (!e && (e = tr_az_extend_claims(*claims, &ev, &attest))) {
    json_decref(*claims);
    *claims = NULL;
  }
  tr_az_evidence_clear(&ev);
  return e;
}

static tr_err *az_tdx_evaluate(void *state, const json_t *evidence, const tr_expected *report_data,
                               const tr_expected *init_data, tr_verified_list *out) {
  json_t *claims = NULL;
  tr_err *e = az_tdx_check(state, evidence, report_data, init_data, &claims);
  if (e) {
    /* The hook's message already names the verifier. */
    if (tr_err_code(e) == TR_E_UNSUPPORTED && strstr(tr_err_msg(e), "az-tdx-vtpm: ") == tr_err_msg(e))
      return e;
    return tr_err_wrap(e, "az-tdx-vtpm");
  }
  return tr_verified_list_push(out, claims, "cpu");
}

const tr_verifier_ops tr_verifier_az_tdx_vtpm = {
    .tee = "az-tdx-vtpm",
    .create = az_tdx_create,
    .destroy = az_tdx_destroy,
    .evaluate = az_tdx_evaluate,
    .challenge = NULL,
};
