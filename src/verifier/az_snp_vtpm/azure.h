/* azure.h — Azure confidential VM vTPM evidence, shared by `az-snp-vtpm`
 * and `az-tdx-vtpm`: the HCL report, the evidence versions 0/1/2 and the
 * vTPM quote checks.
 *
 * HCL report (az-cvm-vtpm hcl/mod.rs), little-endian:
 *   0x000 header {signature "HCLA", version, report_size, request_type,
 *         status, reserved[3]} (32 bytes)
 *   0x020 hardware report area (1184 bytes): SNP report = 32..1216, TDX
 *         TDREPORT = 32..1056
 *   0x4C0 IgvmRequestData {data_size, version, report_type (2 SNP, 4 TDX),
 *         report_data_hash_type (1 SHA-256), variable_data_size}
 *   0x4D4 variable data: JSON {"keys":[{"kid":"HCLAkPub","kty":"RSA",...},
 *         ...], "vm-configuration":{...}, "user-data": hex}
 * SHA-256(variable data) is the first half of the hardware report's
 * REPORT_DATA, which binds the AK (and user-data) to the hardware.
 *
 * Evidence (untagged, as upstream: "version" 2 or 1, otherwise v0):
 *   v1/v2 {"version", "tpm_quote": {hex signature, message, pcrs},
 *          "hcl_report": base64url, "<extra>": base64url}
 *   v0 SNP {"quote": {byte arrays}, "report": [u8], "vcek": "PEM"}
 *   v0 TDX {"tpm_quote": {byte arrays}, "hcl_report": [u8], "td_quote": [u8]}
 * where <extra> is "vcek" (DER) for SNP and "td_quote" for TDX. */
#ifndef TRUSTEE_VERIFIER_AZ_SNP_VTPM_AZURE_H
#define TRUSTEE_VERIFIER_AZ_SNP_VTPM_AZURE_H

#include <jansson.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "verifier/tpm/tpm_quote.h"
#include "verifier/verifier.h"

#define TR_HCL_HW_REPORT_OFF 0x20
#define TR_HCL_VAR_DATA_OFF 0x4D4
#define TR_HCL_TYPE_SNP 2
#define TR_HCL_TYPE_TDX 4

typedef struct {
  const uint8_t *bytes; /* borrowed */
  size_t len;
  uint32_t report_type, hash_type;
  const uint8_t *var_data;
  size_t var_len;
} tr_hcl_report;

/* Parses (borrows `b`). */
tr_err *tr_hcl_parse(const uint8_t *b, size_t n, tr_hcl_report *out);
/* SHA-256 of the variable data (only hash type 1, SHA-256, exists). */
tr_err *tr_hcl_var_data_sha256(const tr_hcl_report *h, uint8_t out[32]);
/* The vTPM attestation key: the JWK with kid "HCLAkPub". *out: caller frees. */
tr_err *tr_hcl_ak_pub(const tr_hcl_report *h, EVP_PKEY **out);
/* v2: hex-decoded "user-data"[0..len] == expected report data. */
tr_err *tr_hcl_check_user_data(const tr_hcl_report *h, const tr_expected *report_data);

typedef struct {
  int version; /* 0, 1, 2 */
  tr_tpm_quote quote;
  uint8_t *hcl;
  size_t hcl_len;
  uint8_t *extra; /* VCEK (PEM for v0, DER otherwise) or TD quote */
  size_t extra_len;
} tr_az_evidence;

/* `tdx` selects the TDX shapes (v0 key names, "td_quote"). */
tr_err *tr_az_evidence_parse(const json_t *ev, bool tdx, tr_az_evidence *out);
void tr_az_evidence_clear(tr_az_evidence *e);

/* The vTPM part common to both verifiers, in upstream's order: AK from the
 * HCL signs the quote; quote nonce == expected report data exactly (which
 * must be provided); PCR digest. *attest receives the decoded quote. */
tr_err *tr_az_verify_vtpm(const tr_az_evidence *ev, const tr_hcl_report *h, const tr_expected *report_data,
                          TPMS_ATTEST *attest);
/* Adds upstream's vTPM claims to obj: "tpm": {"pcrNN": hex}, "init_data":
 * hex(PCR8) (when there are more than 8 PCRs), "report_data": hex(nonce). */
tr_err *tr_az_extend_claims(json_t *obj, const tr_az_evidence *ev, const TPMS_ATTEST *attest);

#endif
