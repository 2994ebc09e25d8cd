# gRPC interop and end-to-end tests (Python client/server from Debian's
# python3-grpcio; stubs generated at run time from src/grpc/protos).
add_test(NAME grpc/interop COMMAND /usr/bin/python3 ${CMAKE_CURRENT_LIST_DIR}/interop.py)
set_tests_properties(grpc/interop PROPERTIES ENVIRONMENT "${TRUSTEE_TEST_ENV}" TIMEOUT 300)
