# Reference Value Provider Service core: message parsing, extractors, storage on src/kv (see docs/rvps.md).
trustee_module(rvps DEPS core kv LIBS PkgConfig::JANSSON Threads::Threads)
