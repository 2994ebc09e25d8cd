# Rego v1 policy engine: lexer, parser, compiler, evaluator, values; builtin families in builtins/.
trustee_module(rego SUBDIRS builtins DEPS core LIBS PkgConfig::PCRE2 OpenSSL::Crypto PkgConfig::JANSSON)
