/* table.c — every compiled-in verifier, one line each.
 *
 * To add a verifier: define `const tr_verifier_ops tr_verifier_<name>` in
 * src/verifier/<name>/ (its `.tee` member is the kbs-types TEE name, e.g.
 * "az-snp-vtpm" for tr_verifier_az_snp_vtpm), then add ONE line
 * `  X(<name>) \` to TR_VERIFIER_LIST below. Nothing else in this file
 * changes: the extern declarations and the table are generated from it. */
#include <pthread.h>
#include <string.h>

#include "verifier/verifier.h"

#define TR_VERIFIER_LIST(X)                                                                                  \
  X(sample)                                                                                                  \
  X(sampledevice)                                                                                            \
  X(snp)                                                                                                     \
  X(az_snp_vtpm)                                                                                             \
  X(az_tdx_vtpm)                                                                                             \
  X(tpm)                                                                                                     \
  X(tdx)                                                                                                     \
  X(sgx)                                                                                                     \
  /* other helpers: add `X(<name>) \` above this line, one line per verifier */

#define TR_DECLARE(name) extern const tr_verifier_ops tr_verifier_##name;
TR_VERIFIER_LIST(TR_DECLARE)
#undef TR_DECLARE

#define TR_ENTRY(name) &tr_verifier_##name,
static const tr_verifier_ops *const table[] = {TR_VERIFIER_LIST(TR_ENTRY)};
#undef TR_ENTRY

#define NVERIFIERS (sizeof(table) / sizeof(table[0]))

const tr_verifier_ops *tr_verifier_lookup(const char *tee) {
  if (!tee) return NULL;
  for (size_t i = 0; i < NVERIFIERS; i++)
    if (strcmp(table[i]->tee, tee) == 0) return table[i];
  return NULL;
}

static const char *names[NVERIFIERS + 1];
static pthread_once_t names_once = PTHREAD_ONCE_INIT;

static void fill_names(void) {
  for (size_t i = 0; i < NVERIFIERS; i++)
    names[i] = table[i]->tee;
  names[NVERIFIERS] = NULL;
}

const char *const *tr_verifier_names(void) {
  pthread_once(&names_once, fill_names);
  return names;
}
