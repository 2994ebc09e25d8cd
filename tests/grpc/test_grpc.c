/* gRPC layer in one process: status mapping, request decoding of both
 * AttestationEvaluate shapes, and a real server and client on loopback —
 * echo, handler errors carried as statuses back to tr_codes, unknown
 * methods, oversized messages, deadlines, unreachable peers, graceful stop
 * with a call in flight, the bounded worker pool under concurrency, and the
 * remote RVPS (custom tr_rvps ops) against the RVPS service. */
/* cmocka needs these first */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/digest.h"
#include "core/encoding.h"
#include "core/json.h"
#include "grpc/as_client.h"
#include "grpc/attestation.pb-c.h"
#include "grpc/client.h"
#include "grpc/rpc.h"
#include "grpc/server.h"
#include "grpc/services.h"

#define OK(expr)                                                                                             \
  do {                                                                                                       \
    tr_err *e_ = (expr);                                                                                     \
    if (e_) fail_msg("%s: %s", #expr, tr_err_msg(e_));                                                       \
  } while (0)

static void sleep_ms(int ms) {
  struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&t, NULL);
}

static void test_status_mapping(void **st) {
  (void)st;
  static const tr_code codes[] = {TR_E_INVALID,  TR_E_NOTFOUND,    TR_E_DENIED, TR_E_AUTH, TR_E_EXPIRED,
                                  TR_E_CONFLICT, TR_E_UNSUPPORTED, TR_E_LIMIT,  TR_E_IO};
  for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
    assert_int_equal(tr_grpc_code_from_status(tr_grpc_status_from_code(codes[i])), codes[i]);
  assert_int_equal(tr_grpc_status_from_code(TR_E_INTERNAL), TR_GRPC_INTERNAL);
  assert_int_equal(tr_grpc_status_from_code(TR_E_VERIFY), TR_GRPC_PERMISSION_DENIED);
  assert_int_equal(tr_grpc_code_from_status(TR_GRPC_ABORTED), TR_E_VERIFY); /* upstream's blanket status */
  assert_string_equal(tr_grpc_status_name(TR_GRPC_RESOURCE_EXHAUSTED), "RESOURCE_EXHAUSTED");
  assert_string_equal(tr_grpc_status_name(99), "UNKNOWN");
}

static uint8_t *pack(const ProtobufCMessage *m, size_t *len) {
  uint8_t *out = NULL;
  OK(tr_grpc_pack(m, &out, len));
  return out;
}

static void test_decode_shapes(void **st) {
  (void)st;
  char *ev = tr_b64_encode("{\"svn\":\"1\"}", 11, TR_B64_URL_NOPAD);
  /* current shape */
  Attestation__IndividualAttestationRequest q = ATTESTATION__INDIVIDUAL_ATTESTATION_REQUEST__INIT;
  q.tee = "sample";
  q.evidence = ev;
  q.runtime_data_case = ATTESTATION__INDIVIDUAL_ATTESTATION_REQUEST__RUNTIME_DATA_STRUCTURED_RUNTIME_DATA;
  q.structured_runtime_data = "{\"nonce\":\"n\"}";
  q.init_data_case = ATTESTATION__INDIVIDUAL_ATTESTATION_REQUEST__INIT_DATA_INIT_DATA_TOML;
  q.init_data_toml = "version = \"0.1.0\"\n";
  Attestation__IndividualAttestationRequest *qs[2] = {&q, &q};
  char *ids[1] = {"p1"};
  Attestation__AttestationRequest r = ATTESTATION__ATTESTATION_REQUEST__INIT;
  r.n_verification_requests = 2;
  r.verification_requests = qs;
  r.n_policy_ids = 1;
  r.policy_ids = ids;
  size_t len = 0;
  uint8_t *b = pack(&r.base, &len);
  tr_as_parsed *p = NULL;
  int legacy = -1;
  OK(tr_grpc_decode_attestation(b, len, &p, &legacy));
  assert_int_equal(legacy, 0);
  assert_int_equal(p->nreqs, 2);
  assert_string_equal(p->reqs[1].tee, "sample");
  assert_int_equal(p->reqs[0].runtime_data.kind, TR_DATA_STRUCTURED);
  assert_string_equal(json_string_value(json_object_get(p->reqs[0].runtime_data.structured, "nonce")), "n");
  assert_int_equal(p->reqs[0].init_data.kind, TR_DATA_STRUCTURED);
  assert_string_equal(p->reqs[0].init_data.toml, "version = \"0.1.0\"\n");
  assert_int_equal(p->npolicy_ids, 1);
  assert_string_equal(p->policy_ids[0], "p1");
  tr_as_parsed_free(p);
  free(b);

  /* the documented older single-request shape */
  Attestation__LegacyAttestationRequest l = ATTESTATION__LEGACY_ATTESTATION_REQUEST__INIT;
  l.tee = "snp";
  l.evidence = ev;
  l.runtime_data_case = ATTESTATION__LEGACY_ATTESTATION_REQUEST__RUNTIME_DATA_RAW_RUNTIME_DATA;
  l.raw_runtime_data = "AAEC";
  l.init_data_case = ATTESTATION__LEGACY_ATTESTATION_REQUEST__INIT_DATA_STRUCTURED_INIT_DATA;
  l.structured_init_data = "{\"k\":\"v\"}";
  l.init_data_hash_algorithm = "sha256";
  b = pack(&l.base, &len);
  OK(tr_grpc_decode_attestation(b, len, &p, &legacy));
  assert_int_equal(legacy, 1);
  assert_int_equal(p->nreqs, 1);
  assert_string_equal(p->reqs[0].tee, "snp");
  assert_int_equal(p->reqs[0].runtime_data.kind, TR_DATA_RAW);
  assert_int_equal(p->reqs[0].runtime_data.raw_len, 3);
  assert_int_equal(p->reqs[0].init_data.kind, TR_DATA_STRUCTURED);
  assert_non_null(p->reqs[0].init_data.structured);
  assert_int_equal(p->reqs[0].init_data_hash_alg, TR_SHA256);
  tr_as_parsed_free(p);
  free(b);

  /* an unknown TEE in field 1 is not the older shape: the bytes do not
   * decode as a sub-message -> INVALID naming the message */
  l.tee = "nosuchtee";
  b = pack(&l.base, &len);
  tr_err *e = tr_grpc_decode_attestation(b, len, &p, &legacy);
  assert_non_null(e);
  assert_int_equal(tr_err_code(e), TR_E_INVALID);
  assert_non_null(strstr(tr_err_msg(e), "malformed attestation.AttestationRequest"));
  tr_err_free(e);
  free(b);
  /* invalid UTF-8 in a string field is refused naming it */
  q.tee = "\xff\xfe";
  r.n_verification_requests = 1;
  b = pack(&r.base, &len);
  e = tr_grpc_decode_attestation(b, len, &p, &legacy);
  assert_non_null(e);
  assert_int_equal(tr_err_code(e), TR_E_INVALID);
  assert_non_null(strstr(tr_err_msg(e), "verification_requests[0].tee"));
  tr_err_free(e);
  free(b);
  free(ev);
}

/* ---- a live server ---- */

static atomic_int in_handler, max_in_handler;

static tr_err *echo(void *ctx, const uint8_t *req, size_t len, uint8_t **resp, size_t *rlen) {
  (void)ctx;
  int now = atomic_fetch_add(&in_handler, 1) + 1;
  for (int m = atomic_load(&max_in_handler);
       now > m && !atomic_compare_exchange_weak(&max_in_handler, &m, now);) {
  }
  tr_err *e = NULL;
  if (len >= 5 && memcmp(req, "sleep", 5) == 0) sleep_ms(300);
  if (len >= 4 && memcmp(req, "fail", 4) == 0)
    e = tr_err_new(TR_E_NOTFOUND, "no such thing `%.*s`", (int)len, req);
  if (len >= 7 && memcmp(req, "invalid", 7) == 0) e = tr_err_new(TR_E_INVALID, "bad input");
  if (!e) {
    *resp = malloc(len ? len : 1);
    memcpy(*resp, req, len);
    *rlen = len;
  }
  atomic_fetch_sub(&in_handler, 1);
  return e;
}

static tr_grpc_server *start(unsigned workers, char *addr, size_t asize) {
  tr_grpc_method m[] = {{"/test.Echo/Echo", echo, NULL}};
  const char *health[] = {"test.Echo"};
  tr_grpc_server_config c = {.listen = "127.0.0.1:0",
                             .max_message = 1024,
                             .workers = workers,
                             .methods = m,
                             .nmethods = 1,
                             .health_services = health,
                             .nhealth = 1,
                             .name = "test"};
  tr_grpc_server *s = NULL;
  OK(tr_grpc_server_start(&c, &s));
  snprintf(addr, asize, "127.0.0.1:%u", (unsigned)tr_grpc_server_port(s));
  return s;
}

static tr_err *call(tr_grpc_client *c, const char *req, int64_t timeout_ms, char **out) {
  uint8_t *r = NULL;
  size_t n = 0;
  tr_err *e = tr_grpc_call(c, "/test.Echo/Echo", (const uint8_t *)req, strlen(req), timeout_ms, &r, &n);
  if (!e && out) {
    *out = strndup((char *)r, n);
  }
  free(r);
  return e;
}

static void test_server_client(void **st) {
  (void)st;
  char addr[64];
  tr_grpc_server *s = start(2, addr, sizeof(addr));
  char target[80];
  snprintf(target, sizeof(target), "http://%s", addr);
  tr_grpc_client_config cc = {.target = target, .pool_size = 2};
  tr_grpc_client *c = NULL;
  OK(tr_grpc_client_new(&cc, &c));
  assert_string_equal(tr_grpc_client_target(c), addr);
  OK(tr_grpc_client_wait_ready(c, 5000));
  char *out = NULL;
  OK(call(c, "hello", 0, &out));
  assert_string_equal(out, "hello");
  free(out);
  /* empty request and response */
  OK(call(c, "", 0, &out));
  assert_string_equal(out, "");
  free(out);
  /* handler errors keep their code and message */
  tr_err *e = call(c, "fail-x", 0, NULL);
  assert_non_null(e);
  assert_int_equal(tr_err_code(e), TR_E_NOTFOUND);
  assert_non_null(strstr(tr_err_msg(e), "NOT_FOUND: no such thing `fail-x`"));
  assert_non_null(strstr(tr_err_msg(e), addr));
  tr_err_free(e);
  e = call(c, "invalid", 0, NULL);
  assert_int_equal(tr_err_code(e), TR_E_INVALID);
  tr_err_free(e);
  /* unknown method */
  uint8_t *r = NULL;
  size_t n = 0;
  e = tr_grpc_call(c, "/test.Echo/Nope", (const uint8_t *)"x", 1, 0, &r, &n);
  assert_int_equal(tr_err_code(e), TR_E_UNSUPPORTED);
  assert_non_null(strstr(tr_err_msg(e), "UNIMPLEMENTED: unknown method /test.Echo/Nope"));
  tr_err_free(e);
  /* oversized: gRPC refuses it before the handler */
  char big[4096];
  memset(big, 'a', sizeof(big) - 1);
  big[sizeof(big) - 1] = '\0';
  e = call(c, big, 0, NULL);
  assert_int_equal(tr_err_code(e), TR_E_LIMIT);
  assert_non_null(strstr(tr_err_msg(e), "RESOURCE_EXHAUSTED"));
  tr_err_free(e);
  /* deadline shorter than the handler */
  e = call(c, "sleep", 100, NULL);
  assert_int_equal(tr_err_code(e), TR_E_IO);
  assert_non_null(strstr(tr_err_msg(e), "DEADLINE_EXCEEDED"));
  tr_err_free(e);
  /* health */
  e = tr_grpc_call(c, "/grpc.health.v1.Health/Check", NULL, 0, 0, &r, &n);
  assert_null(e);
  assert_int_equal(n, 2); /* status = SERVING (field 1, varint 1) */
  assert_int_equal(r[0], 0x08);
  assert_int_equal(r[1], 0x01);
  free(r);
  /* still serving after all that */
  OK(call(c, "again", 0, &out));
  free(out);
  tr_grpc_client_free(c);
  tr_grpc_server_stop(s, 1000);
}

typedef struct {
  tr_grpc_client *c;
  const char *req;
  tr_err *e;
} caller;

static void *call_thread(void *arg) {
  caller *k = arg;
  k->e = call(k->c, k->req, 10000, NULL);
  return NULL;
}

static void test_pool_and_graceful_stop(void **st) {
  (void)st;
  char addr[64];
  tr_grpc_server *s = start(2, addr, sizeof(addr));
  tr_grpc_client_config cc = {.target = addr, .pool_size = 3};
  tr_grpc_client *c = NULL;
  OK(tr_grpc_client_new(&cc, &c));
  atomic_store(&max_in_handler, 0);
  pthread_t t[6];
  caller k[6];
  for (int i = 0; i < 6; i++) {
    k[i] = (caller){c, "sleep", NULL};
    pthread_create(&t[i], NULL, call_thread, &k[i]);
  }
  for (int i = 0; i < 6; i++) {
    pthread_join(t[i], NULL);
    assert_null(k[i].e);
  }
  assert_true(atomic_load(&max_in_handler) <= 2); /* never more handlers than workers */
  assert_int_equal(atomic_load(&max_in_handler), 2);
  /* a call in flight when the stop begins still completes */
  caller slow = {c, "sleep", NULL};
  pthread_t th;
  pthread_create(&th, NULL, call_thread, &slow);
  sleep_ms(100);
  tr_grpc_server_stop(s, 3000);
  pthread_join(th, NULL);
  assert_null(slow.e);
  /* the server is gone: precise error */
  tr_err *e = call(c, "x", 2000, NULL);
  assert_non_null(e);
  assert_int_equal(tr_err_code(e), TR_E_IO);
  assert_non_null(strstr(tr_err_msg(e), "UNAVAILABLE"));
  tr_err_free(e);
  e = tr_grpc_client_wait_ready(c, 300);
  assert_non_null(e);
  assert_non_null(strstr(tr_err_msg(e), "unreachable"));
  tr_err_free(e);
  tr_grpc_client_free(c);
  /* a port in use */
  tr_grpc_server *a = start(1, addr, sizeof(addr));
  tr_grpc_server_config c2 = {.listen = addr, .workers = 1};
  tr_grpc_server *b = NULL;
  e = tr_grpc_server_start(&c2, &b);
  assert_non_null(e);
  assert_non_null(strstr(tr_err_msg(e), "cannot listen"));
  tr_err_free(e);
  tr_grpc_server_stop(a, 0);
}

static void test_remote_rvps(void **st) {
  (void)st;
  tr_rvps *local = NULL;
  OK(tr_rvps_from_config(NULL, &local));
  tr_grpc_method m[TR_GRPC_RVPS_NMETHODS];
  tr_grpc_rvps_methods(local, m);
  tr_grpc_server_config sc = {
      .listen = "127.0.0.1:0", .workers = 2, .methods = m, .nmethods = TR_GRPC_RVPS_NMETHODS};
  tr_grpc_server *s = NULL;
  OK(tr_grpc_server_start(&sc, &s));
  char addr[64];
  snprintf(addr, sizeof(addr), "127.0.0.1:%u", (unsigned)tr_grpc_server_port(s));
  json_t *rc = json_pack("{s:s,s:s}", "type", "GrpcRemote", "address", addr);
  tr_rvps *r = NULL;
  OK(tr_grpc_rvps_from_as_config(rc, &r));
  json_decref(rc);
  const char *vals = "{\"svn\":[\"1\"],\"n\":3}";
  char *pl = tr_b64_encode(vals, strlen(vals), TR_B64_STD);
  char msg[256];
  snprintf(msg, sizeof(msg), "{\"version\":\"0.1.0\",\"type\":\"sample\",\"payload\":\"%s\"}", pl);
  free(pl);
  OK(tr_rvps_register(r, msg, strlen(msg)));
  json_t *v = NULL;
  OK(tr_rvps_query(r, "svn", &v));
  assert_string_equal(json_string_value(json_array_get(v, 0)), "1");
  json_decref(v);
  OK(tr_rvps_query(r, "unknown", &v));
  assert_null(v);
  OK(tr_rvps_query_all(r, &v));
  assert_int_equal(json_object_size(v), 2);
  assert_int_equal(json_integer_value(json_object_get(v, "n")), 3);
  json_decref(v);
  OK(tr_rvps_list(r, &v));
  assert_int_equal(json_array_size(v), 2);
  json_decref(v);
  OK(tr_rvps_delete(r, "n"));
  tr_err *e = tr_rvps_delete(r, "n");
  assert_int_equal(tr_err_code(e), TR_E_NOTFOUND);
  tr_err_free(e);
  const char *bad = "{\"version\":\"9\",\"type\":\"sample\",\"payload\":\"e30=\"}";
  e = tr_rvps_register(r, bad, strlen(bad));
  assert_int_equal(tr_err_code(e), TR_E_INVALID);
  assert_non_null(strstr(tr_err_msg(e), "Version unmatched"));
  tr_err_free(e);
  tr_grpc_server_stop(s, 1000);
  /* down at evaluation time: the address and the status */
  e = tr_rvps_query(r, "svn", &v);
  assert_non_null(e);
  assert_non_null(strstr(tr_err_msg(e), addr));
  assert_non_null(strstr(tr_err_msg(e), "UNAVAILABLE"));
  tr_err_free(e);
  tr_rvps_free(r);
  /* down at start */
  rc = json_pack("{s:s,s:s}", "type", "GrpcRemote", "address", addr);
  e = tr_grpc_rvps_from_as_config(rc, &r);
  json_decref(rc);
  assert_non_null(e);
  assert_non_null(strstr(tr_err_msg(e), "unreachable"));
  tr_err_free(e);
  tr_rvps_free(local);
}

/* The KBS's remote-AS client against the AttestationService and RVPS
 * services of an in-process AS. */
static void test_remote_as(void **st) {
  (void)st;
  tr_as *as = NULL;
  OK(tr_as_new(NULL, &as));
  tr_grpc_method m[TR_GRPC_AS_NMETHODS + TR_GRPC_RVPS_NMETHODS];
  tr_grpc_as_methods(as, m);
  tr_grpc_rvps_methods(tr_as_rvps(as), m + TR_GRPC_AS_NMETHODS);
  tr_grpc_server_config sc = {.listen = "127.0.0.1:0", .workers = 2, .methods = m, .nmethods = 7};
  tr_grpc_server *s = NULL;
  OK(tr_grpc_server_start(&sc, &s));
  char addr[64];
  snprintf(addr, sizeof(addr), "http://127.0.0.1:%u", (unsigned)tr_grpc_server_port(s));
  tr_grpc_as_client *c = NULL;
  OK(tr_grpc_as_client_new(addr, 0, &c));
  /* reference values through the AS's RVPS service */
  const char *vals =
      "{\"svn\":[\"1\"],\"launch_digest\":[\"abcde\"],\"major_version\":1,\"minimum_minor_version\":1}";
  char *pl = tr_b64_encode(vals, strlen(vals), TR_B64_STD);
  char msg[512];
  snprintf(msg, sizeof(msg), "{\"version\":\"0.1.0\",\"type\":\"sample\",\"payload\":\"%s\"}", pl);
  free(pl);
  OK(tr_rvps_register(tr_grpc_as_client_rvps(c), msg, strlen(msg)));
  /* evaluate with structured runtime data bound through report_data */
  json_t *rd = json_pack("{s:s}", "nonce", "abc");
  char *canon = tr_json_dump_sorted(rd);
  uint8_t dg[64];
  size_t dlen = 0;
  OK(tr_digest_by_name("sha384", canon, strlen(canon), dg, &dlen));
  free(canon);
  char *rd64 = tr_b64_encode(dg, dlen, TR_B64_STD);
  json_t *ev = json_pack("{s:s,s:s}", "svn", "1", "report_data", rd64);
  free(rd64);
  tr_as_request r = {.tee = "sample",
                     .evidence = ev,
                     .runtime_data = {.kind = TR_DATA_STRUCTURED, .structured = rd},
                     .runtime_data_hash_alg = TR_SHA384,
                     .init_data = {.kind = TR_DATA_STRUCTURED,
                                   .toml = "version = \"0.1.0\"\nalgorithm = \"sha384\"\n[data]\n"}};
  char *tok = NULL;
  tr_err *e = tr_grpc_as_evaluate(c, &r, 1, NULL, 0, &tok);
  if (e) fail_msg("%s", tr_err_msg(e));
  const char *dot = strchr(tok, '.');
  assert_non_null(dot);
  uint8_t *claims = NULL;
  size_t clen = 0;
  OK(tr_b64_decode(dot + 1, (size_t)(strchr(dot + 1, '.') - dot - 1), TR_B64_URL_NOPAD, &claims, &clen));
  json_t *cj = NULL;
  OK(tr_json_parse((char *)claims, clen, &cj));
  json_t *cpu0 = json_object_get(json_object_get(cj, "submods"), "cpu0");
  assert_string_equal(json_string_value(json_object_get(cpu0, "ear.status")), "affirming");
  json_decref(cj);
  free(claims);
  free(tok);
  /* a wrong binding is the AS's error, carried back */
  r.runtime_data.kind = TR_DATA_NONE;
  r.runtime_data_hash_alg = 0;
  json_object_set_new(ev, "report_data", json_string("AAAA"));
  r.runtime_data = (tr_as_data){.kind = TR_DATA_RAW, .raw = (const uint8_t *)"xyz", .raw_len = 3};
  e = tr_grpc_as_evaluate(c, &r, 1, NULL, 0, &tok);
  assert_non_null(e);
  assert_non_null(strstr(tr_err_msg(e), "remote attestation service"));
  tr_err_free(e);
  /* init data as a JSON object cannot travel in the current request */
  r.init_data = (tr_as_data){.kind = TR_DATA_STRUCTURED, .structured = rd};
  e = tr_grpc_as_evaluate(c, &r, 1, NULL, 0, &tok);
  assert_int_equal(tr_err_code(e), TR_E_UNSUPPORTED);
  tr_err_free(e);
  json_decref(ev);
  json_decref(rd);
  /* policies and challenges */
  OK(tr_grpc_as_set_policy(c, "mine_cpu",
                           "package policy\nimport rego.v1\ntrust_claims := {\"hardware\": 2}\n"));
  char *text = NULL;
  OK(tr_as_get_policy(as, "mine_cpu", &text));
  assert_non_null(strstr(text, "trust_claims"));
  free(text);
  e = tr_grpc_as_set_policy(c, "bad_cpu", "package policy\n(");
  assert_int_equal(tr_err_code(e), TR_E_INVALID);
  tr_err_free(e);
  char *chal = NULL;
  json_t *params = json_pack("{s:[s]}", "supported-hash-algorithms", "sha384");
  OK(tr_grpc_as_challenge(c, "sample", params, &chal));
  assert_string_equal(chal, "");
  free(chal);
  json_decref(params);
  tr_grpc_as_client_free(c);
  tr_grpc_server_stop(s, 1000);
  tr_as_free(as);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_status_mapping), cmocka_unit_test(test_decode_shapes),
      cmocka_unit_test(test_server_client),  cmocka_unit_test(test_pool_and_graceful_stop),
      cmocka_unit_test(test_remote_rvps),    cmocka_unit_test(test_remote_as),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
