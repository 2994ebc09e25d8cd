#!/usr/bin/python3
"""End to end: Intel TDX and SGX quotes through restful-as over HTTP.

Starts restful-as (free loopback port, own temp dir; the process helpers of
test_snp_e2e_util.py) with the real dcap-qvl quotes' Intel collateral as
`dcap_verifier.collateral_bundles` and a verification time inside its
validity, posts TDX and SGX evidence with the quotes' own REPORT_DATA as raw
runtime data, checks the EAR token (signature against the JWKS) carries the
DCAP claims, and that a wrong runtime data and an expired-collateral policy
are refused with their precise errors."""
import base64
import json
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_snp_e2e_util import Proc, annotated_evidence, as_port, b64u, check, failures, get, post  # noqa: E402

BUILD = os.environ.get("TRUSTEE_BUILD_DIR", ".")
SHARED = os.environ.get("TRUSTEE_SHARED_DIR", os.path.join(os.path.dirname(__file__), "../../../shared"))
BIN = os.path.join(BUILD, "restful-as")
QVL = os.path.join(SHARED, "vectors/dcap-qvl")


def evidence(name):
    with open(os.path.join(QVL, name), "rb") as f:
        q = f.read()
    return q, b64u(json.dumps({"quote": base64.b64encode(q).decode()}).encode())


class Server:
    """restful-as with the dcap-qvl collateral bundles, in its own temp dir."""

    def __init__(self, policy, when):
        self.dir = tempfile.mkdtemp(prefix="dcap-e2e-")
        cfg = os.path.join(self.dir, "config.json")
        with open(cfg, "w") as f:
            json.dump({"attestation_token_broker": {"type": "Ear", "duration_min": 5},
                       "verifier_config": {"dcap_verifier": {
                           "collateral_service": "http://127.0.0.1:1/",
                           "collateral_bundles": [os.path.join(QVL, "tdx_quote_collateral.json"),
                                                  os.path.join(QVL, "sgx_quote_collateral.json")],
                           "verification_time": when, "expired_collateral": policy}}}, f)
        self.proc = Proc([BIN, "-c", cfg, "-s", "127.0.0.1:0"], os.path.join(self.dir, "log"), as_port)
        self.conn = self.proc.conn()
        self.jwks = get(self.conn, "/.well-known/jwks.json")[1]

    def attest(self, body):
        status, text, _ = post(self.conn, "/attestation", body)
        return status, text

    def stop(self):
        self.proc.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def main():
    if not os.path.exists(BIN):
        print("restful-as not built; skipping", file=sys.stderr)
        return 77
    tdx_q, tdx_ev = evidence("tdx_quote")
    sgx_q, sgx_ev = evidence("sgx_quote")
    tdx_rd = tdx_q[48 + 520:48 + 584]
    sgx_rd = sgx_q[48 + 320:48 + 384]
    srv = Server("reject", "2025-07-01T00:00:00Z")
    try:
        status, tok = srv.attest({"verification_requests": [
            {"tee": "tdx", "evidence": tdx_ev, "runtime_data": {"raw": b64u(tdx_rd)}}], "policy_ids": []})
        check(status == 200, f"tdx: {status} {tok[:400]}")
        if status == 200:
            a = annotated_evidence(tok, srv.jwks)
            t = a.get("tdx", {})
            check(a.get("report_data") == tdx_rd.hex(), "tdx report_data at top level")
            check(t.get("tcb_status") == "UpToDate" and t.get("advisory_ids") == [], f"tdx tcb {t.get('tcb_status')}")
            check(t.get("quote", {}).get("header", {}).get("version") == "0400", "tdx quote header")
        status, tok = srv.attest({"verification_requests": [
            {"tee": "sgx", "evidence": sgx_ev, "runtime_data": {"raw": b64u(sgx_rd)}}], "policy_ids": []})
        check(status == 200, f"sgx: {status} {tok[:400]}")
        if status == 200:
            s = annotated_evidence(tok, srv.jwks).get("sgx", {})
            check(s.get("tcb_status") == "ConfigurationAndSWHardeningNeeded"
                  and s.get("advisory_ids") == ["INTEL-SA-00289", "INTEL-SA-00615"], f"sgx tcb {s}")
        status, body = srv.attest({"verification_requests": [
            {"tee": "tdx", "evidence": tdx_ev, "runtime_data": {"raw": b64u(b"other")}}], "policy_ids": []})
        check(status != 200 and "REPORT_DATA is different from that in TDX Quote" in body,
              f"tdx wrong runtime data: {status} {body}")
    finally:
        srv.stop()
    srv = Server("reject", "2025-09-01T00:00:00Z")
    try:
        status, body = srv.attest({"verification_requests": [{"tee": "tdx", "evidence": tdx_ev}], "policy_ids": []})
        check(status != 200 and "collateral expired at 2025-07-19T10:00:35Z" in body, f"expired: {status} {body}")
    finally:
        srv.stop()
    if failures:
        print(f"{len(failures)} failure(s)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
