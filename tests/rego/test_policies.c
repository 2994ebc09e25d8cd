/* test_policies.c — every Trustee policy in the vectors compiles, and the
 * KBS / AS policies give upstream's outcomes for the inputs of upstream's
 * tests (rego.md §2, attestation-service.md §2.4). Also: engine API
 * contracts (no rule vs undefined, strict errors, host functions, limits). */
#include <dirent.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/buf.h"
#include "core/json.h"
#include "rego/rego.h"

static char *vec_path(const char *rel) {
  const char *shared = getenv("TRUSTEE_SHARED_DIR");
  if (!shared) shared = "../../../shared";
  char *p = malloc(strlen(shared) + strlen(rel) + 32);
  sprintf(p, "%s/vectors/trustee/%s", shared, rel);
  return p;
}

static char *read_text(const char *rel) {
  char *p = vec_path(rel);
  uint8_t *t;
  size_t n;
  tr_err *e = tr_read_file(p, 0, &t, &n);
  if (e) fail_msg("%s: %s", p, tr_err_msg(e));
  free(p);
  return (char *)t;
}

static const rego_host_decl qrv_decl = {"query_reference_value", 1};

static rego_policy *compile_file(const char *rel) {
  char *text = read_text(rel);
  rego_module_src m = {rel, text};
  rego_compile_opts o = {.hosts = &qrv_decl, .nhosts = 1};
  rego_policy *p = NULL;
  tr_err *e = rego_compile(&m, 1, &o, &p);
  if (e) fail_msg("%s: %s", rel, tr_err_msg(e));
  free(text);
  return p;
}

static json_t *J(const char *text) {
  json_t *j = NULL;
  tr_err *e = tr_json_parse(text, strlen(text), &j);
  if (e) fail_msg("bad test JSON: %s", tr_err_msg(e));
  return j;
}

/* ---- every policy compiles ---- */

static int count_compiled;

static void compile_tree(const char *dir, const char *rel) {
  char *p = vec_path(rel);
  DIR *d = opendir(p);
  free(p);
  if (!d) return;
  struct dirent *de;
  while ((de = readdir(d))) {
    if (de->d_name[0] == '.') continue;
    char crel[1024];
    snprintf(crel, sizeof crel, "%s/%s", rel, de->d_name);
    char *cp = vec_path(crel);
    struct stat st;
    bool isdir = stat(cp, &st) == 0 && S_ISDIR(st.st_mode);
    free(cp);
    if (isdir) {
      compile_tree(dir, crel);
    } else if (strlen(de->d_name) > 5 && strcmp(de->d_name + strlen(de->d_name) - 5, ".rego") == 0) {
      rego_policy *pol = compile_file(crel);
      rego_policy_free(pol);
      count_compiled++;
    }
  }
  closedir(d);
}

static void test_all_policies_compile(void **s) {
  (void)s;
  count_compiled = 0;
  compile_tree("", ".");
  printf("compiled %d Trustee policies\n", count_compiled);
  assert_true(count_compiled >= 20);
}

/* ---- KBS (deps/policy-engine tests; data as the KBS builds it) ---- */

static json_t *kbs_input(int svn) {
  char buf[512];
  snprintf(
      buf, sizeof buf,
      "{\"submods\":{\"cpu0\":{\"ear.status\":\"affirming\",\"ear.trustworthiness-vector\":{\"executables\":"
      "2,"
      "\"hardware\":3},\"ear.veraison.annotated-evidence\":{\"sample\":{\"productId\":\"n\",\"svn\":%d}}}}}",
      svn);
  return J(buf);
}

static json_t *kbs_data(const char *path) {
  json_t *segs = json_array();
  char *dup = strdup(path), *save = NULL;
  for (char *t = strtok_r(dup, "/", &save); t; t = strtok_r(NULL, "/", &save))
    json_array_append_new(segs, json_string(t));
  free(dup);
  json_t *d = json_object();
  json_object_set_new(d, "plugin", json_string("resource"));
  json_object_set_new(d, "resource-path", segs);
  json_object_set_new(d, "query", json_object());
  return d;
}

/* Returns 1 for true, 0 for any other value/undefined/missing rule (KBS semantics). */
static int kbs_allow(rego_policy *p, json_t *input, json_t *data) {
  rego_eval_opts o = {.input = input, .data = data, .strict_builtin_errors = true};
  rego_status st;
  json_t *v = NULL;
  tr_err *e = rego_eval_rule(p, "data.policy.allow", &o, &st, &v);
  if (e) fail_msg("eval: %s", tr_err_msg(e));
  int r = st == REGO_DEFINED && json_is_true(v);
  json_decref(v);
  return r;
}

static void test_kbs_policy_engine_cases(void **s) {
  (void)s;
  struct {
    const char *path;
    int svn;
    const char *policy;
    int expected;
  } cases[] = {
      {"my_repo/Alice/key", 1, "deps/policy-engine/test_data/policy_1.rego", 0},
      {"my_repo/Alice/key", 1, "deps/policy-engine/test_data/policy_4.rego", 0},
      {"my_repo/Alice/key", 1, "deps/policy-engine/test_data/policy_3.rego", 0},
      {"my_repo/n/key", 1, "deps/policy-engine/test_data/policy_1.rego", 1},
      {"my_repo/n/key", 1, "deps/policy-engine/test_data/policy_4.rego", 1},
      {"my_repo/Alice/key", 1, "deps/policy-engine/test_data/policy_2.rego", 1},
      {"myrepo/secret/secret1", 2, "deps/policy-engine/test_data/policy_5.rego", 1},
      {"myrepo/secret/secret1", 1, "deps/policy-engine/test_data/policy_5.rego", 0},
      {"myrepo/secret/secret2", 3, "deps/policy-engine/test_data/policy_5.rego", 1},
      {"myrepo/secret/secret2", 2, "deps/policy-engine/test_data/policy_5.rego", 0},
      {"myrepo/secret/secret3", 3, "deps/policy-engine/test_data/policy_5.rego", 0},
      {"a/b/secret2", 3, "deps/policy-engine/test_data/policy_5.rego", 0},
      {"abc", 3, "deps/policy-engine/test_data/policy_5.rego", 0},
      {"a/b/c", 3, "kbs/sample_policies/allow_all.rego", 1},
      {"a/b/c", 3, "kbs/sample_policies/deny_all.rego", 0},
      /* default.rego denies the sample TEE and allows real ones */
      {"a/b/c", 3, "kbs/sample_policies/default.rego", 0},
      {"a/b/c", 3, "kbs/sample_policies/affirming.rego", 1},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    rego_policy *p = compile_file(cases[i].policy);
    json_t *in = kbs_input(cases[i].svn), *d = kbs_data(cases[i].path);
    int got = kbs_allow(p, in, d);
    if (got != cases[i].expected)
      fail_msg("%s on %s svn %d: got %d want %d", cases[i].policy, cases[i].path, cases[i].svn, got,
               cases[i].expected);
    json_decref(in);
    json_decref(d);
    rego_policy_free(p);
  }
}

static void test_kbs_default_and_affirming(void **s) {
  (void)s;
  rego_policy *def = compile_file("kbs/sample_policies/default.rego");
  json_t *tdx = J("{\"submods\":{\"cpu0\":{\"ear.status\":\"affirming\",\"ear.veraison.annotated-evidence\":{"
                  "\"tdx\":{}}}}}");
  json_t *d = kbs_data("default/key/1");
  assert_int_equal(kbs_allow(def, tdx, d), 1);
  json_object_set_new(d, "plugin", json_string("sealed-secret"));
  assert_int_equal(kbs_allow(def, tdx, d), 0);
  rego_policy_free(def);

  rego_policy *aff = compile_file("kbs/sample_policies/affirming.rego");
  json_t *warn =
      J("{\"submods\":{\"cpu0\":{\"ear.status\":\"affirming\"},\"gpu0\":{\"ear.status\":\"warning\"}}}");
  json_t *none = J("{\"submods\":{}}");
  assert_int_equal(kbs_allow(aff, warn, d), 0);
  assert_int_equal(kbs_allow(aff, none, d), 0);
  assert_int_equal(kbs_allow(aff, tdx, d), 1);
  rego_policy_free(aff);
  json_decref(tdx);
  json_decref(warn);
  json_decref(none);
  json_decref(d);
}

/* ---- AS default policies ---- */

typedef struct {
  json_t *rvs;
  char asked[2048];
} rvctx;

static tr_err *qrv(void *ctx, json_t *const *args, size_t nargs, json_t **result) {
  rvctx *c = ctx;
  assert_int_equal(nargs, 1);
  const char *id = json_string_value(args[0]);
  assert_non_null(id);
  strncat(c->asked, id, sizeof c->asked - strlen(c->asked) - 2);
  strcat(c->asked, ",");
  json_t *v = json_object_get(c->rvs, id);
  *result = v ? json_incref(v) : json_null();
  return NULL;
}

static json_t *trust_claims(rego_policy *p, json_t *input, rvctx *rc) {
  rego_host_binding hb = {"query_reference_value", qrv, rc};
  rego_eval_opts o = {.input = input, .hosts = &hb, .nhosts = 1, .strict_builtin_errors = true};
  rego_status st;
  json_t *v = NULL;
  tr_err *e = rego_eval_rule(p, "data.policy.trust_claims", &o, &st, &v);
  if (e) fail_msg("eval: %s", tr_err_msg(e));
  assert_int_equal(st, REGO_DEFINED);
  return v;
}

static int claim(json_t *tc, const char *name) { return (int)json_integer_value(json_object_get(tc, name)); }

static const char *sample_input =
    "{\"sample\":{\"svn\":\"1\",\"report_data\":\"\",\"launch_digest\":\"abcde\","
    "\"platform_version\":{\"major\":1,\"minor\":4},\"debug\":false}}";

static void test_as_cpu_sample(void **s) {
  (void)s;
  rego_policy *p = compile_file("attestation-service/policies/ear_default_policy_cpu.rego");
  json_t *in = J(sample_input);
  /* with matching reference values */
  rvctx rc = {
      .rvs = J(
          "{\"launch_digest\":[\"abcde\"],\"svn\":[\"1\"],\"major_version\":1,\"minimum_minor_version\":3}")};
  json_t *tc = trust_claims(p, in, &rc);
  assert_int_equal(claim(tc, "executables"), 3);
  assert_int_equal(claim(tc, "hardware"), 2);
  assert_int_equal(claim(tc, "configuration"), 2);
  assert_int_equal(claim(tc, "file-system"), 0);
  assert_int_equal(json_object_size(tc), 8);
  /* short-circuit: only sample ids were looked up */
  assert_null(strstr(rc.asked, "snp"));
  assert_null(strstr(rc.asked, "rtmr"));
  json_decref(tc);
  json_decref(rc.rvs);
  /* no reference values (RVPS returns null for unknown ids): `x in null` is false,
   * but `minor >= null` is true by the type order */
  rvctx none = {.rvs = J("{}")};
  tc = trust_claims(p, in, &none);
  assert_int_equal(claim(tc, "executables"), 33);
  assert_int_equal(claim(tc, "hardware"), 97);
  assert_int_equal(claim(tc, "configuration"), 2);
  json_decref(tc);
  json_decref(none.rvs);
  json_decref(in);
  rego_policy_free(p);
}

static const char *snp_input =
    "{\"snp\":{\"measurement\":\"8f3a\",\"reported_tcb_bootloader\":3,\"reported_tcb_microcode\":209,"
    "\"reported_tcb_snp\":20,\"reported_tcb_tee\":0,\"policy_debug_allowed\":false,\"policy_migrate_ma\":"
    "false,"
    "\"platform_smt_enabled\":true,\"platform_tsme_enabled\":false,\"policy_abi_major\":0,\"policy_abi_"
    "minor\":31,"
    "\"policy_single_socket\":false,\"policy_smt_allowed\":true},\"init_data_claims\":{\"agent_policy_"
    "claims\":"
    "{\"containers\":[{\"OCI\":{\"Annotations\":{\"io.kubernetes.cri.image-name\":\"pause\"},\"Process\":{"
    "\"User\":"
    "{\"UID\":65535}}}},{\"OCI\":{\"Annotations\":{\"io.kubernetes.cri.image-name\":\"nginx\"},\"Process\":{"
    "\"User\":{\"UID\":0}}}}]}}}";

static void test_as_cpu_snp(void **s) {
  (void)s;
  rego_policy *p = compile_file("attestation-service/policies/ear_default_policy_cpu.rego");
  json_t *in = J(snp_input);
  rvctx rc = {
      .rvs = J("{\"snp_launch_measurement\":[\"8f3a\"],\"snp_bootloader\":[3],\"snp_microcode\":[209],"
               "\"snp_snp_svn\":[20],\"snp_tee_svn\":[0],\"snp_smt_enabled\":true,\"snp_tsme_enabled\":false,"
               "\"snp_guest_abi_major\":0,\"snp_guest_abi_minor\":31,\"snp_single_socket\":false,"
               "\"snp_smt_allowed\":true}")};
  json_t *tc = trust_claims(p, in, &rc);
  assert_int_equal(claim(tc, "executables"), 3);
  assert_int_equal(claim(tc, "hardware"), 2);
  assert_int_equal(claim(tc, "configuration"), 2);
  assert_null(strstr(rc.asked, "launch_digest"));
  json_decref(tc);
  /* a config mismatch falls to the else branch (3) */
  json_object_set_new(rc.rvs, "snp_guest_abi_minor", json_integer(30));
  tc = trust_claims(p, in, &rc);
  assert_int_equal(claim(tc, "configuration"), 3);
  json_decref(tc);
  /* a wrong measurement: executables 33 */
  json_object_set_new(rc.rvs, "snp_launch_measurement", json_pack("[s]", "0000"));
  tc = trust_claims(p, in, &rc);
  assert_int_equal(claim(tc, "executables"), 33);
  json_decref(tc);

  /* extensions: the validated identifiers from init-data */
  rego_host_binding hb = {"query_reference_value", qrv, &rc};
  rego_eval_opts o = {.input = in, .hosts = &hb, .nhosts = 1, .strict_builtin_errors = true};
  rego_status st;
  json_t *ext = NULL;
  tr_err *e = rego_eval_rule(p, "data.policy.extensions", &o, &st, &ext);
  if (e) fail_msg("%s", tr_err_msg(e));
  json_t *want = J("[{\"name\":\"ear.trustee.identifiers\",\"key\":-18,\"value\":{\"validated\":{"
                   "\"container_images\":[\"pause\",\"nginx\"],\"container_uids\":[65535,0]}}}]");
  assert_true(json_equal(ext, want));
  json_decref(ext);
  json_decref(want);
  /* without init-data claims: validated is {} */
  json_t *bare = J("{\"snp\":{}}");
  o.input = bare;
  e = rego_eval_rule(p, "data.policy.extensions", &o, &st, &ext);
  if (e) fail_msg("%s", tr_err_msg(e));
  want = J("[{\"name\":\"ear.trustee.identifiers\",\"key\":-18,\"value\":{\"validated\":{}}}]");
  assert_true(json_equal(ext, want));
  json_decref(ext);
  json_decref(want);
  json_decref(bare);
  json_decref(rc.rvs);
  json_decref(in);
  rego_policy_free(p);
}

static const char *tdx_input =
    "{\"tdx\":{\"quote\":{\"header\":{\"tee_type\":\"81000000\",\"vendor_id\":"
    "\"939a7233f79c4ca9940a0db3957f0607\"},"
    "\"body\":{\"mr_td\":\"aa\",\"rtmr_1\":\"r1\",\"rtmr_2\":\"r2\",\"xfam\":\"e718060000000000\"}},"
    "\"tcb_status\":\"UpToDate\",\"collateral_expiration_status\":\"0\",\"td_attributes\":{\"debug\":false},"
    "\"uefi_event_logs\":[{\"type_name\":\"EV_EFI_BOOT_SERVICES_APPLICATION\",\"details\":{\"device_paths\":"
    "[\"PciRoot(0x0)\",\"File(kernel)\"]},\"digests\":[{\"alg\":\"SHA-384\",\"digest\":\"kdigest\"}]},"
    "{\"type_name\":\"EV_EVENT_TAG\",\"details\":{\"string\":\"LOADED_IMAGE::LoadOptions\"},\"digests\":"
    "[{\"alg\":\"SHA-384\",\"digest\":\"pdigest\"}]}]}}";

static void test_as_cpu_tdx(void **s) {
  (void)s;
  rego_policy *p = compile_file("attestation-service/policies/ear_default_policy_cpu.rego");
  json_t *in = J(tdx_input);
  rvctx rc = {
      .rvs = J("{\"rtmr_1\":[\"r1\"],\"rtmr_2\":[\"r2\"],\"tdvfkernel\":\"kdigest\",\"tdvfkernelparams\":"
               "\"pdigest\",\"mr_td\":[\"aa\"],\"xfam\":[\"e718060000000000\"]}")};
  json_t *tc = trust_claims(p, in, &rc);
  assert_int_equal(claim(tc, "executables"), 3);
  assert_int_equal(claim(tc, "hardware"), 2);
  assert_int_equal(claim(tc, "configuration"), 2);
  assert_null(strstr(rc.asked, "snp"));
  json_decref(tc);
  /* kernel params digest not matching: the RTMR-only branch (4) */
  json_object_set_new(rc.rvs, "tdvfkernelparams", json_string("other"));
  tc = trust_claims(p, in, &rc);
  assert_int_equal(claim(tc, "executables"), 4);
  json_decref(tc);
  /* out-of-date TCB: hardware not affirmed */
  json_object_set_new(json_object_get(in, "tdx"), "tcb_status", json_string("OutOfDate"));
  tc = trust_claims(p, in, &rc);
  assert_int_equal(claim(tc, "hardware"), 97);
  json_decref(tc);
  json_decref(rc.rvs);
  json_decref(in);
  rego_policy_free(p);
}

static void test_as_other_tees_and_defaults(void **s) {
  (void)s;
  rego_policy *p = compile_file("attestation-service/policies/ear_default_policy_cpu.rego");
  rvctx rc = {.rvs = J("{}")};
  /* se: 3/2/2 without any reference value */
  json_t *se = J("{\"se\":{\"version\":\"256\"}}");
  json_t *tc = trust_claims(p, se, &rc);
  assert_int_equal(claim(tc, "executables"), 3);
  assert_int_equal(claim(tc, "hardware"), 2);
  assert_int_equal(claim(tc, "configuration"), 2);
  json_decref(tc);
  /* an unknown TEE (sgx has no section): the defaults */
  json_t *sgx = J("{\"sgx\":{\"body\":{}}}");
  tc = trust_claims(p, sgx, &rc);
  assert_int_equal(claim(tc, "executables"), 33);
  assert_int_equal(claim(tc, "hardware"), 97);
  assert_int_equal(claim(tc, "configuration"), 36);
  json_decref(tc);
  /* the policy does not define some rules */
  assert_false(rego_policy_defines(p, "data.policy.nope"));
  rego_status st;
  json_t *v = NULL;
  rego_eval_opts o = {.input = sgx};
  assert_null(rego_eval_rule(p, "data.policy.nope", &o, &st, &v));
  assert_int_equal(st, REGO_NO_RULE);
  json_decref(se);
  json_decref(sgx);
  json_decref(rc.rvs);
  rego_policy_free(p);
  /* gpu/switch/ppcie have no `extensions` rule */
  const char *others[] = {"attestation-service/policies/ear_default_policy_gpu.rego",
                          "attestation-service/policies/ear_default_policy_switch.rego",
                          "attestation-service/policies/ear_default_policy_ppcie.rego"};
  for (int i = 0; i < 3; i++) {
    rego_policy *q = compile_file(others[i]);
    assert_false(rego_policy_defines(q, "data.policy.extensions"));
    assert_true(rego_policy_defines(q, "data.policy.trust_claims"));
    rego_policy_free(q);
  }
}

/* The AS documentation examples (flattened claim names) and the GPU policy. */
static json_t *eval_json(rego_policy *p, const char *rule, json_t *in, rvctx *rc) {
  rego_host_binding hb = {"query_reference_value", qrv, rc};
  rego_eval_opts o = {.input = in, .hosts = &hb, .nhosts = rc ? 1 : 0, .strict_builtin_errors = true};
  rego_status st;
  json_t *v = NULL;
  tr_err *e = rego_eval_rule(p, rule, &o, &st, &v);
  if (e) fail_msg("%s: %s", rule, tr_err_msg(e));
  if (st != REGO_DEFINED) fail_msg("%s: not defined", rule);
  return v;
}

static void test_as_examples_and_gpu(void **s) {
  (void)s;
  struct {
    const char *policy, *input;
    int want;
  } ex[] = {
      {"attestation-service/tests/coco-as/policy/example-1.rego",
       "{\"sgx.body.mr_enclave\":\"8f173e4613ff05c52aaf04162d234edae8c9977eae47eb2299ae16a553011c68\","
       "\"sgx.body.mr_signer\":\"83d719e77deaca1470f6baf62a4d774303c899db69020f9c70ee1dfc08c7ce9e\"}",
       3},
      {"attestation-service/tests/coco-as/policy/example-1.rego", "{\"sgx.body.mr_enclave\":\"00\"}", 33},
      {"attestation-service/tests/coco-as/policy/example-3.rego",
       "{\"se.version\":256,\"se.user_data\":\"00\",\"se.tag\":\"773780962a7350165054673b6c54235d\","
       "\"se.image_phkh\":\"92d0aff6eb86719b6b1ea0cb98d2c99ff2ec693df3efff2158f54112f6961508\","
       "\"se.attestation_phkh\":\"92d0aff6eb86719b6b1ea0cb98d2c99ff2ec693df3efff2158f54112f6961508\"}",
       3},
      {"attestation-service/tests/coco-as/policy/example-3.rego", "{\"se.version\":257}", 33},
  };
  for (size_t i = 0; i < sizeof ex / sizeof ex[0]; i++) {
    rego_policy *p = compile_file(ex[i].policy);
    json_t *in = J(ex[i].input);
    json_t *v = eval_json(p, "data.policy.executables", in, NULL);
    if (json_integer_value(v) != ex[i].want) fail_msg("%s case %zu", ex[i].policy, i);
    json_decref(v);
    json_decref(in);
    rego_policy_free(p);
  }
  rego_policy *np = compile_file("attestation-service/tests/coco-as/policy/new_policy.rego");
  json_t *empty = J("{}");
  json_t *v = eval_json(np, "data.policy.allow", empty, NULL);
  assert_true(json_is_true(v));
  json_decref(v);
  rego_policy_free(np);

  rego_policy *gpu = compile_file("attestation-service/policies/ear_default_policy_gpu.rego");
  rvctx rc = {
      .rvs =
          J("{\"allowed_vbios_versions\":[\"96.00.5e.00.01\"],\"allowed_driver_versions\":[\"550.90.07\"]}")};
  /* sampledevice: data.reference is never defined in the AS, so the defaults */
  json_t *sd = J("{\"sampledevice\":{\"svn\":\"1\"}}");
  json_t *tc = eval_json(gpu, "data.policy.trust_claims", sd, &rc);
  assert_int_equal(claim(tc, "hardware"), 97);
  assert_int_equal(claim(tc, "executables"), 33);
  json_decref(tc);
  json_t *nv = J(
      "{\"nvidia\":{\"x-nvidia-gpu-attestation-report-cert-chain\":{\"x-nvidia-cert-ocsp-status\":\"good\","
      "\"x-nvidia-cert-status\":\"valid\"},\"x-nvidia-gpu-attestation-report-cert-chain-fwid-match\":true,"
      "\"x-nvidia-gpu-attestation-report-parsed\":true,\"x-nvidia-gpu-attestation-report-signature-"
      "verified\":"
      "true,\"x-nvidia-gpu-arch-check\":true,\"secboot\":true,\"dbgstat\":\"disabled\","
      "\"x-nvidia-gpu-vbios-version\":\"96.00.5e.00.01\",\"x-nvidia-gpu-driver-version\":\"550.90.07\","
      "\"x-nvidia-gpu-vbios-rim-cert-chain\":{\"x-nvidia-cert-ocsp-status\":\"good\",\"x-nvidia-cert-"
      "status\":"
      "\"valid\"},\"x-nvidia-gpu-driver-rim-fetched\":true,\"x-nvidia-gpu-driver-rim-measurements-"
      "available\":"
      "true,\"x-nvidia-gpu-driver-rim-schema-validated\":true,\"x-nvidia-gpu-driver-rim-signature-verified\":"
      "true,\"x-nvidia-gpu-driver-rim-version-match\":true,\"x-nvidia-gpu-vbios-rim-fetched\":true,"
      "\"x-nvidia-gpu-vbios-rim-measurements-available\":true,\"x-nvidia-gpu-vbios-rim-schema-validated\":"
      "true,"
      "\"x-nvidia-gpu-vbios-rim-signature-verified\":true,\"x-nvidia-gpu-vbios-rim-version-match\":true,"
      "\"measres\":\"success\"}}");
  tc = eval_json(gpu, "data.policy.trust_claims", nv, &rc);
  assert_int_equal(claim(tc, "hardware"), 2);
  assert_int_equal(claim(tc, "configuration"), 2);
  assert_int_equal(claim(tc, "executables"), 3);
  json_decref(tc);
  /* a driver not in the reference values: configuration falls back to 3 */
  json_object_set_new(json_object_get(nv, "nvidia"), "x-nvidia-gpu-driver-version", json_string("535.0"));
  tc = eval_json(gpu, "data.policy.trust_claims", nv, &rc);
  assert_int_equal(claim(tc, "configuration"), 3);
  json_decref(tc);
  json_decref(nv);
  json_decref(sd);
  json_decref(empty);
  json_decref(rc.rvs);
  rego_policy_free(gpu);
}

static void test_as_no_rv_policy(void **s) {
  (void)s;
  rego_policy *p = compile_file("attestation-service/tests/coco-as/policy/opa/ear_no_rv_policy_cpu.rego");
  json_t *in = J(sample_input);
  rego_eval_opts o = {.input = in, .strict_builtin_errors = true};
  rego_status st;
  json_t *v = NULL;
  tr_err *e = rego_eval_rule(p, "data.policy.trust_claims", &o, &st, &v);
  if (e) fail_msg("%s", tr_err_msg(e));
  assert_int_equal(claim(v, "executables"), 3);
  assert_int_equal(claim(v, "hardware"), 2);
  assert_int_equal(claim(v, "configuration"), 2);
  json_decref(v);
  json_decref(in);
  rego_policy_free(p);
}

/* The default CPU policy needs the host function; without a binding (AS
 * without RVPS) evaluation fails with an error. */
static void test_host_missing_is_error(void **s) {
  (void)s;
  rego_policy *p = compile_file("attestation-service/policies/ear_default_policy_cpu.rego");
  json_t *in = J(sample_input);
  rego_eval_opts o = {.input = in, .strict_builtin_errors = true};
  rego_status st;
  json_t *v = NULL;
  tr_err *e = rego_eval_rule(p, "data.policy.trust_claims", &o, &st, &v);
  assert_non_null(e);
  assert_non_null(strstr(tr_err_msg(e), "query_reference_value"));
  tr_err_free(e);
  json_decref(in);
  rego_policy_free(p);
  /* and compiling it without declaring the host function is a compile error */
  char *text = read_text("attestation-service/policies/ear_default_policy_cpu.rego");
  rego_module_src m = {"cpu.rego", text};
  e = rego_compile(&m, 1, NULL, &p);
  assert_non_null(e);
  assert_non_null(strstr(tr_err_msg(e), "query_reference_value"));
  tr_err_free(e);
  free(text);
}

static tr_err *failing_host(void *ctx, json_t *const *args, size_t nargs, json_t **result) {
  (void)ctx, (void)args, (void)nargs, (void)result;
  return tr_err_new(TR_E_IO, "rvps unreachable");
}

static void test_host_error_aborts(void **s) {
  (void)s;
  rego_policy *p = compile_file("attestation-service/policies/ear_default_policy_cpu.rego");
  json_t *in = J(sample_input);
  rego_host_binding hb = {"query_reference_value", failing_host, NULL};
  rego_eval_opts o = {.input = in, .hosts = &hb, .nhosts = 1, .strict_builtin_errors = true};
  rego_status st;
  json_t *v = NULL;
  tr_err *e = rego_eval_rule(p, "data.policy.trust_claims", &o, &st, &v);
  assert_non_null(e);
  assert_non_null(strstr(tr_err_msg(e), "rvps unreachable"));
  assert_int_equal(tr_err_code(e), TR_E_IO);
  tr_err_free(e);
  json_decref(in);
  rego_policy_free(p);
  /* an undefined argument makes the call undefined without calling the host */
  rego_module_src m = {"u.rego", "package p\nx := query_reference_value(input.nope)\n"};
  rego_compile_opts co = {.hosts = &qrv_decl, .nhosts = 1};
  assert_null(rego_compile(&m, 1, &co, &p));
  json_t *empty = J("{}");
  o.input = empty;
  assert_null(rego_eval_rule(p, "data.p.x", &o, &st, &v));
  assert_int_equal(st, REGO_UNDEFINED);
  /* `with` can mock a host function (offline policy tests) */
  rego_policy *w = NULL;
  rego_module_src mw = {
      "w.rego", "package p\nx := y if y := query_reference_value(\"a\") with query_reference_value as mock\n"
                "mock(id) := [id, 1]\n"};
  assert_null(rego_compile(&mw, 1, &co, &w));
  assert_null(rego_eval_rule(w, "data.p.x", &o, &st, &v)); /* failing_host is bound but not called */
  assert_int_equal(st, REGO_DEFINED);
  json_t *wantw = J("[\"a\", 1]");
  assert_true(json_equal(v, wantw));
  json_decref(wantw);
  json_decref(v);
  rego_policy_free(w);
  /* out-parameter calls to a host function are rejected */
  rego_policy *q = NULL;
  rego_module_src m2 = {"o.rego", "package p\nx if query_reference_value(\"a\", y)\n"};
  e = rego_compile(&m2, 1, &co, &q);
  assert_non_null(e);
  tr_err_free(e);
  json_decref(empty);
  rego_policy_free(p);
}

/* ---- engine contracts ---- */

static rego_policy *compile_text(const char *text, tr_err **err) {
  rego_module_src m = {"t.rego", text};
  rego_policy *p = NULL;
  *err = rego_compile(&m, 1, NULL, &p);
  return p;
}

static void test_undefined_vs_no_rule_and_conflict(void **s) {
  (void)s;
  tr_err *e;
  rego_policy *p =
      compile_text("package policy\nallow if input.x == 1\nx := 1 if input.a\nx := 2 if input.b\n", &e);
  assert_null(e);
  rego_status st;
  json_t *v = NULL;
  json_t *in = J("{\"x\":2,\"a\":true,\"b\":true}");
  rego_eval_opts o = {.input = in};
  assert_null(rego_eval_rule(p, "data.policy.allow", &o, &st, &v));
  assert_int_equal(st, REGO_UNDEFINED);
  assert_null(rego_eval_rule(p, "data.policy.missing", &o, &st, &v));
  assert_int_equal(st, REGO_NO_RULE);
  e = rego_eval_rule(p, "data.policy.x", &o, &st, &v);
  assert_non_null(e);
  assert_non_null(strstr(tr_err_msg(e), "eval_conflict_error"));
  tr_err_free(e);
  json_decref(in);
  rego_policy_free(p);
}

static void test_recursion_is_compile_error(void **s) {
  (void)s;
  tr_err *e;
  rego_policy *p = compile_text("package r\np if q\nq if p\n", &e);
  assert_null(p);
  assert_non_null(e);
  assert_non_null(strstr(tr_err_msg(e),
                         "t.rego:2:1: rego_recursion_error: rule data.r.p is recursive: data.r.p -> "
                         "data.r.q -> data.r.p"));
  tr_err_free(e);
  p = compile_text("package r\nf(x) := y if y := f(x)\n", &e);
  assert_null(p);
  assert_non_null(strstr(tr_err_msg(e), "rego_recursion_error"));
  tr_err_free(e);
  /* dynamic refs only depend on what they can match */
  p = compile_text("package r\np := data[x].other if x := \"q\"\n", &e);
  assert_null(e);
  rego_policy_free(p);
}

/* Every builtin family is linked into the engine (strong references, see
 * module.cmake): a policy calling one builtin of each compiles. */
static void test_builtin_families_linked(void **s) {
  (void)s;
  const char *calls[] = {"count([])",
                         "array.concat([], [])",
                         "bits.and(1, 1)",
                         "to_number(\"1\")",
                         "base64.encode(\"a\")",
                         "glob.match(\"a\", [], \"a\")",
                         "json.marshal(1)",
                         "numbers.range(1, 2)",
                         "object.get({}, \"a\", 1)",
                         "regex.match(\"a\", \"a\")",
                         "semver.is_valid(\"1.0.0\")",
                         "intersection(set())",
                         "concat(\"\", [])",
                         "time.now_ns()",
                         "is_string(1)",
                         "units.parse(\"1\")",
                         "sprintf(\"%v\", [1])"};
  for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++) {
    char text[256];
    snprintf(text, sizeof text, "package p\nx := %s\n", calls[i]);
    tr_err *e;
    rego_policy *p = compile_text(text, &e);
    if (e) fail_msg("%s: %s", calls[i], tr_err_msg(e));
    rego_policy_free(p);
  }
}

static void test_strict_vs_lenient(void **s) {
  (void)s;
  tr_err *e;
  rego_policy *p = compile_text("package policy\nx := 1 / input.d\n", &e);
  assert_null(e);
  json_t *in = J("{\"d\":0}");
  rego_status st;
  json_t *v = NULL;
  rego_eval_opts o = {.input = in, .strict_builtin_errors = false};
  assert_null(rego_eval_rule(p, "data.policy.x", &o, &st, &v));
  assert_int_equal(st, REGO_UNDEFINED);
  o.strict_builtin_errors = true;
  e = rego_eval_rule(p, "data.policy.x", &o, &st, &v);
  assert_non_null(e);
  assert_non_null(strstr(tr_err_msg(e), "eval_builtin_error"));
  assert_non_null(strstr(tr_err_msg(e), "t.rego:2:"));
  tr_err_free(e);
  json_decref(in);
  rego_policy_free(p);
}

/* Trustee's regorus runs in v1 mode: v0 bodies without `if` are rejected
 * unless the caller asks for compatibility. */
static void test_v0_syntax(void **s) {
  (void)s;
  const char *v0 = "package p\nq[x] { x := [1, 2][_] }\nallow { q[2] }\n";
  tr_err *e;
  rego_policy *p = compile_text(v0, &e);
  assert_null(p);
  assert_non_null(e);
  assert_non_null(strstr(tr_err_msg(e), "t.rego:2:6: rego_parse_error: `if` keyword is required"));
  tr_err_free(e);
  rego_module_src m = {"t.rego", v0};
  rego_compile_opts o = {.v0_compat = true};
  assert_null(rego_compile(&m, 1, &o, &p));
  rego_status st;
  json_t *v = NULL;
  rego_eval_opts eo = {0};
  assert_null(rego_eval_rule(p, "data.p.q", &eo, &st, &v));
  json_t *want = J("[1, 2]");
  assert_true(json_equal(v, want));
  json_decref(v);
  json_decref(want);
  assert_null(rego_eval_rule(p, "data.p.allow", &eo, &st, &v));
  assert_true(json_is_true(v));
  json_decref(v);
  rego_policy_free(p);
}

static void test_deep_nesting_is_error(void **s) {
  (void)s;
  size_t n = 100000;
  char *text = malloc(n + 64);
  strcpy(text, "package p\nx := ");
  size_t o = strlen(text);
  memset(text + o, '[', n);
  text[o + n] = 0;
  tr_err *e;
  rego_policy *p = compile_text(text, &e);
  assert_null(p);
  assert_non_null(e);
  assert_non_null(strstr(tr_err_msg(e), "nesting"));
  tr_err_free(e);
  /* the same through JSON input */
  memset(text, '[', n);
  text[n] = 0;
  rego_value *v = NULL;
  e = rego_value_from_json_text(text, n, &v);
  assert_non_null(e);
  tr_err_free(e);
  free(text);
}

static void test_step_limit(void **s) {
  (void)s;
  tr_err *e;
  rego_policy *p =
      compile_text("package p\nx := count([1 | some a in numbers; some b in numbers; some c in numbers])\n"
                   "numbers := [i | some i in input]\n",
                   &e);
  if (e && strstr(tr_err_msg(e), "undefined function count")) {
    tr_err_free(e);
    skip();
  }
  assert_null(e);
  json_t *in = json_array();
  for (int i = 0; i < 400; i++)
    json_array_append_new(in, json_integer(i));
  rego_eval_opts o = {.input = in, .max_steps = 100000};
  rego_status st;
  json_t *v = NULL;
  e = rego_eval_rule(p, "data.p.x", &o, &st, &v);
  assert_non_null(e);
  assert_non_null(strstr(tr_err_msg(e), "limit"));
  tr_err_free(e);
  json_decref(in);
  rego_policy_free(p);
}

/* One compiled policy, evaluated concurrently from several threads. */
typedef struct {
  rego_policy *p;
  int bad;
} thr_arg;

static void *thr_main(void *arg) {
  thr_arg *a = arg;
  json_t *in = J(snp_input);
  rvctx rc = {.rvs =
                  J("{\"snp_launch_measurement\":[\"8f3a\"],\"snp_bootloader\":[3],\"snp_microcode\":[209],"
                    "\"snp_snp_svn\":[20],\"snp_tee_svn\":[0]}")};
  for (int i = 0; i < 300; i++) {
    rc.asked[0] = 0;
    rego_host_binding hb = {"query_reference_value", qrv, &rc};
    rego_eval_opts o = {.input = in, .hosts = &hb, .nhosts = 1, .strict_builtin_errors = true};
    rego_status st;
    json_t *v = NULL;
    tr_err *e = rego_eval_rule(a->p, "data.policy.trust_claims", &o, &st, &v);
    if (e || st != REGO_DEFINED || claim(v, "executables") != 3 || claim(v, "hardware") != 2 ||
        claim(v, "configuration") != 3)
      a->bad++;
    tr_err_free(e);
    json_decref(v);
  }
  json_decref(rc.rvs);
  json_decref(in);
  return NULL;
}

static void test_concurrent_evaluation(void **s) {
  (void)s;
  rego_policy *p = compile_file("attestation-service/policies/ear_default_policy_cpu.rego");
  pthread_t t[4];
  thr_arg args[4];
  for (int i = 0; i < 4; i++) {
    args[i] = (thr_arg){p, 0};
    assert_int_equal(pthread_create(&t[i], NULL, thr_main, &args[i]), 0);
  }
  for (int i = 0; i < 4; i++) {
    pthread_join(t[i], NULL);
    assert_int_equal(args[i].bad, 0);
  }
  rego_policy_free(p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_all_policies_compile),
      cmocka_unit_test(test_kbs_policy_engine_cases),
      cmocka_unit_test(test_kbs_default_and_affirming),
      cmocka_unit_test(test_as_cpu_sample),
      cmocka_unit_test(test_as_cpu_snp),
      cmocka_unit_test(test_as_cpu_tdx),
      cmocka_unit_test(test_as_other_tees_and_defaults),
      cmocka_unit_test(test_as_examples_and_gpu),
      cmocka_unit_test(test_as_no_rv_policy),
      cmocka_unit_test(test_host_missing_is_error),
      cmocka_unit_test(test_host_error_aborts),
      cmocka_unit_test(test_undefined_vs_no_rule_and_conflict),
      cmocka_unit_test(test_recursion_is_compile_error),
      cmocka_unit_test(test_builtin_families_linked),
      cmocka_unit_test(test_strict_vs_lenient),
      cmocka_unit_test(test_v0_syntax),
      cmocka_unit_test(test_deep_nesting_is_error),
      cmocka_unit_test(test_step_limit),
      cmocka_unit_test(test_concurrent_evaluation),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
