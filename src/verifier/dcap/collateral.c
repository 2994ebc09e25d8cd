/* collateral.c — Intel DCAP collateral: TCB info, QE identity, PCK CRL and
 * root CA CRL, each with its issuer chain.
 *
 * Authenticity: the TCB info and QE identity are ECDSA-P256/SHA-256 signed
 * (raw r||s, hex) over the exact bytes of their inner JSON object; the
 * signer is the "Intel SGX TCB Signing" certificate of the issuer chain,
 * verified to the embedded Intel SGX Root CA. The root CA CRL must be signed
 * by the root, the PCK CRL by the PCK Platform/Processor CA of its issuer
 * chain (itself verified to the root), and no CA of those chains may appear
 * on the root CA CRL. Validity dates (certificates, CRLs, issueDate /
 * nextUpdate) are collected here and judged by the caller at its
 * verification time, so that one verified collateral serves many quotes. */
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/encoding.h"
#include "core/json.h"
#include "core/time.h"
#include "crypto/x509.h"
#include "verifier/dcap/dcap_internal.h"
#include "verifier/intel_roots/intel_roots.h"

void tr_dcap_collateral_raw_clear(tr_dcap_collateral_raw *c) {
  if (!c) return;
  free(c->pck_crl_issuer_chain);
  free(c->pck_crl);
  free(c->root_ca_crl);
  free(c->tcb_info_issuer_chain);
  free(c->tcb_info);
  free(c->qe_identity_issuer_chain);
  free(c->qe_identity);
  memset(c, 0, sizeof(*c));
}

static tr_err *get_str(const json_t *b, const char *k, char **out) {
  const char *s;
  tr_err *e = tr_json_get_string(b, "collateral", k, &s);
  if (e) return e;
  *out = strdup(s);
  return *out ? NULL : tr_err_new(TR_E_NOMEM, "out of memory");
}

static tr_err *get_hex(const json_t *b, const char *k, uint8_t **out, size_t *len, size_t want) {
  const char *s;
  tr_err *e = tr_json_get_string(b, "collateral", k, &s);
  if (e) return e;
  e = tr_hex_decode(s, strlen(s), out, len);
  if (e) return tr_err_wrap(e, "collateral field `%s`", k);
  if (want && *len != want) {
    free(*out);
    *out = NULL;
    return tr_err_new(TR_E_INVALID, "collateral field `%s`: %zu bytes, expected %zu", k, *len, want);
  }
  return NULL;
}

tr_err *tr_dcap_collateral_raw_from_json(const json_t *b, tr_dcap_collateral_raw *c) {
  memset(c, 0, sizeof(*c));
  if (!json_is_object(b)) return tr_err_new(TR_E_INVALID, "collateral bundle: expected a JSON object");
  uint8_t *sig = NULL;
  size_t n;
  tr_err *e = get_str(b, "pck_crl_issuer_chain", &c->pck_crl_issuer_chain);
  if (!e) e = get_hex(b, "pck_crl", &c->pck_crl, &c->pck_crl_len, 0);
  if (!e) e = get_hex(b, "root_ca_crl", &c->root_ca_crl, &c->root_ca_crl_len, 0);
  if (!e) e = get_str(b, "tcb_info_issuer_chain", &c->tcb_info_issuer_chain);
  if (!e) e = get_str(b, "tcb_info", &c->tcb_info);
  if (!e && !(e = get_hex(b, "tcb_info_signature", &sig, &n, 64))) memcpy(c->tcb_info_signature, sig, 64);
  free(sig);
  sig = NULL;
  if (!e) e = get_str(b, "qe_identity_issuer_chain", &c->qe_identity_issuer_chain);
  if (!e) e = get_str(b, "qe_identity", &c->qe_identity);
  if (!e && !(e = get_hex(b, "qe_identity_signature", &sig, &n, 64)))
    memcpy(c->qe_identity_signature, sig, 64);
  free(sig);
  if (e) tr_dcap_collateral_raw_clear(c);
  return e;
}

static int put_hex(json_t *o, const char *k, const void *d, size_t n) {
  char *h = tr_hex_encode(d, n);
  int r = h ? json_object_set_new(o, k, json_string(h)) : -1;
  free(h);
  return r;
}

json_t *tr_dcap_collateral_raw_to_json(const tr_dcap_collateral_raw *c) {
  json_t *o = json_object();
  if (!o) return NULL;
  int r = json_object_set_new(o, "pck_crl_issuer_chain", json_string(c->pck_crl_issuer_chain));
  r |= put_hex(o, "root_ca_crl", c->root_ca_crl, c->root_ca_crl_len);
  r |= put_hex(o, "pck_crl", c->pck_crl, c->pck_crl_len);
  r |= json_object_set_new(o, "tcb_info_issuer_chain", json_string(c->tcb_info_issuer_chain));
  r |= json_object_set_new(o, "tcb_info", json_string(c->tcb_info));
  r |= put_hex(o, "tcb_info_signature", c->tcb_info_signature, 64);
  r |= json_object_set_new(o, "qe_identity_issuer_chain", json_string(c->qe_identity_issuer_chain));
  r |= json_object_set_new(o, "qe_identity", json_string(c->qe_identity));
  r |= put_hex(o, "qe_identity_signature", c->qe_identity_signature, 64);
  if (r) {
    json_decref(o);
    return NULL;
  }
  return o;
}

/* ---- exact text of a member of Intel's signed documents ------------------------ */

static size_t skip_ws(const char *s, size_t i, size_t n) {
  while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
    i++;
  return i;
}

/* End (exclusive) of the JSON string starting at s[i] == '"', or 0. */
static size_t skip_string(const char *s, size_t i, size_t n) {
  for (i++; i < n; i++) {
    if (s[i] == '\\')
      i++;
    else if (s[i] == '"')
      return i + 1;
  }
  return 0;
}

/* End (exclusive) of the JSON value at s[i], or 0. The text is validated by
 * jansson separately; this only finds boundaries. */
static size_t skip_value(const char *s, size_t i, size_t n) {
  if (i >= n) return 0;
  if (s[i] == '"') return skip_string(s, i, n);
  if (s[i] == '{' || s[i] == '[') {
    int depth = 0;
    for (; i < n; i++) {
      if (s[i] == '"') {
        size_t j = skip_string(s, i, n);
        if (!j) return 0;
        i = j - 1;
      } else if (s[i] == '{' || s[i] == '[') {
        depth++;
      } else if (s[i] == '}' || s[i] == ']') {
        if (--depth == 0) return i + 1;
      }
    }
    return 0;
  }
  while (i < n && s[i] != ',' && s[i] != '}' && s[i] != ']' && s[i] != ' ' && s[i] != '\n')
    i++;
  return i;
}

tr_err *tr_dcap_split_signed(const char *text, size_t len, const char *member, char **inner,
                             uint8_t sig[64]) {
  *inner = NULL;
  json_t *doc = NULL;
  tr_err *e = tr_json_parse(text, len, &doc);
  if (e) return tr_err_wrap(e, "signed %s document", member);
  const char *sig_hex;
  json_t *obj;
  e = tr_json_get_object(doc, NULL, member, &obj);
  if (!e) e = tr_json_get_string(doc, NULL, "signature", &sig_hex);
  if (!e) {
    uint8_t *raw = NULL;
    size_t n = 0;
    e = tr_hex_decode(sig_hex, strlen(sig_hex), &raw, &n);
    if (!e && n != 64) e = tr_err_new(TR_E_INVALID, "signature: %zu bytes, expected 64 (r||s)", n);
    if (!e) memcpy(sig, raw, 64);
    free(raw);
  }
  json_decref(doc);
  if (e) return tr_err_wrap(e, "signed %s document", member);
  /* Locate the member's exact bytes in the top-level object. */
  size_t i = skip_ws(text, 0, len);
  if (i >= len || text[i] != '{') return tr_err_new(TR_E_INVALID, "signed document: not an object");
  i++;
  size_t mlen = strlen(member);
  for (;;) {
    i = skip_ws(text, i, len);
    if (i >= len || text[i] != '"') break;
    size_t kend = skip_string(text, i, len);
    if (!kend) break;
    bool match = kend - i - 2 == mlen && memcmp(text + i + 1, member, mlen) == 0;
    i = skip_ws(text, kend, len);
    if (i >= len || text[i] != ':') break;
    i = skip_ws(text, i + 1, len);
    size_t vend = skip_value(text, i, len);
    if (!vend) break;
    if (match) {
      *inner = strndup(text + i, vend - i);
      return *inner ? NULL : tr_err_new(TR_E_NOMEM, "out of memory");
    }
    i = skip_ws(text, vend, len);
    if (i < len && text[i] == ',') i++;
  }
  return tr_err_new(TR_E_INVALID, "signed document: member `%s` not found", member);
}

/* ---- verification ------------------------------------------------------------------ */

int64_t tr_dcap_asn1_time(const ASN1_TIME *t) {
  struct tm tm;
  if (!t || ASN1_TIME_to_tm(t, &tm) != 1) return 0;
  return (int64_t)timegm(&tm);
}

void tr_dcap_dates_add(tr_dcap_dates *d, int64_t issue, int64_t expiry) {
  if (!d->any) {
    d->earliest_issue = d->latest_issue = issue;
    d->earliest_expiry = expiry;
    d->any = true;
    return;
  }
  if (issue < d->earliest_issue) d->earliest_issue = issue;
  if (issue > d->latest_issue) d->latest_issue = issue;
  if (expiry < d->earliest_expiry) d->earliest_expiry = expiry;
}

void tr_dcap_dates_add_cert(tr_dcap_dates *d, X509 *c) {
  tr_dcap_dates_add(d, tr_dcap_asn1_time(X509_get0_notBefore(c)), tr_dcap_asn1_time(X509_get0_notAfter(c)));
}

static const tr_x509_store *intel_store(tr_err **err) {
  const tr_x509_store *s = tr_dcap_intel_store();
  if (!s) *err = tr_err_new(TR_E_INTERNAL, "Intel SGX Root CA: the embedded certificate does not load");
  return s;
}

struct tr_dcap_collateral {
  json_t *tcb_info, *qe_identity;
  X509_CRL *pck_crl, *root_crl;
  X509 *pck_ca; /* the PCK CRL's issuer, verified */
  tr_dcap_dates dates;
  int64_t pck_crl_num, root_crl_num;
};

static tr_err *crl_number(X509_CRL *crl, int64_t *out) {
  ASN1_INTEGER *n = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL);
  *out = 0;
  if (!n) return NULL; /* optional */
  long v = ASN1_INTEGER_get(n);
  ASN1_INTEGER_free(n);
  *out = v < 0 ? 0 : v;
  return NULL;
}

bool tr_dcap_revoked(X509_CRL *crl, X509 *cert) {
  X509_REVOKED *r = NULL;
  return crl && X509_CRL_get0_by_serial(crl, &r, X509_get0_serialNumber(cert)) == 1;
}

/* Verifies an issuer chain (PEM, leaf first) to the Intel root; returns the
 * parsed stack. None of its CAs may be on the root CRL. */
static tr_err *verify_issuer_chain(const char *pem, const char *what, X509_CRL *root_crl,
                                   tr_dcap_dates *dates, STACK_OF(X509) * *out) {
  tr_err *e = NULL;
  const tr_x509_store *st = intel_store(&e);
  if (e) return e;
  STACK_OF(X509) *sk = NULL;
  e = tr_x509_parse_bundle(pem, strlen(pem), &sk);
  if (e) return tr_err_wrap(e, "%s issuer chain", what);
  if (sk_X509_num(sk) < 1) {
    tr_x509_stack_free(sk);
    return tr_err_new(TR_E_INVALID, "%s issuer chain is empty", what);
  }
  STACK_OF(X509) *rest = sk_X509_new_null();
  for (int i = 1; rest && i < sk_X509_num(sk); i++)
    sk_X509_push(rest, sk_X509_value(sk, i));
  tr_x509_verify_opts o = {.check_time = false};
  e = rest ? tr_x509_verify_chain(st, sk_X509_value(sk, 0), rest, &o)
           : tr_err_new(TR_E_NOMEM, "out of memory");
  sk_X509_free(rest);
  for (int i = 0; !e && i < sk_X509_num(sk); i++) {
    X509 *c = sk_X509_value(sk, i);
    if (X509_check_issued(c, c) != X509_V_OK && tr_dcap_revoked(root_crl, c)) {
      char *s = tr_x509_subject(c);
      e = tr_err_new(TR_E_VERIFY, "certificate `%s` is revoked by the Intel root CA CRL", s ? s : "?");
      free(s);
    }
    if (!e) tr_dcap_dates_add_cert(dates, c);
  }
  if (e) {
    tr_x509_stack_free(sk);
    return tr_err_wrap(e, "%s issuer chain", what);
  }
  *out = sk;
  return NULL;
}

static bool leaf_cn_is(X509 *c, const char *const *names) {
  char cn[128] = "";
  X509_NAME_get_text_by_NID(X509_get_subject_name(c), NID_commonName, cn, sizeof(cn));
  for (; *names; names++)
    if (strcmp(cn, *names) == 0) return true;
  return false;
}

static const char *const TCB_SIGNER[] = {"Intel SGX TCB Signing", NULL};
static const char *const PCK_CAS[] = {"Intel SGX PCK Platform CA", "Intel SGX PCK Processor CA", NULL};

static tr_err *signed_doc(const char *text, const uint8_t sig[64], const char *chain_pem, const char *what,
                          X509_CRL *root_crl, tr_dcap_dates *dates, json_t **out) {
  STACK_OF(X509) *sk = NULL;
  tr_err *e = verify_issuer_chain(chain_pem, what, root_crl, dates, &sk);
  if (e) return e;
  if (!leaf_cn_is(sk_X509_value(sk, 0), TCB_SIGNER)) {
    tr_x509_stack_free(sk);
    return tr_err_new(TR_E_VERIFY, "%s issuer chain: the signer is not the Intel SGX TCB Signing certificate",
                      what);
  }
  e = tr_dcap_ecdsa_verify_pkey(X509_get0_pubkey(sk_X509_value(sk, 0)), (const uint8_t *)text, strlen(text),
                                sig);
  tr_x509_stack_free(sk);
  if (e) {
    tr_err_free(e);
    return tr_err_new(TR_E_VERIFY, "%s signature does not verify with its issuer chain", what);
  }
  e = tr_json_parse(text, strlen(text), out);
  if (e) return tr_err_wrap(e, "%s", what);
  const char *is, *nu;
  int64_t a, b;
  e = tr_json_get_string(*out, what, "issueDate", &is);
  if (!e) e = tr_json_get_string(*out, what, "nextUpdate", &nu);
  if (!e) e = tr_time_parse_rfc3339(is, &a, NULL);
  if (!e) e = tr_time_parse_rfc3339(nu, &b, NULL);
  if (e) {
    json_decref(*out);
    *out = NULL;
    return tr_err_wrap(e, "%s", what);
  }
  tr_dcap_dates_add(dates, a, b);
  return NULL;
}

static tr_err *crl_verify(X509_CRL *crl, X509 *issuer, const char *what, tr_dcap_dates *dates) {
  if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(issuer)) != 0)
    return tr_err_new(TR_E_VERIFY, "%s: issuer is not its issuer chain's certificate", what);
  if (X509_CRL_verify(crl, X509_get0_pubkey(issuer)) != 1) {
    ERR_clear_error();
    return tr_err_new(TR_E_VERIFY, "%s signature does not verify", what);
  }
  if (!X509_CRL_get0_nextUpdate(crl)) return tr_err_new(TR_E_VERIFY, "%s has no nextUpdate", what);
  tr_dcap_dates_add(dates, tr_dcap_asn1_time(X509_CRL_get0_lastUpdate(crl)),
                    tr_dcap_asn1_time(X509_CRL_get0_nextUpdate(crl)));
  return NULL;
}

tr_err *tr_dcap_collateral_verify(const tr_dcap_collateral_raw *raw, tr_dcap_collateral **out) {
  *out = NULL;
  tr_err *e = NULL;
  const tr_x509_store *st = intel_store(&e);
  if (e) return e;
  (void)st;
  tr_dcap_collateral *c = calloc(1, sizeof(*c));
  if (!c) return tr_err_new(TR_E_NOMEM, "out of memory");
  e = tr_x509_parse_crl(raw->root_ca_crl, raw->root_ca_crl_len, &c->root_crl);
  if (e) e = tr_err_wrap(e, "root CA CRL");
  if (!e) e = crl_verify(c->root_crl, tr_dcap_intel_root(), "root CA CRL", &c->dates);
  if (!e) tr_dcap_dates_add_cert(&c->dates, tr_dcap_intel_root());
  if (!e)
    e = signed_doc(raw->tcb_info, raw->tcb_info_signature, raw->tcb_info_issuer_chain, "TCB info",
                   c->root_crl, &c->dates, &c->tcb_info);
  if (!e)
    e = signed_doc(raw->qe_identity, raw->qe_identity_signature, raw->qe_identity_issuer_chain, "QE identity",
                   c->root_crl, &c->dates, &c->qe_identity);
  STACK_OF(X509) *pk = NULL;
  if (!e) e = verify_issuer_chain(raw->pck_crl_issuer_chain, "PCK CRL", c->root_crl, &c->dates, &pk);
  if (!e) {
    e = tr_x509_parse_crl(raw->pck_crl, raw->pck_crl_len, &c->pck_crl);
    if (e) e = tr_err_wrap(e, "PCK CRL");
  }
  if (!e && !leaf_cn_is(sk_X509_value(pk, 0), PCK_CAS))
    e = tr_err_new(TR_E_VERIFY, "PCK CRL issuer chain: the issuer is not an Intel SGX PCK CA");
  if (!e) e = crl_verify(c->pck_crl, sk_X509_value(pk, 0), "PCK CRL", &c->dates);
  if (!e) {
    c->pck_ca = sk_X509_value(pk, 0);
    X509_up_ref(c->pck_ca);
    crl_number(c->pck_crl, &c->pck_crl_num);
    crl_number(c->root_crl, &c->root_crl_num);
  }
  tr_x509_stack_free(pk);
  if (e) {
    tr_dcap_collateral_free(c);
    return tr_err_wrap(e, "collateral");
  }
  *out = c;
  return NULL;
}

void tr_dcap_collateral_free(tr_dcap_collateral *c) {
  if (!c) return;
  json_decref(c->tcb_info);
  json_decref(c->qe_identity);
  X509_CRL_free(c->pck_crl);
  X509_CRL_free(c->root_crl);
  X509_free(c->pck_ca);
  free(c);
}

const json_t *tr_dcap_collateral_tcb_info(const tr_dcap_collateral *c) { return c->tcb_info; }
const json_t *tr_dcap_collateral_qe_identity(const tr_dcap_collateral *c) { return c->qe_identity; }

void tr_dcap_collateral_dates(const tr_dcap_collateral *c, int64_t *ei, int64_t *li, int64_t *ee) {
  *ei = c->dates.earliest_issue;
  *li = c->dates.latest_issue;
  *ee = c->dates.earliest_expiry;
}

X509_CRL *tr_dcap_collateral_pck_crl(const tr_dcap_collateral *c) { return c->pck_crl; }
X509_CRL *tr_dcap_collateral_root_crl(const tr_dcap_collateral *c) { return c->root_crl; }
X509 *tr_dcap_collateral_pck_ca(const tr_dcap_collateral *c) { return c->pck_ca; }
void tr_dcap_collateral_crl_nums(const tr_dcap_collateral *c, int64_t *pck, int64_t *root) {
  *pck = c->pck_crl_num;
  *root = c->root_crl_num;
}
