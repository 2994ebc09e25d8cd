# Interop with an independent JOSE implementation (Debian python3-jwcrypto,
# which only /usr/bin/python3 has): a test-only CLI over the module produces
# and consumes JWEs/JWSs for every algorithm and curve.
add_executable(crypto_interop_tool ${CMAKE_CURRENT_LIST_DIR}/interop_tool.c)
target_link_libraries(crypto_interop_tool PRIVATE trustee_crypto)
add_test(NAME crypto/interop_jwcrypto
  COMMAND /usr/bin/python3 ${CMAKE_CURRENT_LIST_DIR}/interop_jwcrypto.py $<TARGET_FILE:crypto_interop_tool>
  WORKING_DIRECTORY ${CMAKE_CURRENT_LIST_DIR})
set_tests_properties(crypto/interop_jwcrypto PROPERTIES ENVIRONMENT "${TRUSTEE_TEST_ENV}" TIMEOUT 300)
