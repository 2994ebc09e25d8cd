/* util.c — request-target parsing, SemVer, resource paths, dates. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/encoding.h"
#include "core/json.h"
#include "core/time.h"
#include "kbs/internal.h"

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Percent-decodes [s, s+n); form=true (query) also maps '+' to space.
 * form=false (a path segment) leaves %2F, %25 and %2B encoded, as upstream's
 * router does (actix-router's default Quoter protects "/%+"): an encoded
 * slash must never become a segment separator, or the resource policy would
 * see ["secret/keys", "public"] while the repository serves
 * secret/keys/public. The literal escape then fails the resource-path
 * regex, as upstream. */
static tr_err *pct_decode(const char *s, size_t n, bool form, char **out) {
  char *o = malloc(n + 1);
  if (!o) return tr_err_new(TR_E_NOMEM, "out of memory");
  size_t j = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '%') {
      int h, l;
      if (i + 2 >= n || (h = hexval((unsigned char)s[i + 1])) < 0 ||
          (l = hexval((unsigned char)s[i + 2])) < 0) {
        free(o);
        return tr_err_new(TR_E_INVALID, "bad percent-escape");
      }
      char c = (char)(h * 16 + l);
      if (!form && (c == '/' || c == '%' || c == '+')) {
        memcpy(o + j, s + i, 3);
        j += 3;
        i += 2;
        continue;
      }
      if (c == 0) {
        free(o);
        return tr_err_new(TR_E_INVALID, "percent-escaped NUL");
      }
      o[j++] = c;
      i += 2;
    } else if (form && s[i] == '+') {
      o[j++] = ' ';
    } else {
      o[j++] = s[i];
    }
  }
  o[j] = 0;
  *out = o;
  return NULL;
}

void kbs_target_clear(kbs_target *t) {
  free(t->raw_path);
  for (size_t i = 0; i < t->nsegs; i++)
    free(t->segs[i]);
  free(t->segs);
  json_decref(t->query);
  memset(t, 0, sizeof *t);
}

tr_err *kbs_target_parse(const char *uri, kbs_target *out) {
  memset(out, 0, sizeof *out);
  const char *q = strchr(uri, '?');
  size_t plen = q ? (size_t)(q - uri) : strlen(uri);
  out->raw_path = strndup(uri, plen);
  out->query = json_object();
  if (!out->raw_path || !out->query) {
    kbs_target_clear(out);
    return tr_err_new(TR_E_NOMEM, "out of memory");
  }
  tr_err *e = NULL;
  if (q) {
    const char *p = q + 1;
    while (*p && !e) {
      const char *amp = strchr(p, '&');
      size_t n = amp ? (size_t)(amp - p) : strlen(p);
      if (n) {
        const char *eq = memchr(p, '=', n);
        char *k = NULL, *v = NULL;
        e = pct_decode(p, eq ? (size_t)(eq - p) : n, true, &k);
        if (!e) e = eq ? pct_decode(eq + 1, n - (size_t)(eq - p) - 1, true, &v) : (v = strdup(""), NULL);
        if (!e) {
          json_t *js = json_string(v);
          if (!js)
            e = tr_err_new(TR_E_INVALID, "query value is not UTF-8");
          else
            json_object_set_new(out->query, k, js);
        }
        free(k);
        free(v);
      }
      p += n;
      if (*p == '&') p++;
    }
    if (e) {
      kbs_target_clear(out);
      return tr_err_wrap(e, "query string");
    }
  }
  static const char prefix[] = "/kbs/v0/";
  if (strncmp(out->raw_path, prefix, sizeof prefix - 1) == 0) {
    const char *rest = out->raw_path + sizeof prefix - 1;
    size_t cap = 1;
    for (const char *c = rest; *c; c++)
      if (*c == '/') cap++;
    out->segs = calloc(cap, sizeof *out->segs);
    if (!out->segs) {
      kbs_target_clear(out);
      return tr_err_new(TR_E_NOMEM, "out of memory");
    }
    const char *s = rest;
    for (;;) {
      const char *sl = strchr(s, '/');
      size_t n = sl ? (size_t)(sl - s) : strlen(s);
      e = pct_decode(s, n, false, &out->segs[out->nsegs]);
      if (e) {
        kbs_target_clear(out);
        return tr_err_wrap(e, "request path");
      }
      out->nsegs++;
      if (!sl) break;
      s = sl + 1;
    }
  }
  return NULL;
}

static bool parse_num(const char **p, unsigned long long *v) {
  const char *s = *p;
  if (!isdigit((unsigned char)*s)) return false;
  if (*s == '0' && isdigit((unsigned char)s[1])) return false; /* no leading zeros */
  unsigned long long x = 0;
  while (isdigit((unsigned char)*s)) {
    if (x > (~0ULL - 9) / 10) return false;
    x = x * 10 + (unsigned)(*s - '0');
    s++;
  }
  *v = x;
  *p = s;
  return true;
}

static bool ident_chars(const char *s, size_t n, bool numeric_no_leading_zero) {
  if (n == 0) return false;
  bool all_digits = true;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (!(isalnum(c) || c == '-')) return false;
    if (!isdigit(c)) all_digits = false;
  }
  if (numeric_no_leading_zero && all_digits && n > 1 && s[0] == '0') return false;
  return true;
}

/* Validates dot-separated identifiers in [s, s+n). */
static bool idents(const char *s, size_t n, bool prerelease) {
  size_t start = 0;
  for (size_t i = 0; i <= n; i++) {
    if (i == n || s[i] == '.') {
      if (!ident_chars(s + start, i - start, prerelease)) return false;
      start = i + 1;
    }
  }
  return true;
}

tr_err *kbs_semver_parse(const char *s, unsigned long long v[3], bool *prerelease) {
  const char *p = s;
  *prerelease = false;
  for (int i = 0; i < 3; i++) {
    if (!parse_num(&p, &v[i]) || (i < 2 && *p++ != '.'))
      return tr_err_new(TR_E_INVALID, "`%s` is not a MAJOR.MINOR.PATCH version", s);
  }
  if (*p == '-') {
    const char *q = p + 1;
    size_t n = strcspn(q, "+");
    if (!idents(q, n, true)) return tr_err_new(TR_E_INVALID, "`%s`: bad pre-release part", s);
    *prerelease = true;
    p = q + n;
  }
  if (*p == '+') {
    const char *q = p + 1;
    if (!idents(q, strlen(q), false)) return tr_err_new(TR_E_INVALID, "`%s`: bad build metadata", s);
    p = q + strlen(q);
  }
  if (*p) return tr_err_new(TR_E_INVALID, "`%s`: unexpected `%s`", s, p);
  return NULL;
}

static bool seg_ok(const char *s, size_t n) {
  if (n == 0) return false;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    bool ok = isalnum(c) || c == '_' || c == '-' || (i > 0 && c == '.');
    if (!ok || c >= 0x80) return false;
  }
  return true;
}

bool kbs_resource_path_valid(const char *path) {
  const char *s = path;
  for (int i = 0; i < 3; i++) {
    const char *sl = strchr(s, '/');
    if (i < 2 && !sl) return false;
    if (i == 2 && sl) return false;
    size_t n = sl ? (size_t)(sl - s) : strlen(s);
    if (!seg_ok(s, n)) return false;
    s = sl ? sl + 1 : s + n;
  }
  return true;
}

tr_err *kbs_b64url_nopad(const char *in, uint8_t **out, size_t *len) {
  return tr_b64_decode(in, (size_t)-1, TR_B64_URL_NOPAD, out, len);
}

void kbs_imf_fixdate(int64_t t, char out[40]) {
  if (!tr_time_format_imf_fixdate(t, out, 40)) out[0] = 0;
}

void kbs_rfc3339(int64_t t, char out[40]) {
  if (!tr_time_format_rfc3339(t, 0, out, 40)) out[0] = 0;
}

tr_err *kbs_parse_rfc3339(const char *s, int64_t *t) {
  uint32_t ns;
  return tr_time_parse_rfc3339(s, t, &ns);
}

json_t *kbs_challenge_params(const char *tee, const json_t *extra_params) {
  char *text = tr_json_dump_compact(extra_params ? extra_params : json_null());
  json_t *p = text ? json_pack("{s:s, s:s}", "tee", tee, "tee_params", text) : NULL;
  free(text);
  return p;
}
