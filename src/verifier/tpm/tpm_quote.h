/* tpm_quote.h — TPM 2.0 quotes as the vTPM and TPM verifiers receive them:
 * a signature, the signed TPMS_ATTEST message and the PCR values (SHA-256
 * bank) the quote claims to cover. Shared by `tpm`, `az-snp-vtpm` and
 * `az-tdx-vtpm`.
 *
 * Checks (az-cvm-vtpm's vtpm/verify.rs semantics):
 *  - signature: the AK's public key verifies `signature` over `message`
 *    with SHA-256 (RSASSA-PKCS1-v1_5 for RSA keys, the only kind in use);
 *  - PCR digest: SHA-256 over the concatenated PCR values, in the given
 *    order, equals TPMS_QUOTE_INFO.pcrDigest, and the signed pcrSelect is
 *    exactly PCRs 0..N-1 of the SHA-256 bank for the N values given, so that
 *    the value at position i really is PCR i (upstream does not compare
 *    pcrSelect: a sparse selection there relabels PCRs);
 *  - init data: SHA-256(32 zero bytes ‖ expected) == PCR[8] (the PCR8 of a
 *    freshly reset TPM extended once with the 32-byte init-data hash).
 * The quote owns its buffers (tr_tpm_quote_clear frees them). */
#ifndef TRUSTEE_VERIFIER_TPM_TPM_QUOTE_H
#define TRUSTEE_VERIFIER_TPM_TPM_QUOTE_H

#include <jansson.h>
#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>
#include <tss2/tss2_mu.h>

#include "core/error.h"
#include "verifier/verifier.h"

#define TR_TPM_INITDATA_PCR 8

typedef struct {
  uint8_t *sig;
  size_t sig_len;
  uint8_t *msg;
  size_t msg_len;
  uint8_t (*pcrs)[32];
  size_t npcrs;
} tr_tpm_quote;

void tr_tpm_quote_clear(tr_tpm_quote *q);

/* {"signature": hex, "message": hex, "pcrs": [hex ×N]} (vTPM v1/v2). */
tr_err *tr_tpm_quote_from_hex_json(const json_t *q, const char *label, tr_tpm_quote *out);
/* {"signature": [u8], "message": [u8], "pcrs": [[u8; 32] ×N]} (vTPM v0). */
tr_err *tr_tpm_quote_from_bytes_json(const json_t *q, const char *label, tr_tpm_quote *out);

/* TPMS_ATTEST of a quote: magic TPM_GENERATED_VALUE, type ATTEST_QUOTE. */
tr_err *tr_tpm_attest_parse(const uint8_t *msg, size_t len, TPMS_ATTEST *out);

tr_err *tr_tpm_verify_signature(const tr_tpm_quote *q, EVP_PKEY *ak);
tr_err *tr_tpm_verify_pcrs(const tr_tpm_quote *q, const TPMS_ATTEST *a);
/* No-op when init data is not provided; expected must be 32 bytes. */
tr_err *tr_tpm_verify_init_data(const tr_tpm_quote *q, const tr_expected *init_data);

/* Adds "pcrNN": hex for every PCR to obj. */
tr_err *tr_tpm_pcr_claims(json_t *obj, const tr_tpm_quote *q);

#endif
