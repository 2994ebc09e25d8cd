/* rvps_message.c — the register message, the pre-processor chain and the
 * extractor table. Everything here is pure: bytes in, reference-value
 * records out; storing them is rvps.c's job.
 *
 * Pipeline:  parse message -> check version -> pre-processors (in order)
 *            -> extractor[type] -> records {version,name,expiration,value}
 *
 * The pre-processor stage is upstream's documented "ware" chain: each entry
 * may inspect or rewrite the parsed message or reject it. The table is empty
 * by default (upstream never shipped one); it exists so that message-level
 * policies (allowed types, provenance signature checks) have one place. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/encoding.h"
#include "core/json.h"
#include "kv/kv.h"
#include "rvps/rvps.h"

/* ---- time ---------------------------------------------------------------- */

tr_err *tr_rvps_parse_time(const char *s, int64_t *out) {
  /* exactly YYYY-MM-DDTHH:MM:SSZ (upstream's "%Y-%m-%dT%H:%M:%SZ") */
  static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";
  if (!s || strlen(s) != sizeof shape - 1) goto bad;
  for (size_t i = 0; i < sizeof shape - 1; i++) {
    if (shape[i] == 'd' ? !isdigit((unsigned char)s[i]) : s[i] != shape[i]) goto bad;
  }
  struct tm tm = {0};
  tm.tm_year = atoi(s) - 1900;
  tm.tm_mon = atoi(s + 5) - 1;
  tm.tm_mday = atoi(s + 8);
  tm.tm_hour = atoi(s + 11);
  tm.tm_min = atoi(s + 14);
  tm.tm_sec = atoi(s + 17);
  int mon = tm.tm_mon, mday = tm.tm_mday, hour = tm.tm_hour, min = tm.tm_min, sec = tm.tm_sec;
  if (mon < 0 || mon > 11 || mday < 1 || hour > 23 || min > 59 || sec > 59) goto bad;
  time_t t = timegm(&tm);
  /* timegm normalises: a day that does not exist in that month changes. */
  if (tm.tm_mon != mon || tm.tm_mday != mday) goto bad;
  *out = (int64_t)t;
  return NULL;
bad:
  return tr_err_new(TR_E_INVALID, "invalid time `%.40s` (expected YYYY-MM-DDTHH:MM:SSZ)", s ? s : "");
}

void tr_rvps_format_time(int64_t t, char buf[32]) {
  time_t tt = (time_t)t;
  struct tm tm;
  if (!gmtime_r(&tt, &tm)) {
    snprintf(buf, 32, "9999-12-31T23:59:59Z");
    return;
  }
  strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* now + 12 months, as chrono's checked_add_months (day clamped to the end of
 * the month: Feb 29 + 12 months = Feb 28). */
static int64_t default_expiration(int64_t now) {
  time_t tt = (time_t)now;
  struct tm tm;
  if (!gmtime_r(&tt, &tm)) return now + 365 * 86400;
  tm.tm_year += 1;
  if (tm.tm_mon == 1 && tm.tm_mday == 29) tm.tm_mday = 28;
  return (int64_t)timegm(&tm);
}

/* ---- records -------------------------------------------------------------- */

static tr_err *new_record(const char *name, json_t *value, int64_t expiration, json_t **out) {
  tr_err *e = tr_kv_check_key(name);
  if (e) return tr_err_wrap(e, "reference value name");
  char ts[32];
  tr_rvps_format_time(expiration, ts);
  json_t *rec = json_object();
  if (!rec || json_object_set_new(rec, "version", json_string(TR_RVPS_MESSAGE_VERSION)) ||
      json_object_set_new(rec, "name", json_string(name)) ||
      json_object_set_new(rec, "expiration", json_string(ts)) || json_object_set(rec, "value", value)) {
    json_decref(rec);
    return tr_err_new(TR_E_NOMEM, "out of memory");
  }
  *out = rec;
  return NULL;
}

/* ---- extractors ------------------------------------------------------------ */

typedef tr_err *(*extract_fn)(const char *payload, int64_t now, json_t *records);

/* sample: payload = base64 (standard alphabet, padded) of a JSON object;
 * each member becomes one reference value, its JSON value kept as is. No
 * signature is verified (upstream: "WITHOUT verifying any signatures"). */
static tr_err *extract_sample(const char *payload, int64_t now, json_t *records) {
  uint8_t *raw;
  size_t n;
  tr_err *e = tr_b64_decode(payload, (size_t)-1, TR_B64_STD, &raw, &n);
  if (e) return tr_err_wrap(e, "payload: base64 decode");
  json_t *obj;
  e = tr_json_parse((const char *)raw, n, &obj);
  free(raw);
  if (e) return tr_err_wrap(e, "payload: deserialize sample provenance");
  if (!json_is_object(obj)) {
    e = tr_err_new(TR_E_INVALID, "payload: sample provenance must be a JSON object, got %s",
                   tr_json_type_name(obj));
    json_decref(obj);
    return e;
  }
  int64_t exp = default_expiration(now);
  const char *name;
  json_t *value;
  json_object_foreach(obj, name, value) {
    json_t *rec = NULL;
    e = new_record(name, value, exp, &rec);
    if (e) {
      e = tr_err_wrap(e, "payload: member `%.64s`", name);
      break;
    }
    if (json_array_append_new(records, rec)) {
      e = tr_err_new(TR_E_NOMEM, "out of memory");
      break;
    }
  }
  json_decref(obj);
  return e;
}

static const struct {
  const char *type;
  extract_fn fn; /* NULL: known upstream, not supported here yet */
} extractors[] = {
    {"sample", extract_sample},
    {"swid", NULL},
    {"corim", NULL},
};

/* ---- pre-processors ---------------------------------------------------------- */

/* A filter sees the parsed message (and may rewrite it) before extraction. */
typedef tr_err *(*preprocessor_fn)(json_t *message);
static const preprocessor_fn preprocessors[] = {NULL}; /* empty chain; NULL-terminated */

/* ---- message ------------------------------------------------------------------- */

tr_err *tr_rvps_extract(const char *msg, size_t len, int64_t now, json_t **records) {
  *records = NULL;
  if (len > TR_RVPS_MAX_MESSAGE)
    return tr_err_new(TR_E_LIMIT, "message larger than %u bytes", TR_RVPS_MAX_MESSAGE);
  json_t *m;
  tr_err *e = tr_json_parse(msg, len, &m);
  if (e) return tr_err_wrap(e, "parse message");
  if (!json_is_object(m)) {
    e = tr_err_new(TR_E_INVALID, "parse message: expected a JSON object, got %s", tr_json_type_name(m));
    goto out;
  }
  const char *version = TR_RVPS_MESSAGE_VERSION, *type = NULL, *payload = NULL, *prov = NULL;
  if ((e = tr_json_opt_string(m, NULL, "version", &version)) ||
      (e = tr_json_get_string(m, NULL, "type", &type)) ||
      (e = tr_json_opt_string(m, NULL, "payload", &payload)) ||
      (e = tr_json_opt_string(m, NULL, "provenance", &prov))) {
    e = tr_err_wrap(e, "parse message");
    goto out;
  }
  if (strcmp(version, TR_RVPS_MESSAGE_VERSION) != 0) {
    e = tr_err_new(TR_E_INVALID, "Version unmatched! Need %s, given %.32s.", TR_RVPS_MESSAGE_VERSION,
                   version);
    goto out;
  }
  if (payload && prov && strcmp(payload, prov) != 0) {
    e = tr_err_new(TR_E_INVALID,
                   "parse message: both `payload` and `provenance` given, with different values");
    goto out;
  }
  if (!payload) payload = prov;
  if (!payload) {
    e = tr_err_new(TR_E_INVALID, "parse message: missing field `payload` (or `provenance`)");
    goto out;
  }
  for (size_t i = 0; preprocessors[i]; i++)
    if ((e = preprocessors[i](m))) {
      e = tr_err_wrap(e, "pre-processor");
      goto out;
    }
  extract_fn fn = NULL;
  bool known = false;
  for (size_t i = 0; i < sizeof extractors / sizeof extractors[0]; i++)
    if (!strcmp(type, extractors[i].type)) {
      known = true;
      fn = extractors[i].fn;
    }
  if (!known) {
    e = tr_err_new(TR_E_INVALID, "Could not find extractor for `%.64s` (known: sample, swid, corim)", type);
    goto out;
  }
  if (!fn) {
    e = tr_err_new(TR_E_UNSUPPORTED, "extractor `%s` not supported yet", type);
    goto out;
  }
  json_t *recs = json_array();
  if (!recs) {
    e = tr_err_new(TR_E_NOMEM, "out of memory");
    goto out;
  }
  e = fn(payload, now, recs);
  if (e) {
    json_decref(recs);
    e = tr_err_wrap(e, "extractor `%s`", type);
    goto out;
  }
  *records = recs;
out:
  json_decref(m);
  return e;
}
