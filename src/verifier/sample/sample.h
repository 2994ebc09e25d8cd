/* sample.h — shared by the `sample` and `sampledevice` verifiers: neither
 * has any cryptography (they exist to test the flow end to end), both take
 * evidence {"svn": string, "report_data": base64 standard string (default "")}
 * and bind the expected report data exactly (no padding or truncation). */
#ifndef TRUSTEE_VERIFIER_SAMPLE_SAMPLE_H
#define TRUSTEE_VERIFIER_SAMPLE_SAMPLE_H

#include "verifier/verifier.h"

/* Checks the evidence shape and the report-data binding; sets *svn and
 * *report_data_b64 to new JSON strings (the evidence's, "" when absent),
 * which the caller owns. */
tr_err *tr_sample_check(const json_t *evidence, const tr_expected *report_data, json_t **svn,
                        json_t **report_data_b64);

#endif
