/* bench_core — throughput of core operations on realistic inputs. Prints one
 * line per benchmark: "<name> <value> <unit>"; bench/core/run.sh adds the
 * same-run baseline and the ratio. Each benchmark runs for ~`secs` seconds
 * (argv[1], default 1). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/digest.h"
#include "core/encoding.h"
#include "core/jcs.h"
#include "core/json.h"
#include "core/time.h"

/* kbs.md §2.5: the runtime data a client sends with an EC P-256 key. */
static const char runtime_data[] =
    "{\"tee-pubkey\":{\"kty\":\"EC\",\"crv\":\"P-256\",\"alg\":\"ECDH-ES+A256KW\","
    "\"x\":\"gI0GAILBdu7T53akrFmMyGcsF3n5dO7MmwNBHKW5SV0\",\"y\":\"SLW_xSffzlPWrHEVI30DHM_"
    "4egVwt3NQqeUD7nMFpps\"},"
    "\"nonce\":\"9G2LgaR1mXYFCrXJdJQdVjnl5QYU/ZzMf0YRJ4J0Hkw=\",\"additional-evidence\":\"\"}";

typedef int (*op_fn)(void *ctx);

/* Runs op until `secs` elapse; returns operations per second. */
static double measure(op_fn op, void *ctx, double secs) {
  int64_t start = tr_monotonic_ns(), now = start;
  long n = 0, batch = 64;
  while (now - start < (int64_t)(secs * 1e9)) {
    for (long i = 0; i < batch; i++)
      if (op(ctx)) {
        fprintf(stderr, "bench_core: operation failed\n");
        exit(1);
      }
    n += batch;
    now = tr_monotonic_ns();
  }
  return (double)n / ((double)(now - start) / 1e9);
}

static int op_jcs(void *ctx) {
  char *out;
  size_t len;
  tr_err *e = tr_jcs((json_t *)ctx, &out, &len);
  if (e) return tr_err_consume(e);
  free(out);
  return 0;
}

static int op_jcs_sha384(void *ctx) {
  uint8_t d[TR_DIGEST_MAX];
  size_t n;
  return tr_err_consume(tr_jcs_digest((json_t *)ctx, TR_SHA384, d, &n));
}

static uint8_t kib[1024];

static int op_b64_encode(void *ctx) {
  (void)ctx;
  char *s = tr_b64_encode(kib, sizeof kib, TR_B64_URL_NOPAD);
  if (!s) return 1;
  free(s);
  return 0;
}

static int op_b64_decode(void *ctx) {
  uint8_t *out;
  size_t n;
  tr_err *e = tr_b64_decode((const char *)ctx, (size_t)-1, TR_B64_URL_NOPAD, &out, &n);
  if (e) return tr_err_consume(e);
  free(out);
  return 0;
}

static int op_sha384(void *ctx) {
  (void)ctx;
  uint8_t d[TR_DIGEST_MAX];
  size_t n;
  return tr_err_consume(tr_digest(TR_SHA384, kib, sizeof kib, d, &n));
}

int main(int argc, char **argv) {
  double secs = argc > 1 ? atof(argv[1]) : 1.0;
  if (secs <= 0) secs = 1.0;
  json_t *rd;
  tr_err *e = tr_json_parse(runtime_data, strlen(runtime_data), &rd);
  if (e) {
    fprintf(stderr, "bench_core: %s\n", tr_err_msg(e));
    return 1;
  }
  for (size_t i = 0; i < sizeof kib; i++)
    kib[i] = (uint8_t)(i * 131 + 7);
  char *enc = tr_b64_encode(kib, sizeof kib, TR_B64_URL_NOPAD);

  printf("jcs_runtime_data %.0f ops/s\n", measure(op_jcs, rd, secs));
  printf("jcs_sha384_runtime_data %.0f ops/s\n", measure(op_jcs_sha384, rd, secs));
  printf("b64_encode_1k %.1f MB/s\n", measure(op_b64_encode, NULL, secs) * 1024 / 1e6);
  printf("b64_decode_1k %.1f MB/s\n", measure(op_b64_decode, enc, secs) * 1024 / 1e6);
  printf("sha384_1k %.1f MB/s\n", measure(op_sha384, NULL, secs) * 1024 / 1e6);
  free(enc);
  json_decref(rd);
  return 0;
}
