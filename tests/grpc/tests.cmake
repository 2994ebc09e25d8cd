# gRPC interop and end-to-end tests (Python client/server from Debian's
# python3-grpcio; stubs generated at run time from src/grpc/protos).
add_test(NAME grpc/interop COMMAND /usr/bin/python3 ${CMAKE_CURRENT_LIST_DIR}/interop.py)
set_tests_properties(grpc/interop PROPERTIES ENVIRONMENT "${TRUSTEE_TEST_ENV}" TIMEOUT 300)
# kbs (coco_as_grpc) -> grpc-as -> rvps with kbs-client and the sample TEE.
add_test(NAME grpc/e2e_kbs COMMAND /usr/bin/python3 ${CMAKE_CURRENT_LIST_DIR}/e2e_kbs.py)
set_tests_properties(grpc/e2e_kbs PROPERTIES ENVIRONMENT "${TRUSTEE_TEST_ENV}" TIMEOUT 300)
# grpc.health.v1.Health/Watch (server streaming) with a Python client.
add_test(NAME grpc/health_watch COMMAND /usr/bin/python3 ${CMAKE_CURRENT_LIST_DIR}/health_watch.py)
set_tests_properties(grpc/health_watch PROPERTIES ENVIRONMENT "${TRUSTEE_TEST_ENV}" TIMEOUT 120)
