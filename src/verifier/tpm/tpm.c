/* tpm.c — the `tpm` verifier (plain TPM 2.0 quote, TEE class "cpu").
 *
 * Evidence (guest-components TPM attester):
 *   {"ak_public": base64std(DER SubjectPublicKeyInfo),
 *    "tpm_quote": {"signature": base64std(marshalled TPMT_SIGNATURE),
 *                  "message": base64std(TPMS_ATTEST), "pcrs": [64 hex chars ×N]}}
 *
 * Steps as upstream: the TPMT_SIGNATURE must be RSASSA; the AK verifies the
 * quote (PKCS#1 v1.5, SHA-256); SHA-256 of the PCRs equals the quote's
 * pcrDigest; when report data is given it is zero-padded/truncated to 32
 * bytes and must equal the quote's extraData exactly; init data against PCR8.
 *
 * Trusted AK: the signature proves only that the quote was made by the key
 * in `ak_public`, which the evidence itself supplies — any software key
 * makes a quote this verifier accepts. Whether the key belongs to a genuine
 * TPM of the fleet is decided either here, with
 * `verifier_config.tpm_verifier.trusted_ak_keys_dir` (a directory of PEM or
 * DER public keys, at most `max_trusted_ak_keys`, default 100: an AK not in
 * it is refused), or by the policy comparing the claim `tpm.ak_public` with
 * reference values (`input.tpm.ak_public in
 * query_reference_value("trusted_aks")`, as upstream's default policy does
 * for `executables`). Upstream documents trusted_ak_keys_dir but never reads
 * it, and accepts any AK; together with upstream's default AS policy
 * (`hardware := 2 if input.tpm`) and default resource policy (any non-sample
 * TEE) that releases secrets to a quote forged with a software key.
 *
 * Decision (docs/verifiers/tpm.md): secure by default. The AK must be one of
 * the keys in trusted_ak_keys_dir — configured, or upstream's documented
 * default /etc/tpm/trusted_ak_keys when that directory exists. Without
 * either, evidence is refused with an error saying how to configure trust,
 * unless the operator sets `tpm_verifier.accept_any_ak = true`, stating that
 * their policy pins `input.tpm.ak_public` itself (upstream's behaviour). */
#include <dirent.h>
#include <errno.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/buf.h"
#include "core/encoding.h"
#include "core/json.h"
#include "core/log.h"
#include "verifier/tpm/tpm_quote.h"
#include "verifier/verifier.h"

#define TPM_REPORT_DATA_SIZE 32

static tr_err *b64_field(const json_t *o, const char *label, const char *name, uint8_t **out, size_t *len) {
  const char *s = NULL;
  tr_err *e = tr_json_get_string(o, label, name, &s);
  if (e) return e;
  e = tr_b64_decode(s, (size_t)-1, TR_B64_STD, out, len);
  return e ? tr_err_wrap(e, "Failed to decode %s.%s from base64", label, name) : NULL;
}

/* Evidence → quote (raw RSA signature) and AK. */
static tr_err *parse_evidence(const json_t *ev, tr_tpm_quote *q, EVP_PKEY **ak, const char **ak_text) {
  memset(q, 0, sizeof(*q));
  *ak = NULL;
  if (!json_is_object(ev))
    return tr_err_new(TR_E_INVALID, "Failed to deserialize TPM Evidence: expected object, got %s",
                      tr_json_type_name(ev));
  json_t *tq = NULL, *pcrs = NULL;
  tr_err *e = tr_json_get_string(ev, "evidence", "ak_public", ak_text);
  if (!e) e = tr_json_get_object(ev, "evidence", "tpm_quote", &tq);
  if (!e) e = tr_json_get_array(tq, "tpm_quote", "pcrs", &pcrs);
  if (e) return tr_err_wrap(e, "Failed to deserialize TPM Evidence");
  uint8_t *sigm = NULL, *akder = NULL;
  size_t sigm_len = 0, akder_len = 0;
  e = b64_field(tq, "tpm_quote", "signature", &sigm, &sigm_len);
  if (!e) e = b64_field(tq, "tpm_quote", "message", &q->msg, &q->msg_len);
  if (!e) {
    TPMT_SIGNATURE sig;
    size_t off = 0;
    memset(&sig, 0, sizeof(sig));
    if (Tss2_MU_TPMT_SIGNATURE_Unmarshal(sigm, sigm_len, &off, &sig) != TSS2_RC_SUCCESS)
      e = tr_err_new(TR_E_INVALID, "Failed to unmarshal TSS signature");
    else if (sig.sigAlg != TPM2_ALG_RSASSA)
      e = tr_err_new(TR_E_UNSUPPORTED, "Unsupported signature type 0x%04x, expected RSA-SSA", sig.sigAlg);
    else if (sig.signature.rsassa.hash != TPM2_ALG_SHA256)
      e = tr_err_new(TR_E_UNSUPPORTED, "Unsupported RSA-SSA hash 0x%04x, expected SHA-256",
                     sig.signature.rsassa.hash);
    else if (!(q->sig = malloc(sig.signature.rsassa.sig.size ? sig.signature.rsassa.sig.size : 1)))
      e = tr_err_new(TR_E_NOMEM, "out of memory");
    else {
      q->sig_len = sig.signature.rsassa.sig.size;
      memcpy(q->sig, sig.signature.rsassa.sig.buffer, q->sig_len);
    }
  }
  if (!e && json_array_size(pcrs) > 64) e = tr_err_new(TR_E_LIMIT, "tpm_quote.pcrs: more than 64 PCRs");
  if (!e && !(q->pcrs = calloc(json_array_size(pcrs) + 1, 32))) e = tr_err_new(TR_E_NOMEM, "out of memory");
  for (size_t i = 0; !e && i < json_array_size(pcrs); i++) {
    json_t *p = json_array_get(pcrs, i);
    if (!json_is_string(p)) {
      e = tr_err_new(TR_E_INVALID, "tpm_quote.pcrs[%zu]: expected a hex string", i);
      break;
    }
    if (json_string_length(p) != 64) {
      e = tr_err_new(TR_E_INVALID, "PCR should be 64 hex characters (32 bytes), got %zu",
                     json_string_length(p));
      break;
    }
    uint8_t *b = NULL;
    size_t n = 0;
    e = tr_hex_decode(json_string_value(p), 64, &b, &n);
    if (e)
      e = tr_err_wrap(e, "Failed to decode PCR %zu from hex", i);
    else
      memcpy(q->pcrs[i], b, 32);
    free(b);
    q->npcrs = i + 1;
  }
  if (!e) e = b64_field(ev, "evidence", "ak_public", &akder, &akder_len);
  if (!e) {
    const unsigned char *p = akder;
    *ak = d2i_PUBKEY(NULL, &p, (long)akder_len);
    if (!*ak) e = tr_err_new(TR_E_INVALID, "Failed to parse AK public key (DER SubjectPublicKeyInfo)");
  }
  free(sigm);
  free(akder);
  return e;
}

/* ---- trusted AKs (tpm_verifier.trusted_ak_keys_dir) ----------------------- */

#define TPM_DEFAULT_AK_DIR "/etc/tpm/trusted_ak_keys"

typedef struct {
  bool pinned;        /* trusted_ak_keys_dir configured (or the default exists): only these AKs */
  bool accept_any_ak; /* operator opted in to upstream's "any AK, the policy pins it" */
  uint8_t **der;      /* DER SubjectPublicKeyInfo of each trusted AK */
  size_t *len, n;
} tpm_state;

static void tpm_destroy(void *state) {
  tpm_state *s = state;
  if (!s) return;
  for (size_t i = 0; i < s->n; i++)
    free(s->der[i]);
  free(s->der);
  free(s->len);
  free(s);
}

/* One public key file (PEM "PUBLIC KEY" or DER SPKI) → DER SPKI. */
static tr_err *load_ak_file(const char *path, uint8_t **der, size_t *der_len) {
  uint8_t *data = NULL;
  size_t n = 0;
  tr_err *e = tr_read_file(path, 64 * 1024, &data, &n);
  if (e) return e;
  EVP_PKEY *k = NULL;
  if (n > 10 && memmem(data, n, "-----BEGIN", 10)) {
    BIO *b = BIO_new_mem_buf(data, (int)n);
    if (b) k = PEM_read_bio_PUBKEY(b, NULL, NULL, NULL);
    BIO_free(b);
  } else {
    const unsigned char *p = data;
    k = d2i_PUBKEY(NULL, &p, (long)n);
    if (k && p != data + n) {
      EVP_PKEY_free(k);
      k = NULL;
    }
  }
  free(data);
  unsigned char *out = NULL;
  int ol = k ? i2d_PUBKEY(k, &out) : -1;
  EVP_PKEY_free(k);
  if (ol <= 0)
    return tr_err_new(TR_E_INVALID, "%s is not a public key (PEM or DER SubjectPublicKeyInfo)", path);
  *der = malloc((size_t)ol);
  if (*der) memcpy(*der, out, (size_t)ol);
  OPENSSL_free(out);
  if (!*der) return tr_err_new(TR_E_NOMEM, "out of memory");
  *der_len = (size_t)ol;
  return NULL;
}

static tr_err *load_trusted_aks(tpm_state *s, const char *dir, int64_t max) {
  DIR *d = opendir(dir);
  if (!d) return tr_err_new(TR_E_IO, "cannot open trusted_ak_keys_dir %s: %s", dir, strerror(errno));
  tr_err *e = NULL;
  struct dirent *de;
  while (!e && (de = readdir(d))) {
    if (de->d_name[0] == '.') continue;
    char *path = NULL;
    if (asprintf(&path, "%s/%s", dir, de->d_name) < 0) {
      e = tr_err_new(TR_E_NOMEM, "out of memory");
      break;
    }
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
      free(path);
      continue;
    }
    if ((int64_t)s->n >= max) {
      e = tr_err_new(TR_E_LIMIT, "trusted_ak_keys_dir %s holds more than max_trusted_ak_keys (%lld) keys",
                     dir, (long long)max);
    } else {
      uint8_t **nd = realloc(s->der, (s->n + 1) * sizeof(*nd));
      if (nd) s->der = nd;
      size_t *nl = nd ? realloc(s->len, (s->n + 1) * sizeof(*nl)) : NULL;
      if (nl) s->len = nl;
      if (!nd || !nl)
        e = tr_err_new(TR_E_NOMEM, "out of memory");
      else if (!(e = load_ak_file(path, &s->der[s->n], &s->len[s->n])))
        s->n++;
    }
    free(path);
  }
  closedir(d);
  if (!e && s->n == 0) e = tr_err_new(TR_E_INVALID, "trusted_ak_keys_dir %s holds no keys", dir);
  return e;
}

static tr_err *tpm_create(const json_t *config, void **state) {
  *state = NULL;
  tpm_state *s = calloc(1, sizeof(*s));
  if (!s) return tr_err_new(TR_E_NOMEM, "out of memory");
  json_t *tc = NULL;
  const char *dir = NULL;
  int64_t max = 100;
  tr_err *e = NULL;
  if (json_is_object(config)) e = tr_json_opt_object(config, "verifier_config", "tpm_verifier", &tc);
  if (!e && tc) e = tr_json_opt_string(tc, "tpm_verifier", "trusted_ak_keys_dir", &dir);
  if (!e && tc) e = tr_json_opt_int(tc, "tpm_verifier", "max_trusted_ak_keys", &max);
  if (!e && tc) e = tr_json_opt_bool(tc, "tpm_verifier", "accept_any_ak", &s->accept_any_ak);
  if (!e && (max < 1 || max > 100000))
    e = tr_err_new(TR_E_INVALID, "tpm_verifier.max_trusted_ak_keys: expected 1..100000");
  if (!e && !dir && !s->accept_any_ak) {
    struct stat st;
    if (stat(TPM_DEFAULT_AK_DIR, &st) == 0 && S_ISDIR(st.st_mode)) dir = TPM_DEFAULT_AK_DIR;
  }
  if (!e && dir) {
    s->pinned = true;
    e = load_trusted_aks(s, dir, max);
  }
  if (e) {
    tpm_destroy(s);
    return tr_err_wrap(e, "tpm_verifier");
  }
  if (!s->pinned && s->accept_any_ak)
    TR_WARN("tpm",
            "tpm_verifier.accept_any_ak: the AK comes from the evidence, so ANY key (software too) makes "
            "a quote that verifies; only a policy that pins input.tpm.ak_public keeps a forged TPM out");
  *state = s;
  return NULL;
}

static tr_err *check_trusted_ak(const tpm_state *s, EVP_PKEY *ak) {
  if (!s) return tr_err_new(TR_E_INTERNAL, "tpm verifier state missing");
  if (!s->pinned) {
    if (s->accept_any_ak) return NULL;
    return tr_err_new(TR_E_VERIFY,
                      "the AK in the evidence is not trusted: no trusted AKs are configured (set "
                      "verifier_config.tpm_verifier.trusted_ak_keys_dir, or create " TPM_DEFAULT_AK_DIR
                      "; accept_any_ak = true leaves AK pinning to the policy)");
  }
  unsigned char *der = NULL;
  int n = i2d_PUBKEY(ak, &der);
  bool ok = false;
  for (size_t i = 0; n > 0 && i < s->n && !ok; i++)
    ok = s->len[i] == (size_t)n && memcmp(s->der[i], der, (size_t)n) == 0;
  OPENSSL_free(der);
  if (!ok)
    return tr_err_new(TR_E_VERIFY, "the AK is not one of the keys in tpm_verifier.trusted_ak_keys_dir");
  return NULL;
}

static tr_err *tpm_check(void *state, const json_t *evidence, const tr_expected *report_data,
                         const tr_expected *init_data, json_t **claims) {
  const tpm_state *s = state;
  tr_tpm_quote q;
  EVP_PKEY *ak = NULL;
  const char *ak_text = NULL;
  TPMS_ATTEST a;
  tr_err *e = parse_evidence(evidence, &q, &ak, &ak_text);
  if (!e) e = check_trusted_ak(s, ak);
  if (!e) e = tr_tpm_attest_parse(q.msg, q.msg_len, &a);
  if (!e && (e = tr_tpm_verify_signature(&q, ak)))
    e = tr_err_wrap(e, "TPM quote signature verification failed");
  if (!e) e = tr_tpm_verify_pcrs(&q, &a);
  if (!e && report_data && report_data->present) {
    uint8_t want[TPM_REPORT_DATA_SIZE];
    tr_regularize(report_data, want, sizeof(want));
    if (!tr_ct_equal(want, sizeof(want), a.extraData.buffer, a.extraData.size))
      e = tr_err_new(TR_E_VERIFY, "TPM quote nonce doesn't match expected report_data");
  }
  if (!e && init_data && init_data->present) {
    e = tr_tpm_verify_init_data(&q, init_data);
    if (e && tr_err_code(e) == TR_E_VERIFY) {
      tr_err_free(e);
      e = tr_err_new(TR_E_VERIFY, "TPM PCR[%d] doesn't match expected initdata hash", TR_TPM_INITDATA_PCR);
    }
  }
  if (!e) {
    char *nonce = tr_hex_encode(a.extraData.buffer, a.extraData.size);
    char *pcr8 = q.npcrs > TR_TPM_INITDATA_PCR ? tr_hex_encode(q.pcrs[TR_TPM_INITDATA_PCR], 32) : NULL;
    *claims = json_object();
    if (!nonce || !*claims || (pcr8 && json_object_set_new(*claims, "init_data", json_string(pcr8))) ||
        json_object_set_new(*claims, "report_data", json_string(nonce)) ||
        json_object_set_new(*claims, "ak_public", json_string(ak_text)))
      e = tr_err_new(TR_E_NOMEM, "out of memory");
    if (!e) e = tr_tpm_pcr_claims(*claims, &q);
    if (e) {
      json_decref(*claims);
      *claims = NULL;
    }
    free(nonce);
    free(pcr8);
  }
  EVP_PKEY_free(ak);
  tr_tpm_quote_clear(&q);
  return e;
}

static tr_err *tpm_evaluate(void *state, const json_t *evidence, const tr_expected *report_data,
                            const tr_expected *init_data, tr_verified_list *out) {
  return tr_verifier_evaluate_cpu(tpm_check, "tpm", state, evidence, report_data, init_data, out);
}

const tr_verifier_ops tr_verifier_tpm = {
    .tee = "tpm",
    .create = tpm_create,
    .destroy = tpm_destroy,
    .evaluate = tpm_evaluate,
    .challenge = NULL,
};
