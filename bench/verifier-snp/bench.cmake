# SNP verifier benchmark (run with bench/verifier-snp/run.sh <build-dir>; never in ctest).
add_executable(bench_snp ${CMAKE_CURRENT_LIST_DIR}/bench_snp.c)
target_link_libraries(bench_snp PRIVATE trustee_verifier)
