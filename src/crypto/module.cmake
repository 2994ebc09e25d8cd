# JOSE (JWK, JWS/JWT, JWE) and X.509 over OpenSSL 3. The core files know no
# algorithm; each algorithm family lives in one file under alg/ and is listed
# in one table (see crypto/internal.h).
trustee_module(crypto SUBDIRS alg DEPS core LIBS OpenSSL::Crypto PkgConfig::JANSSON)
