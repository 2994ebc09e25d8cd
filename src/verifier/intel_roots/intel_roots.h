/* intel_roots.h — the Intel SGX Root CA certificate embedded in the product
 * (trust anchor of DCAP: PCK chains, TCB signing chain, CRLs). See README.md
 * in this folder for its origin and how intel_roots.c is regenerated. */
#ifndef TRUSTEE_VERIFIER_INTEL_ROOTS_H
#define TRUSTEE_VERIFIER_INTEL_ROOTS_H

extern const char tr_intel_sgx_root_ca_pem[];

/* The root's uncompressed public key point (04 || x || y); QVL's root_key_id is its SHA-384. */
#define TR_INTEL_ROOT_PUBKEY_HEX                                                                             \
  "040ba9c4c0c0c86193a3fe23d6b02cda10a8bbd4e88e48b4458561a36e705525f567918e2edc88e40d860bd0cc4ee26aacc988e5" \
  "05a9"                                                                                                     \
  "53558c453f6b0904ae7394"

#endif
