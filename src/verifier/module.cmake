# Verifiers: the interface and table (this folder) and one folder per TEE.
trustee_module(verifier RECURSE
  DEPS core crypto
  LIBS PkgConfig::TSS2MU PkgConfig::CURL OpenSSL::Crypto PkgConfig::JANSSON)
