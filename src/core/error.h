/* error.h — the error type every fallible function in trustee-c returns.
 *
 * Convention: a function that can fail returns `tr_err *` — NULL on success,
 * otherwise an error the caller owns and must either free (tr_err_free) or
 * pass up, usually after adding context with tr_err_wrap:
 *
 *     tr_err *e = snp_verify_report(...);
 *     if (e) return tr_err_wrap(e, "snp");
 *
 * Messages chain outer-to-inner with ": ", so a user reads one line such as
 * `attest: evidence: snp: report signature does not verify with the VCEK`.
 * The code is chosen where the error is born and survives wrapping; it maps
 * to HTTP/gRPC statuses and Rego error codes at the edges.
 *
 * Out of memory never returns NULL: tr_err_* fall back to a static error
 * (freeing it is a no-op), so an allocation failure cannot look like success. */
#ifndef TRUSTEE_CORE_ERROR_H
#define TRUSTEE_CORE_ERROR_H

#include <stdarg.h>

typedef enum {
  TR_E_INVALID = 1, /* malformed or semantically wrong input */
  TR_E_NOTFOUND,    /* named thing does not exist */
  TR_E_DENIED,      /* policy said no */
  TR_E_AUTH,        /* authentication/authorization failed (bad token, bad cookie) */
  TR_E_EXPIRED,     /* token/session/collateral expired */
  TR_E_CONFLICT,    /* conflicting values / already exists */
  TR_E_UNSUPPORTED, /* valid but not implemented/configured here */
  TR_E_LIMIT,       /* size/depth/time limit exceeded */
  TR_E_IO,          /* file, socket, database */
  TR_E_CRYPTO,      /* a cryptographic operation failed to run */
  TR_E_VERIFY,      /* evidence/signature/chain did not verify */
  TR_E_INTERNAL,    /* a bug or an impossible state */
  TR_E_NOMEM,       /* allocation failure */
  TR_E_TYPE,        /* type error (Rego eval_type_error) */
} tr_code;

typedef struct tr_err tr_err;

#if defined(__GNUC__)
#define TR_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define TR_PRINTF(f, a)
#endif

/* A new error with a printf-style message. Never returns NULL. */
tr_err *tr_err_new(tr_code code, const char *fmt, ...) TR_PRINTF(2, 3);
tr_err *tr_err_newv(tr_code code, const char *fmt, va_list ap);

/* Prefix `cause` with context ("context: cause") and return it.
 * Takes ownership of cause. A NULL cause yields NULL (so wrapping a success
 * is harmless). */
tr_err *tr_err_wrap(tr_err *cause, const char *fmt, ...) TR_PRINTF(2, 3);

/* Same, but also replaces the code. */
tr_err *tr_err_recode(tr_err *cause, tr_code code);

tr_code tr_err_code(const tr_err *e);
/* The whole chain as one line. Valid until the error is freed. */
const char *tr_err_msg(const tr_err *e);
/* Stable lower-case name of a code ("invalid", "not found", ...). */
const char *tr_code_name(tr_code code);
void tr_err_free(tr_err *e);

/* Convenience: free e and return its code (0 if NULL). */
int tr_err_consume(tr_err *e);

#endif
