/* azure.c — HCL report, Azure vTPM evidence versions and the vTPM checks
 * (see azure.h). */
#include "verifier/az_snp_vtpm/azure.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/encoding.h"
#include "core/json.h"
#include "crypto/jwk.h"
#include "verifier/snp/jbytes.h"

#define HCL_FIXED_LEN TR_HCL_VAR_DATA_OFF /* header + hw report area + IgvmRequestData */
#define MAX_BLOB (1024 * 1024)

static uint32_t le32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

tr_err *tr_hcl_parse(const uint8_t *b, size_t n, tr_hcl_report *out) {
  memset(out, 0, sizeof(*out));
  if (n < HCL_FIXED_LEN)
    return tr_err_new(TR_E_INVALID, "HCL report: invalid report size (%zu bytes, at least %d needed)", n,
                      HCL_FIXED_LEN);
  const uint8_t *igvm = b + 0x4C0;
  out->bytes = b;
  out->len = n;
  out->report_type = le32(igvm + 8);
  out->hash_type = le32(igvm + 12);
  out->var_len = le32(igvm + 16);
  if (out->var_len > n - HCL_FIXED_LEN)
    return tr_err_new(TR_E_INVALID,
                      "HCL report: invalid report size (variable data of %zu bytes overruns %zu)",
                      out->var_len, n);
  if (out->report_type != TR_HCL_TYPE_SNP && out->report_type != TR_HCL_TYPE_TDX)
    return tr_err_new(TR_E_INVALID, "HCL report: invalid report type %u", out->report_type);
  out->var_data = b + HCL_FIXED_LEN;
  return NULL;
}

tr_err *tr_hcl_var_data_sha256(const tr_hcl_report *h, uint8_t out[32]) {
  if (h->hash_type != 1)
    return tr_err_new(TR_E_UNSUPPORTED,
                      "HCL report: only SHA-256 variable-data hashes are supported, got hash type %u",
                      h->hash_type);
  unsigned int n = 0;
  if (!EVP_Digest(h->var_data, h->var_len, out, &n, EVP_sha256(), NULL))
    return tr_err_new(TR_E_CRYPTO, "SHA-256 failed");
  return NULL;
}

static tr_err *var_json(const tr_hcl_report *h, json_t **out) {
  tr_err *e = tr_json_parse((const char *)h->var_data, h->var_len, out);
  if (e) return tr_err_wrap(e, "HCL variable data is not JSON");
  if (!json_is_object(*out)) {
    json_decref(*out);
    *out = NULL;
    return tr_err_new(TR_E_INVALID, "HCL variable data is not a JSON object");
  }
  return NULL;
}

tr_err *tr_hcl_ak_pub(const tr_hcl_report *h, EVP_PKEY **out) {
  *out = NULL;
  json_t *v = NULL, *keys = NULL, *ak = NULL;
  tr_err *e = var_json(h, &v);
  if (!e) e = tr_json_get_array(v, "variable data", "keys", &keys);
  for (size_t i = 0; !e && i < json_array_size(keys); i++) {
    json_t *k = json_array_get(keys, i);
    json_t *kid = json_is_object(k) ? json_object_get(k, "kid") : NULL;
    if (json_is_string(kid) && strcmp(json_string_value(kid), "HCLAkPub") == 0) {
      ak = k;
      break;
    }
  }
  if (!e && !ak) e = tr_err_new(TR_E_NOTFOUND, "AkPub not found");
  tr_jwk *jwk = NULL;
  if (!e) e = tr_jwk_from_json(ak, &jwk);
  if (!e) {
    *out = tr_jwk_pkey(jwk);
    if (*out)
      EVP_PKEY_up_ref(*out);
    else
      e = tr_err_new(TR_E_INVALID, "HCLAkPub is not a public key");
  }
  tr_jwk_free(jwk);
  json_decref(v);
  return e ? tr_err_wrap(e, "Failed to get AKpub") : NULL;
}

tr_err *tr_hcl_check_user_data(const tr_hcl_report *h, const tr_expected *report_data) {
  json_t *v = NULL;
  const char *hex = NULL;
  uint8_t *ud = NULL;
  size_t n = 0;
  tr_err *e = var_json(h, &v);
  if (!e) e = tr_json_get_string(v, "variable data", "user-data", &hex);
  if (!e && (e = tr_hex_decode(hex, strlen(hex), &ud, &n)))
    e = tr_err_wrap(e, "Failed to decode user_data from hex string");
  if (!e && (n < report_data->len || memcmp(ud, report_data->data, report_data->len) != 0))
    e = tr_err_new(TR_E_VERIFY, "User-data in HCL variable data doesn't match report_data");
  free(ud);
  json_decref(v);
  return e;
}

/* ---- evidence ------------------------------------------------------------ */

void tr_az_evidence_clear(tr_az_evidence *e) {
  if (!e) return;
  tr_tpm_quote_clear(&e->quote);
  free(e->hcl);
  free(e->extra);
  memset(e, 0, sizeof(*e));
}

static tr_err *b64url_field(const json_t *o, const char *name, uint8_t **out, size_t *len) {
  const char *s = NULL;
  tr_err *e = tr_json_get_string(o, "evidence", name, &s);
  if (e) return e;
  if (strlen(s) > MAX_BLOB) return tr_err_new(TR_E_LIMIT, "evidence.%s is too large", name);
  e = tr_b64_decode(s, (size_t)-1, TR_B64_URL | TR_B64_LAX_PAD, out, len);
  return e ? tr_err_wrap(e, "evidence.%s: base64url", name) : NULL;
}

static tr_err *bytes_field(const json_t *o, const char *name, uint8_t **out, size_t *len) {
  json_t *a = NULL;
  tr_err *e = tr_json_get_array(o, "evidence", name, &a);
  if (e) return e;
  char what[64];
  snprintf(what, sizeof(what), "evidence.%s", name);
  return tr_jbytes_alloc(a, what, MAX_BLOB, out, len);
}

tr_err *tr_az_evidence_parse(const json_t *ev, bool tdx, tr_az_evidence *out) {
  memset(out, 0, sizeof(*out));
  if (!json_is_object(ev))
    return tr_err_new(TR_E_INVALID, "expected an object, got %s", tr_json_type_name(ev));
  const char *extra = tdx ? "td_quote" : "vcek";
  json_t *ver = json_object_get(ev, "version");
  tr_err *e = NULL;
  if (ver) {
    if (!json_is_integer(ver) || (json_integer_value(ver) != 1 && json_integer_value(ver) != 2))
      return tr_err_new(TR_E_INVALID, "unsupported evidence version (expected 1 or 2, or no version for v0)");
    out->version = (int)json_integer_value(ver);
    json_t *q = NULL;
    e = tr_json_get_object(ev, "evidence", "tpm_quote", &q);
    if (!e) e = tr_tpm_quote_from_hex_json(q, "tpm_quote", &out->quote);
    if (!e) e = b64url_field(ev, "hcl_report", &out->hcl, &out->hcl_len);
    if (!e) e = b64url_field(ev, extra, &out->extra, &out->extra_len);
  } else if (tdx) {
    json_t *q = NULL;
    e = tr_json_get_object(ev, "evidence", "tpm_quote", &q);
    if (!e) e = tr_tpm_quote_from_bytes_json(q, "tpm_quote", &out->quote);
    if (!e) e = bytes_field(ev, "hcl_report", &out->hcl, &out->hcl_len);
    if (!e) e = bytes_field(ev, "td_quote", &out->extra, &out->extra_len);
  } else {
    json_t *q = NULL;
    const char *pem = NULL;
    e = tr_json_get_object(ev, "evidence", "quote", &q);
    if (!e) e = tr_tpm_quote_from_bytes_json(q, "quote", &out->quote);
    if (!e) e = bytes_field(ev, "report", &out->hcl, &out->hcl_len);
    if (!e) e = tr_json_get_string(ev, "evidence", "vcek", &pem);
    if (!e) {
      out->extra = (uint8_t *)strdup(pem);
      out->extra_len = strlen(pem);
      if (!out->extra) e = tr_err_new(TR_E_NOMEM, "out of memory");
    }
  }
  if (e) tr_az_evidence_clear(out);
  return e;
}

tr_err *tr_az_verify_vtpm(const tr_az_evidence *ev, const tr_hcl_report *h, const tr_expected *report_data,
                          TPMS_ATTEST *attest) {
  if (!report_data || !report_data->present) return tr_err_new(TR_E_INVALID, "unexpected empty report data");
  EVP_PKEY *ak = NULL;
  tr_err *e = tr_hcl_ak_pub(h, &ak);
  if (!e && (e = tr_tpm_verify_signature(&ev->quote, ak)))
    e = tr_err_wrap(e, "vTPM quote is not signed by AKpub");
  EVP_PKEY_free(ak);
  if (!e) e = tr_tpm_attest_parse(ev->quote.msg, ev->quote.msg_len, attest);
  if (!e &&
      !tr_ct_equal(attest->extraData.buffer, attest->extraData.size, report_data->data, report_data->len))
    e = tr_err_new(TR_E_VERIFY, "TPM quote nonce doesn't match expected report_data");
  if (!e) e = tr_tpm_verify_pcrs(&ev->quote, attest);
  return e;
}

tr_err *tr_az_extend_claims(json_t *obj, const tr_az_evidence *ev, const TPMS_ATTEST *attest) {
  json_t *tpm = json_object();
  tr_err *e = tpm ? tr_tpm_pcr_claims(tpm, &ev->quote) : tr_err_new(TR_E_NOMEM, "out of memory");
  if (!e && json_object_set_new(obj, "tpm", tpm))
    e = tr_err_new(TR_E_NOMEM, "out of memory");
  else if (e)
    json_decref(tpm);
  char *pcr8 = NULL, *nonce = NULL;
  if (!e && ev->quote.npcrs > TR_TPM_INITDATA_PCR) {
    pcr8 = tr_hex_encode(ev->quote.pcrs[TR_TPM_INITDATA_PCR], 32);
    if (!pcr8 || json_object_set_new(obj, "init_data", json_string(pcr8)))
      e = tr_err_new(TR_E_NOMEM, "out of memory");
  }
  if (!e) {
    nonce = tr_hex_encode(attest->extraData.buffer, attest->extraData.size);
    if (!nonce || json_object_set_new(obj, "report_data", json_string(nonce)))
      e = tr_err_new(TR_E_NOMEM, "out of memory");
  }
  free(pcr8);
  free(nonce);
  return e;
}
