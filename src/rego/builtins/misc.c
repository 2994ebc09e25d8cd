/* misc.c — uuid.rfc4122 and uuid.parse (OPA's internal/uuid over
 * google/uuid: 36-char, {braced}, urn:uuid: and 32-hex forms; version 1/2
 * UUIDs also yield time, node id, MAC address kind and clock sequence, and
 * version 2 the local domain and id). */
#include <strings.h>

#include "core/encoding.h"
#include "rego/builtins/common_internal.h"

static int hexv(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* google/uuid.Parse */
static bool uuid_parse(const char *s, size_t n, uint8_t u[16]) {
  bool dashed = true;
  if (n == 45) {
    if (strncasecmp(s, "urn:uuid:", 9) != 0) return false;
    s += 9, n = 36;
  } else if (n == 38) {
    if (s[0] != '{' || s[37] != '}') return false;
    s += 1, n = 36;
  } else if (n == 32) {
    dashed = false;
  } else if (n != 36) {
    return false;
  }
  if (dashed && (s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-')) return false;
  static const int off[16] = {0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34};
  for (int i = 0; i < 16; i++) {
    int at = dashed ? off[i] : 2 * i;
    int hi = hexv(s[at]), lo = hexv(s[at + 1]);
    if (hi < 0 || lo < 0) return false;
    u[i] = (uint8_t)(hi << 4 | lo);
  }
  return true;
}

static rv *str_kv(rego_bctx *ctx, const char *s) { return rv_string_nocopy(ctx->arena, s, strlen(s)); }

static rego_bi_status bi_uuid_parse(rego_bctx *ctx, rv *const *args, rv **out) {
  RB_EXPECT(ctx, args, 0, RV_STRING, "string");
  uint8_t u[16];
  if (!uuid_parse(args[0]->u.str.s, args[0]->u.str.len, u)) return REGO_BI_UNDEFINED;
  rv *keys[8], *vals[8];
  size_t n = 0;
  int version = u[6] >> 4;
  const char *variant = (u[8] & 0xc0) == 0x80   ? "RFC4122"
                        : (u[8] & 0xe0) == 0xc0 ? "Microsoft"
                        : (u[8] & 0xe0) == 0xe0 ? "Future"
                                                : "Reserved";
  keys[n] = str_kv(ctx, "version"), vals[n++] = rv_int(ctx->arena, version);
  keys[n] = str_kv(ctx, "variant"), vals[n++] = str_kv(ctx, variant);
  if (version == 1 || version == 2) {
    int64_t t = (int64_t)((uint64_t)u[0] << 24 | (uint64_t)u[1] << 16 | (uint64_t)u[2] << 8 | u[3]);
    t |= (int64_t)((uint64_t)u[4] << 8 | u[5]) << 32;
    t |= (int64_t)(((uint64_t)u[6] << 8 | u[7]) & 0xfff) << 48;
    int64_t since_unix = t - 12219292800LL * 10000000LL; /* 100 ns ticks since 1970 (from 1582) */
    int64_t sec = since_unix / 10000000, nsec = (since_unix % 10000000) * 100;
    keys[n] = str_kv(ctx, "time"), vals[n++] = rv_int(ctx->arena, sec * 1000000000 + nsec);
    const char *mac = (u[10] & 3) == 3 ? "local:multicast"
                      : (u[10] & 1)    ? "global:multicast"
                      : (u[10] & 2)    ? "local:unicast"
                                       : "global:unicast";
    char node[32];
    snprintf(node, sizeof node, "%02x-%02x-%02x-%02x-%02x-%02x", u[10], u[11], u[12], u[13], u[14], u[15]);
    keys[n] = str_kv(ctx, "nodeid"), vals[n++] = rv_cstring(ctx->arena, node);
    keys[n] = str_kv(ctx, "macvariables"), vals[n++] = str_kv(ctx, mac);
    keys[n] = str_kv(ctx, "clocksequence"), vals[n++] = rv_int(ctx->arena, ((u[8] << 8) | u[9]) & 0x3fff);
    if (version == 2) {
      uint32_t id = (uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 | (uint32_t)u[2] << 8 | u[3];
      keys[n] = str_kv(ctx, "id"), vals[n++] = rv_int(ctx->arena, id);
      char dom[32];
      const char *names[] = {"Person", "Group", "Org"};
      if (u[9] < 3)
        snprintf(dom, sizeof dom, "%s", names[u[9]]);
      else
        snprintf(dom, sizeof dom, "Domain%d", u[9]);
      keys[n] = str_kv(ctx, "domain"), vals[n++] = rv_cstring(ctx->arena, dom);
    }
  }
  *out = rv_object(ctx->arena, keys, vals, n, NULL);
  return REGO_BI_OK;
}

/* A random version 4 UUID, the same for equal keys within one evaluation. */
static rego_bi_status bi_uuid_rfc4122(rego_bctx *ctx, rv *const *args, rv **out) {
  rv *cached = rego_bi_cache_get(ctx, "uuid.rfc4122", args[0]);
  if (cached) return (*out = cached), REGO_BI_OK;
  uint8_t b[16];
  tr_err *e = tr_random_bytes(b, sizeof b);
  if (e) {
    tr_err_free(e);
    return rego_bi_error(ctx, "no random bytes available");
  }
  b[8] = (uint8_t)((b[8] & ~0xc0) | 0x80);
  b[6] = (uint8_t)((b[6] & ~0xf0) | 0x40);
  char s[37];
  snprintf(s, sizeof s, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
           b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
  rv *r = rv_string(ctx->arena, s, 36);
  rego_bi_cache_put(ctx, "uuid.rfc4122", args[0], r, NULL);
  *out = r;
  return REGO_BI_OK;
}

const rego_builtin_def rego_builtins_misc[] = {
    {"uuid.parse", 1, bi_uuid_parse, 0},
    {"uuid.rfc4122", 1, bi_uuid_rfc4122, REGO_BI_NONDET},
    {NULL, 0, NULL, 0},
};
