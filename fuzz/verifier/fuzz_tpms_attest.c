/* fuzz_tpms_attest.c — TPM quote messages (TPMS_ATTEST via tss2-mu, magic,
 * type, trailing bytes) and the PCR-digest / init-data checks over them;
 * inputs starting with '{' go through the `tpm` verifier's evidence parser
 * (base64 fields, TPMT_SIGNATURE unmarshalling, AK SPKI). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "verifier/tpm/tpm_quote.h"
#include "verifier/verifier.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 0 && data[0] == '{') {
    json_t *j = NULL;
    tr_err *e = tr_json_parse((const char *)data, size, &j);
    if (!e) {
      const tr_verifier_ops *ops = tr_verifier_lookup("tpm");
      void *st = NULL;
      tr_verified_list out = {0};
      if (ops && !ops->create(NULL, &st)) {
        e = ops->evaluate(st, j, NULL, NULL, &out);
        tr_verified_list_clear(&out);
        if (ops->destroy) ops->destroy(st);
      }
    }
    tr_err_free(e);
    json_decref(j);
    return 0;
  }
  TPMS_ATTEST a;
  tr_err *e = tr_tpm_attest_parse(data, size, &a);
  if (!e) {
    uint8_t pcrs[24][32];
    memset(pcrs, 0, sizeof(pcrs));
    tr_tpm_quote q = {NULL, 0, (uint8_t *)data, size, pcrs, 24};
    tr_err_free(tr_tpm_verify_pcrs(&q, &a));
    static const uint8_t id[32];
    tr_expected ide = {true, id, 32};
    e = tr_tpm_verify_init_data(&q, &ide);
  }
  tr_err_free(e);
  return 0;
}
