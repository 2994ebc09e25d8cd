/* pck.c — the SGX extension of PCK certificates (Intel "SGX PCK Certificate
 * and CRL Profile"), OID 1.2.840.113741.1.13.1:
 *
 *   SEQUENCE {
 *     { .1 PPID OCTET STRING(16) }
 *     { .2 TCB SEQUENCE { {.2.1..16 compSVN INTEGER} {.2.17 PCESVN INTEGER}
 *                         {.2.18 CPUSVN OCTET STRING(16)} } }
 *     { .3 PCE-ID OCTET STRING(2) }  { .4 FMSPC OCTET STRING(6) }
 *     { .5 SGX type ENUMERATED }
 *     Platform CA only: { .6 PlatformInstanceID OCTET STRING(16) }
 *                       { .7 Configuration SEQUENCE { {.7.1 dynamicPlatform BOOLEAN}
 *                           {.7.2 cachedKeys BOOLEAN} {.7.3 SMTEnabled BOOLEAN} } } }
 *
 * A small bounded DER reader: every element is matched by its OID, each
 * required one exactly once. */
#include <string.h>

#include "crypto/x509.h"
#include "verifier/dcap/dcap.h"

#define SGX_EXT_OID "1.2.840.113741.1.13.1"
static const uint8_t SGX_OID_PREFIX[] = {0x2a, 0x86, 0x48, 0x86, 0xf8, 0x4d, 0x01, 0x0d, 0x01};

typedef struct {
  const uint8_t *p;
  size_t n;
} der;

/* Reads one TLV of the expected tag from *d; *v receives the content. */
static tr_err *der_next(der *d, uint8_t tag, der *v) {
  if (d->n < 2) return tr_err_new(TR_E_INVALID, "SGX extension: truncated DER");
  if (d->p[0] != tag)
    return tr_err_new(TR_E_INVALID, "SGX extension: DER tag 0x%02x, expected 0x%02x", d->p[0], tag);
  size_t len, hl = 2;
  uint8_t l0 = d->p[1];
  if (l0 < 0x80) {
    len = l0;
  } else {
    size_t nb = l0 & 0x7f;
    if (nb == 0 || nb > 3 || d->n < 2 + nb) return tr_err_new(TR_E_INVALID, "SGX extension: bad DER length");
    len = 0;
    for (size_t i = 0; i < nb; i++)
      len = len << 8 | d->p[2 + i];
    hl += nb;
  }
  if (d->n - hl < len) return tr_err_new(TR_E_INVALID, "SGX extension: DER element overruns its parent");
  v->p = d->p + hl;
  v->n = len;
  d->p += hl + len;
  d->n -= hl + len;
  return NULL;
}

/* An element { OID, value }: returns the arcs after the SGX prefix (up to 2)
 * and the value TLV. */
static tr_err *oid_pair(der *seq, int arcs[2], size_t *narcs, uint8_t *vtag, der *val) {
  der pair, oid;
  tr_err *e = der_next(seq, 0x30, &pair);
  if (!e) e = der_next(&pair, 0x06, &oid);
  if (e) return e;
  if (oid.n <= sizeof(SGX_OID_PREFIX) || memcmp(oid.p, SGX_OID_PREFIX, sizeof(SGX_OID_PREFIX)) != 0)
    return tr_err_new(TR_E_INVALID, "SGX extension: element with a foreign OID");
  *narcs = 0;
  for (size_t i = sizeof(SGX_OID_PREFIX); i < oid.n; i++) {
    if (oid.p[i] & 0x80 || *narcs == 2) return tr_err_new(TR_E_INVALID, "SGX extension: unexpected OID");
    arcs[(*narcs)++] = oid.p[i];
  }
  if (pair.n < 2) return tr_err_new(TR_E_INVALID, "SGX extension: element without a value");
  *vtag = pair.p[0];
  tr_err *e2 = der_next(&pair, *vtag, val);
  if (!e2 && pair.n) e2 = tr_err_new(TR_E_INVALID, "SGX extension: trailing bytes in an element");
  return e2;
}

static tr_err *der_uint(const der *v, uint32_t max, uint32_t *out) {
  if (v->n == 0 || v->n > 5 || (v->p[0] & 0x80))
    return tr_err_new(TR_E_INVALID, "SGX extension: bad INTEGER");
  uint64_t x = 0;
  for (size_t i = 0; i < v->n; i++)
    x = x << 8 | v->p[i];
  if (x > max)
    return tr_err_new(TR_E_INVALID, "SGX extension: INTEGER %llu out of range", (unsigned long long)x);
  *out = (uint32_t)x;
  return NULL;
}

static tr_err *octets(const der *v, uint8_t vtag, uint8_t *out, size_t n, const char *what) {
  if (vtag != 0x04 || v->n != n)
    return tr_err_new(TR_E_INVALID, "SGX extension: %s is not an OCTET STRING of %zu bytes", what, n);
  memcpy(out, v->p, n);
  return NULL;
}

static tr_err *parse_tcb(der v, tr_dcap_platform *o) {
  uint32_t seen = 0;
  while (v.n) {
    int arcs[2];
    size_t na;
    uint8_t tag;
    der val;
    tr_err *e = oid_pair(&v, arcs, &na, &tag, &val);
    if (e) return e;
    if (na != 2 || arcs[0] != 2 || arcs[1] < 1 || arcs[1] > 18 || (seen >> arcs[1] & 1))
      return tr_err_new(TR_E_INVALID, "SGX extension: unexpected TCB element");
    seen |= 1u << arcs[1];
    uint32_t x = 0;
    if (arcs[1] <= 16) {
      if (tag != 0x02 || (e = der_uint(&val, 255, &x)))
        return e ? e : tr_err_new(TR_E_INVALID, "SGX extension: bad SVN");
      o->comps[arcs[1] - 1] = (uint8_t)x;
    } else if (arcs[1] == 17) {
      if (tag != 0x02 || (e = der_uint(&val, 65535, &x)))
        return e ? e : tr_err_new(TR_E_INVALID, "SGX extension: bad PCESVN");
      o->pcesvn = (uint16_t)x;
    } else if ((e = octets(&val, tag, o->cpusvn, 16, "CPUSVN"))) {
      return e;
    }
  }
  if (seen != 0x7fffeu) return tr_err_new(TR_E_INVALID, "SGX extension: incomplete TCB");
  return NULL;
}

static tr_err *parse_config(der v, tr_dcap_platform *o) {
  unsigned seen = 0;
  while (v.n) {
    int arcs[2];
    size_t na;
    uint8_t tag;
    der val;
    tr_err *e = oid_pair(&v, arcs, &na, &tag, &val);
    if (e) return e;
    if (na != 2 || arcs[0] != 7 || arcs[1] < 1 || arcs[1] > 3 || (seen >> arcs[1] & 1) || tag != 0x01 ||
        val.n != 1)
      return tr_err_new(TR_E_INVALID, "SGX extension: unexpected configuration element");
    seen |= 1u << arcs[1];
    bool b = val.p[0] != 0;
    if (arcs[1] == 1)
      o->dynamic_platform = b;
    else if (arcs[1] == 2)
      o->cached_keys = b;
    else
      o->smt_enabled = b;
  }
  if (seen != 0xe) return tr_err_new(TR_E_INVALID, "SGX extension: incomplete configuration");
  return NULL;
}

tr_err *tr_dcap_pck_ext_parse(const uint8_t *buf, size_t len, bool is_platform_ca, tr_dcap_platform *o) {
  memset(o, 0, sizeof(*o));
  o->is_platform_ca = is_platform_ca;
  der top = {buf, len}, seq;
  tr_err *e = der_next(&top, 0x30, &seq);
  if (e) return e;
  if (top.n) return tr_err_new(TR_E_INVALID, "SGX extension: trailing bytes");
  unsigned seen = 0;
  bool has_config = false;
  while (seq.n) {
    int arcs[2];
    size_t na;
    uint8_t tag;
    der val;
    if ((e = oid_pair(&seq, arcs, &na, &tag, &val))) return e;
    if (na != 1 || arcs[0] < 1 || arcs[0] > 7 || (seen >> arcs[0] & 1))
      return tr_err_new(TR_E_INVALID, "SGX extension: unexpected or repeated element");
    seen |= 1u << arcs[0];
    switch (arcs[0]) {
    case 1: e = octets(&val, tag, o->ppid, 16, "PPID"); break;
    case 2:
      e = tag == 0x30 ? parse_tcb(val, o) : tr_err_new(TR_E_INVALID, "SGX extension: TCB is not a SEQUENCE");
      break;
    case 3: e = octets(&val, tag, o->pceid, 2, "PCE-ID"); break;
    case 4: e = octets(&val, tag, o->fmspc, 6, "FMSPC"); break;
    case 5: {
      uint32_t t = 0;
      e = tag == 0x0a ? der_uint(&val, 2, &t)
                      : tr_err_new(TR_E_INVALID, "SGX extension: SGX type is not ENUMERATED");
      if (!e) o->sgx_type = (uint8_t)t;
      break;
    }
    case 6: {
      uint8_t raw[16];
      e = octets(&val, tag, raw, 16, "PlatformInstanceID");
      for (int i = 0; i < 16; i++)
        o->platform_instance_id[i] = raw[15 - i];
      o->has_platform_instance = true;
      break;
    }
    case 7:
      e = tag == 0x30 ? parse_config(val, o)
                      : tr_err_new(TR_E_INVALID, "SGX extension: Configuration is not a SEQUENCE");
      has_config = true;
      break;
    }
    if (e) return e;
  }
  if ((seen & 0x3e) != 0x3e) return tr_err_new(TR_E_INVALID, "SGX extension: a required element is missing");
  if (is_platform_ca && (!o->has_platform_instance || !has_config))
    return tr_err_new(TR_E_INVALID, "Platform PCK cert is missing platform_instance or configuration");
  if (!is_platform_ca && (o->has_platform_instance || has_config))
    return tr_err_new(TR_E_INVALID,
                      "Processor CA cert unexpectedly contains platform_instance or configuration");
  return NULL;
}

tr_err *tr_dcap_platform_from_chain(const uint8_t *pem, size_t len, tr_dcap_platform *out,
                                    STACK_OF(X509) * *certs) {
  STACK_OF(X509) *sk = NULL;
  tr_err *e = tr_x509_parse_bundle(pem, len, &sk);
  if (e) return tr_err_wrap(e, "failed to parse PCK PEM certificate chain");
  if (sk_X509_num(sk) != 3) {
    e = tr_err_new(
        TR_E_INVALID,
        "PCK cert chain must contain exactly 3 certificates (leaf, intermediate CA, root CA), got %d",
        sk_X509_num(sk));
    tr_x509_stack_free(sk);
    return e;
  }
  char cn[128] = "";
  X509_NAME_get_text_by_NID(X509_get_subject_name(sk_X509_value(sk, 1)), NID_commonName, cn, sizeof(cn));
  bool platform;
  if (strcmp(cn, "Intel SGX PCK Platform CA") == 0)
    platform = true;
  else if (strcmp(cn, "Intel SGX PCK Processor CA") == 0)
    platform = false;
  else {
    tr_x509_stack_free(sk);
    return tr_err_new(TR_E_INVALID, "unexpected PCK intermediate CA CN: %s", cn);
  }
  const uint8_t *ext;
  size_t elen;
  e = tr_x509_ext_by_oid(sk_X509_value(sk, 0), SGX_EXT_OID, &ext, &elen);
  if (!e) e = tr_dcap_pck_ext_parse(ext, elen, platform, out);
  if (e || !certs)
    tr_x509_stack_free(sk);
  else
    *certs = sk;
  return e ? tr_err_wrap(e, "PCK leaf certificate") : NULL;
}
