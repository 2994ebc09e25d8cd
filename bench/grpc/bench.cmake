# gRPC benchmark (never in ctest): sample attestations/s through grpc-as with
# concurrent clients (grpc_bench, on src/grpc's client) beside the library
# rate (as_bench) measured in the same run; bench/grpc/run.sh prints the ratio.
add_executable(grpc_bench ${CMAKE_CURRENT_LIST_DIR}/bench_grpc.c)
target_link_libraries(grpc_bench PRIVATE trustee_grpc)
