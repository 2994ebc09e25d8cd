#!/usr/bin/python3
"""End to end: SNP / Azure vTPM evidence through restful-as over HTTP.

Starts restful-as on a free loopback port with its own temp directory, posts
upstream's vectors in the current request shape (verification_requests) and
the documented single-request shape ({"tee", "evidence", ...}), checks the
EAR token (signature against GET /.well-known/jwks.json) carries the
verifier's claims, and that a tampered report and az-tdx-vtpm
are refused with their precise errors (az-tdx-vtpm reaches the Intel DCAP
step, which needs collateral that is not available offline)."""
import json
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_snp_e2e_util import Proc, annotated_evidence, as_port, b64u, check, failures, get, post  # noqa: E402

BUILD = os.environ.get("TRUSTEE_BUILD_DIR", ".")
SHARED = os.environ.get("TRUSTEE_SHARED_DIR", os.path.join(os.path.dirname(__file__), "../../../shared"))
VEC = os.path.join(SHARED, "vectors/trustee")
BIN = os.path.join(BUILD, "restful-as")


def load(rel):
    with open(os.path.join(VEC, rel), "rb") as f:
        return f.read()


def doc_example_evidence():
    with open(os.path.join(SHARED, "reference/coco-attestation-docs.txt")) as f:
        text = f.read()
    start = text.index('"tee": "snp",')
    start = text.index('"evidence": "', start) + len('"evidence": "')
    return text[start:text.index('"', start)]


def main():
    if not os.path.exists(BIN):
        print("restful-as not built; skipping", file=sys.stderr)
        return 77
    d = tempfile.mkdtemp(prefix="snp-e2e-")
    cfg = os.path.join(d, "config.json")
    with open(cfg, "w") as f:
        json.dump({"attestation_token_broker": {"type": "Ear", "duration_min": 5},
                   "verifier_config": {"snp_verifier": {"vcek_sources": [{"type": "OfflineStore",
                                                                           "path": "/nonexistent"}]},
                                       # no Intel collateral offline: a closed loopback port
                                       "dcap_verifier": {"collateral_service": "http://127.0.0.1:1/"}}}, f)
    srv = Proc([BIN, "-c", cfg, "-s", "127.0.0.1:0"], os.path.join(d, "log"), as_port)
    conn = srv.conn()
    jwks = get(conn, "/.well-known/jwks.json")[1]

    def attest(body):
        status, text, _ = post(conn, "/attestation", body)
        return status, text

    def annotated(token):
        return annotated_evidence(token, jwks)

    try:
        ev = json.loads(load("attestation-service/tests/e2e/evidence.json"))
        rd = bytes(ev["attestation_report"]["report_data"])
        # current shape, raw runtime data = the report's REPORT_DATA
        status, tok = attest({"verification_requests": [
            {"tee": "snp", "evidence": b64u(json.dumps(ev).encode()), "runtime_data": {"raw": b64u(rd)}}],
            "policy_ids": []})
        check(status == 200, f"snp current shape: {status} {tok[:300]}")
        if status == 200:
            a = annotated(tok)
            check(a.get("report_data") == rd.hex(), "report_data at top level")
            snp = a.get("snp", {})
            check(snp.get("measurement", "").startswith("6a6519d757e68c2e"), f"measurement {snp.get('measurement')}")
            check(snp.get("chip_id", "").startswith("371c55d6"), "chip_id")
            check(snp.get("reported_tcb_snp") == 23 and snp.get("policy_smt_allowed") is True, f"typed claims {snp}")
            check("report_data" not in snp and "init_data" not in snp, "report/init data moved to top level")
        # documented single-request shape with the documentation's own (older layout, v2) evidence
        status, tok = attest({"tee": "snp", "evidence": doc_example_evidence(), "policy_ids": []})
        check(status == 200, f"snp documented shape: {status} {tok[:300]}")
        if status == 200:
            snp = annotated(tok).get("snp", {})
            check(snp.get("reported_tcb_microcode") == 115 and snp.get("policy_abi_minor") == 31, f"doc claims {snp}")
        # tampered signature: refused with the verifier's reason
        bad = json.loads(json.dumps(ev))
        bad["attestation_report"]["signature"]["r"][0] ^= 1
        status, body = attest({"verification_requests": [
            {"tee": "snp", "evidence": b64u(json.dumps(bad).encode())}], "policy_ids": []})
        check(status != 200 and "report signature does not verify with the VCEK" in body, f"tampered: {status} {body}")
        # wrong runtime data
        status, body = attest({"verification_requests": [
            {"tee": "snp", "evidence": b64u(json.dumps(ev).encode()), "runtime_data": {"raw": b64u(b"other")}}],
            "policy_ids": []})
        check(status != 200 and "Report Data Mismatch" in body, f"report data mismatch: {status} {body}")
        # Azure SNP vTPM v1 and v2
        azv1 = load("deps/verifier/test_data/az-snp-vtpm/evidence-v1.json")
        status, tok = attest({"verification_requests": [
            {"tee": "az-snp-vtpm", "evidence": b64u(azv1), "runtime_data": {"raw": b64u(b"challenge")}}],
            "policy_ids": []})
        check(status == 200, f"az-snp-vtpm v1: {status} {tok[:300]}")
        if status == 200:
            a = annotated(tok)
            check(a.get("report_data") == "6368616c6c656e6765", "az report_data")
            az = a.get("az-snp-vtpm", {})
            check(az.get("tpm", {}).get("pcr00", "").startswith("e15c44796beabf46"), f"az pcr00 {az.get('tpm')}")
            check(isinstance(az.get("reported_tcb_snp"), str), "az claims are strings")
        rd2 = bytes.fromhex("982f5c6e45df0ed3f10b6f60b02f0c8390e281300f3805e2279c16168cd6ae9a"
                            "a398f647caa2338748cd0fd9f5f819ef")
        azv2 = load("deps/verifier/test_data/az-snp-vtpm/evidence-v2.json")
        status, tok = attest({"tee": "az-snp-vtpm", "evidence": b64u(azv2),
                                                "runtime_data": {"raw": b64u(rd2)}, "policy_ids": []})
        check(status == 200, f"az-snp-vtpm v2 documented shape: {status} {tok[:300]}")
        # az-tdx-vtpm: every vTPM/HCL check passes, the TD quote's DCAP verification cannot (no collateral)
        tdx = load("deps/verifier/test_data/az-tdx-vtpm/evidence-v1.json")
        status, body = attest({"verification_requests": [
            {"tee": "az-tdx-vtpm", "evidence": b64u(tdx), "runtime_data": {"raw": b64u(b"challenge")}}],
            "policy_ids": []})
        check(status != 200 and "DCAP quote verification: collateral from http://127.0.0.1:1/" in body
              and "fmspc=00806F050000" in body, f"az-tdx: {status} {body}")
    finally:
        srv.stop()
        shutil.rmtree(d, ignore_errors=True)
    if failures:
        print(f"{len(failures)} failure(s)", file=sys.stderr)
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
