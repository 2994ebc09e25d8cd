# KBS: HTTP front end, RCAR, sessions, resources, policies, admin, plugins, metrics.
trustee_module(kbs
  DEPS core crypto rego kv as rvps grpc
  LIBS PkgConfig::MHD OpenSSL::SSL OpenSSL::Crypto PkgConfig::CURL PkgConfig::PCRE2 PkgConfig::JANSSON Threads::Threads)
