/* fuzz_eventlog.c — the CC event log parser (spec-ID header, records,
 * digests, every per-type detail parser and device paths) and RTMR replay. */
#include <stdint.h>

#include "verifier/eventlog/eventlog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  tr_ccel l;
  tr_err *e = tr_ccel_parse(data, size, &l);
  if (e) {
    tr_err_free(e);
    return 0;
  }
  uint8_t v[64];
  size_t vl;
  for (uint32_t i = 0; i < 5; i++) {
    tr_err_free(tr_ccel_replay(&l, i, 0xC, v, &vl));
    tr_err_free(tr_ccel_replay(&l, i, 0x12, v, &vl));
  }
  tr_ccel_clear(&l);
  return 0;
}
