# kv: one suite binary run against every backend (kv_suite <backend>); the
# Postgres and Redis runs go through run_servers.sh, which starts throwaway
# servers on free ports and stops them afterwards.
add_executable(kv_suite ${CMAKE_CURRENT_LIST_DIR}/kv_suite.c)
target_link_libraries(kv_suite PRIVATE trustee_kv PkgConfig::CMOCKA Threads::Threads)
set_target_properties(kv_suite PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
foreach(be memory localfs localjson localjson-file sqlite)
  add_test(NAME kv/suite_${be} COMMAND $<TARGET_FILE:kv_suite> ${be} WORKING_DIRECTORY ${CMAKE_CURRENT_LIST_DIR})
  set_tests_properties(kv/suite_${be} PROPERTIES ENVIRONMENT "${TRUSTEE_TEST_ENV}" TIMEOUT 300)
endforeach()
add_test(NAME kv/suite_servers
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/run_servers.sh $<TARGET_FILE:kv_suite> postgres redis
  WORKING_DIRECTORY ${CMAKE_CURRENT_LIST_DIR})
set_tests_properties(kv/suite_servers PROPERTIES ENVIRONMENT "${TRUSTEE_TEST_ENV}" TIMEOUT 300)
