/* x509.h — certificate chains and extensions over OpenSSL.
 *
 * A tr_x509_store holds trusted roots (and optional CRLs); it is built once
 * at start-up and shared read-only by all threads. Chains are verified with
 * the leaf first and untrusted intermediates after it. */
#ifndef TRUSTEE_CRYPTO_X509_H
#define TRUSTEE_CRYPTO_X509_H

#include <jansson.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

/* Parses one certificate, PEM or DER. */
tr_err *tr_x509_parse(const void *data, size_t len, X509 **out);
/* Parses a bundle: concatenated PEM certificates, or one DER certificate.
 * *out is a new stack (free with tr_x509_stack_free; OSSL_STACK_OF_X509_free needs OpenSSL 3.2). */
tr_err *tr_x509_parse_bundle(const void *data, size_t len, STACK_OF(X509) * *out);
/* Frees a stack and its certificates (sk_X509_pop_free(sk, X509_free)). */
void tr_x509_stack_free(STACK_OF(X509) * sk);
tr_err *tr_x509_load_file(const char *path, STACK_OF(X509) * *out);
tr_err *tr_x509_parse_crl(const void *data, size_t len, X509_CRL **out);
/* A JWK/JWS `x5c` array (std base64 DER, base64url accepted, newlines
 * stripped — as upstream's KBS): *leaf = x5c[0], *rest = the others (new
 * stack, possibly empty; free with tr_x509_stack_free). */
tr_err *tr_x509_parse_x5c(const json_t *x5c, X509 **leaf, STACK_OF(X509) * *rest);

typedef struct tr_x509_store tr_x509_store;
tr_err *tr_x509_store_new(tr_x509_store **out);
/* Adds a trust anchor (any certificate, self-signed or not; chains stop at
 * it only if it is self-signed unless allow_partial). The store takes its
 * own reference; the caller keeps theirs. Adding a duplicate is a no-op. */
tr_err *tr_x509_store_add(tr_x509_store *s, X509 *cert);
tr_err *tr_x509_store_add_pem(tr_x509_store *s, const void *pem, size_t len);
tr_err *tr_x509_store_add_crl(tr_x509_store *s, X509_CRL *crl); /* takes a reference */
void tr_x509_store_free(tr_x509_store *s);

typedef struct {
  bool check_time;    /* validity periods */
  int64_t at_time;    /* 0 = now; otherwise seconds since epoch */
  bool check_crl;     /* CRLs of the whole chain must be present */
  bool allow_partial; /* an intermediate in the store may anchor the chain */
} tr_x509_verify_opts;

/* Verifies leaf (+ untrusted intermediates, may be NULL) to a root of s.
 * opts NULL = check validity periods at the current time, no CRLs. An
 * expired certificate is TR_E_EXPIRED, any other failure TR_E_VERIFY.
 * Signature algorithms: RSA PKCS#1 v1.5, RSA-PSS, ECDSA; SM2/SM3 via
 * tr_x509_verify_sm2_signed. Error names the failing certificate subject
 * and OpenSSL's reason. */
tr_err *tr_x509_verify_chain(const tr_x509_store *s, X509 *leaf, STACK_OF(X509) * untrusted,
                             const tr_x509_verify_opts *opts);
/* Verifies that `cert` is signed by `issuer` (SM2 with SM3 and the given ID,
 * as Hygon's certificates are; id NULL = "1234567812345678"). */
tr_err *tr_x509_verify_sm2_signed(X509 *cert, X509 *issuer, const char *id);

/* Extension by dotted OID: *der/len point at the extension's OCTET STRING
 * content (borrowed from cert). TR_E_NOTFOUND when absent. */
tr_err *tr_x509_ext_by_oid(X509 *cert, const char *oid, const uint8_t **der, size_t *len);
/* Extensions must be unique: a repeated OID is TR_E_INVALID. */
/* Decodes an extension whose content is a DER INTEGER (AMD VCEK TCB fields:
 * 1.3.6.1.4.1.3704.1.3.1 blSPL, .2 teeSPL, .3 snpSPL, .8 ucodeSPL, .9 fmcSPL). */
tr_err *tr_x509_ext_int(X509 *cert, const char *oid, int64_t *out);
/* An extension whose content is a DER OCTET STRING, or — when raw_len is
 * not 0 and the content has exactly raw_len bytes — the raw content itself
 * (AMD hwID 1.3.6.1.4.1.3704.1.4: 64 raw bytes in older VCEKs, an OCTET
 * STRING in newer ones). *out borrowed from cert. */
tr_err *tr_x509_ext_octets(X509 *cert, const char *oid, size_t raw_len, const uint8_t **out, size_t *len);
/* Subject as a one-line string (caller frees). */
char *tr_x509_subject(X509 *cert);

#endif
