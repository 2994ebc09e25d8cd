/* as_internal.h — pieces of the Attestation Service shared between its
 * files (not a public API; the public one is as.h / request.h). */
#ifndef TRUSTEE_AS_AS_INTERNAL_H
#define TRUSTEE_AS_AS_INTERNAL_H

#include <jansson.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "as/as.h"
#include "core/digest.h"
#include "core/error.h"
#include "kv/kv.h"
#include "rego/rego.h"
#include "verifier/verifier.h"

#define TR_AS_POLICY_NS "attestation_service_policy"

/* ---- configuration (as_config.c) ---------------------------------------- */

typedef enum { TR_AS_BROKER_EAR = 0, TR_AS_BROKER_SIMPLE } tr_as_broker_type;

typedef struct {
  char *key_path; /* NULL = ephemeral key */
  char *cert_path;
  char *cert_url;
} tr_as_signer_config;

typedef struct {
  tr_as_broker_type type;
  int64_t duration_min;
  char *issuer_name;
  char *developer_name;
  char *build_name;
  char *profile_name;
  bool verbose_token;
  tr_as_signer_config signer;
} tr_as_broker_config;

typedef struct {
  char *work_dir;
  /* policy storage: storage_backend.storage_type and its backend object */
  char *storage_type;     /* canonical kv name: "Memory", "LocalFs", ... */
  json_t *storage_config; /* borrowed from `raw`, may be NULL */
  /* rvps_config */
  bool rvps_remote;        /* GrpcRemote */
  char *rvps_address;      /* GrpcRemote address */
  char *rvps_storage_type; /* BuiltIn storage_type override (canonical) or NULL */
  bool rvps_documented;    /* documented shape: store_type/store_config */
  json_t *rvps_raw;        /* borrowed rvps_config object, may be NULL */
  json_t *verifier_config; /* borrowed, may be NULL */
  tr_as_broker_config broker;
  json_t *warnings; /* array of strings: unknown keys etc. (owned) */
  json_t *raw;      /* the config (own reference) */
} tr_as_config;

tr_err *tr_as_config_parse(const json_t *config, tr_as_config *out);
void tr_as_config_clear(tr_as_config *c);
/* "localfs", "local_fs", "LocalFs" → "LocalFs"; NULL when unknown. */
const char *tr_as_storage_name(const char *name);
/* The backend object for a storage type within storage_backend.backends. */
json_t *tr_as_storage_backend(const json_t *storage_backend, const char *canonical_type);

/* ---- runtime data / init data (as_data.c) -------------------------------- */

typedef struct {
  bool present;
  uint8_t buf[TR_DIGEST_MAX];
  const uint8_t *data; /* points into buf, or at the raw request bytes */
  size_t len;
  json_t *claims; /* runtime_data_claims / init_data_claims; JSON null when none (owned) */
} tr_as_expected_data;

tr_err *tr_as_runtime_expected(const tr_as_data *d, tr_digest_alg alg, tr_as_expected_data *out);
tr_err *tr_as_init_expected(const tr_as_data *d, tr_digest_alg alg, tr_as_expected_data *out);
void tr_as_expected_clear(tr_as_expected_data *e);
/* The init_data_claims conversion of §1.3 applied to the TOML `data` table
 * (cdh.toml / aa.toml parsed, policy.rego → agent_policy_claims). */
tr_err *tr_as_init_data_claims(const json_t *data, json_t **claims);
/* RFC 8785 canonical form; caller frees. */
tr_err *tr_as_jcs(const json_t *v, char **out, size_t *len);

/* ---- policies (as_policy.c) ---------------------------------------------- */

typedef struct tr_as_policy_store tr_as_policy_store;

typedef struct {
  const char *id;
  const char *text;
} tr_as_default_policy;

/* Embedded upstream policies (as_default_policies.c). */
extern const tr_as_default_policy tr_as_ear_default_policies[];
extern const size_t tr_as_ear_default_policies_len;
extern const char tr_as_simple_default_policy[];

tr_err *tr_as_policy_store_new(tr_kv *kv, tr_as_policy_store **out);
void tr_as_policy_store_free(tr_as_policy_store *s);
/* Installs without overwriting an existing policy. */
tr_err *tr_as_policy_install_default(tr_as_policy_store *s, const char *id, const char *text);
tr_err *tr_as_policy_set(tr_as_policy_store *s, const char *id, const char *text);
tr_err *tr_as_policy_get_text(tr_as_policy_store *s, const char *id, char **text);
tr_err *tr_as_policy_list(tr_as_policy_store *s, json_t **out);
tr_err *tr_as_policy_delete(tr_as_policy_store *s, const char *id);
/* Number of compiled policies held by the cache (tests). */
size_t tr_as_policy_cache_len(tr_as_policy_store *s);

/* A compiled policy handed out to an evaluation: reference counted so a
 * concurrent `set` can replace the cache entry while it is in use. */
typedef struct tr_as_compiled {
  rego_policy *policy;
  char hash[2 * 48 + 1]; /* sha384 hex of the text */
  int refs;              /* guarded by the store lock */
} tr_as_compiled;
tr_err *tr_as_policy_acquire(tr_as_policy_store *s, const char *id, tr_as_compiled **out);
void tr_as_policy_release(tr_as_policy_store *s, tr_as_compiled *c);

/* ---- signer (as_signer.c) ------------------------------------------------ */

typedef struct {
  EVP_PKEY *pkey;
  const char *alg; /* "ES256" or "RS384" */
  json_t *jwk;     /* public JWK, members in emitted order */
  char *hdr_b64;   /* base64url of the constant protected header */
} tr_as_signer;

tr_err *tr_as_signer_load(const tr_as_signer_config *cfg, tr_as_broker_type type, tr_as_signer *out);
void tr_as_signer_clear(tr_as_signer *s);
/* Compact JWS: header {"typ":"JWT","alg":..,"jwk":..} then the payload text. */
tr_err *tr_as_sign_jwt(const tr_as_signer *s, const char *payload, size_t len, char **out);

/* ---- claims and tokens (as_ear.c, as_simple.c) --------------------------- */

typedef struct {
  const char *tee; /* request's TEE name */
  char tee_class[16];
  json_t *claims;           /* verifier claims (owned) */
  json_t *init_data_claims; /* borrowed from the request's expected data */
  json_t *runtime_data_claims;
} tr_as_tee_claims;

struct tr_as {
  tr_as_config cfg;
  tr_kv *kv; /* policy storage */
  bool own_kv;
  tr_rvps *rvps;
  bool own_rvps;
  tr_verifier_set *verifiers;
  tr_as_policy_store *policies;
  tr_as_signer signer;
};

/* §1.5: the policy input / annotated evidence for one TEE (new reference,
 * keys sorted). */
tr_err *tr_as_policy_input(const tr_as_tee_claims *tc, bool verbose, json_t **out);
/* AR4SI tier of a trust-claim value: 0 none, 2 affirming, 32 warning, 96 contraindicated. */
int tr_as_tier(int64_t v);
const char *tr_as_tier_name(int tier);
/* Validates a trust_claims result into an 8-slot vector (set[i] false = unset). */
tr_err *tr_as_trust_vector(const json_t *trust_claims, int8_t vec[8], bool set[8]);
extern const char *const tr_as_trust_claim_names[8];
/* Builds one appraisal object from a vector, the policy id, the annotated
 * evidence and the extensions array (validated). New reference. */
tr_err *tr_as_appraisal(const int8_t vec[8], const bool set[8], const char *policy_id, json_t *annotated,
                        const json_t *extensions, json_t **out);
/* Deep copy with object keys sorted (by byte value) at every level. */
json_t *tr_as_sorted_copy(const json_t *v);

tr_err *tr_as_ear_issue(tr_as *as, tr_as_tee_claims *tcs, size_t n, const char *const *policy_ids,
                        size_t npolicy_ids, char **token);
tr_err *tr_as_simple_issue(tr_as *as, tr_as_tee_claims *tcs, size_t n, const char *const *policy_ids,
                           size_t npolicy_ids, char **token);
/* Flattened claims of the Simple broker (dotted keys). */
tr_err *tr_as_flatten_claims(const char *tee, const json_t *claims, json_t *into);

/* The query_reference_value host function (ctx = tr_rvps *). */
tr_err *tr_as_qrv_host(void *ctx, json_t *const *args, size_t nargs, json_t **result);

#endif
