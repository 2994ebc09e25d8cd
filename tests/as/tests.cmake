# End-to-end: restful-as over HTTP on loopback (free port, own temp dirs),
# tokens checked with python3-jwcrypto.
add_test(NAME as/e2e_restful COMMAND /usr/bin/python3 ${CMAKE_CURRENT_LIST_DIR}/e2e_restful.py)
set_tests_properties(as/e2e_restful PROPERTIES ENVIRONMENT "${TRUSTEE_TEST_ENV}" TIMEOUT 300)
