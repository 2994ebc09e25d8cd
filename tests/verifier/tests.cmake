# SNP / Azure vTPM evidence end to end through restful-as (free loopback port,
# own temp dir; exit 77 = skipped when restful-as is not built).
add_test(NAME verifier/snp_e2e_restful COMMAND /usr/bin/python3 ${CMAKE_CURRENT_LIST_DIR}/test_snp_e2e_restful.py)
set_tests_properties(verifier/snp_e2e_restful PROPERTIES ENVIRONMENT "${TRUSTEE_TEST_ENV}" TIMEOUT 300 SKIP_RETURN_CODE 77)
# SNP through the KBS protocol (/auth, /attest) with a test-only AMD-shaped chain
# (snp_verifier.vendor_certs), compared with restful-as; exit 77 = skipped when
# kbs or restful-as is not built.
add_test(NAME verifier/snp_e2e_kbs COMMAND /usr/bin/python3 ${CMAKE_CURRENT_LIST_DIR}/test_snp_e2e_kbs.py)
set_tests_properties(verifier/snp_e2e_kbs PROPERTIES ENVIRONMENT "${TRUSTEE_TEST_ENV}" TIMEOUT 300 SKIP_RETURN_CODE 77)
# Intel TDX/SGX quotes with real Intel collateral end to end through restful-as (free loopback port,
# own temp dir; exit 77 = skipped when restful-as is not built).
add_test(NAME verifier/dcap_e2e_restful COMMAND /usr/bin/python3 ${CMAKE_CURRENT_LIST_DIR}/test_dcap_e2e_restful.py)
set_tests_properties(verifier/dcap_e2e_restful PROPERTIES ENVIRONMENT "${TRUSTEE_TEST_ENV}" TIMEOUT 300 SKIP_RETURN_CODE 77)
