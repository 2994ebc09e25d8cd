/* as_policy.c — AS policies: stored as `<id>.rego` in KV namespace
 * attestation_service_policy (upstream's layout, so stores can be shared),
 * compiled once and cached.
 *
 * Cache design: the store is the source of truth. An evaluation reads the
 * policy text from the KV (a memory copy, or one small file read) and looks
 * its id up in the cache; the cached compiled policy is reused only when its
 * text is byte-identical. So a `set` through this AS, a `set` by another
 * replica sharing the store, or an edit of a LocalFs file are all picked up
 * on the next evaluation, and nothing stale is ever evaluated. Compiled
 * policies are reference counted so an entry replaced while an evaluation
 * uses it stays alive until released. One mutex guards the cache; compiling
 * happens outside it. */
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "as/as_internal.h"
#include "core/encoding.h"
#include "core/log.h"

typedef struct {
  char *id;
  char *text;
  size_t len;
  tr_as_compiled *c;
} cache_entry;

struct tr_as_policy_store {
  tr_kv *kv;
  pthread_mutex_t mu;
  cache_entry *entries;
  size_t n;
};

static const rego_host_decl hosts[] = {{"query_reference_value", 1}};

static void compiled_unref_locked(tr_as_compiled *c) {
  if (c && --c->refs == 0) {
    rego_policy_free(c->policy);
    free(c);
  }
}

tr_err *tr_as_policy_store_new(tr_kv *kv, tr_as_policy_store **out) {
  tr_as_policy_store *s = calloc(1, sizeof(*s));
  if (!s) return tr_err_new(TR_E_NOMEM, "out of memory");
  s->kv = kv;
  pthread_mutex_init(&s->mu, NULL);
  *out = s;
  return NULL;
}

void tr_as_policy_store_free(tr_as_policy_store *s) {
  if (!s) return;
  for (size_t i = 0; i < s->n; i++) {
    free(s->entries[i].id);
    free(s->entries[i].text);
    compiled_unref_locked(s->entries[i].c);
  }
  free(s->entries);
  pthread_mutex_destroy(&s->mu);
  free(s);
}

/* Upstream's key rule for policies: ASCII letters, digits, '-', '_', '.';
 * stricter than the KV's (which also allows '/' and ':' for RVPS names). */
static tr_err *check_id(const char *id) {
  if (!id || !*id) return tr_err_new(TR_E_INVALID, "policy id must not be empty");
  size_t n = strlen(id);
  if (n > 200) return tr_err_new(TR_E_INVALID, "policy id longer than 200 bytes");
  for (size_t i = 0; i < n; i++) {
    char c = id[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
          c == '_' || c == '.'))
      return tr_err_new(TR_E_INVALID,
                        "policy id `%.64s`: character 0x%02x not allowed (ASCII letters, digits, "
                        "'-', '_', '.')",
                        id, (unsigned char)c);
  }
  if (strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
    return tr_err_new(TR_E_INVALID, "policy id `%s` is reserved", id);
  return NULL;
}

static void key_of(const char *id, char *key, size_t n) { snprintf(key, n, "%s.rego", id); }

static tr_err *compile(const char *id, const char *text, rego_policy **out) {
  char name[300];
  snprintf(name, sizeof(name), "%s.rego", id);
  rego_module_src m = {name, text};
  rego_compile_opts o = {.hosts = hosts, .nhosts = 1};
  tr_err *e = rego_compile(&m, 1, &o, out);
  return e ? tr_err_wrap(tr_err_recode(e, TR_E_INVALID), "policy `%s` does not compile", id) : NULL;
}

static void sha384_hex(const char *text, size_t len, char hex[97]) {
  uint8_t d[TR_DIGEST_MAX];
  size_t n = 0;
  tr_err *e = tr_digest(TR_SHA384, text, len, d, &n);
  if (e) {
    tr_err_free(e);
    hex[0] = 0;
    return;
  }
  static const char *x = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    hex[2 * i] = x[d[i] >> 4];
    hex[2 * i + 1] = x[d[i] & 15];
  }
  hex[2 * n] = 0;
}

static tr_err *kv_len_checked_max(size_t len) {
  return len > 4 * 1024 * 1024 ? tr_err_new(TR_E_LIMIT, "policy larger than 4 MiB") : NULL;
}

static tr_err *store(tr_as_policy_store *s, const char *id, const char *text, bool overwrite) {
  tr_err *e = check_id(id);
  if (e) return e;
  size_t len = strlen(text);
  if ((e = kv_len_checked_max(len))) return e;
  rego_policy *p = NULL;
  if ((e = compile(id, text, &p))) return e;
  rego_policy_free(p);
  char key[300];
  key_of(id, key, sizeof(key));
  return tr_kv_set(s->kv, TR_AS_POLICY_NS, key, text, len, overwrite, 0);
}

tr_err *tr_as_policy_install_default(tr_as_policy_store *s, const char *id, const char *text) {
  tr_err *e = store(s, id, text, false);
  if (e && tr_err_code(e) == TR_E_CONFLICT) {
    tr_err_free(e); /* an existing (possibly edited) copy wins, as upstream */
    return NULL;
  }
  return e ? tr_err_wrap(e, "install default policy `%s`", id) : NULL;
}

tr_err *tr_as_policy_set(tr_as_policy_store *s, const char *id, const char *text) {
  tr_err *e = store(s, id, text, true);
  if (e) return tr_err_wrap(e, "set policy");
  /* drop the cached copy now (the text check would catch it anyway) */
  pthread_mutex_lock(&s->mu);
  for (size_t i = 0; i < s->n; i++)
    if (strcmp(s->entries[i].id, id) == 0) {
      free(s->entries[i].text);
      s->entries[i].text = NULL;
      s->entries[i].len = 0;
      compiled_unref_locked(s->entries[i].c);
      s->entries[i].c = NULL;
    }
  pthread_mutex_unlock(&s->mu);
  return NULL;
}

tr_err *tr_as_policy_get_text(tr_as_policy_store *s, const char *id, char **text) {
  *text = NULL;
  tr_err *e = check_id(id);
  if (e) return e;
  char key[300];
  key_of(id, key, sizeof(key));
  uint8_t *v = NULL;
  size_t len = 0;
  e = tr_kv_get(s->kv, TR_AS_POLICY_NS, key, &v, &len);
  if (e) {
    if (tr_err_code(e) == TR_E_NOTFOUND) {
      tr_err_free(e);
      return tr_err_new(TR_E_NOTFOUND, "policy `%s` not found", id);
    }
    return tr_err_wrap(e, "read policy `%s`", id);
  }
  if (strlen((char *)v) != len) {
    free(v);
    return tr_err_new(TR_E_INVALID, "stored policy `%s` contains NUL", id);
  }
  *text = (char *)v;
  return NULL;
}

tr_err *tr_as_policy_list(tr_as_policy_store *s, json_t **out) {
  *out = NULL;
  char **keys = NULL;
  size_t n = 0;
  tr_err *e = tr_kv_list(s->kv, TR_AS_POLICY_NS, &keys, &n);
  if (e) return tr_err_wrap(e, "list policies");
  json_t *o = json_object();
  for (size_t i = 0; o && i < n; i++) {
    size_t kl = strlen(keys[i]);
    if (kl <= 5 || strcmp(keys[i] + kl - 5, ".rego") != 0) continue;
    char id[300];
    snprintf(id, sizeof(id), "%.*s", (int)(kl - 5), keys[i]);
    char *text = NULL;
    tr_err *ge = tr_as_policy_get_text(s, id, &text);
    if (ge) { /* deleted meanwhile */
      tr_err_free(ge);
      continue;
    }
    char hex[97];
    sha384_hex(text, strlen(text), hex);
    free(text);
    json_object_set_new(o, id, json_string(hex));
  }
  tr_kv_keys_free(keys, n);
  if (!o) return tr_err_new(TR_E_NOMEM, "out of memory");
  *out = o;
  return NULL;
}

tr_err *tr_as_policy_delete(tr_as_policy_store *s, const char *id) {
  tr_err *e = check_id(id);
  if (e) return e;
  char key[300];
  key_of(id, key, sizeof(key));
  e = tr_kv_delete(s->kv, TR_AS_POLICY_NS, key);
  if (e && tr_err_code(e) == TR_E_NOTFOUND) {
    tr_err_free(e);
    return tr_err_new(TR_E_NOTFOUND, "policy `%s` not found", id);
  }
  if (e) return e;
  /* drop the cache entry (an evaluation still using it keeps its reference) */
  pthread_mutex_lock(&s->mu);
  for (size_t i = 0; i < s->n; i++)
    if (strcmp(s->entries[i].id, id) == 0) {
      free(s->entries[i].id);
      free(s->entries[i].text);
      compiled_unref_locked(s->entries[i].c);
      s->entries[i] = s->entries[--s->n];
      break;
    }
  pthread_mutex_unlock(&s->mu);
  return NULL;
}

size_t tr_as_policy_cache_len(tr_as_policy_store *s) {
  pthread_mutex_lock(&s->mu);
  size_t n = 0;
  for (size_t i = 0; i < s->n; i++)
    if (s->entries[i].c) n++;
  pthread_mutex_unlock(&s->mu);
  return n;
}

tr_err *tr_as_policy_acquire(tr_as_policy_store *s, const char *id, tr_as_compiled **out) {
  *out = NULL;
  char *text = NULL;
  /* a bad id or an unknown policy is the request's problem; a stored copy
   * that cannot be used (NUL inside) is the server's */
  tr_err *e = check_id(id);
  if (e) return e;
  if ((e = tr_as_policy_get_text(s, id, &text)))
    return tr_err_code(e) == TR_E_INVALID ? tr_err_recode(e, TR_E_INTERNAL) : e;
  size_t len = strlen(text);
  pthread_mutex_lock(&s->mu);
  for (size_t i = 0; i < s->n; i++) {
    cache_entry *ce = &s->entries[i];
    if (strcmp(ce->id, id) == 0 && ce->c && ce->len == len && memcmp(ce->text, text, len) == 0) {
      ce->c->refs++;
      *out = ce->c;
      pthread_mutex_unlock(&s->mu);
      free(text);
      return NULL;
    }
  }
  pthread_mutex_unlock(&s->mu);

  tr_as_compiled *c = calloc(1, sizeof(*c));
  if (!c) {
    free(text);
    return tr_err_new(TR_E_NOMEM, "out of memory");
  }
  if ((e = compile(id, text, &c->policy))) {
    /* it compiled when it was set: the stored copy was changed behind our
     * back (edited file, another writer) — the server's fault, not the
     * request's */
    free(c);
    free(text);
    return tr_err_wrap(tr_err_recode(e, TR_E_INTERNAL), "stored policy");
  }
  sha384_hex(text, len, c->hash);
  c->refs = 2; /* the cache's and the caller's */

  pthread_mutex_lock(&s->mu);
  cache_entry *ce = NULL;
  for (size_t i = 0; i < s->n; i++)
    if (strcmp(s->entries[i].id, id) == 0) ce = &s->entries[i];
  if (!ce) {
    cache_entry *n = realloc(s->entries, (s->n + 1) * sizeof(*n));
    char *idc = strdup(id);
    if (!n || !idc) {
      if (n) s->entries = n;
      free(idc);
      c->refs = 1; /* not cached: the caller's reference only */
      pthread_mutex_unlock(&s->mu);
      free(text);
      *out = c;
      return NULL;
    }
    s->entries = n;
    ce = &s->entries[s->n++];
    memset(ce, 0, sizeof(*ce));
    ce->id = idc;
  }
  free(ce->text);
  compiled_unref_locked(ce->c);
  ce->text = text;
  ce->len = len;
  ce->c = c;
  pthread_mutex_unlock(&s->mu);
  *out = c;
  return NULL;
}

void tr_as_policy_release(tr_as_policy_store *s, tr_as_compiled *c) {
  if (!c) return;
  pthread_mutex_lock(&s->mu);
  compiled_unref_locked(c);
  pthread_mutex_unlock(&s->mu);
}
