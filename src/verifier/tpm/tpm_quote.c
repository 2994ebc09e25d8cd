/* tpm_quote.c — TPM quote decoding and checks (see tpm_quote.h). */
#include "verifier/tpm/tpm_quote.h"

#include <openssl/evp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/encoding.h"
#include "core/json.h"
#include "verifier/snp/jbytes.h"

#define MAX_PCRS 64
#define MAX_PART (64 * 1024)

void tr_tpm_quote_clear(tr_tpm_quote *q) {
  if (!q) return;
  free(q->sig);
  free(q->msg);
  free(q->pcrs);
  memset(q, 0, sizeof(*q));
}

static tr_err *hex_field(const json_t *q, const char *label, const char *name, uint8_t **out, size_t *len) {
  const char *s = NULL;
  tr_err *e = tr_json_get_string(q, label, name, &s);
  if (e) return e;
  if (strlen(s) > 2 * MAX_PART) return tr_err_new(TR_E_LIMIT, "%s.%s is too long", label, name);
  e = tr_hex_decode(s, strlen(s), out, len);
  return e ? tr_err_wrap(e, "%s.%s", label, name) : NULL;
}

static tr_err *alloc_pcrs(tr_tpm_quote *out, size_t n, const char *label) {
  if (n > MAX_PCRS) return tr_err_new(TR_E_LIMIT, "%s.pcrs: more than %d PCRs", label, MAX_PCRS);
  out->pcrs = calloc(n ? n : 1, 32);
  if (!out->pcrs) return tr_err_new(TR_E_NOMEM, "out of memory");
  out->npcrs = n;
  return NULL;
}

tr_err *tr_tpm_quote_from_hex_json(const json_t *q, const char *label, tr_tpm_quote *out) {
  memset(out, 0, sizeof(*out));
  if (!json_is_object(q)) return tr_err_new(TR_E_INVALID, "%s: expected object", label);
  json_t *pcrs = NULL;
  tr_err *e = hex_field(q, label, "signature", &out->sig, &out->sig_len);
  if (!e) e = hex_field(q, label, "message", &out->msg, &out->msg_len);
  if (!e) e = tr_json_get_array(q, label, "pcrs", &pcrs);
  if (!e) e = alloc_pcrs(out, json_array_size(pcrs), label);
  for (size_t i = 0; !e && i < out->npcrs; i++) {
    json_t *p = json_array_get(pcrs, i);
    uint8_t *b = NULL;
    size_t n = 0;
    if (!json_is_string(p)) {
      e = tr_err_new(TR_E_INVALID, "%s.pcrs[%zu]: expected a hex string", label, i);
    } else if ((e = tr_hex_decode(json_string_value(p), json_string_length(p), &b, &n))) {
      e = tr_err_wrap(e, "%s.pcrs[%zu]", label, i);
    } else if (n != 32) {
      e = tr_err_new(TR_E_INVALID, "%s.pcrs[%zu]: Invalid PCR length %zu, expected 32 bytes", label, i, n);
    } else {
      memcpy(out->pcrs[i], b, 32);
    }
    free(b);
  }
  if (e) tr_tpm_quote_clear(out);
  return e;
}

static tr_err *bytes_field(const json_t *q, const char *label, const char *name, uint8_t **out, size_t *len) {
  json_t *a = NULL;
  tr_err *e = tr_json_get_array(q, label, name, &a);
  if (e) return e;
  char what[96];
  snprintf(what, sizeof(what), "%s.%s", label, name);
  return tr_jbytes_alloc(a, what, MAX_PART, out, len);
}

tr_err *tr_tpm_quote_from_bytes_json(const json_t *q, const char *label, tr_tpm_quote *out) {
  memset(out, 0, sizeof(*out));
  if (!json_is_object(q)) return tr_err_new(TR_E_INVALID, "%s: expected object", label);
  json_t *pcrs = NULL;
  tr_err *e = bytes_field(q, label, "signature", &out->sig, &out->sig_len);
  if (!e) e = bytes_field(q, label, "message", &out->msg, &out->msg_len);
  if (!e) e = tr_json_get_array(q, label, "pcrs", &pcrs);
  if (!e) e = alloc_pcrs(out, json_array_size(pcrs), label);
  for (size_t i = 0; !e && i < out->npcrs; i++) {
    json_t *p = json_array_get(pcrs, i);
    char what[96];
    snprintf(what, sizeof(what), "%s.pcrs[%zu]", label, i);
    e = tr_jbytes_fixed(p, what, out->pcrs[i], 32);
  }
  if (e) tr_tpm_quote_clear(out);
  return e;
}

tr_err *tr_tpm_attest_parse(const uint8_t *msg, size_t len, TPMS_ATTEST *out) {
  memset(out, 0, sizeof(*out));
  size_t off = 0;
  TSS2_RC rc = Tss2_MU_TPMS_ATTEST_Unmarshal(msg, len, &off, out);
  if (rc != TSS2_RC_SUCCESS)
    return tr_err_new(TR_E_INVALID, "Failed to parse TPM quote message (TPMS_ATTEST, tss2-mu rc 0x%x)", rc);
  if (out->magic != TPM2_GENERATED_VALUE)
    return tr_err_new(TR_E_INVALID, "TPM quote message is not TPM-generated (magic 0x%08x)", out->magic);
  if (out->type != TPM2_ST_ATTEST_QUOTE)
    return tr_err_new(TR_E_INVALID, "TPM attestation is not a quote (type 0x%04x)", out->type);
  if (off != len) return tr_err_new(TR_E_INVALID, "TPM quote message has %zu trailing bytes", len - off);
  return NULL;
}

tr_err *tr_tpm_verify_signature(const tr_tpm_quote *q, EVP_PKEY *ak) {
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  int ok = md && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, ak) == 1 &&
           EVP_DigestVerify(md, q->sig, q->sig_len, q->msg, q->msg_len) == 1;
  EVP_MD_CTX_free(md);
  if (!ok) return tr_err_new(TR_E_VERIFY, "TPM quote is not signed by the AK (RSASSA-PKCS1-v1_5 SHA-256)");
  return NULL;
}

/* The PCR values are labelled by position (claims "pcrNN", PCR8 for init
 * data), so the signed selection must say that position i is PCR i of the
 * SHA-256 bank: exactly one selection, SHA-256, PCRs 0..npcrs-1 and no
 * other. Upstream never compares pcrSelect with the values, so a guest could
 * quote e.g. PCRs {0..10, 16} and send PCR16 (resettable, extendable at
 * will) in the place the claims call pcr11. */
static tr_err *check_selection(const tr_tpm_quote *q, const TPML_PCR_SELECTION *sel) {
  if (sel->count != 1)
    return tr_err_new(TR_E_VERIFY,
                      "TPM quote must select PCRs of exactly one bank (SHA-256), it has %u selections",
                      (unsigned)sel->count);
  const TPMS_PCR_SELECTION *s = &sel->pcrSelections[0];
  if (s->hash != TPM2_ALG_SHA256)
    return tr_err_new(TR_E_VERIFY,
                      "TPM quote selects PCRs of hash algorithm 0x%04x, expected SHA-256 (0x000b)",
                      (unsigned)s->hash);
  if (s->sizeofSelect > TPM2_PCR_SELECT_MAX)
    return tr_err_new(TR_E_INVALID, "TPM quote PCR selection of %u bytes", (unsigned)s->sizeofSelect);
  size_t nsel = 0;
  for (size_t i = 0; i < (size_t)s->sizeofSelect * 8; i++) {
    bool on = (s->pcrSelect[i / 8] >> (i % 8)) & 1;
    if (on) nsel++;
    if (on != (i < q->npcrs))
      return tr_err_new(TR_E_VERIFY,
                        "TPM quote PCR selection does not match the %zu PCR values given: PCR%zu is %s "
                        "(the values must be PCRs 0..%zu of the SHA-256 bank, in order)",
                        q->npcrs, i, on ? "selected but not given" : "given but not selected",
                        q->npcrs ? q->npcrs - 1 : 0);
  }
  if (nsel != q->npcrs)
    return tr_err_new(TR_E_VERIFY, "TPM quote selects %zu PCRs but the evidence carries %zu", nsel, q->npcrs);
  return NULL;
}

tr_err *tr_tpm_verify_pcrs(const tr_tpm_quote *q, const TPMS_ATTEST *a) {
  tr_err *e = check_selection(q, &a->attested.quote.pcrSelect);
  if (e) return e;
  uint8_t d[32];
  unsigned int n = 0;
  if (!EVP_Digest(q->pcrs, q->npcrs * 32, d, &n, EVP_sha256(), NULL))
    return tr_err_new(TR_E_CRYPTO, "SHA-256 failed");
  const TPM2B_DIGEST *want = &a->attested.quote.pcrDigest;
  if (want->size != 32 || memcmp(want->buffer, d, 32) != 0)
    return tr_err_new(TR_E_VERIFY, "Digest of PCRs does not match digest in Quote");
  return NULL;
}

tr_err *tr_tpm_verify_init_data(const tr_tpm_quote *q, const tr_expected *init_data) {
  if (!init_data || !init_data->present) return NULL;
  if (init_data->len != 32)
    return tr_err_new(TR_E_INVALID, "init data hash must be 32 bytes to be checked against PCR%d, got %zu",
                      TR_TPM_INITDATA_PCR, init_data->len);
  if (q->npcrs <= TR_TPM_INITDATA_PCR)
    return tr_err_new(TR_E_INVALID, "the quote carries %zu PCRs; PCR%d is needed to check init data",
                      q->npcrs, TR_TPM_INITDATA_PCR);
  uint8_t in[64] = {0}, d[32];
  unsigned int n = 0;
  memcpy(in + 32, init_data->data, 32);
  if (!EVP_Digest(in, sizeof(in), d, &n, EVP_sha256(), NULL))
    return tr_err_new(TR_E_CRYPTO, "SHA-256 failed");
  if (memcmp(d, q->pcrs[TR_TPM_INITDATA_PCR], 32) != 0)
    return tr_err_new(TR_E_VERIFY, "Expected init_data digest is different from the content of PCR%d",
                      TR_TPM_INITDATA_PCR);
  return NULL;
}

tr_err *tr_tpm_pcr_claims(json_t *obj, const tr_tpm_quote *q) {
  for (size_t i = 0; i < q->npcrs; i++) {
    char key[32];
    snprintf(key, sizeof(key), "pcr%02u", (unsigned)i);
    char *h = tr_hex_encode(q->pcrs[i], 32);
    if (!h || json_object_set_new(obj, key, json_string(h))) {
      free(h);
      return tr_err_new(TR_E_NOMEM, "out of memory");
    }
    free(h);
  }
  return NULL;
}
