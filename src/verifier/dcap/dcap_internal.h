/* dcap_internal.h — what the files of src/verifier/dcap share (not API). */
#ifndef TRUSTEE_VERIFIER_DCAP_INTERNAL_H
#define TRUSTEE_VERIFIER_DCAP_INTERNAL_H

#include <openssl/x509.h>

#include "crypto/x509.h"
#include "verifier/dcap/dcap.h"

typedef struct {
  int64_t earliest_issue, latest_issue, earliest_expiry;
  bool any; /* false until the first date is added (zero-initialised = empty) */
} tr_dcap_dates;

int64_t tr_dcap_asn1_time(const ASN1_TIME *t);
void tr_dcap_dates_add(tr_dcap_dates *d, int64_t issue, int64_t expiry);
void tr_dcap_dates_add_cert(tr_dcap_dates *d, X509 *c);
bool tr_dcap_revoked(X509_CRL *crl, X509 *cert);

/* The embedded Intel SGX Root CA as a trust store and as a certificate
 * (built once, read-only afterwards; NULL if the embedded PEM is broken). */
const tr_x509_store *tr_dcap_intel_store(void);
X509 *tr_dcap_intel_root(void);

X509_CRL *tr_dcap_collateral_pck_crl(const tr_dcap_collateral *c);
X509_CRL *tr_dcap_collateral_root_crl(const tr_dcap_collateral *c);
X509 *tr_dcap_collateral_pck_ca(const tr_dcap_collateral *c);
void tr_dcap_collateral_crl_nums(const tr_dcap_collateral *c, int64_t *pck, int64_t *root);

/* SHA-256 fetched once (OpenSSL 3 fetches implicitly on every use of
 * EVP_sha256(), under a global lock). */
const EVP_MD *tr_dcap_sha256(void);
/* A P-256 public key from raw x || y. */
tr_err *tr_dcap_p256_pubkey(const uint8_t xy[64], EVP_PKEY **out);

/* ---- sources (source.c) ---- */
typedef struct tr_dcap_sources tr_dcap_sources;
/* `cfg` is the dcap_verifier object (may be NULL). */
tr_err *tr_dcap_sources_new(const json_t *cfg, tr_dcap_sources **out);
void tr_dcap_sources_free(tr_dcap_sources *s);
/* Adds a bundle to the in-memory source (keyed by its TCB info id/fmspc). */
tr_err *tr_dcap_sources_add_bundle(tr_dcap_sources *s, const tr_dcap_collateral_raw *raw);
/* Collateral for (tee, fmspc, PCK CA kind), valid at `at` when possible:
 * memory bundles, then the disk cache (fresh entries), then the network /
 * file:// source; a stale cached entry is the last resort. */
tr_err *tr_dcap_sources_get(tr_dcap_sources *s, uint32_t tee, const uint8_t fmspc[6], bool platform_ca,
                            int64_t at, tr_dcap_collateral_raw *out);
const char *tr_dcap_sources_describe(const tr_dcap_sources *s);

#endif
