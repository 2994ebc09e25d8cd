/* x509.c — certificate parsing, chain verification and extension lookup.
 *
 * A tr_x509_store wraps an X509_STORE that is filled at start-up and then
 * only read: every verification builds its own X509_STORE_CTX and sets its
 * flags and time on the context's own parameters, never on the shared store,
 * so concurrent verifications do not interfere (OpenSSL 3 locks the store's
 * lookups internally).
 *
 * Extensions are looked up by dotted OID and must be unique (as upstream's
 * get_extension_unique). AMD VCEK TCB fields are DER INTEGERs inside the
 * extnValue (020103 = 3; 020200A9 = 169); hwID is a DER OCTET STRING in new
 * certificates and the raw 64 bytes in older ones (tr_x509_ext_octets). */
#include "crypto/x509.h"

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/encoding.h"
#include "crypto/internal.h"

struct tr_x509_store {
  X509_STORE *st;
};

void tr_x509_stack_free(STACK_OF(X509) * sk) { sk_X509_pop_free(sk, X509_free); }

/* PEM unless the input starts like DER (see tr_looks_der): PEM may follow
 * explanatory text, but DER with PEM inside or after it stays DER. */
static bool is_pem(const void *data, size_t len) {
  return !tr_looks_der(data, len) && memmem(data, len, "-----BEGIN ", 11) != NULL;
}

/* Exactly one DER certificate (x5c entries, RFC 7515 §4.1.6). */
static tr_err *parse_der(const void *data, size_t len, X509 **out) {
  const unsigned char *p = data;
  *out = d2i_X509(NULL, &p, (long)len);
  if (!*out) return tr_ossl_err(TR_E_INVALID, "certificate: invalid DER");
  if (p != (const unsigned char *)data + len) {
    X509_free(*out);
    *out = NULL;
    return tr_err_new(TR_E_INVALID, "certificate: %zu trailing bytes after the DER certificate",
                      len - (size_t)(p - (const unsigned char *)data));
  }
  return NULL;
}

tr_err *tr_x509_parse(const void *data, size_t len, X509 **out) {
  *out = NULL;
  if (len == 0 || len > INT32_MAX) return tr_err_new(TR_E_INVALID, "certificate: empty or too large input");
  if (is_pem(data, len)) {
    BIO *b = BIO_new_mem_buf(data, (int)len);
    *out = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    if (!*out) return tr_ossl_err(TR_E_INVALID, "certificate: invalid PEM");
    return NULL;
  }
  return parse_der(data, len, out);
}

tr_err *tr_x509_parse_bundle(const void *data, size_t len, STACK_OF(X509) * *out) {
  *out = NULL;
  if (len == 0 || len > INT32_MAX) return tr_err_new(TR_E_INVALID, "certificates: empty or too large input");
  STACK_OF(X509) *sk = sk_X509_new_null();
  if (!sk) return tr_err_new(TR_E_NOMEM, "out of memory");
  if (!is_pem(data, len)) {
    X509 *c = NULL;
    tr_err *e = tr_x509_parse(data, len, &c);
    if (e || !sk_X509_push(sk, c)) {
      X509_free(c);
      sk_X509_free(sk);
      return e ? e : tr_err_new(TR_E_NOMEM, "out of memory");
    }
    *out = sk;
    return NULL;
  }
  BIO *b = BIO_new_mem_buf(data, (int)len);
  for (;;) {
    ERR_set_mark();
    X509 *c = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
    if (!c) {
      unsigned long ec = ERR_peek_last_error();
      bool end = b && ERR_GET_LIB(ec) == ERR_LIB_PEM && ERR_GET_REASON(ec) == PEM_R_NO_START_LINE;
      ERR_pop_to_mark();
      if (end && sk_X509_num(sk) > 0) break;
      int idx = sk_X509_num(sk) + 1;
      BIO_free(b);
      tr_x509_stack_free(sk);
      return end ? tr_err_new(TR_E_INVALID, "certificates: no PEM certificate found")
                 : tr_err_new(TR_E_INVALID, "certificates: PEM certificate %d is invalid", idx);
    }
    ERR_pop_to_mark();
    if (!sk_X509_push(sk, c)) {
      X509_free(c);
      BIO_free(b);
      tr_x509_stack_free(sk);
      return tr_err_new(TR_E_NOMEM, "out of memory");
    }
  }
  BIO_free(b);
  *out = sk;
  return NULL;
}

tr_err *tr_x509_load_file(const char *path, STACK_OF(X509) * *out) {
  uint8_t *data = NULL;
  size_t len = 0;
  *out = NULL;
  tr_err *e = tr_read_file(path, 16u << 20, &data, &len); /* names the path itself */
  if (e) return e;
  e = tr_x509_parse_bundle(data, len, out);
  free(data);
  return e ? tr_err_wrap(e, "%s", path) : NULL;
}

tr_err *tr_x509_parse_crl(const void *data, size_t len, X509_CRL **out) {
  *out = NULL;
  if (len == 0 || len > INT32_MAX) return tr_err_new(TR_E_INVALID, "CRL: empty or too large input");
  if (is_pem(data, len)) {
    BIO *b = BIO_new_mem_buf(data, (int)len);
    *out = b ? PEM_read_bio_X509_CRL(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
  } else {
    const unsigned char *p = data;
    *out = d2i_X509_CRL(NULL, &p, (long)len);
    if (*out && p != (const unsigned char *)data + len) {
      X509_CRL_free(*out);
      *out = NULL;
    }
  }
  return *out ? NULL : tr_ossl_err(TR_E_INVALID, "CRL: invalid %s", is_pem(data, len) ? "PEM" : "DER");
}

tr_err *tr_x509_parse_x5c(const json_t *x5c, X509 **leaf, STACK_OF(X509) * *rest) {
  *leaf = NULL;
  *rest = NULL;
  if (!json_is_array(x5c) || json_array_size(x5c) == 0)
    return tr_err_new(TR_E_INVALID, "x5c: expected a non-empty array");
  STACK_OF(X509) *sk = sk_X509_new_null();
  if (!sk) return tr_err_new(TR_E_NOMEM, "out of memory");
  for (size_t i = 0; i < json_array_size(x5c); i++) {
    json_t *v = json_array_get(x5c, i);
    if (!json_is_string(v)) {
      tr_x509_stack_free(sk);
      X509_free(*leaf);
      *leaf = NULL;
      return tr_err_new(TR_E_INVALID, "x5c[%zu]: expected string", i);
    }
    /* upstream strips newlines and accepts std base64, then base64url */
    tr_buf clean = TR_BUF_INIT;
    const char *s = json_string_value(v);
    for (size_t j = 0; s[j]; j++)
      if (s[j] != '\n' && s[j] != '\r' && !tr_buf_append_byte(&clean, (uint8_t)s[j])) break;
    uint8_t *der = NULL;
    size_t n = 0;
    X509 *c = NULL;
    const char *txt = clean.data ? (const char *)clean.data : "";
    tr_err *e = tr_b64_decode(txt, clean.len, TR_B64_STD, &der, &n);
    if (e) {
      tr_err_free(e);
      e = tr_b64_decode(txt, clean.len, TR_B64_URL_NOPAD, &der, &n);
    }
    tr_buf_free(&clean);
    if (!e) e = n && n <= INT32_MAX ? parse_der(der, n, &c) : tr_err_new(TR_E_INVALID, "certificate: empty");
    free(der);
    if (e) {
      tr_x509_stack_free(sk);
      X509_free(*leaf);
      *leaf = NULL;
      return tr_err_wrap(e, "x5c[%zu]", i);
    }
    if (i == 0) {
      *leaf = c;
    } else if (!sk_X509_push(sk, c)) {
      X509_free(c);
      tr_x509_stack_free(sk);
      X509_free(*leaf);
      *leaf = NULL;
      return tr_err_new(TR_E_NOMEM, "out of memory");
    }
  }
  *rest = sk;
  return NULL;
}

/* ---- store ---------------------------------------------------------------- */

tr_err *tr_x509_store_new(tr_x509_store **out) {
  *out = NULL;
  tr_x509_store *s = calloc(1, sizeof *s);
  if (!s || !(s->st = X509_STORE_new())) {
    free(s);
    return tr_err_new(TR_E_NOMEM, "out of memory");
  }
  *out = s;
  return NULL;
}

void tr_x509_store_free(tr_x509_store *s) {
  if (!s) return;
  X509_STORE_free(s->st);
  free(s);
}

tr_err *tr_x509_store_add(tr_x509_store *s, X509 *cert) {
  if (X509_STORE_add_cert(s->st, cert) != 1) {
    unsigned long ec = ERR_peek_last_error();
    if (ERR_GET_REASON(ec) == X509_R_CERT_ALREADY_IN_HASH_TABLE) {
      ERR_clear_error();
      return NULL;
    }
    return tr_ossl_err(TR_E_CRYPTO, "trust store: adding a certificate failed");
  }
  return NULL;
}

tr_err *tr_x509_store_add_pem(tr_x509_store *s, const void *pem, size_t len) {
  STACK_OF(X509) *sk = NULL;
  tr_err *e = tr_x509_parse_bundle(pem, len, &sk);
  for (int i = 0; !e && i < sk_X509_num(sk); i++)
    e = tr_x509_store_add(s, sk_X509_value(sk, i));
  tr_x509_stack_free(sk);
  return e;
}

tr_err *tr_x509_store_add_crl(tr_x509_store *s, X509_CRL *crl) {
  if (X509_STORE_add_crl(s->st, crl) != 1)
    return tr_ossl_err(TR_E_CRYPTO, "trust store: adding a CRL failed");
  return NULL;
}

char *tr_x509_subject(X509 *cert) {
  BIO *b = BIO_new(BIO_s_mem());
  char *data = NULL, *out = NULL;
  if (b && X509_NAME_print_ex(b, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253) >= 0) {
    long n = BIO_get_mem_data(b, &data);
    if (n >= 0 && (out = malloc((size_t)n + 1))) {
      memcpy(out, data, (size_t)n);
      out[n] = 0;
    }
  }
  BIO_free(b);
  return out;
}

tr_err *tr_x509_verify_chain(const tr_x509_store *s, X509 *leaf, STACK_OF(X509) * untrusted,
                             const tr_x509_verify_opts *opts) {
  static const tr_x509_verify_opts defaults = {.check_time = true};
  if (!opts) opts = &defaults;
  if (!leaf) return tr_err_new(TR_E_INVALID, "certificate chain: no leaf certificate");
  X509_STORE_CTX *ctx = X509_STORE_CTX_new();
  if (!ctx || X509_STORE_CTX_init(ctx, s->st, leaf, untrusted) != 1) {
    X509_STORE_CTX_free(ctx);
    return tr_ossl_err(TR_E_NOMEM, "certificate chain: context setup failed");
  }
  X509_VERIFY_PARAM *param = X509_STORE_CTX_get0_param(ctx);
  unsigned long flags = 0;
  if (!opts->check_time)
    flags |= X509_V_FLAG_NO_CHECK_TIME;
  else if (opts->at_time)
    X509_VERIFY_PARAM_set_time(param, (time_t)opts->at_time);
  if (opts->check_crl) flags |= X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL;
  if (opts->allow_partial) flags |= X509_V_FLAG_PARTIAL_CHAIN;
  X509_VERIFY_PARAM_set_flags(param, flags);
  tr_err *e = NULL;
  if (X509_verify_cert(ctx) != 1) {
    int code = X509_STORE_CTX_get_error(ctx);
    int depth = X509_STORE_CTX_get_error_depth(ctx);
    X509 *bad = X509_STORE_CTX_get_current_cert(ctx);
    char *subj = tr_x509_subject(bad ? bad : leaf);
    e = tr_err_new(code == X509_V_ERR_CERT_HAS_EXPIRED ? TR_E_EXPIRED : TR_E_VERIFY,
                   "certificate chain: `%s` (depth %d): %s", subj ? subj : "?", depth,
                   X509_verify_cert_error_string(code));
    free(subj);
    ERR_clear_error();
  }
  X509_STORE_CTX_free(ctx);
  return e;
}

tr_err *tr_x509_verify_sm2_signed(X509 *cert, X509 *issuer, const char *id) {
  if (!id) id = "1234567812345678";
  EVP_PKEY *pk = X509_get0_pubkey(issuer);
  if (!pk || !EVP_PKEY_is_a(pk, "SM2")) return tr_err_new(TR_E_INVALID, "SM2: issuer key is not an SM2 key");
  /* X509_verify with a distinguishing ID works on a copy so the caller's
   * certificate (possibly shared) is not modified. */
  X509 *dup = X509_dup(cert);
  ASN1_OCTET_STRING *dist = ASN1_OCTET_STRING_new();
  tr_err *e = NULL;
  if (!dup || !dist || !ASN1_OCTET_STRING_set(dist, (const unsigned char *)id, (int)strlen(id))) {
    ASN1_OCTET_STRING_free(dist);
    e = tr_err_new(TR_E_NOMEM, "out of memory");
  } else {
    X509_set0_distinguishing_id(dup, dist);
    if (X509_verify(dup, pk) != 1) {
      char *subj = tr_x509_subject(cert);
      e = tr_ossl_err(TR_E_VERIFY, "SM2: signature of `%s` does not verify with the issuer key",
                      subj ? subj : "?");
      free(subj);
    }
  }
  X509_free(dup);
  return e;
}

/* ---- extensions ---------------------------------------------------------------- */

tr_err *tr_x509_ext_by_oid(X509 *cert, const char *oid, const uint8_t **der, size_t *len) {
  ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
  if (!obj) {
    ERR_clear_error();
    return tr_err_new(TR_E_INVALID, "certificate extension: invalid OID `%s`", oid);
  }
  int idx = X509_get_ext_by_OBJ(cert, obj, -1);
  int again = idx >= 0 ? X509_get_ext_by_OBJ(cert, obj, idx) : -1;
  ASN1_OBJECT_free(obj);
  if (idx < 0) return tr_err_new(TR_E_NOTFOUND, "certificate extension %s not found", oid);
  if (again >= 0) return tr_err_new(TR_E_INVALID, "certificate extension %s appears more than once", oid);
  ASN1_OCTET_STRING *data = X509_EXTENSION_get_data(X509_get_ext(cert, idx));
  *der = ASN1_STRING_get0_data(data);
  *len = (size_t)ASN1_STRING_length(data);
  return NULL;
}

tr_err *tr_x509_ext_int(X509 *cert, const char *oid, int64_t *out) {
  const uint8_t *der = NULL;
  size_t len = 0;
  tr_err *e = tr_x509_ext_by_oid(cert, oid, &der, &len);
  if (e) return e;
  const unsigned char *p = der;
  ASN1_INTEGER *ai = d2i_ASN1_INTEGER(NULL, &p, (long)len);
  bool whole = ai && p == der + len;
  int ok = whole ? ASN1_INTEGER_get_int64(out, ai) : 0;
  ASN1_INTEGER_free(ai);
  if (ok != 1) {
    ERR_clear_error();
    return tr_err_new(TR_E_INVALID, "certificate extension %s: not a DER INTEGER that fits 64 bits", oid);
  }
  return NULL;
}

tr_err *tr_x509_ext_octets(X509 *cert, const char *oid, size_t raw_len, const uint8_t **out, size_t *len) {
  const uint8_t *der = NULL;
  size_t n = 0;
  tr_err *e = tr_x509_ext_by_oid(cert, oid, &der, &n);
  if (e) return e;
  if (raw_len && n == raw_len) {
    *out = der;
    *len = n;
    return NULL;
  }
  /* DER OCTET STRING: 04, definite length (short or long form), content */
  if (n >= 2 && der[0] == 0x04) {
    size_t hl = 2, cl = der[1];
    if (der[1] & 0x80) {
      size_t nb = der[1] & 0x7f;
      if (nb == 0 || nb > 4 || n < 2 + nb) goto bad;
      cl = 0;
      for (size_t i = 0; i < nb; i++)
        cl = cl << 8 | der[2 + i];
      hl = 2 + nb;
    }
    if (hl + cl == n) {
      *out = der + hl;
      *len = cl;
      return NULL;
    }
  }
bad:
  return tr_err_new(TR_E_INVALID, "certificate extension %s: not a DER OCTET STRING%s", oid,
                    raw_len ? " nor raw bytes of the expected length" : "");
}
