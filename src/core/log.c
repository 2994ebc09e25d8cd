#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Configuration read at start-up (and by tests); never changed while
 * worker threads run. */
static tr_log_level configured_level = TR_LOG_INFO;
static _Thread_local char request_id[64];

static const char *const level_names[] = {"ERROR", "WARN", "INFO", "DEBUG", "TRACE"};

bool tr_log_parse_level(const char *s, tr_log_level *out) {
  static const char *const names[] = {"error", "warn", "info", "debug", "trace"};
  for (int i = 0; i < 5; i++) {
    if (!strcasecmp(s, names[i])) {
      *out = (tr_log_level)i;
      return true;
    }
  }
  if (!strcasecmp(s, "warning")) {
    *out = TR_LOG_WARN;
    return true;
  }
  return false;
}

void tr_log_init(void) {
  const char *v = getenv("TRUSTEE_LOG");
  if (!v || !*v) v = getenv("RUST_LOG");
  if (!v || !*v) return;
  char copy[256];
  snprintf(copy, sizeof copy, "%s", v);
  for (char *tok = strtok(copy, ","); tok; tok = strtok(NULL, ",")) {
    tr_log_level lvl;
    if (!strchr(tok, '=') && tr_log_parse_level(tok, &lvl)) {
      configured_level = lvl;
      return;
    }
  }
}

void tr_log_set_level(tr_log_level level) { configured_level = level; }

bool tr_log_enabled(tr_log_level level) { return level <= configured_level; }

void tr_log_set_request_id(const char *id) {
  if (!id) {
    request_id[0] = 0;
    return;
  }
  snprintf(request_id, sizeof request_id, "%s", id);
}

void tr_log(tr_log_level level, const char *module, const char *fmt, ...) {
  if (!tr_log_enabled(level)) return;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  char stamp[40];
  strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
  char line[4096];
  int n = snprintf(line, sizeof line, "[%s.%03ldZ %s %s%s%s] ", stamp, ts.tv_nsec / 1000000,
                   level_names[level], module ? module : "trustee", request_id[0] ? " req=" : "", request_id);
  if (n < 0) return;
  va_list ap;
  va_start(ap, fmt);
  if ((size_t)n < sizeof line) vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
  va_end(ap);
  /* Messages carry client-chosen text: control bytes are written as \xNN so
   * that a newline cannot forge a log line nor an escape sequence reach a
   * terminal. */
  char out[sizeof line + 64];
  size_t o = 0;
  for (const unsigned char *p = (const unsigned char *)line; *p && o + 5 < sizeof out; p++) {
    if (*p < 0x20 || *p == 0x7f) {
      static const char hex[] = "0123456789abcdef";
      out[o++] = '\\';
      out[o++] = 'x';
      out[o++] = hex[*p >> 4];
      out[o++] = hex[*p & 15];
    } else {
      out[o++] = (char)*p;
    }
  }
  out[o] = 0;
  /* One write per line so concurrent threads do not interleave. */
  fprintf(stderr, "%s\n", out);
}
