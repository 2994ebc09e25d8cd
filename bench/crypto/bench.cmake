# Crypto benchmarks (run with bench/crypto/run.sh <build-dir>; never in ctest).
add_executable(bench_crypto ${CMAKE_CURRENT_LIST_DIR}/bench_crypto.c)
target_link_libraries(bench_crypto PRIVATE trustee_crypto)
