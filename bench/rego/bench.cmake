# Rego engine benchmarks (never in ctest): bench/rego/run.sh <build-dir>.
add_executable(rego_bench ${CMAKE_CURRENT_LIST_DIR}/bench_rego.c)
target_link_libraries(rego_bench PRIVATE trustee_rego)
