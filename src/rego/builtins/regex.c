/* regex.c — regex.* builtins: Go RE2 syntax translated to PCRE2.
 *
 * Matching loops (find_n, split, replace) copy Go's regexp algorithms
 * (allMatches, Split, replaceAll): an empty match right after a previous
 * match is skipped, and the search advances by one UTF-8 rune after an empty
 * match, so results agree with OPA even for patterns that can match "". */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <ctype.h>
#include <pcre2.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "rego/builtins/common_internal.h"
#include "rego/builtins/regex_internal.h"
#include "rego/builtins/utf8_internal.h"

/* ---- translation ------------------------------------------------------------ */

typedef struct {
  const char *p;
  size_t n, i;
  tr_buf *out;
  char *err;
  size_t errlen;
} tr_state;

static bool fail(tr_state *t, const char *what, size_t from, size_t to) {
  if (to > t->n) to = t->n;
  snprintf(t->err, t->errlen, "error parsing regexp: %s: `%.*s`", what, (int)(to - from), t->p + from);
  return false;
}

static void emit(tr_state *t, const char *s, size_t n) { tr_buf_append(t->out, s, n); }
static void emits(tr_state *t, const char *s) { tr_buf_append_str(t->out, s); }

static bool is_word(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* One escape at t->i (pointing at the backslash). in_class selects the
 * class forms of \s, \S. */
static bool tr_escape(tr_state *t, bool in_class) {
  size_t start = t->i;
  if (t->i + 1 >= t->n) return fail(t, "trailing backslash at end of expression", start, t->n);
  char c = t->p[t->i + 1];
  t->i += 2;
  char tmp[32];
  switch (c) {
  case '1':
  case '2':
  case '3':
  case '4':
  case '5':
  case '6':
  case '7':
    if (t->i >= t->n || t->p[t->i] < '0' || t->p[t->i] > '7')
      return fail(t, "invalid escape sequence", start, t->i);
    /* fallthrough */
  case '0': {
    unsigned v = (unsigned)(c - '0');
    for (int k = 0; k < 2 && t->i < t->n && t->p[t->i] >= '0' && t->p[t->i] <= '7'; k++)
      v = v * 8 + (unsigned)(t->p[t->i++] - '0');
    snprintf(tmp, sizeof tmp, "\\x{%x}", v);
    emits(t, tmp);
    return true;
  }
  case 'x': {
    if (t->i < t->n && t->p[t->i] == '{') {
      size_t j = t->i + 1;
      unsigned long v = 0;
      size_t digits = 0;
      while (j < t->n && isxdigit((unsigned char)t->p[j])) {
        v = v * 16 +
            (unsigned long)(isdigit((unsigned char)t->p[j]) ? t->p[j] - '0' : (tolower(t->p[j]) - 'a' + 10));
        if (v > 0x10FFFF) return fail(t, "invalid escape sequence", start, j + 1);
        j++, digits++;
      }
      if (!digits || j >= t->n || t->p[j] != '}') return fail(t, "invalid escape sequence", start, j + 1);
      t->i = j + 1;
      snprintf(tmp, sizeof tmp, "\\x{%lx}", v);
      emits(t, tmp);
      return true;
    }
    if (t->i + 1 >= t->n || !isxdigit((unsigned char)t->p[t->i]) || !isxdigit((unsigned char)t->p[t->i + 1]))
      return fail(t, "invalid escape sequence", start, t->i + 2);
    emit(t, t->p + start, 4);
    t->i += 2;
    return true;
  }
  case 'a': emits(t, "\\x{7}"); return true;
  case 'v': emits(t, "\\x{b}"); return true;
  case 'f':
  case 't':
  case 'n':
  case 'r':
  case 'd':
  case 'D':
  case 'w':
  case 'W': emit(t, t->p + start, 2); return true;
  case 'A':
  case 'z':
  case 'b':
  case 'B':
    if (in_class) return fail(t, "invalid escape sequence", start, t->i);
    emit(t, t->p + start, 2);
    return true;
  case 's': emits(t, in_class ? "\\t\\n\\f\\r " : "[\\t\\n\\f\\r ]"); return true;
  case 'S':
    emits(t, in_class ? "\\x{0}-\\x{8}\\x{b}\\x{e}-\\x{1f}\\x{21}-\\x{10ffff}" : "[^\\t\\n\\f\\r ]");
    return true;
  case 'p':
  case 'P': {
    if (t->i >= t->n) return fail(t, "invalid character class range", start, t->i);
    if (t->p[t->i] == '{') {
      size_t j = t->i + 1;
      if (j < t->n && t->p[j] == '^') j++;
      size_t name0 = j;
      while (j < t->n && (isalnum((unsigned char)t->p[j]) || t->p[j] == '_'))
        j++;
      if (j == name0 || j >= t->n || t->p[j] != '}')
        return fail(t, "invalid character class range", start, j + 1);
      t->i = j + 1;
    } else {
      if (!isalpha((unsigned char)t->p[t->i]))
        return fail(t, "invalid character class range", start, t->i + 1);
      t->i++;
    }
    emit(t, t->p + start, t->i - start);
    return true;
  }
  case 'Q': {
    /* literal text up to \E (or the end) */
    size_t j = t->i;
    while (j < t->n && !(t->p[j] == '\\' && j + 1 < t->n && t->p[j + 1] == 'E'))
      j++;
    for (size_t k = t->i; k < j; k++) {
      unsigned char ch = (unsigned char)t->p[k];
      if (ch < 0x80 && !is_word((char)ch)) emits(t, "\\");
      emit(t, t->p + k, 1);
    }
    t->i = j < t->n ? j + 2 : j;
    return true;
  }
  default:
    if ((unsigned char)c < 0x80 && !is_word(c)) {
      emit(t, t->p + start, 2);
      return true;
    }
    return fail(t, "invalid escape sequence", start, t->i);
  }
}

static const char *const posix_classes[] = {"alnum", "alpha", "ascii", "blank", "cntrl", "digit", "graph",
                                            "lower", "print", "punct", "space", "upper", "word",  "xdigit"};

static bool tr_class(tr_state *t) {
  size_t start = t->i;
  emits(t, "[");
  t->i++;
  if (t->i < t->n && t->p[t->i] == '^') emits(t, "^"), t->i++;
  bool first = true;
  while (t->i < t->n) {
    char c = t->p[t->i];
    if (c == ']' && !first) {
      emits(t, "]");
      t->i++;
      return true;
    }
    first = false;
    if (c == '[' && t->i + 1 < t->n && t->p[t->i + 1] == ':') {
      size_t j = t->i + 2;
      bool neg = j < t->n && t->p[j] == '^';
      if (neg) j++;
      size_t name0 = j;
      while (j < t->n && isalpha((unsigned char)t->p[j]))
        j++;
      if (j + 1 < t->n && t->p[j] == ':' && t->p[j + 1] == ']') {
        bool known = false;
        for (size_t k = 0; k < sizeof posix_classes / sizeof *posix_classes; k++)
          if (strlen(posix_classes[k]) == j - name0 && !memcmp(posix_classes[k], t->p + name0, j - name0))
            known = true;
        if (!known) return fail(t, "invalid character class range", t->i, j + 2);
        emit(t, t->p + t->i, j + 2 - t->i);
        t->i = j + 2;
        continue;
      }
      emits(t, "\\[");
      t->i++;
      continue;
    }
    if (c == '\\') {
      if (!tr_escape(t, true)) return false;
      continue;
    }
    if (c == '[') {
      emits(t, "\\[");
      t->i++;
      continue;
    }
    emit(t, t->p + t->i, 1);
    t->i++;
  }
  return fail(t, "missing closing ]", start, t->n);
}

/* Parses {n}, {n,} or {n,m} at t->i; returns false if it is not a
 * repetition (then '{' is a literal, as in Go). */
static bool parse_repeat(tr_state *t, size_t *end, long *lo, long *hi) {
  size_t j = t->i + 1;
  long a = 0, b = -1;
  size_t d = 0;
  while (j < t->n && isdigit((unsigned char)t->p[j])) {
    if (a < 100000) a = a * 10 + (t->p[j] - '0');
    j++, d++;
  }
  if (!d || j >= t->n) return false;
  if (t->p[j] == '}') {
    b = a;
  } else if (t->p[j] == ',') {
    j++;
    size_t d2 = 0;
    long m = 0;
    while (j < t->n && isdigit((unsigned char)t->p[j])) {
      if (m < 100000) m = m * 10 + (t->p[j] - '0');
      j++, d2++;
    }
    if (j >= t->n || t->p[j] != '}') return false;
    b = d2 ? m : -1;
  } else {
    return false;
  }
  *end = j + 1;
  *lo = a;
  *hi = b;
  return true;
}

bool rb_re_translate(const char *pat, size_t n, tr_buf *out, char *err, size_t errlen) {
  tr_state t = {pat, n, 0, out, err, errlen};
  bool can_repeat = false; /* previous item is repeatable */
  int last_rep = 0;        /* 0 none, 1 greedy repetition, 2 lazy */
  int depth = 0;
  while (t.i < n) {
    char c = pat[t.i];
    size_t at = t.i;
    if (c == '*' || c == '+' || c == '?' || c == '{') {
      size_t end = at + 1;
      long lo = 0, hi = 0;
      bool is_rep = c != '{' || parse_repeat(&t, &end, &lo, &hi);
      if (is_rep) {
        if (c == '?' && last_rep == 1) {
          /* lazy modifier */
          emit(&t, "?", 1);
          t.i++;
          last_rep = 2;
          continue;
        }
        if (last_rep) return fail(&t, "invalid nested repetition operator", at - 1, end);
        if (!can_repeat) return fail(&t, "missing argument to repetition operator", at, end);
        if (c == '{' && (lo > 1000 || hi > 1000 || (hi >= 0 && hi < lo)))
          return fail(&t, "invalid repeat count", at, end);
        emit(&t, pat + at, end - at);
        t.i = end;
        last_rep = 1;
        continue;
      }
    }
    last_rep = 0;
    switch (c) {
    case '\\': {
      if (at + 1 < n && (pat[at + 1] == 'Q')) {
        if (!tr_escape(&t, false)) return false;
        can_repeat = true;
        continue;
      }
      char e = at + 1 < n ? pat[at + 1] : 0;
      bool assertion = e == 'A' || e == 'z' || e == 'b' || e == 'B';
      bool repeated = assertion && at + 2 < n && strchr("*+?{", pat[at + 2]);
      if (repeated) emits(&t, "(?:");
      if (!tr_escape(&t, false)) return false;
      if (repeated) emits(&t, ")");
      can_repeat = true; /* Go lets even \b or \A be repeated */
      continue;
    }
    case '[':
      if (!tr_class(&t)) return false;
      can_repeat = true;
      continue;
    case '(':
      if (at + 1 < n && pat[at + 1] == '?') {
        size_t j = at + 2;
        if (j < n && (pat[j] == '<' || (pat[j] == 'P' && j + 1 < n && pat[j + 1] == '<'))) {
          j += pat[j] == 'P' ? 2 : 1;
          size_t name0 = j;
          while (j < n && is_word(pat[j]))
            j++;
          if (j == name0 || j >= n || pat[j] != '>') return fail(&t, "invalid named capture", at, j + 1);
          emits(&t, "(?<");
          emit(&t, pat + name0, j - name0);
          emits(&t, ">");
          t.i = j + 1;
          depth++;
          can_repeat = false;
          continue;
        }
        /* flags */
        bool neg = false, any = false, after_neg = false;
        while (j < n && (pat[j] == 'i' || pat[j] == 'm' || pat[j] == 's' || pat[j] == 'U' || pat[j] == '-')) {
          if (pat[j] == '-') {
            if (neg) return fail(&t, "invalid or unsupported Perl syntax", at, j + 1);
            neg = true;
            after_neg = false;
          } else {
            any = true;
            if (neg) after_neg = true;
          }
          j++;
        }
        if (j >= n || (pat[j] != ')' && pat[j] != ':') || (neg && !after_neg) || (!any && pat[j] == ')'))
          return fail(&t, j >= n ? "missing closing )" : "invalid or unsupported Perl syntax", at, j + 1);
        emit(&t, pat + at, j + 1 - at);
        t.i = j + 1;
        if (pat[j] == ':') depth++;
        can_repeat = false;
        continue;
      }
      emits(&t, "(");
      t.i++;
      depth++;
      can_repeat = false;
      continue;
    case ')':
      if (depth == 0) return fail(&t, "unexpected )", 0, n);
      depth--;
      emits(&t, ")");
      t.i++;
      can_repeat = true;
      continue;
    case '|':
      emits(&t, "|");
      t.i++;
      can_repeat = false;
      continue;
    case '^':
    case '$':
      /* PCRE2 refuses to repeat an assertion, Go allows it: group it. */
      if (at + 1 < n && strchr("*+?{", pat[at + 1])) {
        emits(&t, "(?:");
        emit(&t, &c, 1);
        emits(&t, ")");
      } else {
        emit(&t, &c, 1);
      }
      t.i++;
      can_repeat = true;
      continue;
    case '\0':
      emits(&t, "\\x{0}");
      t.i++;
      can_repeat = true;
      continue;
    default:
      emit(&t, &c, 1);
      t.i++;
      can_repeat = true;
      continue;
    }
  }
  if (depth > 0) return fail(&t, "missing closing )", 0, n);
  if (!out->data) tr_buf_append_str(out, "");
  return out->data != NULL;
}

/* ---- compiled pattern cache ------------------------------------------------ */

struct rb_re {
  pcre2_code *code;
  uint32_t groups;
  char *key; /* kind byte pair + pattern */
  size_t keylen;
  atomic_int refs; /* the process cache holds one while the pattern is in it */
};

#define RE_CACHE_SIZE 256
static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;
static rb_re *cache[RE_CACHE_SIZE];
static size_t cache_next;

static pthread_once_t mctx_once = PTHREAD_ONCE_INIT;
static pcre2_match_context *mctx;
static pcre2_compile_context *cctx;

static void mctx_init(void) {
  /* Go: only "\n" is a newline (for ., ^ and $ under (?m)). */
  cctx = pcre2_compile_context_create(NULL);
  if (cctx) pcre2_set_newline(cctx, PCRE2_NEWLINE_LF);
  mctx = pcre2_match_context_create(NULL);
  if (mctx) {
    pcre2_set_match_limit(mctx, 2000000);
    pcre2_set_depth_limit(mctx, 20000);
    pcre2_set_heap_limit(mctx, 64 * 1024); /* KiB */
  }
}

static void re_free(rb_re *re) {
  pcre2_code_free(re->code);
  free(re->key);
  free(re);
}

void rb_re_release(rb_re *re) {
  if (re && atomic_fetch_sub(&re->refs, 1) == 1) re_free(re);
}

/* regexp.QuoteMeta */
static void quote_meta(tr_buf *b, const char *s, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (strchr("\\.+*?()|[]{}^$", s[i]) && s[i]) tr_buf_append_byte(b, '\\');
    tr_buf_append_byte(b, (uint8_t)s[i]);
  }
}

/* Builds the Go pattern of a regex.template_match template. */
static bool template_pattern(const char *tpl, size_t n, char ds, char de, tr_buf *b, char *err,
                             size_t errlen) {
  int level = 0;
  size_t idx = 0, end = 0;
  tr_buf_append_byte(b, '^');
  for (size_t i = 0; i < n; i++) {
    if (tpl[i] == ds) {
      if (++level == 1) idx = i;
    } else if (tpl[i] == de) {
      if (--level == 0) {
        quote_meta(b, tpl + end, idx - end);
        tr_buf_append_byte(b, '(');
        tr_buf_append(b, tpl + idx + 1, i - idx - 1);
        tr_buf_append_byte(b, ')');
        /* each part must compile on its own, as in OPA */
        tr_buf part = TR_BUF_INIT;
        bool ok = rb_re_translate(tpl + idx + 1, i - idx - 1, &part, err, errlen);
        tr_buf_free(&part);
        if (!ok) return false;
        end = i + 1;
      } else if (level < 0) {
        snprintf(err, errlen, "unbalanced braces in \"%.*s\"", (int)(n > 200 ? 200 : n), tpl);
        return false;
      }
    }
  }
  if (level != 0) {
    snprintf(err, errlen, "unbalanced braces in \"%.*s\"", (int)(n > 200 ? 200 : n), tpl);
    return false;
  }
  quote_meta(b, tpl + end, n - end);
  tr_buf_append_byte(b, '$');
  return true;
}

rb_re *rb_re_get(const char *pat, size_t n, char ds, char de, char *err, size_t errlen) {
  size_t keylen = n + 2;
  pthread_mutex_lock(&cache_mu);
  for (size_t i = 0; i < RE_CACHE_SIZE; i++) {
    rb_re *e = cache[i];
    if (e && e->keylen == keylen && e->key[0] == ds && e->key[1] == de && memcmp(e->key + 2, pat, n) == 0) {
      atomic_fetch_add(&e->refs, 1);
      pthread_mutex_unlock(&cache_mu);
      return e;
    }
  }
  pthread_mutex_unlock(&cache_mu);

  tr_buf src = TR_BUF_INIT, tr = TR_BUF_INIT;
  const char *gopat = pat;
  size_t gon = n;
  if (ds) {
    if (!template_pattern(pat, n, ds, de, &src, err, errlen)) {
      tr_buf_free(&src);
      return NULL;
    }
    gopat = (const char *)src.data;
    gon = src.len;
  }
  bool ok = rb_re_translate(gopat, gon, &tr, err, errlen);
  tr_buf_free(&src);
  if (!ok) {
    tr_buf_free(&tr);
    return NULL;
  }
  int ec;
  PCRE2_SIZE eo;
  /* ALT_CIRCUMFLEX: Go's (?m)^ also matches after a final "\n". */
  pthread_once(&mctx_once, mctx_init);
  pcre2_code *code = pcre2_compile((PCRE2_SPTR)tr.data, tr.len,
                                   PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | PCRE2_DOLLAR_ENDONLY |
                                       PCRE2_NEVER_BACKSLASH_C | PCRE2_ALT_CIRCUMFLEX,
                                   &ec, &eo, cctx);
  if (!code) {
    PCRE2_UCHAR msg[160];
    pcre2_get_error_message(ec, msg, sizeof msg);
    snprintf(err, errlen, "error parsing regexp: %s: `%.*s`", (const char *)msg, (int)(gon > 200 ? 200 : gon),
             ds ? (const char *)tr.data : pat);
    tr_buf_free(&tr);
    return NULL;
  }
  tr_buf_free(&tr);
  pcre2_jit_compile(code, PCRE2_JIT_COMPLETE); /* optional: interpreter otherwise */
  rb_re *re = calloc(1, sizeof *re);
  char *key = malloc(keylen);
  if (!re || !key) {
    free(re);
    free(key);
    pcre2_code_free(code);
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  key[0] = ds;
  key[1] = de;
  memcpy(key + 2, pat, n);
  re->code = code;
  re->key = key;
  re->keylen = keylen;
  pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &re->groups);
  atomic_init(&re->refs, 2); /* the caller's and the cache's */
  pthread_mutex_lock(&cache_mu);
  rb_re *old = cache[cache_next];
  cache[cache_next] = re;
  cache_next = (cache_next + 1) % RE_CACHE_SIZE;
  pthread_mutex_unlock(&cache_mu);
  rb_re_release(old); /* drop the cache's reference to the evicted pattern */
  return re;
}

uint32_t rb_re_groups(const rb_re *re) { return re->groups; }

int rb_re_group_index(const rb_re *re, const char *name, size_t len) {
  char buf[256];
  if (len >= sizeof buf) return -1;
  memcpy(buf, name, len);
  buf[len] = '\0';
  int r = pcre2_substring_number_from_name(re->code, (PCRE2_SPTR)buf);
  return r < 0 ? -1 : r;
}

int rb_re_exec(const rb_re *re, const char *subject, size_t len, size_t start, size_t *ov) {
  pthread_once(&mctx_once, mctx_init);
  pcre2_match_data *md = pcre2_match_data_create_from_pattern(re->code, NULL);
  if (!md) return -1;
  int rc = pcre2_match(re->code, (PCRE2_SPTR)subject, len, start, 0, md, mctx);
  if (rc == PCRE2_ERROR_JIT_STACKLIMIT)
    rc = pcre2_match(re->code, (PCRE2_SPTR)subject, len, start, PCRE2_NO_JIT, md, mctx);
  int result;
  if (rc == PCRE2_ERROR_NOMATCH)
    result = 0;
  else if (rc < 0)
    result = -1;
  else {
    PCRE2_SIZE *v = pcre2_get_ovector_pointer(md);
    for (uint32_t g = 0; g <= re->groups; g++) {
      bool set = (int)g < rc && v[2 * g] != PCRE2_UNSET;
      ov[2 * g] = set ? v[2 * g] : SIZE_MAX;
      ov[2 * g + 1] = set ? v[2 * g + 1] : SIZE_MAX;
    }
    result = 1;
  }
  pcre2_match_data_free(md);
  return result;
}

/* ---- builtins ---------------------------------------------------------------- */

static void release_cb(void *re) { rb_re_release(re); }

/* A compiled pattern for this evaluation: first the evaluation's own cache
 * (no lock), then the process cache. The caller releases *out. */
static rego_bi_status get_re(rego_bctx *ctx, const rv *pat, rb_re **out) {
  rb_re *re = rego_bi_cache_get(ctx, "regex", pat);
  if (re) {
    atomic_fetch_add(&re->refs, 1);
    *out = re;
    return REGO_BI_OK;
  }
  char err[400];
  re = rb_re_get(pat->u.str.s, pat->u.str.len, 0, 0, err, sizeof err);
  if (!re) return rego_bi_error(ctx, "%s", err);
  atomic_fetch_add(&re->refs, 1); /* the evaluation cache's reference */
  rego_bi_cache_put(ctx, "regex", pat, re, release_cb);
  *out = re;
  return REGO_BI_OK;
}

static rego_bi_status limit_error(rego_bctx *ctx) {
  return rego_bi_error(ctx, "regular expression match limit exceeded");
}

static size_t rune_width_at(const char *s, size_t n, size_t pos) {
  if (pos >= n) return 0;
  size_t w;
  rb_utf8_decode((const unsigned char *)s + pos, n - pos, &w);
  return w;
}

/* Go's allMatches; deliver receives each accepted match's ovector. Returns
 * -1 on the match limit. */
typedef void (*deliver_fn)(void *ud, const size_t *ov);
static int all_matches(const rb_re *re, const char *s, size_t n, int64_t max, deliver_fn deliver, void *ud) {
  size_t ovn = 2 * ((size_t)re->groups + 1);
  size_t *ov = malloc(ovn * sizeof(size_t));
  if (!ov) return -1;
  if (max < 0) max = (int64_t)n + 1;
  size_t pos = 0;
  size_t prev_end = SIZE_MAX;
  int64_t count = 0;
  int rc = 0;
  while (count < max && pos <= n) {
    rc = rb_re_exec(re, s, n, pos, ov);
    if (rc <= 0) break;
    bool accept = true;
    if (ov[1] == pos) {
      if (ov[0] == prev_end) accept = false;
      size_t w = rune_width_at(s, n, pos);
      pos = w == 0 ? n + 1 : pos + w;
    } else {
      pos = ov[1];
    }
    prev_end = ov[1];
    if (accept) {
      deliver(ud, ov);
      count++;
    }
  }
  free(ov);
  return rc < 0 ? -1 : 0;
}

static rego_bi_status bi_is_valid(rego_bctx *ctx, rv *const *args, rv **out) {
  (void)ctx;
  if (!rv_is(args[0], RV_STRING)) return (*out = RV_FALSE), REGO_BI_OK;
  char err[400];
  rb_re *re = rb_re_get(args[0]->u.str.s, args[0]->u.str.len, 0, 0, err, sizeof err);
  *out = rv_bool(re != NULL);
  rb_re_release(re);
  return REGO_BI_OK;
}

static rego_bi_status bi_match(rego_bctx *ctx, rv *const *args, rv **out) {
  RB_EXPECT(ctx, args, 0, RV_STRING, "string");
  RB_EXPECT(ctx, args, 1, RV_STRING, "string");
  rb_re *re;
  rego_bi_status st = get_re(ctx, args[0], &re);
  if (st) return st;
  size_t *ov = rv_alloc(ctx->arena, 2 * ((size_t)re->groups + 1) * sizeof(size_t));
  int rc = rb_re_exec(re, args[1]->u.str.s, args[1]->u.str.len, 0, ov);
  rb_re_release(re);
  if (rc < 0) return limit_error(ctx);
  *out = rv_bool(rc == 1);
  return REGO_BI_OK;
}

static rego_bi_status bi_template_match(rego_bctx *ctx, rv *const *args, rv **out) {
  for (int i = 0; i < 4; i++)
    RB_EXPECT(ctx, args, i, RV_STRING, "string");
  if (args[2]->u.str.len != 1)
    return rego_bi_error(ctx, "start delimiter has to be exactly one character long but is %zu long",
                         args[2]->u.str.len);
  if (args[3]->u.str.len != 1)
    return rego_bi_error(ctx, "end delimiter has to be exactly one character long but is %zu long",
                         args[3]->u.str.len);
  char err[400];
  rb_re *re = rb_re_get(args[0]->u.str.s, args[0]->u.str.len, args[2]->u.str.s[0], args[3]->u.str.s[0], err,
                        sizeof err);
  if (!re) return rego_bi_error(ctx, "%s", err);
  size_t *ov = rv_alloc(ctx->arena, 2 * ((size_t)re->groups + 1) * sizeof(size_t));
  int rc = rb_re_exec(re, args[1]->u.str.s, args[1]->u.str.len, 0, ov);
  rb_re_release(re);
  if (rc < 0) return limit_error(ctx);
  *out = rv_bool(rc == 1);
  return REGO_BI_OK;
}

typedef struct {
  rego_bctx *ctx;
  const char *s;
  rv_vec v;
  uint32_t groups;
  bool submatch;
} collect_ud;

static void collect(void *ud, const size_t *ov) {
  collect_ud *c = ud;
  if (!c->submatch) {
    rv_vec_push(c->ctx->arena, &c->v, rv_string(c->ctx->arena, c->s + ov[0], ov[1] - ov[0]));
    return;
  }
  rv **items = rv_alloc(c->ctx->arena, ((size_t)c->groups + 1) * sizeof(rv *));
  for (uint32_t g = 0; g <= c->groups; g++)
    items[g] = ov[2 * g] == SIZE_MAX ? &rv_empty_str_v
                                     : rv_string(c->ctx->arena, c->s + ov[2 * g], ov[2 * g + 1] - ov[2 * g]);
  rv_vec_push(c->ctx->arena, &c->v, rv_array(c->ctx->arena, items, (size_t)c->groups + 1));
}

static rego_bi_status find(rego_bctx *ctx, rv *const *args, rv **out, bool submatch) {
  RB_EXPECT(ctx, args, 0, RV_STRING, "string");
  RB_EXPECT(ctx, args, 1, RV_STRING, "string");
  int64_t n;
  rego_bi_status st = rb_int_operand(ctx, args, 2, &n);
  if (st) return st;
  rb_re *re;
  if ((st = get_re(ctx, args[0], &re))) return st;
  collect_ud c = {ctx, args[1]->u.str.s, {0}, re->groups, submatch};
  int rc = all_matches(re, args[1]->u.str.s, args[1]->u.str.len, n, collect, &c);
  rb_re_release(re);
  if (rc < 0) return limit_error(ctx);
  *out = rv_array(ctx->arena, c.v.items, c.v.len);
  return REGO_BI_OK;
}

static rego_bi_status bi_find_n(rego_bctx *ctx, rv *const *args, rv **out) {
  return find(ctx, args, out, false);
}
static rego_bi_status bi_find_all_submatch(rego_bctx *ctx, rv *const *args, rv **out) {
  return find(ctx, args, out, true);
}

typedef struct {
  size_t *spans;
  size_t n, cap;
} span_ud;

static void collect_span(void *ud, const size_t *ov) {
  span_ud *s = ud;
  if (s->n + 2 > s->cap) {
    size_t nc = s->cap ? s->cap * 2 : 16;
    size_t *np = realloc(s->spans, nc * sizeof(size_t));
    if (!np) return;
    s->spans = np;
    s->cap = nc;
  }
  s->spans[s->n++] = ov[0];
  s->spans[s->n++] = ov[1];
}

static rego_bi_status bi_split(rego_bctx *ctx, rv *const *args, rv **out) {
  RB_EXPECT(ctx, args, 0, RV_STRING, "string");
  RB_EXPECT(ctx, args, 1, RV_STRING, "string");
  rb_re *re;
  rego_bi_status st = get_re(ctx, args[0], &re);
  if (st) return st;
  const char *s = args[1]->u.str.s;
  size_t n = args[1]->u.str.len;
  if (args[0]->u.str.len > 0 && n == 0) {
    rb_re_release(re);
    rv *one = &rv_empty_str_v;
    *out = rv_array(ctx->arena, &one, 1);
    return REGO_BI_OK;
  }
  span_ud sp = {0};
  int rc = all_matches(re, s, n, -1, collect_span, &sp);
  rb_re_release(re);
  if (rc < 0) {
    free(sp.spans);
    return limit_error(ctx);
  }
  rv_vec v = {0};
  size_t beg = 0, end = 0;
  for (size_t i = 0; i < sp.n; i += 2) {
    end = sp.spans[i];
    if (sp.spans[i + 1] != 0) rv_vec_push(ctx->arena, &v, rv_string(ctx->arena, s + beg, end - beg));
    beg = sp.spans[i + 1];
  }
  if (end != n) rv_vec_push(ctx->arena, &v, rv_string(ctx->arena, s + beg, n - beg));
  free(sp.spans);
  *out = rv_array(ctx->arena, v.items, v.len);
  return REGO_BI_OK;
}

/* Go's Regexp.Expand of template for one match. */
static void expand(tr_buf *b, const rb_re *re, const char *tmpl, size_t tn, const char *src,
                   const size_t *ov) {
  size_t i = 0;
  while (i < tn) {
    const char *d = memchr(tmpl + i, '$', tn - i);
    if (!d) {
      tr_buf_append(b, tmpl + i, tn - i);
      break;
    }
    size_t k = (size_t)(d - tmpl);
    tr_buf_append(b, tmpl + i, k - i);
    i = k + 1;
    if (i < tn && tmpl[i] == '$') {
      tr_buf_append_byte(b, '$');
      i++;
      continue;
    }
    const char *name;
    size_t nlen;
    size_t next;
    if (i < tn && tmpl[i] == '{') {
      size_t j = i + 1;
      while (j < tn && is_word(tmpl[j]))
        j++;
      if (j == i + 1 || j >= tn || tmpl[j] != '}') {
        tr_buf_append_byte(b, '$'); /* malformed: keep the dollar */
        continue;
      }
      name = tmpl + i + 1;
      nlen = j - i - 1;
      next = j + 1;
    } else {
      size_t j = i;
      while (j < tn && is_word(tmpl[j]))
        j++;
      if (j == i) {
        tr_buf_append_byte(b, '$');
        continue;
      }
      name = tmpl + i;
      nlen = j - i;
      next = j;
    }
    i = next;
    long g = -1;
    bool numeric = true;
    for (size_t q = 0; q < nlen; q++)
      if (!isdigit((unsigned char)name[q])) numeric = false;
    if (numeric) {
      g = 0;
      for (size_t q = 0; q < nlen && g <= 100000; q++)
        g = g * 10 + (name[q] - '0');
    } else {
      g = rb_re_group_index(re, name, nlen);
    }
    if (g >= 0 && g <= (long)re->groups && ov[2 * g] != SIZE_MAX)
      tr_buf_append(b, src + ov[2 * g], ov[2 * g + 1] - ov[2 * g]);
  }
}

static rego_bi_status bi_replace(rego_bctx *ctx, rv *const *args, rv **out) {
  for (int i = 0; i < 3; i++)
    RB_EXPECT(ctx, args, i, RV_STRING, "string");
  rb_re *re;
  rego_bi_status st = get_re(ctx, args[1], &re);
  if (st) return st;
  const char *s = args[0]->u.str.s;
  size_t n = args[0]->u.str.len;
  size_t *ov = malloc(2 * ((size_t)re->groups + 1) * sizeof(size_t));
  tr_buf b = TR_BUF_INIT;
  size_t last_end = 0, pos = 0;
  int rc = 0;
  while (ov && pos <= n) {
    rc = rb_re_exec(re, s, n, pos, ov);
    if (rc <= 0) break;
    tr_buf_append(&b, s + last_end, ov[0] - last_end);
    if (ov[1] > last_end || ov[0] == 0) expand(&b, re, args[2]->u.str.s, args[2]->u.str.len, s, ov);
    last_end = ov[1];
    size_t w = rune_width_at(s, n, pos);
    if (pos + w > ov[1])
      pos += w;
    else if (pos + 1 > ov[1])
      pos++;
    else
      pos = ov[1];
  }
  free(ov);
  rb_re_release(re);
  if (rc < 0 || !ov) {
    tr_buf_free(&b);
    return limit_error(ctx);
  }
  tr_buf_append(&b, s + last_end, n - last_end);
  if (b.len == n && memcmp(b.data, s, n) == 0)
    *out = args[0];
  else
    *out = rv_string(ctx->arena, b.data ? (const char *)b.data : "", b.len);
  tr_buf_free(&b);
  return REGO_BI_OK;
}

const rego_builtin_def rego_builtins_regex[] = {
    {"regex.is_valid", 1, bi_is_valid, 0},
    {"regex.match", 2, bi_match, 0},
    {"regex.template_match", 4, bi_template_match, 0},
    {"regex.split", 2, bi_split, 0},
    {"regex.find_n", 3, bi_find_n, 0},
    {"regex.find_all_string_submatch_n", 3, bi_find_all_submatch, 0},
    {"regex.replace", 3, bi_replace, 0},
    {NULL, 0, NULL, 0},
};
