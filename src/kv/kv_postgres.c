/* kv_postgres.c — the Postgres backend (libpq), shared by replicas.
 *
 * Layout as upstream: one table per namespace, named after it,
 *   CREATE TABLE <ns> (value BYTEA, key TEXT PRIMARY KEY)
 * (the Helm chart's postgres-initkv.sql creates exactly these), plus one
 * column of ours, `expires_at BIGINT` (unix seconds, NULL = never), added
 * with ADD COLUMN IF NOT EXISTS so that tables created by upstream keep
 * working and upstream keeps reading ours. Tables are created on first use
 * of a namespace (cached per store).
 *
 * Every decision is one statement, so it is atomic across replicas:
 *   overwrite      INSERT .. ON CONFLICT (key) DO UPDATE
 *   overwrite=no   INSERT .. ON CONFLICT (key) DO UPDATE .. WHERE <expired>
 *                  (0 rows = conflict: an expired row may be replaced)
 *   cas            UPDATE .. WHERE key = $1 AND value = $expected AND <live>
 *   delete         DELETE .. RETURNING <was live>
 * Connections: a pool (`pool_size`, default 5 as upstream), each connection
 * used by one thread at a time. Before a statement is sent, a pooled
 * connection the server has closed (restart, idle timeout: its socket is
 * readable while idle) is reset, which is always safe. A connection that
 * breaks after the statement was sent leaves its outcome unknown: the
 * statement may have committed with only the reply lost. Idempotent
 * statements (get, list, overwrite, delete, purge) are then retried once
 * on a fresh connection; compare-and-set and overwrite=false are not,
 * because a retry of one that committed would report a conflict with our
 * own write and a read-modify-write caller would apply its change twice.
 * They fail with TR_E_IO saying the outcome is unknown (docs/storage.md).
 * Identifiers are quoted with PQescapeIdentifier. */
#include <libpq-fe.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kv/kv_internal.h"

typedef struct known_ns {
  struct known_ns *next;
  char *ns;
} known_ns;

typedef struct {
  char *conninfo;      /* URL or key=value string, or NULL for params */
  const char *keys[6]; /* params form */
  char *vals[6];
  tr_kv_pool pool;
  pthread_mutex_t mu; /* guards known */
  known_ns *known;
} pg;

static void pg_conn_close(void *c) { PQfinish(c); }

static tr_err *connect_one(pg *s, PGconn **out) {
  PGconn *c =
      s->conninfo ? PQconnectdb(s->conninfo) : PQconnectdbParams(s->keys, (const char *const *)s->vals, 0);
  if (!c) return tr_err_new(TR_E_NOMEM, "out of memory");
  if (PQstatus(c) != CONNECTION_OK) {
    tr_err *e = tr_err_new(TR_E_IO, "cannot connect to PostgreSQL: %s", PQerrorMessage(c));
    PQfinish(c);
    return e;
  }
  PGresult *r = PQexec(c, "SET client_min_messages = warning");
  PQclear(r);
  *out = c;
  return NULL;
}

static void pg_free(pg *s) {
  free(s->conninfo);
  for (int i = 0; i < 6; i++)
    free(s->vals[i]);
  for (known_ns *k = s->known, *n; k; k = n) {
    n = k->next;
    free(k->ns);
    free(k);
  }
  free(s);
}

static tr_err *pg_open(const json_t *config, void **state) {
  const char *url = NULL, *conninfo = NULL, *db = "postgres", *user = "postgres", *password = NULL,
             *host = "localhost";
  int64_t port = 5432, pool = 5;
  tr_err *e;
  if ((e = tr_kv_cfg_string(config, "url", &url)) || (e = tr_kv_cfg_string(config, "conninfo", &conninfo)) ||
      (e = tr_kv_cfg_string(config, "db", &db)) || (e = tr_kv_cfg_string(config, "username", &user)) ||
      (e = tr_kv_cfg_string(config, "password", &password)) ||
      (e = tr_kv_cfg_string(config, "host", &host)) || (e = tr_kv_cfg_int(config, "port", &port)) ||
      (e = tr_kv_cfg_int(config, "pool_size", &pool)))
    return e;
  if (port < 1 || port > 65535) return tr_err_new(TR_E_INVALID, "field `port`: out of range");
  if (pool < 1 || pool > 256) return tr_err_new(TR_E_INVALID, "field `pool_size`: must be 1..256");
  const char *env = getenv("POSTGRES_URL"); /* upstream: the environment wins */
  if (env && *env) url = env;
  pg *s = calloc(1, sizeof *s);
  if (!s) return tr_err_new(TR_E_NOMEM, "out of memory");
  const char *ci = url ? url : conninfo;
  if (ci) {
    s->conninfo = strdup(ci);
  } else {
    char portbuf[16];
    snprintf(portbuf, sizeof portbuf, "%lld", (long long)port);
    const char *k[] = {"host", "port", "dbname", "user", password ? "password" : NULL};
    const char *v[] = {host, portbuf, db, user, password};
    for (int i = 0; i < 5 && k[i]; i++) {
      s->keys[i] = k[i];
      s->vals[i] = strdup(v[i]);
    }
  }
  e = tr_kv_pool_init(&s->pool, (size_t)pool);
  if (e) {
    pg_free(s);
    return e;
  }
  pthread_mutex_init(&s->mu, NULL);
  /* connect once now: a wrong address fails at start-up, as upstream */
  PGconn *c;
  e = connect_one(s, &c);
  if (e) {
    tr_kv_pool_destroy(&s->pool, pg_conn_close);
    pthread_mutex_destroy(&s->mu);
    pg_free(s);
    return e;
  }
  void *unused;
  size_t slot = tr_kv_pool_acquire(&s->pool, &unused);
  tr_kv_pool_release(&s->pool, slot, c);
  *state = s;
  return NULL;
}

static void pg_close(void *state) {
  pg *s = state;
  tr_kv_pool_destroy(&s->pool, pg_conn_close);
  pthread_mutex_destroy(&s->mu);
  pg_free(s);
}

/* One parameterised statement with up to 6 params; fmt per param: 't' text,
 * 'b' binary (value, length), 'n' int64 as text or NULL when 0, 'i' int64.
 * Results in binary format. */
typedef struct {
  const char *v[6];
  int len[6], fmt[6];
  char num[6][24];
  int n;
} params;

static void p_text(params *p, const char *s) {
  p->v[p->n] = s;
  p->len[p->n] = 0;
  p->fmt[p->n++] = 0;
}
static void p_bin(params *p, const void *b, size_t n) {
  p->v[p->n] = b ? b : "";
  p->len[p->n] = (int)n;
  p->fmt[p->n++] = 1;
}
static void p_int(params *p, int64_t x, bool null_if_zero) {
  snprintf(p->num[p->n], sizeof p->num[p->n], "%lld", (long long)x);
  p->v[p->n] = null_if_zero && !x ? NULL : p->num[p->n];
  p->len[p->n] = 0;
  p->fmt[p->n++] = 0;
}

/* True when an idle connection's socket has become readable and reading it
 * shows the link is gone: the server closed it (restart, idle timeout,
 * pg_terminate_backend). Checked before sending, when a reset is safe. */
static bool idle_link_lost(PGconn *c) {
  struct pollfd pf = {.fd = PQsocket(c), .events = POLLIN};
  if (pf.fd < 0) return true;
  if (poll(&pf, 1, 0) <= 0) return false;
  return !PQconsumeInput(c) || PQstatus(c) != CONNECTION_OK;
}

/* Runs sql on a pooled connection. A connection found broken before sending
 * is reset; one that breaks after sending is retried once only when
 * `retry_after_send` (idempotent statements, see the top of the file).
 * *res must be PQclear'd by the caller on success. */
static tr_err *run(pg *s, const char *sql, const params *p, bool retry_after_send, PGresult **res) {
  void *cv;
  size_t slot = tr_kv_pool_acquire(&s->pool, &cv);
  PGconn *c = cv;
  tr_err *e = NULL;
  for (int attempt = 0; attempt < 2; attempt++) {
    if (!c) {
      tr_err_free(e);
      e = connect_one(s, &c);
      if (e) break;
    } else if (PQstatus(c) != CONNECTION_OK || idle_link_lost(c)) {
      PQreset(c);
      if (PQstatus(c) != CONNECTION_OK) { /* nothing was sent: reporting it is all there is to do */
        tr_err_free(e);
        e = tr_err_new(TR_E_IO, "PostgreSQL: reconnecting failed: %s", PQerrorMessage(c));
        break;
      }
    }
    PGresult *r =
        PQexecParams(c, sql, p ? p->n : 0, NULL, p ? p->v : NULL, p ? p->len : NULL, p ? p->fmt : NULL, 1);
    ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
      *res = r;
      tr_err_free(e); /* the first attempt's error, when the retry succeeded */
      e = NULL;
      break;
    }
    tr_err_free(e);
    const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    const char *msg = r ? PQresultErrorMessage(r) : PQerrorMessage(c);
    if (PQstatus(c) == CONNECTION_OK) { /* a statement error, not a broken link */
      e = tr_err_new(state && !strcmp(state, "23505") ? TR_E_CONFLICT : TR_E_IO, "PostgreSQL: %s", msg);
      PQclear(r);
      break;
    }
    if (!retry_after_send) {
      e = tr_err_new(
          TR_E_IO,
          "PostgreSQL: the connection broke after the conditional write was sent, so whether it was "
          "applied is unknown (not retried: a retry could report a conflict with its own write): %s",
          msg);
      PQclear(r);
      break;
    }
    e = tr_err_new(TR_E_IO, "PostgreSQL: %s", msg);
    PQclear(r);
  }
  tr_kv_pool_release(&s->pool, slot, c);
  return e;
}

/* Makes sure the namespace's table exists (once per store); *table gets
 * the quoted identifier (caller frees). Namespaces are validated by kv.c
 * (no quotes), quoting doubles any '"' all the same. */
static tr_err *table_for(pg *s, const char *ns, char **table) {
  if (strlen(ns) > 63)
    return tr_err_new(TR_E_INVALID, "namespace `%s` longer than PostgreSQL's 63-byte identifiers", ns);
  size_t n = strlen(ns);
  char *q = malloc(2 * n + 3);
  if (!q) return tr_err_new(TR_E_NOMEM, "out of memory");
  char *w = q;
  *w++ = '"';
  for (const char *r = ns; *r; r++) {
    if (*r == '"') *w++ = '"';
    *w++ = *r;
  }
  *w++ = '"';
  *w = 0;
  pthread_mutex_lock(&s->mu);
  bool known = false;
  for (known_ns *k = s->known; k && !known; k = k->next)
    known = !strcmp(k->ns, ns);
  pthread_mutex_unlock(&s->mu);
  if (known) {
    *table = q;
    return NULL;
  }
  char *sql = NULL;
  if (asprintf(&sql,
               "CREATE TABLE IF NOT EXISTS %s (value BYTEA, key TEXT PRIMARY KEY); "
               "ALTER TABLE %s ADD COLUMN IF NOT EXISTS expires_at BIGINT",
               q, q) < 0) {
    free(q);
    return tr_err_new(TR_E_NOMEM, "out of memory");
  }
  PGresult *r = NULL;
  tr_err *e = NULL;
  /* Two replicas creating the same table race on the catalog's unique
   * index: the loser retries and finds the table. */
  for (int attempt = 0; attempt < 3; attempt++) {
    void *cv;
    size_t slot = tr_kv_pool_acquire(&s->pool, &cv);
    PGconn *c = cv;
    tr_err_free(e);
    e = c ? NULL : connect_one(s, &c);
    if (!e) {
      r = PQexec(c, sql);
      if (PQresultStatus(r) != PGRES_COMMAND_OK)
        e = tr_err_new(TR_E_IO, "PostgreSQL: create table %s: %s", q, PQresultErrorMessage(r));
      PQclear(r);
    }
    tr_kv_pool_release(&s->pool, slot, c);
    if (!e) break;
  }
  free(sql);
  if (e) {
    free(q);
    return e;
  }
  known_ns *k = calloc(1, sizeof *k);
  if (k && (k->ns = strdup(ns))) {
    pthread_mutex_lock(&s->mu);
    k->next = s->known;
    s->known = k;
    pthread_mutex_unlock(&s->mu);
  } else {
    free(k);
  }
  *table = q;
  return NULL;
}

/* Formats sql with the table name substituted for every %1$s. */
static tr_err *stmt(pg *s, const char *ns, const char *fmt, char **sql) {
  char *t = NULL;
  tr_err *e = table_for(s, ns, &t);
  if (e) return e;
  int r = asprintf(sql, fmt, t);
  free(t);
  return r < 0 ? tr_err_new(TR_E_NOMEM, "out of memory") : NULL;
}

static tr_err *exec_ns(pg *s, const char *ns, const char *fmt, const params *p, bool idempotent,
                       PGresult **res) {
  char *sql;
  tr_err *e = stmt(s, ns, fmt, &sql);
  if (e) return e;
  e = run(s, sql, p, idempotent, res);
  free(sql);
  return e;
}

static const char UPSERT[] =
    "INSERT INTO %1$s (key, value, expires_at) VALUES ($1, $2, $3) "
    "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at";
static const char INSERT_UNLESS_LIVE[] =
    "INSERT INTO %1$s (key, value, expires_at) VALUES ($1, $2, $3) "
    "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at "
    "WHERE %1$s.expires_at IS NOT NULL AND %1$s.expires_at <= $4";

static tr_err *pg_set(void *state, const char *ns, const char *key, const void *val, size_t len,
                      bool overwrite, int64_t expires_at, int64_t now) {
  params p = {0};
  p_text(&p, key);
  p_bin(&p, val, len);
  p_int(&p, expires_at, true);
  if (!overwrite) p_int(&p, now, false);
  PGresult *r;
  tr_err *e = exec_ns(state, ns, overwrite ? UPSERT : INSERT_UNLESS_LIVE, &p, overwrite, &r);
  if (e) return e;
  bool none = atoi(PQcmdTuples(r)) == 0;
  PQclear(r);
  return !overwrite && none ? tr_err_new(TR_E_CONFLICT, "key already exists") : NULL;
}

static tr_err *pg_get(void *state, const char *ns, const char *key, int64_t now, uint8_t **val, size_t *len) {
  params p = {0};
  p_text(&p, key);
  p_int(&p, now, false);
  PGresult *r;
  tr_err *e =
      exec_ns(state, ns, "SELECT value FROM %1$s WHERE key = $1 AND (expires_at IS NULL OR expires_at > $2)",
              &p, true, &r);
  if (e) return e;
  if (PQntuples(r) == 0 || PQgetisnull(r, 0, 0))
    e = tr_err_new(TR_E_NOTFOUND, "not found");
  else
    e = tr_kv_dup_value(PQgetvalue(r, 0, 0), (size_t)PQgetlength(r, 0, 0), val, len);
  PQclear(r);
  return e;
}

static tr_err *pg_cas(void *state, const char *ns, const char *key, const void *expected, size_t elen,
                      const void *val, size_t len, int64_t expires_at, int64_t now) {
  params p = {0};
  p_text(&p, key);
  p_bin(&p, val, len);
  p_int(&p, expires_at, true);
  p_int(&p, now, false);
  if (expected) p_bin(&p, expected, elen);
  PGresult *r;
  tr_err *e =
      exec_ns(state, ns,
              expected ? "UPDATE %1$s SET value = $2, expires_at = $3 WHERE key = $1 AND value = $5 AND "
                         "(expires_at IS NULL OR expires_at > $4)"
                       : INSERT_UNLESS_LIVE,
              &p, false, &r);
  if (e) return e;
  bool none = atoi(PQcmdTuples(r)) == 0;
  PQclear(r);
  return none ? tr_err_new(TR_E_CONFLICT, "current value differs from the expected one") : NULL;
}

static tr_err *pg_del(void *state, const char *ns, const char *key, int64_t now) {
  params p = {0};
  p_text(&p, key);
  p_int(&p, now, false);
  PGresult *r;
  tr_err *e = exec_ns(
      state, ns, "DELETE FROM %1$s WHERE key = $1 RETURNING (expires_at IS NULL OR expires_at > $2)::int", &p,
      true, &r);
  if (e) return e;
  bool live = false;
  if (PQntuples(r) == 1 && PQgetlength(r, 0, 0) == 4) {
    const uint8_t *b = (const uint8_t *)PQgetvalue(r, 0, 0);
    live = (b[0] | b[1] | b[2] | b[3]) != 0;
  }
  PQclear(r);
  return live ? NULL : tr_err_new(TR_E_NOTFOUND, "not found");
}

static tr_err *pg_list(void *state, const char *ns, int64_t now, char ***keys, size_t *nkeys) {
  params p = {0};
  p_int(&p, now, false);
  PGresult *r;
  tr_err *e =
      exec_ns(state, ns, "SELECT key FROM %1$s WHERE (expires_at IS NULL OR expires_at > $1)", &p, true, &r);
  if (e) return e;
  tr_kv_keylist l = {0};
  for (int i = 0; i < PQntuples(r) && !e; i++)
    if (!tr_kv_keylist_add(&l, PQgetvalue(r, i, 0), (size_t)PQgetlength(r, i, 0)))
      e = tr_err_new(TR_E_NOMEM, "out of memory");
  PQclear(r);
  if (e) {
    tr_kv_keylist_free(&l);
    return e;
  }
  tr_kv_keylist_finish(&l, keys, nkeys);
  return NULL;
}

/* Purges the namespaces this store has used (each replica purges its own;
 * tables of namespaces never touched here are left alone). */
static tr_err *pg_purge(void *state, int64_t now, size_t *removed) {
  pg *s = state;
  *removed = 0;
  pthread_mutex_lock(&s->mu);
  tr_kv_keylist l = {0};
  bool ok = true;
  for (known_ns *k = s->known; k && ok; k = k->next)
    ok = tr_kv_keylist_add(&l, k->ns, strlen(k->ns));
  pthread_mutex_unlock(&s->mu);
  tr_err *e = ok ? NULL : tr_err_new(TR_E_NOMEM, "out of memory");
  for (size_t i = 0; i < l.n && !e; i++) {
    params p = {0};
    p_int(&p, now, false);
    PGresult *r;
    e = exec_ns(s, l.v[i], "DELETE FROM %1$s WHERE expires_at IS NOT NULL AND expires_at <= $1", &p, true,
                &r);
    if (!e) {
      *removed += (size_t)atoi(PQcmdTuples(r));
      PQclear(r);
    }
  }
  tr_kv_keylist_free(&l);
  return e;
}

const tr_kv_backend tr_kv_postgres_backend = {
    .storage_type = "Postgres",
    .alias = "postgres",
    .open = pg_open,
    .close = pg_close,
    .set = pg_set,
    .get = pg_get,
    .cas = pg_cas,
    .del = pg_del,
    .list = pg_list,
    .purge = pg_purge,
};
