# Core: errors, logging, buffers, encodings, digests, JSON, JCS, time, TOML, configuration.
trustee_module(core
  LIBS OpenSSL::Crypto OpenSSL::SSL PkgConfig::JANSSON Threads::Threads)
