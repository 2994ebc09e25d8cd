/* verify.c — the complete check of one DCAP quote (what upstream delegates
 * to Intel's QVL `tee_verify_quote`), and the supplemental claims.
 *
 *   1. PCK chain (leaf, PCK Platform/Processor CA, root) verifies to the
 *      embedded Intel SGX Root CA; the SGX extension gives FMSPC and TCB.
 *   2. Collateral for (TEE, FMSPC, CA kind): signatures and issuer chains
 *      (collateral.c); the PCK CRL must be issued and signed by the quote's
 *      PCK CA; neither the PCK leaf (PCK CRL) nor the PCK CA (root CA CRL)
 *      may be revoked.
 *   3. Dates: every certificate, CRL and signed document must be issued at
 *      the verification time; past the earliest expiry the collateral is
 *      expired: rejected, or accepted with collateral_expiration_status "1"
 *      (policy `expired_collateral`).
 *   4. QE report signed by the PCK leaf key; QE REPORTDATA = SHA-256(
 *      attestation key || QE authentication data) || 32 zero bytes; QE
 *      vendor ID is Intel's; the quote (header + body) is signed by the
 *      attestation key.
 *   5. TCB status (tcb.c); Revoked and "TCB not supported" are fatal.
 *
 * Caches (read-mostly, under one rwlock):
 *   - verified PCK chains by SHA-256 of their PEM text, with the PCK facts,
 *     leaf key and dates, and the result of the CRL checks for the last
 *     collateral they were checked against;
 *   - verified collateral per (TEE, FMSPC, CA kind) until its earliest
 *     expiry. Replaced collateral is retired, not freed, until tr_dcap_free
 *     (a reader may still hold it; it is renewed about monthly per FMSPC).
 * With both warm, a quote costs two ECDSA verifications and a hash. */
#include <openssl/err.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/encoding.h"
#include "core/json.h"
#include "core/log.h"
#include "core/time.h"
#include "verifier/dcap/dcap_internal.h"
#include "verifier/intel_roots/intel_roots.h"
#include "verifier/tdx/tdx.h"

#define MAX_CHAINS 4096
/* Collateral that is not valid at the verification time (expired, the
 * best the source has) is fetched again at most this often (wall clock). */
#define REFRESH_RETRY_S 60

static const uint8_t INTEL_QE_VENDOR[16] = {0x93, 0x9a, 0x72, 0x33, 0xf7, 0x9c, 0x4c, 0xa9,
                                            0x94, 0x0a, 0x0d, 0xb3, 0x95, 0x7f, 0x06, 0x07};

typedef struct {
  uint32_t tee;
  uint8_t fmspc[6];
  bool platform;
  tr_dcap_collateral *col;
  uint8_t raw_digest[32]; /* of the raw collateral col was verified from */
  int64_t tried;          /* wall-clock time of the last fetch for this key */
} col_entry;

typedef struct {
  uint8_t key[32];
  tr_dcap_platform pi;
  X509 *leaf, *inter;
  tr_dcap_dates dates;
  const tr_dcap_collateral *crl_checked; /* collateral the CRL checks passed with */
  /* QE report signature and attestation-key binding verified for these
   * bytes (SHA-256 of QE report || its signature || attestation key || QE
   * auth data), with the attestation key parsed once. */
  bool qe_ok;
  uint8_t qe_key[32];
  EVP_PKEY *ak;
  /* the DCAP claims computed for (collateral, expiry, TCB-relevant body
   * fields, QE bytes): the TCB evaluation is a pure function of these. */
  json_t *memo;
  const tr_dcap_collateral *memo_col;
  bool memo_expired;
  uint8_t memo_key[32];
} chain_entry;

struct tr_dcap {
  tr_dcap_sources *src;
  int64_t fixed_time;
  bool accept_expired;
  pthread_rwlock_t lock;
  col_entry *cols;
  size_t ncols;
  tr_dcap_collateral **retired;
  size_t nretired;
  chain_entry *chains;
  size_t nchains, next_evict;
  pthread_mutex_t fetch_mu; /* one collateral fetch+verify at a time */
};

tr_err *tr_dcap_new(const json_t *verifier_config, tr_dcap **out) {
  *out = NULL;
  const json_t *cfg = verifier_config ? json_object_get(verifier_config, "dcap_verifier") : NULL;
  if (cfg && !json_is_object(cfg))
    return tr_err_new(TR_E_INVALID, "verifier_config.dcap_verifier: expected an object");
  if (!tr_dcap_intel_store())
    return tr_err_new(TR_E_INTERNAL, "Intel SGX Root CA: the embedded certificate does not load");
  tr_dcap *d = calloc(1, sizeof(*d));
  if (!d) return tr_err_new(TR_E_NOMEM, "out of memory");
  pthread_rwlock_init(&d->lock, NULL);
  pthread_mutex_init(&d->fetch_mu, NULL);
  d->accept_expired = true;
  tr_err *e = tr_dcap_sources_new(cfg, &d->src);
  const char *L = "dcap_verifier", *vt = NULL, *policy = NULL;
  json_t *bundles = NULL;
  if (!e && cfg) {
    e = tr_json_opt_string(cfg, L, "verification_time", &vt);
    if (!e) e = tr_json_opt_string(cfg, L, "expired_collateral", &policy);
    if (!e) e = tr_json_opt_array(cfg, L, "collateral_bundles", &bundles);
  }
  if (!e && vt) {
    e = tr_time_parse_rfc3339(vt, &d->fixed_time, NULL);
    if (e) e = tr_err_wrap(e, "dcap_verifier.verification_time");
  }
  if (!e && policy) {
    if (strcmp(policy, "accept") == 0)
      d->accept_expired = true;
    else if (strcmp(policy, "reject") == 0)
      d->accept_expired = false;
    else
      e = tr_err_new(TR_E_INVALID,
                     "dcap_verifier.expired_collateral: \"%s\" (expected \"accept\" or \"reject\")", policy);
  }
  size_t i;
  json_t *b;
  json_array_foreach(bundles, i, b) {
    if (e) break;
    const char *path = json_string_value(b);
    if (!path) {
      e = tr_err_new(TR_E_INVALID, "dcap_verifier.collateral_bundles[%zu]: expected a file path", i);
      break;
    }
    uint8_t *txt;
    size_t n;
    json_t *j = NULL;
    e = tr_read_file(path, 8 << 20, &txt, &n);
    if (!e) {
      e = tr_json_parse((const char *)txt, n, &j);
      free(txt);
    }
    if (!e) e = tr_dcap_add_bundle(d, j);
    json_decref(j);
    if (e) e = tr_err_wrap(e, "dcap_verifier.collateral_bundles[%zu]", i);
  }
  if (e) {
    tr_dcap_free(d);
    return e;
  }
  *out = d;
  return NULL;
}

void tr_dcap_free(tr_dcap *d) {
  if (!d) return;
  tr_dcap_sources_free(d->src);
  for (size_t i = 0; i < d->ncols; i++)
    tr_dcap_collateral_free(d->cols[i].col);
  for (size_t i = 0; i < d->nretired; i++)
    tr_dcap_collateral_free(d->retired[i]);
  for (size_t i = 0; i < d->nchains; i++) {
    X509_free(d->chains[i].leaf);
    X509_free(d->chains[i].inter);
    EVP_PKEY_free(d->chains[i].ak);
    json_decref(d->chains[i].memo);
  }
  free(d->cols);
  free(d->retired);
  free(d->chains);
  pthread_rwlock_destroy(&d->lock);
  pthread_mutex_destroy(&d->fetch_mu);
  free(d);
}

tr_err *tr_dcap_verifier_create(const json_t *config, void **state) {
  tr_dcap *d = NULL;
  tr_err *e = tr_dcap_new(config, &d);
  *state = d;
  return e;
}

void tr_dcap_verifier_destroy(void *state) { tr_dcap_free(state); }

void tr_dcap_set_time(tr_dcap *d, int64_t at) { d->fixed_time = at; }
void tr_dcap_set_accept_expired(tr_dcap *d, bool accept) { d->accept_expired = accept; }

tr_err *tr_dcap_add_bundle(tr_dcap *d, const json_t *bundle) {
  tr_dcap_collateral_raw raw;
  tr_err *e = tr_dcap_collateral_raw_from_json(bundle, &raw);
  if (!e) e = tr_dcap_sources_add_bundle(d->src, &raw);
  tr_dcap_collateral_raw_clear(&raw);
  return e;
}

/* ---- PCK chain ------------------------------------------------------------------ */

/* Parses the quote's PCK chain and verifies it to the Intel root (no
 * revocation, no dates). *leaf and *inter are new references. */
static tr_err *load_pck_chain(const tr_dcap_quote *q, tr_dcap_platform *pi, X509 **leaf, X509 **inter) {
  STACK_OF(X509) *sk = NULL;
  tr_err *e = tr_dcap_platform_from_chain(q->pck_chain, q->pck_chain_len, pi, &sk);
  if (e) return e;
  STACK_OF(X509) *mid = sk_X509_new_null();
  if (mid) sk_X509_push(mid, sk_X509_value(sk, 1));
  tr_x509_verify_opts o = {.check_time = false};
  e = mid ? tr_x509_verify_chain(tr_dcap_intel_store(), sk_X509_value(sk, 0), mid, &o)
          : tr_err_new(TR_E_NOMEM, "out of memory");
  sk_X509_free(mid);
  if (!e) {
    *leaf = sk_X509_value(sk, 0);
    *inter = sk_X509_value(sk, 1);
    X509_up_ref(*leaf);
    X509_up_ref(*inter);
  }
  tr_x509_stack_free(sk);
  return e ? tr_err_wrap(e, "PCK certificate chain does not verify to the Intel SGX Root CA") : NULL;
}

/* The verified chain for the quote: a copy of the cache entry with its own
 * references (release with chain_release). */
static tr_err *pck_chain(tr_dcap *d, const tr_dcap_quote *q, chain_entry *out) {
  uint8_t key[32];
  unsigned int kl = 0;
  if (EVP_Digest(q->pck_chain, q->pck_chain_len, key, &kl, tr_dcap_sha256(), NULL) != 1)
    return tr_err_new(TR_E_CRYPTO, "SHA-256 failed");
  pthread_rwlock_rdlock(&d->lock);
  for (size_t i = 0; i < d->nchains; i++) {
    if (memcmp(d->chains[i].key, key, 32) == 0) {
      *out = d->chains[i];
      X509_up_ref(out->leaf);
      X509_up_ref(out->inter);
      if (out->ak) EVP_PKEY_up_ref(out->ak);
      out->memo = json_deep_copy(out->memo);
      pthread_rwlock_unlock(&d->lock);
      return NULL;
    }
  }
  pthread_rwlock_unlock(&d->lock);
  chain_entry c;
  memset(&c, 0, sizeof(c));
  memcpy(c.key, key, 32);
  tr_err *e = load_pck_chain(q, &c.pi, &c.leaf, &c.inter);
  if (e) return e;
  tr_dcap_dates_add_cert(&c.dates, c.leaf);
  tr_dcap_dates_add_cert(&c.dates, c.inter);
  pthread_rwlock_wrlock(&d->lock);
  size_t slot = d->nchains;
  if (d->nchains < MAX_CHAINS) {
    chain_entry *n = realloc(d->chains, (d->nchains + 1) * sizeof(*n));
    if (n) {
      d->chains = n;
      d->nchains++;
    } else {
      slot = SIZE_MAX;
    }
  } else {
    slot = d->next_evict++ % MAX_CHAINS;
    X509_free(d->chains[slot].leaf);
    X509_free(d->chains[slot].inter);
    EVP_PKEY_free(d->chains[slot].ak);
    json_decref(d->chains[slot].memo);
  }
  if (slot != SIZE_MAX) {
    d->chains[slot] = c;
    X509_up_ref(c.leaf);
    X509_up_ref(c.inter);
  }
  pthread_rwlock_unlock(&d->lock);
  *out = c;
  return NULL;
}

static void chain_release(chain_entry *c) {
  X509_free(c->leaf);
  X509_free(c->inter);
  EVP_PKEY_free(c->ak);
  json_decref(c->memo);
}

/* Remembers what this quote proved about its chain's entry: the QE bytes
 * and parsed attestation key, and the DCAP claims with their key. */
static void chain_remember(tr_dcap *d, const chain_entry *c, const json_t *memo) {
  pthread_rwlock_wrlock(&d->lock);
  for (size_t i = 0; i < d->nchains; i++) {
    chain_entry *e = &d->chains[i];
    if (memcmp(e->key, c->key, 32) != 0) continue;
    if (c->qe_ok && c->ak) {
      e->qe_ok = true;
      memcpy(e->qe_key, c->qe_key, 32);
      EVP_PKEY_up_ref(c->ak);
      EVP_PKEY_free(e->ak);
      e->ak = c->ak;
    }
    if (memo) {
      json_t *copy = json_deep_copy(memo);
      if (copy) {
        json_decref(e->memo);
        e->memo = copy;
        e->memo_col = c->memo_col;
        e->memo_expired = c->memo_expired;
        memcpy(e->memo_key, c->memo_key, 32);
      }
    }
  }
  pthread_rwlock_unlock(&d->lock);
}

static void chain_mark_checked(tr_dcap *d, const uint8_t key[32], const tr_dcap_collateral *col) {
  pthread_rwlock_wrlock(&d->lock);
  for (size_t i = 0; i < d->nchains; i++)
    if (memcmp(d->chains[i].key, key, 32) == 0) d->chains[i].crl_checked = col;
  pthread_rwlock_unlock(&d->lock);
}

/* ---- collateral ----------------------------------------------------------------- */

/* The cached entry for the key (copied), or NULL. */
static tr_dcap_collateral *col_lookup(tr_dcap *d, uint32_t tee, const uint8_t fmspc[6], bool platform,
                                      col_entry *copy) {
  tr_dcap_collateral *c = NULL;
  pthread_rwlock_rdlock(&d->lock);
  for (size_t i = 0; i < d->ncols; i++)
    if (d->cols[i].tee == tee && d->cols[i].platform == platform && memcmp(d->cols[i].fmspc, fmspc, 6) == 0) {
      c = d->cols[i].col;
      if (copy) *copy = d->cols[i];
    }
  pthread_rwlock_unlock(&d->lock);
  return c;
}

/* Records a fetch attempt for the key (the cached entry stays). */
static void col_touch(tr_dcap *d, uint32_t tee, const uint8_t fmspc[6], bool platform, int64_t now) {
  pthread_rwlock_wrlock(&d->lock);
  for (size_t i = 0; i < d->ncols; i++)
    if (d->cols[i].tee == tee && d->cols[i].platform == platform && memcmp(d->cols[i].fmspc, fmspc, 6) == 0)
      d->cols[i].tried = now;
  pthread_rwlock_unlock(&d->lock);
}

/* SHA-256 over every field of raw collateral, each with its length. */
static tr_err *raw_digest(const tr_dcap_collateral_raw *r, uint8_t out[32]) {
  const void *parts[9] = {r->pck_crl_issuer_chain,     r->pck_crl,     r->root_ca_crl,
                          r->tcb_info_issuer_chain,    r->tcb_info,    r->tcb_info_signature,
                          r->qe_identity_issuer_chain, r->qe_identity, r->qe_identity_signature};
  uint64_t lens[9] = {r->pck_crl_issuer_chain ? strlen(r->pck_crl_issuer_chain) : 0,
                      r->pck_crl_len,
                      r->root_ca_crl_len,
                      r->tcb_info_issuer_chain ? strlen(r->tcb_info_issuer_chain) : 0,
                      r->tcb_info ? strlen(r->tcb_info) : 0,
                      64,
                      r->qe_identity_issuer_chain ? strlen(r->qe_identity_issuer_chain) : 0,
                      r->qe_identity ? strlen(r->qe_identity) : 0,
                      64};
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  unsigned int hl = 0;
  bool ok = ctx && EVP_DigestInit_ex(ctx, tr_dcap_sha256(), NULL) == 1;
  for (int i = 0; ok && i < 9; i++)
    ok = EVP_DigestUpdate(ctx, &lens[i], sizeof(lens[i])) == 1 &&
         (!lens[i] || EVP_DigestUpdate(ctx, parts[i], (size_t)lens[i]) == 1);
  ok = ok && EVP_DigestFinal_ex(ctx, out, &hl) == 1;
  EVP_MD_CTX_free(ctx);
  return ok ? NULL : tr_err_new(TR_E_CRYPTO, "SHA-256 failed");
}

static bool col_fresh(const tr_dcap_collateral *c, int64_t at) {
  int64_t ei, li, ee;
  tr_dcap_collateral_dates(c, &ei, &li, &ee);
  return ee > at && li <= at;
}

static tr_err *col_insert(tr_dcap *d, uint32_t tee, const uint8_t fmspc[6], bool platform,
                          tr_dcap_collateral *c, const uint8_t digest[32], int64_t now) {
  tr_err *e = NULL;
  pthread_rwlock_wrlock(&d->lock);
  size_t i;
  for (i = 0; i < d->ncols; i++)
    if (d->cols[i].tee == tee && d->cols[i].platform == platform && memcmp(d->cols[i].fmspc, fmspc, 6) == 0)
      break;
  if (i < d->ncols) {
    tr_dcap_collateral **r = realloc(d->retired, (d->nretired + 1) * sizeof(*r));
    if (r) {
      d->retired = r;
      d->retired[d->nretired++] = d->cols[i].col;
      d->cols[i].col = c;
      memcpy(d->cols[i].raw_digest, digest, 32);
      d->cols[i].tried = now;
    } else {
      e = tr_err_new(TR_E_NOMEM, "out of memory");
    }
  } else {
    col_entry *n = realloc(d->cols, (d->ncols + 1) * sizeof(*n));
    if (n) {
      d->cols = n;
      d->cols[d->ncols].tee = tee;
      memcpy(d->cols[d->ncols].fmspc, fmspc, 6);
      d->cols[d->ncols].platform = platform;
      d->cols[d->ncols].col = c;
      memcpy(d->cols[d->ncols].raw_digest, digest, 32);
      d->cols[d->ncols].tried = now;
      d->ncols++;
    } else {
      e = tr_err_new(TR_E_NOMEM, "out of memory");
    }
  }
  pthread_rwlock_unlock(&d->lock);
  return e;
}

/* Cached verified collateral, refreshed from the sources when missing or
 * not valid at `at`. A cached one that is not valid at `at` is kept (the
 * expiry policy then decides) when the refresh fails or brings the same
 * bytes, and is not refetched before REFRESH_RETRY_S: otherwise every quote
 * would refetch, re-verify and retire one more copy (unbounded memory) and
 * wait on the source under fetch_mu. */
static tr_err *collateral_for(tr_dcap *d, uint32_t tee, const tr_dcap_platform *pi, int64_t at,
                              const tr_dcap_collateral **out) {
  col_entry ce;
  int64_t now = tr_now();
  tr_dcap_collateral *c = col_lookup(d, tee, pi->fmspc, pi->is_platform_ca, &ce);
  if (c && (col_fresh(c, at) || (now >= ce.tried && now - ce.tried < REFRESH_RETRY_S))) {
    *out = c;
    return NULL;
  }
  pthread_mutex_lock(&d->fetch_mu);
  /* another thread may have refreshed it */
  c = col_lookup(d, tee, pi->fmspc, pi->is_platform_ca, &ce);
  if (c && (col_fresh(c, at) || (now >= ce.tried && now - ce.tried < REFRESH_RETRY_S))) {
    pthread_mutex_unlock(&d->fetch_mu);
    *out = c;
    return NULL;
  }
  tr_dcap_collateral_raw raw;
  tr_dcap_collateral *fresh = NULL;
  uint8_t dg[32];
  bool same = false;
  tr_err *e = tr_dcap_sources_get(d->src, tee, pi->fmspc, pi->is_platform_ca, at, &raw);
  if (!e) {
    e = raw_digest(&raw, dg);
    same = !e && c && memcmp(dg, ce.raw_digest, 32) == 0;
    if (!e && !same) e = tr_dcap_collateral_verify(&raw, &fresh);
    tr_dcap_collateral_raw_clear(&raw);
  }
  if (!e && !same) e = col_insert(d, tee, pi->fmspc, pi->is_platform_ca, fresh, dg, now);
  if (e) {
    tr_dcap_collateral_free(fresh);
    fresh = NULL;
  }
  if ((e || same) && c) col_touch(d, tee, pi->fmspc, pi->is_platform_ca, now);
  pthread_mutex_unlock(&d->fetch_mu);
  if (same) {
    *out = c;
    return NULL;
  }
  if (e && c) {
    TR_WARN("dcap", "collateral refresh failed, using the cached collateral: %s", tr_err_msg(e));
    tr_err_free(e);
    *out = c;
    return NULL;
  }
  if (e) return tr_err_wrap(e, "collateral from %s", tr_dcap_sources_describe(d->src));
  *out = fresh;
  return NULL;
}

/* ---- the quote ---------------------------------------------------------------------- */

/* `remember`: the collateral is cached (lives until tr_dcap_free), so the
 * result may be remembered by its address. */
static tr_err *check_revocation(tr_dcap *d, const chain_entry *ch, const tr_dcap_collateral *col,
                                bool remember) {
  if (remember && ch->crl_checked == col) return NULL;
  X509_CRL *pck_crl = tr_dcap_collateral_pck_crl(col), *root_crl = tr_dcap_collateral_root_crl(col);
  if (X509_NAME_cmp(X509_CRL_get_issuer(pck_crl), X509_get_subject_name(ch->inter)) != 0)
    return tr_err_new(TR_E_VERIFY, "PCK CRL is not issued by the quote's PCK CA");
  if (X509_CRL_verify(pck_crl, X509_get0_pubkey(ch->inter)) != 1) {
    ERR_clear_error();
    return tr_err_new(TR_E_VERIFY, "PCK CRL signature does not verify with the quote's PCK CA");
  }
  if (tr_dcap_revoked(pck_crl, ch->leaf))
    return tr_err_new(TR_E_VERIFY, "PCK certificate is revoked (PCK CRL)");
  if (tr_dcap_revoked(root_crl, ch->inter))
    return tr_err_new(TR_E_VERIFY, "PCK CA certificate is revoked (root CA CRL)");
  if (remember) chain_mark_checked(d, ch->key, col);
  return NULL;
}

static tr_err *sha256_parts(uint8_t out[32], const void *a, size_t al, const void *b, size_t bl,
                            const void *c, size_t cl, const void *d4, size_t dl) {
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  unsigned int hl = 0;
  bool ok = ctx && EVP_DigestInit_ex(ctx, tr_dcap_sha256(), NULL) == 1 && EVP_DigestUpdate(ctx, a, al) == 1 &&
            EVP_DigestUpdate(ctx, b, bl) == 1 && EVP_DigestUpdate(ctx, c, cl) == 1 &&
            EVP_DigestUpdate(ctx, d4, dl) == 1 && EVP_DigestFinal_ex(ctx, out, &hl) == 1;
  EVP_MD_CTX_free(ctx);
  return ok ? NULL : tr_err_new(TR_E_CRYPTO, "SHA-256 failed");
}

/* QE vendor, QE report signature (PCK key), attestation-key binding, quote
 * signature (attestation key). With `ch`, the QE part is skipped when these
 * exact QE bytes were verified for this chain before, and the parsed
 * attestation key is reused; ch->qe_ok/qe_key/ak are updated. */
static tr_err *check_signatures(const tr_dcap_quote *q, X509 *leaf, chain_entry *ch) {
  if (memcmp(q->raw + 12, INTEL_QE_VENDOR, 16) != 0)
    return tr_err_new(TR_E_VERIFY, "quote: QE vendor ID is not Intel's");
  uint8_t qe_key[32];
  tr_err *e = sha256_parts(qe_key, q->qe_report, TR_DCAP_REPORT_LEN + 64, q->att_key, 64, q->qe_auth,
                           q->qe_auth_len, "", 0);
  if (e) return e;
  bool known = ch && ch->qe_ok && ch->ak && memcmp(ch->qe_key, qe_key, 32) == 0;
  if (!known) {
    e = tr_dcap_ecdsa_verify_pkey(X509_get0_pubkey(leaf), q->qe_report, TR_DCAP_REPORT_LEN, q->qe_report_sig);
    if (e) {
      tr_err_free(e);
      return tr_err_new(TR_E_VERIFY, "QE report signature does not verify with the PCK certificate");
    }
    uint8_t h[32];
    if ((e = sha256_parts(h, q->att_key, 64, q->qe_auth, q->qe_auth_len, "", 0, "", 0))) return e;
    static const uint8_t zero[32];
    const uint8_t *rd = q->qe_report + TR_SGX_REPORTDATA;
    if (memcmp(rd, h, 32) != 0 || memcmp(rd + 32, zero, 32) != 0)
      return tr_err_new(
          TR_E_VERIFY,
          "QE report data does not bind the attestation key (SHA-256(key || QE auth data) mismatch)");
  }
  EVP_PKEY *ak = known ? ch->ak : NULL;
  bool own = false;
  if (!ak) {
    if ((e = tr_dcap_p256_pubkey(q->att_key, &ak))) return e;
    own = true;
  }
  e = tr_dcap_ecdsa_verify_pkey(ak, q->raw, q->signed_len, q->sig);
  if (e) {
    tr_err_free(e);
    if (own) EVP_PKEY_free(ak);
    return tr_err_new(TR_E_VERIFY, "quote signature does not verify with the attestation key");
  }
  if (own && ch) {
    EVP_PKEY_free(ch->ak);
    ch->ak = ak;
    ch->qe_ok = true;
    memcpy(ch->qe_key, qe_key, 32);
  } else if (own) {
    EVP_PKEY_free(ak);
  }
  return NULL;
}

static bool rfc3339(json_t *o, const char *k, int64_t t) {
  char buf[TR_RFC3339_MAX];
  if (!tr_time_format_rfc3339(t, 0, buf, sizeof(buf))) return false;
  return json_object_set_new(o, k, json_string(buf)) == 0;
}

int tr_dcap_json_hex(json_t *o, const char *k, const void *d, size_t n) {
  char *h = tr_hex_encode(d, n);
  int r = h ? json_object_set_new(o, k, json_string(h)) : -1;
  free(h);
  return r;
}

static bool hexclaim(json_t *o, const char *k, const void *d, size_t n) {
  return tr_dcap_json_hex(o, k, d, n) == 0;
}

static const char *sgx_type_name(uint8_t t) {
  return t == 0 ? "Standard" : t == 1 ? "Scalable" : t == 2 ? "Scalable with Integrity" : "Unknown";
}

static tr_err *custom_claims(const tr_dcap_platform *pi, const tr_tcb_result *r, const tr_dcap_dates *dt,
                             int64_t pck_num, int64_t root_num, int64_t eval_num, bool expired,
                             json_t **out) {
  json_t *o = json_object();
  uint8_t root_id[48];
  unsigned int rl = 0;
  uint8_t *pub = NULL;
  size_t pl = 0;
  tr_err *e = tr_hex_decode(TR_INTEL_ROOT_PUBKEY_HEX, strlen(TR_INTEL_ROOT_PUBKEY_HEX), &pub, &pl);
  if (e) {
    json_decref(o);
    return e;
  }
  bool ok = o && EVP_Digest(pub, pl, root_id, &rl, EVP_sha384(), NULL) == 1;
  free(pub);
  ok = ok && rfc3339(o, "earliest_issue_date", dt->earliest_issue) &&
       rfc3339(o, "latest_issue_date", dt->latest_issue) &&
       rfc3339(o, "earliest_expiration_date", dt->earliest_expiry) && rfc3339(o, "tcb_date", r->tcb_date) &&
       !json_object_set_new(o, "pck_crl_num", json_integer(pck_num)) &&
       !json_object_set_new(o, "root_ca_crl_num", json_integer(root_num)) &&
       !json_object_set_new(o, "tcb_eval_num", json_integer(eval_num)) &&
       hexclaim(o, "platform_provider_id", pi->ppid, 16) &&
       !json_object_set_new(o, "sgx_type", json_string(sgx_type_name(pi->sgx_type)));
  if (ok && pi->sgx_type > 0)
    ok = !json_object_set_new(o, "is_dynamic_platform", json_boolean(pi->dynamic_platform)) &&
         !json_object_set_new(o, "is_cached_keys", json_boolean(pi->cached_keys)) &&
         !json_object_set_new(o, "is_smt_enabled", json_boolean(pi->smt_enabled));
  ok = ok && hexclaim(o, "root_key_id", root_id, 48) &&
       !json_object_set_new(o, "tcb_status", json_string(tr_tcb_status_name(r->status))) &&
       !json_object_set_new(o, "collateral_expiration_status", json_string(expired ? "1" : "0")) &&
       !json_object_set_new(o, "advisory_ids", json_deep_copy(r->advisories)) &&
       rfc3339(o, "tcb_date_current", r->tcb_date_current) &&
       !json_object_set_new(o, "tcb_status_current", json_string(tr_tcb_status_name(r->status_current))) &&
       !json_object_set_new(o, "advisory_ids_current", json_deep_copy(r->advisories_current));
  if (!ok) {
    json_decref(o);
    return tr_err_new(TR_E_NOMEM, "out of memory");
  }
  *out = o;
  return NULL;
}

static int64_t eval_num(const json_t *tcb_info, const json_t *qe) {
  json_int_t a = json_integer_value(json_object_get(tcb_info, "tcbEvaluationDataNumber"));
  json_int_t b = json_integer_value(json_object_get(qe, "tcbEvaluationDataNumber"));
  return a < b ? a : b;
}

tr_err *tr_dcap_verify_quote(tr_dcap *d, const tr_dcap_quote *q, const tr_dcap_collateral_raw *collateral,
                             tr_dcap_platform *platform, json_t **custom) {
  *custom = NULL;
  int64_t at = d->fixed_time ? d->fixed_time : tr_now();
  chain_entry ch;
  tr_err *e = pck_chain(d, q, &ch);
  if (e) return e;
  tr_dcap_collateral *own = NULL;
  const tr_dcap_collateral *col = NULL;
  if (collateral) {
    e = tr_dcap_collateral_verify(collateral, &own);
    col = own;
  } else {
    e = collateral_for(d, q->tee_type, &ch.pi, at, &col);
  }
  if (!e) e = check_revocation(d, &ch, col, own == NULL);
  tr_dcap_dates dt = ch.dates;
  bool expired = false;
  if (!e) {
    int64_t ei, li, ee;
    tr_dcap_collateral_dates(col, &ei, &li, &ee);
    tr_dcap_dates_add(&dt, ei, ee);
    tr_dcap_dates_add(&dt, li, ee);
    char when[TR_RFC3339_MAX], lim[TR_RFC3339_MAX];
    tr_time_format_rfc3339(at, 0, when, sizeof(when));
    if (dt.latest_issue > at) {
      tr_time_format_rfc3339(dt.latest_issue, 0, lim, sizeof(lim));
      e = tr_err_new(TR_E_VERIFY, "collateral is not yet valid at %s (issued %s)", when, lim);
    } else if (dt.earliest_expiry <= at) {
      expired = true;
      tr_time_format_rfc3339(dt.earliest_expiry, 0, lim, sizeof(lim));
      if (!d->accept_expired)
        e = tr_err_new(TR_E_EXPIRED, "collateral expired at %s (verification time %s)", lim, when);
      else
        TR_WARN("dcap", "collateral expired at %s (verification time %s): accepted by policy", lim, when);
    }
  }
  if (!e) e = check_signatures(q, ch.leaf, &ch);
  /* The DCAP claims are a pure function of the collateral, the expiry, the
   * QE bytes and the TCB-relevant body fields: memoised per chain. */
  uint8_t memo_key[32];
  const uint8_t *b = q->body;
  static const uint8_t none16[16];
  if (!e)
    e = sha256_parts(memo_key, ch.qe_key, 32, q->tee_type == TR_DCAP_TEE_TDX ? b : none16,
                     q->tee_type == TR_DCAP_TEE_TDX ? TR_TD_TD_ATTRIBUTES : 16,
                     q->body_type == 3 ? b + TR_TD_TEE_TCB_SVN2 : none16, 16, &q->body_type,
                     sizeof(q->body_type));
  bool hit = !e && own == NULL && ch.memo && ch.memo_col == col && ch.memo_expired == expired &&
             memcmp(ch.memo_key, memo_key, 32) == 0;
  if (hit) {
    *custom = ch.memo;
    ch.memo = NULL;
  } else if (!e) {
    tr_tcb_result r;
    memset(&r, 0, sizeof(r));
    e = tr_tcb_evaluate(tr_dcap_collateral_tcb_info(col), tr_dcap_collateral_qe_identity(col), q, &ch.pi, &r);
    if (!e && r.status == TR_TCB_REVOKED) e = tr_err_new(TR_E_VERIFY, "TCB status is Revoked");
    if (!e) {
      int64_t pn, rn;
      tr_dcap_collateral_crl_nums(col, &pn, &rn);
      e = custom_claims(&ch.pi, &r, &dt, pn, rn,
                        eval_num(tr_dcap_collateral_tcb_info(col), tr_dcap_collateral_qe_identity(col)),
                        expired, custom);
    }
    tr_tcb_result_clear(&r);
    if (!e && !own) {
      ch.memo_col = col;
      ch.memo_expired = expired;
      memcpy(ch.memo_key, memo_key, 32);
    }
  }
  if (!e) chain_remember(d, &ch, hit || own ? NULL : *custom);
  if (!e && platform) *platform = ch.pi;
  tr_dcap_collateral_free(own);
  chain_release(&ch);
  return e ? tr_err_wrap(e, "DCAP quote verification") : NULL;
}

tr_err *tr_dcap_verify_quote_signatures(const tr_dcap_quote *q, tr_dcap_platform *platform) {
  if (!tr_dcap_intel_store())
    return tr_err_new(TR_E_INTERNAL, "Intel SGX Root CA: the embedded certificate does not load");
  tr_dcap_platform pi;
  X509 *leaf = NULL, *inter = NULL;
  tr_err *e = load_pck_chain(q, &pi, &leaf, &inter);
  if (!e) e = check_signatures(q, leaf, NULL);
  X509_free(leaf);
  X509_free(inter);
  if (!e && platform) *platform = pi;
  return e;
}

tr_err *tr_dcap_verify_td_quote(void *dcap_state, const uint8_t *quote, size_t len, json_t **claims) {
  *claims = NULL;
  tr_dcap_quote q;
  tr_err *e = tr_dcap_quote_parse(quote, len, &q);
  if (e) return e;
  if (q.version == 3) return tr_err_new(TR_E_INVALID, "expected TDX quote (v4/v5), got SGX quote (v3)");
  tr_dcap_platform pi;
  json_t *custom = NULL;
  e = tr_dcap_verify_quote(dcap_state, &q, NULL, &pi, &custom);
  if (e) return e;
  json_t *c = tr_tdx_claims(&q, NULL, &pi);
  if (!c || json_object_update(c, custom) != 0) {
    json_decref(c);
    json_decref(custom);
    return tr_err_new(TR_E_NOMEM, "out of memory");
  }
  json_decref(custom);
  *claims = c;
  return NULL;
}
