/* fuzz_hcl.c — Azure HCL report parsing: header/IGVM sizes and report type,
 * the variable-data hash, the HCLAkPub JWK lookup and the user-data check;
 * with the first byte selecting, also the whole Azure evidence JSON parser. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "verifier/az_snp_vtpm/azure.h"
#include "verifier/verifier.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 0 && data[0] == '{') {
    json_t *j = NULL;
    tr_err *e = tr_json_parse((const char *)data, size, &j);
    if (!e) {
      /* The whole az-snp-vtpm verifier (HCL, AK JWK, quote, SNP report and
       * the VCEK chain); nothing reaches the network. */
      static const tr_verifier_ops *ops;
      static void *st;
      if (!ops) {
        ops = tr_verifier_lookup("az-snp-vtpm");
        if (ops->create(NULL, &st)) abort();
      }
      static const uint8_t ch[9] = "challenge";
      tr_expected rde = {true, ch, sizeof(ch)}, none = {false, NULL, 0};
      tr_verified_list out = {0};
      tr_err_free(ops->evaluate(st, j, &rde, &none, &out));
      tr_verified_list_clear(&out);
      tr_az_evidence ev;
      for (int tdx = 0; tdx < 2; tdx++) {
        e = tr_az_evidence_parse(j, tdx, &ev);
        if (!e) tr_az_evidence_clear(&ev);
        tr_err_free(e);
        e = NULL;
      }
    }
    tr_err_free(e);
    json_decref(j);
    return 0;
  }
  tr_hcl_report h;
  tr_err *e = tr_hcl_parse(data, size, &h);
  if (!e) {
    uint8_t d[32];
    tr_err_free(tr_hcl_var_data_sha256(&h, d));
    EVP_PKEY *ak = NULL;
    e = tr_hcl_ak_pub(&h, &ak);
    EVP_PKEY_free(ak);
    tr_err_free(e);
    static const uint8_t want[9] = "challenge";
    tr_expected rd = {true, want, sizeof(want)};
    e = tr_hcl_check_user_data(&h, &rd);
  }
  tr_err_free(e);
  return 0;
}
