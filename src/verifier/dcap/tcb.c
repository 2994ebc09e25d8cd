/* tcb.c — Intel's TCB status algorithm (QVL Checks/TcbLevelCheck,
 * EnclaveReportVerifier, TDRelaunchCheck), over already-authenticated
 * collateral.
 *
 *  1. Collateral kind: tcbInfo.id "SGX" (or absent, v2) for SGX quotes,
 *     "TDX" for TDX quotes; QE identity id "QE" / "TD_QE"; tcbInfo FMSPC and
 *     PCE ID equal the PCK certificate's.
 *  2. QE identity: (miscselect & mask), (attributes & mask), mrsigner and
 *     isvprodid of the QE report equal the identity's; the QE's status is
 *     that of the first tcbLevel with isvsvn <= the report's (none: Revoked;
 *     anything but UpToDate/Revoked counts as OutOfDate, as QVL).
 *  3. Platform: the first tcbLevel (Intel orders them newest first) whose
 *     16 SGX component SVNs and PCESVN are <= the PCK certificate's and,
 *     for TDX, whose TDX component SVNs are <= TEE_TCB_SVN[i] for i from
 *     (TEE_TCB_SVN[1] > 0 ? 2 : 0) to 15. No level: "TCB not supported".
 *  4. TDX module: with TEE_TCB_SVN[1] (module major version) > 0 the
 *     identity "TDX_%02X" of tdxModuleIdentities — mrsigner_seam and masked
 *     seam_attributes must match, status from the first level with isvsvn
 *     <= TEE_TCB_SVN[0]; otherwise tdxModule's mrsigner/attributes must match.
 *  5. Converge: a component OutOfDate turns UpToDate/SWHardeningNeeded into
 *     OutOfDate and ConfigurationNeeded/ConfigurationAndSWHardeningNeeded
 *     into OutOfDateConfigurationNeeded; a component Revoked revokes.
 *     tcb_date and advisories are those of the matched TCB-info level (as
 *     QvE's supplemental data: tcb_level_date_tag, sa_list).
 *  6. TDX 1.5 bodies: the same evaluation with TEE_TCB_SVN2 gives the
 *     "current" status; a launch status OutOfDate[ConfigurationNeeded] whose
 *     current status is not out of date becomes TDRelaunchAdvised
 *     [ConfigurationNeeded when either needs configuration]. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/encoding.h"
#include "core/json.h"
#include "core/time.h"
#include "verifier/dcap/dcap.h"

static const char *const STATUS_NAMES[] = {
    "UpToDate",
    "SWHardeningNeeded",
    "ConfigurationNeeded",
    "ConfigurationAndSWHardeningNeeded",
    "OutOfDate",
    "OutOfDateConfigurationNeeded",
    "TDRelaunchAdvised",
    "TDRelaunchAdvisedConfigurationNeeded",
    "Revoked",
};

const char *tr_tcb_status_name(tr_tcb_status s) {
  return (unsigned)s < sizeof(STATUS_NAMES) / sizeof(STATUS_NAMES[0]) ? STATUS_NAMES[s] : "Unknown";
}

int tr_tcb_status_parse(const char *s) {
  for (size_t i = 0; s && i < sizeof(STATUS_NAMES) / sizeof(STATUS_NAMES[0]); i++)
    if (strcmp(s, STATUS_NAMES[i]) == 0) return (int)i;
  return -1;
}

void tr_tcb_result_clear(tr_tcb_result *r) {
  if (!r) return;
  json_decref(r->advisories);
  json_decref(r->advisories_current);
  memset(r, 0, sizeof(*r));
}

/* Fixed-size hex field of a collateral object. */
static tr_err *hex_field(const json_t *o, const char *label, const char *key, uint8_t *out, size_t n) {
  const char *s;
  tr_err *e = tr_json_get_string(o, label, key, &s);
  if (e) return e;
  uint8_t *raw = NULL;
  size_t len = 0;
  e = tr_hex_decode(s, strlen(s), &raw, &len);
  if (!e && len != n)
    e = tr_err_new(TR_E_INVALID, "field `%s.%s`: %zu bytes, expected %zu", label, key, len, n);
  if (!e) memcpy(out, raw, n);
  free(raw);
  return e;
}

static bool masked_eq(const uint8_t *a, const uint8_t *b, const uint8_t *mask, size_t n) {
  for (size_t i = 0; i < n; i++)
    if ((a[i] & mask[i]) != (b[i] & mask[i])) return false;
  return true;
}

/* One matched level: status, date, advisories. */
typedef struct {
  tr_tcb_status status;
  int64_t date;
  const json_t *advisories;
} level;

static tr_err *read_level(const json_t *lv, const char *label, level *out) {
  const char *st, *date;
  tr_err *e = tr_json_get_string(lv, label, "tcbStatus", &st);
  if (!e) e = tr_json_get_string(lv, label, "tcbDate", &date);
  if (!e) e = tr_time_parse_rfc3339(date, &out->date, NULL);
  if (e) return e;
  int s = tr_tcb_status_parse(st);
  if (s < 0 || s == TR_TCB_TD_RELAUNCH_ADVISED || s == TR_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED)
    return tr_err_new(TR_E_INVALID, "%s: unknown tcbStatus \"%s\"", label, st);
  out->status = (tr_tcb_status)s;
  out->advisories = json_object_get(lv, "advisoryIDs");
  if (out->advisories && !json_is_array(out->advisories))
    return tr_err_new(TR_E_INVALID, "%s: advisoryIDs is not an array", label);
  return NULL;
}

/* Levels of an isvsvn-based identity (QE identity, TDX module identity). */
static tr_err *isvsvn_level(const json_t *identity, const char *label, unsigned svn, level *out) {
  json_t *levels;
  tr_err *e = tr_json_get_array(identity, label, "tcbLevels", &levels);
  if (e) return e;
  size_t i;
  json_t *lv;
  json_array_foreach(levels, i, lv) {
    int64_t isvsvn;
    if ((e = tr_json_get_int(lv, label, "tcb.isvsvn", &isvsvn))) return e;
    if ((int64_t)svn >= isvsvn) return read_level(lv, label, out);
  }
  out->status = TR_TCB_REVOKED;
  out->date = 0;
  out->advisories = NULL;
  return NULL;
}

/* Component SVN i (0-based) of a level's tcb: v3 "sgxtcbcomponents"/
 * "tdxtcbcomponents" arrays of {svn}, or v2 "sgxtcbcompNNsvn" keys. */
static tr_err *comp_svn(const json_t *tcb, const char *arr, int i, int64_t *out) {
  json_t *a = json_object_get(tcb, arr);
  if (a) {
    if (!json_is_array(a) || json_array_size(a) != 16)
      return tr_err_new(TR_E_INVALID, "tcbLevels: `%s` is not an array of 16 components", arr);
    return tr_json_get_int(json_array_get(a, (size_t)i), arr, "svn", out);
  }
  if (strcmp(arr, "sgxtcbcomponents") != 0) return tr_err_new(TR_E_INVALID, "tcbLevels: `%s` missing", arr);
  char key[32];
  snprintf(key, sizeof(key), "sgxtcbcomp%02dsvn", (i + 1) & 0x1f);
  return tr_json_get_int(tcb, "tcbLevels.tcb", key, out);
}

static tr_err *platform_level(const json_t *tcb_info, bool tdx, const tr_dcap_platform *p,
                              const uint8_t *tee_svn, level *out, bool *found) {
  json_t *levels;
  tr_err *e = tr_json_get_array(tcb_info, "tcbInfo", "tcbLevels", &levels);
  if (e) return e;
  *found = false;
  size_t i;
  json_t *lv;
  json_array_foreach(levels, i, lv) {
    json_t *tcb;
    if ((e = tr_json_get_object(lv, "tcbLevels[]", "tcb", &tcb))) return e;
    bool ok = true;
    for (int c = 0; ok && c < 16; c++) {
      int64_t svn;
      if ((e = comp_svn(tcb, "sgxtcbcomponents", c, &svn))) return e;
      ok = p->comps[c] >= svn;
    }
    int64_t pcesvn;
    if ((e = tr_json_get_int(tcb, "tcbLevels[].tcb", "pcesvn", &pcesvn))) return e;
    ok = ok && p->pcesvn >= pcesvn;
    if (ok && tdx) {
      for (int c = tee_svn[1] > 0 ? 2 : 0; ok && c < 16; c++) {
        int64_t svn;
        if ((e = comp_svn(tcb, "tdxtcbcomponents", c, &svn))) return e;
        ok = tee_svn[c] >= svn;
      }
    }
    if (ok) {
      *found = true;
      return read_level(lv, "tcbLevels[]", out);
    }
  }
  return NULL;
}

static tr_tcb_status converge(tr_tcb_status platform, tr_tcb_status comp) {
  if (comp == TR_TCB_REVOKED) return TR_TCB_REVOKED;
  if (comp == TR_TCB_OUT_OF_DATE) {
    if (platform == TR_TCB_UP_TO_DATE || platform == TR_TCB_SW_HARDENING_NEEDED) return TR_TCB_OUT_OF_DATE;
    if (platform == TR_TCB_CONFIGURATION_NEEDED || platform == TR_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED)
      return TR_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED;
  }
  return platform;
}

static void add_advisories(json_t *out, const json_t *list) {
  size_t i, j;
  json_t *v, *w;
  json_array_foreach(list, i, v) {
    if (!json_is_string(v)) continue;
    bool dup = false;
    json_array_foreach(out, j, w) dup = dup || json_equal(v, w);
    if (!dup) json_array_append(out, v);
  }
}

/* The TDX module identity check and level. has=false for module version 0. */
static tr_err *module_level(const json_t *tcb_info, const uint8_t *body, const uint8_t *tee_svn,
                            tr_tcb_result *r, level *out, bool *has) {
  *has = false;
  uint8_t mrsigner[48], attrs[8], mask[8];
  const uint8_t *seam_attrs = body + TR_TD_SEAM_ATTRIBUTES;
  const uint8_t *seam_signer = body + TR_TD_MRSIGNER_SEAM;
  static const uint8_t zero8[8];
  if (memcmp(seam_attrs, zero8, 8) != 0)
    return tr_err_new(TR_E_VERIFY, "TDX module: SEAM attributes are not zero");
  if (tee_svn[1] == 0) {
    json_t *m;
    tr_err *e = tr_json_get_object(tcb_info, "tcbInfo", "tdxModule", &m);
    if (!e) e = hex_field(m, "tdxModule", "mrsigner", mrsigner, 48);
    if (!e) e = hex_field(m, "tdxModule", "attributes", attrs, 8);
    if (!e) e = hex_field(m, "tdxModule", "attributesMask", mask, 8);
    if (e) return e;
    if (memcmp(mrsigner, seam_signer, 48) != 0)
      return tr_err_new(TR_E_VERIFY, "TDX module: MRSIGNERSEAM does not match tcbInfo.tdxModule");
    if (!masked_eq(seam_attrs, attrs, mask, 8))
      return tr_err_new(TR_E_VERIFY, "TDX module: SEAM attributes do not match tcbInfo.tdxModule");
    return NULL;
  }
  snprintf(r->module_id, sizeof(r->module_id), "TDX_%02X", tee_svn[1]);
  json_t *ids;
  tr_err *e = tr_json_get_array(tcb_info, "tcbInfo", "tdxModuleIdentities", &ids);
  if (e) return e;
  size_t i;
  json_t *m, *found = NULL;
  json_array_foreach(ids, i, m) {
    const char *id;
    if ((e = tr_json_get_string(m, "tdxModuleIdentities[]", "id", &id))) return e;
    if (strcasecmp(id, r->module_id) == 0) found = m;
  }
  if (!found) return tr_err_new(TR_E_VERIFY, "TDX module identity %s not found in tcbInfo", r->module_id);
  e = hex_field(found, r->module_id, "mrsigner", mrsigner, 48);
  if (!e) e = hex_field(found, r->module_id, "attributes", attrs, 8);
  if (!e) e = hex_field(found, r->module_id, "attributesMask", mask, 8);
  if (e) return e;
  if (memcmp(mrsigner, seam_signer, 48) != 0)
    return tr_err_new(TR_E_VERIFY, "TDX module: MRSIGNERSEAM does not match %s", r->module_id);
  if (!masked_eq(seam_attrs, attrs, mask, 8))
    return tr_err_new(TR_E_VERIFY, "TDX module: SEAM attributes do not match %s", r->module_id);
  *has = true;
  return isvsvn_level(found, r->module_id, tee_svn[0], out);
}

/* Platform + module + QE evaluation for one TEE_TCB_SVN. */
static tr_err *evaluate_once(const json_t *tcb_info, const tr_dcap_quote *q, const tr_dcap_platform *p,
                             const uint8_t *tee_svn, const level *qe, tr_tcb_result *r, tr_tcb_status *status,
                             int64_t *date, json_t *adv) {
  bool tdx = q->tee_type == TR_DCAP_TEE_TDX, found;
  level plat, mod;
  tr_err *e = platform_level(tcb_info, tdx, p, tee_svn, &plat, &found);
  if (e) return e;
  if (!found)
    return tr_err_new(TR_E_VERIFY, "TCB not supported: no TCB level of the tcbInfo matches the platform");
  bool has_mod = false;
  if (tdx && (e = module_level(tcb_info, q->body, tee_svn, r, &mod, &has_mod))) return e;
  r->platform = plat.status;
  tr_tcb_status s = converge(plat.status, qe->status);
  /* As QvE: the date and advisories are the matched TCB-info level's; the
   * QE identity and TDX module levels only move the status. */
  int64_t d = plat.date;
  add_advisories(adv, plat.advisories);
  if (has_mod) {
    r->has_module = true;
    r->module = mod.status;
    s = converge(s, mod.status);
  }
  *status = s;
  *date = d;
  return NULL;
}

tr_err *tr_tcb_evaluate(const json_t *tcb_info, const json_t *qe_id, const tr_dcap_quote *q,
                        const tr_dcap_platform *p, tr_tcb_result *r) {
  memset(r, 0, sizeof(*r));
  bool tdx = q->tee_type == TR_DCAP_TEE_TDX;
  /* 1. collateral kind and platform identity */
  const char *id = NULL;
  tr_err *e = tr_json_opt_string(tcb_info, "tcbInfo", "id", &id);
  if (e) return e;
  if (tdx ? (!id || strcmp(id, "TDX") != 0) : (id && strcmp(id, "SGX") != 0))
    return tr_err_new(TR_E_VERIFY, "tcbInfo id \"%s\" does not match the quote's TEE (%s)", id ? id : "",
                      tdx ? "TDX" : "SGX");
  uint8_t fmspc[6], pceid[2];
  if ((e = hex_field(tcb_info, "tcbInfo", "fmspc", fmspc, 6)) ||
      (e = hex_field(tcb_info, "tcbInfo", "pceId", pceid, 2)))
    return e;
  if (memcmp(fmspc, p->fmspc, 6) != 0)
    return tr_err_new(TR_E_VERIFY, "tcbInfo FMSPC does not match the PCK certificate");
  if (memcmp(pceid, p->pceid, 2) != 0)
    return tr_err_new(TR_E_VERIFY, "tcbInfo PCE ID does not match the PCK certificate");
  /* 2. QE identity */
  const char *qid;
  if ((e = tr_json_get_string(qe_id, "enclaveIdentity", "id", &qid))) return e;
  if (strcmp(qid, tdx ? "TD_QE" : "QE") != 0)
    return tr_err_new(TR_E_VERIFY, "QE identity id \"%s\" does not match the quote's TEE (expected %s)", qid,
                      tdx ? "TD_QE" : "QE");
  uint8_t misc[4], misc_mask[4], attr[16], attr_mask[16], signer[32];
  int64_t prodid;
  if ((e = hex_field(qe_id, "enclaveIdentity", "miscselect", misc, 4)) ||
      (e = hex_field(qe_id, "enclaveIdentity", "miscselectMask", misc_mask, 4)) ||
      (e = hex_field(qe_id, "enclaveIdentity", "attributes", attr, 16)) ||
      (e = hex_field(qe_id, "enclaveIdentity", "attributesMask", attr_mask, 16)) ||
      (e = hex_field(qe_id, "enclaveIdentity", "mrsigner", signer, 32)) ||
      (e = tr_json_get_int(qe_id, "enclaveIdentity", "isvprodid", &prodid)))
    return e;
  const uint8_t *rep = q->qe_report;
  /* miscselect: hex is the big-endian u32, the report holds it little-endian. */
  uint8_t rep_misc[4] = {rep[TR_SGX_MISCSELECT + 3], rep[TR_SGX_MISCSELECT + 2], rep[TR_SGX_MISCSELECT + 1],
                         rep[TR_SGX_MISCSELECT]};
  if (!masked_eq(rep_misc, misc, misc_mask, 4))
    return tr_err_new(TR_E_VERIFY, "QE report MISCSELECT does not match the QE identity");
  if (!masked_eq(rep + TR_SGX_ATTRIBUTES, attr, attr_mask, 16))
    return tr_err_new(TR_E_VERIFY, "QE report attributes do not match the QE identity");
  if (memcmp(rep + TR_SGX_MRSIGNER, signer, 32) != 0)
    return tr_err_new(TR_E_VERIFY, "QE report MRSIGNER does not match the QE identity");
  unsigned rep_prod = rep[TR_SGX_ISVPRODID] | rep[TR_SGX_ISVPRODID + 1] << 8;
  if ((int64_t)rep_prod != prodid)
    return tr_err_new(TR_E_VERIFY, "QE report ISVPRODID does not match the QE identity");
  level qe;
  unsigned qe_svn = rep[TR_SGX_ISVSVN] | rep[TR_SGX_ISVSVN + 1] << 8;
  if ((e = isvsvn_level(qe_id, "enclaveIdentity", qe_svn, &qe))) return e;
  /* QVL's EnclaveReportVerifier: any QE level status other than UpToDate
   * and Revoked is ISVSVN_OUT_OF_DATE. */
  if (qe.status != TR_TCB_UP_TO_DATE && qe.status != TR_TCB_REVOKED) qe.status = TR_TCB_OUT_OF_DATE;
  r->qe = qe.status;
  /* 3–5. launch-time evaluation */
  static const uint8_t no_tdx[16];
  const uint8_t *svn = tdx ? q->body + TR_TD_TEE_TCB_SVN : no_tdx;
  r->advisories = json_array();
  r->advisories_current = json_array();
  if (!r->advisories || !r->advisories_current) return tr_err_new(TR_E_NOMEM, "out of memory");
  e = evaluate_once(tcb_info, q, p, svn, &qe, r, &r->status, &r->tcb_date, r->advisories);
  if (e) return e;
  /* 6. TDX 1.5: current TCB and relaunch advice */
  if (tdx && q->body_type == 3) {
    tr_tcb_result scratch = *r;
    e = evaluate_once(tcb_info, q, p, q->body + TR_TD_TEE_TCB_SVN2, &qe, &scratch, &r->status_current,
                      &r->tcb_date_current, r->advisories_current);
    if (e) return tr_err_wrap(e, "current TCB (TEE_TCB_SVN2)");
    tr_tcb_status l = r->status, c = r->status_current;
    bool launch_ood = l == TR_TCB_OUT_OF_DATE || l == TR_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED;
    bool cur_ok = c == TR_TCB_UP_TO_DATE || c == TR_TCB_SW_HARDENING_NEEDED ||
                  c == TR_TCB_CONFIGURATION_NEEDED || c == TR_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED;
    if (launch_ood && cur_ok) {
      bool cfg = l == TR_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED || c == TR_TCB_CONFIGURATION_NEEDED ||
                 c == TR_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED;
      r->status = cfg ? TR_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED : TR_TCB_TD_RELAUNCH_ADVISED;
    }
  } else {
    r->status_current = r->status;
    r->tcb_date_current = r->tcb_date;
    add_advisories(r->advisories_current, r->advisories);
  }
  return NULL;
}
