/* Fuzzes certificate/bundle/CRL parsing and extension decoding. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "crypto/x509.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  X509 *c = NULL;
  if (!tr_err_consume(tr_x509_parse(data, size, &c)) && c) {
    int64_t v;
    const uint8_t *p;
    size_t n;
    tr_err_free(tr_x509_ext_int(c, "1.3.6.1.4.1.3704.1.3.8", &v));
    tr_err_free(tr_x509_ext_octets(c, "1.3.6.1.4.1.3704.1.4", 64, &p, &n));
    free(tr_x509_subject(c));
    X509_free(c);
  }
  STACK_OF(X509) *sk = NULL;
  if (!tr_err_consume(tr_x509_parse_bundle(data, size, &sk))) tr_x509_stack_free(sk);
  X509_CRL *crl = NULL;
  if (!tr_err_consume(tr_x509_parse_crl(data, size, &crl))) X509_CRL_free(crl);
  return 0;
}
