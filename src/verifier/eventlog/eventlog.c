/* eventlog.c — CCEL parser and RTMR replay (see eventlog.h).
 *
 * Format (TCG PC Client Platform Firmware Profile, crypto-agile log):
 *   first record, TCG 1.2 shape: pcr u32, type u32, sha1[20], size u32,
 *     data; with type EV_NO_ACTION the data is TCG_EfiSpecIdEvent:
 *     at 24 numberOfAlgorithms u32, {algId u16, digestSize u16} x n,
 *     vendorInfoSize u8, vendorInfo — it must fill the record exactly;
 *   then records until 8 bytes of 0x00 or 0xFF: index u32, type u32,
 *     digestCount u32, {algId u16, digest[size from the header]} x count,
 *     eventSize u32, event.
 * Per-type details follow upstream parsers (ccel directory); device paths of
 * EV_EFI_BOOT_SERVICES_APPLICATION are rendered in devpath.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/digest.h"
#include "core/encoding.h"
#include "verifier/eventlog/eventlog.h"
#include "verifier/eventlog/eventlog_internal.h"

#define EV_NO_ACTION 0x3

typedef enum { P_BLANK, P_SIMPLE, P_TAG, P_PCF, P_IPL, P_EFIVAR, P_BSA, P_SSTR } parser_kind;

typedef struct {
  uint32_t type;
  const char *name;
  parser_kind parser;
} event_type;

static const event_type EVENT_TYPES[] = {
    {0x0, "EV_PREBOOT_CERT", P_BLANK},
    {0x1, "EV_POST_CODE", P_SIMPLE},
    {0x2, "EV_UNUSED", P_BLANK},
    {0x3, "EV_NO_ACTION", P_BLANK},
    {0x4, "EV_SEPARATOR", P_BLANK},
    {0x5, "EV_ACTION", P_SIMPLE},
    {0x6, "EV_EVENT_TAG", P_TAG},
    {0x7, "EV_S_CRTM_CONTENTS", P_BLANK},
    {0x8, "EV_S_CRTM_VERSION", P_BLANK},
    {0x9, "EV_CPU_MICROCODE", P_BLANK},
    {0xa, "EV_PLATFORM_CONFIG_FLAGS", P_PCF},
    {0xb, "EV_TABLE_OF_DEVICES", P_BLANK},
    {0xc, "EV_COMPACT_HASH", P_SIMPLE},
    {0xd, "EV_IPL", P_IPL},
    {0xe, "EV_IPL_PARTITION_DATA", P_BLANK},
    {0xf, "EV_NONHOST_CODE", P_BLANK},
    {0x10, "EV_NONHOST_CONFIG", P_BLANK},
    {0x11, "EV_NONHOST_INFO", P_BLANK},
    {0x12, "EV_OMIT_BOOT_DEVICE_EVENTS", P_SIMPLE},
    {0x80000000, "EV_EFI_EVENT_BASE", P_BLANK},
    {0x80000001, "EV_EFI_VARIABLE_DRIVER_CONFIG", P_EFIVAR},
    {0x80000002, "EV_EFI_VARIABLE_BOOT", P_EFIVAR},
    {0x80000003, "EV_EFI_BOOT_SERVICES_APPLICATION", P_BSA},
    {0x80000004, "EV_EFI_BOOT_SERVICES_DRIVER", P_BLANK},
    {0x80000005, "EV_EFI_RUNTIME_SERVICES_DRIVER", P_BLANK},
    {0x80000006, "EV_EFI_GPT_EVENT", P_BLANK},
    {0x80000007, "EV_EFI_ACTION", P_SIMPLE},
    {0x80000008, "EV_EFI_PLATFORM_FIRMWARE_BLOB", P_BLANK},
    {0x80000009, "EV_EFI_HANDOFF_TABLES", P_BLANK},
    {0x8000000a, "EV_EFI_PLATFORM_FIRMWARE_BLOB2", P_SSTR},
    {0x8000000b, "EV_EFI_HANDOFF_TABLES2", P_SSTR},
    {0x8000000c, "EV_EFI_VARIABLE_BOOT2", P_EFIVAR},
    {0x80000010, "EV_EFI_HCRTM_EVENT", P_BLANK},
    {0x800000e0, "EV_EFI_VARIABLE_AUTHORITY", P_EFIVAR},
    {0x800000e1, "EV_EFI_SPDM_FIRMWARE_BLOB", P_BLANK},
    {0x800000e2, "EV_EFI_SPDM_FIRMWARE_CONFIG", P_BLANK},
};

static const event_type *find_type(uint32_t t) {
  for (size_t i = 0; i < sizeof(EVENT_TYPES) / sizeof(EVENT_TYPES[0]); i++)
    if (EVENT_TYPES[i].type == t) return &EVENT_TYPES[i];
  return NULL;
}

const char *tr_tcg_alg_name(uint16_t alg) {
  switch (alg) {
  case 0x1: return "RSA";
  case 0x3: return "TDES";
  case TR_TCG_SHA1: return "SHA-1";
  case TR_TCG_SHA256: return "SHA-256";
  case TR_TCG_SHA384: return "SHA-384";
  case TR_TCG_SHA512: return "SHA-512";
  case TR_TCG_SM3: return "SM3";
  default: return NULL;
  }
}

/* upstream's Debug names, used in its error messages */
static const char *alg_debug(uint16_t alg) {
  switch (alg) {
  case 0x1: return "Rsa";
  case 0x3: return "Tdes";
  case TR_TCG_SHA1: return "Sha1";
  default: return "?";
  }
}

static tr_digest_alg digest_alg(uint16_t alg) {
  switch (alg) {
  case TR_TCG_SHA256: return TR_SHA256;
  case TR_TCG_SHA384: return TR_SHA384;
  case TR_TCG_SHA512: return TR_SHA512;
  case TR_TCG_SM3: return TR_SM3;
  default: return 0;
  }
}

/* ---- bounded reader -------------------------------------------------------- */

typedef struct {
  const uint8_t *p;
  size_t n, i;
} rd;

static bool rd_u16(rd *r, uint16_t *v) {
  if (r->n - r->i < 2 || r->i > r->n) return false;
  *v = (uint16_t)(r->p[r->i] | r->p[r->i + 1] << 8);
  r->i += 2;
  return true;
}

static bool rd_u32(rd *r, uint32_t *v) {
  if (r->i > r->n || r->n - r->i < 4) return false;
  const uint8_t *p = r->p + r->i;
  *v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
  r->i += 4;
  return true;
}

uint64_t tr_el_le64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--)
    v = v << 8 | p[i];
  return v;
}

/* ---- text helpers (Rust semantics) ---------------------------------------- */

/* Length of the valid UTF-8 sequence at s (≤ n bytes), 0 when invalid;
 * *prefix receives the length of the longest valid prefix of a sequence
 * (Rust's error_len rule for lossy replacement). */
static size_t utf8_seq(const uint8_t *s, size_t n, size_t *prefix) {
  uint8_t c = s[0];
  size_t len;
  uint8_t lo = 0x80, hi = 0xbf;
  *prefix = 1;
  if (c < 0x80) return 1;
  if (c >= 0xc2 && c <= 0xdf)
    len = 2;
  else if (c >= 0xe0 && c <= 0xef) {
    len = 3;
    if (c == 0xe0) lo = 0xa0;
    if (c == 0xed) hi = 0x9f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    len = 4;
    if (c == 0xf0) lo = 0x90;
    if (c == 0xf4) hi = 0x8f;
  } else
    return 0;
  for (size_t i = 1; i < len; i++) {
    if (i >= n) return 0;
    uint8_t b = s[i];
    uint8_t l = i == 1 ? lo : 0x80, h = i == 1 ? hi : 0xbf;
    if (b < l || b > h) return 0;
    *prefix = i + 1;
  }
  return len;
}

bool tr_el_utf8_valid(const uint8_t *s, size_t n) {
  for (size_t i = 0; i < n;) {
    size_t pre, l = utf8_seq(s + i, n - i, &pre);
    if (!l) return false;
    i += l;
  }
  return true;
}

/* String::from_utf8_lossy */
static void utf8_lossy(tr_buf *b, const uint8_t *s, size_t n) {
  for (size_t i = 0; i < n;) {
    size_t pre, l = utf8_seq(s + i, n - i, &pre);
    if (l) {
      tr_buf_append(b, s + i, l);
      i += l;
    } else {
      tr_buf_append(b, "\xef\xbf\xbd", 3);
      i += pre;
    }
  }
}

static void put_cp(tr_buf *b, uint32_t cp) {
  uint8_t o[4];
  size_t n;
  if (cp < 0x80)
    o[0] = (uint8_t)cp, n = 1;
  else if (cp < 0x800)
    o[0] = (uint8_t)(0xc0 | cp >> 6), o[1] = (uint8_t)(0x80 | (cp & 0x3f)), n = 2;
  else if (cp < 0x10000)
    o[0] = (uint8_t)(0xe0 | cp >> 12), o[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3f)),
    o[2] = (uint8_t)(0x80 | (cp & 0x3f)), n = 3;
  else
    o[0] = (uint8_t)(0xf0 | cp >> 18), o[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3f)),
    o[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3f)), o[3] = (uint8_t)(0x80 | (cp & 0x3f)), n = 4;
  tr_buf_append(b, o, n);
}

bool tr_el_utf16le(tr_buf *b, const uint8_t *s, size_t nbytes, bool lossy) {
  size_t n = nbytes / 2;
  for (size_t i = 0; i < n; i++) {
    uint32_t u = (uint32_t)(s[2 * i] | s[2 * i + 1] << 8);
    if (u >= 0xd800 && u <= 0xdbff && i + 1 < n) {
      uint32_t v = (uint32_t)(s[2 * i + 2] | s[2 * i + 3] << 8);
      if (v >= 0xdc00 && v <= 0xdfff) {
        put_cp(b, 0x10000 + ((u - 0xd800) << 10) + (v - 0xdc00));
        i++;
        continue;
      }
    }
    if (u >= 0xd800 && u <= 0xdfff) {
      if (!lossy) return false;
      put_cp(b, 0xfffd);
      continue;
    }
    put_cp(b, u);
  }
  return true;
}

static json_t *jstr(const tr_buf *b) { return json_stringn(b->len ? (const char *)b->data : "", b->len); }

/* ---- details ------------------------------------------------------------------ */

static json_t *details_string(json_t *s) {
  json_t *o = json_object();
  if (o && s) json_object_set_new(o, "string", s);
  return o;
}

static tr_err *p_simple(const uint8_t *d, size_t n, json_t **out) {
  if (!tr_el_utf8_valid(d, n)) return tr_err_new(TR_E_INVALID, "event data is not valid UTF-8");
  *out = details_string(json_stringn(n ? (const char *)d : "", n));
  return NULL;
}

static tr_err *p_sstr(const uint8_t *d, size_t n, json_t **out) {
  if (n == 0) return tr_err_new(TR_E_INVALID, "Data is too short: expected at least 1 byte");
  size_t len = d[0];
  if (len == 0) return tr_err_new(TR_E_INVALID, "Data is too short: invalid description length 0");
  if (n < len) return tr_err_new(TR_E_INVALID, "Data is too short: expected at least %zu bytes", len);
  /* upstream takes bytes [1, len) — one less than the length byte says */
  if (!tr_el_utf8_valid(d + 1, len - 1))
    return tr_err_new(TR_E_INVALID, "event description is not valid UTF-8");
  *out = details_string(json_stringn((const char *)d + 1, len - 1));
  return NULL;
}

static tr_err *p_pcf(const uint8_t *d, size_t n, json_t **out) {
  tr_buf b = TR_BUF_INIT;
  if (tr_el_utf8_valid(d, n)) {
    for (size_t i = 0; i < n;) {
      size_t pre, l = utf8_seq(d + i, n - i, &pre);
      uint32_t cp = d[i];
      if (l == 2) cp = (uint32_t)(d[i] & 0x1f) << 6 | (d[i + 1] & 0x3f);
      if (cp == 0x10)
        tr_buf_append_byte(&b, ' ');
      else if (!(cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)))
        tr_buf_append(&b, d + i, l);
      i += l;
    }
  }
  *out = details_string(jstr(&b));
  tr_buf_free(&b);
  return NULL;
}

static tr_err *p_ipl(const uint8_t *d, size_t n, json_t **out) {
  if (n < 2) return tr_err_new(TR_E_INVALID, "Data is too short: expected at least 2 bytes");
  tr_buf b = TR_BUF_INIT;
  if (d[0] == 0x2e && d[1] == 0x00) {
    size_t end = n - 2; /* upstream: data[2 .. len-2] */
    if (end == 0 || end % 2) return tr_err_new(TR_E_INVALID, "Data is too short or not UTF-16 string");
    if (end > 2) tr_el_utf16le(&b, d + 2, end - 2, true);
  } else {
    size_t cut = 0;
    while (cut < n && d[cut])
      cut++;
    if (tr_el_utf8_valid(d, cut)) {
      tr_buf_append(&b, d, cut);
    } else {
      char *h = tr_hex_encode(d, n);
      tr_buf_append_str(&b, h ? h : "");
      free(h);
    }
  }
  *out = details_string(jstr(&b));
  tr_buf_free(&b);
  return NULL;
}

static tr_err *p_tag(const uint8_t *d, size_t n, json_t **out) {
  rd r = {d, n, 0};
  uint32_t id, size;
  if (!rd_u32(&r, &id)) return tr_err_new(TR_E_INVALID, "Cannot read event id");
  if (!rd_u32(&r, &size)) return tr_err_new(TR_E_INVALID, "Cannot read length");
  if (n - r.i < size) return tr_err_new(TR_E_INVALID, "Failed to read description");
  const uint8_t *ev = d + r.i;
  tr_buf b = TR_BUF_INIT, c = TR_BUF_INIT;
  utf8_lossy(&b, ev, size);
  for (size_t i = 0; i < b.len; i++)
    if (b.data[i]) tr_buf_append_byte(&c, b.data[i]);
  tr_buf_free(&b);
  json_t *o = details_string(jstr(&c));
  tr_buf_free(&c);
  if (id == 0x4141454c) { /* "AAEL" */
    if (!tr_el_utf8_valid(ev, size)) {
      json_decref(o);
      return tr_err_new(TR_E_INVALID, "Illegal AAEL event data");
    }
    const char *s = (const char *)ev, *sp1 = memchr(s, ' ', size), *sp2;
    if (!sp1) {
      json_decref(o);
      return tr_err_new(TR_E_INVALID, "No space found in event string");
    }
    sp2 = memchr(sp1 + 1, ' ', size - (size_t)(sp1 + 1 - s));
    if (!sp2) {
      json_decref(o);
      return tr_err_new(TR_E_INVALID, "No second space found in event string");
    }
    const char *content = sp2 + 1;
    size_t clen = size - (size_t)(content - s);
    json_t *cj = json_loadb(content, clen, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, NULL);
    if (!cj) cj = json_stringn(content, clen);
    json_t *aael = json_object();
    json_object_set_new(aael, "domain", json_stringn(s, (size_t)(sp1 - s)));
    json_object_set_new(aael, "operation", json_stringn(sp1 + 1, (size_t)(sp2 - sp1 - 1)));
    json_object_set_new(aael, "content", cj);
    json_object_set_new(o, "unicode_name", json_string("AAEL"));
    json_object_set_new(o, "data", aael);
  }
  *out = o;
  return NULL;
}

static tr_err *p_efivar(const uint8_t *d, size_t n, json_t **out) {
  if (n < 16) return tr_err_new(TR_E_INVALID, "Failed to read GUID");
  if (n < 24) return tr_err_new(TR_E_INVALID, "Failed to read unicode name length");
  if (n < 32) return tr_err_new(TR_E_INVALID, "Failed to read variable data length");
  uint64_t nl = tr_el_le64(d + 16), dl = tr_el_le64(d + 24);
  size_t i = 32;
  if (nl > (n - i) / 2) return tr_err_new(TR_E_INVALID, "Out of bounds while reading description bytes");
  tr_buf name = TR_BUF_INIT;
  if (!tr_el_utf16le(&name, d + i, (size_t)nl * 2, false)) {
    tr_buf_free(&name);
    return tr_err_new(TR_E_INVALID, "variable name is not valid UTF-16");
  }
  i += (size_t)nl * 2;
  char *vd = NULL;
  if (dl > 0) {
    if (dl > n - i) {
      tr_buf_free(&name);
      return tr_err_new(TR_E_INVALID, "Out of bounds while reading variable_data");
    }
    vd = tr_b64_encode(d + i, (size_t)dl, TR_B64_STD);
  }
  char guid[40];
  snprintf(guid, sizeof(guid), "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", d[0],
           d[1], d[2], d[3], d[4], d[5], d[6], d[7], d[8], d[9], d[10], d[11], d[12], d[13], d[14], d[15]);
  json_t *o = json_object();
  json_object_set_new(o, "unicode_name", jstr(&name));
  json_object_set_new(o, "unicode_name_length", json_integer((json_int_t)nl));
  json_object_set_new(o, "variable_data", json_string(vd ? vd : ""));
  json_object_set_new(o, "variable_data_length", json_integer((json_int_t)dl));
  json_object_set_new(o, "variable_name", json_string(guid));
  free(vd);
  tr_buf_free(&name);
  *out = o;
  return NULL;
}

static tr_err *p_bsa(const uint8_t *d, size_t n, json_t **out) {
  if (n < 32) return tr_err_new(TR_E_INVALID, "Data is too short: expected at least 32 bytes");
  uint64_t dpl = tr_el_le64(d + 24);
  if (dpl == 0) {
    *out = json_object();
    return NULL;
  }
  if (dpl < 4 || dpl - 4 > n - 32)
    return tr_err_new(TR_E_INVALID, "Data is shorter than claimed by dev_path_offset");
  size_t len = (size_t)dpl - 4; /* upstream drops the last 4 bytes (the end node's header) */
  if (len < 4) return tr_err_new(TR_E_INVALID, "Remaining device path is shorter than 4 bytes");
  json_t *paths = json_array();
  tr_err *e = tr_el_device_paths(d + 32, len, paths);
  if (e) {
    json_decref(paths);
    return e;
  }
  json_t *o = json_object();
  json_object_set_new(o, "device_paths", paths);
  *out = o;
  return NULL;
}

static tr_err *details_for(parser_kind k, const uint8_t *d, size_t n, json_t **out) {
  *out = NULL;
  switch (k) {
  case P_SIMPLE: return p_simple(d, n, out);
  case P_TAG: return p_tag(d, n, out);
  case P_PCF: return p_pcf(d, n, out);
  case P_IPL: return p_ipl(d, n, out);
  case P_EFIVAR: return p_efivar(d, n, out);
  case P_BSA: return p_bsa(d, n, out);
  case P_SSTR: return p_sstr(d, n, out);
  case P_BLANK: break;
  }
  *out = json_object();
  return NULL;
}

/* ---- records ---------------------------------------------------------------------- */

typedef struct {
  uint16_t alg, size;
} alg_size;

typedef struct {
  alg_size a[16];
  size_t n;
} size_map;

static void map_put(size_map *m, uint16_t alg, uint16_t size) {
  for (size_t i = 0; i < m->n; i++)
    if (m->a[i].alg == alg) {
      m->a[i].size = size;
      return;
    }
  if (m->n < 16) m->a[m->n++] = (alg_size){alg, size};
}

static tr_err *spec_id(const uint8_t *d, size_t n, size_map *m) {
  rd r = {d, n, 24};
  uint32_t count;
  if (n < 24 || !rd_u32(&r, &count)) return tr_err_new(TR_E_INVALID, "Cannot read algorithm array size");
  for (uint32_t i = 0; i < count; i++) {
    uint16_t id, size;
    if (!rd_u16(&r, &id)) return tr_err_new(TR_E_INVALID, "Cannot read algorithm id");
    if (!rd_u16(&r, &size)) return tr_err_new(TR_E_INVALID, "Cannot read algorithm size");
    if (!tr_tcg_alg_name(id)) return tr_err_new(TR_E_INVALID, "Unknown algorithm type detected: %x", id);
    map_put(m, id, size);
  }
  if (r.i >= n) return tr_err_new(TR_E_INVALID, "Cannot read vendor info size");
  size_t end = r.i + 1 + d[r.i];
  if (end != n) return tr_err_new(TR_E_INVALID, "Unexpected data size consumed for detecting digests");
  return NULL;
}

void tr_ccel_clear(tr_ccel *l) {
  if (!l) return;
  json_decref(l->entries);
  for (size_t i = 0; i < l->ndigests; i++)
    free(l->digests[i].digest);
  free(l->digests);
  memset(l, 0, sizeof(*l));
}

static tr_err *add_digest(tr_ccel *l, uint32_t index, uint16_t alg, const uint8_t *d, size_t len) {
  tr_ccel_digest *n = realloc(l->digests, (l->ndigests + 1) * sizeof(*n));
  if (!n) return tr_err_new(TR_E_NOMEM, "out of memory");
  l->digests = n;
  uint8_t *c = malloc(len ? len : 1);
  if (!c) return tr_err_new(TR_E_NOMEM, "out of memory");
  memcpy(c, d, len);
  l->digests[l->ndigests++] = (tr_ccel_digest){index, alg, c, len};
  return NULL;
}

/* One record at r->i (past the stop-flag check). */
static tr_err *record(rd *r, const size_map *m, tr_ccel *l) {
  uint32_t index, type, count;
  if (!rd_u32(r, &index)) return tr_err_new(TR_E_INVALID, "Cannot read target measurement registry");
  if (!rd_u32(r, &type)) return tr_err_new(TR_E_INVALID, "Cannot read event type number");
  const event_type *et = find_type(type);
  if (!et) return tr_err_new(TR_E_INVALID, "Unknown event type detected: %#x", type);
  if (!rd_u32(r, &count)) return tr_err_new(TR_E_INVALID, "Cannot read digest count");
  /* TCG: one digest per algorithm of the header. Bounding the count keeps
   * digest_matches_event linear in the log size (upstream: any count). */
  if (count > m->n)
    return tr_err_new(TR_E_INVALID, "digest count %u exceeds the %zu algorithms of the log header", count,
                      m->n);
  json_t *digests = json_array();
  size_t first = l->ndigests;
  tr_err *e = NULL;
  for (uint32_t i = 0; !e && i < count; i++) {
    uint16_t alg;
    if (!rd_u16(r, &alg)) {
      e = tr_err_new(TR_E_INVALID, "Cannot read algorithm id");
      break;
    }
    if (!tr_tcg_alg_name(alg)) {
      e = tr_err_new(TR_E_INVALID, "Unknown algorithm type detected: %x", alg);
      break;
    }
    size_t size = 0;
    bool found = false;
    for (size_t k = 0; k < m->n; k++)
      if (m->a[k].alg == alg) size = m->a[k].size, found = true;
    if (!found) {
      e = tr_err_new(TR_E_INVALID, "Missing digest size for algorithm: %x", alg);
      break;
    }
    if (r->n - r->i < size) {
      e = tr_err_new(TR_E_INVALID, "Data is too short: digest truncated");
      break;
    }
    char *h = tr_hex_encode(r->p + r->i, size);
    json_t *dj = json_object();
    json_object_set_new(dj, "alg", json_string(tr_tcg_alg_name(alg)));
    json_object_set_new(dj, "digest", json_string(h ? h : ""));
    free(h);
    json_array_append_new(digests, dj);
    e = add_digest(l, index, alg, r->p + r->i, size);
    r->i += size;
  }
  uint32_t esize = 0;
  if (!e && !rd_u32(r, &esize)) e = tr_err_new(TR_E_INVALID, "Cannot read event data size");
  if (!e && r->n - r->i < esize)
    e = tr_err_new(TR_E_INVALID, "Data is too short: expected at least %u bytes", esize);
  if (e) {
    json_decref(digests);
    return e;
  }
  const uint8_t *ev = r->p + r->i;
  r->i += esize;
  /* digest_matches_event: every digest equals H(event); stops at the first
   * mismatch; a digest of an algorithm that cannot hash fails the parse. */
  bool matches = true;
  struct {
    uint16_t alg;
    size_t len;
    uint8_t h[TR_DIGEST_MAX];
  } done[16]; /* H(event) per algorithm, computed once */
  size_t ndone = 0;
  for (size_t i = first; matches && i < l->ndigests; i++) {
    tr_digest_alg a = digest_alg(l->digests[i].alg);
    if (!a)
      return json_decref(digests),
             tr_err_new(TR_E_INVALID, "Digest comparison failed: Digest hash algorithm not supported - %s",
                        alg_debug(l->digests[i].alg));
    size_t k = 0;
    while (k < ndone && done[k].alg != l->digests[i].alg)
      k++;
    if (k == ndone) {
      if (k == sizeof(done) / sizeof(done[0]))
        return json_decref(digests), tr_err_new(TR_E_INTERNAL, "digests");
      if ((e = tr_digest(a, ev, esize, done[k].h, &done[k].len))) return json_decref(digests), e;
      done[k].alg = l->digests[i].alg;
      ndone++;
    }
    matches = done[k].len == l->digests[i].len && memcmp(done[k].h, l->digests[i].digest, done[k].len) == 0;
  }
  json_t *details = NULL;
  e = details_for(et->parser, ev, esize, &details);
  if (e) {
    json_decref(digests);
    return tr_err_wrap(e, "%s event", et->name);
  }
  char *b64 = tr_b64_encode(ev, esize, TR_B64_STD);
  json_t *entry = json_object();
  json_object_set_new(entry, "details", details);
  json_object_set_new(entry, "digest_matches_event", json_boolean(matches));
  json_object_set_new(entry, "digests", digests);
  json_object_set_new(entry, "event", json_string(b64 ? b64 : ""));
  json_object_set_new(entry, "index", json_integer(index));
  json_object_set_new(entry, "type_name", json_string(et->name));
  free(b64);
  if (json_array_append_new(l->entries, entry)) return tr_err_new(TR_E_NOMEM, "out of memory");
  return NULL;
}

tr_err *tr_ccel_parse(const uint8_t *data, size_t len, tr_ccel *out) {
  memset(out, 0, sizeof(*out));
  out->entries = json_array();
  if (!out->entries) return tr_err_new(TR_E_NOMEM, "out of memory");
  rd r = {data, len, 0};
  uint32_t pcr, type, size;
  size_map m = {.n = 0};
  tr_err *e = NULL;
  if (!rd_u32(&r, &pcr))
    e = tr_err_new(TR_E_INVALID, "Cannot read PCR index");
  else if (!rd_u32(&r, &type))
    e = tr_err_new(TR_E_INVALID, "Cannot read event type number");
  else if (!find_type(type))
    e = tr_err_new(TR_E_INVALID, "Unknown event type detected: %#x", type);
  else if (r.n - r.i < 20)
    e = tr_err_new(TR_E_INVALID, "Cannot read event data size");
  else {
    r.i += 20;
    if (!rd_u32(&r, &size))
      e = tr_err_new(TR_E_INVALID, "Cannot read event data size");
    else if (type == EV_NO_ACTION) {
      if (r.n - r.i < size)
        e = tr_err_new(TR_E_INVALID, "Out of bounds while reading digest_data");
      else {
        e = spec_id(r.p + r.i, size, &m);
        r.i += size;
      }
    }
  }
  while (!e && r.i < r.n) {
    if (r.n - r.i < 8) {
      e = tr_err_new(TR_E_INVALID, "Failed to read potential stop flag");
      break;
    }
    uint64_t stop = tr_el_le64(r.p + r.i);
    if (stop == 0 || stop == UINT64_MAX) break;
    e = record(&r, &m, out);
  }
  if (e) {
    tr_ccel_clear(out);
    return tr_err_wrap(e, "Parse CC Eventlog failed");
  }
  return NULL;
}

tr_err *tr_ccel_replay(const tr_ccel *l, uint32_t index, uint16_t alg, uint8_t *out, size_t *out_len) {
  tr_digest_alg a = digest_alg(alg);
  if (!a) return tr_err_new(TR_E_UNSUPPORTED, "Unsupported Hash algorithm %#x", alg);
  size_t n = tr_digest_size(a);
  uint8_t acc[2 * TR_DIGEST_MAX];
  memset(acc, 0, sizeof(acc));
  for (size_t i = 0; i < l->ndigests; i++) {
    const tr_ccel_digest *d = &l->digests[i];
    if (d->index != index || d->alg != alg) continue;
    uint8_t *buf = malloc(n + d->len);
    if (!buf) return tr_err_new(TR_E_NOMEM, "out of memory");
    memcpy(buf, acc, n);
    memcpy(buf + n, d->digest, d->len);
    size_t hl;
    tr_err *e = tr_digest(a, buf, n + d->len, acc, &hl);
    free(buf);
    if (e) return e;
  }
  memcpy(out, acc, n);
  *out_len = n;
  return NULL;
}

tr_err *tr_ccel_replay_and_match(const tr_ccel *l, uint16_t alg, const uint32_t *indexes,
                                 const uint8_t *const *refs, const size_t *ref_lens, size_t n) {
  for (size_t i = 0; i < n; i++) {
    uint8_t v[TR_DIGEST_MAX];
    size_t vl;
    tr_err *e = tr_ccel_replay(l, indexes[i], alg, v, &vl);
    if (e) return e;
    if (vl != ref_lens[i] || memcmp(v, refs[i], vl) != 0) {
      char *a = tr_hex_encode(v, vl), *b = tr_hex_encode(refs[i], ref_lens[i]);
      e = tr_err_new(
          TR_E_VERIFY,
          "Eventlog does not pass measurement replay CC Event Log Measurement Register [index = %u]. "
          "Calculated value: %s, Given value: %s",
          indexes[i], a ? a : "", b ? b : "");
      free(a);
      free(b);
      return e;
    }
  }
  return NULL;
}

tr_err *tr_ccel_check_bound(const tr_ccel *l, uint16_t alg, uint32_t first, uint32_t last) {
  const char *name = tr_tcg_alg_name(alg);
  size_t i;
  json_t *entry;
  json_array_foreach(l->entries, i, entry) {
    json_int_t index = json_integer_value(json_object_get(entry, "index"));
    const char *type = json_string_value(json_object_get(entry, "type_name"));
    if (index < first || index > last)
      return tr_err_new(
          TR_E_VERIFY, "event log record %zu (%s) has index %lld: not bound by the replayed registers %u..%u",
          i, type ? type : "?", (long long)index, first, last);
    bool has = false;
    size_t j;
    json_t *dg;
    json_array_foreach(json_object_get(entry, "digests"), j, dg) {
      const char *a = json_string_value(json_object_get(dg, "alg"));
      has = has || (a && name && strcmp(a, name) == 0);
    }
    if (!has)
      return tr_err_new(TR_E_VERIFY,
                        "event log record %zu (%s, index %lld) has no %s digest: not bound by the replay", i,
                        type ? type : "?", (long long)index, name ? name : "?");
  }
  return NULL;
}
