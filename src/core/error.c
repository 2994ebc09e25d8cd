#include "core/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tr_err {
  tr_code code;
  char *msg;
};

/* Returned when we cannot even allocate an error; never freed. */
static const struct tr_err oom_error = {TR_E_NOMEM, (char *)"out of memory"};

static tr_err *oom(void) { return (tr_err *)&oom_error; }

tr_err *tr_err_newv(tr_code code, const char *fmt, va_list ap) {
  tr_err *e = malloc(sizeof(*e));
  if (!e) return oom();
  e->code = code;
  if (vasprintf(&e->msg, fmt, ap) < 0) {
    free(e);
    return oom();
  }
  return e;
}

tr_err *tr_err_new(tr_code code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  tr_err *e = tr_err_newv(code, fmt, ap);
  va_end(ap);
  return e;
}

tr_err *tr_err_wrap(tr_err *cause, const char *fmt, ...) {
  if (!cause) return NULL;
  if (cause == oom()) return cause;
  char *ctx = NULL;
  va_list ap;
  va_start(ap, fmt);
  int n = vasprintf(&ctx, fmt, ap);
  va_end(ap);
  if (n < 0) return cause; /* keep the inner message rather than lose it */
  char *joined = NULL;
  if (asprintf(&joined, "%s: %s", ctx, cause->msg) < 0) {
    free(ctx);
    return cause;
  }
  free(ctx);
  free(cause->msg);
  cause->msg = joined;
  return cause;
}

tr_err *tr_err_recode(tr_err *cause, tr_code code) {
  if (!cause || cause == oom()) return cause;
  cause->code = code;
  return cause;
}

tr_code tr_err_code(const tr_err *e) { return e ? e->code : 0; }

const char *tr_err_msg(const tr_err *e) { return e ? e->msg : "success"; }

const char *tr_code_name(tr_code code) {
  switch (code) {
  case TR_E_INVALID: return "invalid";
  case TR_E_NOTFOUND: return "not found";
  case TR_E_DENIED: return "denied";
  case TR_E_AUTH: return "unauthorized";
  case TR_E_EXPIRED: return "expired";
  case TR_E_CONFLICT: return "conflict";
  case TR_E_UNSUPPORTED: return "unsupported";
  case TR_E_LIMIT: return "limit exceeded";
  case TR_E_IO: return "i/o";
  case TR_E_CRYPTO: return "crypto";
  case TR_E_VERIFY: return "verification failed";
  case TR_E_INTERNAL: return "internal";
  case TR_E_NOMEM: return "out of memory";
  case TR_E_TYPE: return "type";
  }
  return "unknown";
}

void tr_err_free(tr_err *e) {
  if (!e || e == oom()) return;
  free(e->msg);
  free(e);
}

int tr_err_consume(tr_err *e) {
  int c = (int)tr_err_code(e);
  tr_err_free(e);
  return c;
}
