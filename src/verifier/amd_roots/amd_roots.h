/* amd_roots.h — AMD SEV-SNP vendor certificates embedded in the product.
 *
 * One PEM bundle per processor generation, each with three certificates in
 * the order ASK, ARK, ASVK (CNs SEV-<Gen>, ARK-<Gen>, SEV-VLEK-<Gen>), the
 * same files upstream Trustee embeds. See README.md in this folder for their
 * origin and how amd_roots.c is regenerated. */
#ifndef TRUSTEE_VERIFIER_AMD_ROOTS_H
#define TRUSTEE_VERIFIER_AMD_ROOTS_H

extern const char tr_amd_roots_milan_pem[];
extern const char tr_amd_roots_genoa_pem[];
extern const char tr_amd_roots_turin_pem[];

#endif
