/* kv_redis.c — the Redis backend (hiredis), shared by replicas.
 *
 * Layout as upstream: key "<namespace>:<key>", value = raw bytes. Namespaces
 * never contain ':' (kv.c), so "<ns>:*" matches exactly one namespace.
 *   set            SET k v [PXAT ms]
 *   overwrite=no   SET k v NX [PXAT ms]   (an expired key is gone already)
 *   cas            one Lua script (EVAL): compare then SET, atomically
 *   delete         DEL
 *   list           SCAN MATCH "<ns>:*" (never KEYS: it blocks the server)
 * Expiry is Redis's own (PXAT from our clock), so purge has nothing to do.
 * Connections: a pool (`pool_size`, default 4), one thread per connection at
 * a time. A pooled connection the server has closed (its socket is readable
 * while idle) is replaced before the command is sent, which is always safe.
 * A connection that breaks after the command was sent leaves its outcome
 * unknown (it may have run, only the reply being lost): idempotent commands
 * (GET, SET, DEL, SCAN) are then retried once on a fresh connection; the
 * conditional writes (cas, SET NX) are not, since a retry of one that ran
 * reports a conflict with its own write and a read-modify-write caller
 * would apply its change twice. They fail with TR_E_IO saying the outcome
 * is unknown (docs/storage.md). */
#include <hiredis/hiredis.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>

#include "kv/kv_internal.h"

typedef struct {
  char *host, *user, *password, *socket;
  int port, db;
  int64_t timeout_ms;
  tr_kv_pool pool;
} rds;

static void rds_conn_close(void *c) { redisFree(c); }

/* redis://[[user]:password@]host[:port][/db] or unix:///path[?db=N]; a
 * password without ':' (redis://secret@host) is taken as the password. */
static tr_err *parse_url(rds *s, const char *url) {
  if (!strncasecmp(url, "rediss://", 9))
    return tr_err_new(TR_E_UNSUPPORTED, "rediss:// (TLS) is not supported");
  if (!strncasecmp(url, "unix://", 7)) {
    const char *path = url + 7;
    const char *q = strchr(path, '?');
    s->socket = q ? strndup(path, (size_t)(q - path)) : strdup(path);
    if (q && !strncmp(q, "?db=", 4)) s->db = atoi(q + 4);
    return s->socket ? NULL : tr_err_new(TR_E_NOMEM, "out of memory");
  }
  if (strncasecmp(url, "redis://", 8) != 0)
    return tr_err_new(TR_E_INVALID, "field `url`: expected redis://host:port");
  const char *p = url + 8;
  const char *at = strrchr(p, '@');
  if (at) {
    const char *colon = memchr(p, ':', (size_t)(at - p));
    const char *pw = colon ? colon + 1 : p;
    s->password = strndup(pw, (size_t)(at - pw));
    if (colon && colon > p) s->user = strndup(p, (size_t)(colon - p)); /* Redis 6 ACL user */
    p = at + 1;
  }
  const char *end = p + strcspn(p, ":/");
  s->host = strndup(p, (size_t)(end - p));
  s->port = 6379;
  if (*end == ':') {
    char *e2;
    long port = strtol(end + 1, &e2, 10);
    if (port < 1 || port > 65535 || (*e2 && *e2 != '/'))
      return tr_err_new(TR_E_INVALID, "field `url`: bad port");
    s->port = (int)port;
    end = e2;
  }
  if (*end == '/' && end[1]) s->db = atoi(end + 1);
  if (!s->host || !*s->host) return tr_err_new(TR_E_INVALID, "field `url`: no host");
  return NULL;
}

static tr_err *reply_err(redisContext *c, redisReply *r, const char *what) {
  if (!r) return tr_err_new(TR_E_IO, "Redis %s: %s", what, c->errstr[0] ? c->errstr : "no reply");
  if (r->type == REDIS_REPLY_ERROR) return tr_err_new(TR_E_IO, "Redis %s: %.*s", what, (int)r->len, r->str);
  return NULL;
}

static tr_err *connect_one(rds *s, redisContext **out) {
  struct timeval tv = {(time_t)(s->timeout_ms / 1000), (suseconds_t)(s->timeout_ms % 1000) * 1000};
  redisContext *c =
      s->socket ? redisConnectUnixWithTimeout(s->socket, tv) : redisConnectWithTimeout(s->host, s->port, tv);
  if (!c) return tr_err_new(TR_E_NOMEM, "out of memory");
  if (c->err) {
    tr_err *e = tr_err_new(TR_E_IO, "cannot connect to Redis at %s:%d: %s", s->socket ? s->socket : s->host,
                           s->socket ? 0 : s->port, c->errstr);
    redisFree(c);
    return e;
  }
  redisSetTimeout(c, tv);
  tr_err *e = NULL;
  if (s->password) {
    redisReply *r = s->user ? redisCommand(c, "AUTH %s %s", s->user, s->password)
                            : redisCommand(c, "AUTH %s", s->password);
    e = reply_err(c, r, "AUTH");
    if (r) freeReplyObject(r);
  }
  if (!e && s->db) {
    redisReply *r = redisCommand(c, "SELECT %d", s->db);
    e = reply_err(c, r, "SELECT");
    if (r) freeReplyObject(r);
  }
  if (e) {
    redisFree(c);
    return e;
  }
  *out = c;
  return NULL;
}

static void rds_free(rds *s) {
  free(s->host);
  free(s->user);
  free(s->password);
  free(s->socket);
  free(s);
}

static tr_err *rds_open(const json_t *config, void **state) {
  const char *url = "redis://127.0.0.1:6379";
  int64_t pool = 4, timeout = 5000;
  tr_err *e;
  if ((e = tr_kv_cfg_string(config, "url", &url)) || (e = tr_kv_cfg_int(config, "pool_size", &pool)) ||
      (e = tr_kv_cfg_int(config, "timeout_ms", &timeout)))
    return e;
  if (pool < 1 || pool > 256) return tr_err_new(TR_E_INVALID, "field `pool_size`: must be 1..256");
  if (timeout < 1 || timeout > 600000) return tr_err_new(TR_E_INVALID, "field `timeout_ms`: out of range");
  const char *env = getenv("REDIS_URL"); /* upstream: the environment wins */
  if (env && *env) url = env;
  rds *s = calloc(1, sizeof *s);
  if (!s) return tr_err_new(TR_E_NOMEM, "out of memory");
  s->timeout_ms = timeout;
  e = parse_url(s, url);
  if (!e) e = tr_kv_pool_init(&s->pool, (size_t)pool);
  if (e) {
    rds_free(s);
    return e;
  }
  redisContext *c;
  e = connect_one(s, &c); /* fail at start-up on a wrong address */
  if (e) {
    tr_kv_pool_destroy(&s->pool, rds_conn_close);
    rds_free(s);
    return e;
  }
  void *unused;
  tr_kv_pool_release(&s->pool, tr_kv_pool_acquire(&s->pool, &unused), c);
  *state = s;
  return NULL;
}

static void rds_close(void *state) {
  rds *s = state;
  tr_kv_pool_destroy(&s->pool, rds_conn_close);
  rds_free(s);
}

/* True when an idle connection's socket is readable: Redis sends nothing
 * unrequested (RESP2), so that is the server closing it (restart, timeout,
 * CLIENT KILL) or an error it sent before closing. */
static bool idle_link_lost(redisContext *c) {
  struct pollfd pf = {.fd = c->fd, .events = POLLIN};
  return c->err || pf.fd < 0 || poll(&pf, 1, 0) != 0;
}

/* Runs one command (argv form) on a pooled connection. A connection found
 * closed before sending is replaced; one that breaks after sending is
 * retried once only when `retry_after_send` (idempotent commands, see the
 * top of the file). *out must be freed with freeReplyObject. */
static tr_err *command(rds *s, int argc, const char **argv, const size_t *lens, bool retry_after_send,
                       redisReply **out) {
  void *cv;
  size_t slot = tr_kv_pool_acquire(&s->pool, &cv);
  redisContext *c = cv;
  tr_err *e = NULL;
  if (c && idle_link_lost(c)) {
    redisFree(c);
    c = NULL;
  }
  for (int attempt = 0; attempt < 2; attempt++) {
    tr_err_free(e);
    e = NULL;
    if (!c && (e = connect_one(s, &c))) break;
    redisReply *r = redisCommandArgv(c, argc, argv, lens);
    if (r) {
      e = reply_err(c, r, argv[0]);
      if (e)
        freeReplyObject(r);
      else
        *out = r;
      break;
    }
    e = reply_err(c, NULL, argv[0]);
    redisFree(c); /* broken link: drop it */
    c = NULL;
    if (!retry_after_send) {
      e = tr_err_wrap(tr_err_recode(e, TR_E_IO),
                      "Redis: the connection broke after the conditional write was sent, so whether it was "
                      "applied is unknown (not retried: a retry could report a conflict with its own write)");
      break;
    }
  }
  tr_kv_pool_release(&s->pool, slot, c);
  return e;
}

static char *full_key(const char *ns, const char *key) {
  char *k;
  return asprintf(&k, "%s:%s", ns, key) < 0 ? NULL : k;
}

static tr_err *rds_set(void *state, const char *ns, const char *key, const void *val, size_t len,
                       bool overwrite, int64_t expires_at, int64_t now) {
  (void)now;
  char *k = full_key(ns, key);
  if (!k) return tr_err_new(TR_E_NOMEM, "out of memory");
  char ms[24];
  snprintf(ms, sizeof ms, "%lld", (long long)expires_at * 1000);
  const char *argv[6] = {"SET", k, val};
  size_t lens[6] = {3, strlen(k), len};
  int argc = 3;
  if (!overwrite) {
    argv[argc] = "NX";
    lens[argc++] = 2;
  }
  if (expires_at) {
    argv[argc] = "PXAT";
    lens[argc++] = 4;
    argv[argc] = ms;
    lens[argc++] = strlen(ms);
  }
  redisReply *r;
  tr_err *e = command(state, argc, argv, lens, overwrite, &r);
  free(k);
  if (e) return e;
  bool skipped = r->type == REDIS_REPLY_NIL;
  freeReplyObject(r);
  return skipped ? tr_err_new(TR_E_CONFLICT, "key already exists") : NULL;
}

static tr_err *rds_get(void *state, const char *ns, const char *key, int64_t now, uint8_t **val,
                       size_t *len) {
  (void)now;
  char *k = full_key(ns, key);
  if (!k) return tr_err_new(TR_E_NOMEM, "out of memory");
  const char *argv[] = {"GET", k};
  size_t lens[] = {3, strlen(k)};
  redisReply *r;
  tr_err *e = command(state, 2, argv, lens, true, &r);
  free(k);
  if (e) return e;
  if (r->type == REDIS_REPLY_STRING)
    e = tr_kv_dup_value(r->str, r->len, val, len);
  else if (r->type == REDIS_REPLY_NIL)
    e = tr_err_new(TR_E_NOTFOUND, "not found");
  else
    e = tr_err_new(TR_E_IO, "Redis GET: unexpected reply type %d", r->type);
  freeReplyObject(r);
  return e;
}

/* KEYS[1]; ARGV: mode ("absent"|"equal"), expected, new value, pxat ms ("0" = none) */
static const char CAS_SCRIPT[] = "local cur = redis.call('GET', KEYS[1]) "
                                 "if ARGV[1] == 'absent' then if cur then return 0 end "
                                 "elseif cur ~= ARGV[2] then return 0 end "
                                 "if ARGV[4] == '0' then redis.call('SET', KEYS[1], ARGV[3]) "
                                 "else redis.call('SET', KEYS[1], ARGV[3], 'PXAT', ARGV[4]) end "
                                 "return 1";

static tr_err *rds_cas(void *state, const char *ns, const char *key, const void *expected, size_t elen,
                       const void *val, size_t len, int64_t expires_at, int64_t now) {
  (void)now;
  char *k = full_key(ns, key);
  if (!k) return tr_err_new(TR_E_NOMEM, "out of memory");
  char ms[24];
  snprintf(ms, sizeof ms, "%lld", (long long)expires_at * 1000);
  const char *mode = expected ? "equal" : "absent";
  const char *argv[] = {"EVAL", CAS_SCRIPT, "1", k, mode, expected ? expected : "", val, ms};
  size_t lens[] = {4, strlen(CAS_SCRIPT), 1, strlen(k), strlen(mode), expected ? elen : 0, len, strlen(ms)};
  redisReply *r;
  tr_err *e = command(state, 8, argv, lens, false, &r);
  free(k);
  if (e) return e;
  bool done = r->type == REDIS_REPLY_INTEGER && r->integer == 1;
  freeReplyObject(r);
  return done ? NULL : tr_err_new(TR_E_CONFLICT, "current value differs from the expected one");
}

static tr_err *rds_del(void *state, const char *ns, const char *key, int64_t now) {
  (void)now;
  char *k = full_key(ns, key);
  if (!k) return tr_err_new(TR_E_NOMEM, "out of memory");
  const char *argv[] = {"DEL", k};
  size_t lens[] = {3, strlen(k)};
  redisReply *r;
  tr_err *e = command(state, 2, argv, lens, true, &r);
  free(k);
  if (e) return e;
  bool gone = r->type == REDIS_REPLY_INTEGER && r->integer == 1;
  freeReplyObject(r);
  return gone ? NULL : tr_err_new(TR_E_NOTFOUND, "not found");
}

static tr_err *rds_list(void *state, const char *ns, int64_t now, char ***keys, size_t *nkeys) {
  (void)now;
  char *pattern = full_key(ns, "*");
  if (!pattern) return tr_err_new(TR_E_NOMEM, "out of memory");
  size_t plen = strlen(ns) + 1;
  char cursor[32] = "0";
  tr_kv_keylist l = {0};
  tr_err *e = NULL;
  do {
    const char *argv[] = {"SCAN", cursor, "MATCH", pattern, "COUNT", "1000"};
    size_t lens[] = {4, strlen(cursor), 5, strlen(pattern), 5, 4};
    redisReply *r;
    e = command(state, 6, argv, lens, true, &r);
    if (e) break;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 || r->element[0]->type != REDIS_REPLY_STRING ||
        r->element[1]->type != REDIS_REPLY_ARRAY) {
      e = tr_err_new(TR_E_IO, "Redis SCAN: unexpected reply");
    } else {
      snprintf(cursor, sizeof cursor, "%.*s", (int)r->element[0]->len, r->element[0]->str);
      redisReply *arr = r->element[1];
      for (size_t i = 0; i < arr->elements && !e; i++) {
        redisReply *k = arr->element[i];
        if (k->type == REDIS_REPLY_STRING && k->len > plen &&
            !tr_kv_keylist_add(&l, k->str + plen, k->len - plen))
          e = tr_err_new(TR_E_NOMEM, "out of memory");
      }
    }
    freeReplyObject(r);
  } while (!e && strcmp(cursor, "0") != 0);
  free(pattern);
  if (e) {
    tr_kv_keylist_free(&l);
    return e;
  }
  /* SCAN may return a key twice when the table is rehashed meanwhile */
  tr_kv_keylist_finish(&l, keys, nkeys);
  size_t w = 0;
  for (size_t i = 0; i < *nkeys; i++) {
    if (w && !strcmp((*keys)[w - 1], (*keys)[i]))
      free((*keys)[i]);
    else
      (*keys)[w++] = (*keys)[i];
  }
  *nkeys = w;
  return NULL;
}

static tr_err *rds_purge(void *state, int64_t now, size_t *removed) {
  (void)state;
  (void)now;
  *removed = 0; /* Redis expires keys itself */
  return NULL;
}

const tr_kv_backend tr_kv_redis_backend = {
    .storage_type = "Redis",
    .alias = "redis",
    .server_clock = true,
    .open = rds_open,
    .close = rds_close,
    .set = rds_set,
    .get = rds_get,
    .cas = rds_cas,
    .del = rds_del,
    .list = rds_list,
    .purge = rds_purge,
};
