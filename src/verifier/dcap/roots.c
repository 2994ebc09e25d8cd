/* roots.c — the embedded Intel SGX Root CA, loaded once. */
#include <pthread.h>
#include <string.h>

#include "verifier/dcap/dcap_internal.h"
#include "verifier/intel_roots/intel_roots.h"

static tr_x509_store *g_store;
static X509 *g_root;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void load(void) {
  X509 *c = NULL;
  tr_err *e = tr_x509_parse(tr_intel_sgx_root_ca_pem, strlen(tr_intel_sgx_root_ca_pem), &c);
  tr_x509_store *s = NULL;
  if (!e) e = tr_x509_store_new(&s);
  if (!e) e = tr_x509_store_add(s, c);
  if (e) {
    tr_err_free(e);
    tr_x509_store_free(s);
    X509_free(c);
    return;
  }
  g_store = s;
  g_root = c;
}

const tr_x509_store *tr_dcap_intel_store(void) {
  pthread_once(&g_once, load);
  return g_store;
}

X509 *tr_dcap_intel_root(void) {
  pthread_once(&g_once, load);
  return g_root;
}
