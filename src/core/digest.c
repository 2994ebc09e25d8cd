#include "core/digest.h"

#include <openssl/evp.h>
#include <strings.h>

tr_digest_alg tr_digest_alg_from_name(const char *name) {
  if (!name) return 0;
  if (!strcasecmp(name, "sha256")) return TR_SHA256;
  if (!strcasecmp(name, "sha384")) return TR_SHA384;
  if (!strcasecmp(name, "sha512")) return TR_SHA512;
  if (!strcasecmp(name, "sm3")) return TR_SM3;
  return 0;
}

const char *tr_digest_alg_name(tr_digest_alg alg) {
  switch (alg) {
  case TR_SHA256: return "sha256";
  case TR_SHA384: return "sha384";
  case TR_SHA512: return "sha512";
  case TR_SM3: return "sm3";
  }
  return "unknown";
}

size_t tr_digest_size(tr_digest_alg alg) {
  switch (alg) {
  case TR_SHA256: return 32;
  case TR_SHA384: return 48;
  case TR_SHA512: return 64;
  case TR_SM3: return 32;
  }
  return 0;
}

static const EVP_MD *md_of(tr_digest_alg alg) {
  switch (alg) {
  case TR_SHA256: return EVP_sha256();
  case TR_SHA384: return EVP_sha384();
  case TR_SHA512: return EVP_sha512();
  case TR_SM3: return EVP_sm3();
  }
  return NULL;
}

tr_err *tr_digest(tr_digest_alg alg, const void *data, size_t len, uint8_t *out, size_t *out_len) {
  const EVP_MD *md = md_of(alg);
  if (!md) return tr_err_new(TR_E_UNSUPPORTED, "unknown hash algorithm %d", (int)alg);
  unsigned int n = 0;
  if (EVP_Digest(data, len, out, &n, md, NULL) != 1)
    return tr_err_new(TR_E_CRYPTO, "%s digest failed", tr_digest_alg_name(alg));
  if (out_len) *out_len = n;
  return NULL;
}

tr_err *tr_digest_by_name(const char *name, const void *data, size_t len, uint8_t *out, size_t *out_len) {
  tr_digest_alg alg = tr_digest_alg_from_name(name);
  if (!alg)
    return tr_err_new(TR_E_INVALID, "unknown hash algorithm `%s` (expected sha256, sha384, sha512 or sm3)",
                      name ? name : "(null)");
  return tr_digest(alg, data, len, out, out_len);
}
