# AS benchmarks (never in ctest): library attestations/s and an HTTP load
# generator for restful-as; bench/as/run.sh runs both beside openssl speed.
add_executable(as_bench ${CMAKE_CURRENT_LIST_DIR}/bench_as.c)
target_link_libraries(as_bench PRIVATE trustee_as)
add_executable(as_loadgen ${CMAKE_CURRENT_LIST_DIR}/loadgen.c)
