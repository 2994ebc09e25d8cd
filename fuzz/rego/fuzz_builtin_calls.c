/* fuzz_builtin_calls — every builtin that parses a string argument, called
 * through the family tables with fuzzed text. Input: one selector byte, then
 * the text (a NUL splits it into two string arguments where a builtin takes
 * two). Checks only that nothing crashes, leaks or trips a sanitizer. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "rego/builtins/builtins.h"
#include "rego/internal.h" /* rego_bi_cache_free */

static const char *const one_arg[] = {
    "units.parse",
    "units.parse_bytes",
    "to_number",
    "base64.decode",
    "base64url.decode",
    "hex.decode",
    "urlquery.decode",
    "urlquery.decode_object",
    "json.unmarshal",
    "json.is_valid",
    "time.parse_rfc3339_ns",
    "time.parse_duration_ns",
    "semver.is_valid",
    "regex.is_valid",
    "glob.quote_meta",
    "strings.reverse",
    "lower",
    "upper",
    "trim_space",
    "base64.is_valid",
    "uuid.parse",
};
static const char *const two_args[] = {
    "time.parse_ns", "semver.compare", "regex.match",   "regex.split", "split",     "indexof_n",
    "strings.count", "trim",           "replace_n_obj", "sprintf_str", "glob_null", "regex.find_n",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  uint8_t sel = data[0];
  const char *text = (const char *)data + 1;
  size_t n = size - 1;
  rv_arena *a = rv_arena_new();
  rego_bctx ctx = {.arena = a, .strict = true, .now_ns = 1};
  rv *out = NULL;
  const uint8_t *nul = memchr(text, 0, n);
  size_t n1 = nul ? (size_t)((const char *)nul - text) : n;
  rv *s1 = rv_string(a, text, n1);
  rv *s2 = nul ? rv_string(a, text + n1 + 1, n - n1 - 1) : rv_cstring(a, "x");
  size_t n_one = sizeof one_arg / sizeof *one_arg, n_two = sizeof two_args / sizeof *two_args;
  size_t k = sel % (n_one + n_two);
  if (k < n_one) {
    const rego_builtin_def *d = rego_builtin_lookup(one_arg[k]);
    rv *args[1] = {rv_string(a, text, n)};
    if (d) d->fn(&ctx, args, &out);
  } else {
    const char *name = two_args[k - n_one];
    rv *args[4] = {s1, s2, NULL, NULL};
    if (!strcmp(name, "replace_n_obj")) {
      rv *keys[1] = {s1}, *vals[1] = {rv_cstring(a, "y")};
      args[0] = rv_object(a, keys, vals, 1, NULL);
      name = "strings.replace_n";
    } else if (!strcmp(name, "sprintf_str")) {
      rv *items[3] = {s2, rv_int(a, -7), rv_float(a, 2.5)};
      args[1] = rv_array(a, items, 3);
      name = "sprintf";
    } else if (!strcmp(name, "glob_null")) {
      args[2] = s2;
      args[1] = RV_NULLV;
      name = "glob.match";
    } else if (!strcmp(name, "regex.find_n")) {
      args[2] = rv_int(a, -1);
    }
    const rego_builtin_def *d = rego_builtin_lookup(name);
    if (d) d->fn(&ctx, args, &out);
  }
  rego_bi_cache_free(ctx.cache);
  rv_arena_free(a);
  return 0;
}
