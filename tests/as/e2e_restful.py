#!/usr/bin/python3
"""End-to-end tests of restful-as over real HTTP on loopback.

Upstream's broker/integration scenarios adapted to the AS (allow,
contraindicated, not contraindicated with reference values in the built-in
RVPS, device contraindicated / not, init-data claims and the
ear.trustee.identifiers extension), EAR tokens verified with jwcrypto against
GET /.well-known/jwks.json, Simple tokens against their header jwk, and a
bad-input table with status and error text asserted.
"""
import base64
import hashlib
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from jwcrypto import jwk, jwt

BUILD = os.environ.get("TRUSTEE_BUILD_DIR", ".")
HERE = os.path.dirname(os.path.abspath(__file__))
BIN = os.path.join(BUILD, "restful-as")

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def b64s(b):
    return base64.b64encode(b).decode()


def unb64u(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


class Server:
    def __init__(self, config, extra=(), tls_dir=None):
        self.dir = tempfile.mkdtemp(prefix="as-e2e-")
        cfg = os.path.join(self.dir, "config.json")
        with open(cfg, "w") as f:
            json.dump(config, f)
        self.log = open(os.path.join(self.dir, "log"), "w+")
        self.p = subprocess.Popen([BIN, "-c", cfg, "-s", "127.0.0.1:0", *extra],
                                  stdout=self.log, stderr=self.log)
        deadline = time.time() + 20
        self.port = None
        while time.time() < deadline and self.port is None:
            self.log.flush()
            with open(self.log.name) as f:
                for line in f:
                    if "listening on http" in line:  # http:// or https://
                        self.port = int(line.rsplit(":", 1)[1])
            if self.p.poll() is not None:
                break
            time.sleep(0.05)
        if self.port is None:
            with open(self.log.name) as f:
                print(f.read(), file=sys.stderr)
            self.stop()
            raise SystemExit("restful-as did not start")
        if tls_dir:
            import ssl
            ctx = ssl.create_default_context(cafile=os.path.join(tls_dir, "cert.pem"))
            ctx.check_hostname = False
            self.conn = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=30, context=ctx)
        else:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)

    def req(self, method, path, body=None, headers=None):
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
        self.conn.request(method, path, body=body, headers=headers or {})
        r = self.conn.getresponse()
        data = r.read()
        return r.status, data.decode(errors="replace"), r

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(10)
            except subprocess.TimeoutExpired:
                self.p.kill()
        if self.p.returncode != 0:
            with open(self.log.name) as f:
                print(f.read()[-4000:], file=sys.stderr)
        check(self.p.returncode == 0, f"restful-as exit status {self.p.returncode} (sanitizer report above?)")
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def sample_evidence(report_data=b"", svn="1"):
    return b64u(json.dumps({"svn": svn, "report_data": b64s(report_data)}).encode())


def jcs_sha384(obj):
    # the structures used here have ASCII keys and no floats: sorted compact JSON is RFC 8785
    return hashlib.sha384(json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()).digest()


def verify_ear(srv, token):
    status, body, _ = srv.req("GET", "/.well-known/jwks.json")
    check(status == 200, "jwks 200")
    keys = jwk.JWKSet.from_json(body)
    t = jwt.JWT(jwt=token, key=keys, algs=["ES256"])
    header = unb64u(token.split(".")[0]).decode()
    check(header.startswith('{"typ":"JWT","alg":"ES256","jwk":{'), "EAR header order: " + header[:40])
    return json.loads(t.claims)


def rv_message(values):
    return {"version": "0.1.0", "type": "sample", "payload": b64s(json.dumps(values).encode())}


def set_policy(srv, pid, text):
    status, body, _ = srv.req("POST", "/policy", {"type": "rego", "policy_id": pid, "policy": b64u(text.encode())})
    check(status == 200, f"set policy {pid}: {status} {body}")


RV_CPU_POLICY = """package policy
import rego.v1
default hardware := 97
default executables := 33
default configuration := 36
trust_claims := {"executables": executables, "hardware": hardware, "configuration": configuration}
hardware := 2 if { input.sample.svn in query_reference_value("svn") }
executables := 3 if { input.sample.launch_digest in query_reference_value("launch_digest") }
configuration := 2 if { input.sample.debug == false }
"""

DEVICE_POLICY = """package policy
import rego.v1
default hardware := 97
trust_claims := {"hardware": hardware, "executables": 3, "configuration": 2}
hardware := 2 if { input.sampledevice.svn in query_reference_value("device_svn") }
"""

ALLOW_ALL = """package policy
import rego.v1
trust_claims := {"executables": 2, "hardware": 2, "configuration": 2}
"""


def ear_tests():
    srv = Server({"attestation_token_broker": {"type": "Ear", "duration_min": 5, "issuer_name": "e2e"},
                  "bogus_key": 1}, extra=("-r", "http://allowed.example"))
    try:
        # health, jwks, default policies installed
        check(srv.req("GET", "/healthz")[0] == 200, "healthz")
        status, body, _ = srv.req("GET", "/policy")
        ids = sorted(p["policy-id"] for p in json.loads(body))
        check(ids == ["default_cpu", "default_gpu", "default_ppcie", "default_switch"], f"default policies {ids}")
        for cls in ("cpu", "gpu", "switch", "ppcie"):
            status, body, _ = srv.req("GET", f"/policy/default_{cls}")
            with open(os.path.join(os.environ["TRUSTEE_SHARED_DIR"],
                                   f"vectors/trustee/attestation-service/policies/ear_default_policy_{cls}.rego")) as f:
                check(body == f.read(), f"default_{cls} text is upstream's")

        # contraindicated: default policy, no reference values (hardware 97)
        status, tok, _ = srv.req("POST", "/attestation", {"verification_requests": [
            {"tee": "sample", "evidence": sample_evidence()}], "policy_ids": []})
        check(status == 200, f"attestation {status} {tok}")
        claims = verify_ear(srv, tok)
        cpu0 = claims["submods"]["cpu0"]
        check(cpu0["ear.status"] == "contraindicated", f"no RVs → contraindicated: {cpu0['ear.status']}")
        check(cpu0["ear.trustworthiness-vector"]["hardware"] == 97, "hardware 97")
        check(list(claims) == ["eat_profile", "iat", "ear.verifier-id", "submods", "exp", "iss"], f"order {list(claims)}")
        check(claims["iss"] == "e2e" and claims["exp"] - claims["iat"] == 300, "iss/exp")
        check(cpu0["ear.appraisal-policy-id"] == "default", "policy id without class suffix")
        check(list(cpu0)[:4] == ["ear.status", "ear.trustworthiness-vector", "ear.appraisal-policy-id",
                                  "ear.veraison.annotated-evidence"], f"appraisal order {list(cpu0)}")
        check(cpu0["ear.veraison.annotated-evidence"]["sample"]["launch_digest"] == "abcde", "annotated evidence")

        # not contraindicated: reference values in the built-in RVPS, default policy
        for values in ({"svn": ["1"], "launch_digest": ["abcde"]}, {"major_version": 1, "minimum_minor_version": 1}):
            status, body, _ = srv.req("POST", "/reference-value", rv_message(values))
            check(status == 200, f"register RV {status} {body}")
        status, body, _ = srv.req("GET", "/reference-value/svn")
        check(status == 200 and json.loads(body) == ["1"], f"query RV {body}")
        status, tok, _ = srv.req("POST", "/attestation", {"verification_requests": [
            {"tee": "sample", "evidence": sample_evidence()}], "policy_ids": ["default"]})
        cpu0 = verify_ear(srv, tok)["submods"]["cpu0"]
        check(cpu0["ear.status"] == "affirming", f"with RVs → affirming: {cpu0}")
        tv = cpu0["ear.trustworthiness-vector"]
        check(tv["executables"] == 3 and tv["hardware"] == 2 and tv["configuration"] == 2, f"vector {tv}")

        # allow: a user policy stored as <id>_cpu
        set_policy(srv, "allowall_cpu", ALLOW_ALL)
        status, tok, _ = srv.req("POST", "/attestation", {"verification_requests": [
            {"tee": "sample", "evidence": sample_evidence()}], "policy_ids": ["allowall"]})
        cpu0 = verify_ear(srv, tok)["submods"]["cpu0"]
        check(cpu0["ear.status"] == "affirming" and cpu0["ear.appraisal-policy-id"] == "allowall", f"allow {cpu0}")

        # device contraindicated: default_gpu = the CPU RV policy, which looks at input.sample
        set_policy(srv, "default_gpu", RV_CPU_POLICY)
        two = {"verification_requests": [{"tee": "sample", "evidence": sample_evidence()},
                                         {"tee": "sampledevice", "evidence": sample_evidence(svn="2")}],
               "policy_ids": []}
        status, tok, _ = srv.req("POST", "/attestation", two)
        sub = verify_ear(srv, tok)["submods"]
        check(sorted(sub) == ["cpu0", "gpu0"], f"submods {sorted(sub)}")
        check(sub["cpu0"]["ear.status"] == "affirming", "cpu0 affirming")
        check(sub["gpu0"]["ear.status"] == "contraindicated", f"device contraindicated {sub['gpu0']['ear.status']}")
        # device not contraindicated
        set_policy(srv, "default_gpu", DEVICE_POLICY)
        srv.req("POST", "/reference-value", rv_message({"device_svn": ["2"]}))
        status, tok, _ = srv.req("POST", "/attestation", two)
        sub = verify_ear(srv, tok)["submods"]
        check(sub["gpu0"]["ear.status"] == "affirming", f"device not contraindicated {sub['gpu0']}")
        check(sub["gpu0"]["ear.veraison.annotated-evidence"]["sampledevice"]["svn"] == "2", "device claims")

        # runtime data binding as the KBS does it: structured {nonce, tee-pubkey}
        rt = {"nonce": "bm9uY2U", "tee-pubkey": {"kty": "EC", "crv": "P-256", "x": "AAAA", "y": "BBBB"}}
        status, tok, _ = srv.req("POST", "/attestation", {"verification_requests": [
            {"tee": "sample", "evidence": sample_evidence(jcs_sha384(rt)), "runtime_data": {"structured": rt},
             "runtime_data_hash_algorithm": "sha384"}], "policy_ids": ["default"]})
        check(status == 200, f"structured runtime data {status} {tok}")
        ae = verify_ear(srv, tok)["submods"]["cpu0"]["ear.veraison.annotated-evidence"]
        check(ae["runtime_data_claims"]["tee-pubkey"] == rt["tee-pubkey"], "tee-pubkey where the KBS reads it")
        check(ae["report_data"] == b64s(jcs_sha384(rt)), "report_data claim")

        # raw runtime data used as-is (not hashed), documented single-request shape
        status, tok, _ = srv.req("POST", "/attestation", {"tee": "sample", "evidence": sample_evidence(b"raw-bytes"),
                                                           "runtime_data": {"raw": b64u(b"raw-bytes")}})
        check(status == 200, f"single-request shape with raw runtime data {status} {tok}")

        # init data: TOML hashed over its exact text, claims converted, identifiers extension
        with open(os.path.join(HERE, "initdata-policy.toml")) as f:
            toml = f.read()
        status, tok, _ = srv.req("POST", "/attestation", {"verification_requests": [
            {"tee": "sample", "evidence": sample_evidence(), "init_data": {"init_data_toml": toml}}],
            "policy_ids": []})
        check(status == 200, f"init data {status} {tok}")
        cpu0 = verify_ear(srv, tok)["submods"]["cpu0"]
        ae = cpu0["ear.veraison.annotated-evidence"]
        check(ae["init_data"] == b64s(hashlib.sha384(toml.encode()).digest()), "init_data = b64(sha384(toml))")
        idc = ae["init_data_claims"]
        check(idc["cdh.toml"]["image"]["extra_root_certificates"][0].startswith("-----BEGIN CERTIFICATE-----"),
              "cdh.toml converted")
        check(idc["agent_policy_claims"]["containers"][1]["OCI"]["Process"]["Args"][0]
              == "/opt/bitnami/scripts/nginx/entrypoint.sh", "agent_policy_claims")
        check(cpu0.get("ear.trustee.identifiers") == {"validated": {"container_images": ["bitnami/nginx:latest"],
                                                                    "container_uids": [65535, 1001]}},
              f"identifiers {cpu0.get('ear.trustee.identifiers')}")

        # bad inputs: status and error text
        set_policy(srv, "broken_cpu", 'package policy\nimport rego.v1\ntrust_claims := {"hardware": to_number("x")}\n')
        set_policy(srv, "badclaim_cpu", 'package policy\nimport rego.v1\ntrust_claims := {"hardwar": 2}\n')
        good_ev = sample_evidence(b"abc")
        cases = [
            ("wrong base64", {"verification_requests": [{"tee": "sample", "evidence": "%%%"}], "policy_ids": []},
             400, "`verification_requests[0].evidence`: base64url decode"),
            ("wrong JSON", "{\"verification_requests\": [", 400, "request body is not JSON"),
            ("evidence not JSON", {"verification_requests": [{"tee": "sample", "evidence": b64u(b"{x")}],
                                   "policy_ids": []}, 400, "`verification_requests[0].evidence`: not JSON"),
            ("unknown tee", {"verification_requests": [{"tee": "quantum", "evidence": good_ev}], "policy_ids": []},
             400, "unknown or unsupported tee `quantum`"),
            ("report-data mismatch", {"verification_requests": [{"tee": "sample", "evidence": good_ev,
                                                                  "runtime_data": {"raw": b64u(b"abd")}}],
                                      "policy_ids": []}, 403, "REPORT_DATA is different from that in Sample Quote"),
            ("unknown policy id", {"verification_requests": [{"tee": "sample", "evidence": good_ev}],
                                   "policy_ids": ["nosuch"]}, 404, "policy `nosuch_cpu` not found"),
            ("policy that errors", {"verification_requests": [{"tee": "sample", "evidence": good_ev}],
                                    "policy_ids": ["broken"]}, 500, "policy `broken_cpu`"),
            ("bad trust claim", {"verification_requests": [{"tee": "sample", "evidence": good_ev}],
                                 "policy_ids": ["badclaim"]}, 500, "unknown trust claim `hardwar`"),
            ("missing field", {"verification_requests": [{"evidence": good_ev}]}, 400,
             "`verification_requests[0].tee`"),
            ("bad hash alg", {"verification_requests": [{"tee": "sample", "evidence": good_ev,
                                                          "runtime_data_hash_algorithm": "md5"}]}, 400,
             "unknown hash algorithm `md5`"),
        ]
        for name, body, want_status, want_text in cases:
            status, text, _ = srv.req("POST", "/attestation", body)
            check(status == want_status, f"{name}: status {status} != {want_status} ({text})")
            try:
                err = json.loads(text)["error"]
            except Exception:
                err = text
            check(want_text in err, f"{name}: `{want_text}` not in `{err}`")
        status, text, _ = srv.req("POST", "/attestation", "x" * (9 << 20))
        check(status == 413 and "larger than" in text, f"oversized body {status} {text[:80]}")
        status, text, _ = srv.req("POST", "/policy", {"policy_id": "bad_cpu", "policy": b64u(b"package policy\nx :=")})
        check(status == 400 and "does not compile" in text, f"policy that does not compile {status} {text}")
        status, text, _ = srv.req("POST", "/policy", {"policy_id": "../x", "policy": b64u(b"package policy\n")})
        check(status == 400 and "policy id" in text, f"bad policy id {status} {text}")
        check(srv.req("GET", "/policy/nosuch")[0] == 404, "GET unknown policy 404")
        check(srv.req("GET", "/nowhere")[0] == 404, "unknown route 404")
        check(srv.req("DELETE", "/attestation")[0] == 405, "wrong method 405")
        status, text, _ = srv.req("POST", "/challenge", {"tee": "sample", "tee_params": ""})
        check(status == 200 and text == "", f"challenge {status} {text}")

        # CORS
        status, _, r = srv.req("OPTIONS", "/attestation", headers={"Origin": "http://allowed.example",
                                                                   "Access-Control-Request-Method": "POST"})
        check(status == 204 and r.getheader("Access-Control-Allow-Origin") == "http://allowed.example", "preflight")
        status, _, r = srv.req("GET", "/healthz", headers={"Origin": "http://other.example"})
        check(r.getheader("Access-Control-Allow-Origin") is None, "foreign origin gets no CORS header")

        # all of the above ran over one kept-alive connection
        check(srv.conn.sock is not None, "connection kept alive")
    finally:
        srv.stop()


SIMPLE_DENY = """package policy
import rego.v1
default allow := false
"""


def simple_tests():
    srv = Server({"attestation_token_broker": {"type": "Simple", "duration_min": 2}})
    try:
        status, body, _ = srv.req("GET", "/policy")
        check([p["policy-id"] for p in json.loads(body)] == ["default"], f"simple default policy {body}")
        srv.req("POST", "/reference-value", rv_message({"sample.svn": ["1", "2"]}))
        rt = {"nonce": "n", "tee-pubkey": {"kty": "EC", "crv": "P-256", "x": "AA", "y": "BB"}}
        status, tok, _ = srv.req("POST", "/attestation", {"verification_requests": [
            {"tee": "sample", "evidence": sample_evidence(jcs_sha384(rt)), "runtime_data": {"structured": rt}}],
            "policy_ids": []})
        check(status == 200, f"simple attestation {status} {tok}")
        hdr = json.loads(unb64u(tok.split(".")[0]))
        # upstream's Simple broker built header and claims as serde_json maps without
        # preserve_order: every object's members sorted, as in the CoCo documentation's
        # example token ({"alg":"RS384","typ":"JWT"}, jwk {"alg","e","kty","n"})
        check(list(hdr) == ["alg", "jwk", "typ"] and hdr["alg"] == "RS384", f"simple header {hdr}")
        check(list(hdr["jwk"]) == ["alg", "e", "kty", "n"], f"simple header jwk order {list(hdr['jwk'])}")
        t = jwt.JWT(jwt=tok, key=jwk.JWK(**hdr["jwk"]), algs=["RS384"])
        c = json.loads(t.claims)

        def sorted_everywhere(v):
            if isinstance(v, dict):
                return list(v) == sorted(v) and all(sorted_everywhere(x) for x in v.values())
            if isinstance(v, list):
                return all(sorted_everywhere(x) for x in v)
            return True
        check(sorted_everywhere(c), f"simple claims sorted at every level: {t.claims[:200]}")
        check(c["customized_claims"]["runtime_data"]["tee-pubkey"] == rt["tee-pubkey"],
              "KBS finds the key at /customized_claims/runtime_data/tee-pubkey")
        check(c["tcb-status"]["sample.svn"] == "1" and c["tcb-status"]["sample.platform_version.major"] == 1,
              f"flattened {c['tcb-status']}")
        check(c["tee"] == "sample" and c["jwk"] == hdr["jwk"] and c["exp"] - c["iat"] == 120, "simple claims")
        rep = c["evaluation-reports"][0]
        status, text, _ = srv.req("GET", "/policy/default")
        check(rep["policy-id"] == "default" and rep["policy-hash"] == hashlib.sha384(text.encode()).hexdigest()
              and rep["evaluation-result"] == '{"allow":true}', f"evaluation report {rep}")
        # the default policy rejects a claim outside the reference values
        status, text, _ = srv.req("POST", "/attestation", {"verification_requests": [
            {"tee": "sample", "evidence": sample_evidence(svn="3")}], "policy_ids": []})
        check(status == 403 and "Reject by policy default" in text, f"simple reject {status} {text}")
        set_policy(srv, "deny", SIMPLE_DENY)
        status, text, _ = srv.req("POST", "/attestation", {"verification_requests": [
            {"tee": "sample", "evidence": sample_evidence()}], "policy_ids": ["default", "deny"]})
        check(status == 403 and "Reject by policy deny" in text, f"second policy denies {status} {text}")
    finally:
        srv.stop()


def tls_tests():
    d = tempfile.mkdtemp(prefix="as-tls-")
    try:
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                        "-keyout", os.path.join(d, "key.pem"), "-out", os.path.join(d, "cert.pem"), "-days", "1",
                        "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                       check=True, capture_output=True)
        srv = Server({}, extra=("-t", os.path.join(d, "cert.pem"), "-k", os.path.join(d, "key.pem")), tls_dir=d)
        try:
            status, body, _ = srv.req("GET", "/.well-known/jwks.json")
            check(status == 200 and "keys" in body, f"HTTPS jwks {status}")
            status, tok, _ = srv.req("POST", "/attestation", {"verification_requests": [
                {"tee": "sample", "evidence": sample_evidence()}], "policy_ids": []})
            check(status == 200 and tok.count(".") == 2, f"HTTPS attestation {status}")
        finally:
            srv.stop()
    finally:
        shutil.rmtree(d, ignore_errors=True)


def raw_http(port, data, wait=5):
    """Sends raw bytes, returns what the server answered until it closes or `wait` s pass."""
    import socket
    s = socket.create_connection(("127.0.0.1", port), timeout=wait)
    s.sendall(data)
    out = b""
    t0 = time.time()
    try:
        while time.time() - t0 < wait:
            d = s.recv(65536)
            if not d:
                break
            out += d
    except OSError:
        pass
    s.close()
    return out


def malformed_http_tests():
    """Malformed and hostile HTTP: precise answers, never a hang or a crash."""
    srv = Server({})
    try:
        p = srv.port
        t0 = time.time()
        out = raw_http(p, b"POST /attestation HTTP/1.1\r\nHost: x\r\nContent-Length: 9000000000\r\n"
                          b"Expect: 100-continue\r\n\r\n")
        check(out.startswith(b"HTTP/1.1 413") and b"larger than" in out and time.time() - t0 < 4,
              f"declared oversized body answered 413 at once, not 100-continue: {out[:60]}")
        out = raw_http(p, b"POST /attestation HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999\r\n\r\nabc")
        check(out.startswith(b"HTTP/1.1 413"), f"huge Content-Length answered 413: {out[:60]}")
        # %00 in the path must not truncate the id (DELETE /policy/default_cpu%00x would
        # otherwise delete default_cpu)
        out = raw_http(p, b"DELETE /policy/default_cpu%00x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        check(out.startswith(b"HTTP/1.1 400"), f"%00 in policy id rejected: {out[:80]}")
        check(srv.req("GET", "/policy/default_cpu")[0] == 200, "default_cpu survived a %00 DELETE")
        out = raw_http(p, b"GET /healthz%00 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        check(out.startswith(b"HTTP/1.1 404"), f"%00 route is not /healthz: {out[:60]}")
        out = raw_http(p, b"GET /policy/default%5fcpu HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        check(out.startswith(b"HTTP/1.1 200"), f"other percent-escapes still decoded: {out[:60]}")
        for name, data, want in [
                ("huge header", b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: " + b"a" * 200000 + b"\r\n\r\n", b"431"),
                ("bad chunked", b"POST /attestation HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                                b"ZZZ\r\nabc\r\n0\r\n\r\n", b"400"),
                ("negative length", b"POST /attestation HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", b"400"),
                ("NUL in body", b"POST /attestation HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
                                b"Connection: close\r\n\r\n{\x00}", b"400")]:
            out = raw_http(p, data)
            check(out.startswith(b"HTTP/1.1 " + want), f"{name}: {out[:60]}")
        # truncated body: the client gives up; the server must stay up
        import socket
        s = socket.create_connection(("127.0.0.1", p))
        s.sendall(b"POST /attestation HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"a\":")
        s.shutdown(socket.SHUT_WR)
        s.close()
        check(srv.req("GET", "/healthz")[0] == 200, "alive after a truncated body")
        # deeply nested JSON (jansson's depth limit) in the body and in structured runtime data
        deep = "[" * 5000 + "]" * 5000
        status, text, _ = srv.req("POST", "/attestation", '{"tee":"sample","evidence":"e30","x":' + deep + "}")
        check(status == 400, f"deeply nested body: {status} {text[:80]}")
        nested = "[" * 2000 + "]" * 2000
        ev = sample_evidence(b"")
        status, text, _ = srv.req("POST", "/attestation",
                                  '{"tee":"sample","evidence":"%s","runtime_data":{"structured":%s}}' % (ev, nested))
        check(status in (200, 400, 403, 413) and (status != 413 or "nest" in text),
              f"nested structured runtime data: {status} {text[:200]}")
    finally:
        srv.stop()


def remote_rvps_tests():
    """rvps_config GrpcRemote: restful-as uses a separate `rvps` over gRPC."""
    rvps_bin = os.path.join(BUILD, "rvps")
    if not os.path.exists(rvps_bin):
        check(False, f"{rvps_bin} not built")
        return
    d = tempfile.mkdtemp(prefix="as-rvps-")
    log = open(os.path.join(d, "rvps.log"), "w+")
    p = subprocess.Popen([rvps_bin, "-a", "127.0.0.1:0"], stdout=log, stderr=log)
    try:
        port = None
        deadline = time.time() + 20
        while time.time() < deadline and port is None and p.poll() is None:
            log.flush()
            with open(log.name) as f:
                for line in f:
                    if "listening on http" in line:
                        port = int(line.rsplit(":", 1)[1])
            time.sleep(0.05)
        check(port is not None, "rvps started")
        if port is None:
            return
        cfg = {"rvps_config": {"type": "GrpcRemote", "address": f"http://127.0.0.1:{port}"}}
        a = Server(cfg)
        try:
            status, body, _ = a.req("POST", "/reference-value", rv_message(
                {"svn": ["1"], "launch_digest": ["abcde"], "major_version": 1, "minimum_minor_version": 1}))
            check(status == 200, f"register through restful-as to the remote RVPS {status} {body}")
            status, tok, _ = a.req("POST", "/attestation", {"verification_requests": [
                {"tee": "sample", "evidence": sample_evidence()}], "policy_ids": []})
            check(status == 200, f"attestation with remote RVPS {status} {tok}")
            if status == 200:
                cpu0 = verify_ear(a, tok)["submods"]["cpu0"]
                check(cpu0["ear.status"] == "affirming", f"remote reference values used: {cpu0['ear.status']}")
        finally:
            a.stop()
        # the values live in the remote service: a fresh restful-as sees them
        b = Server(cfg, extra=("--threads", "1", "--handler-threads", "4"))
        try:
            status, body, _ = b.req("GET", "/reference-value/svn")
            check(status == 200 and json.loads(body) == ["1"], f"remote RVPS query {status} {body}")
            # a stalled RVPS holds the attestations waiting on it, not the server: with one
            # I/O thread, health and other requests are still answered at once
            import threading
            p.send_signal(signal.SIGSTOP)
            results = []

            def attest():
                c = http.client.HTTPConnection("127.0.0.1", b.port, timeout=60)
                c.request("POST", "/attestation", json.dumps({"tee": "sample", "evidence": sample_evidence()}))
                r = c.getresponse()
                results.append((r.status, r.read()))
            ts = [threading.Thread(target=attest) for _ in range(2)]
            for t in ts:
                t.start()
            time.sleep(0.5)
            t0 = time.time()
            status, _, _ = b.req("GET", "/healthz")
            check(status == 200 and time.time() - t0 < 2, f"healthz during a stalled RVPS {status} {time.time() - t0:.1f}s")
            t0 = time.time()
            status, _, _ = b.req("GET", "/policy")
            check(status == 200 and time.time() - t0 < 2, f"GET /policy during a stalled RVPS {status} {time.time() - t0:.1f}s")
            p.send_signal(signal.SIGCONT)
            for t in ts:
                t.join(60)
            check(len(results) == 2 and all(st == 200 for st, _ in results),
                  f"attestations finish once the RVPS is back {[(st, body[:80]) for st, body in results]}")
        finally:
            p.send_signal(signal.SIGCONT)
            b.stop()
    finally:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
        log.close()
        shutil.rmtree(d, ignore_errors=True)


def main():
    if not os.path.exists(BIN):
        print(f"{BIN} not built", file=sys.stderr)
        return 1
    ear_tests()
    simple_tests()
    tls_tests()
    malformed_http_tests()
    remote_rvps_tests()
    if failures:
        print(f"{len(failures)} check(s) failed", file=sys.stderr)
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
