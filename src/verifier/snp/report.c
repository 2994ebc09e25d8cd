/* report.c — SNP attestation report: the 1184-byte image from raw bytes or
 * from either JSON layout, TCB encoding per generation, decoded fields and
 * upstream's claims.
 *
 * JSON layouts (both are serde forms of the sev crate's AttestationReport):
 *  - current: key_info, cpuid_* (absent/null for v2), current{}/committed{}
 *    versions, TCBs {fmc?, bootloader, tee, snp, microcode} whose byte layout
 *    depends on the generation, launch/current_mit_vector for v5;
 *  - older:   _author_key_en, _reserved_0.._4, current_build/minor/major,
 *    TCBs {bootloader, tee, _reserved[4], snp, microcode} (always the
 *    Milan/Genoa byte layout), signature._reserved. Every reserved value is
 *    written to its place, so the image is exactly what was serialised.
 * Reserved areas of the current layout are zero, as the sev crate writes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/encoding.h"
#include "core/json.h"
#include "verifier/snp/jbytes.h"
#include "verifier/snp/snp.h"

const char *tr_snp_gen_name(tr_snp_gen g) {
  switch (g) {
  case TR_SNP_MILAN: return "Milan";
  case TR_SNP_GENOA: return "Genoa";
  case TR_SNP_TURIN: return "Turin";
  default: return "unknown";
  }
}

static uint32_t le32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t le64(const uint8_t *p) { return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32; }
static void put_le(uint8_t *p, uint64_t v, size_t n) {
  for (size_t i = 0; i < n; i++)
    p[i] = (uint8_t)(v >> (8 * i));
}

tr_err *tr_snp_report_from_bytes(const uint8_t *data, size_t len, tr_snp_report *r) {
  memset(r, 0, sizeof(*r));
  if (len != TR_SNP_REPORT_LEN)
    return tr_err_new(TR_E_INVALID, "SNP attestation report must be %d bytes, got %zu", TR_SNP_REPORT_LEN,
                      len);
  memcpy(r->raw, data, len);
  return NULL;
}

uint32_t tr_snp_report_version(const tr_snp_report *r) { return le32(r->raw); }

/* ---- JSON -------------------------------------------------------------- */

static tr_err *get_uint(const json_t *obj, const char *label, const char *name, uint64_t max, bool optional,
                        bool *present, uint64_t *out) {
  json_t *v = json_object_get(obj, name);
  if (present) *present = false;
  if (!v || json_is_null(v)) {
    if (optional) return NULL;
    return tr_err_new(TR_E_INVALID, "%s: missing field `%s`", label, name);
  }
  if (!json_is_integer(v) || json_integer_value(v) < 0 || (uint64_t)json_integer_value(v) > max) {
    /* u64 values above INT64_MAX cannot appear in jansson; the policy and
     * platform-info words never use bit 63. */
    return tr_err_new(TR_E_INVALID, "%s: field `%s`: expected an integer in 0..%llu", label, name,
                      (unsigned long long)max);
  }
  *out = (uint64_t)json_integer_value(v);
  if (present) *present = true;
  return NULL;
}

static tr_err *get_bytes(const json_t *obj, const char *label, const char *name, uint8_t *out, size_t n) {
  json_t *v = json_object_get(obj, name);
  if (!v) return tr_err_new(TR_E_INVALID, "%s: missing field `%s`", label, name);
  char what[96];
  snprintf(what, sizeof(what), "%s: field `%s`", label, name);
  return tr_jbytes_fixed(v, what, out, n);
}

static tr_err *put_uint(const json_t *obj, const char *label, const char *name, uint8_t *raw, size_t off,
                        size_t width) {
  uint64_t v = 0;
  uint64_t max = width == 8 ? (uint64_t)INT64_MAX : ((uint64_t)1 << (8 * width)) - 1;
  tr_err *e = get_uint(obj, label, name, max, false, NULL, &v);
  if (e) return e;
  put_le(raw + off, v, width);
  return NULL;
}

/* A member object of the report; label receives its path for messages. */
static tr_err *member(const json_t *obj, const char *name, char label[64], json_t **v) {
  snprintf(label, 64, "attestation_report.%s", name);
  *v = json_object_get(obj, name);
  if (!json_is_object(*v))
    return tr_err_new(TR_E_INVALID, "attestation_report: field `%s`: expected object", name);
  return NULL;
}

/* TCB of the current layout: numbers, encoded later. */
static tr_err *get_tcb_new(const json_t *obj, const char *name, tr_snp_tcb *t) {
  char label[64];
  json_t *v = NULL;
  uint64_t x = 0;
  tr_err *e = member(obj, name, label, &v);
  if (e) return e;
  memset(t, 0, sizeof(*t));
  if ((e = get_uint(v, label, "fmc", 255, true, &t->has_fmc, &x))) return e;
  t->fmc = (uint8_t)x;
  if ((e = get_uint(v, label, "bootloader", 255, false, NULL, &x))) return e;
  t->bootloader = (uint8_t)x;
  if ((e = get_uint(v, label, "tee", 255, false, NULL, &x))) return e;
  t->tee = (uint8_t)x;
  if ((e = get_uint(v, label, "snp", 255, false, NULL, &x))) return e;
  t->snp = (uint8_t)x;
  if ((e = get_uint(v, label, "microcode", 255, false, NULL, &x))) return e;
  t->microcode = (uint8_t)x;
  return NULL;
}

/* TCB of the older layout: written straight into the image. */
static tr_err *put_tcb_old(const json_t *obj, const char *name, uint8_t *p) {
  char label[64];
  json_t *v = NULL;
  tr_err *e = member(obj, name, label, &v);
  if (e) return e;
  if ((e = put_uint(v, label, "bootloader", p, 0, 1))) return e;
  if ((e = put_uint(v, label, "tee", p, 1, 1))) return e;
  if ((e = get_bytes(v, label, "_reserved", p + 2, 4))) return e;
  if ((e = put_uint(v, label, "snp", p, 6, 1))) return e;
  return put_uint(v, label, "microcode", p, 7, 1);
}

static tr_err *put_version3(const json_t *obj, const char *name, uint8_t *p) {
  char label[64];
  json_t *v = NULL;
  tr_err *e = member(obj, name, label, &v);
  if (e) return e;
  if ((e = put_uint(v, label, "build", p, 0, 1))) return e;
  if ((e = put_uint(v, label, "minor", p, 1, 1))) return e;
  return put_uint(v, label, "major", p, 2, 1);
}

typedef struct {
  const char *name;
  size_t off, len;
} byte_field;

static const byte_field common_bytes[] = {
    {"family_id", 0x10, 16},          {"image_id", 0x20, 16},   {"report_data", 0x50, 64},
    {"measurement", 0x90, 48},        {"host_data", 0xC0, 32},  {"id_key_digest", 0xE0, 48},
    {"author_key_digest", 0x110, 48}, {"report_id", 0x140, 32}, {"report_id_ma", 0x160, 32},
    {"chip_id", 0x1A0, 64},
};

static const byte_field common_uints[] = {
    {"version", 0x00, 4}, {"guest_svn", 0x04, 4}, {"policy", 0x08, 8},
    {"vmpl", 0x30, 4},    {"sig_algo", 0x34, 4},  {"plat_info", 0x40, 8},
};

static const byte_field old_uints[] = {
    {"_author_key_en", 0x48, 4},   {"_reserved_0", 0x4C, 4},      {"current_build", 0x1E8, 1},
    {"current_minor", 0x1E9, 1},   {"current_major", 0x1EA, 1},   {"_reserved_2", 0x1EB, 1},
    {"committed_build", 0x1EC, 1}, {"committed_minor", 0x1ED, 1}, {"committed_major", 0x1EE, 1},
    {"_reserved_3", 0x1EF, 1},
};

static const char *const tcb_names[4] = {"current_tcb", "reported_tcb", "committed_tcb", "launch_tcb"};
static const size_t tcb_offs[4] = {0x38, 0x180, 0x1E0, 0x1F0};

static tr_err *from_object(const json_t *o, tr_snp_report *r) {
  const char *L = "attestation_report";
  tr_err *e;
  bool old = json_object_get(o, "_author_key_en") != NULL;
  for (size_t i = 0; i < sizeof(common_uints) / sizeof(common_uints[0]); i++)
    if ((e = put_uint(o, L, common_uints[i].name, r->raw, common_uints[i].off, common_uints[i].len)))
      return e;
  for (size_t i = 0; i < sizeof(common_bytes) / sizeof(common_bytes[0]); i++)
    if ((e = get_bytes(o, L, common_bytes[i].name, r->raw + common_bytes[i].off, common_bytes[i].len)))
      return e;
  uint32_t version = le32(r->raw);
  json_t *sig = json_object_get(o, "signature");
  if (!json_is_object(sig))
    return tr_err_new(TR_E_INVALID, "attestation_report: field `signature`: expected object");
  if ((e = get_bytes(sig, "attestation_report.signature", "r", r->raw + 0x2A0, 72))) return e;
  if ((e = get_bytes(sig, "attestation_report.signature", "s", r->raw + 0x2E8, 72))) return e;
  if (old) {
    for (size_t i = 0; i < sizeof(old_uints) / sizeof(old_uints[0]); i++)
      if ((e = put_uint(o, L, old_uints[i].name, r->raw, old_uints[i].off, old_uints[i].len))) return e;
    if ((e = get_bytes(o, L, "_reserved_1", r->raw + 0x188, 24))) return e;
    if ((e = get_bytes(o, L, "_reserved_4", r->raw + 0x1F8, 168))) return e;
    if (json_object_get(sig, "_reserved") &&
        (e = get_bytes(sig, "attestation_report.signature", "_reserved", r->raw + 0x330, 368)))
      return e;
    for (int i = 0; i < 4; i++)
      if ((e = put_tcb_old(o, tcb_names[i], r->raw + tcb_offs[i]))) return e;
    return NULL;
  }
  if ((e = put_uint(o, L, "key_info", r->raw, 0x48, 4))) return e;
  if ((e = put_version3(o, "current", r->raw + 0x1E8))) return e;
  if ((e = put_version3(o, "committed", r->raw + 0x1EC))) return e;
  for (int i = 0; i < 4; i++)
    if ((e = get_tcb_new(o, tcb_names[i], &r->json_tcb[i]))) return e;
  r->tcb_pending = true;
  uint64_t x = 0;
  bool have = false;
  static const char *const cpuid[3] = {"cpuid_fam_id", "cpuid_mod_id", "cpuid_step"};
  for (int i = 0; i < 3; i++) {
    if ((e = get_uint(o, L, cpuid[i], 255, true, &have, &x))) return e;
    /* Version 2 has no CPUID bytes: the sev crate writes zeros there. */
    if (have && version != 2) r->raw[0x188 + i] = (uint8_t)x;
  }
  if (version >= 5) {
    if ((e = get_uint(o, L, "launch_mit_vector", (uint64_t)INT64_MAX, true, &have, &x))) return e;
    put_le(r->raw + 0x1F8, have ? x : 0, 8);
    if ((e = get_uint(o, L, "current_mit_vector", (uint64_t)INT64_MAX, true, &have, &x))) return e;
    put_le(r->raw + 0x200, have ? x : 0, 8);
  }
  return NULL;
}

tr_err *tr_snp_report_from_json(const json_t *v, tr_snp_report *r) {
  memset(r, 0, sizeof(*r));
  if (json_is_object(v)) return from_object(v, r);
  if (json_is_array(v)) {
    if (json_array_size(v) != TR_SNP_REPORT_LEN)
      return tr_err_new(TR_E_INVALID, "attestation_report: expected %d bytes, got an array of %zu",
                        TR_SNP_REPORT_LEN, json_array_size(v));
    uint8_t raw[TR_SNP_REPORT_LEN];
    tr_err *e = tr_jbytes_fixed(v, "attestation_report", raw, sizeof(raw));
    return e ? e : tr_snp_report_from_bytes(raw, sizeof(raw), r);
  }
  if (json_is_string(v)) {
    const char *s = json_string_value(v);
    uint8_t *raw = NULL;
    size_t n = 0;
    int variant = strpbrk(s, "-_") ? TR_B64_URL : TR_B64_STD;
    tr_err *e = tr_b64_decode(s, (size_t)-1, variant | TR_B64_LAX_PAD, &raw, &n);
    if (e) return tr_err_wrap(e, "attestation_report: base64");
    e = tr_snp_report_from_bytes(raw, n, r);
    free(raw);
    return e;
  }
  return tr_err_new(TR_E_INVALID, "attestation_report: expected object, byte array or base64 string, got %s",
                    tr_json_type_name(v));
}

/* ---- generation, TCB ----------------------------------------------------- */

tr_err *tr_snp_report_cpuid_gen(const tr_snp_report *r, tr_snp_gen *out) {
  uint32_t version = le32(r->raw);
  if (version < 3) return tr_err_new(TR_E_INVALID, "attestation report version %u carries no CPUID", version);
  uint8_t fam = r->raw[0x188], mod = r->raw[0x189];
  if (fam == 0x19) {
    if (mod <= 0x0F)
      *out = TR_SNP_MILAN;
    else if (mod <= 0x1F || (mod >= 0xA0 && mod <= 0xAE))
      *out = TR_SNP_GENOA;
    else
      return tr_err_new(TR_E_UNSUPPORTED, "Processor model not supported (family 0x%02x model 0x%02x)", fam,
                        mod);
    return NULL;
  }
  if (fam == 0x1A) {
    if (mod <= 0x11) {
      *out = TR_SNP_TURIN;
      return NULL;
    }
    return tr_err_new(TR_E_UNSUPPORTED, "Processor model not supported (family 0x%02x model 0x%02x)", fam,
                      mod);
  }
  return tr_err_new(TR_E_UNSUPPORTED, "Processor family not supported (family 0x%02x)", fam);
}

size_t tr_snp_report_v2_candidates(const tr_snp_report *r, tr_snp_gen *out) {
  const uint8_t *chip = TR_SNP_CHIP_ID(r);
  bool tail_zero = true, all_zero = true;
  for (int i = 0; i < 64; i++) {
    if (chip[i] && i >= 8) tail_zero = false;
    if (chip[i]) all_zero = false;
  }
  if (!all_zero && tail_zero) {
    out[0] = TR_SNP_TURIN;
    return 1;
  }
  out[0] = TR_SNP_MILAN;
  out[1] = TR_SNP_GENOA;
  if (all_zero) {
    out[2] = TR_SNP_TURIN;
    return 3;
  }
  return 2;
}

static void encode_tcb(const tr_snp_tcb *t, tr_snp_gen g, uint8_t *p) {
  memset(p, 0, 8);
  if (g == TR_SNP_TURIN) {
    p[0] = t->has_fmc ? t->fmc : 0;
    p[1] = t->bootloader;
    p[2] = t->tee;
    p[3] = t->snp;
  } else {
    p[0] = t->bootloader;
    p[1] = t->tee;
    p[6] = t->snp;
  }
  p[7] = t->microcode;
}

static void decode_tcb(const uint8_t *p, tr_snp_gen g, tr_snp_tcb *t) {
  memset(t, 0, sizeof(*t));
  if (g == TR_SNP_TURIN) {
    t->has_fmc = true;
    t->fmc = p[0];
    t->bootloader = p[1];
    t->tee = p[2];
    t->snp = p[3];
  } else {
    t->bootloader = p[0];
    t->tee = p[1];
    t->snp = p[6];
  }
  t->microcode = p[7];
}

tr_err *tr_snp_report_finalize(tr_snp_report *r, tr_snp_gen gen) {
  if (gen < TR_SNP_MILAN || gen > TR_SNP_TURIN) return tr_err_new(TR_E_INTERNAL, "no processor generation");
  if (r->tcb_pending) {
    /* A missing fmc is written as 0 on Turin, as the sev crate does. */
    for (int i = 0; i < 4; i++)
      encode_tcb(&r->json_tcb[i], gen, r->raw + tcb_offs[i]);
  }
  const uint8_t *p = r->raw;
  r->gen = gen;
  r->version = le32(p);
  r->guest_svn = le32(p + 0x04);
  r->policy = le64(p + 0x08);
  r->vmpl = le32(p + 0x30);
  r->sig_algo = le32(p + 0x34);
  r->plat_info = le64(p + 0x40);
  r->key_info = le32(p + 0x48);
  decode_tcb(p + 0x38, gen, &r->current_tcb);
  decode_tcb(p + 0x180, gen, &r->reported_tcb);
  decode_tcb(p + 0x1E0, gen, &r->committed_tcb);
  decode_tcb(p + 0x1F0, gen, &r->launch_tcb);
  r->has_cpuid = r->version >= 3;
  r->cpuid_fam = p[0x188];
  r->cpuid_mod = p[0x189];
  r->cpuid_step = p[0x18A];
  r->finalized = true;
  return NULL;
}

void tr_snp_tcb_prefix(const tr_snp_tcb *t, char out[48]) {
  int n = snprintf(out, 48, "bl%02u_tee%02u_snp%02u_ucode%02u", t->bootloader, t->tee, t->snp, t->microcode);
  if (t->has_fmc && n > 0 && n < 48) snprintf(out + n, 48 - (size_t)n, "_fmc%02u", t->fmc);
}

void tr_snp_hwid_hex(const tr_snp_report *r, char out[129]) {
  static const char hx[] = "0123456789abcdef";
  size_t n = r->gen == TR_SNP_TURIN ? 8 : 64;
  const uint8_t *c = TR_SNP_CHIP_ID(r);
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = hx[c[i] >> 4];
    out[2 * i + 1] = hx[c[i] & 15];
  }
  out[2 * n] = 0;
}

/* ---- claims -------------------------------------------------------------- */

static json_t *hex_str(const uint8_t *p, size_t n) {
  char *h = tr_hex_encode(p, n);
  json_t *s = h ? json_string(h) : NULL;
  free(h);
  return s;
}

json_t *tr_snp_claims(const tr_snp_report *r) {
  uint64_t pol = r->policy, pi = r->plat_info;
  return json_pack(
      "{s:I, s:I, s:b, s:b, s:b, s:b, s:i, s:i, s:i, s:i, s:b, s:b, s:o, s:o, s:o, s:o}", "policy_abi_major",
      (json_int_t)((pol >> 8) & 0xFF), "policy_abi_minor", (json_int_t)(pol & 0xFF), "policy_smt_allowed",
      (int)((pol >> 16) & 1), "policy_migrate_ma", (int)((pol >> 18) & 1), "policy_debug_allowed",
      (int)((pol >> 19) & 1), "policy_single_socket", (int)((pol >> 20) & 1), "reported_tcb_bootloader",
      (int)r->reported_tcb.bootloader, "reported_tcb_tee", (int)r->reported_tcb.tee, "reported_tcb_snp",
      (int)r->reported_tcb.snp, "reported_tcb_microcode", (int)r->reported_tcb.microcode,
      "platform_tsme_enabled", (int)((pi >> 1) & 1), "platform_smt_enabled", (int)(pi & 1), "measurement",
      hex_str(TR_SNP_MEASUREMENT(r), 48), "report_data", hex_str(TR_SNP_REPORT_DATA(r), 64), "init_data",
      hex_str(TR_SNP_HOST_DATA(r), 32), "chip_id", hex_str(TR_SNP_CHIP_ID(r), 64));
}
