#include "kbs/errors.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"

#define ERR_TYPE_PREFIX "https://github.com/confidential-containers/kbs/errors/"

static const struct {
  const char *variant;
  const char *display; /* upstream Display text, the part before any cause */
} kinds[] = {
    [KBS_E_ADMIN_AUTH_INITIALIZATION] = {"AdminAuthInitialization",
                                         "failed to initialize [admin] configuration"},
    [KBS_E_ADMIN_AUTH_ACCESS] = {"AdminAuthAccess", "admin access denied for endpoint %s"},
    [KBS_E_ATTESTATION] = {"AttestationError", "Attestation error"},
    [KBS_E_INVALID_REQUEST_PATH] = {"InvalidRequestPath", "Request path %s is invalid"},
    [KBS_E_JWE] = {"JweError", "JWE failed"},
    [KBS_E_PLUGIN_NOT_FOUND] = {"PluginNotFound", "Plugin %s not found"},
    [KBS_E_PLUGIN_INTERNAL] = {"PluginInternalError", "Plugin internal error"},
    [KBS_E_POLICY_DENY] = {"PolicyDeny", "Access denied by policy"},
    [KBS_E_PARSE_POLICY] = {"ParsePolicyError", "Failed to parse policy"},
    [KBS_E_POLICY_ENGINE] = {"PolicyEngineError", "Policy engine error"},
    [KBS_E_RVPS] = {"RvpsError", "RVPS configuration failed"},
    [KBS_E_SERDE] = {"SerdeError", "Serialize/Deserialize failed"},
    [KBS_E_TOKEN_NOT_FOUND] = {"TokenNotFound", "Attestation Token not found"},
    [KBS_E_TOKEN_VERIFIER] = {"TokenVerifierError", "Token Verifier error"},
    [KBS_E_PROMETHEUS] = {"PrometheusError", "Prometheus error"},
    [KBS_E_RESOURCE_NOT_FOUND] = {"PluginInternalError", "Plugin internal error"},
};

const char *kbs_error_variant(kbs_error_kind k) { return kinds[k].variant; }

int kbs_error_status(kbs_error_kind k) {
  switch (k) {
  case KBS_E_PLUGIN_NOT_FOUND:
  case KBS_E_INVALID_REQUEST_PATH:
  case KBS_E_RESOURCE_NOT_FOUND: return 404;
  default: return 401;
  }
}

void kbs_error_respond(kbs_http_resp *resp, kbs_error_kind k, int status_override, const char *cause) {
  char type[128];
  snprintf(type, sizeof type, ERR_TYPE_PREFIX "%s", kinds[k].variant);
  char *detail = NULL;
  /* Display templates with a %s take the cause in place (e.g. "Plugin %s
   * not found"); the others get ": cause" appended. */
  const char *tpl = kinds[k].display;
  const char *pct = strstr(tpl, "%s");
  if (pct) {
    if (asprintf(&detail, "%.*s%s%s", (int)(pct - tpl), tpl, cause ? cause : "", pct + 2) < 0) detail = NULL;
  } else if (cause && *cause) {
    if (asprintf(&detail, "%s: %s", tpl, cause) < 0) detail = NULL;
  } else {
    detail = strdup(tpl);
  }
  json_t *o = json_object();
  json_object_set_new(o, "type", json_string(type));
  json_object_set_new(o, "detail", detail ? json_string(detail) : json_string(kinds[k].display));
  /* json_string fails on invalid UTF-8 in the cause: fall back to the bare text. */
  if (!json_object_get(o, "detail")) json_object_set_new(o, "detail", json_string(kinds[k].display));
  free(detail);
  char *body = tr_json_dump_compact(o);
  json_decref(o);
  kbs_http_resp_set(resp, status_override ? status_override : kbs_error_status(k), "application/json", body,
                    body ? strlen(body) : 0);
}

void kbs_error_respondf(kbs_http_resp *resp, kbs_error_kind k, int status_override, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *cause = NULL;
  if (vasprintf(&cause, fmt, ap) < 0) cause = NULL;
  va_end(ap);
  kbs_error_respond(resp, k, status_override, cause);
  free(cause);
}

void kbs_error_respond_err(kbs_http_resp *resp, kbs_error_kind k, int status_override, tr_err *e) {
  kbs_error_respond(resp, k, status_override, e ? tr_err_msg(e) : NULL);
  tr_err_free(e);
}
