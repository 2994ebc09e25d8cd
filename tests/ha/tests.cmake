# HA end-to-end (docs/ha.md): two real `kbs` replicas sharing one store.
# tests/kv/run_servers.sh starts throwaway Postgres/Redis servers on free
# loopback ports and runs ha_e2e.py once per backend named.
#   ha/postgres  everything in Postgres
#   ha/redis     everything in Redis; then everything in Postgres but the
#                sessions in Redis (session_storage_type, HA_SESSION_STORE)
#   ha/localfs   LocalFs on one directory shared by both replicas
add_test(NAME ha/postgres
  COMMAND ${PROJECT_SOURCE_DIR}/tests/kv/run_servers.sh ${CMAKE_CURRENT_LIST_DIR}/ha_e2e.py postgres
  WORKING_DIRECTORY ${CMAKE_CURRENT_LIST_DIR})
add_test(NAME ha/redis
  COMMAND ${PROJECT_SOURCE_DIR}/tests/kv/run_servers.sh ${CMAKE_CURRENT_LIST_DIR}/ha_e2e.py redis postgres
  WORKING_DIRECTORY ${CMAKE_CURRENT_LIST_DIR})
add_test(NAME ha/localfs COMMAND /usr/bin/python3 ${CMAKE_CURRENT_LIST_DIR}/ha_e2e.py localfs
  WORKING_DIRECTORY ${CMAKE_CURRENT_LIST_DIR})
set_tests_properties(ha/postgres ha/localfs PROPERTIES ENVIRONMENT "${TRUSTEE_TEST_ENV}" TIMEOUT 300)
set_tests_properties(ha/redis PROPERTIES ENVIRONMENT "${TRUSTEE_TEST_ENV};HA_SESSION_STORE=redis" TIMEOUT 300)
