/* Tests for the CC event log parser and RTMR replay (src/verifier/eventlog)
 * against upstream's eventlog vectors: every shipped log gives exactly its
 * _out.json; replay gives the RTMR values of upstream's test_rtmr_integrity;
 * a wrong reference gives upstream's exact error; malformed logs fail
 * without crashing; device-path and detail edge cases. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "test_dcap_util.h"

#include "core/buf.h"
#include "core/digest.h"
#include "core/encoding.h"
#include "core/json.h"
#include "verifier/eventlog/eventlog.h"
#include "verifier/eventlog/eventlog_internal.h"

#define EL "vectors/trustee/deps/eventlog/test_data/"

static void parse_file(const char *name, tr_ccel *l) {
  char rel[256];
  size_t n;
  snprintf(rel, sizeof(rel), EL "%s", name);
  uint8_t *d = readv(rel, &n);
  tr_err *e = tr_ccel_parse(d, n, l);
  if (e) fprintf(stderr, "%s: %s\n", name, tr_err_msg(e));
  assert_null(e);
  free(d);
}

static void test_json_golden(void **st) {
  (void)st;
  static const char *const files[] = {"CCEL_data", "CCEL_data_ovmf", "CCEL_data_grub",
                                      "CCEL_AAEL_alibabacloud", "CCEL_data_csv"};
  static const size_t counts[] = {5, 20, 37, 87, 82};
  for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
    tr_ccel l;
    parse_file(files[i], &l);
    char rel[256];
    size_t n;
    snprintf(rel, sizeof(rel), EL "%s_out.json", files[i]);
    uint8_t *txt = readv(rel, &n);
    json_t *want = NULL;
    assert_null(tr_json_parse((const char *)txt, n, &want));
    json_t *got = json_pack("{sO}", "uefi_event_logs", l.entries);
    if (!json_equal(got, want)) {
      json_t *w = json_object_get(want, "uefi_event_logs");
      for (size_t k = 0; k < json_array_size(w); k++) {
        if (!json_equal(json_array_get(w, k), json_array_get(l.entries, k))) {
          char *a = tr_json_dump_sorted(json_array_get(w, k)),
               *b = tr_json_dump_sorted(json_array_get(l.entries, k));
          fprintf(stderr, "%s entry %zu differs:\nwant %.600s\ngot  %.600s\n", files[i], k, a, b);
          free(a);
          free(b);
          break;
        }
      }
    }
    assert_true(json_equal(got, want));
    assert_int_equal(json_array_size(l.entries), counts[i]);
    json_decref(got);
    json_decref(want);
    free(txt);
    tr_ccel_clear(&l);
  }
}

static void replay_check(const char *file, const char *const rtmr[4]) {
  tr_ccel l;
  parse_file(file, &l);
  for (uint32_t i = 0; i < 4; i++) {
    uint8_t v[64];
    size_t vl;
    assert_null(tr_ccel_replay(&l, i + 1, TR_TCG_SHA384, v, &vl));
    assert_int_equal(vl, 48);
    char *h = tr_hex_encode(v, vl);
    if (strcmp(h, rtmr[i])) fprintf(stderr, "%s rtmr%u = %s\n", file, i, h);
    assert_string_equal(h, rtmr[i]);
    free(h);
  }
  /* and through replay_and_match */
  uint8_t *refs[4];
  size_t lens[4];
  uint32_t idx[4] = {1, 2, 3, 4};
  for (int i = 0; i < 4; i++)
    assert_null(tr_hex_decode(rtmr[i], 96, &refs[i], &lens[i]));
  assert_null(tr_ccel_replay_and_match(&l, TR_TCG_SHA384, idx, (const uint8_t *const *)refs, lens, 4));
  for (int i = 0; i < 4; i++)
    free(refs[i]);
  tr_ccel_clear(&l);
}

#define Z48 "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"

static void test_rtmr_integrity(void **st) {
  (void)st;
  const char *const data[4] = {
      "2dc712306a963eadb894ad47dbaa17df44814151555aee11cbb843becca88950ffd079664902e6f22c66f7c8213543f4",
      "0fa3be56af61208bbd179dc7b124988eb929319154663c539d6f46445ecac2fec287075047ff7bd1922829fec28cd3cf", Z48,
      Z48};
  const char *const ovmf[4] = {
      "8566f998798db09443b244c62de9a3041fb02e2e6936c4396d784bba2e90177329ec5aba3bb484404f2ab9cc90abe193",
      "775b9f6bfe99f8a31396f0d0218e67ffa796d3b96ccf961cbb0deba48c79c00f082cda1a5567c1c16305f1fc210c13c6",
      "94eaf7a7bf398ed8d888c91057ae0261802e4f3df084213a76ca7f0b5055ac9d2241de43cd58d9e8b49c503bbf25f34a",
      Z48};
  const char *const grub[4] = {
      "cec0a104f691f60da2387fea3c2de00c4ac035e2bb479ff02edcce69039d9e9907f0b3e55031da3dc7038f423adebd79",
      "6c289e0c62182d41ebe97bdbc9872d10998a08eaa86adcdc684001a363207ee72942c7522cdf00a4bbc3d784bed7b670",
      "08919d017ba0e52cd6d966351c7de16fe76c1d3d3d3da4554239e4c7d16cb8b82a94e7eaea3a0e6e18eb690b999fd31e",
      Z48};
  const char *const gcp[4] = {
      "3300980705adf09d28b707b79699d9874892164280832be2c386a715b6e204e0897fb564a064f810659207ba862b304f",
      "204d49f78d29918fe7b2f694e76653861a0c2a018987d2c3a54266eff737232524cf0af68c4d180e2f8c2c0937f21967", Z48,
      Z48};
  replay_check("CCEL_data", data);
  replay_check("CCEL_data_ovmf", ovmf);
  replay_check("CCEL_data_grub", grub);
  replay_check("CCEL_data_gcp", gcp);
}

static void mismatch(const char *file, const char *r0, const char *r1, const char *want) {
  tr_ccel l;
  parse_file(file, &l);
  uint8_t *refs[2];
  size_t lens[2];
  uint32_t idx[2] = {1, 2};
  assert_null(tr_hex_decode(r0, 96, &refs[0], &lens[0]));
  assert_null(tr_hex_decode(r1, 96, &refs[1], &lens[1]));
  tr_err *e = tr_ccel_replay_and_match(&l, TR_TCG_SHA384, idx, (const uint8_t *const *)refs, lens, 2);
  assert_non_null(e);
  assert_string_equal(tr_err_msg(e), want);
  tr_err_free(e);
  free(refs[0]);
  free(refs[1]);
  tr_ccel_clear(&l);
}

static void test_rtmr_integrity_error(void **st) {
  (void)st;
  mismatch(
      "CCEL_data_gcp",
      "3300980705adf09d28b707b79699d9874892164280832be2c386a715b6e204e0897fb564a064f810659207ba862b304d",
      "204d49f78d29918fe7b2f694e76653861a0c2a018987d2c3a54266eff737232524cf0af68c4d180e2f8c2c0937f21967",
      "Eventlog does not pass measurement replay CC Event Log Measurement Register [index = 1]. Calculated "
      "value: "
      "3300980705adf09d28b707b79699d9874892164280832be2c386a715b6e204e0897fb564a064f810659207ba862b304f, "
      "Given value: "
      "3300980705adf09d28b707b79699d9874892164280832be2c386a715b6e204e0897fb564a064f810659207ba862b304d");
  mismatch(
      "CCEL_data",
      "2dc712306a963eadb894ad47dbaa17df44814151555aee11cbb843becca88950ffd079664902e6f22c66f7c8213543f4",
      "2fa3be56af61208bbd179dc7b124988eb929319154663c539d6f46445ecac2fec287075047ff7bd1922829fec28cd3cf",
      "Eventlog does not pass measurement replay CC Event Log Measurement Register [index = 2]. Calculated "
      "value: "
      "0fa3be56af61208bbd179dc7b124988eb929319154663c539d6f46445ecac2fec287075047ff7bd1922829fec28cd3cf, "
      "Given value: "
      "2fa3be56af61208bbd179dc7b124988eb929319154663c539d6f46445ecac2fec287075047ff7bd1922829fec28cd3cf");
}

static void test_sm3_replay(void **st) {
  (void)st;
  tr_ccel l;
  parse_file("CCEL_data_csv", &l);
  uint8_t v[64], w[64];
  size_t vl, wl;
  assert_null(tr_ccel_replay(&l, 1, TR_TCG_SM3, v, &vl));
  assert_int_equal(vl, 32);
  /* no SHA-384 digests in this log: a SHA-384 replay is all zeros */
  assert_null(tr_ccel_replay(&l, 1, TR_TCG_SHA384, w, &wl));
  static const uint8_t z[48];
  assert_memory_equal(w, z, 48);
  assert_memory_not_equal(v, z, 32);
  tr_err *e = tr_ccel_replay(&l, 1, TR_TCG_SHA1, v, &vl);
  assert_non_null(e);
  tr_err_free(e);
  tr_ccel_clear(&l);
}

static void test_truncations(void **st) {
  (void)st;
  size_t n;
  uint8_t *d = readv(EL "CCEL_data_ovmf", &n);
  /* every prefix either parses or fails cleanly (ASan checks the reads) */
  for (size_t cut = 0; cut < 6000 && cut < n; cut += 7) {
    tr_ccel l;
    tr_err *e = tr_ccel_parse(d, cut, &l);
    if (e)
      tr_err_free(e);
    else
      tr_ccel_clear(&l);
  }
  /* an unknown event type fails the parse, as upstream */
  tr_ccel l;
  assert_null(tr_ccel_parse(d, n, &l));
  tr_ccel_clear(&l);
  uint8_t *m = malloc(n);
  memcpy(m, d, n);
  m[4] = 0x77; /* first record's type */
  tr_err *e = tr_ccel_parse(m, n, &l);
  assert_non_null(e);
  assert_non_null(strstr(tr_err_msg(e), "Unknown event type detected: 0x77"));
  tr_err_free(e);
  free(m);
  free(d);
}

/* A log with one algorithm (SHA-384) in its header and one EV_SEPARATOR
 * record carrying `count` SHA-384 digests of its event. */
static size_t digest_log(uint8_t *out, uint32_t count) {
  tr_buf b = TR_BUF_INIT;
  static const uint8_t head[] = {0, 0, 0, 0, 3, 0, 0, 0};
  tr_buf_append(&b, head, sizeof(head));
  uint8_t zero20[20] = {0};
  tr_buf_append(&b, zero20, 20);
  uint8_t spec[24 + 4 + 4 + 1] = "Spec ID Event03";
  spec[24] = 1;                   /* numberOfAlgorithms */
  spec[28] = 0x0c, spec[30] = 48; /* SHA-384, 48 bytes */
  uint32_t sl = sizeof(spec);
  tr_buf_append(&b, &sl, 4);
  tr_buf_append(&b, spec, sizeof(spec));
  uint32_t rec[3] = {1, 4, count}; /* index, EV_SEPARATOR, digestCount */
  tr_buf_append(&b, rec, sizeof(rec));
  static const uint8_t ev[4] = {0, 0, 0, 0};
  uint8_t h[48];
  size_t hl;
  assert_null(tr_digest(TR_SHA384, ev, 4, h, &hl));
  for (uint32_t i = 0; i < count; i++) {
    uint16_t alg = 0x0c;
    tr_buf_append(&b, &alg, 2);
    tr_buf_append(&b, h, 48);
  }
  uint32_t es = 4;
  tr_buf_append(&b, &es, 4);
  tr_buf_append(&b, ev, 4);
  memcpy(out, b.data, b.len);
  size_t n = b.len;
  tr_buf_free(&b);
  return n;
}

/* A record may not carry more digests than the header has algorithms (TCG:
 * one per algorithm). Upstream accepts any count and hashes the event once
 * per digest: a record of k digests and an event of E bytes cost k*E, i.e.
 * a few MB of log behind a genuine quote cost minutes of CPU. */
static void test_digest_count(void **st) {
  (void)st;
  uint8_t buf[1024];
  tr_ccel l;
  size_t n = digest_log(buf, 1);
  assert_null(tr_ccel_parse(buf, n, &l));
  assert_true(json_is_true(json_object_get(json_array_get(l.entries, 0), "digest_matches_event")));
  tr_ccel_clear(&l);
  n = digest_log(buf, 2);
  tr_err *e = tr_ccel_parse(buf, n, &l);
  assert_non_null(e);
  if (!strstr(tr_err_msg(e), "digest count 2")) fprintf(stderr, "%s\n", tr_err_msg(e));
  assert_non_null(strstr(tr_err_msg(e), "digest count 2"));
  tr_err_free(e);
}

/* A log whose header declares SHA-256 and SHA-384 and whose one record
 * (EV_SEPARATOR, `index`) carries a digest of `alg` only (matching its event). */
static size_t one_record_log(uint8_t *out, uint32_t index, uint16_t alg) {
  tr_buf b = TR_BUF_INIT;
  static const uint8_t head[] = {0, 0, 0, 0, 3, 0, 0, 0};
  tr_buf_append(&b, head, sizeof(head));
  uint8_t zero20[20] = {0};
  tr_buf_append(&b, zero20, 20);
  uint8_t spec[24 + 4 + 8 + 1] = "Spec ID Event03";
  spec[24] = 2;
  spec[28] = 0x0b, spec[30] = 32;
  spec[32] = 0x0c, spec[34] = 48;
  uint32_t sl = sizeof(spec);
  tr_buf_append(&b, &sl, 4);
  tr_buf_append(&b, spec, sizeof(spec));
  uint32_t rec[3] = {index, 4, 1};
  tr_buf_append(&b, rec, sizeof(rec));
  static const uint8_t ev[4] = {0, 0, 0, 0};
  uint8_t h[48];
  size_t hl;
  assert_null(tr_digest(alg == 0x0b ? TR_SHA256 : TR_SHA384, ev, 4, h, &hl));
  tr_buf_append(&b, &alg, 2);
  tr_buf_append(&b, h, hl);
  uint32_t es = 4;
  tr_buf_append(&b, &es, 4);
  tr_buf_append(&b, ev, 4);
  memcpy(out, b.data, b.len);
  size_t n = b.len;
  tr_buf_free(&b);
  return n;
}

/* Records the replay does not cover (no SHA-384 digest, or an index other
 * than 1..4) are refused: their content would reach the claims unbound. */
static void test_check_bound(void **st) {
  (void)st;
  static const char *const files[] = {"CCEL_data", "CCEL_data_ovmf", "CCEL_data_grub",
                                      "CCEL_AAEL_alibabacloud"};
  tr_ccel l;
  for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
    parse_file(files[i], &l);
    assert_null(tr_ccel_check_bound(&l, TR_TCG_SHA384, 1, 4));
    tr_ccel_clear(&l);
  }
  uint8_t buf[512];
  size_t n = one_record_log(buf, 2, 0x0c);
  assert_null(tr_ccel_parse(buf, n, &l));
  assert_null(tr_ccel_check_bound(&l, TR_TCG_SHA384, 1, 4));
  tr_ccel_clear(&l);
  /* a SHA-256-only record that matches its (forged) event */
  n = one_record_log(buf, 2, 0x0b);
  assert_null(tr_ccel_parse(buf, n, &l));
  assert_true(json_is_true(json_object_get(json_array_get(l.entries, 0), "digest_matches_event")));
  tr_err *e = tr_ccel_check_bound(&l, TR_TCG_SHA384, 1, 4);
  assert_non_null(e);
  assert_non_null(strstr(tr_err_msg(e), "has no SHA-384 digest"));
  tr_err_free(e);
  tr_ccel_clear(&l);
  /* an index the replay does not cover */
  n = one_record_log(buf, 5, 0x0c);
  assert_null(tr_ccel_parse(buf, n, &l));
  e = tr_ccel_check_bound(&l, TR_TCG_SHA384, 1, 4);
  assert_non_null(e);
  assert_non_null(strstr(tr_err_msg(e), "has index 5"));
  tr_err_free(e);
  tr_ccel_clear(&l);
}

static void test_device_paths(void **st) {
  (void)st;
  static const uint8_t path[] = {
      0x02, 0x01, 0x0c, 0x00, 0xd0, 0x41, 0x03, 0x0a, 0x00, 0x00, 0x00, 0x00, /* ACPI(PNP0A03,0) */
      0x01, 0x01, 0x06, 0x00, 0x00, 0x03,                                     /* Pci(0,3) */
      0x03, 0x17, 0x08, 0x00, 0x01, 0x02, 0x03, 0x04,                         /* unknown → Path */
      0x04, 0x04, 0x0a, 0x00, 'a',  0,    'b',  0,    0,    0,                /* File(ab) */
  };
  json_t *a = json_array();
  assert_null(tr_el_device_paths(path, sizeof(path), a));
  char *s = tr_json_dump_compact(a);
  assert_string_equal(s, "[\"ACPI(PNP0A03,0)\",\"Pci(0,3)\",\"Path(3,23,01020304)\",\"File(ab)\"]");
  free(s);
  json_decref(a);
  static const uint8_t bad[] = {0x01, 0x01, 0x02, 0x00};
  a = json_array();
  tr_err *e = tr_el_device_paths(bad, sizeof(bad), a);
  assert_non_null(e);
  tr_err_free(e);
  json_decref(a);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_json_golden),          cmocka_unit_test(test_rtmr_integrity),
      cmocka_unit_test(test_rtmr_integrity_error), cmocka_unit_test(test_sm3_replay),
      cmocka_unit_test(test_truncations),          cmocka_unit_test(test_device_paths),
      cmocka_unit_test(test_digest_count),         cmocka_unit_test(test_check_bound),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
