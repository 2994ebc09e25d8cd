/* Known-answer tests for the JWE side from the RFCs' own examples (the JWS
 * ones, RFC 7515 A.1/A.3 and RFC 8037 A.4, are in test_jws.c):
 *
 *  - RFC 7520 §5.2 "Key Encryption Using RSA-OAEP with AES-GCM": the RFC's
 *    4096-bit RSA private JWK (Figure 84) decrypts the RFC's compact
 *    (Figure 81), general JSON (Figure 82) and flattened JSON (Figure 83)
 *    JWE to the plaintext of Figure 72;
 *  - RFC 7516 Appendix A.1 (RSA-OAEP + A256GCM): its JWK (A.1.3) decrypts
 *    its compact JWE (A.1.7) to "The true sign of intelligence is not
 *    knowledge but imagination.";
 *  - RFC 7518 Appendix C (ECDH-ES key agreement computation): Alice's and
 *    Bob's P-256 keys give the RFC's Z, and our Concat KDF with
 *    AlgorithmID "A128GCM", apu "Alice", apv "Bob", keydatalen 128 gives
 *    the RFC's derived key "VqqN6vgjbSBcIijNcacQGg".
 *
 * The values are the RFCs' (line breaks removed); the RFC 7520 ones were
 * checked against the ietf-jose/cookbook data. Nothing here was produced by
 * this module, so a symmetric bug in encrypt and decrypt cannot hide. */
#include <openssl/evp.h>

#include "core/encoding.h"
#include "core/json.h"
#include "crypto/internal.h"
#include "crypto/jwe.h"
#include "test_util.h"

/* ---- RFC 7520 §5.2 ------------------------------------------------------ */

static const char R20_N[] =
    "wbdxI55VaanZXPY29Lg5hdmv2XhvqAhoxUkanfzf2-5zVUxa6prHRrI4pP1AhoqJRlZfYtWWd5mmHRG2pAHIlh0ySJ9wi0Bi"
    "oZBl1XP2e-C-FyXJGcTy0HdKQWlrfhTm42EW7Vv04r4gfao6uxjLGwfpGrZLarohiWCPnkNrg71S2CuNZSQBIPGjXfkmIy2t"
    "l_VWgGnL22GplyXj5YlBLdxXp3XeStsqo571utNfoUTU8E4qdzJ3U1DItoVkPGsMwlmmnJiwA7sXRItBCivR4M5qnZtdw-7v"
    "4WuR4779ubDuJ5nalMv2S66-RPcnFAzWSKxtBDnFJJDGIUe7Tzizjg1nms0Xq_yPub_UOlWn0ec85FCft1hACpWG8schrOBe"
    "NqHBODFskYpUc2LC5JA2TaPF2dA67dg1TTsC_FupfQ2kNGcE1LgprxKHcVWYQb86B-HozjHZcqtauBzFNV5tbTuB-TpkcvJf"
    "NcFLlH3b8mb-H_ox35FjqBSAjLKyoeqfKTpVjvXhd09knwgJf6VKq6UC418_TOljMVfFTWXUxlnfhOOnzW6HSSzD1c9WrCuV"
    "zsUMv54szidQ9wf1cYWf3g5qFDxDQKis99gcDaiCAwM3yEBIzuNeeCa5dartHDb1xEB_HcHSeYbghbMjGfasvKn0aZRsnTyC"
    "0xhWBlsolZE";
static const char R20_E[] = "AQAB";
static const char R20_D[] =
    "n7fzJc3_WG59VEOBTkayzuSMM780OJQuZjN_KbH8lOZG25ZoA7T4Bxcc0xQn5oZE5uSCIwg91oCt0JvxPcpmqzaJZg1nirjc"
    "WZ-oBtVk7gCAWq-B3qhfF3izlbkosrzjHajIcY33HBhsy4_WerrXg4MDNE4HYojy68TcxT2LYQRxUOCf5TtJXvM8olexlSGt"
    "VnQnDRutxEUCwiewfmmrfveEogLx9EA-KMgAjTiISXxqIXQhWUQX1G7v_mV_Hr2YuImYcNcHkRvp9E7ook0876DhkO8v4UOZ"
    "LwA1OlUX98mkoqwc58A_Y2lBYbVx1_s5lpPsEqbbH-nqIjh1fL0gdNfihLxnclWtW7pCztLnImZAyeCWAG7ZIfv-Rn9fLIv9"
    "jZ6r7r-MSH9sqbuziHN2grGjD_jfRluMHa0l84fFKl6bcqN1JWxPVhzNZo01yDF-1LiQnqUYSepPf6X3a2SOdkqBRiquE6Ev"
    "LuSYIDpJq3jDIsgoL8Mo1LoomgiJxUwL_GWEOGu28gplyzm-9Q0U0nyhEf1uhSR8aJAQWAiFImWH5W_IQT9I7-yrindr_2fW"
    "Q_i1UgMsGzA7aOGzZfPljRy6z-tY_KuBG00-28S_aWvjyUc-Alp8AUyKjBZ-7CWH32fGWK48j1t-zomrwjL_mnhsPbGs0c9W"
    "sWgRzI-K8gE";
static const char R20_P[] =
    "7_2v3OQZzlPFcHyYfLABQ3XP85Es4hCdwCkbDeltaUXgVy9l9etKghvM4hRkOvbb01kYVuLFmxIkCDtpi-zLCYAdXKrAK3Pt"
    "Sbtzld_XZ9nlsYa_QZWpXB_IrtFjVfdKUdMz94pHUhFGFj7nr6NNxfpiHSHWFE1zD_AC3mY46J961Y2LRnreVwAGNw53p07D"
    "b8yD_92pDa97vqcZOdgtybH9q6uma-RFNhO1AoiJhYZj69hjmMRXx-x56HO9cnXNbmzNSCFCKnQmn4GQLmRj9sfbZRqL94bb"
    "tE4_e0Zrpo8RNo8vxRLqQNwIy85fc6BRgBJomt8QdQvIgPgWCv5HoQ";
static const char R20_Q[] =
    "zqOHk1P6WN_rHuM7ZF1cXH0x6RuOHq67WuHiSknqQeefGBA9PWs6ZyKQCO-O6mKXtcgE8_Q_hA2kMRcKOcvHil1hqMCNSXlf"
    "lM7WPRPZu2qCDcqssd_uMbP-DqYthH_EzwL9KnYoH7JQFxxmcv5An8oXUtTwk4knKjkIYGRuUwfQTus0w1NfjFAyxOOiAQ37"
    "ussIcE6C6ZSsM3n41UlbJ7TCqewzVJaPJN5cxjySPZPD3Vp01a9YgAD6a3IIaKJdIxJS1ImnfPevSJQBE79-EXe2kSwVgOzv"
    "t-gsmM29QQ8veHy4uAqca5dZzMs7hkkHtw1z0jHV90epQJJlXXnH8Q";
static const char R20_DP[] =
    "19oDkBh1AXelMIxQFm2zZTqUhAzCIr4xNIGEPNoDt1jK83_FJA-xnx5kA7-1erdHdms_Ef67HsONNv5A60JaR7w8LHnDiBGn"
    "jdaUmmuO8XAxQJ_ia5mxjxNjS6E2yD44USo2JmHvzeeNczq25elqbTPLhUpGo1IZuG72FZQ5gTjXoTXC2-xtCDEUZfaUNh4I"
    "eAipfLugbpe0JAFlFfrTDAMUFpC3iXjxqzbEanflwPvj6V9iDSgjj8SozSM0dLtxvu0LIeIQAeEgT_yXcrKGmpKdSO08kLBx"
    "8VUjkbv_3Pn20Gyu2YEuwpFlM_H1NikuxJNKFGmnAq9LcnwwT0jvoQ";
static const char R20_DQ[] =
    "S6p59KrlmzGzaQYQM3o0XfHCGvfqHLYjCO557HYQf72O9kLMCfd_1VBEqeD-1jjwELKDjck8kOBl5UvohK1oDfSP1DleAy-c"
    "nmL29DqWmhgwM1ip0CCNmkmsmDSlqkUXDi6sAaZuntyukyflI-qSQ3C_BafPyFaKrt1fgdyEwYa08pESKwwWisy7KnmoUvaJ"
    "3SaHmohFS78TJ25cfc10wZ9hQNOrIChZlkiOdFCtxDqdmCqNacnhgE3bZQjGp3n83ODSz9zwJcSUvODlXBPc2AycH6Ci5yjb"
    "xt4Ppox_5pjm6xnQkiPgj01GpsUssMmBN7iHVsrE7N2iznBNCeOUIQ";
static const char R20_QI[] =
    "FZhClBMywVVjnuUud-05qd5CYU0dK79akAgy9oX6RX6I3IIIPckCciRrokxglZn-omAY5CnCe4KdrnjFOT5YUZE7G_Pg44Xg"
    "CXaarLQf4hl80oPEf6-jJ5Iy6wPRx7G2e8qLxnh9cOdf-kRqgOS3F48Ucvw3ma5V6KGMwQqWFeV31XtZ8l5cVI-I3NzBS7ql"
    "tpUVgz2Ju021eyc7IlqgzR98qKONl27DuEES0aK0WE97jnsyO27Yp88Wa2RiBrEocM89QZI1seJiGDizHRUP4UZxw9zsXww4"
    "6wy0P6f9grnYp7t8LkyDDk8eoI4KX6SNMNVcyVS9IWjlq8EzqZEKIA";
static const char R20_PROTECTED[] =
    "eyJhbGciOiJSU0EtT0FFUCIsImtpZCI6InNhbXdpc2UuZ2FtZ2VlQGhvYmJpdG9uLmV4YW1wbGUiLCJlbmMiOiJBMjU2R0NN"
    "In0";
static const char R20_EK[] =
    "rT99rwrBTbTI7IJM8fU3Eli7226HEB7IchCxNuh7lCiud48LxeolRdtFF4nzQibeYOl5S_PJsAXZwSXtDePz9hk-BbtsTBqC"
    "2UsPOdwjC9NhNupNNu9uHIVftDyucvI6hvALeZ6OGnhNV4v1zx2k7O1D89mAzfw-_kT3tkuorpDU-CpBENfIHX1Q58-Aad3F"
    "zMuo3Fn9buEP2yXakLXYa15BUXQsupM4A1GD4_H4Bd7V3u9h8Gkg8BpxKdUV9ScfJQTcYm6eJEBz3aSwIaK4T3-dwWpuBOhR"
    "OQXBosJzS1asnuHtVMt2pKIIfux5BC6huIvmY7kzV7W7aIUrpYm_3H4zYvyMeq5pGqFmW2k8zpO878TRlZx7pZfPYDSXZyS0"
    "CfKKkMozT_qiCwZTSz4duYnt8hS4Z9sGthXn9uDqd6wycMagnQfOTs_lycTWmY-aqWVDKhjYNRf03NiwRtb5BE-tOdFwCASQ"
    "j3uuAgPGrO2AWBe38UjQb0lvXn1SpyvYZ3WFc7WOJYaTa7A8DRn6MC6T-xDmMuxC0G7S2rscw5lQQU06MvZTlFOt0UvfuKBa"
    "03cxA_nIBIhLMjY2kOTxQMmpDPTr6Cbo8aKaOnx6ASE5Jx9paBpnNmOOKH35j_QlrQhDWUN6A2Gg8iFayJ69xDEdHAVCGRzN"
    "3woEI2ozDRs";
static const char R20_IV[] = "-nBoKLH0YkLZPSI9";
static const char R20_CT[] =
    "o4k2cnGN8rSSw3IDo1YuySkqeS_t2m1GXklSgqBdpACm6UJuJowOHC5ytjqYgRL-I-soPlwqMUf4UgRWWeaOGNw6vGW-xyM0"
    "1lTYxrXfVzIIaRdhYtEMRBvBWbEwP7ua1DRfvaOjgZv6Ifa3brcAM64d8p5lhhNcizPersuhw5f-pGYzseva-TUaL8iWnctc"
    "-sSwy7SQmRkfhDjwbz0fz6kFovEgj64X1I5s7E6GLp5fnbYGLa1QUiML7Cc2GxgvI7zqWo0YIEc7aCflLG1-8BboVWFdZKLK"
    "9vNoycrYHumwzKluLWEbSVmaPpOslY2n525DxDfWaVFUfKQxMF56vn4B9QMpWAbnypNimbM8zVOw";
static const char R20_TAG[] = "UCGiqJxhBI3IFVdPalHHvA";
/* Figure 72 (the dashes are U+2013 EN DASH). */
static const char R20_PLAINTEXT[] =
    "You can trust us to stick with you through thick and thin\xe2\x80\x93to the bitter end. And you can "
    "trust us to keep any secret of yours\xe2\x80\x93"
    "closer than you keep it yourself. But you cannot "
    "trust us to let you face trouble alone, and go off without a word. We are your friends, Frodo.";

/* ---- RFC 7516 Appendix A.1 ---------------------------------------------- */

static const char R16_N[] = "oahUIoWw0K0usKNuOR6H4wkf4oBUXHTxRvgb48E-BVvxkeDNjbC4he8rUW"
                            "cJoZmds2h7M70imEVhRU5djINXtqllXI4DFqcI1DgjT9LewND8MW2Krf3S"
                            "psk_ZkoFnilakGygTwpZ3uesH-PFABNIUYpOiN15dsQRkgr0vEhxN92i2a"
                            "sbOenSZeyaxziK72UwxrrKoExv6kc5twXTq4h-QChLOln0_mtUZwfsRaMS"
                            "tPs6mS6XrgxnxbWhojf663tuEQueGC-FCMfra36C9knDFGzKsNa7LZK2dj"
                            "YgyD3JR_MB_4NUJW_TqOQtwHYbxevoJArm-L5StowjzGy-_bq6Gw";
static const char R16_E[] = "AQAB";
static const char R16_D[] = "kLdtIj6GbDks_ApCSTYQtelcNttlKiOyPzMrXHeI-yk1F7-kpDxY4-WY5N"
                            "WV5KntaEeXS1j82E375xxhWMHXyvjYecPT9fpwR_M9gV8n9Hrh2anTpTD9"
                            "3Dt62ypW3yDsJzBnTnrYu1iwWRgBKrEYY46qAZIrA2xAwnm2X7uGR1hghk"
                            "qDp0Vqj3kbSCz1XyfCs6_LehBwtxHIyh8Ripy40p24moOAbgxVw3rxT_vl"
                            "t3UVe4WO3JkJOzlpUf-KTVI2Ptgm-dARxTEtE-id-4OJr0h-K-VFs3VSnd"
                            "VTIznSxfyrj8ILL6MG_Uv8YAu7VILSB3lOW085-4qE3DzgrTjgyQ";
static const char R16_P[] = "1r52Xk46c-LsfB5P442p7atdPUrxQSy4mti_tZI3Mgf2EuFVbUoDBvaRQ-"
                            "SWxkbkmoEzL7JXroSBjSrK3YIQgYdMgyAEPTPjXv_hI2_1eTSPVZfzL0lf"
                            "fNn03IXqWF5MDFuoUYE0hzb2vhrlN_rKrbfDIwUbTrjjgieRbwC6Cl0";
static const char R16_Q[] = "wLb35x7hmQWZsWJmB_vle87ihgZ19S8lBEROLIsZG4ayZVe9Hi9gDVCOBm"
                            "UDdaDYVTSNx_8Fyw1YYa9XGrGnDew00J28cRUoeBB_jKI1oma0Orv1T9aX"
                            "IWxKwd4gvxFImOWr3QRL9KEBRzk2RatUBnmDZJTIAfwTs0g68UZHvtc";
static const char R16_DP[] = "ZK-YwE7diUh0qR1tR7w8WHtolDx3MZ_OTowiFvgfeQ3SiresXjm9gZ5KL"
                             "hMXvo-uz-KUJWDxS5pFQ_M0evdo1dKiRTjVw_x4NyqyXPM5nULPkcpU827"
                             "rnpZzAJKpdhWAgqrXGKAECQH0Xt4taznjnd_zVpAmZZq60WPMBMfKcuE";
static const char R16_DQ[] = "Dq0gfgJ1DdFGXiLvQEZnuKEN0UUmsJBxkjydc3j4ZYdBiMRAy86x0vHCj"
                             "ywcMlYYg4yoC4YZa9hNVcsjqA3FeiL19rk8g6Qn29Tt0cj8qqyFpz9vNDB"
                             "UfCAiJVeESOjJDZPYHdHY8v1b-o-Z2X5tvLx-TCekf7oxyeKDUqKWjis";
static const char R16_QI[] = "VIMpMYbPf47dT1w_zDUXfPimsSegnMOA1zTaX7aGk_8urY6R8-ZW1FxU7"
                             "AlWAyLWybqq6t16VFd7hQd0y6flUK4SlOydB61gwanOsXGOAOv82cHq0E3"
                             "eL4HrtZkUuKvnPrMnsUUFlfUdybVzxyjz9JF_XyaY14ardLSjf4L_FNY";
static const char R16_COMPACT[] = "eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ."
                                  "OKOawDo13gRp2ojaHV7LFpZcgV7T6DVZKTyKOMTYUmKoTCVJRgckCL9kiMT03JGe"
                                  "ipsEdY3mx_etLbbWSrFr05kLzcSr4qKAq7YN7e9jwQRb23nfa6c9d-StnImGyFDb"
                                  "Sv04uVuxIp5Zms1gNxKKK2Da14B8S4rzVRltdYwam_lDp5XnZAYpQdb76FdIKLaV"
                                  "mqgfwX7XWRxv2322i-vDxRfqNzo_tETKzpVLzfiwQyeyPGLBIO56YJ7eObdv0je8"
                                  "1860ppamavo35UgoRdbYaBcoh9QcfylQr66oc6vFWXRcZ_ZT2LawVCWTIy3brGPi"
                                  "6UklfCpIMfIjf7iGdXKHzg."
                                  "48V1_ALb6US04U3b."
                                  "5eym8TW_c8SuK0ltJ3rpYIzOeDQz7TALvtu6UG9oMo4vpzs9tX_EFShS8iB7j6ji"
                                  "SdiwkIr3ajwQzaBtQD_A."
                                  "XFBoMYUZodetZdvTiFvSkQ";
static const char R16_PLAINTEXT[] = "The true sign of intelligence is not knowledge but imagination.";

/* ---- RFC 7518 Appendix C ------------------------------------------------ */

/* Alice: the ephemeral (sender) key; Bob: the recipient. */
static const char ALICE_X[] = "gI0GAILBdu7T53akrFmMyGcsF3n5dO7MmwNBHKW5SV0";
static const char ALICE_Y[] = "SLW_xSffzlPWrHEVI30DHM_4egVwt3NQqeUD7nMFpps";
static const char ALICE_D[] = "0_NxaRPUMQoAJt50Gz8YiTr8gRTwyEaCumd-MToTmIo";
static const char BOB_X[] = "weNJy2HscCSM6AEDTDg04biOvhFhyyWvOHQfeF_PxMQ";
static const char BOB_Y[] = "e8lnCO-AlStT-NJVX-crhB7QRYhiix03illJOVAOyck";
static const char BOB_D[] = "VEmDZpDXXK8p8N0Cndsxs924q6nS1RXFASRl6BfUqdw";
/* The RFC's Z (ECDH-ES key agreement output). */
static const uint8_t RFC7518_Z[32] = {158, 86,  217, 29,  129, 113, 53,  211, 114, 131, 66,
                                      131, 191, 132, 38,  156, 251, 49,  110, 163, 218, 128,
                                      106, 72,  246, 218, 167, 121, 140, 254, 144, 196};
static const char RFC7518_APU[] = "QWxpY2U"; /* "Alice" */
static const char RFC7518_APV[] = "Qm9i";    /* "Bob" */
static const char RFC7518_DERIVED[] = "VqqN6vgjbSBcIijNcacQGg";

/* ---- helpers ------------------------------------------------------------ */

static tr_jwk *jwk_from(json_t *j) {
  assert_non_null(j);
  tr_jwk *k = NULL;
  ok(tr_jwk_from_json(j, &k));
  json_decref(j);
  return k;
}

static tr_jwk *rfc7520_key(void) {
  return jwk_from(json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "kty", "RSA",
                            "kid", "samwise.gamgee@hobbiton.example", "use", "enc", "alg", "RSA-OAEP", "n",
                            R20_N, "e", R20_E, "d", R20_D, "p", R20_P, "q", R20_Q, "dp", R20_DP, "dq", R20_DQ,
                            "qi", R20_QI));
}

static tr_jwk *rfc7516_a1_key(void) {
  return jwk_from(json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "kty", "RSA", "n", R16_N, "e",
                            R16_E, "d", R16_D, "p", R16_P, "q", R16_Q, "dp", R16_DP, "dq", R16_DQ, "qi",
                            R16_QI));
}

static tr_jwk *ec_key(const char *x, const char *y, const char *d) {
  return jwk_from(
      json_pack("{s:s, s:s, s:s, s:s, s:s}", "kty", "EC", "crv", "P-256", "x", x, "y", y, "d", d));
}

/* Decrypts `jwe` with `key` and asserts the plaintext is `want`. */
static void expect_plaintext(const tr_jwk *key, const char *jwe, const char *want) {
  uint8_t *pt = NULL;
  size_t n = 0;
  ok(tr_jwe_decrypt(key, jwe, strlen(jwe), &pt, &n));
  assert_int_equal(n, strlen(want));
  assert_memory_equal(pt, want, n);
  free(pt);
}

/* Flips one character of `jwe` at `pos` and asserts decryption fails. */
static void expect_altered_fails(const tr_jwk *key, const char *jwe, size_t pos) {
  char *copy = strdup(jwe);
  assert_non_null(copy);
  copy[pos] = copy[pos] == 'A' ? 'B' : 'A';
  uint8_t *pt = NULL;
  size_t n = 0;
  tr_err *e = tr_jwe_decrypt(key, copy, strlen(copy), &pt, &n);
  assert_non_null(e);
  assert_null(pt);
  tr_err_free(e);
  free(copy);
}

static char *rfc7520_compact(void) {
  size_t len = strlen(R20_PROTECTED) + strlen(R20_EK) + strlen(R20_IV) + strlen(R20_CT) + strlen(R20_TAG) + 5;
  char *s = malloc(len);
  assert_non_null(s);
  snprintf(s, len, "%s.%s.%s.%s.%s", R20_PROTECTED, R20_EK, R20_IV, R20_CT, R20_TAG);
  return s;
}

/* ---- tests -------------------------------------------------------------- */

static void test_rfc7520_5_2_compact(void **state) {
  (void)state;
  tr_jwk *key = rfc7520_key();
  char *compact = rfc7520_compact();
  /* Figure 76: the protected header, byte for byte. */
  uint8_t *hdr = NULL;
  size_t hn = 0;
  ok(tr_b64_decode(R20_PROTECTED, (size_t)-1, TR_B64_URL_NOPAD, &hdr, &hn));
  const char want_hdr[] =
      "{\"alg\":\"RSA-OAEP\",\"kid\":\"samwise.gamgee@hobbiton.example\",\"enc\":\"A256GCM\"}";
  assert_int_equal(hn, strlen(want_hdr));
  assert_memory_equal(hdr, want_hdr, hn);
  free(hdr);
  expect_plaintext(key, compact, R20_PLAINTEXT);
  /* The last character of the tag, of the ciphertext and of the header. */
  expect_altered_fails(key, compact, strlen(compact) - 1);
  expect_altered_fails(key, compact, strlen(compact) - strlen(R20_TAG) - 2);
  expect_altered_fails(key, compact, strlen(R20_PROTECTED) - 1);
  free(compact);
  tr_jwk_free(key);
}

static void test_rfc7520_5_2_json(void **state) {
  (void)state;
  tr_jwk *key = rfc7520_key();
  /* Figure 83 (flattened): members in the RFC's order. */
  json_t *flat = json_pack("{s:s, s:s, s:s, s:s, s:s}", "protected", R20_PROTECTED, "encrypted_key", R20_EK,
                           "iv", R20_IV, "ciphertext", R20_CT, "tag", R20_TAG);
  assert_non_null(flat);
  char *text = tr_json_dump_compact(flat);
  expect_plaintext(key, text, R20_PLAINTEXT);
  free(text);
  json_decref(flat);
  /* Figure 82 (general, one recipient). */
  json_t *general = json_pack("{s:[{s:s}], s:s, s:s, s:s, s:s}", "recipients", "encrypted_key", R20_EK,
                              "protected", R20_PROTECTED, "iv", R20_IV, "ciphertext", R20_CT, "tag", R20_TAG);
  assert_non_null(general);
  text = tr_json_dump_compact(general);
  expect_plaintext(key, text, R20_PLAINTEXT);
  free(text);
  json_decref(general);
  tr_jwk_free(key);
}

static void test_rfc7516_a1(void **state) {
  (void)state;
  tr_jwk *key = rfc7516_a1_key();
  expect_plaintext(key, R16_COMPACT, R16_PLAINTEXT);
  expect_altered_fails(key, R16_COMPACT, strlen(R16_COMPACT) - 1);
  tr_jwk_free(key);
}

static void ecdh_z(const tr_jwk *priv, const tr_jwk *peer, uint8_t z[32]) {
  EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, tr_jwk_pkey(priv), NULL);
  size_t zlen = 32;
  assert_non_null(ctx);
  assert_int_equal(EVP_PKEY_derive_init(ctx), 1);
  assert_int_equal(EVP_PKEY_derive_set_peer(ctx, tr_jwk_pkey(peer)), 1);
  assert_int_equal(EVP_PKEY_derive(ctx, z, &zlen), 1);
  assert_int_equal(zlen, 32);
  EVP_PKEY_CTX_free(ctx);
}

static void test_rfc7518_c_concat_kdf(void **state) {
  (void)state;
  tr_jwk *alice = ec_key(ALICE_X, ALICE_Y, ALICE_D);
  tr_jwk *bob = ec_key(BOB_X, BOB_Y, BOB_D);
  uint8_t z_alice[32], z_bob[32];
  ecdh_z(alice, bob, z_alice); /* the sender's computation */
  ecdh_z(bob, alice, z_bob);   /* the recipient's */
  assert_memory_equal(z_alice, RFC7518_Z, 32);
  assert_memory_equal(z_bob, RFC7518_Z, 32);

  uint8_t *apu = NULL, *apv = NULL;
  size_t apu_len = 0, apv_len = 0;
  ok(tr_b64_decode(RFC7518_APU, (size_t)-1, TR_B64_URL_NOPAD, &apu, &apu_len));
  ok(tr_b64_decode(RFC7518_APV, (size_t)-1, TR_B64_URL_NOPAD, &apv, &apv_len));
  assert_int_equal(apu_len, 5);
  assert_memory_equal(apu, "Alice", 5);
  assert_int_equal(apv_len, 3);
  assert_memory_equal(apv, "Bob", 3);

  uint8_t out[32];
  ok(tr_ecdhes_concat_kdf("A128GCM", z_bob, sizeof z_bob, apu, apu_len, apv, apv_len, 128, out));
  char *derived = tr_b64_encode(out, 16, TR_B64_URL_NOPAD);
  assert_non_null(derived);
  assert_string_equal(derived, RFC7518_DERIVED);
  free(derived);

  /* Every input is bound: another keydatalen, AlgorithmID or party info
   * gives another key. */
  uint8_t other[32];
  ok(tr_ecdhes_concat_kdf("A128GCM", z_bob, sizeof z_bob, apu, apu_len, apv, apv_len, 256, other));
  assert_memory_not_equal(other, out, 16);
  ok(tr_ecdhes_concat_kdf("A256GCM", z_bob, sizeof z_bob, apu, apu_len, apv, apv_len, 128, other));
  assert_memory_not_equal(other, out, 16);
  ok(tr_ecdhes_concat_kdf("A128GCM", z_bob, sizeof z_bob, apv, apv_len, apu, apu_len, 128, other));
  assert_memory_not_equal(other, out, 16);
  /* Key lengths one SHA-256 round cannot give are refused. */
  tr_err *e = tr_ecdhes_concat_kdf("A128GCM", z_bob, sizeof z_bob, apu, apu_len, apv, apv_len, 512, other);
  assert_non_null(e);
  assert_int_equal(tr_err_code(e), TR_E_INVALID);
  tr_err_free(e);

  free(apu);
  free(apv);
  tr_jwk_free(alice);
  tr_jwk_free(bob);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_rfc7520_5_2_compact),
      cmocka_unit_test(test_rfc7520_5_2_json),
      cmocka_unit_test(test_rfc7516_a1),
      cmocka_unit_test(test_rfc7518_c_concat_kdf),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
