/* Concurrency: keys and a trust store shared read-only by several threads
 * (signing, verifying, encrypting, decrypting, chain verification, key
 * references taken and dropped) must work without interference. Run under
 * the sanitizer build for memory errors. */
#include <pthread.h>

#include "crypto/jwe.h"
#include "crypto/jws.h"
#include "crypto/x509.h"
#include "test_util.h"

typedef struct {
  tr_jwk *ec, *ed;
  tr_x509_store *store;
  X509 *vcek;
  STACK_OF(X509) * ask;
  int failures;
} shared;

static void *worker(void *arg) {
  shared *s = arg;
  tr_x509_verify_opts at = {.check_time = true, .at_time = 1798761600};
  for (int i = 0; i < 25; i++) {
    tr_jwk *ref = tr_jwk_ref(s->ec);
    char *tok = NULL, *jwe = NULL;
    uint8_t *pt = NULL;
    size_t n = 0;
    json_t *claims = json_pack("{s:i,s:I}", "i", i, "exp", (json_int_t)4102444800), *out = NULL;
    tr_err *e = tr_jwt_sign(ref, "ES256", NULL, claims, &tok);
    if (!e) e = tr_jwt_verify(tok, strlen(tok), s->ec, "ES256", NULL, &out);
    if (!e) e = tr_jwe_encrypt_compact(s->ec, "ECDH-ES+A256KW", "A256GCM", tok, strlen(tok), &jwe);
    if (!e) e = tr_jwe_decrypt(s->ec, jwe, strlen(jwe), &pt, &n);
    if (!e && (n != strlen(tok) || memcmp(pt, tok, n) != 0))
      e = tr_err_new(TR_E_INTERNAL, "round trip mismatch");
    free(tok);
    tok = NULL;
    if (!e) e = tr_jws_sign(s->ed, "EdDSA", NULL, "x", 1, &tok);
    if (!e) e = tr_x509_verify_chain(s->store, s->vcek, s->ask, &at);
    if (e) {
      fprintf(stderr, "thread failure: %s\n", tr_err_msg(e));
      __atomic_add_fetch(&s->failures, 1, __ATOMIC_SEQ_CST);
      tr_err_free(e);
    }
    json_decref(claims);
    json_decref(out);
    free(tok);
    free(jwe);
    free(pt);
    tr_jwk_free(ref);
  }
  return NULL;
}

static void test_shared_keys_and_store(void **state) {
  (void)state;
  shared s = {0};
  ok(tr_jwk_generate("P-256", &s.ec));
  ok(tr_jwk_generate("Ed25519", &s.ed));
  ok(tr_x509_store_new(&s.store));
  size_t n;
  uint8_t *bundle = read_vector("milan_ask_ark_asvk.pem", &n);
  STACK_OF(X509) *milan = NULL;
  ok(tr_x509_parse_bundle(bundle, n, &milan));
  free(bundle);
  ok(tr_x509_store_add(s.store, sk_X509_value(milan, 1)));
  s.ask = sk_X509_new_null();
  sk_X509_push(s.ask, sk_X509_value(milan, 0));
  uint8_t *der = read_vector("deps/verifier/test_data/snp/test-vcek.der", &n);
  ok(tr_x509_parse(der, n, &s.vcek));
  free(der);
  pthread_t t[4];
  for (int i = 0; i < 4; i++)
    assert_int_equal(pthread_create(&t[i], NULL, worker, &s), 0);
  for (int i = 0; i < 4; i++)
    pthread_join(t[i], NULL);
  assert_int_equal(s.failures, 0);
  X509_free(s.vcek);
  sk_X509_free(s.ask);
  tr_x509_stack_free(milan);
  tr_x509_store_free(s.store);
  tr_jwk_free(s.ec);
  tr_jwk_free(s.ed);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_shared_keys_and_store)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
