/* Unit tests: JWE round trips for every key management algorithm, curve and
 * content encryption, in compact and flattened form; upstream KBS byte-exact
 * layout (kbs.md §2.10: header member order, flattened member order, sizes);
 * an independent re-derivation of the ECDH-ES+A256KW key from the formula
 * in kbs.md with raw OpenSSL; rejection of altered/truncated tags,
 * ciphertexts, AAD and keys, bad encodings, wrong key types and off-curve
 * ephemeral keys; RSA1_5 failures indistinguishable from a wrong tag. */
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "core/encoding.h"
#include "core/json.h"
#include "crypto/jwe.h"
#include "test_util.h"

static const char MSG[] = "the quick brown fox jumps over the lazy dog";

static char *b64dec_str(const char *s) {
  uint8_t *out;
  size_t n;
  ok(tr_b64_decode(s, (size_t)-1, TR_B64_URL_NOPAD, &out, &n));
  return (char *)out;
}

static void roundtrip(const tr_jwk *priv, const tr_jwk *pub, const char *alg, const char *enc) {
  char *compact = NULL;
  ok(tr_jwe_encrypt_compact(pub, alg, enc, MSG, strlen(MSG), &compact));
  uint8_t *pt = NULL;
  size_t n = 0;
  ok(tr_jwe_decrypt(priv, compact, strlen(compact), &pt, &n));
  assert_int_equal(n, strlen(MSG));
  assert_memory_equal(pt, MSG, n);
  free(pt);
  free(compact);
  json_t *flat = NULL;
  ok(tr_jwe_encrypt_flattened(pub, alg, enc, MSG, strlen(MSG), &flat));
  char *text = tr_json_dump_compact(flat);
  ok(tr_jwe_decrypt(priv, text, strlen(text), &pt, &n));
  assert_memory_equal(pt, MSG, n);
  free(pt);
  free(text);
  json_decref(flat);
  /* empty plaintext */
  ok(tr_jwe_encrypt_compact(pub, alg, enc, "", 0, &compact));
  ok(tr_jwe_decrypt(priv, compact, strlen(compact), &pt, &n));
  assert_int_equal(n, 0);
  free(pt);
  free(compact);
}

static tr_jwk *public_of(const tr_jwk *k) {
  json_t *j = tr_jwk_to_json(k, false);
  tr_jwk *p = NULL;
  ok(tr_jwk_from_json(j, &p));
  json_decref(j);
  return p;
}

static void test_roundtrip_all(void **state) {
  (void)state;
  tr_jwk *rsa = NULL;
  ok(tr_jwk_generate("RSA-2048", &rsa));
  tr_jwk *rsapub = public_of(rsa);
  const char *rsa_algs[] = {"RSA-OAEP-256", "RSA-OAEP", "RSA1_5"};
  const char *encs[] = {"A256GCM", "A128GCM"};
  for (size_t a = 0; a < 3; a++)
    for (size_t c = 0; c < 2; c++)
      roundtrip(rsa, rsapub, rsa_algs[a], encs[c]);
  const char *curves[] = {"P-256", "P-384", "P-521"};
  for (size_t i = 0; i < 3; i++) {
    tr_jwk *k = NULL;
    ok(tr_jwk_generate(curves[i], &k));
    tr_jwk *pub = public_of(k);
    for (size_t c = 0; c < 2; c++)
      roundtrip(k, pub, "ECDH-ES+A256KW", encs[c]);
    tr_jwk_free(k);
    tr_jwk_free(pub);
  }
  tr_jwk *o256 = NULL, *o128 = NULL;
  ok(tr_jwk_generate("oct-256", &o256));
  ok(tr_jwk_generate("oct-128", &o128));
  roundtrip(o256, o256, "dir", "A256GCM");
  roundtrip(o128, o128, "dir", "A128GCM");
  char *t = NULL;
  fails(tr_jwe_encrypt_compact(o128, "dir", "A256GCM", "x", 1, &t), TR_E_INVALID,
        "dir: key must be 32 bytes, got 16");
  json_t *flat = NULL;
  ok(tr_jwe_encrypt_flattened(o256, "dir", "A256GCM", "x", 1, &flat));
  assert_null(json_object_get(flat, "encrypted_key"));
  json_decref(flat);
  tr_jwk_free(o256);
  tr_jwk_free(o128);
  tr_jwk_free(rsa);
  tr_jwk_free(rsapub);
}

/* kbs.md §2.10 layout */
static void test_kbs_layout(void **state) {
  (void)state;
  tr_jwk *ec = NULL, *rsa = NULL;
  ok(tr_jwk_generate("P-256", &ec));
  ok(tr_jwk_generate("RSA-2048", &rsa));
  json_t *f = NULL;
  uint8_t pt[1024];
  memset(pt, 'a', sizeof pt);
  ok(tr_jwe_encrypt_flattened(ec, "ECDH-ES+A256KW", "A256GCM", pt, sizeof pt, &f));
  const char *order[] = {"protected", "encrypted_key", "iv", "ciphertext", "tag"};
  size_t i = 0;
  const char *key;
  json_t *v;
  json_object_foreach(f, key, v) {
    assert_true(i < 5);
    assert_string_equal(key, order[i++]);
  }
  assert_int_equal(i, 5);
  char *hdr = b64dec_str(json_string_value(json_object_get(f, "protected")));
  const char *prefix =
      "{\"alg\":\"ECDH-ES+A256KW\",\"enc\":\"A256GCM\",\"epk\":{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"";
  assert_memory_equal(hdr, prefix, strlen(prefix));
  /* x and y: 43 chars each (32 bytes), then "}} */
  assert_int_equal(strlen(hdr), strlen(prefix) + 43 + strlen("\",\"y\":\"") + 43 + strlen("\"}}"));
  free(hdr);
  uint8_t *bin;
  size_t n;
  ok(tr_b64_decode(json_string_value(json_object_get(f, "encrypted_key")), (size_t)-1, TR_B64_URL_NOPAD, &bin,
                   &n));
  assert_int_equal(n, 40);
  free(bin);
  ok(tr_b64_decode(json_string_value(json_object_get(f, "iv")), (size_t)-1, TR_B64_URL_NOPAD, &bin, &n));
  assert_int_equal(n, 12);
  free(bin);
  ok(tr_b64_decode(json_string_value(json_object_get(f, "tag")), (size_t)-1, TR_B64_URL_NOPAD, &bin, &n));
  assert_int_equal(n, 16);
  free(bin);
  ok(tr_b64_decode(json_string_value(json_object_get(f, "ciphertext")), (size_t)-1, TR_B64_URL_NOPAD, &bin,
                   &n));
  assert_int_equal(n, sizeof pt);
  free(bin);
  json_decref(f);
  ok(tr_jwe_encrypt_flattened(rsa, "RSA-OAEP-256", "A256GCM", pt, 10, &f));
  hdr = b64dec_str(json_string_value(json_object_get(f, "protected")));
  assert_string_equal(hdr, "{\"alg\":\"RSA-OAEP-256\",\"enc\":\"A256GCM\"}");
  free(hdr);
  json_decref(f);
  tr_jwk_free(ec);
  tr_jwk_free(rsa);
}

static void be32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

/* Decrypts an ECDH-ES+A256KW/A256GCM flattened JWE with raw OpenSSL calls,
 * following kbs.md §2.10 literally (independent of alg/ecdhes.c). */
static void test_ecdh_formula(void **state) {
  (void)state;
  tr_jwk *k = NULL, *epk = NULL;
  ok(tr_jwk_generate("P-521", &k));
  json_t *f = NULL;
  ok(tr_jwe_encrypt_flattened(k, "ECDH-ES+A256KW", "A256GCM", MSG, strlen(MSG), &f));
  const char *prot = json_string_value(json_object_get(f, "protected"));
  char *hdr = b64dec_str(prot);
  json_t *h = NULL;
  ok(tr_json_parse(hdr, strlen(hdr), &h));
  ok(tr_jwk_from_json(json_object_get(h, "epk"), &epk));
  /* Z */
  uint8_t z[66];
  size_t zl = sizeof z;
  EVP_PKEY_CTX *dc = EVP_PKEY_CTX_new(tr_jwk_pkey(k), NULL);
  assert_int_equal(EVP_PKEY_derive_init(dc), 1);
  assert_int_equal(EVP_PKEY_derive_set_peer(dc, tr_jwk_pkey(epk)), 1);
  assert_int_equal(EVP_PKEY_derive(dc, z, &zl), 1);
  assert_int_equal(zl, 66);
  EVP_PKEY_CTX_free(dc);
  /* KEK = SHA256(BE32(1) || Z || BE32(14) || "ECDH-ES+A256KW" || BE32(0) || BE32(0) || BE32(256)) */
  uint8_t buf[4 + 66 + 4 + 14 + 12], kek[32];
  size_t o = 0;
  be32(buf + o, 1);
  o += 4;
  memcpy(buf + o, z, zl);
  o += zl;
  be32(buf + o, 14);
  o += 4;
  memcpy(buf + o, "ECDH-ES+A256KW", 14);
  o += 14;
  be32(buf + o, 0);
  be32(buf + o + 4, 0);
  be32(buf + o + 8, 256);
  o += 12;
  SHA256(buf, o, kek);
  /* unwrap */
  uint8_t *ek, *iv, *ct, *tag, cek[40], pt[128];
  size_t ekl, ivl, ctl, tagl;
  ok(tr_b64_decode(json_string_value(json_object_get(f, "encrypted_key")), (size_t)-1, TR_B64_URL_NOPAD, &ek,
                   &ekl));
  ok(tr_b64_decode(json_string_value(json_object_get(f, "iv")), (size_t)-1, TR_B64_URL_NOPAD, &iv, &ivl));
  ok(tr_b64_decode(json_string_value(json_object_get(f, "ciphertext")), (size_t)-1, TR_B64_URL_NOPAD, &ct,
                   &ctl));
  ok(tr_b64_decode(json_string_value(json_object_get(f, "tag")), (size_t)-1, TR_B64_URL_NOPAD, &tag, &tagl));
  EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
  EVP_CIPHER_CTX_set_flags(c, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
  int l1 = 0, l2 = 0;
  assert_int_equal(EVP_DecryptInit_ex(c, EVP_aes_256_wrap(), NULL, kek, NULL), 1);
  assert_int_equal(EVP_DecryptUpdate(c, cek, &l1, ek, (int)ekl), 1);
  assert_int_equal(EVP_DecryptFinal_ex(c, cek + l1, &l2), 1);
  assert_int_equal(l1 + l2, 32);
  EVP_CIPHER_CTX_free(c);
  c = EVP_CIPHER_CTX_new();
  assert_int_equal(EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, cek, iv), 1);
  assert_int_equal(EVP_DecryptUpdate(c, NULL, &l1, (const uint8_t *)prot, (int)strlen(prot)), 1);
  assert_int_equal(EVP_DecryptUpdate(c, pt, &l1, ct, (int)ctl), 1);
  assert_int_equal(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, tag), 1);
  assert_int_equal(EVP_DecryptFinal_ex(c, pt + l1, &l2), 1);
  assert_memory_equal(pt, MSG, strlen(MSG));
  EVP_CIPHER_CTX_free(c);
  free(ek);
  free(iv);
  free(ct);
  free(tag);
  free(hdr);
  json_decref(h);
  json_decref(f);
  tr_jwk_free(epk);
  tr_jwk_free(k);
}

/* Replaces member `name` of a flattened JWE with `value` and decrypts. */
static tr_err *decrypt_with(const tr_jwk *k, json_t *f, const char *name, const char *value) {
  json_t *copy = json_deep_copy(f);
  json_object_set_new(copy, name, json_string(value));
  char *text = tr_json_dump_compact(copy);
  uint8_t *pt = NULL;
  size_t n;
  tr_err *e = tr_jwe_decrypt(k, text, strlen(text), &pt, &n);
  assert_true(e == NULL || pt == NULL);
  free(pt);
  free(text);
  json_decref(copy);
  return e;
}

/* Re-encodes `member` of f after flipping one bit of byte `at` (or
 * truncating to `at` bytes when truncate). */
static char *mutate(json_t *f, const char *member, size_t at, bool truncate) {
  uint8_t *b;
  size_t n;
  ok(tr_b64_decode(json_string_value(json_object_get(f, member)), (size_t)-1, TR_B64_URL_NOPAD, &b, &n));
  if (truncate)
    n = at;
  else
    b[at % n] ^= 1;
  char *s = tr_b64_encode(b, n, TR_B64_URL_NOPAD);
  free(b);
  return s;
}

static void test_rejections(void **state) {
  (void)state;
  tr_jwk *ec = NULL, *ec2 = NULL, *p384 = NULL, *rsa = NULL;
  ok(tr_jwk_generate("P-256", &ec));
  ok(tr_jwk_generate("P-256", &ec2));
  ok(tr_jwk_generate("P-384", &p384));
  ok(tr_jwk_generate("RSA-2048", &rsa));
  json_t *f = NULL;
  ok(tr_jwe_encrypt_flattened(ec, "ECDH-ES+A256KW", "A256GCM", MSG, strlen(MSG), &f));
  static const struct {
    const char *member;
    size_t at;
    bool truncate;
    tr_code code;
    const char *msg;
  } cases[] = {
      {"tag", 3, false, TR_E_VERIFY, "authentication tag does not match"},
      {"tag", 15, true, TR_E_INVALID, "needs a 12-byte iv and a 16-byte tag, got 12 and 15"},
      {"ciphertext", 5, false, TR_E_VERIFY, "authentication tag does not match"},
      {"ciphertext", 5, true, TR_E_VERIFY, "authentication tag does not match"},
      {"iv", 0, false, TR_E_VERIFY, "authentication tag does not match"},
      {"encrypted_key", 7, false, TR_E_VERIFY, "key unwrap failed"},
  };
  char *s;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    s = mutate(f, cases[i].member, cases[i].at, cases[i].truncate);
    fails(decrypt_with(ec, f, cases[i].member, s), cases[i].code, cases[i].msg);
    free(s);
  }
  /* altered AAD: same header re-serialised with a space (what a non-exact
   * client would do) */
  char *hdr = b64dec_str(json_string_value(json_object_get(f, "protected")));
  char spaced[512];
  snprintf(spaced, sizeof spaced, "{\"alg\": %s", hdr + 7);
  s = tr_b64_encode(spaced, strlen(spaced), TR_B64_URL_NOPAD);
  fails(decrypt_with(ec, f, "protected", s), TR_E_VERIFY, "authentication tag does not match");
  free(s);
  /* an extra `aad` member changes the AAD */
  fails(decrypt_with(ec, f, "aad", "AAAA"), TR_E_VERIFY, "authentication tag does not match");
  /* off-curve epk */
  json_t *h = NULL;
  ok(tr_json_parse(hdr, strlen(hdr), &h));
  json_t *epk = json_object_get(h, "epk");
  char *y = mutate(epk, "y", 31, false);
  json_object_set_new(epk, "y", json_string(y));
  free(y);
  char *ht = tr_json_dump_compact(h);
  s = tr_b64_encode(ht, strlen(ht), TR_B64_URL_NOPAD);
  fails(decrypt_with(ec, f, "protected", s), TR_E_INVALID,
        "header `epk`: JWK: P-256 point is not on the curve");
  free(s);
  free(ht);
  json_decref(h);
  free(hdr);
  /* wrong private key, wrong curve, wrong type, public key */
  fails(decrypt_with(ec2, f, "iv", json_string_value(json_object_get(f, "iv"))), TR_E_VERIFY,
        "key unwrap failed");
  fails(decrypt_with(p384, f, "iv", json_string_value(json_object_get(f, "iv"))), TR_E_INVALID,
        "`epk` must be a public EC key on P-384");
  fails(decrypt_with(rsa, f, "iv", json_string_value(json_object_get(f, "iv"))), TR_E_INVALID,
        "algorithm ECDH-ES+A256KW needs a key of type EC, got RSA");
  tr_jwk *pub = public_of(ec);
  fails(decrypt_with(pub, f, "iv", json_string_value(json_object_get(f, "iv"))), TR_E_INVALID,
        "needs a private key");
  tr_jwk_free(pub);
  /* bad base64 */
  fails(decrypt_with(ec, f, "iv", "AAAA+AAAAAAAAAAA"), TR_E_INVALID,
        "JWE iv: invalid base64url: bad character");
  fails(decrypt_with(ec, f, "tag", "AAAAAAAAAAAAAAAAAAAAAA=="), TR_E_INVALID,
        "JWE tag: invalid base64url: padding");
  json_decref(f);

  /* RSA1_5: a corrupted encrypted key looks exactly like a wrong tag */
  ok(tr_jwe_encrypt_flattened(rsa, "RSA1_5", "A256GCM", MSG, strlen(MSG), &f));
  s = mutate(f, "encrypted_key", 100, false);
  fails(decrypt_with(rsa, f, "encrypted_key", s), TR_E_VERIFY, "A256GCM: authentication tag does not match");
  free(s);
  s = mutate(f, "tag", 1, false);
  fails(decrypt_with(rsa, f, "tag", s), TR_E_VERIFY, "A256GCM: authentication tag does not match");
  free(s);
  json_decref(f);
  ok(tr_jwe_encrypt_flattened(rsa, "RSA-OAEP-256", "A256GCM", MSG, strlen(MSG), &f));
  s = mutate(f, "encrypted_key", 100, false);
  fails(decrypt_with(rsa, f, "encrypted_key", s), TR_E_VERIFY, "RSA-OAEP-256: decryption failed");
  free(s);
  json_decref(f);

  /* algorithms */
  char *t = NULL;
  fails(tr_jwe_encrypt_compact(ec, "ECDH-ES", "A256GCM", "x", 1, &t), TR_E_UNSUPPORTED,
        "unsupported key management algorithm `ECDH-ES`");
  fails(tr_jwe_encrypt_compact(ec, "ECDH-ES+A256KW", "A192GCM", "x", 1, &t), TR_E_UNSUPPORTED,
        "unsupported content encryption `A192GCM`");
  fails(tr_jwe_encrypt_compact(rsa, "ECDH-ES+A256KW", "A256GCM", "x", 1, &t), TR_E_INVALID,
        "needs a key of type EC");
  fails(tr_jwe_encrypt_compact(ec, "RSA-OAEP-256", "A256GCM", "x", 1, &t), TR_E_INVALID,
        "needs a key of type RSA");
  assert_true(tr_jwk_set_alg(ec, "ECDH-ES+A256KW"));
  fails(tr_jwe_encrypt_compact(ec, "RSA-OAEP", "A256GCM", "x", 1, &t), TR_E_INVALID,
        "key is for algorithm `ECDH-ES+A256KW`");
  /* malformed containers */
  uint8_t *pt;
  size_t n;
  fails(tr_jwe_decrypt(ec, "a.b.c", 5, &pt, &n), TR_E_INVALID, "five dot-separated parts");
  fails(tr_jwe_decrypt(ec, "a.b.c.d.e.f", 11, &pt, &n), TR_E_INVALID, "five dot-separated parts");
  fails(tr_jwe_decrypt(ec, "{\"protected\":1}", 15, &pt, &n), TR_E_INVALID,
        "member `protected` must be a string");
  fails(tr_jwe_decrypt(ec, "{\"recipients\":[{},{}]}", 22, &pt, &n), TR_E_UNSUPPORTED, "one recipient");
  /* {"alg":"dir","enc":"A256GCM","zip":"DEF"} */
  const char *zip = "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIiwiemlwIjoiREVGIn0....";
  fails(tr_jwe_decrypt(ec, zip, strlen(zip), &pt, &n), TR_E_UNSUPPORTED, "`zip`");
  tr_jwk_free(ec);
  tr_jwk_free(ec2);
  tr_jwk_free(p384);
  tr_jwk_free(rsa);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_roundtrip_all),
      cmocka_unit_test(test_kbs_layout),
      cmocka_unit_test(test_ecdh_formula),
      cmocka_unit_test(test_rejections),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
