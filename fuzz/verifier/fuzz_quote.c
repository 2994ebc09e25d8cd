/* fuzz_quote.c — Intel DCAP quote parsing: header/body/signature-data
 * bounds, the PCK chain's SGX extension (also fed the raw input as DER), the
 * TDX/SGX claims, and Intel's TCB algorithm against a small fixed TCB info /
 * QE identity; with '{' first, the signed-document splitter and the
 * collateral bundle parser. No signature is expected to verify. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "verifier/dcap/dcap.h"
#include "verifier/tdx/tdx.h"

json_t *tr_sgx_claims(const tr_dcap_quote *q, const tr_dcap_platform *p);

static const char TCB_INFO[] =
    "{\"id\":\"TDX\",\"version\":3,\"issueDate\":\"2025-10-27T13:07:17Z\",\"nextUpdate\":\"2025-11-26T13:07:"
    "17Z\","
    "\"fmspc\":\"50806F000000\",\"pceId\":\"0000\",\"tcbType\":0,\"tcbEvaluationDataNumber\":17,"
    "\"tdxModule\":{"
    "\"mrsigner\":"
    "\"000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000\","
    "\"attributes\":\"0000000000000000\",\"attributesMask\":\"FFFFFFFFFFFFFFFF\"},\"tdxModuleIdentities\":[{"
    "\"id\":"
    "\"TDX_03\",\"mrsigner\":"
    "\"0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "00000000\",\"attributes\":\"0000000000000000\",\"attributesMask\":\"FFFFFFFFFFFFFFFF\",\"tcbLevels\":[{"
    "\"tcb\":{"
    "\"isvsvn\":3},\"tcbDate\":\"2024-03-13T00:00:00Z\",\"tcbStatus\":\"UpToDate\"}]}],\"tcbLevels\":[{"
    "\"tcb\":{"
    "\"sgxtcbcomponents\":[{\"svn\":2},{\"svn\":2},{\"svn\":2},{\"svn\":2},{\"svn\":3},{\"svn\":1},{\"svn\":"
    "0},{\"svn\":"
    "5},{\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":0}],"
    "\"pcesvn\":5,"
    "\"tdxtcbcomponents\":[{\"svn\":5},{\"svn\":0},{\"svn\":2},{\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":"
    "0},{\"svn\":"
    "0},{\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":0}]},"
    "\"tcbDate\":"
    "\"2018-01-04T00:00:00Z\",\"tcbStatus\":\"OutOfDate\",\"advisoryIDs\":[\"INTEL-SA-00106\"]}]}";
static const char QE_ID[] =
    "{\"id\":\"TD_QE\",\"version\":2,\"issueDate\":\"2025-10-28T06:45:09Z\",\"nextUpdate\":\"2025-11-27T06:"
    "45:09Z\","
    "\"tcbEvaluationDataNumber\":17,\"miscselect\":\"00000000\",\"miscselectMask\":\"FFFFFFFF\","
    "\"attributes\":"
    "\"11000000000000000000000000000000\",\"attributesMask\":\"FBFFFFFFFFFFFFFF0000000000000000\","
    "\"mrsigner\":"
    "\"DC9E2A7C6F948F17474E34A7FC43ED030F7C1563F1BABDDF6340C82E0E54A8C5\",\"isvprodid\":2,\"tcbLevels\":[{"
    "\"tcb\":{"
    "\"isvsvn\":4},\"tcbDate\":\"2024-03-13T00:00:00Z\",\"tcbStatus\":\"UpToDate\"}]}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static json_t *tcb_info, *qe_id;
  if (!tcb_info) {
    tcb_info = json_loads(TCB_INFO, 0, NULL);
    qe_id = json_loads(QE_ID, 0, NULL);
  }
  if (size > 0 && data[0] == '{') {
    char *inner = NULL;
    uint8_t sig[64];
    tr_err *e = tr_dcap_split_signed((const char *)data, size, "tcbInfo", &inner, sig);
    tr_err_free(e);
    e = NULL;
    free(inner);
    json_t *j = json_loadb((const char *)data, size, 0, NULL);
    tr_dcap_collateral_raw raw;
    if (j && !(e = tr_dcap_collateral_raw_from_json(j, &raw))) tr_dcap_collateral_raw_clear(&raw);
    tr_err_free(e);
    json_decref(j);
    return 0;
  }
  tr_dcap_platform p;
  tr_err *e = tr_dcap_pck_ext_parse(data, size, size & 1, &p);
  tr_err_free(e);
  tr_dcap_quote q;
  e = tr_dcap_quote_parse(data, size, &q);
  if (e) {
    tr_err_free(e);
    return 0;
  }
  e = tr_dcap_platform_from_chain(q.pck_chain, q.pck_chain_len, &p, NULL);
  if (e) {
    tr_err_free(e);
    memset(&p, 0, sizeof(p));
    memcpy(p.fmspc, "\x50\x80\x6f\x00\x00\x00", 6);
    p.pcesvn = 11;
    memset(p.comps, 5, 16);
  }
  json_t *c = q.version == 3 ? tr_sgx_claims(&q, &p) : tr_tdx_claims(&q, NULL, &p);
  json_decref(c);
  tr_tcb_result r;
  e = tr_tcb_evaluate(tcb_info, qe_id, &q, &p, &r);
  tr_err_free(e);
  tr_tcb_result_clear(&r);
  return 0;
}
