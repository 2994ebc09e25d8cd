/* dcap.h — Intel DCAP quote verification (SGX v3, TDX v4/v5), done in C
 * instead of linking Intel's quote-verification library.
 *
 * Layers, each usable alone (tests drive each one):
 *   quote.c       bounded parser of the quote bytes (no crypto);
 *   pck.c         the PCK certificate's SGX extension (FMSPC, TCB, PPID...);
 *   collateral.c  TCB info / QE identity / CRLs: parsing, issuer chains and
 *                 signatures to the Intel SGX Root CA, validity dates;
 *   source.c      where collateral comes from: PCS/PCCS over HTTP, the PCS
 *                 client tool's file:// bundle, dcap-qvl-shaped per-quote
 *                 bundles, an on-disk cache keyed by FMSPC, and memory;
 *   tcb.c         Intel's TCB status algorithm (platform level, QE identity,
 *                 TDX module identity, TD relaunch advice);
 *   verify.c      the whole check of one quote and the supplemental claims
 *                 ("tcb_status", "advisory_ids", ...), with caches of verified
 *                 PCK chains so a quote costs two ECDSA verifications.
 *
 * All functions are thread-safe; a tr_dcap is shared by all threads. */
#ifndef TRUSTEE_VERIFIER_DCAP_H
#define TRUSTEE_VERIFIER_DCAP_H

#include <jansson.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

#define TR_DCAP_TEE_SGX 0x00000000u
#define TR_DCAP_TEE_TDX 0x00000081u
#define TR_DCAP_HEADER_LEN 48
#define TR_DCAP_REPORT_LEN 384 /* SGX enclave report (also the QE report) */
#define TR_DCAP_TD10_LEN 584
#define TR_DCAP_TD15_LEN 648

/* Offsets inside an SGX report body. */
enum {
  TR_SGX_CPUSVN = 0,
  TR_SGX_MISCSELECT = 16,
  TR_SGX_ISVEXTPRODID = 32,
  TR_SGX_ATTRIBUTES = 48,
  TR_SGX_MRENCLAVE = 64,
  TR_SGX_MRSIGNER = 128,
  TR_SGX_CONFIGID = 192,
  TR_SGX_ISVPRODID = 256,
  TR_SGX_ISVSVN = 258,
  TR_SGX_CONFIGSVN = 260,
  TR_SGX_ISVFAMILYID = 304,
  TR_SGX_REPORTDATA = 320,
};
/* Offsets inside a TD report body (1.0; 1.5 appends two fields). */
enum {
  TR_TD_TEE_TCB_SVN = 0,
  TR_TD_MR_SEAM = 16,
  TR_TD_MRSIGNER_SEAM = 64,
  TR_TD_SEAM_ATTRIBUTES = 112,
  TR_TD_TD_ATTRIBUTES = 120,
  TR_TD_XFAM = 128,
  TR_TD_MR_TD = 136,
  TR_TD_MR_CONFIG_ID = 184,
  TR_TD_MR_OWNER = 232,
  TR_TD_MR_OWNER_CONFIG = 280,
  TR_TD_RTMR0 = 328,
  TR_TD_REPORT_DATA = 520,
  TR_TD_TEE_TCB_SVN2 = 584,
  TR_TD_MR_SERVICETD = 600,
};

/* A parsed quote: pointers into the caller's buffer (borrowed). */
typedef struct {
  const uint8_t *raw;
  size_t len;
  uint16_t version;       /* 3, 4 or 5 */
  uint16_t att_key_type;  /* 2 = ECDSA-256-with-P-256 */
  uint32_t tee_type;      /* TR_DCAP_TEE_SGX / TR_DCAP_TEE_TDX */
  uint16_t body_type;     /* 1 SGX report, 2 TD report 1.0, 3 TD report 1.5 */
  const uint8_t *v5_size; /* v5: the 4 raw bytes of body_size, else NULL */
  const uint8_t *body;
  size_t body_len;
  size_t signed_len;        /* bytes covered by the quote signature (header + body) */
  const uint8_t *sig;       /* 64: r || s, big-endian */
  const uint8_t *att_key;   /* 64: x || y */
  const uint8_t *qe_report; /* 384 */
  const uint8_t *qe_report_sig;
  const uint8_t *qe_auth;
  size_t qe_auth_len;
  const uint8_t *pck_chain; /* PEM, leaf first */
  size_t pck_chain_len;
} tr_dcap_quote;

/* Parses and bounds-checks every field; rejects versions other than SGX v3
 * and TDX v4/v5, attestation key types other than 2, certification data
 * other than type 6 (QE report) wrapping type 5 (PCK chain). Trailing bytes
 * after the signature data are ignored (real quotes carry zero padding). */
tr_err *tr_dcap_quote_parse(const uint8_t *q, size_t n, tr_dcap_quote *out);

/* Platform facts from the PCK leaf's SGX extension (OID 1.2.840.113741.1.13.1). */
typedef struct {
  uint8_t ppid[16];
  uint8_t comps[16]; /* SGX TCB component SVNs */
  uint16_t pcesvn;
  uint8_t cpusvn[16];
  uint8_t pceid[2];
  uint8_t fmspc[6];
  uint8_t sgx_type; /* 0 Standard, 1 Scalable, 2 Scalable with Integrity */
  bool is_platform_ca;
  bool has_platform_instance;       /* Platform CA only */
  uint8_t platform_instance_id[16]; /* as upstream reports it: byte-reversed */
  bool dynamic_platform, cached_keys, smt_enabled;
} tr_dcap_platform;

/* Parses the SGX extension DER (the extension's OCTET STRING content). */
tr_err *tr_dcap_pck_ext_parse(const uint8_t *der, size_t len, bool is_platform_ca, tr_dcap_platform *out);
/* From a PEM PCK chain (exactly 3: leaf, PCK Platform/Processor CA, root):
 * *certs receives the parsed chain (free with tr_x509_stack_free) if not NULL. */
tr_err *tr_dcap_platform_from_chain(const uint8_t *pem, size_t len, tr_dcap_platform *out,
                                    STACK_OF(X509) * *certs);

/* ---- TCB status ------------------------------------------------------------------- */

typedef enum {
  TR_TCB_UP_TO_DATE = 0,
  TR_TCB_SW_HARDENING_NEEDED,
  TR_TCB_CONFIGURATION_NEEDED,
  TR_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED,
  TR_TCB_OUT_OF_DATE,
  TR_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED,
  TR_TCB_TD_RELAUNCH_ADVISED,
  TR_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED,
  TR_TCB_REVOKED,
} tr_tcb_status;

/* "UpToDate", "SWHardeningNeeded", ... (Intel's and upstream's names). */
const char *tr_tcb_status_name(tr_tcb_status s);
/* Parses Intel's tcbStatus strings; -1 when unknown. */
int tr_tcb_status_parse(const char *s);

typedef struct {
  tr_tcb_status status;
  int64_t tcb_date;   /* tcbDate of the matched TCB-info level */
  json_t *advisories; /* array of strings (owned) */
  /* TDX 1.5 "current" evaluation (tee_tcb_svn2); equal to the above otherwise. */
  tr_tcb_status status_current;
  int64_t tcb_date_current;
  json_t *advisories_current;
  /* Per component, for logs and tests. */
  tr_tcb_status platform, qe;
  bool has_module;
  tr_tcb_status module;
  char module_id[8]; /* "TDX_03" */
} tr_tcb_result;

void tr_tcb_result_clear(tr_tcb_result *r);

/* Intel's algorithm over the inner `tcbInfo` and `enclaveIdentity` objects
 * (signatures are not checked here: see collateral.c). Errors: no matching
 * TCB level (TCB not supported), QE identity mismatch (mrsigner, prod id,
 * masked misc/attributes), TDX module mismatch, FMSPC/PCE ID mismatch, wrong
 * collateral kind for the quote's TEE. */
tr_err *tr_tcb_evaluate(const json_t *tcb_info, const json_t *qe_identity, const tr_dcap_quote *q,
                        const tr_dcap_platform *p, tr_tcb_result *out);

/* ---- collateral ------------------------------------------------------------------- */

/* The collateral of one quote in the shape of ../shared/vectors/dcap-qvl
 * (and of the on-disk cache): every text as received. */
typedef struct {
  char *pck_crl_issuer_chain; /* PEM */
  uint8_t *pck_crl;           /* DER */
  size_t pck_crl_len;
  uint8_t *root_ca_crl; /* DER */
  size_t root_ca_crl_len;
  char *tcb_info_issuer_chain;
  char *tcb_info; /* exact signed text of the inner tcbInfo object */
  uint8_t tcb_info_signature[64];
  char *qe_identity_issuer_chain;
  char *qe_identity; /* exact signed text of the inner enclaveIdentity object */
  uint8_t qe_identity_signature[64];
} tr_dcap_collateral_raw;

void tr_dcap_collateral_raw_clear(tr_dcap_collateral_raw *c);
/* The dcap-qvl JSON bundle: {"pck_crl_issuer_chain", "root_ca_crl" (hex),
 * "pck_crl" (hex), "tcb_info_issuer_chain", "tcb_info" (text),
 * "tcb_info_signature" (hex r||s), "qe_identity_issuer_chain",
 * "qe_identity", "qe_identity_signature"}. */
tr_err *tr_dcap_collateral_raw_from_json(const json_t *bundle, tr_dcap_collateral_raw *out);
json_t *tr_dcap_collateral_raw_to_json(const tr_dcap_collateral_raw *c);
/* Splits Intel's signed document `{"tcbInfo":{...},"signature":"hex"}` (or
 * "enclaveIdentity") into the exact text of the inner object and its
 * signature. */
tr_err *tr_dcap_split_signed(const char *text, size_t len, const char *member, char **inner, uint8_t sig[64]);

/* Collateral whose signatures and issuer chains verified to the Intel root. */
typedef struct tr_dcap_collateral tr_dcap_collateral;
/* Verifies everything in raw that does not depend on a quote: the TCB info
 * and QE identity signatures and issuer chains, both CRLs' signatures and
 * issuers, that no CA of those chains is revoked by the root CA CRL. Dates
 * are collected, not judged (see tr_dcap_collateral_dates). */
tr_err *tr_dcap_collateral_verify(const tr_dcap_collateral_raw *raw, tr_dcap_collateral **out);
void tr_dcap_collateral_free(tr_dcap_collateral *c);
const json_t *tr_dcap_collateral_tcb_info(const tr_dcap_collateral *c);
const json_t *tr_dcap_collateral_qe_identity(const tr_dcap_collateral *c);
/* earliest issue, latest issue, earliest expiration over every certificate,
 * CRL and signed document of the collateral. */
void tr_dcap_collateral_dates(const tr_dcap_collateral *c, int64_t *earliest_issue, int64_t *latest_issue,
                              int64_t *earliest_expiry);

/* ---- the verifier ------------------------------------------------------------------ */

typedef struct tr_dcap tr_dcap;

/* From the AS `verifier_config` object (its `dcap_verifier` member is read;
 * NULL = defaults). See docs/verifiers/intel-dcap.md for every key. */
tr_err *tr_dcap_new(const json_t *verifier_config, tr_dcap **out);
void tr_dcap_free(tr_dcap *d);

/* Verification time: 0 = the current time at each call (default), else a
 * fixed Unix time (audits, tests). Overrides `verification_time`. */
void tr_dcap_set_time(tr_dcap *d, int64_t at);
/* Expired collateral: false = reject (TR_E_EXPIRED), true = accept and
 * report collateral_expiration_status "1". */
void tr_dcap_set_accept_expired(tr_dcap *d, bool accept);

/* Adds collateral (dcap-qvl bundle shape) to the in-memory source: used for
 * quotes of its TEE and FMSPC before any other source. */
tr_err *tr_dcap_add_bundle(tr_dcap *d, const json_t *bundle);

/* Verifies the quote completely (see verify.c). On success *custom receives
 * the DCAP claims (earliest_issue_date ... advisory_ids) and *platform the
 * PCK facts. `collateral` NULL = fetch from the configured sources. */
tr_err *tr_dcap_verify_quote(tr_dcap *d, const tr_dcap_quote *q, const tr_dcap_collateral_raw *collateral,
                             tr_dcap_platform *platform, json_t **custom);

/* The collateral-free part alone (tests, diagnostics): PCK chain to the
 * Intel root (no revocation, no dates), QE report signature, attestation
 * key binding, quote signature. Never enough to trust a quote. */
tr_err *tr_dcap_verify_quote_signatures(const tr_dcap_quote *q, tr_dcap_platform *platform);

/* tr_verifier_ops create/destroy for verifiers whose state is a tr_dcap. */
tr_err *tr_dcap_verifier_create(const json_t *config, void **state);
void tr_dcap_verifier_destroy(void *state);

/* For az-tdx-vtpm: verifies a TD quote (v4/v5) with the verifier state
 * `dcap_state` (a tr_dcap) and returns upstream's TDX claims without an
 * event log, extended with the DCAP claims. */
tr_err *tr_dcap_verify_td_quote(void *dcap_state, const uint8_t *quote, size_t len, json_t **claims);

/* Sets o[k] to the lower-case hex of d (claims); 0 on success. */
int tr_dcap_json_hex(json_t *o, const char *k, const void *d, size_t n);

/* Small helpers shared by the files of this folder. */
tr_err *tr_dcap_ecdsa_p256_verify(const uint8_t pub_xy[64], const uint8_t *msg, size_t len,
                                  const uint8_t sig_rs[64]);
tr_err *tr_dcap_ecdsa_verify_pkey(EVP_PKEY *pk, const uint8_t *msg, size_t len, const uint8_t sig_rs[64]);

#endif
