# The trustee-rego CLI, driven by bats (exit codes, OPA result shape, file:line:col errors).
add_test(NAME rego/cli COMMAND bats ${CMAKE_CURRENT_LIST_DIR}/cli.bats WORKING_DIRECTORY ${CMAKE_CURRENT_LIST_DIR})
set_tests_properties(rego/cli PROPERTIES ENVIRONMENT "${TRUSTEE_TEST_ENV}" TIMEOUT 120)
