/* fuzz_builtin_sprintf — Go fmt verb engine on arbitrary format strings.
 * Input: format text; the arguments are a fixed mix of every kind. */
#include <stddef.h>
#include <stdint.h>

#include "rego/builtins/sprintf_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const rb_fmt_arg args[] = {
      {.kind = RB_FMT_INT, .i = -42},
      {.kind = RB_FMT_FLOAT, .f = 3.25e-7},
      {.kind = RB_FMT_STR, .s = "h\xc3\xa9llo\x01\xff", .len = 9},
      {.kind = RB_FMT_BIG, .s = "-123456789012345678901234567890", .len = 31},
      {.kind = RB_FMT_INT, .i = 7},
  };
  tr_buf out = TR_BUF_INIT;
  rb_gofmt(&out, (const char *)data, size, args, sizeof args / sizeof *args);
  tr_buf_free(&out);
  return 0;
}
