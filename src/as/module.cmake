# Attestation Service: request parsing, runtime/init data, policies, EAR and
# Simple token brokers, and the small HTTP server helper used by restful-as.
trustee_module(as
  DEPS core crypto rego kv rvps verifier
  LIBS OpenSSL::Crypto OpenSSL::SSL PkgConfig::JANSSON PkgConfig::MHD Threads::Threads)
