# KBS load generator (never part of ctest): bench/kbs/run.sh starts a real
# `kbs` and drives it with bench_kbs beside `openssl speed` for the crypto bound.
add_executable(bench_kbs ${CMAKE_CURRENT_LIST_DIR}/bench_kbs.c)
target_link_libraries(bench_kbs PRIVATE trustee_client Threads::Threads)
set_target_properties(bench_kbs PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bench)
