#!/usr/bin/python3
"""gRPC interop: a Python client (python3-grpcio, stubs generated from the
project's .proto files) calls every RPC of grpc-as and rvps; the C client
(rvps-tool, grpc-as's GrpcRemote RVPS) calls a Python server.

Covered: health; AttestationEvaluate in the current shape and the documented
older single-request shape (including the documentation's own example body),
SetAttestationPolicy, GetAttestationChallenge; the RVPS service on grpc-as
and on rvps (Register, Query with unset result, List, Delete); tokens checked
against the JWKS listener; malformed protobuf -> INVALID_ARGUMENT, oversized
-> RESOURCE_EXHAUSTED, unknown method -> UNIMPLEMENTED, the server alive
afterwards; concurrent calls; RVPS down at start and at evaluation time;
rvps restart with LocalJson and LocalFs keeps values; clean exits."""
import concurrent.futures
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
import threading
import time
import urllib.request

from grpc_common import (SHARED, failures, Proc, b64s, b64u, check, finish, free_port, rv_message, run_tool, sample_evidence,
                         stubs, unb64u)

tmp = tempfile.mkdtemp(prefix="grpc-interop-")
stubs(tmp)

import grpc  # noqa: E402
import attestation_pb2 as apb  # noqa: E402
import attestation_pb2_grpc as agrpc  # noqa: E402
import health_pb2 as hpb  # noqa: E402
import health_pb2_grpc as hgrpc  # noqa: E402
import reference_pb2 as rpb  # noqa: E402
import reference_pb2_grpc as rgrpc  # noqa: E402
from jwcrypto import jwk, jwt  # noqa: E402

ALLOW_ALL = """package policy
import rego.v1
trust_claims := {"executables": 2, "hardware": 2, "configuration": 2}
"""


def code_of(fn, *a, **kw):
    try:
        fn(*a, **kw)
        return grpc.StatusCode.OK, ""
    except grpc.RpcError as e:
        return e.code(), e.details()


def raw_call(ch, method, data, timeout=10):
    return ch.unary_unary(method, request_serializer=None, response_deserializer=None)(data, timeout=timeout)


def verify_ear(jwks_url, token):
    with urllib.request.urlopen(jwks_url, timeout=10) as r:
        keys = jwk.JWKSet.from_json(r.read().decode())
    t = jwt.JWT(jwt=token, key=keys, algs=["ES256"])
    return json.loads(t.claims)


def doc_example_evidence():
    with open(os.path.join(SHARED, "reference", "coco-attestation-docs.txt")) as f:
        text = f.read()
    m = re.search(r'"tee": "snp",\s*"evidence": "([A-Za-z0-9_-]+)",\s*"policy_ids": \[\]', text)
    return m.group(1) if m else None


def individual(evidence, runtime=None, **kw):
    q = apb.IndividualAttestationRequest(tee="sample", evidence=evidence, **kw)
    if runtime is not None:
        q.structured_runtime_data = json.dumps(runtime)
    return q


def grpc_as_tests():
    port, jport = free_port(), free_port()
    cfgdir = tempfile.mkdtemp(prefix="grpc-as-cfg-", dir=tmp)
    cfg = os.path.join(cfgdir, "config.json")
    with open(cfg, "w") as f:
        json.dump({"attestation_token_broker": {"type": "Ear", "duration_min": 5},
                   "verifier_config": {"snp_verifier": {"vcek_sources": [{"type": "OfflineStore",
                                                                           "path": cfgdir}]}}}, f)
    srv = Proc("grpc-as", ["-c", cfg, "-s", f"127.0.0.1:{port}", "--jwks-socket", f"127.0.0.1:{jport}",
                           "--max-message-size", "65536", "--workers", "4"], ready="JWKS endpoint")
    jwks_url = f"http://127.0.0.1:{jport}/.well-known/jwks.json"
    try:
        ch = grpc.insecure_channel(f"127.0.0.1:{port}")
        a = agrpc.AttestationServiceStub(ch)
        r = rgrpc.ReferenceValueProviderServiceStub(ch)
        h = hgrpc.HealthStub(ch)

        # health
        for svc in ("", "attestation.AttestationService", "reference.ReferenceValueProviderService"):
            check(h.Check(hpb.HealthCheckRequest(service=svc), timeout=10).status == 1, f"health {svc!r} SERVING")
        c, d = code_of(h.Check, hpb.HealthCheckRequest(service="nope"), timeout=10)
        check(c == grpc.StatusCode.NOT_FOUND, f"health unknown service: {c} {d}")

        # RVPS service on the AS port
        for values in ({"svn": ["1"], "launch_digest": ["abcde"]}, {"major_version": 1, "minimum_minor_version": 1}):
            r.RegisterReferenceValue(rpb.ReferenceValueRegisterRequest(message=json.dumps(rv_message(values))),
                                     timeout=10)
        q = r.QueryReferenceValue(rpb.ReferenceValueQueryRequest(reference_value_id="svn"), timeout=10)
        check(json.loads(q.reference_value_results) == ["1"], f"query svn {q}")
        q = r.QueryReferenceValue(rpb.ReferenceValueQueryRequest(reference_value_id="unknown"), timeout=10)
        check(q.ByteSize() == 0, "unknown id: result unset (absent on the wire)")
        lst = json.loads(r.ListReferenceValues(rpb.ReferenceValueListRequest(), timeout=10).reference_values)
        check(sorted(x["name"] for x in lst) == ["launch_digest", "major_version", "minimum_minor_version", "svn"],
              f"list {lst}")
        check(all(set(x) == {"version", "name", "expiration", "value"} for x in lst), "record shape")
        c, d = code_of(r.DeleteReferenceValue, rpb.ReferenceValueDeleteRequest(reference_value_id="nope"), timeout=10)
        check(c == grpc.StatusCode.NOT_FOUND and "nope" in d, f"delete unknown: {c} {d}")
        c, d = code_of(r.RegisterReferenceValue, rpb.ReferenceValueRegisterRequest(
            message='{"version":"0.2.0","type":"sample","payload":""}'), timeout=10)
        check(c == grpc.StatusCode.INVALID_ARGUMENT and "Version unmatched" in d, f"bad version: {c} {d}")

        # current shape, runtime data bound through report_data
        nonce = {"nonce": "n-1", "tee-pubkey": {"kty": "EC", "crv": "P-256", "alg": "ECDH-ES+A256KW", "x": "x", "y": "y"}}
        digest = hashlib.sha384(json.dumps(nonce, sort_keys=True, separators=(",", ":")).encode()).digest()
        req = apb.AttestationRequest(verification_requests=[individual(sample_evidence(digest), nonce)],
                                     policy_ids=["default"])
        tok = a.AttestationEvaluate(req, timeout=30).attestation_token
        claims = verify_ear(jwks_url, tok)
        cpu0 = claims["submods"]["cpu0"]
        check(cpu0["ear.status"] == "affirming", f"current shape with RVs affirming: {cpu0['ear.status']}")
        rdc = cpu0["ear.veraison.annotated-evidence"]["runtime_data_claims"]
        check(rdc["nonce"] == "n-1", f"runtime data claims {rdc}")
        # wrong binding
        bad = apb.AttestationRequest(verification_requests=[individual(sample_evidence(b"x" * 48), nonce)])
        c, d = code_of(a.AttestationEvaluate, bad, timeout=30)
        check(c != grpc.StatusCode.OK and "report" in d.lower(), f"binding mismatch: {c} {d}")
        # raw runtime data and init-data digest
        raw = b"raw-bytes"
        q1 = apb.IndividualAttestationRequest(tee="sample", evidence=sample_evidence(raw),
                                              raw_runtime_data=b64u(raw), runtime_data_hash_algorithm="sha256",
                                              init_data_digest=b64u(b"\x01" * 32))
        tok = a.AttestationEvaluate(apb.AttestationRequest(verification_requests=[q1]), timeout=30).attestation_token
        check(verify_ear(jwks_url, tok)["submods"]["cpu0"]["ear.status"] == "affirming", "raw runtime data")

        # the documented older single-request shape
        legacy = apb.LegacyAttestationRequest(tee="sample", evidence=sample_evidence(digest),
                                              structured_runtime_data=json.dumps(nonce),
                                              runtime_data_hash_algorithm="sha384", policy_ids=["default"])
        tok = raw_call(ch, "/attestation.AttestationService/AttestationEvaluate", legacy.SerializeToString(),
                       timeout=30)
        tok = apb.AttestationResponse.FromString(tok).attestation_token
        check(verify_ear(jwks_url, tok)["submods"]["cpu0"]["ear.status"] == "affirming", "legacy shape accepted")
        # ... and the documentation's example body (real SNP evidence carrying its VCEK): decoded as the
        # older shape, it reaches the SNP verifier, which appraises the report
        ev = doc_example_evidence()
        check(ev is not None, "documentation example found")
        if ev:
            doc = apb.LegacyAttestationRequest(tee="snp", evidence=ev)
            try:
                out = raw_call(ch, "/attestation.AttestationService/AttestationEvaluate", doc.SerializeToString(), 30)
                claims = verify_ear(jwks_url, apb.AttestationResponse.FromString(out).attestation_token)
                snp = claims["submods"]["cpu0"]["ear.veraison.annotated-evidence"]["snp"]
                check(snp["measurement"].startswith("a1f3930413247bb3"), f"documentation example measurement {snp}")
            except grpc.RpcError as e:  # a verifier that refuses it must say so, not the decoder
                d = e.details()
                check("snp" in d.lower() and "malformed" not in d and "field" not in d,
                      f"documentation example reaches the SNP verifier: {e.code()} {d}")

        # policies
        a.SetAttestationPolicy(apb.SetPolicyRequest(policy_id="allowall_cpu", policy=b64u(ALLOW_ALL.encode())),
                               timeout=10)
        tok = a.AttestationEvaluate(apb.AttestationRequest(
            verification_requests=[apb.IndividualAttestationRequest(tee="sample", evidence=sample_evidence(svn="9"))],
            policy_ids=["allowall"]), timeout=30).attestation_token
        cpu0 = verify_ear(jwks_url, tok)["submods"]["cpu0"]
        check(cpu0["ear.status"] == "affirming" and cpu0["ear.appraisal-policy-id"] == "allowall", f"allowall {cpu0}")
        c, d = code_of(a.SetAttestationPolicy, apb.SetPolicyRequest(policy_id="p_cpu", policy="!!!"), timeout=10)
        check(c == grpc.StatusCode.INVALID_ARGUMENT and "policy" in d, f"bad base64 policy: {c} {d}")
        c, d = code_of(a.SetAttestationPolicy, apb.SetPolicyRequest(policy_id="p_cpu", policy=b64u(b"package x\n(")),
                       timeout=10)
        check(c == grpc.StatusCode.INVALID_ARGUMENT, f"policy that does not compile: {c} {d}")

        # challenge
        ch_r = a.GetAttestationChallenge(apb.ChallengeRequest(inner={"tee": "sample", "tee_params": ""}), timeout=10)
        check(ch_r.attestation_challenge == "", f"sample challenge empty: {ch_r}")
        c, d = code_of(a.GetAttestationChallenge, apb.ChallengeRequest(inner={"tee_params": ""}), timeout=10)
        check(c == grpc.StatusCode.INVALID_ARGUMENT and "tee" in d, f"challenge without tee: {c} {d}")

        # bad input: statuses with messages, never a crash
        M = "/attestation.AttestationService/AttestationEvaluate"
        for data, what in ((b"\xff\xff\xff", "garbage"), (b"\x0a\x05\x0a\x03", "truncated sub-message"),
                           (b"\x0a\x02\xff\xfe", "field 1 neither TEE nor message")):
            c, d = code_of(raw_call, ch, M, data)
            check(c == grpc.StatusCode.INVALID_ARGUMENT and "malformed" in d, f"{what}: {c} {d}")
        c, d = code_of(a.AttestationEvaluate, apb.AttestationRequest(), timeout=10)
        check(c == grpc.StatusCode.INVALID_ARGUMENT and "verification_requests" in d, f"empty request: {c} {d}")
        c, d = code_of(a.AttestationEvaluate, apb.AttestationRequest(verification_requests=[
            apb.IndividualAttestationRequest(tee="sample", evidence="%%%")]), timeout=10)
        check(c == grpc.StatusCode.INVALID_ARGUMENT and "verification_requests[0].evidence" in d, f"bad evidence: {d}")
        c, d = code_of(a.AttestationEvaluate, apb.AttestationRequest(verification_requests=[
            apb.IndividualAttestationRequest(tee="sample", evidence=sample_evidence(), structured_runtime_data="{")]),
            timeout=10)
        check(c == grpc.StatusCode.INVALID_ARGUMENT and "structured_runtime_data" in d, f"bad runtime JSON: {d}")
        c, d = code_of(a.AttestationEvaluate, apb.AttestationRequest(verification_requests=[
            apb.IndividualAttestationRequest(tee="nosuchtee", evidence=sample_evidence())]), timeout=10)
        check(c != grpc.StatusCode.OK and "nosuchtee" in d, f"unknown TEE: {c} {d}")
        c, d = code_of(raw_call, ch, M, b"\x0a" + b"\x80\x80\x04" + b"x" * 65536)
        check(c == grpc.StatusCode.RESOURCE_EXHAUSTED, f"oversized message: {c} {d}")
        c, d = code_of(raw_call, ch, "/attestation.AttestationService/Nope", b"")
        check(c == grpc.StatusCode.UNIMPLEMENTED, f"unknown method: {c} {d}")
        c, d = code_of(raw_call, ch, "/reference.ReferenceValueProviderService/QueryReferenceValue", b"\x0a\x09abc")
        check(c == grpc.StatusCode.INVALID_ARGUMENT, f"malformed query: {c} {d}")
        check(h.Check(hpb.HealthCheckRequest(), timeout=10).status == 1, "alive after bad input")

        # callers that give up mid-call (deadline) or cancel: the server stays healthy and leak-free
        def impatient(i):
            q = apb.IndividualAttestationRequest(tee="sample", evidence=sample_evidence())
            fut = a.AttestationEvaluate.future(apb.AttestationRequest(verification_requests=[q]),
                                               timeout=0.001 * (i % 5 + 1))
            if i % 3 == 0:
                fut.cancel()
            try:
                fut.result()
            except grpc.RpcError as e:
                return e.code()
            except grpc.FutureCancelledError:
                return grpc.StatusCode.CANCELLED
            return grpc.StatusCode.OK
        with concurrent.futures.ThreadPoolExecutor(8) as ex:
            codes = set(ex.map(impatient, range(40)))
        check(codes <= {grpc.StatusCode.OK, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.CANCELLED},
              f"impatient callers: {codes}")
        check(h.Check(hpb.HealthCheckRequest(), timeout=10).status == 1, "alive after cancelled calls")

        # concurrency: more callers than workers
        def one(i):
            q = apb.IndividualAttestationRequest(tee="sample", evidence=sample_evidence())
            return a.AttestationEvaluate(apb.AttestationRequest(verification_requests=[q]), timeout=60)
        with concurrent.futures.ThreadPoolExecutor(12) as ex:
            toks = [f.attestation_token for f in ex.map(one, range(48))]
        check(len(toks) == 48 and all(t.count(".") == 2 for t in toks), "48 concurrent evaluations")

        # JWKS listener answers only its path
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{jport}/other", timeout=10)
            check(False, "JWKS listener 404 for other paths")
        except urllib.error.HTTPError as e:
            check(e.code == 404, f"JWKS other path {e.code}")
        ch.close()
    finally:
        srv.stop()


class PyRvps(rgrpc.ReferenceValueProviderServiceServicer):
    """A Python RVPS: the peer of the C client (rvps-tool, grpc-as GrpcRemote)."""

    def __init__(self):
        self.values, self.calls = {}, []

    def RegisterReferenceValue(self, request, context):
        self.calls.append("register")
        msg = json.loads(request.message)
        for k, v in json.loads(unb64u(msg["payload"]) if "-" in msg["payload"] else
                               __import__("base64").b64decode(msg["payload"])).items():
            self.values[k] = v
        return rpb.ReferenceValueRegisterResponse()

    def QueryReferenceValue(self, request, context):
        self.calls.append("query:" + request.reference_value_id)
        if request.reference_value_id in self.values:
            return rpb.ReferenceValueQueryResponse(reference_value_results=json.dumps(self.values[request.reference_value_id]))
        return rpb.ReferenceValueQueryResponse()

    def ListReferenceValues(self, request, context):
        self.calls.append("list")
        return rpb.ReferenceValueListResponse(reference_values=json.dumps(
            [{"version": "0.1.0", "name": k, "expiration": "2099-01-01T00:00:00Z", "value": v}
             for k, v in sorted(self.values.items())]))

    def DeleteReferenceValue(self, request, context):
        self.calls.append("delete")
        if request.reference_value_id not in self.values:
            context.abort(grpc.StatusCode.NOT_FOUND, "no such reference value")
        del self.values[request.reference_value_id]
        return rpb.ReferenceValueDeleteResponse()


def c_client_tests():
    server = grpc.server(concurrent.futures.ThreadPoolExecutor(4))
    py = PyRvps()
    rgrpc.add_ReferenceValueProviderServiceServicer_to_server(py, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    addr = f"http://127.0.0.1:{port}"
    try:
        msg = os.path.join(tmp, "msg.json")
        with open(msg, "w") as f:
            json.dump(rv_message({"svn": ["1"], "launch_digest": ["abcde"], "major_version": 1,
                                  "minimum_minor_version": 1}), f)
        rc, out, err = run_tool("register", "--path", msg, "--addr", addr)
        check(rc == 0 and py.values.get("svn") == ["1"], f"rvps-tool register to Python: {rc} {err}")
        rc, out, err = run_tool("query", "-r", "svn", "-a", addr)
        check(rc == 0 and json.loads(out) == ["1"], f"rvps-tool query from Python: {rc} {out} {err}")
        rc, out, err = run_tool("query", "-r", "nope", "-a", addr)
        check(rc == 0 and out == "" and "No reference values found" in err, f"rvps-tool query unknown: {rc} {err}")
        rc, out, err = run_tool("list", "-a", addr)
        check(rc == 0 and [x["name"] for x in json.loads(out)][:1] == ["launch_digest"], f"rvps-tool list: {out}")
        rc, out, err = run_tool("delete", "-r", "nope", "-a", addr)
        check(rc == 1 and "NOT_FOUND" in err and "no such reference value" in err, f"delete unknown: {err}")

        # grpc-as with a GrpcRemote RVPS = the Python server
        cfg = os.path.join(tmp, "remote.json")
        with open(cfg, "w") as f:
            json.dump({"rvps_config": {"type": "GrpcRemote", "address": f"127.0.0.1:{port}"}}, f)
        gport = free_port()
        srv = Proc("grpc-as", ["-c", cfg, "-s", f"127.0.0.1:{gport}", "--jwks-socket", "none"])
        try:
            ch = grpc.insecure_channel(f"127.0.0.1:{gport}")
            a = agrpc.AttestationServiceStub(ch)
            before = len(py.calls)
            tok = a.AttestationEvaluate(apb.AttestationRequest(verification_requests=[
                apb.IndividualAttestationRequest(tee="sample", evidence=sample_evidence())]), timeout=30)
            claims = json.loads(unb64u(tok.attestation_token.split(".")[1]))
            check(claims["submods"]["cpu0"]["ear.status"] == "affirming", f"remote RVs affirming {claims}")
            check("query:svn" in py.calls[before:], f"AS queried the Python RVPS: {py.calls[before:]}")
            # register through grpc-as's RVPS service reaches the remote RVPS
            r = rgrpc.ReferenceValueProviderServiceStub(ch)
            r.RegisterReferenceValue(rpb.ReferenceValueRegisterRequest(message=json.dumps(rv_message({"x": 1}))),
                                     timeout=10)
            check(py.values.get("x") == 1, "register forwarded to the remote RVPS")
            # RVPS down at evaluation time: precise error naming the RVPS and the call
            server.stop(0).wait()
            c, d = code_of(a.AttestationEvaluate, apb.AttestationRequest(verification_requests=[
                apb.IndividualAttestationRequest(tee="sample", evidence=sample_evidence())]), timeout=30)
            check(c != grpc.StatusCode.OK and f"127.0.0.1:{port}" in d and "UNAVAILABLE" in d
                  and "QueryReferenceValue" in d, f"RVPS down at evaluation: {c} {d}")
            ch.close()
        finally:
            srv.stop()
        # RVPS down at start
        bad = Proc("grpc-as", ["-c", cfg, "-s", f"127.0.0.1:{free_port()}"], expect_fail=True)
        rc = bad.wait_exit(30)
        txt = bad.text()
        check(rc == 1 and "unreachable" in txt and f"127.0.0.1:{port}" in txt, f"RVPS down at start: {rc} {txt}")
        bad.stop(must_succeed=False)
    finally:
        server.stop(0)


def rvps_restart_tests():
    toml_fs = '[storage]\nstorage_type = "LocalFs"\n[storage.backends.local_fs]\ndir_path = "{d}/fs"\n'
    for store, conf in (("LocalJson", lambda d: {"store_type": "LocalJson", "store_config": {"file_path": d + "/rv.json"}}),
                        ("LocalFs", lambda d: {"storage": {"storage_type": "LocalFs",
                                                           "backends": {"local_fs": {"dir_path": d + "/fs"}}}}),
                        ("LocalFs-toml", lambda d: toml_fs.replace("{d}", d))):
        d = tempfile.mkdtemp(prefix="rvps-" + store, dir=tmp)
        cfg = os.path.join(d, "rvps.toml" if store.endswith("toml") else "rvps.json")
        with open(cfg, "w") as f:
            c = conf(d)
            f.write(c) if isinstance(c, str) else json.dump(c, f)
        port = free_port()
        addr = f"127.0.0.1:{port}"
        srv = Proc("rvps", ["-c", cfg, "-a", addr])
        msg = os.path.join(d, "msg.json")
        with open(msg, "w") as f:
            json.dump(rv_message({"svn": ["7"], "rvps:///github.com/x:v1" if store == "LocalJson" else "a/b": 3}), f)
        rc, out, err = run_tool("register", "-p", msg, "-a", addr)
        check(rc == 0, f"{store}: register {err}")
        with grpc.insecure_channel(addr) as ch:
            h = hgrpc.HealthStub(ch)
            check(h.Check(hpb.HealthCheckRequest(service="reference.ReferenceValueProviderService"),
                          timeout=10).status == 1, f"{store}: rvps health")
        srv.stop()
        srv = Proc("rvps", ["-c", cfg, "-a", addr])
        rc, out, err = run_tool("query", "-r", "svn", "-a", addr)
        check(rc == 0 and json.loads(out) == ["7"], f"{store}: value kept across restart: {rc} {out} {err}")
        with grpc.insecure_channel(addr) as ch:
            r = rgrpc.ReferenceValueProviderServiceStub(ch)
            lst = json.loads(r.ListReferenceValues(rpb.ReferenceValueListRequest(), timeout=10).reference_values)
            check(len(lst) == 2, f"{store}: list after restart {lst}")
            r.DeleteReferenceValue(rpb.ReferenceValueDeleteRequest(reference_value_id="svn"), timeout=10)
            q = r.QueryReferenceValue(rpb.ReferenceValueQueryRequest(reference_value_id="svn"), timeout=10)
            check(q.ByteSize() == 0, f"{store}: deleted")
            # concurrent registrations through the server lose nothing
            def reg(i):
                r.RegisterReferenceValue(rpb.ReferenceValueRegisterRequest(
                    message=json.dumps(rv_message({f"k{i}": i}))), timeout=30)
            with concurrent.futures.ThreadPoolExecutor(8) as ex:
                list(ex.map(reg, range(24)))
            lst = json.loads(r.ListReferenceValues(rpb.ReferenceValueListRequest(), timeout=10).reference_values)
            check(sum(1 for x in lst if x["name"].startswith("k")) == 24, f"{store}: 24 concurrent registrations")
        srv.stop()
    # a config named with -c that is broken stops the start
    bad = os.path.join(tmp, "bad.json")
    with open(bad, "w") as f:
        f.write("{")
    p = Proc("rvps", ["-c", bad, "-a", f"127.0.0.1:{free_port()}"], expect_fail=True)
    rc = p.wait_exit(20)
    check(rc == 1 and "bad.json" in p.text(), f"broken config: {rc} {p.text()}")
    p.stop(must_succeed=False)
    # port in use
    port = free_port()
    a = Proc("rvps", ["-a", f"127.0.0.1:{port}"])
    b = Proc("rvps", ["-a", f"127.0.0.1:{port}"], expect_fail=True)
    rc = b.wait_exit(20)
    check(rc == 1 and "cannot listen" in b.text(), f"port in use: {rc} {b.text()}")
    b.stop(must_succeed=False)
    a.stop()


def tls_tests():
    """-t/-k: gRPC over TLS for the Python client and the C client (rvps-tool with an https:// address and
    gRPC's GRPC_DEFAULT_SSL_ROOTS_FILE_PATH), and the JWKS over HTTPS."""
    import ssl
    import subprocess
    d = tempfile.mkdtemp(prefix="tls-", dir=tmp)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", d + "/key.pem", "-out", d + "/cert.pem", "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"], check=True, capture_output=True)
    port, jport = free_port(), free_port()
    srv = Proc("grpc-as", ["-s", f"127.0.0.1:{port}", "-t", d + "/cert.pem", "-k", d + "/key.pem",
                           "--jwks-socket", f"127.0.0.1:{jport}"], ready="JWKS endpoint")
    try:
        check("listening on https://" in srv.text(), "TLS announced")
        with open(d + "/cert.pem", "rb") as f:
            creds = grpc.ssl_channel_credentials(root_certificates=f.read())
        with grpc.secure_channel(f"127.0.0.1:{port}", creds) as ch:
            check(hgrpc.HealthStub(ch).Check(hpb.HealthCheckRequest(), timeout=10).status == 1, "health over TLS")
            tok = agrpc.AttestationServiceStub(ch).AttestationEvaluate(apb.AttestationRequest(verification_requests=[
                apb.IndividualAttestationRequest(tee="sample", evidence=sample_evidence())]), timeout=30)
            check(tok.attestation_token.count(".") == 2, "evaluate over TLS")
        with grpc.insecure_channel(f"127.0.0.1:{port}") as ch:
            c, d2 = code_of(hgrpc.HealthStub(ch).Check, hpb.HealthCheckRequest(), timeout=5)
            check(c == grpc.StatusCode.UNAVAILABLE, f"plaintext client refused by the TLS server: {c}")
        msg = os.path.join(d, "msg.json")
        with open(msg, "w") as f:
            json.dump(rv_message({"tls_value": ["ok"]}), f)
        env = dict(os.environ, GRPC_DEFAULT_SSL_ROOTS_FILE_PATH=d + "/cert.pem")
        p = subprocess.run([os.path.join(os.environ.get("TRUSTEE_BUILD_DIR", "."), "rvps-tool"), "register", "-p", msg,
                            "-a", f"https://127.0.0.1:{port}"], capture_output=True, text=True, env=env, timeout=60)
        check(p.returncode == 0, f"C client over TLS: {p.stderr}")
        p = subprocess.run([os.path.join(os.environ.get("TRUSTEE_BUILD_DIR", "."), "rvps-tool"), "query", "-r",
                            "tls_value", "-a", f"https://127.0.0.1:{port}"], capture_output=True, text=True, env=env,
                           timeout=60)
        check(p.returncode == 0 and json.loads(p.stdout) == ["ok"], f"C client query over TLS: {p.stdout} {p.stderr}")
        ctx = ssl.create_default_context(cafile=d + "/cert.pem")
        with urllib.request.urlopen(f"https://127.0.0.1:{jport}/.well-known/jwks.json", context=ctx, timeout=10) as r:
            check(len(json.loads(r.read())["keys"]) >= 1, "JWKS over HTTPS")
    finally:
        srv.stop()


grpc_as_tests()
tls_tests()
c_client_tests()
rvps_restart_tests()
if not failures:
    shutil.rmtree(tmp, ignore_errors=True)  # kept for inspection when something failed
finish()
