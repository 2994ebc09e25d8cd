# End-to-end KBS tests: real kbs / kbs-client processes on loopback (port 0),
# temp dirs, /usr/bin/python3 with python3-jwcrypto.
foreach(t e2e_http interop_rcar scenarios upstream_configs token_sources security)
  add_test(NAME kbs/${t} COMMAND /usr/bin/python3 ${CMAKE_CURRENT_LIST_DIR}/${t}.py
           WORKING_DIRECTORY ${CMAKE_CURRENT_LIST_DIR})
  set_tests_properties(kbs/${t} PROPERTIES ENVIRONMENT "${TRUSTEE_TEST_ENV}" TIMEOUT 300)
endforeach()
