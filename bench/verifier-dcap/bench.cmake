# Intel DCAP verifier benchmark (run with bench/verifier-dcap/run.sh <build-dir>; never in ctest).
add_executable(bench_dcap ${CMAKE_CURRENT_LIST_DIR}/bench_dcap.c)
target_link_libraries(bench_dcap PRIVATE trustee_verifier)
