/* client.h — a KBS client: the RCAR handshake as the guest's
 * kbs_protocol client does it, resource retrieval with JWE decryption, and
 * the admin API calls of upstream's kbs-client.
 *
 * The TEE key is ephemeral EC P-256 (alg ECDH-ES+A256KW) unless one is set
 * (RSA → RSA-OAEP-256; EC P-256/P-521 → ECDH-ES+A256KW). Evidence comes from
 * the sample attester — {"svn":"1","report_data":base64(digest)} where digest
 * = hash(JCS({"additional-evidence","nonce","tee-pubkey"})) with the
 * challenge's selected hash (SHA-384 when none) — or from a file given with
 * kbs_client_set_evidence. With ENABLE_SAMPLE_DEVICE set, a `sampledevice`
 * item ({"svn":"2",...}) bound to hash(JCS({"nonce","tee-pubkey"})) is sent
 * as additional evidence, as the guest's sample device attester does.
 *
 * Retries as upstream: RCAR up to 5 times 1 s apart; a resource GET up to 3
 * times, re-running RCAR after each 401; then "request unauthorized".
 * Not thread-safe: one client per thread. */
#ifndef TRUSTEE_CLIENT_CLIENT_H
#define TRUSTEE_CLIENT_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

typedef struct kbs_client kbs_client;

/* url: KBS root ("http://127.0.0.1:8080"); ca_file: extra trusted root PEM
 * for https (may be NULL). */
tr_err *kbs_client_new(const char *url, const char *ca_file, kbs_client **out);
void kbs_client_free(kbs_client *c);

/* TEE key from PEM (RSA PKCS#1/PKCS#8, EC P-256/P-521 PKCS#8/SEC1), or a
 * freshly generated one of kind "P-256", "P-521", "RSA-2048"... */
tr_err *kbs_client_set_tee_key_pem(kbs_client *c, const char *pem, size_t len);
tr_err *kbs_client_generate_tee_key(kbs_client *c, const char *kind);
/* Pre-existing evidence (JSON text) for `tee` instead of the sample attester. */
tr_err *kbs_client_set_evidence(kbs_client *c, const char *tee, const char *evidence_json);
/* TEE name sent in /auth (default "sample"). */
void kbs_client_set_tee(kbs_client *c, const char *tee);
void kbs_client_set_init_data(kbs_client *c, const char *toml); /* NULL = none */
/* Retry pacing (tests): RCAR attempts and the pause between them. */
void kbs_client_set_retries(kbs_client *c, int rcar_attempts, int get_attempts, unsigned pause_ms);

/* Runs RCAR; *token (caller frees) is the attestation token. */
tr_err *kbs_client_attest(kbs_client *c, char **token);
/* GET /kbs/v0/resource/<path> on the attested session (attesting on 401) and
 * decrypts it. *out owned by the caller. */
tr_err *kbs_client_get_resource(kbs_client *c, const char *path, uint8_t **out, size_t *len);
/* Same with `Authorization: Bearer <token>` (passport mode). */
tr_err *kbs_client_get_resource_with_token(kbs_client *c, const char *path, const char *token, uint8_t **out,
                                           size_t *len);

/* One admin request: method/`/kbs/v0/<rel>`; token may be NULL. *status and
 * *body (caller frees, may be NULL) receive the answer. */
tr_err *kbs_client_request(kbs_client *c, const char *method, const char *rel, const char *token,
                           const char *content_type, const void *body, size_t len, long *status,
                           char **resp_body, size_t *resp_len);

#endif
