/* tpm.c — the `tpm` verifier (plain TPM 2.0 quote, TEE class "cpu").
 *
 * Evidence (guest-components TPM attester):
 *   {"ak_public": base64std(DER SubjectPublicKeyInfo),
 *    "tpm_quote": {"signature": base64std(marshalled TPMT_SIGNATURE),
 *                  "message": base64std(TPMS_ATTEST), "pcrs": [64 hex chars ×N]}}
 *
 * Steps as upstream: the TPMT_SIGNATURE must be RSASSA; the AK verifies the
 * quote (PKCS#1 v1.5, SHA-256); SHA-256 of the PCRs equals the quote's
 * pcrDigest; when report data is given it is zero-padded/truncated to 32
 * bytes and must equal the quote's extraData exactly; init data against PCR8.
 *
 * Trusted AK: this verifier proves only that the quote was made by the key
 * in `ak_public`. Whether that key belongs to a genuine TPM of the fleet is
 * the policy's decision, as upstream: the claim `tpm.ak_public` (the base64
 * string exactly as sent) is compared there with reference values, e.g.
 * `input.tpm.ak_public in query_reference_value("trusted_ak")`. The
 * verifier config `tpm_verifier` has no fields (upstream documents
 * `trusted_ak_keys_dir` but never reads it; neither do we). */
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

#include "core/encoding.h"
#include "core/json.h"
#include "verifier/tpm/tpm_quote.h"
#include "verifier/verifier.h"

#define TPM_REPORT_DATA_SIZE 32

static tr_err *b64_field(const json_t *o, const char *label, const char *name, uint8_t **out, size_t *len) {
  const char *s = NULL;
  tr_err *e = tr_json_get_string(o, label, name, &s);
  if (e) return e;
  e = tr_b64_decode(s, (size_t)-1, TR_B64_STD, out, len);
  return e ? tr_err_wrap(e, "Failed to decode %s.%s from base64", label, name) : NULL;
}

/* Evidence → quote (raw RSA signature) and AK. */
static tr_err *parse_evidence(const json_t *ev, tr_tpm_quote *q, EVP_PKEY **ak, const char **ak_text) {
  memset(q, 0, sizeof(*q));
  *ak = NULL;
  if (!json_is_object(ev))
    return tr_err_new(TR_E_INVALID, "Failed to deserialize TPM Evidence: expected object, got %s",
                      tr_json_type_name(ev));
  json_t *tq = NULL, *pcrs = NULL;
  tr_err *e = tr_json_get_string(ev, "evidence", "ak_public", ak_text);
  if (!e) e = tr_json_get_object(ev, "evidence", "tpm_quote", &tq);
  if (!e) e = tr_json_get_array(tq, "tpm_quote", "pcrs", &pcrs);
  if (e) return tr_err_wrap(e, "Failed to deserialize TPM Evidence");
  uint8_t *sigm = NULL, *akder = NULL;
  size_t sigm_len = 0, akder_len = 0;
  e = b64_field(tq, "tpm_quote", "signature", &sigm, &sigm_len);
  if (!e) e = b64_field(tq, "tpm_quote", "message", &q->msg, &q->msg_len);
  if (!e) {
    TPMT_SIGNATURE sig;
    size_t off = 0;
    memset(&sig, 0, sizeof(sig));
    if (Tss2_MU_TPMT_SIGNATURE_Unmarshal(sigm, sigm_len, &off, &sig) != TSS2_RC_SUCCESS)
      e = tr_err_new(TR_E_INVALID, "Failed to unmarshal TSS signature");
    else if (sig.sigAlg != TPM2_ALG_RSASSA)
      e = tr_err_new(TR_E_UNSUPPORTED, "Unsupported signature type 0x%04x, expected RSA-SSA", sig.sigAlg);
    else if (sig.signature.rsassa.hash != TPM2_ALG_SHA256)
      e = tr_err_new(TR_E_UNSUPPORTED, "Unsupported RSA-SSA hash 0x%04x, expected SHA-256",
                     sig.signature.rsassa.hash);
    else if (!(q->sig = malloc(sig.signature.rsassa.sig.size ? sig.signature.rsassa.sig.size : 1)))
      e = tr_err_new(TR_E_NOMEM, "out of memory");
    else {
      q->sig_len = sig.signature.rsassa.sig.size;
      memcpy(q->sig, sig.signature.rsassa.sig.buffer, q->sig_len);
    }
  }
  if (!e && json_array_size(pcrs) > 64) e = tr_err_new(TR_E_LIMIT, "tpm_quote.pcrs: more than 64 PCRs");
  if (!e && !(q->pcrs = calloc(json_array_size(pcrs) + 1, 32))) e = tr_err_new(TR_E_NOMEM, "out of memory");
  for (size_t i = 0; !e && i < json_array_size(pcrs); i++) {
    json_t *p = json_array_get(pcrs, i);
    if (!json_is_string(p)) {
      e = tr_err_new(TR_E_INVALID, "tpm_quote.pcrs[%zu]: expected a hex string", i);
      break;
    }
    if (json_string_length(p) != 64) {
      e = tr_err_new(TR_E_INVALID, "PCR should be 64 hex characters (32 bytes), got %zu",
                     json_string_length(p));
      break;
    }
    uint8_t *b = NULL;
    size_t n = 0;
    e = tr_hex_decode(json_string_value(p), 64, &b, &n);
    if (e)
      e = tr_err_wrap(e, "Failed to decode PCR %zu from hex", i);
    else
      memcpy(q->pcrs[i], b, 32);
    free(b);
    q->npcrs = i + 1;
  }
  if (!e) e = b64_field(ev, "evidence", "ak_public", &akder, &akder_len);
  if (!e) {
    const unsigned char *p = akder;
    *ak = d2i_PUBKEY(NULL, &p, (long)akder_len);
    if (!*ak) e = tr_err_new(TR_E_INVALID, "Failed to parse AK public key (DER SubjectPublicKeyInfo)");
  }
  free(sigm);
  free(akder);
  return e;
}

static tr_err *tpm_check(const json_t *evidence, const tr_expected *report_data, const tr_expected *init_data,
                         json_t **claims) {
  tr_tpm_quote q;
  EVP_PKEY *ak = NULL;
  const char *ak_text = NULL;
  TPMS_ATTEST a;
  tr_err *e = parse_evidence(evidence, &q, &ak, &ak_text);
  if (!e) e = tr_tpm_attest_parse(q.msg, q.msg_len, &a);
  if (!e && (e = tr_tpm_verify_signature(&q, ak)))
    e = tr_err_wrap(e, "TPM quote signature verification failed");
  if (!e) e = tr_tpm_verify_pcrs(&q, &a);
  if (!e && report_data && report_data->present) {
    uint8_t want[TPM_REPORT_DATA_SIZE];
    tr_regularize(report_data, want, sizeof(want));
    if (!tr_ct_equal(want, sizeof(want), a.extraData.buffer, a.extraData.size))
      e = tr_err_new(TR_E_VERIFY, "TPM quote nonce doesn't match expected report_data");
  }
  if (!e && init_data && init_data->present) {
    e = tr_tpm_verify_init_data(&q, init_data);
    if (e && tr_err_code(e) == TR_E_VERIFY) {
      tr_err_free(e);
      e = tr_err_new(TR_E_VERIFY, "TPM PCR[%d] doesn't match expected initdata hash", TR_TPM_INITDATA_PCR);
    }
  }
  if (!e) {
    char *nonce = tr_hex_encode(a.extraData.buffer, a.extraData.size);
    char *pcr8 = q.npcrs > TR_TPM_INITDATA_PCR ? tr_hex_encode(q.pcrs[TR_TPM_INITDATA_PCR], 32) : NULL;
    *claims = json_object();
    if (!nonce || !*claims || (pcr8 && json_object_set_new(*claims, "init_data", json_string(pcr8))) ||
        json_object_set_new(*claims, "report_data", json_string(nonce)) ||
        json_object_set_new(*claims, "ak_public", json_string(ak_text)))
      e = tr_err_new(TR_E_NOMEM, "out of memory");
    if (!e) e = tr_tpm_pcr_claims(*claims, &q);
    if (e) {
      json_decref(*claims);
      *claims = NULL;
    }
    free(nonce);
    free(pcr8);
  }
  EVP_PKEY_free(ak);
  tr_tpm_quote_clear(&q);
  return e;
}

static tr_err *tpm_evaluate(void *state, const json_t *evidence, const tr_expected *report_data,
                            const tr_expected *init_data, tr_verified_list *out) {
  (void)state;
  json_t *claims = NULL;
  tr_err *e = tpm_check(evidence, report_data, init_data, &claims);
  if (e) return tr_err_wrap(e, "tpm");
  return tr_verified_list_push(out, claims, "cpu");
}

static tr_err *tpm_create(const json_t *config, void **state) {
  (void)config;
  *state = NULL;
  return NULL;
}

const tr_verifier_ops tr_verifier_tpm = {
    .tee = "tpm",
    .create = tpm_create,
    .destroy = NULL,
    .evaluate = tpm_evaluate,
    .challenge = NULL,
};
