/* Tests for the `tdx` verifier: upstream's claims golden file (tdx_quote_4 +
 * CCEL_data), v5/TDX 1.5 claims, end to end through the verifier table with
 * the real dcap-qvl quote and collateral (bundle file, PCS-shaped HTTP
 * server on loopback with the on-disk cache, the PCS client tool's file://
 * JSON), report-data / MRCONFIGID bindings, event-log replay against the
 * quote's RTMRs, and az-tdx-vtpm reaching DCAP through its hook. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "test_dcap_util.h"

#include "core/buf.h"
#include "core/encoding.h"
#include "core/json.h"
#include "verifier/dcap/dcap.h"
#include "verifier/eventlog/eventlog.h"
#include "verifier/tdx/tdx.h"
#include "verifier/verifier.h"

static void claim_str(const json_t *o, const char *path, const char *want) {
  const char *v = json_string_value(tr_json_path(o, path));
  if (!v || strcmp(v, want)) fprintf(stderr, "claim %s = %s, expected %s\n", path, v ? v : "(none)", want);
  assert_non_null(v);
  assert_string_equal(v, want);
}

/* ---- claims ------------------------------------------------------------------------- */

static void test_claims_golden(void **st) {
  (void)st;
  size_t qn, ln;
  uint8_t *qb = readv(TD "tdx_quote_4.dat", &qn), *lb = readv(TD "CCEL_data", &ln);
  tr_dcap_quote q;
  tr_dcap_platform p;
  tr_ccel log;
  assert_null(tr_dcap_quote_parse(qb, qn, &q));
  assert_null(tr_dcap_platform_from_chain(q.pck_chain, q.pck_chain_len, &p, NULL));
  assert_null(tr_ccel_parse(lb, ln, &log));
  json_t *c = tr_tdx_claims(&q, log.entries, &p);
  json_t *want = readj(TD "parse_tdx_claims_expected.json");
  if (!json_equal(c, want)) {
    char *a = tr_json_dump_sorted(c);
    fprintf(stderr, "got %.2000s\n", a);
    free(a);
  }
  assert_true(json_equal(c, want));
  json_decref(want);
  json_decref(c);
  tr_ccel_clear(&log);
  free(qb);
  free(lb);
}

static void test_claims_v5(void **st) {
  (void)st;
  size_t qn;
  uint8_t *qb = readv(TD "tdx_quote_5.dat", &qn);
  tr_dcap_quote q;
  tr_dcap_platform p;
  assert_null(tr_dcap_quote_parse(qb, qn, &q));
  assert_null(tr_dcap_platform_from_chain(q.pck_chain, q.pck_chain_len, &p, NULL));
  json_t *c = tr_tdx_claims(&q, NULL, &p);
  claim_str(c, "quote.header.version", "0500");
  claim_str(c, "quote.type", "0300");
  claim_str(c, "quote.size", "88020000"); /* 648 LE */
  assert_int_equal(strlen(json_string_value(tr_json_path(c, "quote.body.tee_tcb_svn2"))), 32);
  assert_int_equal(strlen(json_string_value(tr_json_path(c, "quote.body.mr_servicetd"))), 96);
  assert_null(json_object_get(c, "uefi_event_logs"));
  assert_true(json_is_boolean(tr_json_path(c, "td_attributes.septve_disable")));
  json_decref(c);
  free(qb);
}

/* ---- the verifier end to end ------------------------------------------------------------- */

typedef struct {
  const tr_verifier_ops *ops;
  void *state;
} ver;

static ver make(const char *tee, const char *cfg_text) {
  ver v = {tr_verifier_lookup(tee), NULL};
  assert_non_null(v.ops);
  json_t *cfg = cfg_text ? json_loads(cfg_text, 0, NULL) : NULL;
  if (cfg_text) assert_non_null(cfg);
  tr_err *e = v.ops->create(cfg, &v.state);
  if (e) fprintf(stderr, "%s\n", tr_err_msg(e));
  assert_null(e);
  json_decref(cfg);
  return v;
}

static void unmake(ver *v) { v->ops->destroy(v->state); }

static json_t *eval(ver *v, json_t *ev, const uint8_t *rd, size_t rdl, const uint8_t *id, size_t idl,
                    tr_err **err) {
  tr_expected r = {rd != NULL, rd, rdl}, i = {id != NULL, id, idl};
  tr_verified_list l = {0};
  *err = v->ops->evaluate(v->state, ev, &r, &i, &l);
  if (*err) return NULL;
  assert_int_equal(l.len, 1);
  assert_string_equal(l.items[0].tee_class, "cpu");
  json_t *c = json_incref(l.items[0].claims);
  tr_verified_list_clear(&l);
  return c;
}

static void fails(ver *v, json_t *ev, const uint8_t *rd, size_t rdl, const uint8_t *id, size_t idl,
                  const char *needle) {
  tr_err *e = NULL;
  json_t *c = eval(v, ev, rd, rdl, id, idl, &e);
  assert_null(c);
  assert_non_null(e);
  if (!strstr(tr_err_msg(e), needle)) fprintf(stderr, "error: %s (wanted %s)\n", tr_err_msg(e), needle);
  assert_non_null(strstr(tr_err_msg(e), needle));
  tr_err_free(e);
}

static json_t *tdx_evidence(const char *quote_rel, const char *log_rel) {
  size_t n;
  uint8_t *q = readv(quote_rel, &n);
  char *b = tr_b64_encode(q, n, TR_B64_STD);
  json_t *ev = json_pack("{ss}", "quote", b);
  free(b);
  free(q);
  if (log_rel) {
    uint8_t *l = readv(log_rel, &n);
    b = tr_b64_encode(l, n, TR_B64_STD);
    json_object_set_new(ev, "cc_eventlog", json_string(b));
    free(b);
    free(l);
  } else {
    json_object_set_new(ev, "cc_eventlog", json_null());
  }
  return ev;
}

static char *bundle_config(const char *extra) {
  char *bundle = path_of(QVL "tdx_quote_collateral.json"), *cfg = NULL;
  assert_true(asprintf(&cfg,
                       "{\"dcap_verifier\":{\"collateral_service\":\"file:///nonexistent/pcs.json\","
                       "\"collateral_bundles\":[\"%s\"],\"verification_time\":\"%s\"%s}}",
                       bundle, QVL_TIME, extra) > 0);
  free(bundle);
  return cfg;
}

static void check_qvl_tdx_claims(const json_t *c) {
  claim_str(c, "tcb_status", "UpToDate");
  claim_str(c, "quote.header.version", "0400");
  claim_str(c, "quote.header.tee_type", "81000000");
  claim_str(c, "collateral_expiration_status", "0");
  assert_int_equal(json_array_size(json_object_get(c, "advisory_ids")), 0);
  assert_non_null(json_object_get(c, "platform_instance_id"));
  assert_non_null(json_object_get(c, "td_attributes"));
}

static void test_verifier_bundle(void **st) {
  (void)st;
  char *cfg = bundle_config("");
  ver v = make("tdx", cfg);
  free(cfg);
  json_t *ev = tdx_evidence(QVL "tdx_quote", NULL);
  tr_err *e = NULL;
  json_t *c = eval(&v, ev, NULL, 0, NULL, 0, &e);
  if (e) fprintf(stderr, "%s\n", tr_err_msg(e));
  assert_null(e);
  check_qvl_tdx_claims(c);
  /* bindings: the quote's own report data / MR_CONFIG_ID pass, others fail */
  uint8_t rd[64], id[48];
  size_t n;
  uint8_t *raw;
  assert_null(tr_hex_decode(json_string_value(json_object_get(c, "report_data")), 128, &raw, &n));
  memcpy(rd, raw, 64);
  free(raw);
  assert_null(tr_hex_decode(json_string_value(json_object_get(c, "init_data")), 96, &raw, &n));
  memcpy(id, raw, 48);
  free(raw);
  json_decref(c);
  c = eval(&v, ev, rd, 64, id, 48, &e);
  assert_null(e);
  json_decref(c);
  rd[63] ^= 1;
  fails(&v, ev, rd, 64, NULL, 0, "TDX Verifier: REPORT_DATA is different from that in TDX Quote");
  rd[63] ^= 1;
  id[0] ^= 1;
  fails(&v, ev, rd, 64, id, 48, "TDX Verifier: MRCONFIGID is different from that in TDX Quote");
  json_decref(ev);
  /* an empty event log is ignored; a log that does not replay to the RTMRs fails */
  ev = tdx_evidence(QVL "tdx_quote", NULL);
  json_object_set_new(ev, "cc_eventlog", json_string(""));
  c = eval(&v, ev, NULL, 0, NULL, 0, &e);
  assert_null(e);
  assert_null(json_object_get(c, "uefi_event_logs"));
  json_decref(c);
  json_decref(ev);
  ev = tdx_evidence(QVL "tdx_quote", "vectors/trustee/deps/eventlog/test_data/CCEL_data");
  fails(&v, ev, NULL, 0, NULL, 0,
        "Eventlog does not pass measurement replay CC Event Log Measurement Register [index = 1]");
  json_decref(ev);
  /* records without a SHA-384 digest (here: a CSV log, SM3 only) are not
   * covered by the RTMR replay: refused before it */
  ev = tdx_evidence(QVL "tdx_quote", "vectors/trustee/deps/eventlog/test_data/CCEL_data_csv");
  fails(&v, ev, NULL, 0, NULL, 0, "has no SHA-384 digest: not bound by the replay");
  json_decref(ev);
  /* SGX quote, broken evidence */
  ev = tdx_evidence(QVL "sgx_quote", NULL);
  fails(&v, ev, NULL, 0, NULL, 0, "expected TDX quote (v4/v5), got SGX quote (v3)");
  json_decref(ev);
  ev = json_pack("{ss}", "quote", "!!!");
  fails(&v, ev, NULL, 0, NULL, 0, "TDX evidence field `quote`");
  json_decref(ev);
  ev = json_pack("{ss}", "quote", "");
  fails(&v, ev, NULL, 0, NULL, 0, "TDX Quote is empty.");
  json_decref(ev);
  ev = json_pack("{si}", "quote", 3);
  fails(&v, ev, NULL, 0, NULL, 0, "Deserialize TDX Evidence failed.");
  json_decref(ev);
  /* a quote whose FMSPC has no collateral anywhere */
  ev = tdx_evidence(TD "tdx_quote_4.dat", NULL);
  fails(&v, ev, NULL, 0, NULL, 0, "collateral not available from file:///nonexistent/pcs.json");
  json_decref(ev);
  unmake(&v);
  /* expired under "reject" */
  char *cfg2 = NULL;
  char *bundle = path_of(QVL "tdx_quote_collateral.json");
  assert_true(
      asprintf(&cfg2,
               "{\"dcap_verifier\":{\"collateral_service\":\"file:///nonexistent\",\"collateral_bundles\":"
               "[\"%s\"],\"verification_time\":\"2026-01-01T00:00:00Z\",\"expired_collateral\":\"reject\"}}",
               bundle) > 0);
  free(bundle);
  v = make("tdx", cfg2);
  free(cfg2);
  ev = tdx_evidence(QVL "tdx_quote", NULL);
  fails(&v, ev, NULL, 0, NULL, 0, "collateral expired at 2025-07-19T10:00:35Z");
  json_decref(ev);
  unmake(&v);
  /* config errors */
  json_t *bad = json_loads("{\"dcap_verifier\":{\"tcb_update_type\":\"late\"}}", 0, NULL);
  void *s = NULL;
  tr_err *ce = tr_verifier_lookup("tdx")->create(bad, &s);
  assert_non_null(ce);
  assert_non_null(strstr(tr_err_msg(ce), "tcb_update_type"));
  tr_err_free(ce);
  json_decref(bad);
  bad = json_loads("{\"dcap_verifier\":{\"collateral_service\":\"ftp://x\"}}", 0, NULL);
  ce = tr_verifier_lookup("tdx")->create(bad, &s);
  assert_non_null(ce);
  tr_err_free(ce);
  json_decref(bad);
}

/* ---- PCS-shaped server on loopback --------------------------------------------------------- */

typedef struct {
  pid_t pid;
  int port;
  char dir[64], log[128];
} pcs_server;

static void pcs_start(pcs_server *s, const char *bundle_rel, const char *tee) {
  strcpy(s->dir, "/tmp/dcap-test-XXXXXX");
  assert_non_null(mkdtemp(s->dir));
  char portf[128], *bundle = path_of(bundle_rel), script[512];
  snprintf(portf, sizeof(portf), "%s/port", s->dir);
  snprintf(s->log, sizeof(s->log), "%s/requests.log", s->dir);
  const char *src = getenv("TRUSTEE_SOURCE_DIR");
  snprintf(script, sizeof(script), "%s/tests/verifier/test_dcap_pcs.py", src ? src : "../..");
  s->pid = fork();
  assert_true(s->pid >= 0);
  if (s->pid == 0) {
    /* dies with the test: a failed assertion skips pcs_stop, and an orphaned
     * server would keep ctest's output pipe open until the test timeout */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    execl("/usr/bin/python3", "python3", script, portf, s->log, bundle, tee, (char *)NULL);
    _exit(127);
  }
  free(bundle);
  for (int i = 0; i < 200; i++) {
    FILE *f = fopen(portf, "r");
    if (f) {
      int ok = fscanf(f, "%d", &s->port);
      fclose(f);
      if (ok == 1) return;
    }
    usleep(25000);
  }
  fail_msg("PCS test server did not start");
}

static void pcs_stop(pcs_server *s) {
  if (s->pid > 0) {
    kill(s->pid, SIGTERM);
    waitpid(s->pid, NULL, 0);
    s->pid = 0;
  }
}

static int count_lines(const char *path) {
  FILE *f = fopen(path, "r");
  int n = 0, ch;
  if (!f) return 0;
  while ((ch = fgetc(f)) != EOF)
    n += ch == '\n';
  fclose(f);
  return n;
}

static void test_pcs_server_and_cache(void **st) {
  (void)st;
  pcs_server s;
  pcs_start(&s, QVL "tdx_quote_collateral.json", "tdx");
  char *cfg = NULL;
  assert_true(
      asprintf(&cfg,
               "{\"dcap_verifier\":{\"collateral_service\":\"http://127.0.0.1:%d/sgx/certification/v4/\","
               "\"cache_dir\":\"%s/cache\",\"verification_time\":\"%s\",\"tcb_update_type\":\"standard\"}}",
               s.port, s.dir, QVL_TIME) > 0);
  ver v = make("tdx", cfg);
  json_t *ev = tdx_evidence(QVL "tdx_quote", NULL);
  tr_err *e = NULL;
  json_t *c = eval(&v, ev, NULL, 0, NULL, 0, &e);
  if (e) fprintf(stderr, "%s\n", tr_err_msg(e));
  assert_null(e);
  check_qvl_tdx_claims(c);
  json_decref(c);
  assert_int_equal(count_lines(s.log), 4); /* tcb, qe identity, pck crl, root crl */
  char *logtxt = NULL;
  size_t ln;
  assert_null(tr_read_file(s.log, 0, (uint8_t **)&logtxt, &ln));
  assert_non_null(strstr(logtxt, "/tdx/certification/v4/tcb?fmspc=B0C06F000000&update=standard"));
  assert_non_null(strstr(logtxt, "/tdx/certification/v4/qe/identity?update=standard"));
  assert_non_null(strstr(logtxt, "/sgx/certification/v4/pckcrl?ca=platform&encoding=der"));
  assert_non_null(strstr(logtxt, "/sgx/certification/v4/rootcacrl"));
  free(logtxt);
  /* memory cache: no new request */
  c = eval(&v, ev, NULL, 0, NULL, 0, &e);
  assert_null(e);
  json_decref(c);
  assert_int_equal(count_lines(s.log), 4);
  unmake(&v);
  /* sgx_default_qcnl.conf (JSON with // comments): pccs_url is honoured when
   * no collateral_service is configured */
  char qcnl[160], *qcfg = NULL;
  snprintf(qcnl, sizeof(qcnl), "%s/sgx_default_qcnl.conf", s.dir);
  FILE *qf = fopen(qcnl, "w");
  assert_non_null(qf);
  fprintf(qf,
          "{\n  // PCCS server address\n  \"pccs_url\": \"http://127.0.0.1:%d/sgx/certification/v4/\",\n"
          "  // To accept insecure HTTPS certificate, set this option to false\n  \"use_secure_cert\": "
          "false\n}\n",
          s.port);
  fclose(qf);
  assert_true(asprintf(&qcfg, "{\"dcap_verifier\":{\"qcnl_conf\":\"%s\",\"verification_time\":\"%s\"}}", qcnl,
                       QVL_TIME) > 0);
  v = make("tdx", qcfg);
  free(qcfg);
  c = eval(&v, ev, NULL, 0, NULL, 0, &e);
  if (e) fprintf(stderr, "%s\n", tr_err_msg(e));
  assert_null(e);
  json_decref(c);
  assert_int_equal(count_lines(s.log), 8);
  unmake(&v);
  /* disk cache: a new verifier reads the cached file, even with the server gone */
  pcs_stop(&s);
  char cached[256];
  snprintf(cached, sizeof(cached), "%s/cache/tdx-B0C06F000000-platform-standard.json", s.dir);
  struct stat sb;
  assert_int_equal(stat(cached, &sb), 0);
  v = make("tdx", cfg);
  c = eval(&v, ev, NULL, 0, NULL, 0, &e);
  if (e) fprintf(stderr, "%s\n", tr_err_msg(e));
  assert_null(e);
  check_qvl_tdx_claims(c);
  json_decref(c);
  unmake(&v);
  /* without the cache, the dead server is an error naming the fetch */
  free(cfg);
  assert_true(asprintf(&cfg,
                       "{\"dcap_verifier\":{\"collateral_service\":\"http://127.0.0.1:%d/\","
                       "\"verification_time\":\"%s\",\"timeout_ms\":2000}}",
                       s.port, QVL_TIME) > 0);
  v = make("tdx", cfg);
  fails(&v, ev, NULL, 0, NULL, 0, "failed to fetch TcbInfo");
  unmake(&v);
  /* a cached entry past its nextUpdate is refreshed; with the service down it is used (stale) */
  free(cfg);
  assert_true(
      asprintf(
          &cfg,
          "{\"dcap_verifier\":{\"collateral_service\":\"http://127.0.0.1:%d/\",\"cache_dir\":\"%s/cache\","
          "\"verification_time\":\"2025-08-01T00:00:00Z\",\"tcb_update_type\":\"standard\"}}",
          s.port, s.dir) > 0);
  v = make("tdx", cfg);
  c = eval(&v, ev, NULL, 0, NULL, 0, &e);
  assert_null(e);
  claim_str(c, "collateral_expiration_status", "1");
  json_decref(c);
  unmake(&v);
  free(cfg);
  json_decref(ev);
  char cmd[128];
  snprintf(cmd, sizeof(cmd), "rm -rf %s", s.dir);
  assert_int_equal(system(cmd), 0);
}

/* Expired collateral (the best the service has, or an offline bundle past
 * its nextUpdate) is not fetched and verified again for every quote: one
 * fetch, then the verified copy serves until a retry interval has passed
 * (each refetch used to retire another verified copy: memory grew with every
 * quote, and every quote waited on the service). */
static void test_expired_not_refetched(void **st) {
  (void)st;
  pcs_server s;
  pcs_start(&s, QVL "tdx_quote_collateral.json", "tdx");
  char *cfg = NULL;
  assert_true(asprintf(&cfg,
                       "{\"dcap_verifier\":{\"collateral_service\":\"http://127.0.0.1:%d/\","
                       "\"verification_time\":\"2025-08-01T00:00:00Z\",\"tcb_update_type\":\"standard\"}}",
                       s.port) > 0);
  ver v = make("tdx", cfg);
  json_t *ev = tdx_evidence(QVL "tdx_quote", NULL);
  int ok = 0;
  for (int i = 0; i < 3; i++) {
    tr_err *e = NULL;
    json_t *c = eval(&v, ev, NULL, 0, NULL, 0, &e);
    if (e) fprintf(stderr, "%s\n", tr_err_msg(e));
    const char *exp = json_string_value(json_object_get(c, "collateral_expiration_status"));
    const char *tcb = json_string_value(json_object_get(c, "tcb_status"));
    ok += !e && exp && strcmp(exp, "1") == 0 && tcb && strcmp(tcb, "UpToDate") == 0;
    tr_err_free(e);
    json_decref(c);
  }
  int requests = count_lines(s.log);
  unmake(&v);
  json_decref(ev);
  free(cfg);
  pcs_stop(&s);
  char cmd[128];
  snprintf(cmd, sizeof(cmd), "rm -rf %s", s.dir);
  assert_int_equal(system(cmd), 0);
  assert_int_equal(ok, 3);
  assert_int_equal(requests, 4); /* one fetch: tcb, qe identity, pck crl, root crl */
}

/* ---- the PCS client tool's file:// JSON ------------------------------------------------- */

static json_t *signed_obj(const char *text, const char *member, const char *sig) {
  json_t *inner = json_loads(text, JSON_DECODE_ANY, NULL);
  assert_non_null(inner);
  return json_pack("{soss}", member, inner, "signature", sig);
}

static void test_file_bundle(void **st) {
  (void)st;
  json_t *b = readj(QVL "tdx_quote_collateral.json");
#define S(k) json_string_value(json_object_get(b, k))
  json_t *doc = json_pack(
      "{s:{s:[{s:s,s:o}],s:{s:s,s:s},s:o,s:{s:s,s:s,s:{s:s,s:s}},s:s}}", "collaterals", "tcbinfos", "fmspc",
      "B0C06F000000", "tdx_tcbinfo", signed_obj(S("tcb_info"), "tcbInfo", S("tcb_info_signature")),
      "pckcacrl", "platformCrl", S("pck_crl"), "processorCrl", "00", "tdqeidentity",
      signed_obj(S("qe_identity"), "enclaveIdentity", S("qe_identity_signature")), "certificates",
      "TCB-Info-Issuer-Chain", S("tcb_info_issuer_chain"), "SGX-Enclave-Identity-Issuer-Chain",
      S("qe_identity_issuer_chain"), "SGX-PCK-Certificate-Issuer-Chain", "PLATFORM",
      S("pck_crl_issuer_chain"), "PROCESSOR", S("pck_crl_issuer_chain"), "rootcacrl", S("root_ca_crl"));
#undef S
  assert_non_null(doc);
  char dir[] = "/tmp/dcap-file-XXXXXX";
  assert_non_null(mkdtemp(dir));
  char file[128], *cfg = NULL;
  snprintf(file, sizeof(file), "%s/pcs.json", dir);
  assert_int_equal(json_dump_file(doc, file, JSON_INDENT(2)),
                   0); /* pretty: re-serialised for the signature */
  assert_true(
      asprintf(&cfg,
               "{\"dcap_verifier\":{\"collateral_service\":\"file://%s\",\"verification_time\":\"%s\"}}",
               file, QVL_TIME) > 0);
  ver v = make("tdx", cfg);
  json_t *ev = tdx_evidence(QVL "tdx_quote", NULL);
  tr_err *e = NULL;
  json_t *c = eval(&v, ev, NULL, 0, NULL, 0, &e);
  if (e) fprintf(stderr, "%s\n", tr_err_msg(e));
  assert_null(e);
  check_qvl_tdx_claims(c);
  json_decref(c);
  unmake(&v);
  /* rootcacrl_cdp: Intel's root CDP is accepted, another one refused (fresh verifiers) */
  static const char *const cdps[] = {"https://certificates.trustedservices.intel.com/IntelSGXRootCA.der",
                                     "https://example.com/other.der"};
  for (int i = 0; i < 2; i++) {
    json_object_set_new(json_object_get(doc, "collaterals"), "rootcacrl_cdp", json_string(cdps[i]));
    assert_int_equal(json_dump_file(doc, file, JSON_INDENT(2)), 0);
    v = make("tdx", cfg);
    if (i == 0) {
      c = eval(&v, ev, NULL, 0, NULL, 0, &e);
      assert_null(e);
      json_decref(c);
    } else {
      fails(&v, ev, NULL, 0, NULL, 0,
            "rootcacrl_cdp https://example.com/other.der differs from the root CA's");
    }
    unmake(&v);
  }
  /* an SGX quote: no SGX TCB info for its FMSPC in the file */
  ver s = make("sgx", cfg);
  json_t *sev = tdx_evidence(QVL "sgx_quote", NULL);
  json_object_del(sev, "cc_eventlog");
  fails(&s, sev, NULL, 0, NULL, 0, "collateral not available from file://");
  json_decref(sev);
  unmake(&s);
  json_decref(ev);
  json_decref(doc);
  json_decref(b);
  free(cfg);
  unlink(file);
  rmdir(dir);
}

/* ---- az-tdx-vtpm reaches DCAP ------------------------------------------------------------ */

static void test_az_tdx_vtpm_hook(void **st) {
  (void)st;
  ver v =
      make("az-tdx-vtpm", "{\"dcap_verifier\":{\"collateral_service\":\"file:///nonexistent/pcs.json\"}}");
  json_t *ev = readj(TD "az-tdx-vtpm/evidence-v1.json");
  /* every vTPM/HCL check passes, then the TD quote goes to DCAP, whose
   * collateral for FMSPC 00806F050000 is not available here */
  fails(&v, ev, (const uint8_t *)"challenge", 9, NULL, 0,
        "az-tdx-vtpm: DCAP quote verification: collateral from file:///nonexistent/pcs.json");
  json_decref(ev);
  unmake(&v);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_claims_golden),         cmocka_unit_test(test_claims_v5),
      cmocka_unit_test(test_verifier_bundle),       cmocka_unit_test(test_pcs_server_and_cache),
      cmocka_unit_test(test_expired_not_refetched), cmocka_unit_test(test_file_bundle),
      cmocka_unit_test(test_az_tdx_vtpm_hook),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
