/* test_builtins_misc.c — uuid.parse and uuid.rfc4122. */
#include "test_builtins_helpers.h"

static void test_uuid_parse(void **state) {
  (void)state;
  EXPECT(
      "uuid.parse", "[\"c2fc67c2-47f2-11ee-b67a-9f3619c7493f\"]",
      "{\"clocksequence\": 13946, \"macvariables\": \"local:multicast\", \"nodeid\": \"9f-36-19-c7-49-3f\", "
      "\"time\": 1693481847404333000, \"variant\": \"RFC4122\", \"version\": 1}");
  EXPECT(
      "uuid.parse", "[\"urn:uuid:000003e8-48b9-21ee-b200-325096b39f47\"]",
      "{\"clocksequence\": 12800, \"domain\": \"Person\", \"id\": 1000, \"macvariables\": \"local:unicast\", "
      "\"nodeid\": \"32-50-96-b3-9f-47\", \"time\": 1693566990121469600, \"variant\": \"RFC4122\", "
      "\"version\": 2}");
  EXPECT("uuid.parse", "[\"{00000000-0000-4000-8000-000000000000}\"]",
         "{\"variant\": \"RFC4122\", \"version\": 4}");
  EXPECT("uuid.parse", "[\"6bea8ef2d3d33cd184e09bab06a52ece\"]",
         "{\"variant\": \"RFC4122\", \"version\": 3}");
  EXPECT("uuid.parse", "[\"00000000-0000-fcd1-f4e0-9bab06a52ece\"]",
         "{\"variant\": \"Future\", \"version\": 15}");
  EXPECT("uuid.parse", "[\"00000000-0000-4000-8000-00000000000g\"]", "undefined");
  EXPECT("uuid.parse", "[\"00000000x0000-4000-8000-000000000000\"]", "undefined");
  EXPECT("uuid.parse", "[1]", "type error: operand 1 must be string but got number");
}

static void test_uuid_rfc4122(void **state) {
  (void)state;
  rv_arena *a = rv_arena_new();
  rego_bctx ctx = {.arena = a};
  char *u1 = tb_call_ctx(&ctx, "uuid.rfc4122", "[\"k\"]");
  char *u2 = tb_call_ctx(&ctx, "uuid.rfc4122", "[\"k\"]");
  char *u3 = tb_call_ctx(&ctx, "uuid.rfc4122", "[\"other\"]");
  assert_string_equal(u1, u2); /* same key, same evaluation */
  assert_string_not_equal(u1, u3);
  assert_int_equal(strlen(u1), 38); /* quoted */
  assert_int_equal(u1[15], '4');    /* version 4 */
  assert_true(strchr("89ab", u1[20]) != NULL);
  free(u1);
  free(u2);
  free(u3);
  rego_bi_cache_free(ctx.cache);
  rv_arena_free(a);
  TB_DONE();
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_uuid_parse), cmocka_unit_test(test_uuid_rfc4122)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
