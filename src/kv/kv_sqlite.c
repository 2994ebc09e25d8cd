/* kv_sqlite.c — the Sqlite backend: one database file, one table
 *
 *   trustee_kv(ns TEXT, key TEXT, value BLOB NOT NULL, expires_at INTEGER,
 *              PRIMARY KEY (ns, key)) WITHOUT ROWID
 *
 * in WAL mode (readers do not block the writer) with synchronous=FULL (a
 * committed write survives power loss) and a busy timeout, so several
 * processes may share the file. One connection per store, serialised by a
 * mutex (SQLite connections are not for concurrent use); compare-and-set and
 * overwrite=false run as single statements or in a BEGIN IMMEDIATE
 * transaction, which takes the write lock up front. expires_at is NULL for
 * entries that never expire. */
#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "kv/kv_internal.h"

#define DEFAULT_PATH "/opt/confidential-containers/storage/sqlite/trustee.db"

typedef struct {
  sqlite3 *db;
  pthread_mutex_t mu;
} sq;

static tr_err *sq_err(sq *s, const char *what) {
  return tr_err_new(TR_E_IO, "sqlite %s: %s", what, sqlite3_errmsg(s->db));
}

static tr_err *exec(sq *s, const char *sql) {
  char *msg = NULL;
  if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) == SQLITE_OK) return NULL;
  tr_err *e = tr_err_new(TR_E_IO, "sqlite: %s: %s", sql, msg ? msg : sqlite3_errmsg(s->db));
  sqlite3_free(msg);
  return e;
}

static tr_err *sq_open(const json_t *config, void **state) {
  const char *path = DEFAULT_PATH;
  int64_t busy_ms = 10000;
  tr_err *e;
  if ((e = tr_kv_cfg_string(config, "path", &path)) ||
      (e = tr_kv_cfg_int(config, "busy_timeout_ms", &busy_ms)))
    return e;
  if (!*path) return tr_err_new(TR_E_INVALID, "field `path`: empty");
  if (busy_ms < 0 || busy_ms > 3600000)
    return tr_err_new(TR_E_INVALID, "field `busy_timeout_ms`: out of range");
  if (strcmp(path, ":memory:") != 0) {
    char *parent = strdup(path);
    char *slash = parent ? strrchr(parent, '/') : NULL;
    if (slash && slash != parent) {
      *slash = 0;
      e = tr_kv_mkdirs(parent);
    }
    free(parent);
    if (e) return e;
  }
  sq *s = calloc(1, sizeof *s);
  if (!s) return tr_err_new(TR_E_NOMEM, "out of memory");
  if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) !=
      SQLITE_OK) {
    e = tr_err_new(TR_E_IO, "sqlite open %s: %s", path, s->db ? sqlite3_errmsg(s->db) : "out of memory");
    goto fail;
  }
  sqlite3_busy_timeout(s->db, (int)busy_ms);
  if ((e = exec(s, "PRAGMA journal_mode=WAL")) || (e = exec(s, "PRAGMA synchronous=FULL")) ||
      (e = exec(
           s,
           "CREATE TABLE IF NOT EXISTS trustee_kv (ns TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL, "
           "expires_at INTEGER, PRIMARY KEY (ns, key)) WITHOUT ROWID")))
    goto fail;
  pthread_mutex_init(&s->mu, NULL);
  *state = s;
  return NULL;
fail:
  sqlite3_close(s->db);
  free(s);
  return tr_err_wrap(e, "path %s", path);
}

static void sq_close(void *state) {
  sq *s = state;
  sqlite3_close(s->db);
  pthread_mutex_destroy(&s->mu);
  free(s);
}

/* Prepares and binds: fmt chars 's' text, 'b' blob (ptr, len), 'i' int64,
 * 'e' expires_at (0 -> NULL). */
static tr_err *prep(sq *s, sqlite3_stmt **st, const char *sql, const char *fmt, ...) {
  if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) != SQLITE_OK) return sq_err(s, "prepare");
  va_list ap;
  va_start(ap, fmt);
  int idx = 1, rc = SQLITE_OK;
  for (const char *f = fmt; *f && rc == SQLITE_OK; f++, idx++) {
    switch (*f) {
    case 's': rc = sqlite3_bind_text(*st, idx, va_arg(ap, const char *), -1, SQLITE_STATIC); break;
    case 'b': {
      const void *p = va_arg(ap, const void *);
      size_t n = va_arg(ap, size_t);
      rc = sqlite3_bind_blob64(*st, idx, p ? p : "", n, SQLITE_STATIC);
      break;
    }
    case 'i': rc = sqlite3_bind_int64(*st, idx, va_arg(ap, int64_t)); break;
    case 'e': {
      int64_t x = va_arg(ap, int64_t);
      rc = x ? sqlite3_bind_int64(*st, idx, x) : sqlite3_bind_null(*st, idx);
      break;
    }
    }
  }
  va_end(ap);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(*st);
    return sq_err(s, "bind");
  }
  return NULL;
}

/* Runs a statement that returns no rows; *changes = rows affected. */
static tr_err *run(sq *s, sqlite3_stmt *st, int *changes) {
  int rc = sqlite3_step(st);
  tr_err *e = rc == SQLITE_DONE || rc == SQLITE_ROW ? NULL : sq_err(s, "step");
  sqlite3_finalize(st);
  if (!e && changes) *changes = sqlite3_changes(s->db);
  return e;
}

#define LIVE "(expires_at IS NULL OR expires_at > ?)"

static tr_err *sq_set(void *state, const char *ns, const char *key, const void *val, size_t len,
                      bool overwrite, int64_t expires_at, int64_t now) {
  sq *s = state;
  sqlite3_stmt *st;
  int changes = 0;
  pthread_mutex_lock(&s->mu);
  tr_err *e;
  if (overwrite)
    e = prep(s, &st,
             "INSERT INTO trustee_kv (ns, key, value, expires_at) VALUES (?, ?, ?, ?) "
             "ON CONFLICT (ns, key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at",
             "ssbe", ns, key, val, len, expires_at);
  else /* insert, or replace only an expired row */
    e = prep(s, &st,
             "INSERT INTO trustee_kv (ns, key, value, expires_at) VALUES (?, ?, ?, ?) "
             "ON CONFLICT (ns, key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at "
             "WHERE NOT (trustee_kv.expires_at IS NULL OR trustee_kv.expires_at > ?)",
             "ssbei", ns, key, val, len, expires_at, now);
  if (!e) e = run(s, st, &changes);
  pthread_mutex_unlock(&s->mu);
  if (!e && !overwrite && changes == 0) e = tr_err_new(TR_E_CONFLICT, "key already exists");
  return e;
}

static tr_err *sq_get(void *state, const char *ns, const char *key, int64_t now, uint8_t **val, size_t *len) {
  sq *s = state;
  sqlite3_stmt *st;
  pthread_mutex_lock(&s->mu);
  tr_err *e =
      prep(s, &st, "SELECT value FROM trustee_kv WHERE ns = ? AND key = ? AND " LIVE, "ssi", ns, key, now);
  if (!e) {
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
      e = tr_kv_dup_value(sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0), val, len);
    else if (rc == SQLITE_DONE)
      e = tr_err_new(TR_E_NOTFOUND, "not found");
    else
      e = sq_err(s, "select");
    sqlite3_finalize(st);
  }
  pthread_mutex_unlock(&s->mu);
  return e;
}

static tr_err *sq_cas(void *state, const char *ns, const char *key, const void *expected, size_t elen,
                      const void *val, size_t len, int64_t expires_at, int64_t now) {
  sq *s = state;
  sqlite3_stmt *st;
  int changes = 0;
  pthread_mutex_lock(&s->mu);
  tr_err *e;
  if (!expected)
    e = prep(s, &st,
             "INSERT INTO trustee_kv (ns, key, value, expires_at) VALUES (?, ?, ?, ?) "
             "ON CONFLICT (ns, key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at "
             "WHERE NOT (trustee_kv.expires_at IS NULL OR trustee_kv.expires_at > ?)",
             "ssbei", ns, key, val, len, expires_at, now);
  else
    e = prep(
        s, &st,
        "UPDATE trustee_kv SET value = ?, expires_at = ? WHERE ns = ? AND key = ? AND value = ? AND " LIVE,
        "bessbi", val, len, expires_at, ns, key, expected, elen, now);
  if (!e) e = run(s, st, &changes);
  pthread_mutex_unlock(&s->mu);
  if (!e && changes == 0) e = tr_err_new(TR_E_CONFLICT, "current value differs from the expected one");
  return e;
}

static tr_err *sq_del(void *state, const char *ns, const char *key, int64_t now) {
  sq *s = state;
  sqlite3_stmt *st;
  int changes = 0;
  pthread_mutex_lock(&s->mu);
  tr_err *e = exec(s, "BEGIN IMMEDIATE");
  if (!e) {
    e = prep(s, &st, "DELETE FROM trustee_kv WHERE ns = ? AND key = ? AND " LIVE, "ssi", ns, key, now);
    if (!e) e = run(s, st, &changes);
    if (!e) e = prep(s, &st, "DELETE FROM trustee_kv WHERE ns = ? AND key = ?", "ss", ns, key);
    if (!e) e = run(s, st, NULL);
    tr_err *c = exec(s, e ? "ROLLBACK" : "COMMIT");
    if (!e)
      e = c;
    else
      tr_err_free(c);
  }
  pthread_mutex_unlock(&s->mu);
  if (!e && changes == 0) e = tr_err_new(TR_E_NOTFOUND, "not found");
  return e;
}

static tr_err *sq_list(void *state, const char *ns, int64_t now, char ***keys, size_t *nkeys) {
  sq *s = state;
  sqlite3_stmt *st;
  tr_kv_keylist l = {0};
  pthread_mutex_lock(&s->mu);
  tr_err *e = prep(s, &st, "SELECT key FROM trustee_kv WHERE ns = ? AND " LIVE, "si", ns, now);
  if (!e) {
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
      if (!tr_kv_keylist_add(&l, (const char *)sqlite3_column_text(st, 0),
                             (size_t)sqlite3_column_bytes(st, 0))) {
        e = tr_err_new(TR_E_NOMEM, "out of memory");
        break;
      }
    if (!e && rc != SQLITE_DONE) e = sq_err(s, "select");
    sqlite3_finalize(st);
  }
  pthread_mutex_unlock(&s->mu);
  if (e) {
    tr_kv_keylist_free(&l);
    return e;
  }
  tr_kv_keylist_finish(&l, keys, nkeys); /* sorted by byte value, whatever the collation */
  return NULL;
}

static tr_err *sq_purge(void *state, int64_t now, size_t *removed) {
  sq *s = state;
  sqlite3_stmt *st;
  int changes = 0;
  pthread_mutex_lock(&s->mu);
  tr_err *e =
      prep(s, &st, "DELETE FROM trustee_kv WHERE expires_at IS NOT NULL AND expires_at <= ?", "i", now);
  if (!e) e = run(s, st, &changes);
  pthread_mutex_unlock(&s->mu);
  *removed = (size_t)changes;
  return e;
}

const tr_kv_backend tr_kv_sqlite_backend = {
    .storage_type = "Sqlite",
    .alias = "sqlite",
    .open = sq_open,
    .close = sq_close,
    .set = sq_set,
    .get = sq_get,
    .cas = sq_cas,
    .del = sq_del,
    .list = sq_list,
    .purge = sq_purge,
};
