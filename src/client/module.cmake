# kbs-client library: RCAR (sample attester), JWE decryption, admin API calls.
trustee_module(client
  DEPS core crypto
  LIBS PkgConfig::CURL PkgConfig::JANSSON OpenSSL::Crypto)
