/* Tests for the Intel DCAP core (src/verifier/dcap): quote parsing of every
 * shipped quote, PCK extension facts, signature/chain verification of every
 * shipped quote and precise failures of mutated ones, the two dcap-qvl
 * quotes with their real Intel collateral (outcomes from the vectors'
 * README), collateral tampering, expiry policy, revocation, the TCB
 * algorithm on tdx_quote_6 with the shipped tcbInfo/enclaveIdentity, and the
 * embedded Intel root. */
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "test_dcap_util.h"

#include "core/buf.h"
#include "core/encoding.h"
#include "core/json.h"
#include "core/time.h"
#include "crypto/x509.h"
#include "verifier/dcap/dcap.h"
#include "verifier/dcap/dcap_internal.h"
#include "verifier/intel_roots/intel_roots.h"

static int64_t t3339(const char *s) {
  int64_t t;
  assert_null(tr_time_parse_rfc3339(s, &t, NULL));
  return t;
}

static void expect_err(tr_err *e, tr_code code, const char *needle) {
  assert_non_null(e);
  if (!strstr(tr_err_msg(e), needle))
    fprintf(stderr, "unexpected error: %s (wanted %s)\n", tr_err_msg(e), needle);
  assert_non_null(strstr(tr_err_msg(e), needle));
  if (code) assert_int_equal(tr_err_code(e), code);
  tr_err_free(e);
}

static char *hex(const void *d, size_t n) { return tr_hex_encode(d, n); }

/* ---- parsing ------------------------------------------------------------------- */

static const struct {
  const char *file;
  uint16_t version, body_type;
  uint32_t tee;
  const char *fmspc;
  bool platform_ca;
} QUOTES[] = {
    {TD "tdx_quote_4.dat", 4, 2, TR_DCAP_TEE_TDX, "50806f000000", true},
    {TD "tdx_quote_5.dat", 5, 3, TR_DCAP_TEE_TDX, "90c06f000000", true},
    {TD "tdx_quote_6.dat", 4, 2, TR_DCAP_TEE_TDX, "00a06d080000", true},
    {TD "occlum_quote.dat", 3, 1, TR_DCAP_TEE_SGX, "00606a000000", true},
    {TD "az-tdx-vtpm/td-quote.bin", 4, 2, TR_DCAP_TEE_TDX, "00806f050000", true},
    {QVL "sgx_quote", 3, 1, TR_DCAP_TEE_SGX, "00a067110000", false},
    {QVL "tdx_quote", 4, 2, TR_DCAP_TEE_TDX, "b0c06f000000", true},
};

static void test_parse_and_signatures(void **st) {
  (void)st;
  for (size_t i = 0; i < sizeof(QUOTES) / sizeof(QUOTES[0]); i++) {
    size_t n;
    uint8_t *d = readv(QUOTES[i].file, &n);
    tr_dcap_quote q;
    tr_err *e = tr_dcap_quote_parse(d, n, &q);
    if (e) fprintf(stderr, "%s: %s\n", QUOTES[i].file, tr_err_msg(e));
    assert_null(e);
    assert_int_equal(q.version, QUOTES[i].version);
    assert_int_equal(q.body_type, QUOTES[i].body_type);
    assert_int_equal(q.tee_type, QUOTES[i].tee);
    tr_dcap_platform p;
    e = tr_dcap_verify_quote_signatures(&q, &p);
    if (e) fprintf(stderr, "%s: %s\n", QUOTES[i].file, tr_err_msg(e));
    assert_null(e);
    char *f = hex(p.fmspc, 6);
    assert_string_equal(f, QUOTES[i].fmspc);
    free(f);
    if (p.is_platform_ca != QUOTES[i].platform_ca)
      fprintf(stderr, "%s: platform CA %d\n", QUOTES[i].file, p.is_platform_ca);
    assert_int_equal(p.is_platform_ca, QUOTES[i].platform_ca);
    assert_int_equal(p.has_platform_instance, QUOTES[i].platform_ca);
    free(d);
  }
}

static void test_platform_facts(void **st) {
  (void)st;
  size_t n;
  uint8_t *d = readv(TD "occlum_quote.dat", &n);
  tr_dcap_quote q;
  tr_dcap_platform p;
  assert_null(tr_dcap_quote_parse(d, n, &q));
  assert_null(tr_dcap_platform_from_chain(q.pck_chain, q.pck_chain_len, &p, NULL));
  char *pi = hex(p.platform_instance_id, 16);
  assert_string_equal(pi, "7a3a6941065cd5060bd93d3db2cfc0c8"); /* upstream sgx/claims.rs */
  free(pi);
  free(d);
}

static void test_parse_errors(void **st) {
  (void)st;
  size_t n;
  uint8_t *d = readv(TD "tdx_quote_4.dat", &n);
  tr_dcap_quote q;
  expect_err(tr_dcap_quote_parse(d, 47, &q), TR_E_INVALID, "shorter than its header");
  for (size_t cut = 48; cut < 1200; cut += 37) {
    tr_err *e = tr_dcap_quote_parse(d, cut, &q);
    assert_non_null(e);
    tr_err_free(e);
  }
  uint8_t *m = malloc(n);
  memcpy(m, d, n);
  m[0] = 6;
  expect_err(tr_dcap_quote_parse(m, n, &q), TR_E_UNSUPPORTED, "quote version 6 is not supported");
  memcpy(m, d, n);
  m[2] = 3;
  expect_err(tr_dcap_quote_parse(m, n, &q), TR_E_UNSUPPORTED, "attestation key type 3");
  memcpy(m, d, n);
  m[48 + 584 + 4 + 128] = 5; /* certification data type 6 → 5 */
  expect_err(tr_dcap_quote_parse(m, n, &q), TR_E_UNSUPPORTED, "certification data type 5 is not supported");
  memcpy(m, d, n);
  m[4] = 0; /* v4 with SGX tee type */
  expect_err(tr_dcap_quote_parse(m, n, &q), TR_E_UNSUPPORTED, "TEE type 0x0");
  free(m);
  free(d);
}

/* ---- mutations fail precisely ------------------------------------------------------ */

static tr_err *verify_mutated(const char *file, size_t off, uint8_t x) {
  size_t n;
  uint8_t *d = readv(file, &n);
  d[off] ^= x;
  tr_dcap_quote q;
  tr_err *e = tr_dcap_quote_parse(d, n, &q);
  if (!e) e = tr_dcap_verify_quote_signatures(&q, NULL);
  free(d);
  return e;
}

static void test_mutations(void **st) {
  (void)st;
  const char *f = TD "tdx_quote_4.dat";
  size_t sig = 48 + 584 + 4, qe = sig + 128 + 6;
  /* report data (in the signed body) */
  expect_err(verify_mutated(f, 48 + TR_TD_REPORT_DATA, 1), TR_E_VERIFY, "quote signature does not verify");
  /* quote signature */
  expect_err(verify_mutated(f, sig + 5, 1), TR_E_VERIFY, "quote signature does not verify");
  /* attestation key: no longer bound by the QE report */
  expect_err(verify_mutated(f, sig + 64 + 3, 1), TR_E_VERIFY,
             "QE report data does not bind the attestation key");
  /* QE report */
  expect_err(verify_mutated(f, qe + 100, 1), TR_E_VERIFY, "QE report signature does not verify");
  /* QE report signature */
  expect_err(verify_mutated(f, qe + 384 + 10, 1), TR_E_VERIFY, "QE report signature does not verify");
  /* QE auth data */
  expect_err(verify_mutated(f, qe + 384 + 64 + 2 + 3, 1), TR_E_VERIFY, "does not bind the attestation key");
  /* header vendor id */
  expect_err(verify_mutated(f, 13, 1), TR_E_VERIFY, "QE vendor ID");
  /* PCK leaf certificate: a byte inside the first PEM's base64 */
  size_t n;
  uint8_t *d = readv(f, &n);
  const char *pem = memmem(d, n, "-----BEGIN CERTIFICATE-----\n", 28);
  assert_non_null(pem);
  size_t at = (size_t)(pem - (const char *)d) + 28 + 300;
  char c = (char)d[at];
  free(d);
  expect_err(verify_mutated(f, at, (uint8_t)(c == 'A' ? 'B' ^ 'A' : c ^ 'A')), TR_E_VERIFY, "PCK");
}

/* ---- the Intel root ---------------------------------------------------------------- */

static void test_intel_root(void **st) {
  (void)st;
  size_t n;
  char *p = NULL;
  const char *src = getenv("TRUSTEE_SOURCE_DIR");
  assert_true(asprintf(&p, "%s/src/verifier/intel_roots/intel_sgx_root_ca.pem", src ? src : "../..") > 0);
  uint8_t *file = NULL;
  assert_null(tr_read_file(p, 0, &file, &n));
  assert_int_equal(n, strlen(tr_intel_sgx_root_ca_pem));
  assert_memory_equal(file, tr_intel_sgx_root_ca_pem, n);
  X509 *c = NULL;
  assert_null(tr_x509_parse(file, n, &c));
  assert_int_equal(X509_verify(c, X509_get0_pubkey(c)), 1);
  unsigned char *spki = NULL;
  int l = i2d_PUBKEY(X509_get0_pubkey(c), &spki);
  char *h = hex(spki + l - 65, 65);
  assert_string_equal(h, TR_INTEL_ROOT_PUBKEY_HEX);
  free(h);
  OPENSSL_free(spki);
  X509_free(c);
  free(file);
  free(p);
}

/* ---- TCB algorithm on the shipped tcbInfo.json / enclaveIdentity.json --------------- */

static json_t *inner(const char *rel, const char *member) {
  json_t *j = readj(rel);
  json_t *o = json_incref(json_object_get(j, member));
  json_decref(j);
  return o;
}

static void test_tcb_quote6(void **st) {
  (void)st;
  size_t n;
  uint8_t *d = readv(TD "tdx_quote_6.dat", &n);
  tr_dcap_quote q;
  tr_dcap_platform p;
  assert_null(tr_dcap_quote_parse(d, n, &q));
  assert_null(tr_dcap_platform_from_chain(q.pck_chain, q.pck_chain_len, &p, NULL));
  json_t *ti = inner(TD "tcbInfo.json", "tcbInfo"), *qe = inner(TD "enclaveIdentity.json", "enclaveIdentity");
  tr_tcb_result r;
  tr_err *e = tr_tcb_evaluate(ti, qe, &q, &p, &r);
  if (e) fprintf(stderr, "%s\n", tr_err_msg(e));
  assert_null(e);
  assert_string_equal(tr_tcb_status_name(r.status), "OutOfDate");
  assert_int_equal(r.tcb_date, t3339("2018-01-04T00:00:00Z"));
  assert_true(r.has_module);
  assert_string_equal(r.module_id, "TDX_03");
  assert_string_equal(tr_tcb_status_name(r.module), "UpToDate");
  assert_string_equal(tr_tcb_status_name(r.qe), "UpToDate");
  assert_int_equal(json_array_size(r.advisories), 0);
  tr_tcb_result_clear(&r);
  /* wrong collateral kind: an SGX quote against TDX collateral */
  size_t sn;
  uint8_t *sd = readv(TD "occlum_quote.dat", &sn);
  tr_dcap_quote sq;
  tr_dcap_platform sp;
  assert_null(tr_dcap_quote_parse(sd, sn, &sq));
  assert_null(tr_dcap_platform_from_chain(sq.pck_chain, sq.pck_chain_len, &sp, NULL));
  expect_err(tr_tcb_evaluate(ti, qe, &sq, &sp, &r), TR_E_VERIFY, "does not match the quote's TEE");
  tr_tcb_result_clear(&r);
  /* FMSPC mismatch */
  tr_dcap_platform p2 = p;
  p2.fmspc[0] ^= 1;
  expect_err(tr_tcb_evaluate(ti, qe, &q, &p2, &r), TR_E_VERIFY, "FMSPC does not match");
  tr_tcb_result_clear(&r);
  /* a platform older than every level: TCB not supported */
  p2 = p;
  p2.pcesvn = 1;
  expect_err(tr_tcb_evaluate(ti, qe, &q, &p2, &r), TR_E_VERIFY, "TCB not supported");
  tr_tcb_result_clear(&r);
  /* an unknown TDX module version */
  uint8_t *m = malloc(n);
  memcpy(m, d, n);
  m[48 + 1] = 0x07;
  tr_dcap_quote mq;
  assert_null(tr_dcap_quote_parse(m, n, &mq));
  expect_err(tr_tcb_evaluate(ti, qe, &mq, &p, &r), TR_E_VERIFY, "TDX module identity TDX_07 not found");
  tr_tcb_result_clear(&r);
  /* module OutOfDate converges: TDX_01 with isvsvn 3 is OutOfDate (≥2) */
  m[48 + 1] = 0x01;
  m[48 + 0] = 0x03;
  assert_null(tr_dcap_quote_parse(m, n, &mq));
  assert_null(tr_tcb_evaluate(ti, qe, &mq, &p, &r));
  assert_string_equal(tr_tcb_status_name(r.module), "OutOfDate");
  assert_string_equal(tr_tcb_status_name(r.status), "OutOfDate");
  assert_int_equal(r.tcb_date, t3339("2018-01-04T00:00:00Z"));
  tr_tcb_result_clear(&r);
  /* QE identity: mrsigner mismatch, and an old QE svn revokes */
  json_t *qe2 = json_deep_copy(qe);
  json_object_set_new(qe2, "mrsigner",
                      json_string("009E2A7C6F948F17474E34A7FC43ED030F7C1563F1BABDDF6340C82E0E54A8C5"));
  expect_err(tr_tcb_evaluate(ti, qe2, &q, &p, &r), TR_E_VERIFY, "MRSIGNER does not match the QE identity");
  tr_tcb_result_clear(&r);
  json_decref(qe2);
  qe2 = json_deep_copy(qe);
  json_object_set_new(json_object_get(json_array_get(json_object_get(qe2, "tcbLevels"), 0), "tcb"), "isvsvn",
                      json_integer(200));
  assert_null(tr_tcb_evaluate(ti, qe2, &q, &p, &r));
  assert_string_equal(tr_tcb_status_name(r.status), "Revoked");
  tr_tcb_result_clear(&r);
  json_decref(qe2);
  free(m);
  free(sd);
  json_decref(ti);
  json_decref(qe);
  free(d);
}

/* QE identity levels: as QVL's EnclaveReportVerifier, any status other than
 * UpToDate and Revoked makes the QE out of date (and the platform with it). */
static void test_tcb_qe_status(void **st) {
  (void)st;
  size_t n;
  uint8_t *d = readv(TD "tdx_quote_6.dat", &n);
  tr_dcap_quote q;
  tr_dcap_platform p;
  assert_null(tr_dcap_quote_parse(d, n, &q));
  assert_null(tr_dcap_platform_from_chain(q.pck_chain, q.pck_chain_len, &p, NULL));
  p.pcesvn = 13;
  for (int i = 0; i < 16; i++)
    if (p.comps[i] < 5) p.comps[i] = 5;
  json_t *ti = inner(TD "tcbInfo.json", "tcbInfo"), *qe = inner(TD "enclaveIdentity.json", "enclaveIdentity");
  tr_tcb_result r;
  assert_null(tr_tcb_evaluate(ti, qe, &q, &p, &r));
  assert_string_equal(tr_tcb_status_name(r.status), "UpToDate");
  tr_tcb_result_clear(&r);
  static const char *const others[] = {"SWHardeningNeeded", "ConfigurationNeeded",
                                       "ConfigurationAndSWHardeningNeeded", "OutOfDateConfigurationNeeded"};
  json_t *lv0 = json_array_get(json_object_get(qe, "tcbLevels"), 0);
  for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
    json_object_set_new(lv0, "tcbStatus", json_string(others[i]));
    assert_null(tr_tcb_evaluate(ti, qe, &q, &p, &r));
    if (strcmp(tr_tcb_status_name(r.status), "OutOfDate") != 0)
      fprintf(stderr, "QE level %s gave %s\n", others[i], tr_tcb_status_name(r.status));
    assert_string_equal(tr_tcb_status_name(r.status), "OutOfDate");
    tr_tcb_result_clear(&r);
  }
  json_decref(ti);
  json_decref(qe);
  free(d);
}

/* TDX 1.5: launch TCB (TEE_TCB_SVN) out of date, current TCB (TEE_TCB_SVN2)
 * up to date → TDRelaunchAdvised. A 1.5 body is built from tdx_quote_6's
 * 1.0 body; the tcbInfo gets a second level whose only difference is an
 * older TDX late microcode SVN. */
static void test_tcb_relaunch(void **st) {
  (void)st;
  size_t n;
  uint8_t *d = readv(TD "tdx_quote_6.dat", &n);
  tr_dcap_quote q;
  tr_dcap_platform p;
  assert_null(tr_dcap_quote_parse(d, n, &q));
  assert_null(tr_dcap_platform_from_chain(q.pck_chain, q.pck_chain_len, &p, NULL));
  p.pcesvn = 13;
  for (int i = 0; i < 16; i++)
    if (p.comps[i] < 5) p.comps[i] = 5;
  uint8_t body[TR_DCAP_TD15_LEN];
  memcpy(body, q.body, TR_DCAP_TD10_LEN);
  memset(body + TR_DCAP_TD10_LEN, 0, sizeof(body) - TR_DCAP_TD10_LEN);
  memcpy(body + TR_TD_TEE_TCB_SVN2, body, 16); /* current = launch */
  body[TR_TD_TEE_TCB_SVN + 2] = 1;             /* launch: old late microcode */
  q.body = body;
  q.body_len = sizeof(body);
  q.body_type = 3;
  json_t *ti = inner(TD "tcbInfo.json", "tcbInfo"), *qe = inner(TD "enclaveIdentity.json", "enclaveIdentity");
  json_t *levels = json_object_get(ti, "tcbLevels"), *l2 = json_array_get(levels, 1);
  json_object_set_new(json_object_get(l2, "tcb"), "pcesvn", json_integer(13));
  json_object_set_new(json_array_get(json_object_get(json_object_get(l2, "tcb"), "tdxtcbcomponents"), 2),
                      "svn", json_integer(1));
  json_object_set_new(l2, "advisoryIDs", json_pack("[s]", "INTEL-SA-00999"));
  tr_tcb_result r;
  tr_err *e = tr_tcb_evaluate(ti, qe, &q, &p, &r);
  if (e) fprintf(stderr, "%s\n", tr_err_msg(e));
  assert_null(e);
  assert_string_equal(tr_tcb_status_name(r.status), "TDRelaunchAdvised");
  assert_string_equal(tr_tcb_status_name(r.status_current), "UpToDate");
  assert_int_equal(r.tcb_date, t3339("2018-01-04T00:00:00Z"));
  assert_int_equal(r.tcb_date_current, t3339("2024-03-13T00:00:00Z"));
  assert_int_equal(json_array_size(r.advisories), 1);
  assert_int_equal(json_array_size(r.advisories_current), 0);
  tr_tcb_result_clear(&r);
  /* the same with the current level needing configuration */
  json_object_set_new(json_array_get(levels, 0), "tcbStatus", json_string("ConfigurationNeeded"));
  assert_null(tr_tcb_evaluate(ti, qe, &q, &p, &r));
  assert_string_equal(tr_tcb_status_name(r.status), "TDRelaunchAdvisedConfigurationNeeded");
  tr_tcb_result_clear(&r);
  /* current as old as launch: no advice */
  body[TR_TD_TEE_TCB_SVN2 + 2] = 1;
  assert_null(tr_tcb_evaluate(ti, qe, &q, &p, &r));
  assert_string_equal(tr_tcb_status_name(r.status), "OutOfDate");
  tr_tcb_result_clear(&r);
  json_decref(ti);
  json_decref(qe);
  free(d);
}

/* ---- dcap-qvl quotes with their real collateral ------------------------------------------ */

typedef struct {
  tr_dcap *d;
  uint8_t *quote;
  size_t len;
  tr_dcap_quote q;
  tr_dcap_collateral_raw raw;
} qvl_case;

static void qvl_open(qvl_case *c, const char *name, const char *policy) {
  char buf[256];
  snprintf(buf, sizeof(buf),
           "{\"dcap_verifier\":{\"collateral_service\":\"file:///nonexistent\","
           "\"verification_time\":\"%s\",\"expired_collateral\":\"%s\"}}",
           QVL_TIME, policy);
  json_t *cfg = json_loads(buf, 0, NULL);
  assert_null(tr_dcap_new(cfg, &c->d));
  json_decref(cfg);
  snprintf(buf, sizeof(buf), QVL "%s", name);
  c->quote = readv(buf, &c->len);
  assert_null(tr_dcap_quote_parse(c->quote, c->len, &c->q));
  snprintf(buf, sizeof(buf), QVL "%s_collateral.json", name);
  json_t *b = readj(buf);
  assert_null(tr_dcap_collateral_raw_from_json(b, &c->raw));
  json_decref(b);
}

static void qvl_close(qvl_case *c) {
  tr_dcap_free(c->d);
  free(c->quote);
  tr_dcap_collateral_raw_clear(&c->raw);
}

static void claim_str(const json_t *o, const char *k, const char *want) {
  const char *v = json_string_value(json_object_get(o, k));
  if (!v || strcmp(v, want)) fprintf(stderr, "claim %s = %s, expected %s\n", k, v ? v : "(none)", want);
  assert_non_null(v);
  assert_string_equal(v, want);
}

static void test_qvl_sgx(void **st) {
  (void)st;
  qvl_case c;
  qvl_open(&c, "sgx_quote", "reject");
  json_t *claims = NULL;
  tr_dcap_platform p;
  tr_err *e = tr_dcap_verify_quote(c.d, &c.q, &c.raw, &p, &claims);
  if (e) fprintf(stderr, "%s\n", tr_err_msg(e));
  assert_null(e);
  claim_str(claims, "tcb_status", "ConfigurationAndSWHardeningNeeded");
  json_t *adv = json_object_get(claims, "advisory_ids");
  assert_int_equal(json_array_size(adv), 2);
  assert_string_equal(json_string_value(json_array_get(adv, 0)), "INTEL-SA-00289");
  assert_string_equal(json_string_value(json_array_get(adv, 1)), "INTEL-SA-00615");
  claim_str(claims, "collateral_expiration_status", "0");
  claim_str(claims, "earliest_issue_date", "2018-05-21T10:45:10Z"); /* root CA notBefore */
  claim_str(
      claims, "root_key_id",
      "46e403bd34f05a3f2817ab9badcaacc7ffc98e0f261008cd30dae936cace18d5dcf58eef31463613de1570d516200993");
  claim_str(claims, "sgx_type", "Standard");
  assert_null(json_object_get(claims, "is_dynamic_platform"));
  assert_int_equal(json_integer_value(json_object_get(claims, "tcb_eval_num")), 17);
  assert_true(json_is_integer(json_object_get(claims, "pck_crl_num")));
  json_decref(claims);
  qvl_close(&c);
}

static void test_qvl_tdx(void **st) {
  (void)st;
  qvl_case c;
  qvl_open(&c, "tdx_quote", "reject");
  json_t *claims = NULL;
  tr_err *e = tr_dcap_verify_quote(c.d, &c.q, &c.raw, NULL, &claims);
  if (e) fprintf(stderr, "%s\n", tr_err_msg(e));
  assert_null(e);
  claim_str(claims, "tcb_status", "UpToDate");
  assert_int_equal(json_array_size(json_object_get(claims, "advisory_ids")), 0);
  claim_str(claims, "tcb_date", "2024-03-13T00:00:00Z");
  claim_str(claims, "latest_issue_date", "2025-06-19T10:32:27Z");
  claim_str(claims, "earliest_expiration_date", "2025-07-19T10:00:35Z");
  claim_str(claims, "sgx_type", "Scalable");
  assert_true(json_is_boolean(json_object_get(claims, "is_smt_enabled")));
  claim_str(claims, "tcb_status_current", "UpToDate");
  json_decref(claims);
  /* the same through the in-memory bundle source, twice (cached) */
  json_t *b = tr_dcap_collateral_raw_to_json(&c.raw);
  assert_null(tr_dcap_add_bundle(c.d, b));
  json_decref(b);
  for (int i = 0; i < 2; i++) {
    assert_null(tr_dcap_verify_quote(c.d, &c.q, NULL, NULL, &claims));
    claim_str(claims, "tcb_status", "UpToDate");
    json_decref(claims);
  }
  /* the caches never skip a check: after the good quote, the same chain
   * with a changed QE report, QE signature, quote signature or TCB field fails */
  static const struct {
    size_t off;
    const char *err;
  } muts[] = {{48 + 584 + 4 + 128 + 6 + 100, "QE report signature does not verify"},
              {48 + 584 + 4 + 128 + 6 + 384 + 9, "QE report signature does not verify"},
              {48 + 584 + 4 + 7, "quote signature does not verify"},
              {48 + TR_TD_TEE_TCB_SVN + 2, "quote signature does not verify"}};
  for (size_t i = 0; i < sizeof(muts) / sizeof(muts[0]); i++) {
    uint8_t *m = malloc(c.len);
    memcpy(m, c.quote, c.len);
    m[muts[i].off] ^= 0x10;
    tr_dcap_quote mq;
    assert_null(tr_dcap_quote_parse(m, c.len, &mq));
    expect_err(tr_dcap_verify_quote(c.d, &mq, NULL, NULL, &claims), TR_E_VERIFY, muts[i].err);
    free(m);
    assert_null(tr_dcap_verify_quote(c.d, &c.q, NULL, NULL, &claims));
    claim_str(claims, "tcb_status", "UpToDate");
    json_decref(claims);
  }
  /* the TDX quote against the SGX collateral */
  qvl_case s;
  qvl_open(&s, "sgx_quote", "reject");
  expect_err(tr_dcap_verify_quote(c.d, &c.q, &s.raw, NULL, &claims), TR_E_VERIFY, "");
  qvl_close(&s);
  qvl_close(&c);
}

static void test_qvl_dates(void **st) {
  (void)st;
  qvl_case c;
  qvl_open(&c, "tdx_quote", "reject");
  json_t *claims = NULL;
  /* after the PCK CRL's nextUpdate: rejected under "reject" ... */
  tr_dcap_set_time(c.d, t3339("2025-08-01T00:00:00Z"));
  expect_err(tr_dcap_verify_quote(c.d, &c.q, &c.raw, NULL, &claims), TR_E_EXPIRED,
             "collateral expired at 2025-07-19T10:00:35Z");
  /* ... accepted and reported under "accept" */
  tr_dcap_set_accept_expired(c.d, true);
  assert_null(tr_dcap_verify_quote(c.d, &c.q, &c.raw, NULL, &claims));
  claim_str(claims, "collateral_expiration_status", "1");
  json_decref(claims);
  /* before the collateral was issued: never valid */
  tr_dcap_set_time(c.d, t3339("2025-06-01T00:00:00Z"));
  expect_err(tr_dcap_verify_quote(c.d, &c.q, &c.raw, NULL, &claims), TR_E_VERIFY, "not yet valid");
  qvl_close(&c);
}

static void test_qvl_tampered_collateral(void **st) {
  (void)st;
  qvl_case c;
  qvl_open(&c, "tdx_quote", "reject");
  json_t *claims = NULL;
  tr_dcap_collateral *col = NULL;
  /* TCB info text changed by one character */
  char *p = strstr(c.raw.tcb_info, "\"UpToDate\"");
  assert_non_null(p);
  memcpy(p + 1, "OutOfDat", 8);
  expect_err(tr_dcap_collateral_verify(&c.raw, &col), TR_E_VERIFY, "TCB info signature does not verify");
  expect_err(tr_dcap_verify_quote(c.d, &c.q, &c.raw, NULL, &claims), TR_E_VERIFY, "TCB info signature");
  memcpy(p + 1, "UpToDate", 8);
  /* QE identity signature */
  c.raw.qe_identity_signature[7] ^= 1;
  expect_err(tr_dcap_collateral_verify(&c.raw, &col), TR_E_VERIFY, "QE identity signature does not verify");
  c.raw.qe_identity_signature[7] ^= 1;
  /* PCK CRL body */
  c.raw.pck_crl[c.raw.pck_crl_len - 20] ^= 1;
  expect_err(tr_dcap_collateral_verify(&c.raw, &col), TR_E_VERIFY, "PCK CRL signature does not verify");
  c.raw.pck_crl[c.raw.pck_crl_len - 20] ^= 1;
  /* root CA CRL */
  c.raw.root_ca_crl[c.raw.root_ca_crl_len - 20] ^= 1;
  expect_err(tr_dcap_collateral_verify(&c.raw, &col), TR_E_VERIFY, "root CA CRL signature does not verify");
  c.raw.root_ca_crl[c.raw.root_ca_crl_len - 20] ^= 1;
  /* TCB signing chain replaced by the PCK CRL issuer chain: not the TCB signer */
  char *saved = c.raw.tcb_info_issuer_chain;
  c.raw.tcb_info_issuer_chain = c.raw.pck_crl_issuer_chain;
  expect_err(tr_dcap_collateral_verify(&c.raw, &col), TR_E_VERIFY,
             "not the Intel SGX TCB Signing certificate");
  c.raw.tcb_info_issuer_chain = saved;
  /* PCK CRL issuer chain replaced by the TCB signing chain: not a PCK CA */
  saved = c.raw.pck_crl_issuer_chain;
  c.raw.pck_crl_issuer_chain = c.raw.tcb_info_issuer_chain;
  expect_err(tr_dcap_collateral_verify(&c.raw, &col), TR_E_VERIFY, "not an Intel SGX PCK CA");
  c.raw.pck_crl_issuer_chain = saved;
  /* the intact collateral verifies */
  assert_null(tr_dcap_collateral_verify(&c.raw, &col));
  tr_dcap_collateral_free(col);
  qvl_close(&c);
}

/* Date folding: an expiry of 0 (the Unix epoch) is a date like any other,
 * not "no expiry yet": a later date must not replace it. */
static void test_dates_fold(void **st) {
  (void)st;
  tr_dcap_dates d;
  memset(&d, 0, sizeof(d));
  tr_dcap_dates_add(&d, 100, 0);
  tr_dcap_dates_add(&d, 50, 200);
  assert_int_equal(d.earliest_expiry, 0);
  assert_int_equal(d.earliest_issue, 50);
  assert_int_equal(d.latest_issue, 100);
  memset(&d, 0, sizeof(d));
  tr_dcap_dates_add(&d, 0, 300);
  tr_dcap_dates_add(&d, 10, 400);
  assert_int_equal(d.earliest_issue, 0);
  assert_int_equal(d.earliest_expiry, 300);
}

static void test_revocation(void **st) {
  (void)st;
  /* The real Platform-CA PCK CRL lists revoked PCK serials: a certificate
   * with one of those serials is found revoked, the quote's own PCK is not. */
  qvl_case c;
  qvl_open(&c, "tdx_quote", "reject");
  X509_CRL *crl = NULL;
  assert_null(tr_x509_parse_crl(c.raw.pck_crl, c.raw.pck_crl_len, &crl));
  STACK_OF(X509_REVOKED) *rev = X509_CRL_get_REVOKED(crl);
  assert_true(sk_X509_REVOKED_num(rev) > 0);
  STACK_OF(X509) *sk = NULL;
  assert_null(tr_x509_parse_bundle(c.q.pck_chain, c.q.pck_chain_len, &sk));
  X509 *leaf = sk_X509_value(sk, 0);
  extern bool tr_dcap_revoked(X509_CRL * crl, X509 * cert);
  assert_false(tr_dcap_revoked(crl, leaf));
  X509 *fake = X509_dup(leaf);
  X509_set_serialNumber(fake, (ASN1_INTEGER *)X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(rev, 0)));
  assert_true(tr_dcap_revoked(crl, fake));
  X509_free(fake);
  tr_x509_stack_free(sk);
  X509_CRL_free(crl);
  /* A PCK CRL of the other CA (Processor instead of Platform) is refused. */
  qvl_case t;
  qvl_open(&t, "sgx_quote", "reject");
  free(c.raw.pck_crl);
  free(c.raw.pck_crl_issuer_chain);
  c.raw.pck_crl = t.raw.pck_crl;
  c.raw.pck_crl_len = t.raw.pck_crl_len;
  c.raw.pck_crl_issuer_chain = t.raw.pck_crl_issuer_chain;
  t.raw.pck_crl = NULL;
  t.raw.pck_crl_issuer_chain = NULL;
  json_t *claims = NULL;
  expect_err(tr_dcap_verify_quote(c.d, &c.q, &c.raw, NULL, &claims), TR_E_VERIFY,
             "PCK CRL is not issued by the quote's PCK CA");
  qvl_close(&t);
  qvl_close(&c);
}

static void test_split_signed(void **st) {
  (void)st;
  const char *doc = "{ \"tcbInfo\" : {\"a\":\"x}\",\"b\":[1,{\"c\":2}]} , \"signature\":\""
                    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
                    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\"}";
  char *in = NULL;
  uint8_t sig[64];
  assert_null(tr_dcap_split_signed(doc, strlen(doc), "tcbInfo", &in, sig));
  assert_string_equal(in, "{\"a\":\"x}\",\"b\":[1,{\"c\":2}]}");
  assert_int_equal(sig[1], 0x11);
  free(in);
  expect_err(tr_dcap_split_signed(doc, strlen(doc), "enclaveIdentity", &in, sig), TR_E_INVALID,
             "enclaveIdentity");
  const char *bad = "{\"tcbInfo\":{},\"signature\":\"0011\"}";
  expect_err(tr_dcap_split_signed(bad, strlen(bad), "tcbInfo", &in, sig), TR_E_INVALID, "expected 64");
  /* the shipped tcbInfo.json: its inner text is what Intel signed */
  size_t n;
  uint8_t *t = readv(TD "tcbInfo.json", &n);
  assert_null(tr_dcap_split_signed((const char *)t, n, "tcbInfo", &in, sig));
  assert_memory_equal(in, "{\"id\":\"TDX\",\"version\":3,", 24);
  assert_int_equal(in[strlen(in) - 1], '}');
  free(in);
  free(t);
}

/* Concurrent verifications share the caches (run under ASan/TSan builds). */
typedef struct {
  qvl_case *c;
  int ok;
} thr_arg;

static void *thr(void *a) {
  thr_arg *t = a;
  for (int i = 0; i < 40; i++) {
    tr_dcap_quote q;
    json_t *claims = NULL;
    tr_err *e = tr_dcap_quote_parse(t->c->quote, t->c->len, &q);
    if (!e) e = tr_dcap_verify_quote(t->c->d, &q, NULL, NULL, &claims);
    if (!e && strcmp(json_string_value(json_object_get(claims, "tcb_status")), "UpToDate") == 0) t->ok++;
    tr_err_free(e);
    json_decref(claims);
  }
  return NULL;
}

static void test_threads(void **st) {
  (void)st;
  qvl_case c;
  qvl_open(&c, "tdx_quote", "reject");
  json_t *b = tr_dcap_collateral_raw_to_json(&c.raw);
  assert_null(tr_dcap_add_bundle(c.d, b));
  json_decref(b);
  pthread_t th[4];
  thr_arg args[4];
  for (int i = 0; i < 4; i++) {
    args[i] = (thr_arg){&c, 0};
    assert_int_equal(pthread_create(&th[i], NULL, thr, &args[i]), 0);
  }
  for (int i = 0; i < 4; i++) {
    pthread_join(th[i], NULL);
    assert_int_equal(args[i].ok, 40);
  }
  qvl_close(&c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_parse_and_signatures),
      cmocka_unit_test(test_platform_facts),
      cmocka_unit_test(test_parse_errors),
      cmocka_unit_test(test_mutations),
      cmocka_unit_test(test_intel_root),
      cmocka_unit_test(test_tcb_quote6),
      cmocka_unit_test(test_qvl_sgx),
      cmocka_unit_test(test_qvl_tdx),
      cmocka_unit_test(test_qvl_dates),
      cmocka_unit_test(test_qvl_tampered_collateral),
      cmocka_unit_test(test_revocation),
      cmocka_unit_test(test_dates_fold),
      cmocka_unit_test(test_split_signed),
      cmocka_unit_test(test_tcb_relaunch),
      cmocka_unit_test(test_tcb_qe_status),
      cmocka_unit_test(test_threads),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
