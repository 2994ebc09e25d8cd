/* Tests for the `sgx` verifier: upstream's parse_sgx_claims expectation for
 * occlum_quote.dat, and the real dcap-qvl SGX quote end to end through the
 * verifier table with its Intel collateral (ConfigurationAndSWHardeningNeeded,
 * INTEL-SA-00289/00615), report-data and CONFIGID bindings, TDX quotes
 * refused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "test_dcap_util.h"

#include "core/buf.h"
#include "core/encoding.h"
#include "core/json.h"
#include "verifier/dcap/dcap.h"
#include "verifier/verifier.h"

json_t *tr_sgx_claims(const tr_dcap_quote *q, const tr_dcap_platform *p);

/* upstream sgx/claims.rs::parse_sgx_claims */
#define RD                                                                                                   \
  "74657374"                                                                                                 \
  "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000" \
  "0000000000000000"
static const char *const OCCLUM_CLAIMS =
    "{\"header\":{\"version\":\"0300\",\"att_key_type\":\"0200\",\"att_key_data_0\":\"00000000\",\"qe_svn\":"
    "\"0800\","
    "\"pce_svn\":\"0d00\",\"vendor_id\":\"939a7233f79c4ca9940a0db3957f0607\",\"user_data\":"
    "\"dccde9b31ce8860548173bb4a2a57a1600000000\"},\"body\":{\"cpu_svn\":"
    "\"06060c0cffff00000000000000000000\","
    "\"misc_select\":\"01000000\",\"reserved1\":\"000000000000000000000000\",\"isv_ext_prod_id\":"
    "\"00000000000000000000000000000000\",\"attributes.flags\":\"0700000000000000\",\"attributes.xfrm\":"
    "\"e700000000000000\",\"mr_enclave\":"
    "\"8f173e4613ff05c52aaf04162d234edae8c9977eae47eb2299ae16a553011c68\","
    "\"reserved2\":\"0000000000000000000000000000000000000000000000000000000000000000\",\"mr_signer\":"
    "\"83d719e77deaca1470f6baf62a4d774303c899db69020f9c70ee1dfc08c7ce9e\",\"reserved3\":"
    "\"0000000000000000000000000000000000000000000000000000000000000000\",\"config_id\":"
    "\"000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000"
    "0000000000000000000000\",\"isv_prod_id\":\"0000\",\"isv_svn\":\"0000\",\"config_svn\":\"0000\","
    "\"reserved4\":"
    "\"000000000000000000000000000000000000000000000000000000000000000000000000000000000000\",\"isv_family_"
    "id\":"
    "\"00000000000000000000000000000000\",\"report_data\":\"" RD "\"},\"report_data\":\"" RD "\","
    "\"init_data\":\"000000000000000000000000000000000000000000000000000000000000000000"
    "00000000000000000000000000000000000000000000000000000000000000\",\"platform_instance_id\":"
    "\"7a3a6941065cd5060bd93d3db2cfc0c8\"}";

static void test_occlum_claims(void **st) {
  (void)st;
  size_t n;
  uint8_t *d = readv(TD "occlum_quote.dat", &n);
  tr_dcap_quote q;
  tr_dcap_platform p;
  assert_null(tr_dcap_quote_parse(d, n, &q));
  assert_null(tr_dcap_verify_quote_signatures(&q, &p));
  json_t *c = tr_sgx_claims(&q, &p), *want = json_loads(OCCLUM_CLAIMS, 0, NULL);
  assert_non_null(want);
  if (!json_equal(c, want)) {
    char *s = tr_json_dump_sorted(c);
    fprintf(stderr, "got %s\n", s);
    free(s);
  }
  assert_true(json_equal(c, want));
  json_decref(c);
  json_decref(want);
  free(d);
}

static json_t *evidence(const char *rel) {
  size_t n;
  uint8_t *q = readv(rel, &n);
  char *b = tr_b64_encode(q, n, TR_B64_STD);
  json_t *ev = json_pack("{ss}", "quote", b);
  free(b);
  free(q);
  return ev;
}

static void test_qvl_sgx_verifier(void **st) {
  (void)st;
  const tr_verifier_ops *ops = tr_verifier_lookup("sgx");
  assert_non_null(ops);
  char *bundle = path_of(QVL "sgx_quote_collateral.json"), *cfg_text = NULL;
  assert_true(
      asprintf(&cfg_text,
               "{\"dcap_verifier\":{\"collateral_service\":\"file:///nonexistent\",\"collateral_bundles\":"
               "[\"%s\"],\"verification_time\":\"2025-07-01T00:00:00Z\"}}",
               bundle) > 0);
  json_t *cfg = json_loads(cfg_text, 0, NULL);
  void *st2 = NULL;
  assert_null(ops->create(cfg, &st2));
  json_t *ev = evidence(QVL "sgx_quote");
  tr_expected none = {false, NULL, 0};
  tr_verified_list l = {0};
  tr_err *e = ops->evaluate(st2, ev, &none, &none, &l);
  if (e) fprintf(stderr, "%s\n", tr_err_msg(e));
  assert_null(e);
  assert_int_equal(l.len, 1);
  json_t *c = l.items[0].claims;
  assert_string_equal(json_string_value(json_object_get(c, "tcb_status")),
                      "ConfigurationAndSWHardeningNeeded");
  json_t *adv = json_object_get(c, "advisory_ids");
  assert_int_equal(json_array_size(adv), 2);
  assert_string_equal(json_string_value(json_array_get(adv, 0)), "INTEL-SA-00289");
  assert_string_equal(json_string_value(json_array_get(adv, 1)), "INTEL-SA-00615");
  assert_string_equal(json_string_value(json_object_get(json_object_get(c, "header"), "version")), "0300");
  assert_null(json_object_get(c, "platform_instance_id")); /* Processor CA */
  /* bindings */
  uint8_t *rd;
  size_t n;
  assert_null(tr_hex_decode(json_string_value(json_object_get(c, "report_data")), 128, &rd, &n));
  tr_verified_list_clear(&l);
  tr_expected r = {true, rd, 64};
  assert_null(ops->evaluate(st2, ev, &r, &none, &l));
  tr_verified_list_clear(&l);
  rd[0] ^= 1;
  e = ops->evaluate(st2, ev, &r, &none, &l);
  assert_non_null(e);
  assert_string_equal(tr_err_msg(e), "SGX Verifier: REPORT_DATA is different from that in SGX Quote");
  tr_err_free(e);
  uint8_t cid[3] = {1, 2, 3};
  tr_expected id = {true, cid, 3};
  e = ops->evaluate(st2, ev, &none, &id, &l);
  assert_non_null(e);
  assert_string_equal(tr_err_msg(e), "SGX Verifier: CONFIGID is different from that in SGX Quote");
  tr_err_free(e);
  free(rd);
  json_decref(ev);
  /* a TDX quote has no SGX collateral here, and would be refused as non-v3 */
  ev = evidence(QVL "tdx_quote");
  e = ops->evaluate(st2, ev, &none, &none, &l);
  assert_non_null(e);
  tr_err_free(e);
  json_decref(ev);
  ev = json_pack("{ss}", "quote", "");
  e = ops->evaluate(st2, ev, &none, &none, &l);
  assert_non_null(e);
  assert_string_equal(tr_err_msg(e), "SGX Verifier: SGX Quote is empty.");
  tr_err_free(e);
  json_decref(ev);
  ops->destroy(st2);
  json_decref(cfg);
  free(cfg_text);
  free(bundle);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_occlum_claims),
      cmocka_unit_test(test_qvl_sgx_verifier),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
