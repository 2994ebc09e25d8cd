/* snp.c — the `snp` verifier (AMD SEV-SNP, TEE class "cpu").
 *
 * Evidence: {"attestation_report": <report>, "cert_chain": null | [{"cert_type":
 * "ARK"|"ASK"|"VCEK"|"VLEK"|"CRL"|"Empty"|{"OTHER":uuid}, "data": bytes}]}
 * where <report> is either serde layout, a byte array or base64 of the raw
 * report (report.c), and `data` is a byte array (or a string: PEM text or
 * base64 DER) holding a PEM or DER certificate.
 *
 * Steps (upstream Snp::evaluate, plus version 2 and the hwID check):
 *  1. report version 2..5;
 *  2. generation from CPUID (v3+); for v2 the generation whose AMD chain
 *     verifies the VEK;
 *  3. VEK: from cert_chain (first VCEK/VLEK; a provided ARK must verify under
 *     the built-in ARK; missing ASK/ARK are the built-in ones) or, without a
 *     chain, a VCEK from the configured sources; the chain is verified (and
 *     cached: vek.c);
 *  4. ECDSA P-384 report signature; 5. TCB extensions == REPORTED_TCB (fmc on
 *     Turin), hwID == CHIP_ID; 6. VMPL 0; 7. REPORT_DATA (pad/trunc 64) and
 *     HOST_DATA (pad/trunc 32) bindings. */
#include "verifier/snp/snp.h"
#include "verifier/snp/jbytes.h"

#include <stdlib.h>
#include <string.h>

#include "core/encoding.h"
#include "core/json.h"
#include "verifier/verifier.h"

typedef struct {
  tr_snp_ctx *ctx;
  tr_snp_sources *sources;
} snp_state;

typedef struct {
  uint8_t *data;
  size_t len;
} blob;

typedef struct {
  blob ark, ask, vek;
  bool have_vek;
  tr_snp_vek_type vek_type;
} chain_in;

static void chain_free(chain_in *c) {
  free(c->ark.data);
  free(c->ask.data);
  free(c->vek.data);
}

static tr_err *snp_create(const json_t *config, void **state) {
  snp_state *s = calloc(1, sizeof(*s));
  if (!s) return tr_err_new(TR_E_NOMEM, "out of memory");
  tr_err *e = tr_snp_ctx_new_config(config, &s->ctx);
  if (!e) e = tr_snp_sources_new(config, &s->sources);
  if (e) {
    tr_snp_ctx_free(s->ctx);
    free(s);
    return e;
  }
  *state = s;
  return NULL;
}

static void snp_destroy(void *state) {
  snp_state *s = state;
  if (!s) return;
  tr_snp_ctx_free(s->ctx);
  tr_snp_sources_free(s->sources);
  free(s);
}

/* Certificate bytes of a cert_chain entry. */
static tr_err *entry_data(const json_t *d, size_t idx, blob *out) {
  if (json_is_array(d)) {
    char what[48];
    snprintf(what, sizeof(what), "cert_chain[%zu].data", idx);
    return tr_jbytes_alloc(d, what, 1 << 20, &out->data, &out->len);
  }
  if (json_is_string(d)) {
    const char *s = json_string_value(d);
    if (strstr(s, "-----BEGIN")) {
      out->len = strlen(s);
      out->data = (uint8_t *)strdup(s);
      return out->data ? NULL : tr_err_new(TR_E_NOMEM, "out of memory");
    }
    int variant = strpbrk(s, "-_") ? TR_B64_URL : TR_B64_STD;
    tr_err *e = tr_b64_decode(s, (size_t)-1, variant | TR_B64_LAX_PAD, &out->data, &out->len);
    return e ? tr_err_wrap(e, "cert_chain[%zu].data", idx) : NULL;
  }
  return tr_err_new(TR_E_INVALID, "cert_chain[%zu].data: expected a byte array or a string", idx);
}

static tr_err *parse_chain(const json_t *list, chain_in *c) {
  if (!json_is_array(list)) return tr_err_new(TR_E_INVALID, "cert_chain: expected array or null");
  for (size_t i = 0; i < json_array_size(list); i++) {
    json_t *ent = json_array_get(list, i);
    if (!json_is_object(ent)) return tr_err_new(TR_E_INVALID, "cert_chain[%zu]: expected object", i);
    json_t *t = json_object_get(ent, "cert_type");
    if (!t) return tr_err_new(TR_E_INVALID, "cert_chain[%zu]: missing field `cert_type`", i);
    if (!json_is_string(t)) {
      if (json_is_object(t)) continue; /* {"OTHER": uuid} */
      return tr_err_new(TR_E_INVALID, "cert_chain[%zu].cert_type: expected string or object", i);
    }
    const char *type = json_string_value(t);
    blob *dst = NULL;
    if (strcmp(type, "ARK") == 0) {
      dst = &c->ark;
    } else if (strcmp(type, "ASK") == 0) {
      dst = &c->ask;
    } else if (strcmp(type, "VCEK") == 0 || strcmp(type, "VLEK") == 0) {
      if (c->have_vek) continue; /* the first VEK wins */
      dst = &c->vek;
      c->have_vek = true;
      c->vek_type = type[1] == 'L' ? TR_SNP_VLEK : TR_SNP_VCEK;
    } else if (strcmp(type, "CRL") == 0 || strcmp(type, "Empty") == 0) {
      continue;
    } else {
      return tr_err_new(TR_E_INVALID, "cert_chain[%zu].cert_type: unknown `%s`", i, type);
    }
    json_t *d = json_object_get(ent, "data");
    if (!d) return tr_err_new(TR_E_INVALID, "cert_chain[%zu]: missing field `data`", i);
    free(dst->data);
    *dst = (blob){NULL, 0};
    tr_err *e = entry_data(d, i, dst);
    if (e) return e;
  }
  if (!c->have_vek)
    return tr_err_new(TR_E_INVALID, "If a cert chain is provided, it must include a VCEK/VLEK");
  return NULL;
}

/* A VCEK from the configured sources, verified against the AMD chain of
 * the candidate generation before the source caches it. */
typedef struct {
  snp_state *s;
  tr_snp_gen gen;
  tr_snp_vek *vek;
} accept_ctx;

static tr_err *accept_vcek(void *ud, const uint8_t *der, size_t len) {
  accept_ctx *a = ud;
  tr_snp_vek *v = NULL;
  tr_err *e = tr_snp_vek_verify(a->s->ctx, a->gen, TR_SNP_VCEK, der, len, NULL, 0, NULL, 0, &v);
  if (e) return e;
  tr_snp_vek_unref(a->vek);
  a->vek = v;
  return NULL;
}

/* Steps 2-3: the generation and a verified VEK. */
static tr_err *find_vek(snp_state *s, tr_snp_report *r, const chain_in *chain, bool have_chain,
                        tr_snp_vek **vek) {
  tr_snp_gen cands[TR_SNP_NGEN];
  size_t ncand = 0;
  tr_err *e = NULL;
  if (tr_snp_report_version(r) >= 3) {
    e = tr_snp_report_cpuid_gen(r, &cands[0]);
    if (e) return e;
    ncand = 1;
  } else if (have_chain) {
    cands[0] = TR_SNP_MILAN;
    cands[1] = TR_SNP_GENOA;
    cands[2] = TR_SNP_TURIN;
    ncand = 3;
  } else {
    ncand = tr_snp_report_v2_candidates(r, cands);
  }
  tr_err *first = NULL;
  for (size_t i = 0; i < ncand; i++) {
    /* The TCB layout (hence the KDS URL / store path) depends on the generation. */
    e = tr_snp_report_finalize(r, cands[i]);
    if (!e && have_chain) {
      e = tr_snp_vek_verify(s->ctx, cands[i], chain->vek_type, chain->vek.data, chain->vek.len,
                            chain->ask.data, chain->ask.len, chain->ark.data, chain->ark.len, vek);
      if (e) e = tr_err_wrap(e, "Certificate chain provided by user failed to verify");
    } else if (!e) {
      uint8_t *der = NULL;
      size_t len = 0;
      accept_ctx a = {s, cands[i], NULL};
      e = tr_snp_sources_fetch(s->sources, r, cands[i], accept_vcek, &a, &der, &len);
      if (!e)
        *vek = a.vek;
      else
        tr_snp_vek_unref(a.vek);
      free(der);
    }
    if (!e) {
      tr_err_free(first);
      return NULL;
    }
    if (ncand > 1) e = tr_err_wrap(e, "as %s", tr_snp_gen_name(cands[i]));
    if (!first)
      first = e;
    else
      tr_err_free(e);
  }
  if (ncand > 1) return tr_err_wrap(first, "version-2 report: no AMD processor generation verifies it");
  return first;
}

static tr_err *snp_check(snp_state *s, const json_t *evidence, const tr_expected *report_data,
                         const tr_expected *init_data, tr_snp_report *r) {
  if (!json_is_object(evidence))
    return tr_err_new(TR_E_INVALID, "Deserialize SNP Evidence failed: expected object, got %s",
                      tr_json_type_name(evidence));
  json_t *rep = json_object_get(evidence, "attestation_report");
  if (!rep)
    return tr_err_new(TR_E_INVALID, "Deserialize SNP Evidence failed: missing field `attestation_report`");
  tr_err *e = tr_snp_report_from_json(rep, r);
  if (e) return tr_err_wrap(e, "Deserialize SNP Evidence failed");
  uint32_t version = tr_snp_report_version(r);
  if (version < 2)
    return tr_err_new(TR_E_INVALID, "Attestation Report version is too old. Please update your firmware.");
  if (version > 5)
    return tr_err_new(TR_E_INVALID,
                      "Unexpected attestation report version %u. Check SNP Firmware ABI specification",
                      version);
  chain_in chain = {0};
  json_t *cc = json_object_get(evidence, "cert_chain");
  bool have_chain = cc && !json_is_null(cc);
  if (have_chain && (e = parse_chain(cc, &chain))) {
    chain_free(&chain);
    return tr_err_wrap(e, "Deserialize SNP Evidence failed");
  }
  tr_snp_vek *vek = NULL;
  e = find_vek(s, r, &chain, have_chain, &vek);
  chain_free(&chain);
  if (e) return e;
  e = tr_snp_verify_signature(r, vek);
  if (e) e = tr_err_wrap(e, "Report signature verification against VEK signature failed");
  if (!e && (e = tr_snp_verify_tcb(r, vek, r->gen == TR_SNP_TURIN)))
    e = tr_err_wrap(e, "Reported TCB values do not match");
  tr_snp_vek_unref(vek);
  if (e) return e;
  if (r->vmpl != 0)
    return tr_err_new(TR_E_VERIFY, "VMPL Check Failed: the report was issued at VMPL %u, not 0", r->vmpl);
  if (report_data && report_data->present) {
    uint8_t want[64];
    tr_regularize(report_data, want, sizeof(want));
    if (memcmp(want, TR_SNP_REPORT_DATA(r), 64) != 0) return tr_err_new(TR_E_VERIFY, "Report Data Mismatch");
  }
  if (init_data && init_data->present) {
    uint8_t want[32];
    tr_regularize(init_data, want, sizeof(want));
    if (memcmp(want, TR_SNP_HOST_DATA(r), 32) != 0) return tr_err_new(TR_E_VERIFY, "Host Data Mismatch");
  }
  return NULL;
}

static tr_err *snp_evaluate(void *state, const json_t *evidence, const tr_expected *report_data,
                            const tr_expected *init_data, tr_verified_list *out) {
  tr_snp_report *r = malloc(sizeof(*r));
  if (!r) return tr_err_new(TR_E_NOMEM, "out of memory");
  tr_err *e = snp_check(state, evidence, report_data, init_data, r);
  json_t *claims = e ? NULL : tr_snp_claims(r);
  free(r);
  if (e) return tr_err_wrap(e, "snp");
  if (!claims) return tr_err_new(TR_E_NOMEM, "out of memory");
  return tr_verified_list_push(out, claims, "cpu");
}

const tr_verifier_ops tr_verifier_snp = {
    .tee = "snp",
    .create = snp_create,
    .destroy = snp_destroy,
    .evaluate = snp_evaluate,
    .challenge = NULL,
};
