/* kv_suite.c — one cmocka suite run against every kv backend, with the same
 * assertions for each: `kv_suite <backend>` where backend is memory, localfs,
 * localjson, localjson-file, sqlite, postgres or redis (the last two read
 * TRUSTEE_TEST_POSTGRES_URL / TRUSTEE_TEST_REDIS_URL, set by
 * run_servers.sh, which starts throwaway servers). Registered by tests.cmake.
 *
 * File-backed stores get a fresh temporary directory per test; server-backed
 * ones a namespace unique to the test and the run. */
/* cmocka needs these first */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kv/kv.h"

static const char *backend;
static char tmpdir[256];
static char ns_buf[128];
static const char *NS;
static int64_t fake_now;
static int case_no;

static int64_t fake_clock(void *ctx) {
  (void)ctx;
  return __atomic_load_n(&fake_now, __ATOMIC_SEQ_CST);
}

static bool file_backed(void) {
  return !strcmp(backend, "localfs") || !strncmp(backend, "localjson", 9) || !strcmp(backend, "sqlite");
}

static json_t *backend_config(void) {
  if (!strcmp(backend, "memory")) return NULL;
  char path[512];
  if (!strcmp(backend, "localfs")) return json_pack("{ss}", "dir_path", tmpdir);
  if (!strcmp(backend, "localjson")) return json_pack("{ss}", "file_dir_path", tmpdir);
  if (!strcmp(backend, "localjson-file")) {
    snprintf(path, sizeof path, "%s/store.json", tmpdir);
    return json_pack("{ss}", "file_path", path);
  }
  if (!strcmp(backend, "sqlite")) {
    snprintf(path, sizeof path, "%s/kv.db", tmpdir);
    return json_pack("{ss}", "path", path);
  }
  const char *env = !strcmp(backend, "postgres") ? "TRUSTEE_TEST_POSTGRES_URL" : "TRUSTEE_TEST_REDIS_URL";
  const char *url = getenv(env);
  if (!url) fail_msg("%s is not set (run through run_servers.sh)", env);
  return json_pack("{ss}", "url", url);
}

static const char *storage_type(void) {
  if (!strcmp(backend, "memory")) return "Memory";
  if (!strcmp(backend, "localfs")) return "LocalFs";
  if (!strncmp(backend, "localjson", 9)) return "LocalJson";
  if (!strcmp(backend, "sqlite")) return "Sqlite";
  if (!strcmp(backend, "postgres")) return "Postgres";
  return "Redis";
}

static tr_kv *open_kv_cfg(json_t *cfg) {
  tr_kv *kv = NULL;
  tr_err *e = tr_kv_open(storage_type(), cfg, &kv);
  json_decref(cfg);
  if (e) fail_msg("open %s: %s", backend, tr_err_msg(e));
  if (!tr_kv_server_clock(kv)) tr_kv_set_clock(kv, fake_clock, NULL);
  return kv;
}

static tr_kv *open_kv(void) { return open_kv_cfg(backend_config()); }

static int setup(void **state) {
  snprintf(tmpdir, sizeof tmpdir, "/tmp/kvsuite.XXXXXX");
  if (!mkdtemp(tmpdir)) return -1;
  fake_now = (int64_t)time(NULL);
  snprintf(ns_buf, sizeof ns_buf, "ns%d_%ld_%d", getpid(), (long)time(NULL) % 100000, case_no++);
  NS = ns_buf;
  *state = open_kv();
  return 0;
}

static int teardown(void **state) {
  tr_kv_close(*state);
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
  return system(cmd) == 0 ? 0 : -1;
}

#define OK(expr)                                                                                             \
  do {                                                                                                       \
    tr_err *e_ = (expr);                                                                                     \
    if (e_) fail_msg("%s: %s", #expr, tr_err_msg(e_));                                                       \
  } while (0)
#define FAILS(expr, code)                                                                                    \
  do {                                                                                                       \
    tr_err *e_ = (expr);                                                                                     \
    if (!e_) fail_msg("%s: unexpectedly succeeded", #expr);                                                  \
    if (tr_err_code(e_) != (code))                                                                           \
      fail_msg("%s: code %d, want %d: %s", #expr, tr_err_code(e_), code, tr_err_msg(e_));                    \
    tr_err_free(e_);                                                                                         \
  } while (0)

static void expect_kv(tr_kv *kv, const char *ns, const char *key, const void *want, size_t wlen) {
  uint8_t *v;
  size_t n;
  OK(tr_kv_get(kv, ns, key, &v, &n));
  assert_int_equal(n, wlen);
  if (wlen) assert_memory_equal(v, want, wlen);
  assert_int_equal(v[n], 0);
  free(v);
}

static void test_set_get_delete(void **state) {
  tr_kv *kv = *state;
  FAILS(tr_kv_get(kv, NS, "a", &(uint8_t *){0}, &(size_t){0}), TR_E_NOTFOUND);
  OK(tr_kv_set(kv, NS, "a", "one", 3, true, 0));
  expect_kv(kv, NS, "a", "one", 3);
  OK(tr_kv_set(kv, NS, "a", "two!", 4, true, 0));
  expect_kv(kv, NS, "a", "two!", 4);
  OK(tr_kv_set(kv, NS, "empty", "", 0, true, 0));
  expect_kv(kv, NS, "empty", "", 0);
  OK(tr_kv_delete(kv, NS, "a"));
  FAILS(tr_kv_get(kv, NS, "a", &(uint8_t *){0}, &(size_t){0}), TR_E_NOTFOUND);
  FAILS(tr_kv_delete(kv, NS, "a"), TR_E_NOTFOUND);
  /* namespaces are separate */
  char other[160];
  snprintf(other, sizeof other, "%s_other", NS);
  OK(tr_kv_set(kv, other, "empty", "x", 1, true, 0));
  expect_kv(kv, NS, "empty", "", 0);
  expect_kv(kv, other, "empty", "x", 1);
}

static void test_overwrite_false(void **state) {
  tr_kv *kv = *state;
  OK(tr_kv_set(kv, NS, "k", "first", 5, false, 0));
  FAILS(tr_kv_set(kv, NS, "k", "second", 6, false, 0), TR_E_CONFLICT);
  expect_kv(kv, NS, "k", "first", 5);
  OK(tr_kv_set(kv, NS, "k", "third", 5, true, 0));
  expect_kv(kv, NS, "k", "third", 5);
}

static void test_list_sorted(void **state) {
  tr_kv *kv = *state;
  char **keys;
  size_t n;
  OK(tr_kv_list(kv, NS, &keys, &n));
  assert_int_equal(n, 0);
  tr_kv_keys_free(keys, n);
  const char *ins[] = {"zeta", "alpha", "a/b/c", "Beta", "m.x", "a-b", "rvps:///x/y:v1", "_u"};
  for (size_t i = 0; i < 8; i++)
    OK(tr_kv_set(kv, NS, ins[i], "v", 1, true, 0));
  OK(tr_kv_list(kv, NS, &keys, &n));
  const char *want[] = {"Beta", "_u", "a-b", "a/b/c", "alpha", "m.x", "rvps:///x/y:v1", "zeta"};
  assert_int_equal(n, 8);
  for (size_t i = 0; i < n; i++)
    assert_string_equal(keys[i], want[i]);
  tr_kv_keys_free(keys, n);
  expect_kv(kv, NS, "a/b/c", "v", 1);
}

static void test_ttl_and_purge(void **state) {
  tr_kv *kv = *state;
  bool server = tr_kv_server_clock(kv);
  OK(tr_kv_set(kv, NS, "session", "s", 1, true, server ? 1 : 60));
  OK(tr_kv_set(kv, NS, "forever", "f", 1, true, 0));
  expect_kv(kv, NS, "session", "s", 1);
  FAILS(tr_kv_set(kv, NS, "session", "t", 1, false, 60), TR_E_CONFLICT);
  FAILS(tr_kv_set(kv, NS, "x", "t", 1, false, -1), TR_E_INVALID);
  if (server) {
    usleep(2100 * 1000);
  } else {
    __atomic_add_fetch(&fake_now, 61, __ATOMIC_SEQ_CST);
  }
  FAILS(tr_kv_get(kv, NS, "session", &(uint8_t *){0}, &(size_t){0}), TR_E_NOTFOUND);
  char **keys;
  size_t n;
  OK(tr_kv_list(kv, NS, &keys, &n));
  assert_int_equal(n, 1);
  assert_string_equal(keys[0], "forever");
  tr_kv_keys_free(keys, n);
  /* an expired entry counts as absent for overwrite=false */
  OK(tr_kv_set(kv, NS, "session", "new", 3, false, 60));
  expect_kv(kv, NS, "session", "new", 3);
  OK(tr_kv_set(kv, NS, "gone1", "g", 1, true, server ? 1 : 10));
  OK(tr_kv_set(kv, NS, "gone2", "g", 1, true, server ? 1 : 10));
  if (server)
    usleep(2100 * 1000);
  else
    __atomic_add_fetch(&fake_now, 11, __ATOMIC_SEQ_CST);
  size_t removed = 99;
  OK(tr_kv_purge_expired(kv, &removed));
  if (!server) assert_int_equal(removed, 2); /* Redis expires on its own */
  expect_kv(kv, NS, "forever", "f", 1);
  expect_kv(kv, NS, "session", "new", 3);
  FAILS(tr_kv_delete(kv, NS, "gone1"), TR_E_NOTFOUND);
}

static void test_binary_and_large(void **state) {
  tr_kv *kv = *state;
  uint8_t bin[512];
  for (size_t i = 0; i < sizeof bin; i++)
    bin[i] = (uint8_t)(i * 7 + 3);
  bin[0] = 0;
  OK(tr_kv_set(kv, NS, "bin", bin, sizeof bin, true, 0));
  expect_kv(kv, NS, "bin", bin, sizeof bin);
  /* bytes that look like the file backends' expiry envelope round-trip */
  const uint8_t env[] = {0, 'T', 'R', 'K', 'V', '1', 0, 0, 0, 0, 0, 0, 0, 0, 1, 'x'};
  OK(tr_kv_set(kv, NS, "envelope", env, sizeof env, true, 0));
  expect_kv(kv, NS, "envelope", env, sizeof env);
  size_t big = 4u << 20;
  uint8_t *large = malloc(big);
  for (size_t i = 0; i < big; i++)
    large[i] = (uint8_t)(i ^ (i >> 9));
  OK(tr_kv_set(kv, NS, "large", large, big, true, 0));
  expect_kv(kv, NS, "large", large, big);
  free(large);
}

static void test_invalid_keys(void **state) {
  tr_kv *kv = *state;
  const char *bad[] = {"", "a b", "a;drop table", "..", ".", "é", "a\\b", "a'b", "a*", "a\"b", "a?b"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    FAILS(tr_kv_set(kv, NS, bad[i], "v", 1, true, 0), TR_E_INVALID);
    FAILS(tr_kv_get(kv, NS, bad[i], &(uint8_t *){0}, &(size_t){0}), TR_E_INVALID);
    FAILS(tr_kv_delete(kv, NS, bad[i]), TR_E_INVALID);
  }
  const char *badns[] = {"", "/a", "a/", "a//b", "../x", ".trustee-tmp", "a/./b", "x y", "a:b"};
  for (size_t i = 0; i < sizeof badns / sizeof badns[0]; i++)
    FAILS(tr_kv_set(kv, badns[i], "k", "v", 1, true, 0), TR_E_INVALID);
  char longkey[TR_KV_MAX_KEY + 2];
  memset(longkey, 'k', sizeof longkey - 1);
  longkey[sizeof longkey - 1] = 0;
  FAILS(tr_kv_set(kv, NS, longkey, "v", 1, true, 0), TR_E_INVALID);
  OK(tr_kv_set(kv, NS, "ok.key-1_A/b:c", "v", 1, true, 0));
}

static void test_cas(void **state) {
  tr_kv *kv = *state;
  OK(tr_kv_cas(kv, NS, "c", NULL, 0, "1", 1, 0));
  FAILS(tr_kv_cas(kv, NS, "c", NULL, 0, "x", 1, 0), TR_E_CONFLICT);
  FAILS(tr_kv_cas(kv, NS, "c", "2", 1, "x", 1, 0), TR_E_CONFLICT);
  OK(tr_kv_cas(kv, NS, "c", "1", 1, "22", 2, 0));
  expect_kv(kv, NS, "c", "22", 2);
  FAILS(tr_kv_cas(kv, NS, "c", "2", 1, "x", 1, 0), TR_E_CONFLICT); /* prefix is not equal */
}

/* ---- concurrency ---------------------------------------------------------- */

#define THREADS 4
#define INCREMENTS 40

static void increment(tr_kv *kv, const char *ns) {
  for (;;) {
    uint8_t *v = NULL;
    size_t n = 0;
    tr_err *e = tr_kv_get(kv, ns, "counter", &v, &n);
    long cur = 0;
    if (e) {
      if (tr_err_code(e) != TR_E_NOTFOUND) fail_msg("get: %s", tr_err_msg(e));
      tr_err_free(e);
    } else {
      cur = strtol((char *)v, NULL, 10);
    }
    char next[32];
    int len = snprintf(next, sizeof next, "%ld", cur + 1);
    e = tr_kv_cas(kv, ns, "counter", v, n, next, (size_t)len, 0);
    if (!v) {
      /* first writer: "absent" */
    }
    free(v);
    if (!e) return;
    if (tr_err_code(e) != TR_E_CONFLICT) fail_msg("cas: %s", tr_err_msg(e));
    tr_err_free(e);
  }
}

static void *inc_thread(void *arg) {
  for (int i = 0; i < INCREMENTS; i++)
    increment(arg, NS);
  return NULL;
}

static long read_counter(tr_kv *kv) {
  uint8_t *v;
  size_t n;
  OK(tr_kv_get(kv, NS, "counter", &v, &n));
  long c = strtol((char *)v, NULL, 10);
  free(v);
  return c;
}

static void test_concurrent_threads(void **state) {
  tr_kv *kv = *state;
  pthread_t t[THREADS];
  for (int i = 0; i < THREADS; i++)
    pthread_create(&t[i], NULL, inc_thread, kv);
  for (int i = 0; i < THREADS; i++)
    pthread_join(t[i], NULL);
  assert_int_equal(read_counter(kv), THREADS * INCREMENTS);
}

/* Two processes with their own store handles (file-backed and server
 * stores: the locking must work across processes, not only threads). */
static void test_concurrent_processes(void **state) {
  tr_kv *kv = *state;
  if (!strcmp(backend, "memory")) skip();
  pid_t kids[2];
  for (int k = 0; k < 2; k++) {
    kids[k] = fork();
    if (kids[k] == 0) {
      tr_kv *mine = open_kv();
      for (int i = 0; i < INCREMENTS; i++)
        increment(mine, NS);
      tr_kv_close(mine);
      _exit(0);
    }
  }
  for (int i = 0; i < INCREMENTS; i++)
    increment(kv, NS);
  for (int k = 0; k < 2; k++) {
    int st;
    waitpid(kids[k], &st, 0);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  }
  assert_int_equal(read_counter(kv), 3 * INCREMENTS);
}

/* A child rewrites keys in a loop and is killed with SIGKILL; afterwards the
 * store opens and every key holds one complete value that was written. */
static void test_crash_safety(void **state) {
  if (!file_backed()) skip();
  tr_kv *kv = *state;
  OK(tr_kv_set(kv, NS, "k", "v0000000", 8, true, 0));
  pid_t pid = fork();
  if (pid == 0) {
    tr_kv *mine = open_kv();
    char buf[64 * 1024];
    for (unsigned i = 1;; i++) {
      memset(buf, 'a' + (int)(i % 26), sizeof buf);
      snprintf(buf, 16, "v%07u", i);
      tr_err *e = tr_kv_set(mine, NS, "k", buf, 8 + (i % 2) * (sizeof buf - 8), true, 0);
      tr_err_free(e);
      e = tr_kv_set(mine, NS, "other", buf, 8, true, 0);
      tr_err_free(e);
    }
  }
  usleep(300 * 1000);
  kill(pid, SIGKILL);
  int st;
  waitpid(pid, &st, 0);
  tr_kv_close(kv);
  kv = *state = open_kv();
  uint8_t *v;
  size_t n;
  OK(tr_kv_get(kv, NS, "k", &v, &n));
  assert_true(n == 8 || n == 64 * 1024);
  assert_int_equal(v[0], 'v');
  if (n > 8) {
    unsigned i = (unsigned)strtoul((char *)v + 1, NULL, 10);
    for (size_t j = 16; j < n; j++)
      assert_int_equal(v[j], 'a' + (int)(i % 26));
  }
  free(v);
  /* the store is still writable and consistent */
  OK(tr_kv_set(kv, NS, "k", "after", 5, true, 0));
  expect_kv(kv, NS, "k", "after", 5);
  char **keys;
  OK(tr_kv_list(kv, NS, &keys, &n));
  assert_true(n == 1 || n == 2);
  tr_kv_keys_free(keys, n);
}

static void test_persistence(void **state) {
  if (!strcmp(backend, "memory")) skip();
  tr_kv *kv = *state;
  OK(tr_kv_set(kv, NS, "p/q", "persist", 7, true, 0));
  tr_kv_close(kv);
  kv = *state = open_kv();
  expect_kv(kv, NS, "p/q", "persist", 7);
}

/* ---- lost replies (postgres, redis) ---------------------------------------- */

/* A loopback TCP proxy in front of the test server. When armed, the first
 * client message containing LOSE_MARK is forwarded, the server's reply is
 * swallowed and the connection closed: the write happened, only its reply
 * was lost. proxy_cut() closes every proxied connection while idle, as a
 * server restart does. */
#define LOSE_MARK "LOSE-REPLY-MARK"
static struct {
  int lfd, server_port;
  int armed, dropped, cut_gen; /* __atomic */
} px;

static int connect_port(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
    close(fd);
    fd = -1;
  }
  return fd;
}

static bool write_all(int fd, const char *b, ssize_t n) {
  while (n > 0) {
    ssize_t w = write(fd, b, (size_t)n);
    if (w <= 0) return false;
    b += w;
    n -= w;
  }
  return true;
}

static void *proxy_conn(void *arg) {
  int cfd = (int)(intptr_t)arg, sfd = connect_port(px.server_port);
  int gen = __atomic_load_n(&px.cut_gen, __ATOMIC_SEQ_CST);
  bool lose = false;
  char buf[65536];
  while (sfd >= 0 && gen == __atomic_load_n(&px.cut_gen, __ATOMIC_SEQ_CST)) {
    struct pollfd pf[2] = {{.fd = cfd, .events = POLLIN}, {.fd = sfd, .events = POLLIN}};
    if (poll(pf, 2, 20) < 0) break;
    if (pf[0].revents) {
      ssize_t n = read(cfd, buf, sizeof buf);
      if (n <= 0 || !write_all(sfd, buf, n)) break;
      if (memmem(buf, (size_t)n, LOSE_MARK, strlen(LOSE_MARK)) &&
          __atomic_exchange_n(&px.armed, 0, __ATOMIC_SEQ_CST))
        lose = true;
    }
    if (pf[1].revents) {
      ssize_t n = read(sfd, buf, sizeof buf);
      if (n <= 0) break;
      if (lose) { /* the server has answered, so the write is done: drop the rest of its reply too */
        usleep(300 * 1000);
        __atomic_add_fetch(&px.dropped, 1, __ATOMIC_SEQ_CST);
        break;
      }
      if (!write_all(cfd, buf, n)) break;
    }
  }
  close(cfd);
  if (sfd >= 0) close(sfd);
  return NULL;
}

static void *proxy_accept(void *arg) {
  (void)arg;
  for (;;) {
    int cfd = accept(px.lfd, NULL, NULL);
    if (cfd < 0) return NULL; /* listening socket shut down */
    pthread_t t;
    if (pthread_create(&t, NULL, proxy_conn, (void *)(intptr_t)cfd) == 0)
      pthread_detach(t);
    else
      close(cfd);
  }
}

/* Starts the proxy in front of the server of `url` (127.0.0.1:<port>); returns the URL through it. */
static char *proxy_start(const char *url, pthread_t *th) {
  const char *h = strstr(url, "127.0.0.1:");
  assert_non_null(h);
  char *end;
  px.server_port = (int)strtol(h + 10, &end, 10);
  px.lfd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t al = sizeof a;
  assert_int_equal(bind(px.lfd, (struct sockaddr *)&a, sizeof a), 0);
  assert_int_equal(listen(px.lfd, 16), 0);
  assert_int_equal(getsockname(px.lfd, (struct sockaddr *)&a, &al), 0);
  char *out;
  assert_true(asprintf(&out, "%.*s127.0.0.1:%d%s", (int)(h - url), url, ntohs(a.sin_port), end) > 0);
  assert_int_equal(pthread_create(th, NULL, proxy_accept, NULL), 0);
  return out;
}

static void proxy_stop(pthread_t th) {
  shutdown(px.lfd, SHUT_RDWR);
  pthread_join(th, NULL);
  close(px.lfd);
}

static tr_kv *open_kv_url(const char *url) { return open_kv_cfg(json_pack("{ss}", "url", url)); }

#define UNKNOWN_OUTCOME(expr)                                                                                \
  do {                                                                                                       \
    int before_ = __atomic_load_n(&px.dropped, __ATOMIC_SEQ_CST);                                            \
    __atomic_store_n(&px.armed, 1, __ATOMIC_SEQ_CST);                                                        \
    tr_err *e_ = (expr);                                                                                     \
    assert_int_equal(__atomic_load_n(&px.dropped, __ATOMIC_SEQ_CST), before_ + 1);                           \
    if (!e_) fail_msg("%s: succeeded although its reply was lost", #expr);                                   \
    if (tr_err_code(e_) != TR_E_IO || !strstr(tr_err_msg(e_), "unknown"))                                    \
      fail_msg("%s: want TR_E_IO 'unknown', got code %d: %s", #expr, tr_err_code(e_), tr_err_msg(e_));       \
    tr_err_free(e_);                                                                                         \
  } while (0)

/* A compare-and-set (or overwrite=false) whose reply is lost is not retried (a retry would report a conflict
 * with its own write, and a read-modify-write caller would apply its change twice): it fails saying the
 * outcome is unknown, and the write is there exactly once. Idle connections the server closed are replaced
 * before sending, so a restart costs no error. */
static void test_lost_reply(void **state) {
  if (strcmp(backend, "postgres") && strcmp(backend, "redis")) skip();
  const char *env = !strcmp(backend, "postgres") ? "TRUSTEE_TEST_POSTGRES_URL" : "TRUSTEE_TEST_REDIS_URL";
  pthread_t th;
  char *url = proxy_start(getenv(env), &th);
  tr_kv_close(*state);
  tr_kv *kv = *state = open_kv_url(url);
  const char *mark = LOSE_MARK;
  size_t ml = strlen(mark);
  OK(tr_kv_cas(kv, NS, "c", NULL, 0, "v1", 2, 0));
  UNKNOWN_OUTCOME(tr_kv_cas(kv, NS, "c", "v1", 2, mark, ml, 0));
  expect_kv(kv, NS, "c", mark, ml); /* applied once; the next call reconnected */
  OK(tr_kv_cas(kv, NS, "c", mark, ml, "v3", 2, 0));
  UNKNOWN_OUTCOME(tr_kv_cas(kv, NS, "absent-then-set", NULL, 0, mark, ml, 0));
  expect_kv(kv, NS, "absent-then-set", mark, ml);
  UNKNOWN_OUTCOME(tr_kv_set(kv, NS, "nx", mark, ml, false, 0));
  expect_kv(kv, NS, "nx", mark, ml);
  /* an idempotent write whose reply is lost is retried transparently */
  __atomic_store_n(&px.armed, 1, __ATOMIC_SEQ_CST);
  OK(tr_kv_set(kv, NS, "ow", mark, ml, true, 0));
  assert_int_equal(__atomic_exchange_n(&px.armed, 0, __ATOMIC_SEQ_CST), 0);
  expect_kv(kv, NS, "ow", mark, ml);
  /* every connection closed by the "server" while idle: the next CAS reconnects first and succeeds */
  __atomic_add_fetch(&px.cut_gen, 1, __ATOMIC_SEQ_CST);
  usleep(200 * 1000);
  OK(tr_kv_cas(kv, NS, "c", "v3", 2, "v4", 2, 0));
  expect_kv(kv, NS, "c", "v4", 2);
  tr_kv_close(kv);
  *state = open_kv(); /* for teardown */
  proxy_stop(th);
  free(url);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s memory|localfs|localjson|localjson-file|sqlite|postgres|redis\n", argv[0]);
    return 2;
  }
  backend = argv[1];
  static char group[64];
  snprintf(group, sizeof group, "kv/%s", backend);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_set_get_delete, setup, teardown),
      cmocka_unit_test_setup_teardown(test_overwrite_false, setup, teardown),
      cmocka_unit_test_setup_teardown(test_list_sorted, setup, teardown),
      cmocka_unit_test_setup_teardown(test_ttl_and_purge, setup, teardown),
      cmocka_unit_test_setup_teardown(test_binary_and_large, setup, teardown),
      cmocka_unit_test_setup_teardown(test_invalid_keys, setup, teardown),
      cmocka_unit_test_setup_teardown(test_cas, setup, teardown),
      cmocka_unit_test_setup_teardown(test_concurrent_threads, setup, teardown),
      cmocka_unit_test_setup_teardown(test_concurrent_processes, setup, teardown),
      cmocka_unit_test_setup_teardown(test_crash_safety, setup, teardown),
      cmocka_unit_test_setup_teardown(test_persistence, setup, teardown),
      cmocka_unit_test_setup_teardown(test_lost_reply, setup, teardown),
  };
  return _cmocka_run_group_tests(group, tests, sizeof tests / sizeof tests[0], NULL, NULL);
}
