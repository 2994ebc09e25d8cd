/* sgx.c — the `sgx` verifier (Intel SGX, TEE class "cpu"), upstream sgx/mod.rs
 * and sgx/claims.rs.
 *
 * Evidence {"quote": base64std SGX quote}. Steps: decode; parse; full DCAP
 * verification (collateral for SGX); a non-v3 quote is rejected;
 * REPORT_DATA == expected report data (pad/truncate to 64); CONFIG_ID ==
 * expected init-data hash (pad/truncate to 64). Claims: header/body fields
 * as hex of the raw little-endian bytes, report_data, init_data (=
 * config_id), platform_instance_id, then the DCAP claims. */
#include <stdlib.h>
#include <string.h>

#include "core/encoding.h"
#include "verifier/dcap/dcap.h"
#include "verifier/verifier.h"

#define hx tr_dcap_json_hex

/* Exposed for tests: the SGX claims of a parsed v3 quote. */
json_t *tr_sgx_claims(const tr_dcap_quote *q, const tr_dcap_platform *p);

json_t *tr_sgx_claims(const tr_dcap_quote *q, const tr_dcap_platform *p) {
  json_t *c = json_object(), *hdr = json_object(), *body = json_object();
  int r = !c || !hdr || !body;
  const uint8_t *h = q->raw, *b = q->body;
  r |= hx(hdr, "version", h, 2);
  r |= hx(hdr, "att_key_type", h + 2, 2);
  r |= hx(hdr, "att_key_data_0", h + 4, 4);
  r |= hx(hdr, "qe_svn", h + 8, 2);
  r |= hx(hdr, "pce_svn", h + 10, 2);
  r |= hx(hdr, "vendor_id", h + 12, 16);
  r |= hx(hdr, "user_data", h + 28, 20);
  static const struct {
    const char *k;
    size_t off, len;
  } F[] = {{"cpu_svn", 0, 16},          {"misc_select", 16, 4},      {"reserved1", 20, 12},
           {"isv_ext_prod_id", 32, 16}, {"attributes.flags", 48, 8}, {"attributes.xfrm", 56, 8},
           {"mr_enclave", 64, 32},      {"reserved2", 96, 32},       {"mr_signer", 128, 32},
           {"reserved3", 160, 32},      {"config_id", 192, 64},      {"isv_prod_id", 256, 2},
           {"isv_svn", 258, 2},         {"config_svn", 260, 2},      {"reserved4", 262, 42},
           {"isv_family_id", 304, 16},  {"report_data", 320, 64}};
  for (size_t i = 0; i < sizeof(F) / sizeof(F[0]); i++)
    r |= hx(body, F[i].k, b + F[i].off, F[i].len);
  r |= json_object_set(c, "header", hdr);
  r |= json_object_set(c, "body", body);
  r |= hx(c, "report_data", b + TR_SGX_REPORTDATA, 64);
  r |= hx(c, "init_data", b + TR_SGX_CONFIGID, 64);
  if (p && p->has_platform_instance) r |= hx(c, "platform_instance_id", p->platform_instance_id, 16);
  json_decref(hdr);
  json_decref(body);
  if (r) {
    json_decref(c);
    return NULL;
  }
  return c;
}

static tr_err *check(void *state, const json_t *evidence, const tr_expected *report_data,
                     const tr_expected *init_data, json_t **claims) {
  tr_dcap *d = state;
  json_t *v = json_is_object(evidence) ? json_object_get(evidence, "quote") : NULL;
  if (!json_is_string(v))
    return tr_err_new(TR_E_INVALID, "Deserialize Quote failed.: field `quote`: expected a string");
  if (json_string_length(v) == 0) return tr_err_new(TR_E_INVALID, "SGX Quote is empty.");
  uint8_t *qb = NULL;
  size_t ql;
  tr_err *e = tr_b64_decode(json_string_value(v), json_string_length(v), TR_B64_STD, &qb, &ql);
  if (e) return tr_err_wrap(e, "SGX evidence field `quote`");
  tr_dcap_quote q;
  tr_dcap_platform pi;
  json_t *custom = NULL;
  e = tr_dcap_quote_parse(qb, ql, &q);
  if (!e) {
    e = tr_dcap_verify_quote(d, &q, NULL, &pi, &custom);
    if (e) e = tr_err_wrap(e, "Evidence's identity verification error.");
  }
  if (!e && q.version != 3) e = tr_err_new(TR_E_INVALID, "expected SGX quote (v3), got non-SGX quote");
  if (!e && report_data && report_data->present) {
    uint8_t rd[64];
    tr_regularize(report_data, rd, 64);
    if (memcmp(rd, q.body + TR_SGX_REPORTDATA, 64) != 0)
      e = tr_err_new(TR_E_VERIFY, "REPORT_DATA is different from that in SGX Quote");
  }
  if (!e && init_data && init_data->present) {
    uint8_t id[64];
    tr_regularize(init_data, id, 64);
    if (memcmp(id, q.body + TR_SGX_CONFIGID, 64) != 0)
      e = tr_err_new(TR_E_VERIFY, "CONFIGID is different from that in SGX Quote");
  }
  if (!e) {
    json_t *c = tr_sgx_claims(&q, &pi);
    if (!c || json_object_update(c, custom) != 0) {
      json_decref(c);
      e = tr_err_new(TR_E_NOMEM, "out of memory");
    } else {
      *claims = c;
    }
  }
  json_decref(custom);
  free(qb);
  return e;
}

static tr_err *sgx_evaluate(void *state, const json_t *evidence, const tr_expected *report_data,
                            const tr_expected *init_data, tr_verified_list *out) {
  return tr_verifier_evaluate_cpu(check, "SGX Verifier", state, evidence, report_data, init_data, out);
}

const tr_verifier_ops tr_verifier_sgx = {
    .tee = "sgx",
    .create = tr_dcap_verifier_create,
    .destroy = tr_dcap_verifier_destroy,
    .evaluate = sgx_evaluate,
    .challenge = NULL,
};
