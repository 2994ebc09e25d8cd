/* quote.c — bounded parser of Intel DCAP quotes (SGX v3, TDX v4 and v5).
 *
 * Layout (little-endian, Intel's "Quote Generation Library" spec):
 *   header[48]: version u16, att_key_type u16, tee_type u32, reserved[4],
 *               qe_vendor_id[16], user_data[20]
 *   v3: SGX report body[384];            v4: TD report body[584];
 *   v5: body_type u16, body_size u32, body[body_size] (2: TD 1.0, 3: TD 1.5)
 *   sig_data_len u32, then the signature data:
 *     quote signature r||s[64], attestation key x||y[64],
 *     v3:    QE report[384], QE report sig[64], qe_auth_len u16, qe_auth,
 *            cert type u16 (= 5), size u32, PCK chain (PEM)
 *     v4/v5: cert type u16 (= 6) + size u32 wrapping exactly that same
 *            v3 tail (QE report ... PCK chain).
 * Nothing is trusted here; every length is checked against what remains. */
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <string.h>

#include <pthread.h>

#include "verifier/dcap/dcap_internal.h"

static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t le32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The QE report certification data (type 6 content, or the v3 tail). */
static tr_err *parse_qe_cert_data(const uint8_t *p, size_t n, tr_dcap_quote *q) {
  if (n < TR_DCAP_REPORT_LEN + 64 + 2)
    return tr_err_new(TR_E_INVALID, "quote: QE report certification data truncated (%zu bytes)", n);
  q->qe_report = p;
  q->qe_report_sig = p + TR_DCAP_REPORT_LEN;
  size_t off = TR_DCAP_REPORT_LEN + 64;
  q->qe_auth_len = le16(p + off);
  off += 2;
  if (n - off < q->qe_auth_len) return tr_err_new(TR_E_INVALID, "quote: QE authentication data truncated");
  q->qe_auth = p + off;
  off += q->qe_auth_len;
  if (n - off < 6) return tr_err_new(TR_E_INVALID, "quote: PCK certification data header truncated");
  uint16_t type = le16(p + off);
  uint32_t size = le32(p + off + 2);
  off += 6;
  if (type != 5)
    return tr_err_new(TR_E_UNSUPPORTED,
                      "quote: certification data type %u is not supported (expected 5: PCK chain)", type);
  if (n - off < size) return tr_err_new(TR_E_INVALID, "quote: PCK certificate chain truncated");
  q->pck_chain = p + off;
  q->pck_chain_len = size;
  /* Trailing NULs after the PEM are common; strip them. */
  while (q->pck_chain_len && q->pck_chain[q->pck_chain_len - 1] == 0)
    q->pck_chain_len--;
  return NULL;
}

tr_err *tr_dcap_quote_parse(const uint8_t *d, size_t n, tr_dcap_quote *q) {
  memset(q, 0, sizeof(*q));
  q->raw = d;
  q->len = n;
  if (!d || n < TR_DCAP_HEADER_LEN)
    return tr_err_new(TR_E_INVALID, "quote: %zu bytes is shorter than its header", n);
  q->version = le16(d);
  q->att_key_type = le16(d + 2);
  q->tee_type = le32(d + 4);
  size_t off = TR_DCAP_HEADER_LEN;
  if (q->version == 3) {
    if (q->tee_type != TR_DCAP_TEE_SGX)
      return tr_err_new(TR_E_INVALID, "quote v3: TEE type 0x%x is not SGX", q->tee_type);
    q->body_type = 1;
    q->body_len = TR_DCAP_REPORT_LEN;
  } else if (q->version == 4) {
    if (q->tee_type != TR_DCAP_TEE_TDX)
      return tr_err_new(TR_E_UNSUPPORTED, "quote v4: TEE type 0x%x is not supported (only TDX)", q->tee_type);
    q->body_type = 2;
    q->body_len = TR_DCAP_TD10_LEN;
  } else if (q->version == 5) {
    if (q->tee_type != TR_DCAP_TEE_TDX)
      return tr_err_new(TR_E_UNSUPPORTED, "quote v5: TEE type 0x%x is not supported (only TDX)", q->tee_type);
    if (n - off < 6) return tr_err_new(TR_E_INVALID, "quote v5: body descriptor truncated");
    q->body_type = le16(d + off);
    q->v5_size = d + off + 2;
    uint32_t size = le32(d + off + 2);
    off += 6;
    if (q->body_type == 2 && size == TR_DCAP_TD10_LEN)
      q->body_len = TR_DCAP_TD10_LEN;
    else if (q->body_type == 3 && size == TR_DCAP_TD15_LEN)
      q->body_len = TR_DCAP_TD15_LEN;
    else
      return tr_err_new(TR_E_INVALID,
                        "quote v5: body type %u with size %u is not a TD report (2/584 or 3/648)",
                        q->body_type, size);
  } else {
    return tr_err_new(TR_E_UNSUPPORTED, "quote version %u is not supported (expected 3, 4 or 5)", q->version);
  }
  if (q->att_key_type != 2)
    return tr_err_new(TR_E_UNSUPPORTED,
                      "quote: attestation key type %u is not supported (expected 2: ECDSA P-256)",
                      q->att_key_type);
  if (n - off < q->body_len + 4) return tr_err_new(TR_E_INVALID, "quote: report body truncated");
  q->body = d + off;
  off += q->body_len;
  q->signed_len = off;
  uint32_t sig_len = le32(d + off);
  off += 4;
  if (n - off < sig_len)
    return tr_err_new(TR_E_INVALID, "quote: signature data (%u bytes) truncated", sig_len);
  const uint8_t *s = d + off;
  size_t sn = sig_len;
  if (sn < 128) return tr_err_new(TR_E_INVALID, "quote: signature data too short");
  q->sig = s;
  q->att_key = s + 64;
  s += 128;
  sn -= 128;
  if (q->version == 3) return parse_qe_cert_data(s, sn, q);
  if (sn < 6) return tr_err_new(TR_E_INVALID, "quote: certification data header truncated");
  uint16_t type = le16(s);
  uint32_t size = le32(s + 2);
  if (type != 6)
    return tr_err_new(TR_E_UNSUPPORTED,
                      "quote: certification data type %u is not supported (expected 6: QE report)", type);
  if (sn - 6 < size) return tr_err_new(TR_E_INVALID, "quote: QE report certification data truncated");
  return parse_qe_cert_data(s + 6, size, q);
}

/* ---- ECDSA P-256 with raw r||s signatures and raw x||y keys ----------------------- */

static const uint8_t P256_SPKI_PREFIX[] = {0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48,
                                           0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48,
                                           0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04};

/* DER ECDSA-Sig-Value from r||s (each INTEGER minimal, positive). */
static size_t der_int(uint8_t *out, const uint8_t *v, size_t n) {
  while (n > 1 && v[0] == 0) {
    v++;
    n--;
  }
  size_t pad = (v[0] & 0x80) ? 1 : 0;
  out[0] = 0x02;
  out[1] = (uint8_t)(n + pad);
  if (pad) out[2] = 0;
  memcpy(out + 2 + pad, v, n);
  return 2 + pad + n;
}

static EVP_MD *g_sha256;
static pthread_once_t g_sha_once = PTHREAD_ONCE_INIT;
static void fetch_sha256(void) { g_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL); }

const EVP_MD *tr_dcap_sha256(void) {
  pthread_once(&g_sha_once, fetch_sha256);
  return g_sha256 ? g_sha256 : EVP_sha256();
}

tr_err *tr_dcap_ecdsa_verify_pkey(EVP_PKEY *pk, const uint8_t *msg, size_t len, const uint8_t sig_rs[64]) {
  uint8_t der[80], dg[32];
  size_t l = der_int(der + 2, sig_rs, 32);
  l += der_int(der + 2 + l, sig_rs + 32, 32);
  der[0] = 0x30;
  der[1] = (uint8_t)l;
  unsigned int dl = 0;
  if (EVP_Digest(msg, len, dg, &dl, tr_dcap_sha256(), NULL) != 1)
    return tr_err_new(TR_E_CRYPTO, "SHA-256 failed");
  EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(pk, NULL);
  if (!ctx) return tr_err_new(TR_E_NOMEM, "out of memory");
  int ok = EVP_PKEY_verify_init(ctx) == 1 && EVP_PKEY_verify(ctx, der, l + 2, dg, sizeof(dg)) == 1;
  EVP_PKEY_CTX_free(ctx);
  if (!ok) {
    ERR_clear_error();
    return tr_err_new(TR_E_VERIFY, "ECDSA P-256 signature does not verify");
  }
  return NULL;
}

tr_err *tr_dcap_p256_pubkey(const uint8_t xy[64], EVP_PKEY **out) {
  uint8_t spki[sizeof(P256_SPKI_PREFIX) + 64];
  memcpy(spki, P256_SPKI_PREFIX, sizeof(P256_SPKI_PREFIX));
  memcpy(spki + sizeof(P256_SPKI_PREFIX), xy, 64);
  const unsigned char *p = spki;
  *out = d2i_PUBKEY(NULL, &p, (long)sizeof(spki));
  if (!*out) {
    ERR_clear_error();
    return tr_err_new(TR_E_VERIFY, "attestation key is not a P-256 point");
  }
  return NULL;
}

tr_err *tr_dcap_ecdsa_p256_verify(const uint8_t pub_xy[64], const uint8_t *msg, size_t len,
                                  const uint8_t sig_rs[64]) {
  EVP_PKEY *pk = NULL;
  tr_err *e = tr_dcap_p256_pubkey(pub_xy, &pk);
  if (e) return e;
  e = tr_dcap_ecdsa_verify_pkey(pk, msg, len, sig_rs);
  EVP_PKEY_free(pk);
  return e;
}
