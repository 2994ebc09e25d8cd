/* devpath.c — UEFI device path nodes as upstream Trustee renders them
 * (eventlog crate, ccel/device_paths): node = type u8, subtype u8, length u16
 * (including the 4-byte header), data. Known nodes:
 *   1/1 Pci(function,device)       2/1 ACPI(HID,UID) (EISA id "PNP0A03")
 *   3/5 USB(port,interface)        3/11 Mac(hex,0xNN)   3/12 IPv4(...)
 *   3/21 FibreEx(0x..,0x..)        4/1 HD(n,MBR|GPT,sig[,0xstart,0xsize])
 *   4/3 VenMedia(GUID,hex)         4/4 File(path)       5/1 BBS(type,desc,flags)
 * anything else (or malformed) → Path(type,subtype,hex). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/encoding.h"
#include "verifier/eventlog/eventlog_internal.h"

static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t le32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void uefi_guid(char out[37], const uint8_t *g) {
  snprintf(out, 37, "%08X-%04X-%04X-%02X%02X-%02X%02X%02X%02X%02X%02X", le32(g), le16(g + 4), le16(g + 6),
           g[8], g[9], g[10], g[11], g[12], g[13], g[14], g[15]);
}

/* Returns a malloc'ed string, or NULL when the node is not understood. */
static char *node(uint8_t t, uint8_t st, const uint8_t *d, size_t n) {
  char *s = NULL;
  int r = -1;
  if (t == 1 && st == 1) {
    if (n >= 2) r = asprintf(&s, "Pci(%u,%u)", d[0], d[1]);
  } else if (t == 2 && st == 1) {
    if (n >= 8) {
      uint32_t hid = le32(d), uid = le32(d + 4), v = hid & 0xffff;
      r = asprintf(&s, "ACPI(%c%c%c%04X,%u)", (char)(((v >> 10) & 0x1f) + '@'),
                   (char)(((v >> 5) & 0x1f) + '@'), (char)((v & 0x1f) + '@'), hid >> 16, uid);
    }
  } else if (t == 3 && st == 0x15) {
    if (n >= 16) {
      char *a = tr_hex_encode(d, 8), *b = tr_hex_encode(d + 8, 8);
      if (a && b) r = asprintf(&s, "FibreEx(0x%s,0x%s)", a, b);
      free(a);
      free(b);
    }
  } else if (t == 3 && st == 5) {
    if (n >= 2) r = asprintf(&s, "USB(%u,%u)", d[0], d[1]);
  } else if (t == 3 && st == 0x0b) {
    if (n == 33) {
      char *h = tr_hex_encode(d, 31);
      if (h) {
        size_t l = strlen(h);
        while (l && h[l - 1] == '0')
          h[--l] = 0;
        for (size_t i = 0; i < l; i++)
          if (h[i] >= 'a' && h[i] <= 'f') h[i] = (char)(h[i] - 'a' + 'A');
        r = asprintf(&s, "Mac(%s,0x%02x)", h, d[32]);
      }
      free(h);
    }
  } else if (t == 3 && st == 0x0c) {
    if (n >= 23) {
      /* upstream reads the addresses as little-endian u32 and prints them
       * with Ipv4Addr::from_bits: the octets come out reversed. */
      const char *proto = le16(d + 12) == 6 ? "TCP" : le16(d + 12) == 17 ? "UDP" : "";
      const char *kind = d[14] == 0 ? "DHCP" : d[14] == 1 ? "Static" : "";
      uint32_t gw = le32(d + 15), mask = le32(d + 19);
      char tail[32] = "";
      if (gw || mask) snprintf(tail, sizeof(tail), ",%u,%u", gw, mask);
      r = asprintf(&s, "IPv4(%u.%u.%u.%u,%s,%s,%u.%u.%u.%u%s)", d[7], d[6], d[5], d[4], proto, kind, d[3],
                   d[2], d[1], d[0], tail);
    }
  } else if (t == 4 && st == 1) {
    if (n >= 38) {
      uint32_t part = le32(d);
      uint64_t start = tr_el_le64(d + 4), size = tr_el_le64(d + 12);
      char sig[40], det[64] = "";
      const char *prefix;
      if (d[36] == 1) {
        prefix = "MBR";
        snprintf(sig, sizeof(sig), "0x%08x", le32(d + 20));
      } else if (d[36] == 2) {
        prefix = "GPT";
        uefi_guid(sig, d + 20);
      } else {
        return NULL;
      }
      if (part)
        snprintf(det, sizeof(det), ",0x%llx,0x%llx", (unsigned long long)start, (unsigned long long)size);
      r = asprintf(&s, "HD(%u,%s,%s%s)", part, prefix, sig, det);
    }
  } else if (t == 4 && st == 3) {
    if (n >= 16) {
      char g[37];
      uefi_guid(g, d);
      char *h = tr_hex_encode(d + 16, n - 16);
      if (h) r = asprintf(&s, "VenMedia(%s,%s)", g, h);
      free(h);
    }
  } else if (t == 4 && st == 4) {
    if (n > 0 && n % 2 == 0) {
      tr_buf b = TR_BUF_INIT;
      tr_el_utf16le(&b, d, n - 2, true);
      r = asprintf(&s, "File(%.*s)", (int)b.len, b.len ? (const char *)b.data : "");
      tr_buf_free(&b);
    }
  } else if (t == 5 && st == 1) {
    if (n >= 4) {
      uint16_t dt = le16(d), flags = le16(d + 2);
      const char *names[] = {[1] = "FLOPPY", [2] = "HARD_DRIVE", [3] = "CDROM",
                             [4] = "PCMCIA", [5] = "USB",        [6] = "EMBEDDED_NETWORK"};
      char num[8];
      const char *name = dt >= 1 && dt <= 6 ? names[dt] : dt == 0x80 ? "DEV" : dt == 0xff ? "UNKNOWN" : NULL;
      if (!name) {
        snprintf(num, sizeof(num), "%u", dt);
        name = num;
      }
      size_t dl = 0;
      while (4 + dl < n && d[4 + dl])
        dl++;
      if (tr_el_utf8_valid(d + 4, dl))
        r = asprintf(&s, "BBS(%s,%.*s,%u)", name, (int)dl, (const char *)d + 4, flags);
    }
  }
  return r < 0 ? NULL : s;
}

tr_err *tr_el_device_paths(const uint8_t *p, size_t n, json_t *out) {
  while (n) {
    if (n < 4) return tr_err_new(TR_E_INVALID, "device path node shorter than its header");
    uint8_t t = p[0], st = p[1];
    size_t len = le16(p + 2);
    if (len < 4)
      return tr_err_new(TR_E_INVALID, "device path node length %zu is shorter than its header", len);
    if (n < len) return tr_err_new(TR_E_INVALID, "Data is too short: expected at least %zu bytes", len);
    char *s = node(t, st, p + 4, len - 4);
    if (!s) {
      char *h = tr_hex_encode(p + 4, len - 4);
      if (!h || asprintf(&s, "Path(%u,%u,%s)", t, st, h) < 0) s = NULL;
      free(h);
    }
    if (!s) return tr_err_new(TR_E_NOMEM, "out of memory");
    json_array_append_new(out, json_string(s));
    free(s);
    p += len;
    n -= len;
  }
  return NULL;
}
