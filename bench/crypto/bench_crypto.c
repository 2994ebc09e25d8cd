/* bench_crypto — the crypto module against the raw OpenSSL primitives it is
 * built from, measured in the same process:
 *
 *   jwe-ecdh   tr_jwe_encrypt_flattened(ECDH-ES+A256KW, A256GCM, 1 KiB)
 *              vs raw: P-256 keygen (from a parameters-only template key
 *              made once, the fastest way OpenSSL 3 offers) + ECDH (peer
 *              already validated, as a
 *              parsed tr_jwk is) + SHA-256 Concat KDF + AES-KW + AES-256-GCM
 *              (random CEK/IV) + export of the ephemeral public point — the
 *              same work without JOSE.
 *   es256-sign tr_jws_sign(ES256) of a JWT-sized payload vs raw
 *              EVP_DigestSign(SHA-256, P-256) of the same signing input.
 *   es256-verify tr_jws_parse + tr_jws_verify vs raw EVP_DigestVerify.
 *
 * Output: one line per case "name module_ops raw_ops ratio" (ops/s);
 * run.sh adds `openssl speed` figures measured in the same run. */
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/jwe.h"
#include "crypto/jwk.h"
#include "crypto/jws.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double seconds = 1.0;

/* ops/s of `body`, run for `seconds`. */
#define MEASURE1(var, body)                                                                                  \
  do {                                                                                                       \
    long n_ = 0;                                                                                             \
    double t0_ = now(), t_;                                                                                  \
    do {                                                                                                     \
      for (int i_ = 0; i_ < 8; i_++) {                                                                       \
        body;                                                                                                \
      }                                                                                                      \
      n_ += 8;                                                                                               \
    } while ((t_ = now() - t0_) < seconds / ROUNDS);                                                         \
    var = (double)n_ / t_;                                                                                   \
  } while (0)

/* The machine is shared: module and raw alternate in ROUNDS short runs and
 * the best run of each counts, so a burst of other load hits both alike. */
#define ROUNDS 6
#define COMPARE(name, mod_body, raw_body)                                                                    \
  do {                                                                                                       \
    double best_m = 0, best_r = 0, m_, r_;                                                                   \
    for (int round_ = 0; round_ < ROUNDS; round_++) {                                                        \
      MEASURE1(m_, mod_body);                                                                                \
      MEASURE1(r_, raw_body);                                                                                \
      if (m_ > best_m) best_m = m_;                                                                          \
      if (r_ > best_r) best_r = r_;                                                                          \
    }                                                                                                        \
    report(name, best_m, best_r);                                                                            \
  } while (0)

static void die(const char *what) {
  fprintf(stderr, "bench_crypto: %s failed\n", what);
  exit(1);
}

static void check(tr_err *e) {
  if (e) {
    fprintf(stderr, "bench_crypto: %s\n", tr_err_msg(e));
    exit(1);
  }
}

/* The JWE work without JOSE: what a hand-written ECDH-ES+A256KW would do. */
static void raw_jwe(EVP_PKEY *tmpl, EVP_PKEY *peer, const uint8_t *pt, size_t len, uint8_t *out) {
  EVP_PKEY *eph = NULL;
  EVP_PKEY_CTX *g = EVP_PKEY_CTX_new_from_pkey(NULL, tmpl, NULL);
  if (!g || EVP_PKEY_keygen_init(g) != 1 || EVP_PKEY_generate(g, &eph) != 1) die("raw keygen");
  EVP_PKEY_CTX_free(g);
  uint8_t z[32], kdf_in[4 + 32 + 4 + 14 + 12], kek[32], cek[32], iv[12], ek[40], tag[16];
  size_t zl = sizeof z;
  EVP_PKEY_CTX *d = EVP_PKEY_CTX_new(eph, NULL);
  if (!eph || !d || EVP_PKEY_derive_init(d) != 1 || EVP_PKEY_derive_set_peer_ex(d, peer, 0) != 1 ||
      EVP_PKEY_derive(d, z, &zl) != 1)
    die("raw ECDH");
  memcpy(kdf_in, "\0\0\0\1", 4);
  memcpy(kdf_in + 4, z, 32);
  memcpy(kdf_in + 36,
         "\0\0\0\x0e"
         "ECDH-ES+A256KW",
         18);
  memcpy(kdf_in + 54, "\0\0\0\0\0\0\0\0\0\0\1\0", 12);
  SHA256(kdf_in, sizeof kdf_in, kek);
  RAND_bytes(cek, sizeof cek);
  RAND_bytes(iv, sizeof iv);
  EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
  int n = 0, f = 0;
  EVP_CIPHER_CTX_set_flags(c, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
  if (EVP_EncryptInit_ex(c, EVP_aes_256_wrap(), NULL, kek, NULL) != 1 ||
      EVP_EncryptUpdate(c, ek, &n, cek, 32) != 1 || EVP_EncryptFinal_ex(c, ek + n, &f) != 1)
    die("raw AES-KW");
  EVP_CIPHER_CTX_free(c);
  c = EVP_CIPHER_CTX_new();
  if (EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, cek, iv) != 1 ||
      EVP_EncryptUpdate(c, out, &n, pt, (int)len) != 1 || EVP_EncryptFinal_ex(c, out + n, &f) != 1 ||
      EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, tag) != 1)
    die("raw AES-GCM");
  EVP_CIPHER_CTX_free(c);
  /* the ephemeral public key must be sent (epk) */
  uint8_t pub[65];
  size_t pl = 0;
  if (EVP_PKEY_get_octet_string_param(eph, "pub", pub, sizeof pub, &pl) != 1 || pl != 65)
    die("raw epk export");
  EVP_PKEY_CTX_free(d);
  EVP_PKEY_free(eph);
}

static void report(const char *name, double mod, double raw) {
  printf("%-13s %10.0f %10.0f %6.3f\n", name, mod, raw, mod / raw);
  fflush(stdout);
}

int main(int argc, char **argv) {
  if (argc > 1) seconds = atof(argv[1]);
  tr_jwk *k = NULL;
  check(tr_jwk_generate("P-256", &k));
  uint8_t pt[1024], out[1024];
  RAND_bytes(pt, sizeof pt);
  EVP_PKEY *tmpl = NULL; /* P-256 parameters only, for raw_jwe's key generation */
  EVP_PKEY_CTX *pg = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
  if (!pg || EVP_PKEY_paramgen_init(pg) != 1 || EVP_PKEY_CTX_set_group_name(pg, "prime256v1") != 1 ||
      EVP_PKEY_paramgen(pg, &tmpl) != 1)
    die("raw template");
  EVP_PKEY_CTX_free(pg);
  printf("# case         module/s      raw/s  module/raw\n");

  COMPARE(
      "jwe-ecdh-1k",
      {
        json_t *o = NULL;
        check(tr_jwe_encrypt_flattened(k, "ECDH-ES+A256KW", "A256GCM", pt, sizeof pt, &o));
        json_decref(o);
      },
      raw_jwe(tmpl, tr_jwk_pkey(k), pt, sizeof pt, out));

  const char *claims = "{\"iss\":\"CoCo-Attestation-Service\",\"exp\":4102444800,\"iat\":1700000000,"
                       "\"eat_profile\":\"tag:github.com,2024:confidential-containers/Trustee\"}";
  char *tok = NULL;
  check(tr_jws_sign(k, "ES256", NULL, claims, strlen(claims), &tok));
  const char *input = tok;
  size_t input_len = (size_t)(strrchr(tok, '.') - tok);
  EVP_MD_CTX *mc = EVP_MD_CTX_new();
  uint8_t sig[80];
  COMPARE(
      "es256-sign",
      {
        char *t = NULL;
        check(tr_jws_sign(k, "ES256", NULL, claims, strlen(claims), &t));
        free(t);
      },
      {
        size_t sl = sizeof sig;
        if (EVP_DigestSignInit_ex(mc, NULL, "SHA256", NULL, NULL, tr_jwk_pkey(k), NULL) != 1 ||
            EVP_DigestSign(mc, sig, &sl, (const uint8_t *)input, input_len) != 1)
          die("raw sign");
      });

  size_t sl = sizeof sig;
  if (EVP_DigestSignInit_ex(mc, NULL, "SHA256", NULL, NULL, tr_jwk_pkey(k), NULL) != 1 ||
      EVP_DigestSign(mc, sig, &sl, (const uint8_t *)input, input_len) != 1)
    die("raw sign");
  COMPARE(
      "es256-verify",
      {
        tr_jws j;
        check(tr_jws_parse(tok, strlen(tok), &j));
        check(tr_jws_verify(&j, k, "ES256"));
        tr_jws_clear(&j);
      },
      {
        if (EVP_DigestVerifyInit_ex(mc, NULL, "SHA256", NULL, NULL, tr_jwk_pkey(k), NULL) != 1 ||
            EVP_DigestVerify(mc, sig, sl, (const uint8_t *)input, input_len) != 1)
          die("raw verify");
      });
  EVP_MD_CTX_free(mc);
  free(tok);
  tr_jwk_free(k);
  EVP_PKEY_free(tmpl);
  return 0;
}
