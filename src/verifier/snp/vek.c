/* vek.c — AMD certificate chains (ARK → ASK/ASVK → VCEK/VLEK), the
 * verified-chain cache, and the report's signature and TCB checks.
 *
 * Chain semantics follow upstream (sev crate `Chain::verify`): the ARK is
 * self-signed, signs the ASK (or ASVK), which signs the VEK; RSA-PSS with
 * SHA-384 signatures only — no validity dates and no CRL, because AMD's
 * VCEKs are re-issued per TCB and upstream never checked either. A chain is
 * verified once: the cache key is SHA-256 over (generation, VEK type, VEK,
 * provided ASK, provided ARK), and the entry holds the parsed certificate,
 * its public key and its decoded extensions, shared read-only by threads
 * (reference counted; an rwlock guards the table). */
#include <openssl/asn1.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/encoding.h"
#include "core/log.h"
#include "verifier/amd_roots/amd_roots.h"
#include "verifier/snp/snp.h"

#define CACHE_SLOTS 4096

typedef struct {
  uint8_t key[32];
  tr_snp_vek *vek;
} cache_slot;

struct tr_snp_ctx {
  X509 *roots[TR_SNP_NGEN][3]; /* ASK, ARK, ASVK */
  pthread_rwlock_t lock;
  cache_slot *slots; /* open addressing, CACHE_SLOTS */
  size_t used;
  _Atomic uint64_t verified, hits;
};

void tr_snp_vek_ref(tr_snp_vek *v) {
  if (v) atomic_fetch_add_explicit(&v->refs, 1, memory_order_relaxed);
}

void tr_snp_vek_unref(tr_snp_vek *v) {
  if (!v) return;
  if (atomic_fetch_sub_explicit(&v->refs, 1, memory_order_acq_rel) != 1) return;
  X509_free(v->cert);
  free(v);
}

/* Parses one certificate, PEM or DER. */
static tr_err *parse_cert(const uint8_t *data, size_t len, const char *what, X509 **out) {
  *out = NULL;
  if (len > 10 && memmem(data, len, "-----BEGIN", 10)) {
    BIO *b = BIO_new_mem_buf(data, (int)len);
    if (b) *out = PEM_read_bio_X509(b, NULL, NULL, NULL);
    BIO_free(b);
  } else {
    const unsigned char *p = data;
    *out = d2i_X509(NULL, &p, (long)len);
    if (*out && p != data + len) {
      X509_free(*out);
      *out = NULL;
    }
  }
  if (!*out) return tr_err_new(TR_E_INVALID, "%s is not a valid certificate (PEM or DER)", what);
  return NULL;
}

static const char *const gen_keys[TR_SNP_NGEN] = {"Milan", "Genoa", "Turin"};

/* Loads one ASK, ARK, ASVK bundle into roots[g] (replacing what was there)
 * and checks that the ARK is self-signed and signs the other two. */
static tr_err *load_bundle(tr_snp_ctx *c, int g, const void *pem, int len, const char *origin) {
  X509 *certs[3] = {NULL, NULL, NULL};
  BIO *b = BIO_new_mem_buf(pem, len);
  for (int i = 0; i < 3 && b; i++)
    certs[i] = PEM_read_bio_X509(b, NULL, NULL, NULL);
  BIO_free(b);
  tr_err *e = NULL;
  for (int i = 0; i < 3 && !e; i++)
    if (!certs[i])
      e = tr_err_new(TR_E_INVALID, "%s: %s: expected three PEM certificates (ASK, ARK, ASVK)", origin,
                     gen_keys[g]);
  EVP_PKEY *ark = e ? NULL : X509_get0_pubkey(certs[1]);
  for (int i = 0; i < 3 && !e; i++)
    if (X509_verify(certs[i], ark) != 1)
      e = tr_err_new(TR_E_INVALID, "%s: %s certificate %d (ASK, ARK, ASVK order) is not signed by the ARK",
                     origin, gen_keys[g], i);
  for (int i = 0; i < 3; i++) {
    if (e) {
      X509_free(certs[i]);
    } else {
      X509_free(c->roots[g][i]);
      c->roots[g][i] = certs[i];
    }
  }
  return e;
}

/* snp_verifier.vendor_certs: {"Milan"|"Genoa"|"Turin": "<PEM bundle path>"}
 * replaces the embedded AMD certificates of that generation — for lab and
 * test platforms whose chain is not AMD's. */
static tr_err *load_overrides(tr_snp_ctx *c, const json_t *verifier_config) {
  const json_t *snp =
      json_is_object(verifier_config) ? json_object_get(verifier_config, "snp_verifier") : NULL;
  const json_t *vc = json_is_object(snp) ? json_object_get(snp, "vendor_certs") : NULL;
  if (!vc || json_is_null(vc)) return NULL;
  if (!json_is_object(vc)) return tr_err_new(TR_E_INVALID, "snp_verifier.vendor_certs: expected an object");
  const char *key;
  json_t *val;
  json_object_foreach((json_t *)vc, key, val) {
    int g = -1;
    for (int i = 0; i < TR_SNP_NGEN; i++)
      if (strcmp(key, gen_keys[i]) == 0) g = i;
    if (g < 0 || !json_is_string(val))
      return tr_err_new(
          TR_E_INVALID,
          "snp_verifier.vendor_certs: expected {\"Milan\"|\"Genoa\"|\"Turin\": \"<PEM file>\"}, got `%s`",
          key);
    uint8_t *pem = NULL;
    size_t len = 0;
    tr_err *e = tr_read_file(json_string_value(val), 1 << 20, &pem, &len);
    if (!e) e = load_bundle(c, g, pem, (int)len, "snp_verifier.vendor_certs");
    free(pem);
    if (e) return e;
    TR_WARN("snp", "%s: using the vendor certificates of %s instead of AMD's embedded ones", key,
            json_string_value(val));
  }
  return NULL;
}

tr_err *tr_snp_ctx_new(tr_snp_ctx **out) { return tr_snp_ctx_new_config(NULL, out); }

tr_err *tr_snp_ctx_new_config(const json_t *verifier_config, tr_snp_ctx **out) {
  *out = NULL;
  tr_snp_ctx *c = calloc(1, sizeof(*c));
  if (!c) return tr_err_new(TR_E_NOMEM, "out of memory");
  c->slots = calloc(CACHE_SLOTS, sizeof(cache_slot));
  pthread_rwlock_init(&c->lock, NULL);
  const char *pems[TR_SNP_NGEN] = {tr_amd_roots_milan_pem, tr_amd_roots_genoa_pem, tr_amd_roots_turin_pem};
  tr_err *e = c->slots ? NULL : tr_err_new(TR_E_NOMEM, "out of memory");
  for (int g = 0; g < TR_SNP_NGEN && !e; g++) {
    e = load_bundle(c, g, pems[g], -1, "embedded AMD certificates");
    if (e) e = tr_err_recode(e, TR_E_INTERNAL);
  }
  if (!e) e = load_overrides(c, verifier_config);
  if (e) {
    tr_snp_ctx_free(c);
    return e;
  }
  *out = c;
  return NULL;
}

void tr_snp_ctx_free(tr_snp_ctx *c) {
  if (!c) return;
  for (int g = 0; g < TR_SNP_NGEN; g++)
    for (int i = 0; i < 3; i++)
      X509_free(c->roots[g][i]);
  if (c->slots)
    for (size_t i = 0; i < CACHE_SLOTS; i++)
      tr_snp_vek_unref(c->slots[i].vek);
  free(c->slots);
  pthread_rwlock_destroy(&c->lock);
  free(c);
}

X509 *tr_snp_ctx_root(const tr_snp_ctx *c, tr_snp_gen gen, int which) {
  if (gen < TR_SNP_MILAN || gen > TR_SNP_TURIN || which < 0 || which > 2) return NULL;
  return c->roots[gen - 1][which];
}

void tr_snp_ctx_stats(tr_snp_ctx *c, uint64_t *verified, uint64_t *hits) {
  *verified = atomic_load(&c->verified);
  *hits = atomic_load(&c->hits);
}

/* ---- cache --------------------------------------------------------------- */

static size_t slot_of(const uint8_t key[32]) {
  size_t h;
  memcpy(&h, key, sizeof(h));
  return h % CACHE_SLOTS;
}

static tr_snp_vek *cache_get(tr_snp_ctx *c, const uint8_t key[32]) {
  tr_snp_vek *v = NULL;
  pthread_rwlock_rdlock(&c->lock);
  for (size_t i = slot_of(key), n = 0; n < CACHE_SLOTS && c->slots[i].vek; i = (i + 1) % CACHE_SLOTS, n++) {
    if (memcmp(c->slots[i].key, key, 32) == 0) {
      v = c->slots[i].vek;
      tr_snp_vek_ref(v);
      break;
    }
  }
  pthread_rwlock_unlock(&c->lock);
  return v;
}

static void cache_put(tr_snp_ctx *c, const uint8_t key[32], tr_snp_vek *v) {
  pthread_rwlock_wrlock(&c->lock);
  if (c->used >= CACHE_SLOTS * 3 / 4) {
    /* Full: start over. A fleet has far fewer distinct VEKs than this, so
     * this only bounds memory against a client sending endless new chains. */
    for (size_t i = 0; i < CACHE_SLOTS; i++) {
      tr_snp_vek_unref(c->slots[i].vek);
      c->slots[i].vek = NULL;
    }
    c->used = 0;
  }
  size_t i = slot_of(key);
  while (c->slots[i].vek && memcmp(c->slots[i].key, key, 32) != 0)
    i = (i + 1) % CACHE_SLOTS;
  if (!c->slots[i].vek) {
    memcpy(c->slots[i].key, key, 32);
    tr_snp_vek_ref(v);
    c->slots[i].vek = v;
    c->used++;
  }
  pthread_rwlock_unlock(&c->lock);
}

/* ---- extensions ---------------------------------------------------------- */

static const ASN1_OCTET_STRING *ext_value(X509 *cert, const char *oid) {
  ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
  if (!obj) return NULL;
  int idx = X509_get_ext_by_OBJ(cert, obj, -1);
  ASN1_OBJECT_free(obj);
  if (idx < 0) return NULL;
  return X509_EXTENSION_get_data(X509_get_ext(cert, idx));
}

/* A DER INTEGER that fits u8 (upstream get_oid_int); -1 absent, -2 malformed. */
static int ext_u8(X509 *cert, const char *oid) {
  const ASN1_OCTET_STRING *os = ext_value(cert, oid);
  if (!os) return -1;
  const unsigned char *p = ASN1_STRING_get0_data(os);
  long len = ASN1_STRING_length(os);
  ASN1_INTEGER *ai = d2i_ASN1_INTEGER(NULL, &p, len);
  if (!ai) return -2;
  int64_t v = -1;
  int ok = ASN1_INTEGER_get_int64(&v, ai);
  ASN1_INTEGER_free(ai);
  if (!ok || v < 0 || v > 255) return -2;
  return (int)v;
}

/* hwID: raw 64 bytes (older VCEKs) or a DER OCTET STRING of 64 bytes. */
static tr_err *ext_hwid(X509 *cert, tr_snp_vek *v) {
  const ASN1_OCTET_STRING *os = ext_value(cert, "1.3.6.1.4.1.3704.1.4");
  if (!os) return NULL;
  const unsigned char *p = ASN1_STRING_get0_data(os);
  long len = ASN1_STRING_length(os);
  if (len == 64) {
    memcpy(v->hwid, p, 64);
    v->has_hwid = true;
    return NULL;
  }
  ASN1_OCTET_STRING *in = d2i_ASN1_OCTET_STRING(NULL, &p, len);
  tr_err *e = NULL;
  if (in && ASN1_STRING_length(in) == 64) {
    memcpy(v->hwid, ASN1_STRING_get0_data(in), 64);
    v->has_hwid = true;
  } else {
    e = tr_err_new(TR_E_INVALID, "VEK hwID extension is not 64 bytes");
  }
  ASN1_OCTET_STRING_free(in);
  return e;
}

static void subject_cn(X509 *cert, char *out, size_t n) {
  out[0] = 0;
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, out, (int)n);
}

/* ---- chain --------------------------------------------------------------- */

static tr_err *check_signed_by(X509 *child, X509 *parent, const char *child_role, const char *parent_role) {
  if (X509_verify(child, X509_get0_pubkey(parent)) == 1) return NULL;
  char a[64], b[64];
  subject_cn(child, a, sizeof(a));
  subject_cn(parent, b, sizeof(b));
  return tr_err_new(TR_E_VERIFY, "%s `%s` is not signed by %s `%s`", child_role, a, parent_role, b);
}

static tr_err *build_vek(tr_snp_ctx *c, tr_snp_gen gen, tr_snp_vek_type type, const uint8_t *vek_b,
                         size_t vek_len, const uint8_t *ask_b, size_t ask_len, const uint8_t *ark_b,
                         size_t ark_len, tr_snp_vek **out) {
  const char *vname = type == TR_SNP_VLEK ? "VLEK" : "VCEK";
  X509 *vek = NULL, *ask = NULL, *ark = NULL;
  tr_err *e = parse_cert(vek_b, vek_len, vname, &vek);
  if (!e && ask_b) e = parse_cert(ask_b, ask_len, type == TR_SNP_VLEK ? "ASVK" : "ASK", &ask);
  if (!e && ark_b) e = parse_cert(ark_b, ark_len, "ARK", &ark);
  X509 *builtin_ark = c->roots[gen - 1][1];
  if (!e && ark) {
    if (X509_verify(ark, X509_get0_pubkey(builtin_ark)) != 1)
      e = tr_err_new(TR_E_VERIFY, "Provided ARK has an invalid signature (not the AMD %s ARK)",
                     tr_snp_gen_name(gen));
  }
  X509 *use_ark = ark ? ark : builtin_ark;
  X509 *use_ask = ask ? ask : c->roots[gen - 1][type == TR_SNP_VLEK ? 2 : 0];
  if (!e) e = check_signed_by(use_ark, use_ark, "ARK", "itself");
  if (!e) e = check_signed_by(use_ask, use_ark, type == TR_SNP_VLEK ? "ASVK" : "ASK", "ARK");
  if (!e) e = check_signed_by(vek, use_ask, vname, type == TR_SNP_VLEK ? "ASVK" : "ASK");
  tr_snp_vek *v = NULL;
  if (!e) {
    EVP_PKEY *pk = X509_get0_pubkey(vek);
    char group[32] = "";
    size_t glen = 0;
    if (!pk || EVP_PKEY_get_base_id(pk) != EVP_PKEY_EC ||
        !EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), &glen) ||
        strcmp(group, "secp384r1") != 0)
      e = tr_err_new(TR_E_VERIFY, "%s public key is not an ECDSA P-384 key", vname);
  }
  if (!e) {
    v = calloc(1, sizeof(*v));
    if (!v) e = tr_err_new(TR_E_NOMEM, "out of memory");
  }
  if (!e) {
    v->refs = 1;
    v->cert = vek;
    vek = NULL;
    v->pkey = X509_get0_pubkey(v->cert);
    v->gen = gen;
    v->type = type;
    subject_cn(v->cert, v->cn, sizeof(v->cn));
    v->bl_spl = ext_u8(v->cert, "1.3.6.1.4.1.3704.1.3.1");
    v->tee_spl = ext_u8(v->cert, "1.3.6.1.4.1.3704.1.3.2");
    v->snp_spl = ext_u8(v->cert, "1.3.6.1.4.1.3704.1.3.3");
    v->ucode_spl = ext_u8(v->cert, "1.3.6.1.4.1.3704.1.3.8");
    v->fmc_spl = ext_u8(v->cert, "1.3.6.1.4.1.3704.1.3.9");
    e = ext_hwid(v->cert, v);
  }
  X509_free(vek);
  X509_free(ask);
  X509_free(ark);
  if (e) {
    tr_snp_vek_unref(v);
    return e;
  }
  *out = v;
  return NULL;
}

tr_err *tr_snp_vek_verify(tr_snp_ctx *c, tr_snp_gen gen, tr_snp_vek_type type, const uint8_t *vek,
                          size_t vek_len, const uint8_t *ask, size_t ask_len, const uint8_t *ark,
                          size_t ark_len, tr_snp_vek **out) {
  *out = NULL;
  if (gen < TR_SNP_MILAN || gen > TR_SNP_TURIN) return tr_err_new(TR_E_INTERNAL, "no processor generation");
  uint8_t key[32];
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  uint8_t hdr[2] = {(uint8_t)gen, (uint8_t)type};
  uint64_t lens[3] = {vek_len, ask ? ask_len : 0, ark ? ark_len : 0};
  unsigned int klen = 0;
  if (!md || !EVP_DigestInit_ex(md, EVP_sha256(), NULL) || !EVP_DigestUpdate(md, hdr, 2) ||
      !EVP_DigestUpdate(md, lens, sizeof(lens)) || !EVP_DigestUpdate(md, vek, vek_len) ||
      (ask && !EVP_DigestUpdate(md, ask, ask_len)) || (ark && !EVP_DigestUpdate(md, ark, ark_len)) ||
      !EVP_DigestFinal_ex(md, key, &klen)) {
    EVP_MD_CTX_free(md);
    return tr_err_new(TR_E_CRYPTO, "SHA-256 failed");
  }
  EVP_MD_CTX_free(md);
  tr_snp_vek *v = cache_get(c, key);
  if (v) {
    atomic_fetch_add(&c->hits, 1);
    *out = v;
    return NULL;
  }
  tr_err *e = build_vek(c, gen, type, vek, vek_len, ask, ask_len, ark, ark_len, &v);
  if (e) return e;
  atomic_fetch_add(&c->verified, 1);
  cache_put(c, key, v);
  *out = v;
  return NULL;
}

/* ---- report checks ------------------------------------------------------- */

tr_err *tr_snp_verify_signature(const tr_snp_report *r, const tr_snp_vek *v) {
  /* The signed header must describe the signature being checked. */
  if (r->sig_algo != 1)
    return tr_err_new(TR_E_VERIFY, "report signature algorithm is %u, not 1 (ECDSA P-384 with SHA-384)",
                      r->sig_algo);
  unsigned signing_key = (r->key_info >> 2) & 7; /* 0 VCEK, 1 VLEK, 7 none */
  if (signing_key == 7) return tr_err_new(TR_E_VERIFY, "KEY_INFO.SIGNING_KEY says the report is not signed");
  if (signing_key != (v->type == TR_SNP_VLEK ? 1u : 0u))
    return tr_err_new(
        TR_E_VERIFY,
        "KEY_INFO.SIGNING_KEY says the report is signed by the %s, but the certificate given is a %s",
        signing_key == 0   ? "VCEK"
        : signing_key == 1 ? "VLEK"
                           : "reserved key type",
        v->type == TR_SNP_VLEK ? "VLEK" : "VCEK");
  uint8_t digest[48];
  unsigned int dlen = 0;
  if (!EVP_Digest(r->raw, TR_SNP_SIGNED_LEN, digest, &dlen, EVP_sha384(), NULL))
    return tr_err_new(TR_E_CRYPTO, "SHA-384 failed");
  ECDSA_SIG *sig = ECDSA_SIG_new();
  BIGNUM *br = BN_lebin2bn(TR_SNP_SIG_R(r), 72, NULL), *bs = BN_lebin2bn(TR_SNP_SIG_S(r), 72, NULL);
  unsigned char *der = NULL;
  int der_len = -1;
  if (sig && br && bs && ECDSA_SIG_set0(sig, br, bs)) {
    br = bs = NULL;
    der_len = i2d_ECDSA_SIG(sig, &der);
  }
  BN_free(br);
  BN_free(bs);
  ECDSA_SIG_free(sig);
  if (der_len <= 0) return tr_err_new(TR_E_CRYPTO, "cannot encode the report signature");
  EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new(v->pkey, NULL);
  int ok =
      pc && EVP_PKEY_verify_init(pc) == 1 && EVP_PKEY_verify(pc, der, (size_t)der_len, digest, dlen) == 1;
  EVP_PKEY_CTX_free(pc);
  OPENSSL_free(der);
  if (!ok)
    return tr_err_new(TR_E_VERIFY, "report signature does not verify with the %s",
                      v->type == TR_SNP_VLEK ? "VLEK" : "VCEK");
  return NULL;
}

static tr_err *check_spl(int ext, uint8_t reported, const char *what, const char *oid) {
  if (ext == -1) return tr_err_new(TR_E_VERIFY, "VEK lacks the %s SPL extension (%s)", what, oid);
  if (ext == -2)
    return tr_err_new(TR_E_VERIFY, "VEK %s SPL extension (%s) is not an integer 0..255", what, oid);
  if (ext != reported)
    return tr_err_new(TR_E_VERIFY, "%s version mismatch: REPORTED_TCB has %u, VEK certifies %d", what,
                      reported, ext);
  return NULL;
}

tr_err *tr_snp_verify_tcb(const tr_snp_report *r, const tr_snp_vek *v, bool check_fmc) {
  tr_err *e;
  /* hwID vs CHIP_ID (upstream never compares: it looks for CN "VCEK" but
   * AMD's certificates say "SEV-VCEK"). A platform configured with
   * MASK_CHIP_ID (SNP_CONFIG) reports CHIP_ID as zero and KEY_INFO does not
   * say so (its bit 1 is MASK_CHIP_KEY, which means the VCEK is not used at
   * all): an all-zero CHIP_ID has nothing to compare. This weakens nothing —
   * the VCEK is unique to its chip, so its signature already identifies it. */
  static const uint8_t zero[64];
  bool masked = memcmp(TR_SNP_CHIP_ID(r), zero, 64) == 0;
  if (v->has_hwid && !masked && memcmp(v->hwid, TR_SNP_CHIP_ID(r), 64) != 0)
    return tr_err_new(TR_E_VERIFY, "Chip ID mismatch: the report's CHIP_ID is not the VCEK's hwID");
  const tr_snp_tcb *t = &r->reported_tcb;
  if ((e = check_spl(v->ucode_spl, t->microcode, "Microcode", "1.3.6.1.4.1.3704.1.3.8"))) return e;
  if ((e = check_spl(v->snp_spl, t->snp, "SNP", "1.3.6.1.4.1.3704.1.3.3"))) return e;
  if ((e = check_spl(v->tee_spl, t->tee, "TEE", "1.3.6.1.4.1.3704.1.3.2"))) return e;
  if ((e = check_spl(v->bl_spl, t->bootloader, "Boot loader", "1.3.6.1.4.1.3704.1.3.1"))) return e;
  if (check_fmc && (e = check_spl(v->fmc_spl, t->fmc, "FMC", "1.3.6.1.4.1.3704.1.3.9"))) return e;
  return NULL;
}
