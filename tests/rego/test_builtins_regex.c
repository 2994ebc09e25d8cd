/* test_builtins_regex.c — regex.* with Go RE2 semantics on PCRE2. */
#include <pthread.h>

#include "rego/builtins/regex_internal.h"
#include "test_builtins_helpers.h"

static void test_match(void **state) {
  (void)state;
  EXPECT("regex.match", "[\"^[a-z]+\\\\[[0-9]+\\\\]$\", \"foo[123]\"]", "true");
  EXPECT("regex.match", "[\"^a$\", \"a\\n\"]", "false"); /* Go's $ is end of text */
  EXPECT("regex.match", "[\"(?m)^a$\", \"b\\na\\n\"]", "true");
  EXPECT("regex.find_n", "[\"(?m)^\", \"a\\n\", -1]", "[\"\", \"\"]"); /* Go: also after the final newline */
  EXPECT("regex.match", "[\"^a.b$\", \"a\\rb\"]", "true");             /* only \n is a newline */
  EXPECT("regex.match", "[\"\\\\s\", \"\\u000b\"]", "false");          /* Go's \s has no \v */
  EXPECT("regex.match", "[\"^\\\\x41\\\\101\\\\x{42}$\", \"AAB\"]", "true");
  EXPECT("regex.match", "[\"(?i)\u00e9T\u00c9\", \"\u00c9t\u00e9\"]", "true");
  EXPECT("regex.match", "[\"[\", \"x\"]", "builtin error: error parsing regexp: missing closing ]");
  EXPECT("regex.match", "[1, \"x\"]", "type error: operand 1 must be string but got number");
  EXPECT("regex.is_valid", "[\".*\"]", "true");
  EXPECT("regex.is_valid", "[1]", "false");
  /* what Go rejects */
  const char *invalid[] = {"(?=a)",   "(?!a)",  "(?<=a)b",   "(a)\\\\1", "a**",    "a++",       "*a",
                           "a{1001}", "(?P=n)", "\\\\Z",     "\\\\h",    "(?#c)",  "(*ACCEPT)", "(?x)a",
                           "(a",      "a)",     "[[:foo:]]", "\\\\8",    "(?i-)a", "\\\\C"};
  for (size_t i = 0; i < sizeof invalid / sizeof *invalid; i++) {
    char args[64];
    snprintf(args, sizeof args, "[\"%s\"]", invalid[i]);
    EXPECT("regex.is_valid", args, "false");
  }
  const char *valid[] = {"a*?",     "a??",       "(?P<x>a)(?<y>b)", "(?i:a)b",
                         "(?s-m)a", "[]a]",      "[^]a]",           "\\\\pL\\\\p{Greek}",
                         "a{2,3}?", "x{,3}",     "\\\\Q*+\\\\E",    "[[:alpha:]]",
                         "^*$",     "\\\\.\\\\-"};
  for (size_t i = 0; i < sizeof valid / sizeof *valid; i++) {
    char args[64];
    snprintf(args, sizeof args, "[\"%s\"]", valid[i]);
    EXPECT("regex.is_valid", args, "true");
  }
}

static void test_find_split(void **state) {
  (void)state;
  EXPECT("regex.find_n", "[\"a.\", \"paranormal\", 0]", "[]");
  EXPECT("regex.find_n", "[\"a.\", \"paranormal\", 2]", "[\"ar\", \"an\"]");
  EXPECT("regex.find_n", "[\"^a.\", \"abacadaeaf\", -1]", "[\"ab\"]");
  EXPECT("regex.find_n", "[\".$\", \"abacadaeaf\", -1]", "[\"f\"]");
  EXPECT("regex.find_n", "[\"[abcdef]{2}\", \"abacadaeaf\", -1]", "[\"ab\", \"ac\", \"ad\", \"ae\", \"af\"]");
  EXPECT("regex.find_n", "[\"a*\", \"baaab\", -1]", "[\"\", \"aaa\", \"\"]");
  EXPECT("regex.find_n", "[\"\", \"h\u00e9\", -1]", "[\"\", \"\", \"\"]");
  EXPECT("regex.find_all_string_submatch_n", "[\"a(x*)b(y)?\", \"-ab-axxb-aby-\", -1]",
         "[[\"ab\", \"\", \"\"], [\"axxb\", \"xx\", \"\"], [\"aby\", \"\", \"y\"]]");
  EXPECT("regex.split", "[\"^[a-z]+\\\\[[0-9]+\\\\]$\", \"\"]", "[\"\"]");
  EXPECT("regex.split", "[\"^[a-z]+\", \"foobar baz\"]", "[\"\", \" baz\"]");
  EXPECT("regex.split", "[\"[a-z]+$\", \"foobar baz\"]", "[\"foobar \", \"\"]");
  EXPECT("regex.split", "[\"^[a-z]+$\", \"foobar baz\"]", "[\"foobar baz\"]");
  EXPECT("regex.split", "[\"^[a-z ]+$\", \"foobar baz\"]", "[\"\", \"\"]");
  EXPECT("regex.split", "[\"a\", \"banana\"]", "[\"b\", \"n\", \"n\", \"\"]");
  EXPECT("regex.split", "[\"z+\", \"pizza\"]", "[\"pi\", \"a\"]");
  EXPECT("regex.split", "[\"\", \"abc\"]", "[\"a\", \"b\", \"c\"]");
}

static void test_replace_template(void **state) {
  (void)state;
  EXPECT("regex.replace", "[\"-wy-wxxy-\", \"w(x*)y\", \"0\"]", "\"-0-0-\"");
  EXPECT("regex.replace", "[\"foo\", \"(foo)\", \"$1$1\"]", "\"foofoo\"");
  EXPECT("regex.replace", "[\"foo\", \"(?P<w>o)\", \"[${w}]\"]", "\"f[o][o]\"");
  EXPECT("regex.replace", "[\"foo\", \"(o)\", \"$1x\"]", "\"f\"");
  EXPECT("regex.replace", "[\"foo\", \"o\", \"$$\"]", "\"f$$\"");
  EXPECT("regex.replace", "[\"foo\", \"^[a-z]\", \"F\"]", "\"Foo\"");
  EXPECT("regex.replace", "[\"foo\", \"[a-z]$\", \"F\"]", "\"foF\"");
  EXPECT("regex.replace", "[\"foo barx\", \"[a-z]{2}\", \"_\"]", "\"_o __\"");
  EXPECT("regex.replace", "[\"abc\", \"x*\", \"-\"]", "\"-a-b-c-\"");
  EXPECT("regex.replace", "[\"baaac\", \"a*\", \"-\"]", "\"-b-c-\"");
  EXPECT("regex.replace", "[\"foo\", \"[\", \"$1\"]", "builtin error: error parsing regexp");
  EXPECT("regex.template_match", "[\"urn:foo:{.*}\", \"urn:foo:bar:baz\", \"{\", \"}\"]", "true");
  EXPECT("regex.template_match", "[\"urn:foo.bar:<[0-9]{2}>\", \"urn:foo.bar:12\", \"<\", \">\"]", "true");
  EXPECT("regex.template_match", "[\"urn:foo.bar:<[0-9]{2}>\", \"urn:fooxbar:12\", \"<\", \">\"]", "false");
  EXPECT("regex.template_match", "[\"urn:{.*\", \"urn:x\", \"{\", \"}\"]",
         "builtin error: unbalanced braces");
  EXPECT("regex.template_match", "[\"urn\", \"urn\", \"{{\", \"}\"]", "builtin error: start delimiter");
}

static void test_limits(void **state) {
  (void)state;
  /* catastrophic backtracking is cut off by the match limit, not hung */
  char *got =
      tb_call("regex.match",
              "[\"^(a+)+$\", \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!\"]");
  assert_true(strcmp(got, "false") == 0 ||
              strncmp(got, "builtin error: regular expression match limit", 44) == 0);
  free(got);
  /* translation keeps unknown bytes and rejects trailing backslashes */
  tr_buf b = TR_BUF_INIT;
  char err[200];
  assert_false(rb_re_translate("a\\", 2, &b, err, sizeof err));
  assert_non_null(strstr(err, "trailing backslash"));
  tr_buf_free(&b);
  TB_DONE();
}

/* More distinct patterns than the process cache holds, reused within one
 * evaluation: evicted patterns stay valid while the evaluation holds them. */
static void test_cache_eviction(void **state) {
  (void)state;
  rv_arena *a = rv_arena_new();
  rego_bctx ctx = {.arena = a};
  for (int round = 0; round < 2; round++) {
    for (int i = 0; i < 300; i++) {
      char args[96];
      snprintf(args, sizeof args, "[\"^p%d(x+)$\", \"p%dxx\"]", i, i);
      char *got = tb_call_ctx(&ctx, "regex.match", args);
      assert_string_equal(got, "true");
      free(got);
    }
  }
  rego_bi_cache_free(ctx.cache);
  rv_arena_free(a);
}

/* Several threads share the process cache while it evicts. */
static void *hammer(void *arg) {
  int id = (int)(intptr_t)arg, bad = 0;
  for (int i = 0; i < 400; i++) {
    char pat[64], subj[64];
    snprintf(pat, sizeof pat, "^t%d_(a|b)+$", (i * 7 + id) % 350);
    snprintf(subj, sizeof subj, "t%d_abab", (i * 7 + id) % 350);
    char err[200];
    rb_re *re = rb_re_get(pat, strlen(pat), 0, 0, err, sizeof err);
    size_t ov[4];
    if (!re || rb_re_exec(re, subj, strlen(subj), 0, ov) != 1) bad++;
    rb_re_release(re);
  }
  return (void *)(intptr_t)bad;
}

static void test_threads(void **state) {
  (void)state;
  pthread_t th[4];
  for (int i = 0; i < 4; i++)
    assert_int_equal(pthread_create(&th[i], NULL, hammer, (void *)(intptr_t)i), 0);
  for (int i = 0; i < 4; i++) {
    void *bad;
    pthread_join(th[i], &bad);
    assert_int_equal((intptr_t)bad, 0);
  }
}

static void test_done(void **state) {
  (void)state;
  TB_DONE();
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_match),
      cmocka_unit_test(test_find_split),
      cmocka_unit_test(test_replace_template),
      cmocka_unit_test(test_limits),
      cmocka_unit_test(test_cache_eviction),
      cmocka_unit_test(test_threads),
      cmocka_unit_test(test_done),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
