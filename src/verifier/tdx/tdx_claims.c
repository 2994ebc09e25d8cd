/* tdx_claims.c — the TDX claims object, field for field as upstream's
 * tdx/claims.rs::generate_parsed_claim (every byte field lower-case hex of
 * the raw little-endian bytes). */
#include <stdlib.h>
#include <string.h>

#include "core/encoding.h"
#include "verifier/tdx/tdx.h"

#define hx tr_dcap_json_hex

json_t *tr_tdx_claims(const tr_dcap_quote *q, const json_t *event_log, const tr_dcap_platform *p) {
  json_t *c = json_object(), *quote = json_object(), *hdr = json_object(), *body = json_object(),
         *attrs = json_object();
  int r = !c || !quote || !hdr || !body || !attrs;
  const uint8_t *h = q->raw, *b = q->body;
  static const uint8_t v4[2] = {4, 0}, v5[2] = {5, 0};
  r |= hx(hdr, "version", q->version == 5 ? v5 : v4, 2);
  r |= hx(hdr, "att_key_type", h + 2, 2);
  r |= hx(hdr, "tee_type", h + 4, 4);
  r |= hx(hdr, "reserved", h + 8, 4);
  r |= hx(hdr, "vendor_id", h + 12, 16);
  r |= hx(hdr, "user_data", h + 28, 20);
  if (q->version == 5) {
    uint8_t t[2] = {(uint8_t)q->body_type, 0};
    r |= hx(quote, "type", t, 2);
    r |= hx(quote, "size", q->v5_size, 4);
  }
  static const struct {
    const char *k;
    size_t off, len;
  } F[] = {{"tcb_svn", TR_TD_TEE_TCB_SVN, 16},
           {"mr_seam", TR_TD_MR_SEAM, 48},
           {"mrsigner_seam", TR_TD_MRSIGNER_SEAM, 48},
           {"seam_attributes", TR_TD_SEAM_ATTRIBUTES, 8},
           {"td_attributes", TR_TD_TD_ATTRIBUTES, 8},
           {"xfam", TR_TD_XFAM, 8},
           {"mr_td", TR_TD_MR_TD, 48},
           {"mr_config_id", TR_TD_MR_CONFIG_ID, 48},
           {"mr_owner", TR_TD_MR_OWNER, 48},
           {"mr_owner_config", TR_TD_MR_OWNER_CONFIG, 48},
           {"rtmr_0", TR_TD_RTMR0, 48},
           {"rtmr_1", TR_TD_RTMR0 + 48, 48},
           {"rtmr_2", TR_TD_RTMR0 + 96, 48},
           {"rtmr_3", TR_TD_RTMR0 + 144, 48},
           {"report_data", TR_TD_REPORT_DATA, 64}};
  for (size_t i = 0; i < sizeof(F) / sizeof(F[0]); i++)
    r |= hx(body, F[i].k, b + F[i].off, F[i].len);
  if (q->body_type == 3) {
    r |= hx(body, "tee_tcb_svn2", b + TR_TD_TEE_TCB_SVN2, 16);
    r |= hx(body, "mr_servicetd", b + TR_TD_MR_SERVICETD, 48);
  }
  r |= json_object_set(quote, "header", hdr);
  r |= json_object_set(quote, "body", body);
  uint64_t a = 0;
  for (int i = 7; i >= 0; i--)
    a = a << 8 | b[TR_TD_TD_ATTRIBUTES + i];
  r |= json_object_set_new(attrs, "debug", json_boolean(a & 1));
  r |= json_object_set_new(attrs, "septve_disable", json_boolean(a >> 28 & 1));
  r |= json_object_set_new(attrs, "protection_keys", json_boolean(a >> 30 & 1));
  r |= json_object_set_new(attrs, "key_locker", json_boolean(a >> 31 & 1));
  r |= json_object_set_new(attrs, "perfmon", json_boolean(a >> 63 & 1));
  if (event_log) r |= json_object_set_new(c, "uefi_event_logs", json_deep_copy(event_log));
  r |= json_object_set(c, "quote", quote);
  r |= json_object_set(c, "td_attributes", attrs);
  r |= hx(c, "report_data", b + TR_TD_REPORT_DATA, 64);
  r |= hx(c, "init_data", b + TR_TD_MR_CONFIG_ID, 48);
  if (p && p->has_platform_instance) r |= hx(c, "platform_instance_id", p->platform_instance_id, 16);
  json_decref(quote);
  json_decref(hdr);
  json_decref(body);
  json_decref(attrs);
  if (r) {
    json_decref(c);
    return NULL;
  }
  return c;
}
