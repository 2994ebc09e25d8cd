/* Unit tests: base64 variants, hex, constant-time compare, digests, errors. */
/* cmocka.h needs these before it. */
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on
#include <stdlib.h>
#include <string.h>

#include "core/digest.h"
#include "core/encoding.h"
#include "core/error.h"

static void expect_b64(const char *plain, tr_b64_variant v, const char *want) {
  char *got = tr_b64_encode(plain, strlen(plain), v);
  assert_string_equal(got, want);
  uint8_t *back;
  size_t n;
  tr_err *e = tr_b64_decode(got, (size_t)-1, (int)v, &back, &n);
  assert_null(e);
  assert_int_equal(n, strlen(plain));
  assert_memory_equal(back, plain, n);
  free(back);
  free(got);
}

static void test_b64_rfc4648_vectors(void **state) {
  (void)state;
  expect_b64("", TR_B64_STD, "");
  expect_b64("f", TR_B64_STD, "Zg==");
  expect_b64("fo", TR_B64_STD, "Zm8=");
  expect_b64("foo", TR_B64_STD, "Zm9v");
  expect_b64("foob", TR_B64_STD, "Zm9vYg==");
  expect_b64("fooba", TR_B64_STD_NOPAD, "Zm9vYmE");
  expect_b64("foobar", TR_B64_URL, "Zm9vYmFy");
  expect_b64("\xfb\xff", TR_B64_URL_NOPAD, "-_8");
  expect_b64("\xfb\xff", TR_B64_STD, "+/8=");
}

static void expect_b64_error(const char *in, int flags, const char *needle) {
  uint8_t *out = NULL;
  size_t n;
  tr_err *e = tr_b64_decode(in, (size_t)-1, flags, &out, &n);
  assert_non_null(e);
  assert_int_equal(tr_err_code(e), TR_E_INVALID);
  if (!strstr(tr_err_msg(e), needle)) fail_msg("%s: got \"%s\", want \"%s\"", in, tr_err_msg(e), needle);
  assert_null(out);
  tr_err_free(e);
}

static void test_b64_strictness(void **state) {
  (void)state;
  expect_b64_error("Zg", TR_B64_STD, "missing padding");
  expect_b64_error("Zg==", TR_B64_URL_NOPAD, "padding not allowed");
  expect_b64_error("-_8=", TR_B64_STD, "bad character");
  expect_b64_error("+/8", TR_B64_URL_NOPAD, "bad character");
  expect_b64_error("Zh==", TR_B64_STD, "non-zero trailing bits");
  expect_b64_error("Z", TR_B64_STD_NOPAD, "impossible length");
  expect_b64_error("Zg=a", TR_B64_STD, "padding in the middle");
  expect_b64_error("Zm 9", TR_B64_STD_NOPAD, "bad character at offset 2");
  expect_b64_error("Zm9vYmE", TR_B64_STD, "missing padding");
  /* Lax padding accepts both forms. */
  uint8_t *out;
  size_t n;
  assert_null(tr_b64_decode("Zg", (size_t)-1, TR_B64_STD | TR_B64_LAX_PAD, &out, &n));
  free(out);
  assert_null(tr_b64_decode("Zg==", (size_t)-1, TR_B64_URL_NOPAD | TR_B64_LAX_PAD, &out, &n));
  assert_int_equal(n, 1);
  free(out);
}

static void test_hex(void **state) {
  (void)state;
  char *h = tr_hex_encode("\x00\xab\xff", 3);
  assert_string_equal(h, "00abff");
  free(h);
  uint8_t *out;
  size_t n;
  assert_null(tr_hex_decode("00ABff", (size_t)-1, &out, &n));
  assert_int_equal(n, 3);
  assert_memory_equal(out, "\x00\xab\xff", 3);
  free(out);
  tr_err *e = tr_hex_decode("abc", (size_t)-1, &out, &n);
  assert_non_null(strstr(tr_err_msg(e), "odd length"));
  tr_err_free(e);
  e = tr_hex_decode("zz", (size_t)-1, &out, &n);
  assert_non_null(strstr(tr_err_msg(e), "bad character at offset 0"));
  tr_err_free(e);
}

static void test_ct_equal_and_random(void **state) {
  (void)state;
  assert_true(tr_ct_equal("abc", 3, "abc", 3));
  assert_false(tr_ct_equal("abc", 3, "abd", 3));
  assert_false(tr_ct_equal("abc", 3, "abcd", 4));
  uint8_t a[32] = {0}, b[32] = {0};
  assert_null(tr_random_bytes(a, sizeof a));
  assert_null(tr_random_bytes(b, sizeof b));
  assert_false(tr_ct_equal(a, 32, b, 32));
}

static void test_digest_by_name(void **state) {
  (void)state;
  uint8_t out[TR_DIGEST_MAX];
  size_t n;
  assert_null(tr_digest_by_name("SHA256", "abc", 3, out, &n));
  assert_int_equal(n, 32);
  char *h = tr_hex_encode(out, n);
  assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  free(h);
  assert_null(tr_digest_by_name("sm3", "abc", 3, out, &n));
  h = tr_hex_encode(out, n);
  assert_string_equal(h, "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0");
  free(h);
  assert_null(tr_digest_by_name("sha384", "", 0, out, &n));
  assert_int_equal(n, 48);
  tr_err *e = tr_digest_by_name("sha-384", "", 0, out, &n);
  assert_non_null(strstr(tr_err_msg(e), "unknown hash algorithm `sha-384`"));
  tr_err_free(e);
}

static void test_error_chain(void **state) {
  (void)state;
  tr_err *e = tr_err_new(TR_E_VERIFY, "report signature does not verify with the %s", "VCEK");
  e = tr_err_wrap(e, "snp");
  e = tr_err_wrap(e, "evidence");
  e = tr_err_wrap(e, "attest");
  assert_string_equal(tr_err_msg(e), "attest: evidence: snp: report signature does not verify with the VCEK");
  assert_int_equal(tr_err_code(e), TR_E_VERIFY);
  assert_null(tr_err_wrap(NULL, "nothing"));
  tr_err_free(e);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_b64_rfc4648_vectors),
      cmocka_unit_test(test_b64_strictness),
      cmocka_unit_test(test_hex),
      cmocka_unit_test(test_ct_equal_and_random),
      cmocka_unit_test(test_digest_by_name),
      cmocka_unit_test(test_error_chain),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
