# HA end-to-end (docs/ha.md): two real `kbs` replicas sharing one store —
# Postgres and Redis started by tests/kv/run_servers.sh (throwaway servers on
# free loopback ports), and LocalFs on one shared directory.
foreach(be postgres redis)
  add_test(NAME ha/${be}
    COMMAND ${PROJECT_SOURCE_DIR}/tests/kv/run_servers.sh ${CMAKE_CURRENT_LIST_DIR}/ha_e2e.py ${be}
    WORKING_DIRECTORY ${CMAKE_CURRENT_LIST_DIR})
  set_tests_properties(ha/${be} PROPERTIES ENVIRONMENT "${TRUSTEE_TEST_ENV}" TIMEOUT 300)
endforeach()
add_test(NAME ha/localfs COMMAND /usr/bin/python3 ${CMAKE_CURRENT_LIST_DIR}/ha_e2e.py localfs
  WORKING_DIRECTORY ${CMAKE_CURRENT_LIST_DIR})
set_tests_properties(ha/localfs PROPERTIES ENVIRONMENT "${TRUSTEE_TEST_ENV}" TIMEOUT 300)
