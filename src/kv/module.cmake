# Key-value storage: Memory, LocalFs, LocalJson, Sqlite, Postgres, Redis (see docs/storage.md).
trustee_module(kv DEPS core LIBS PkgConfig::SQLITE PkgConfig::PQ PkgConfig::HIREDIS PkgConfig::JANSSON Threads::Threads)
