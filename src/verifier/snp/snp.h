/* snp.h — AMD SEV-SNP attestation reports, VCEK/VLEK chains and VCEK
 * sources, shared by the `snp` and `az-snp-vtpm` verifiers.
 *
 * A report is held as the exact 1184-byte image the AMD-SP signed. Evidence
 * in JSON (upstream's current serde layout or the older sev-crate layout) is
 * rebuilt into that image, so the signature is always checked over bytes,
 * never over a re-interpretation; every other field is then decoded from the
 * image. The processor generation decides how the 8-byte TCB fields are laid
 * out (Milan/Genoa: bl,tee,0,0,0,0,snp,ucode; Turin: fmc,bl,tee,snp,0,0,0,
 * ucode); for version-2 reports, which carry no CPUID, the generation is the
 * one whose AMD chain verifies the VEK (snp.c).
 *
 * Ownership: tr_snp_report is a plain value (no heap). tr_snp_vek objects are
 * reference counted and immutable; the chain cache (tr_snp_ctx) shares them
 * between threads. */
#ifndef TRUSTEE_VERIFIER_SNP_SNP_H
#define TRUSTEE_VERIFIER_SNP_SNP_H

#include <jansson.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

#define TR_SNP_REPORT_LEN 1184
#define TR_SNP_SIGNED_LEN 0x2A0

typedef enum { TR_SNP_GEN_NONE = 0, TR_SNP_MILAN, TR_SNP_GENOA, TR_SNP_TURIN } tr_snp_gen;
#define TR_SNP_NGEN 3

/* "Milan", "Genoa", "Turin" (KDS path segment) or "unknown". */
const char *tr_snp_gen_name(tr_snp_gen g);

typedef struct {
  bool has_fmc;
  uint8_t fmc, bootloader, tee, snp, microcode;
} tr_snp_tcb;

typedef struct {
  uint8_t raw[TR_SNP_REPORT_LEN]; /* the signed image (valid once finalized) */
  bool finalized;
  /* JSON current layout: TCB values given as numbers, encoded per generation
   * at finalize time (tcb_pending). */
  bool tcb_pending;
  tr_snp_tcb json_tcb[4]; /* current, reported, committed, launch */
  tr_snp_gen gen;         /* set by finalize */
  /* Decoded from raw by finalize: */
  uint32_t version, guest_svn, vmpl, sig_algo, key_info;
  uint64_t policy, plat_info;
  tr_snp_tcb current_tcb, reported_tcb, committed_tcb, launch_tcb;
  bool has_cpuid;
  uint8_t cpuid_fam, cpuid_mod, cpuid_step;
} tr_snp_report;

/* Field views into raw. */
#define TR_SNP_REPORT_DATA(r) ((r)->raw + 0x50) /* 64 */
#define TR_SNP_MEASUREMENT(r) ((r)->raw + 0x90) /* 48 */
#define TR_SNP_HOST_DATA(r) ((r)->raw + 0xC0)   /* 32 */
#define TR_SNP_CHIP_ID(r) ((r)->raw + 0x1A0)    /* 64 */
#define TR_SNP_SIG_R(r) ((r)->raw + 0x2A0)      /* 72, little-endian */
#define TR_SNP_SIG_S(r) ((r)->raw + 0x2E8)      /* 72, little-endian */

/* Parses a raw 1184-byte report (not yet finalized). */
tr_err *tr_snp_report_from_bytes(const uint8_t *data, size_t len, tr_snp_report *r);
/* Parses `attestation_report` of SNP evidence: an object in either serde
 * layout, an array of 1184 numbers, or a base64 (standard or URL-safe,
 * padded or not) string of the raw report. */
tr_err *tr_snp_report_from_json(const json_t *v, tr_snp_report *r);
/* Version of a parsed (possibly unfinalized) report. */
uint32_t tr_snp_report_version(const tr_snp_report *r);
/* Generation from CPUID (versions 3+), as upstream's get_processor_generation;
 * error for version 2 or unknown family/model. */
tr_err *tr_snp_report_cpuid_gen(const tr_snp_report *r, tr_snp_gen *out);
/* Candidate generations for a version-2 report whose chain is not known yet:
 * fills out (≤3), returns the count (CHIP_ID ending in 56 zero bytes = Turin
 * as the sev crate guesses, else Milan then Genoa). */
size_t tr_snp_report_v2_candidates(const tr_snp_report *r, tr_snp_gen *out);
/* Fixes the generation: encodes pending TCBs into the image and decodes all
 * fields. Calling again with a different generation re-encodes. */
tr_err *tr_snp_report_finalize(tr_snp_report *r, tr_snp_gen gen);

/* "bl%02d_tee%02d_snp%02d_ucode%02d[_fmc%02d]" of REPORTED_TCB. */
void tr_snp_tcb_prefix(const tr_snp_tcb *t, char out[48]);
/* hwID as used in KDS URLs and the offline store: hex(CHIP_ID), Turin: first
 * 8 bytes only. out holds ≥129 chars. */
void tr_snp_hwid_hex(const tr_snp_report *r, char out[129]);

/* ---- VEK (VCEK / VLEK) ------------------------------------------------- */

typedef enum { TR_SNP_VCEK = 0, TR_SNP_VLEK = 1 } tr_snp_vek_type;

typedef struct tr_snp_vek {
  _Atomic int refs;
  X509 *cert;
  EVP_PKEY *pkey; /* borrowed from cert */
  tr_snp_gen gen;
  tr_snp_vek_type type;
  char cn[64];
  /* TCB extensions; -1 when absent. */
  int bl_spl, tee_spl, snp_spl, ucode_spl, fmc_spl;
  bool has_hwid;
  uint8_t hwid[64];
} tr_snp_vek;

void tr_snp_vek_ref(tr_snp_vek *v);
void tr_snp_vek_unref(tr_snp_vek *v);

/* Shared verifier context: the embedded AMD roots and the verified-chain
 * cache. Thread-safe. */
typedef struct tr_snp_ctx tr_snp_ctx;
tr_err *tr_snp_ctx_new(tr_snp_ctx **out);
/* Same, reading `snp_verifier.vendor_certs` of the AS verifier_config (may
 * be NULL): {"Milan"|"Genoa"|"Turin": "<PEM file with ASK, ARK, ASVK>"}
 * replaces that generation's embedded AMD certificates (lab/test platforms;
 * logged as a warning). */
tr_err *tr_snp_ctx_new_config(const json_t *verifier_config, tr_snp_ctx **out);
void tr_snp_ctx_free(tr_snp_ctx *c);
/* Built-in certificates (borrowed): which 0 = ASK, 1 = ARK, 2 = ASVK. */
X509 *tr_snp_ctx_root(const tr_snp_ctx *c, tr_snp_gen gen, int which);
/* Cache statistics (for tests): verified chains computed / served from cache. */
void tr_snp_ctx_stats(tr_snp_ctx *c, uint64_t *verified, uint64_t *hits);

/* Verifies VEK (PEM or DER) to the built-in ARK of `gen` through the given
 * ASK/ASVK (PEM or DER; NULL = built-in ASK for a VCEK, ASVK for a VLEK) and
 * ARK (NULL = built-in; a provided ARK must itself verify under the built-in
 * ARK). Signatures only (RSA-PSS/SHA-384), as upstream: no validity dates, no
 * CRL. Results are cached by the hash of all inputs. *out is a new
 * reference. */
tr_err *tr_snp_vek_verify(tr_snp_ctx *c, tr_snp_gen gen, tr_snp_vek_type type, const uint8_t *vek,
                          size_t vek_len, const uint8_t *ask, size_t ask_len, const uint8_t *ark,
                          size_t ark_len, tr_snp_vek **out);

/* Report checks against a verified VEK (finalized report):
 * ECDSA P-384/SHA-384 signature over [0, 0x2A0), after checking that the
 * signed SIG_ALGO is 1 and KEY_INFO.SIGNING_KEY names the VEK type. */
tr_err *tr_snp_verify_signature(const tr_snp_report *r, const tr_snp_vek *v);
/* TCB extensions == REPORTED_TCB (bl, tee, snp, ucode; fmc when `check_fmc`)
 * and hwID == CHIP_ID when the VEK carries a hwID. */
tr_err *tr_snp_verify_tcb(const tr_snp_report *r, const tr_snp_vek *v, bool check_fmc);

/* ---- VCEK sources (snp_verifier.vcek_sources) -------------------------- */

typedef struct tr_snp_sources tr_snp_sources;
/* From the whole AS verifier_config (may be NULL): reads
 * snp_verifier.vcek_sources, default [{"type":"KDS"}]. */
tr_err *tr_snp_sources_new(const json_t *verifier_config, tr_snp_sources **out);
void tr_snp_sources_free(tr_snp_sources *s);
/* Decides whether a VCEK found by a source is genuine (the AMD chain
 * check); only accepted certificates are returned or cached. */
typedef tr_err *(*tr_snp_vcek_accept)(void *ud, const uint8_t *der, size_t len);
/* Tries each source in order until one yields a VCEK that `accept` takes;
 * *der (caller frees) is that VCEK as found. */
tr_err *tr_snp_sources_fetch(tr_snp_sources *s, const tr_snp_report *r, tr_snp_gen gen,
                             tr_snp_vcek_accept accept, void *ud, uint8_t **der, size_t *len);

/* Claims exactly as upstream's snp `parse_tee_evidence` (numbers, booleans,
 * hex strings). */
json_t *tr_snp_claims(const tr_snp_report *r);

#endif
