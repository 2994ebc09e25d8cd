/* az_snp_vtpm.c — the `az-snp-vtpm` verifier (Azure SEV-SNP confidential VM
 * with a paravisor vTPM, TEE class "cpu").
 *
 * Steps, in upstream's order (az_snp_vtpm/mod.rs):
 *  1. the TPM quote is signed by the AK (JWK "HCLAkPub" in the HCL variable
 *     data); 2. quote nonce == expected report data (required); 3. PCR digest;
 *  4. SHA-256(variable data) == SNP REPORT_DATA[0..32]; 5. v2: user-data;
 *  6. the SNP report is genuine: VCEK from the evidence chained to the
 *     embedded AMD ARK/ASK of the report's generation (cached), ECDSA
 *     signature, TCB extensions (fmc too on Turin) and hwID; 7. VMPL 0;
 *  8. init data against PCR8.
 * Version-2 SNP reports (no CPUID) take the generation whose chain verifies
 * the VCEK, like the `snp` verifier; upstream refuses them.
 *
 * Claims (upstream parse_tee_evidence_az + extend_claim): every SNP value as
 * a string ("true"/"false", decimals), measurement in standard base64, then
 * "tpm": {"pcrNN": hex}, "init_data" = hex(PCR8), "report_data" =
 * hex(quote nonce). */
#include <stdlib.h>
#include <string.h>

#include "core/encoding.h"
#include "core/json.h"
#include "verifier/az_snp_vtpm/azure.h"
#include "verifier/snp/snp.h"
#include "verifier/verifier.h"

typedef struct {
  tr_snp_ctx *ctx;
} az_state;

static tr_err *az_create(const json_t *config, void **state) {
  az_state *s = calloc(1, sizeof(*s));
  if (!s) return tr_err_new(TR_E_NOMEM, "out of memory");
  tr_err *e = tr_snp_ctx_new_config(config, &s->ctx);
  if (e) {
    free(s);
    return e;
  }
  *state = s;
  return NULL;
}

static void az_destroy(void *state) {
  az_state *s = state;
  if (!s) return;
  tr_snp_ctx_free(s->ctx);
  free(s);
}

/* Step 6-7: the embedded SNP report against the evidence's VCEK. */
static tr_err *verify_snp(az_state *s, tr_snp_report *r, const tr_az_evidence *ev) {
  tr_snp_gen cands[TR_SNP_NGEN] = {TR_SNP_MILAN, TR_SNP_GENOA, TR_SNP_TURIN};
  size_t ncand = TR_SNP_NGEN;
  tr_err *e = NULL;
  if (tr_snp_report_version(r) >= 3) {
    if ((e = tr_snp_report_cpuid_gen(r, &cands[0]))) return tr_err_wrap(e, "Failed to get CPU Generation");
    ncand = 1;
  }
  tr_snp_vek *vek = NULL;
  tr_err *first = NULL;
  for (size_t i = 0; i < ncand && !vek; i++) {
    e = tr_snp_report_finalize(r, cands[i]);
    if (!e)
      e = tr_snp_vek_verify(s->ctx, cands[i], TR_SNP_VCEK, ev->extra, ev->extra_len, NULL, 0, NULL, 0, &vek);
    if (e) {
      e = tr_err_wrap(e, "Failed to validate VCEK against the AMD %s chain", tr_snp_gen_name(cands[i]));
      if (!first)
        first = e;
      else
        tr_err_free(e);
    }
  }
  if (!vek) return first;
  tr_err_free(first);
  e = tr_snp_verify_tcb(r, vek, r->gen == TR_SNP_TURIN);
  if (!e) e = tr_snp_verify_signature(r, vek);
  tr_snp_vek_unref(vek);
  if (e) return e;
  if (r->vmpl != 0) return tr_err_new(TR_E_VERIFY, "VMPL of SNP report is not 0 (it is %u)", r->vmpl);
  return NULL;
}

static json_t *fmt_u(uint64_t v) {
  char b[24];
  snprintf(b, sizeof(b), "%llu", (unsigned long long)v);
  return json_string(b);
}
static json_t *fmt_b(uint64_t bit) { return json_string(bit ? "true" : "false"); }
static json_t *b64s(const uint8_t *p, size_t n) {
  char *s = tr_b64_encode(p, n, TR_B64_STD);
  json_t *j = s ? json_string(s) : NULL;
  free(s);
  return j;
}

static json_t *az_snp_claims(const tr_snp_report *r) {
  uint64_t pol = r->policy, pi = r->plat_info;
  return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
                   "policy_abi_major", fmt_u((pol >> 8) & 0xFF), "policy_abi_minor", fmt_u(pol & 0xFF),
                   "policy_smt_allowed", fmt_b((pol >> 16) & 1), "policy_migrate_ma", fmt_b((pol >> 18) & 1),
                   "policy_debug_allowed", fmt_b((pol >> 19) & 1), "policy_single_socket",
                   fmt_b((pol >> 20) & 1), "reported_tcb_bootloader", fmt_u(r->reported_tcb.bootloader),
                   "reported_tcb_tee", fmt_u(r->reported_tcb.tee), "reported_tcb_snp",
                   fmt_u(r->reported_tcb.snp), "reported_tcb_microcode", fmt_u(r->reported_tcb.microcode),
                   "platform_tsme_enabled", fmt_b((pi >> 1) & 1), "platform_smt_enabled", fmt_b(pi & 1),
                   "measurement", b64s(TR_SNP_MEASUREMENT(r), 48), "report_data",
                   b64s(TR_SNP_REPORT_DATA(r), 64), "init_data", b64s(TR_SNP_HOST_DATA(r), 32));
}

static tr_err *az_check(void *state, const json_t *evidence, const tr_expected *report_data,
                        const tr_expected *init_data, json_t **claims) {
  az_state *s = state;
  if (!report_data || !report_data->present) return tr_err_new(TR_E_INVALID, "unexpected empty report data");
  tr_az_evidence ev;
  tr_err *e = tr_az_evidence_parse(evidence, false, &ev);
  if (e) return tr_err_wrap(e, "Failed to deserialize Azure vTPM SEV-SNP evidence");
  tr_hcl_report h;
  TPMS_ATTEST attest;
  tr_snp_report *r = calloc(1, sizeof(*r));
  uint8_t vd[32];
  if (!r) e = tr_err_new(TR_E_NOMEM, "out of memory");
  if (!e) e = tr_hcl_parse(ev.hcl, ev.hcl_len, &h);
  if (!e && h.report_type != TR_HCL_TYPE_SNP)
    e = tr_err_new(TR_E_INVALID, "HCL report: invalid report type %u (expected SNP)", h.report_type);
  if (!e) e = tr_az_verify_vtpm(&ev, &h, report_data, &attest);
  if (!e) e = tr_snp_report_from_bytes(h.bytes + TR_HCL_HW_REPORT_OFF, TR_SNP_REPORT_LEN, r);
  if (!e) e = tr_hcl_var_data_sha256(&h, vd);
  if (!e && memcmp(vd, TR_SNP_REPORT_DATA(r), 32) != 0)
    e = tr_err_new(TR_E_VERIFY, "HCL variable data digest doesn't match SNP report data");
  if (!e && ev.version >= 2) e = tr_hcl_check_user_data(&h, report_data);
  if (!e) e = verify_snp(s, r, &ev);
  if (!e) e = tr_tpm_verify_init_data(&ev.quote, init_data);
  if (!e) {
    *claims = az_snp_claims(r);
    if (!*claims)
      e = tr_err_new(TR_E_NOMEM, "out of memory");
    else if ((e = tr_az_extend_claims(*claims, &ev, &attest))) {
      json_decref(*claims);
      *claims = NULL;
    }
  }
  free(r);
  tr_az_evidence_clear(&ev);
  return e;
}

static tr_err *az_evaluate(void *state, const json_t *evidence, const tr_expected *report_data,
                           const tr_expected *init_data, tr_verified_list *out) {
  return tr_verifier_evaluate_cpu(az_check, "az-snp-vtpm", state, evidence, report_data, init_data, out);
}

const tr_verifier_ops tr_verifier_az_snp_vtpm = {
    .tee = "az-snp-vtpm",
    .create = az_create,
    .destroy = az_destroy,
    .evaluate = az_evaluate,
    .challenge = NULL,
};
