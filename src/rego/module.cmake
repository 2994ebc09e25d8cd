# Rego v1 policy engine: lexer, parser, compiler, evaluator, values; builtin families in builtins/.
trustee_module(rego SUBDIRS builtins DEPS core LIBS PkgConfig::PCRE2 OpenSSL::Crypto PkgConfig::JANSSON)

# Builtin families are linked by strong reference when their file exists
# (a weak reference would not pull an object out of the static library).
if(TARGET trustee_rego_obj)
  foreach(fam aggregates arrays sets objects strings regex types numbers bits conversions encoding time
              semver glob crypto units json misc)
    if(EXISTS ${CMAKE_CURRENT_LIST_DIR}/builtins/${fam}.c)
      target_compile_definitions(trustee_rego_obj PRIVATE REGO_HAVE_FAMILY_${fam})
    endif()
  endforeach()
endif()
