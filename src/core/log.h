/* log.h — levelled logging to stderr with timestamps and a per-thread
 * request id. The level is configuration read once at start-up
 * (tr_log_init): TRUSTEE_LOG, else RUST_LOG (which upstream's Helm charts and
 * compose files set), else "info". Values: error, warn, info, debug, trace;
 * a RUST_LOG-style list ("info,kbs=debug") uses its first bare level. */
#ifndef TRUSTEE_CORE_LOG_H
#define TRUSTEE_CORE_LOG_H

#include <stdbool.h>

#include "core/error.h"

typedef enum { TR_LOG_ERROR = 0, TR_LOG_WARN, TR_LOG_INFO, TR_LOG_DEBUG, TR_LOG_TRACE } tr_log_level;

void tr_log_init(void);
void tr_log_set_level(tr_log_level level);
/* Parses a level name; returns false when unknown. */
bool tr_log_parse_level(const char *s, tr_log_level *out);
bool tr_log_enabled(tr_log_level level);
/* The id appears in every line this thread logs until cleared (NULL). */
void tr_log_set_request_id(const char *id);
void tr_log(tr_log_level level, const char *module, const char *fmt, ...) TR_PRINTF(3, 4);

#define TR_ERROR(mod, ...) tr_log(TR_LOG_ERROR, mod, __VA_ARGS__)
#define TR_WARN(mod, ...) tr_log(TR_LOG_WARN, mod, __VA_ARGS__)
#define TR_INFO(mod, ...) tr_log(TR_LOG_INFO, mod, __VA_ARGS__)
#define TR_DEBUG(mod, ...)                                                                                   \
  do {                                                                                                       \
    if (tr_log_enabled(TR_LOG_DEBUG)) tr_log(TR_LOG_DEBUG, mod, __VA_ARGS__);                                \
  } while (0)

#endif
