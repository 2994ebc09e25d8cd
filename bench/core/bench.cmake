# Core benchmarks (never part of ctest): bench_core measures JCS, base64 and
# SHA-384 through trustee-c's own APIs; bench/core/run.sh sets them beside
# `openssl speed`.
add_executable(bench_core ${CMAKE_CURRENT_LIST_DIR}/bench_core.c)
target_link_libraries(bench_core PRIVATE trustee_core)
set_target_properties(bench_core PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bench)
