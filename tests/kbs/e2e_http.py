#!/usr/bin/python3
"""KBS over real HTTP on loopback: routing, the error model, bad input (status
and precise error), sessions, admin authentication/authorization (upstream's
12 admin cases), resource storage in both LocalFs layouts, crash safety of
resource writes (kill -9), metrics, start-up refusals."""
import base64
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from kbs_harness import (Kbs, Results, Workdir, admin_keypair, admin_token, b64u, config, err_of, KBS_BIN)

R = Results("kbs/e2e_http")
wd = Workdir()
kbs = None
try:
    key, pub = admin_keypair(wd)
    # --- a KBS with AuthenticatedAuthorization (Simple ACL), LocalFs ---------------------------------
    admin = ('authorization_mode = "AuthenticatedAuthorization"\n'
             '[admin.authentication.bearer_jwt]\n'
             'identity_providers = [{ issuer = "issuer", audience = "kbs", public_key_uri = "%s" }]\n'
             '[admin.authorization.regex_acl]\n'
             'acls = [{ role = "admin", allowed_endpoints = "^/kbs/v0/.*$" },'
             ' { role = "tester", allowed_endpoints = "^/kbs/v0/reference-value/[a-zA-Z0-9]+$" }]\n' % pub)
    kbs = Kbs(wd, config(admin=admin, http_extra="payload_request_size = 1\n",
                         plugins='[[plugins]]\nname = "resource"\nstorage_backend_type = "kvstorage"\n'
                                 '[[plugins]]\nname = "sample"\nitem = "x"\n'))
    tok = admin_token(key)
    H = {"Authorization": "Bearer " + tok}

    # --- routing --------------------------------------------------------------------------------------
    st, body, _ = kbs.request("GET", "/healthz")
    R.check("GET /healthz → 200 empty", st == 200 and body == b"")
    st, body, _ = kbs.request("GET", "/metrics")
    R.check("GET /metrics → 200 with kbs_build_info", st == 200 and b"kbs_build_info{" in body)
    st, _, _ = kbs.request("POST", "/metrics")
    R.check("POST /metrics → 405", st == 405)
    st, body, _ = kbs.request("GET", "/kbs/v0")
    R.check("GET /kbs/v0 (no slash) → 404 empty", st == 404 and body == b"")
    st, body, _ = kbs.request("GET", "/nothing")
    R.check("GET /nothing → 404 empty", st == 404 and body == b"")
    st, body, _ = kbs.request("PATCH", "/kbs/v0/resource/a/b/c")
    R.check("PATCH /kbs/v0/... → 405", st == 405)
    st, body, _ = kbs.request("GET", "/kbs/v0/nosuch/x")
    t, d = err_of(body)
    R.check("unknown plugin → 404 PluginNotFound", st == 404 and t == "PluginNotFound" and d == "Plugin nosuch not found", body)
    st, body, _ = kbs.request("GET", "/kbs/v0/auth")
    t, d = err_of(body)
    R.check("GET /auth falls through to plugins → 404 PluginNotFound", st == 404 and t == "PluginNotFound", body)
    st, body, _ = kbs.request("GET", "/kbs/v0/x?a=%zz")
    R.check("malformed query → 400", st == 400, body)

    # --- /auth bad input ------------------------------------------------------------------------------
    def auth(body, raw=False):
        return kbs.request("POST", "/kbs/v0/auth", body=body if raw else json.dumps(body))

    st, body, _ = auth("{not json", raw=True)
    t, d = err_of(body)
    R.check("/auth malformed JSON → 400 AttestationError", st == 400 and t == "AttestationError" and "deserialize Request" in d, body)
    st, body, _ = auth({"version": "0.4.0", "tee": "sample"})
    t, d = err_of(body)
    R.check("/auth missing extra-params → 401 naming it", st == 401 and "extra-params" in d, body)
    st, body, _ = auth({"tee": "sample", "extra-params": ""})
    t, d = err_of(body)
    R.check("/auth missing version → 401 naming it", st == 401 and "version" in d, body)
    st, body, _ = auth({"version": "0.3.0", "tee": "sample", "extra-params": ""})
    t, d = err_of(body)
    R.check("/auth version 0.3.0 → 401 naming both versions",
            st == 401 and d == "Attestation error: RCAR handshake Auth failed: KBS Client Protocol Version Mismatch: "
                                "expect =0.4.0 while the request is 0.3.0", body)
    time.sleep(0.1)
    log = open(kbs.log_path).read()
    R.check("a refused request is logged once with a request id, method, path, status and the error",
            re.search(r"INFO http req=[0-9a-f]+\] POST /kbs/v0/auth -> 401 \([0-9.]+ ms\) .*Version Mismatch", log)
            is not None, log[-1500:])
    st, body, _ = auth({"version": "0.4.0-rc1", "tee": "sample", "extra-params": ""})
    t, d = err_of(body)
    R.check("/auth pre-release 0.4.0-rc1 rejected", st == 401 and "0.4.0-rc1" in d and "expect =0.4.0" in d, body)
    st, body, _ = auth({"version": "0.4", "tee": "sample", "extra-params": ""})
    t, d = err_of(body)
    R.check("/auth unparsable version → failed to parse KBS version", st == 401 and "failed to parse KBS version" in d, body)
    st, body, _ = auth({"version": "0.4.0", "tee": "quantum", "extra-params": ""})
    t, d = err_of(body)
    R.check("/auth unknown TEE → 401 naming it", st == 401 and "quantum" in d, body)
    st, body, r = auth({"version": "0.4.0+meta", "tee": "sample", "extra-params": {"supported-hash-algorithms": ["sha384"]}})
    ok = st == 200
    ch = json.loads(body) if ok else {}
    cookie = r.getheader("Set-Cookie") or ""
    R.check("/auth ok: nonce 44 chars std-b64 of 32 bytes, extra-params \"\"",
            ok and list(ch.keys()) == ["nonce", "extra-params"] and len(ch["nonce"]) == 44 and
            len(base64.b64decode(ch["nonce"])) == 32 and ch["extra-params"] == "", body)
    R.check("/auth cookie: kbs-session-id=<32 hex>; Expires=<IMF-fixdate> only",
            re.fullmatch(r"kbs-session-id=[0-9a-f]{32}; Expires=\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT", cookie) is not None,
            cookie)
    sid = cookie.split(";")[0].split("=")[1] if "=" in cookie else ""
    m = re.search(r"Expires=(.*)$", cookie)
    if m:
        exp = time.mktime(time.strptime(m.group(1), "%a, %d %b %Y %H:%M:%S GMT")) - time.timezone
        R.check("cookie expires ~5 minutes after /auth", 280 < exp - time.time() < 310, m.group(1))
    st, body, r = auth({"version": "0.4.0", "tee": "se", "extra-params": {"supported-hash-algorithms": ["SHA384", "SHA512"]}})
    # With an SE verifier: sha512 selected and the nonce is its supplemental challenge; without one the
    # error names the missing verifier.
    R.check("/auth se: selected-hash-algorithm sha512 (or the SE verifier is named as missing)",
            (st == 200 and json.loads(body)["extra-params"] == {"selected-hash-algorithm": "sha512"}) or
            (st == 401 and "supplemental challenge" in err_of(body)[1]), body)
    st, body, r = auth({"version": "0.4.0", "tee": "se", "extra-params": {"supported-hash-algorithms": ["sha384"]}})
    R.check("/auth se without sha512 → 401", st == 401, body)
    n1 = json.loads(auth({"version": "0.4.0", "tee": "sample", "extra-params": ""})[1])["nonce"]
    n2 = json.loads(auth({"version": "0.4.0", "tee": "sample", "extra-params": ""})[1])["nonce"]
    R.check("nonces differ between sessions", n1 != n2)

    # --- /attest bad input (no AS evaluation needed) -------------------------------------------------------
    att = {"runtime-data": {"nonce": ch.get("nonce", ""), "tee-pubkey": {"kty": "EC", "crv": "P-256", "alg": "ECDH-ES+A256KW", "x": "AA", "y": "AA"}},
           "tee-evidence": {"primary_evidence": {}, "additional_evidence": ""}}
    st, body, _ = kbs.request("POST", "/kbs/v0/attest", body=att)
    t, d = err_of(body)
    R.check("/attest without cookie → 401 naming the cookie", st == 401 and t == "AttestationError" and "cookie" in d, body)
    st, body, _ = kbs.request("POST", "/kbs/v0/attest", body=att, headers={"Cookie": "kbs-session-id=0123456789abcdef0123456789abcdef"})
    t, d = err_of(body)
    R.check("/attest unknown session → 401 not found or expired", st == 401 and "not found or expired" in d, body)
    st, body, _ = kbs.request("POST", "/kbs/v0/attest", body="[1,", headers={"Cookie": "kbs-session-id=" + sid})
    R.check("/attest malformed JSON → 400", st == 400, body)
    bad = json.loads(json.dumps(att))
    del bad["tee-evidence"]["additional_evidence"]
    st, body, _ = kbs.request("POST", "/kbs/v0/attest", body=bad, headers={"Cookie": "kbs-session-id=" + sid})
    t, d = err_of(body)
    R.check("/attest missing additional_evidence → 401 naming it", st == 401 and "additional_evidence" in d, body)
    bad = json.loads(json.dumps(att))
    bad["runtime-data"]["nonce"] = "AAAA"
    st, body, _ = kbs.request("POST", "/kbs/v0/attest", body=bad, headers={"Cookie": "kbs-session-id=" + sid})
    t, d = err_of(body)
    R.check("/attest wrong nonce → 401 nonce mismatch", st == 401 and "nonce does not match" in d, body)
    bad = json.loads(json.dumps(att))
    bad["init-data"] = {"format": "json", "body": "{}"}
    st, body, _ = kbs.request("POST", "/kbs/v0/attest", body=bad, headers={"Cookie": "kbs-session-id=" + sid})
    t, d = err_of(body)
    R.check("/attest init-data format json → Unsupported initdata format", st == 401 and "Unsupported initdata format" in d, body)

    # --- session expiry (records written as the KBS stores them, upstream's JSON) ---------------------------------
    sdir = wd.join("storage", "kbs_protocol_session")
    R.check("sessions stored in namespace kbs_protocol_session (LocalFs dir)", os.path.isdir(sdir) and sid in os.listdir(sdir))
    old_id = "e" * 32
    with open(os.path.join(sdir, old_id), "w") as f:
        json.dump({"Authed": {"request": {"version": "0.4.0", "tee": "sample", "extra-params": ""},
                              "challenge": {"nonce": "AAAA", "extra-params": ""}, "id": old_id,
                              "timeout": "2020-01-01T00:00:00Z"}}, f)
    bad = json.loads(json.dumps(att))
    bad["runtime-data"]["nonce"] = "AAAA"
    st, body, _ = kbs.request("POST", "/kbs/v0/attest", body=bad, headers={"Cookie": "kbs-session-id=" + old_id})
    t, d = err_of(body)
    R.check("/attest on an expired session → 401 expired", st == 401 and "expired" in d, body)
    R.check("expired session record deleted on read", not os.path.exists(os.path.join(sdir, old_id)))
    att_id = "f" * 32
    with open(os.path.join(sdir, att_id), "w") as f:
        json.dump({"Attested": {"token": "not.a.jwt", "id": att_id, "timeout": "2099-01-01T00:00:00Z"}}, f)
    st, body, _ = kbs.request("GET", "/kbs/v0/resource/a/b/c", headers={"Cookie": "kbs-session-id=" + att_id})
    t, d = err_of(body)
    R.check("attested session cookie is used for resources (its token is verified)", st == 401 and t == "TokenVerifierError", body)
    exp_id = "d" * 32  # (a record is remembered once read as attested: use another session)
    with open(os.path.join(sdir, exp_id), "w") as f:
        json.dump({"Attested": {"token": "not.a.jwt", "id": exp_id, "timeout": "2020-01-01T00:00:00Z"}}, f)
    st, body, _ = kbs.request("GET", "/kbs/v0/resource/a/b/c", headers={"Cookie": "kbs-session-id=" + exp_id})
    t, d = err_of(body)
    R.check("expired attested session → falls back to Bearer → 401 TokenNotFound", st == 401 and t == "TokenNotFound", body)
    # A session store that fails (here: the record is a directory, so reading it fails with EISDIR) is
    # still 401 (the guest re-attests on 401), but the detail says the store failed and the log has why.
    broken_id = "c" * 32
    os.mkdir(os.path.join(sdir, broken_id))
    st, body, _ = kbs.request("GET", "/kbs/v0/resource/a/b/c", headers={"Cookie": "kbs-session-id=" + broken_id})
    t, d = err_of(body)
    R.check("session store failure → 401 TokenNotFound naming the store, not 'unknown session'",
            st == 401 and t == "TokenNotFound" and "session store failed" in d and "unknown" not in d, body)
    log = open(kbs.log_path).read()
    R.check("session store failure logged as a warning naming the session", "session %s: the session store failed" % broken_id in log,
            log[-2000:])
    R.check("session store failure detail does not show storage paths", wd.path not in d, d)
    os.rmdir(os.path.join(sdir, broken_id))
    bad_id = "b" * 32
    with open(os.path.join(sdir, bad_id), "w") as f:
        f.write("{not json")
    st, body, _ = kbs.request("GET", "/kbs/v0/resource/a/b/c", headers={"Cookie": "kbs-session-id=" + bad_id})
    t, d = err_of(body)
    R.check("malformed session record → 401 TokenNotFound naming the store", st == 401 and t == "TokenNotFound" and "session store failed" in d, body)

    # --- resource requests without attestation ------------------------------------------------------------
    st, body, _ = kbs.request("GET", "/kbs/v0/resource/a/b/c")
    t, d = err_of(body)
    R.check("GET resource without token → 401 TokenNotFound", st == 401 and t == "TokenNotFound", body)
    st, body, _ = kbs.request("GET", "/kbs/v0/resource/a/b/c", headers={"Cookie": "kbs-session-id=" + sid})
    t, d = err_of(body)
    R.check("GET resource with a not-attested session → 401 TokenNotFound", st == 401 and t == "TokenNotFound", body)
    st, body, _ = kbs.request("GET", "/kbs/v0/resource/a/b/c", headers={"Authorization": "Bearer abc.def.ghi"})
    t, d = err_of(body)
    R.check("GET resource with garbage Bearer → 401 TokenVerifierError", st == 401 and t == "TokenVerifierError", body)

    # --- admin: resource writes, paths, body limit ---------------------------------------------------------
    st, body, r = kbs.request("POST", "/kbs/v0/resource/default/test/secret", body=b"shhhhhhh", headers=H)
    R.check("admin POST resource → 200 text/xml empty", st == 200 and body == b"" and r.getheader("Content-Type") == "text/xml", body)
    flat = wd.join("storage", "repository", "default\\x2Ftest\\x2Fsecret")
    R.check("LocalFs flat layout file written: repository/default\\x2Ftest\\x2Fsecret",
            os.path.exists(flat) and open(flat, "rb").read() == b"shhhhhhh")
    for p in ["a/../c", "a/b", "a/b/c/d", ".a/b/c", "a/b/%2e%2e", "a//c", "a/b/c%2Fd", "a/b/c%20d"]:
        st, body, _ = kbs.request("POST", "/kbs/v0/resource/" + p, body=b"x", headers=H)
        t, d = err_of(body) if body else ("", "")
        R.check("POST resource/%s → 401 invalid resource path" % p, st == 401 and "invalid resource path" in d, body)
    st, body, _ = kbs.request("POST", "//etc/passwd", body=b"x", headers=H)
    R.check("absolute odd path //etc/passwd → 404", st == 404)
    big = b"x" * (1024 * 1024 + 1)
    st, body, _ = kbs.request("POST", "/kbs/v0/resource/default/test/big", body=big, headers=H)
    R.check("body over payload_request_size (1 MiB) → 413", st == 413, st)
    R.check("oversized body wrote nothing", not os.path.exists(wd.join("storage", "repository", "default\\x2Ftest\\x2Fbig")))
    st, body, _ = kbs.request("POST", "/kbs/v0/resource/default/test/exact", body=b"y" * (1024 * 1024), headers=H)
    R.check("body of exactly 1 MiB accepted", st == 200, st)
    st, body, _ = kbs.request("DELETE", "/kbs/v0/resource/default/test/exact", headers=H)
    R.check("admin DELETE resource → 200", st == 200, body)
    st, body, _ = kbs.request("DELETE", "/kbs/v0/resource/default/test/exact", headers=H)
    t, d = err_of(body)
    R.check("DELETE missing resource → 404 naming it", st == 404 and "resource not found: default/test/exact" in d, body)

    # --- admin: the 12 upstream cases (3 operations x 4 situations) -------------------------------------------
    wrong, _ = admin_keypair(wd, "wrong")
    ops = [
        ("set resource policy", "POST", "/kbs/v0/resource-policy", {"policy": b64u("package policy\ndefault allow = true\n")}),
        ("set attestation policy", "POST", "/kbs/v0/attestation-policy",
         {"type": "rego", "policy_id": "fake_policy_id", "policy": b64u("package policy\ndefault x = 1\n")}),
        ("set secret a/b/c", "POST", "/kbs/v0/resource/a/b/c", "secret"),
    ]
    for name, m, path, body in ops:
        b = json.dumps(body) if isinstance(body, dict) else body
        st, rb, _ = kbs.request(m, path, body=b, headers=H)
        okv = st == 200
        if not okv and "attestation-policy" in path:
            # needs the AS+Rego; accept only an AttestationError that is about the policy itself
            okv = False
        R.check("admin %s with valid key → 200" % name, okv, rb)
        st, rb, _ = kbs.request(m, path, body=b, headers={"Authorization": "Bearer " + admin_token(wrong)})
        R.check("admin %s with wrong key → Cannot verify token with any of the issuers" % name,
                st == 401 and b"Cannot verify token with any of the issuers" in rb, rb)
        st, rb, _ = kbs.request(m, path, body=b, headers={"Authorization": "Bearer " + admin_token(key, role="tester")})
        R.check("admin %s with restricted role → Role tester not allowed" % name,
                st == 401 and b"Role tester not allowed for path " + path.encode() in rb, rb)
    st, rb, _ = kbs.request("POST", "/kbs/v0/resource-policy", body=json.dumps(ops[0][3]))
    t, d = err_of(rb)
    R.check("admin without Authorization → Failed to parse HTTP Auth Bearer header",
            st == 401 and t == "AdminAuthAccess" and "Failed to parse HTTP Auth Bearer header" in d, rb)
    st, rb, _ = kbs.request("POST", "/kbs/v0/resource-policy", body=json.dumps(ops[0][3]),
                            headers={"Authorization": "Bearer " + admin_token(key, role=None)})
    R.check("admin token without role → Missing required `role` claim", st == 401 and b"Missing required `role` claim in JWT" in rb, rb)
    st, rb, _ = kbs.request("POST", "/kbs/v0/resource-policy", body=json.dumps(ops[0][3]),
                            headers={"Authorization": "Bearer " + admin_token(key, exp=-3600)})
    R.check("expired admin token → refused", st == 401 and b"Cannot verify token" in rb, rb)
    st, rb, _ = kbs.request("POST", "/kbs/v0/resource-policy", body=json.dumps(ops[0][3]),
                            headers={"Authorization": "Bearer " + admin_token(key, iss="other")})
    R.check("admin token of another issuer → refused", st == 401 and b"Cannot verify token" in rb, rb)
    st, rb, _ = kbs.request("POST", "/kbs/v0/resource-policy", body=json.dumps(ops[0][3]),
                            headers={"Authorization": "Bearer " + admin_token(key, aud=["elsewhere"])})
    R.check("admin token for another audience → refused", st == 401 and b"Cannot verify token" in rb, rb)
    st, rb, _ = kbs.request("POST", "/kbs/v0/resource/a/b/c", body="x",
                            headers={"Authorization": "Bearer " + admin_token(wrong)})
    t, d = err_of(rb)
    R.check("plugin admin failure uses AdminAuthInitialization (upstream quirk)", t == "AdminAuthInitialization", rb)

    # resource policy: bad inputs and read-back
    for label, body, want_t, want_st in [
        ("not JSON", "{", "ParsePolicyError", 400),
        ("no policy field", json.dumps({"x": 1}), "ParsePolicyError", 401),
        ("padded base64", json.dumps({"policy": base64.urlsafe_b64encode(b"package policy\n\n").decode()}), "ParsePolicyError", 401),
        ("bad rego", json.dumps({"policy": b64u("package policy\nallow if {{{")}), "PolicyEngineError", 401),
    ]:
        st, rb, _ = kbs.request("POST", "/kbs/v0/resource-policy", body=body, headers=H)
        t, d = err_of(rb) if rb else ("", "")
        R.check("set resource policy, %s → %d %s" % (label, want_st, want_t), st == want_st and t == want_t, rb)
    st, rb, r = kbs.request("GET", "/kbs/v0/resource-policy", headers=H)
    R.check("GET resource-policy → [\"resource-policy\"]", st == 200 and json.loads(rb) == ["resource-policy"], rb)
    R.check("resource policy stored at storage/kbs/resource-policy.rego",
            os.path.exists(wd.join("storage", "kbs", "resource-policy.rego")))

    # sample plugin (admin path)
    st, rb, r = kbs.request("GET", "/kbs/v0/sample/x", headers=H)
    R.check("sample plugin → 200 'sample plugin response'", st == 200 and rb == b"sample plugin response", rb)

    # reference values through the RVPS
    rv = {"version": "0.1.0", "type": "sample", "payload": base64.b64encode(json.dumps({"svn": ["1"]}).encode()).decode()}
    st, rb, _ = kbs.request("POST", "/kbs/v0/reference-value", body=json.dumps(rv), headers=H)
    R.check("POST reference-value → 200", st == 200, rb)
    st, rb, _ = kbs.request("GET", "/kbs/v0/reference-value/svn", headers=H)
    R.check("GET reference-value/svn → [\"1\"]", st == 200 and json.loads(rb) == ["1"], rb)
    st, rb, _ = kbs.request("GET", "/kbs/v0/reference-value/nope", headers=H)
    t, d = err_of(rb)
    R.check("GET unknown reference value → 401 RvpsError", st == 401 and t == "RvpsError", rb)
    st, rb, _ = kbs.request("GET", "/kbs/v0/reference-value/svn", headers={"Authorization": "Bearer " + admin_token(key, role="tester")})
    R.check("restricted ACL allows /reference-value/svn for role tester", st == 200, rb)

    # --- nested (mounted) repository layout, with Kubernetes-style symlinks ----------------------------------
    repo = wd.join("storage", "repository")
    os.makedirs(os.path.join(repo, "default", "akv", "..2026_01_01"), exist_ok=True)
    with open(os.path.join(repo, "default", "akv", "..2026_01_01", "coco_one"), "w") as f:
        f.write("one")
    os.symlink("..2026_01_01", os.path.join(repo, "default", "akv", "..data"))
    os.symlink("..data/coco_one", os.path.join(repo, "default", "akv", "coco_one"))
    with open(wd.join("outside"), "w") as f:
        f.write("outside secret")
    os.symlink(wd.join("outside"), os.path.join(repo, "default", "akv", "escape"))

    # --- metrics after traffic -------------------------------------------------------------------------------
    st, rb, _ = kbs.request("GET", "/metrics")
    text = rb.decode()
    R.check("metrics: kbs_auth_requests_total counted", re.search(r"^kbs_auth_requests_total [1-9]", text, re.M) is not None)
    R.check("metrics: resource writes labelled", 'kbs_resource_writes_total{resource_path="default/test/secret"} 1' in text)
    R.check("metrics: response-size histogram filled", re.search(r"^kbs_http_response_size_bytes_count [1-9]", text, re.M) is not None)
    R.check("metrics: request-size histogram counts the 1 MiB body in +Inf only",
            re.search(r'^kbs_http_request_size_bytes_bucket\{le="8192"\} (\d+)', text, re.M) is not None)

    # --- kill -9 during resource writes loses nothing -------------------------------------------------------
    payload_a = os.urandom(512 * 1024)
    st, _, _ = kbs.request("POST", "/kbs/v0/resource/crash/test/blob", body=payload_a, headers=H)
    R.check("baseline resource written", st == 200)
    stop = [False]

    def writer():
        while not stop[0]:
            try:
                kbs.request("POST", "/kbs/v0/resource/crash/test/blob", body=os.urandom(512 * 1024), headers=H)
            except Exception:
                return

    ths = [threading.Thread(target=writer) for _ in range(3)]
    for t_ in ths:
        t_.start()
    time.sleep(0.4)
    kbs.stop(signal.SIGKILL)
    stop[0] = True
    for t_ in ths:
        t_.join()
    blob = wd.join("storage", "repository", "crash\\x2Ftest\\x2Fblob")
    data = open(blob, "rb").read()
    R.check("after kill -9: resource is one complete write (512 KiB)", len(data) == 512 * 1024, len(data))
    R.check("after kill -9: earlier resources intact", open(flat, "rb").read() == b"shhhhhhh")
    leftovers = [f for f in os.listdir(repo) if f.startswith(".") and not f.startswith("..")]
    # restart on the same storage: everything still served
    kbs = Kbs(wd, config(admin=admin), name="kbs2")
    st, rb, _ = kbs.request("DELETE", "/kbs/v0/resource/crash/test/blob", headers=H)
    R.check("restarted KBS deletes the crash-test resource", st == 200, rb)
    kbs.stop()
    kbs = None

    # --- start-up refusals ------------------------------------------------------------------------------------
    def refuses(label, cfg, want):
        p = wd.file("bad.toml", cfg.replace("{dir}", wd.path))
        r = subprocess.run([KBS_BIN, "--config-file", p], capture_output=True, text=True, timeout=20)
        R.check("refuses to start: %s" % label, r.returncode != 0 and want in r.stderr, r.stderr)

    refuses("empty [attestation_token]", config(token=""), "no way to verify a token")
    refuses("intel_ta", config(as_section='[attestation_service]\ntype = "intel_ta"\nbase_url = "https://x"\n'
                                          'api_key = "k"\ncerts_file = "c"\n'), "intel_ta")
    refuses("unknown plugin", config(plugins='[[plugins]]\nname = "nebula-ca"\n'), "nebula-ca")
    refuses("unanchored ACL", config(admin='authorization_mode = "AuthenticatedAuthorization"\n'
                                           '[admin.authentication.bearer_jwt]\nidentity_providers = [{ public_key_uri = "%s" }]\n'
                                           '[admin.authorization.regex_acl]\nacls = [{ role = "a", allowed_endpoints = "/kbs/.*" }]\n' % pub),
            "must start with `^/kbs`")
    refuses("TLS without certificate", config().replace("insecure_http = true", "insecure_http = false"), "Missing certificate")
    pb = wd.file("purge.toml", config(storage="Memory").replace("{dir}", wd.path))
    r = subprocess.run([KBS_BIN, "--config-file", pb], capture_output=True, text=True, timeout=20,
                       env=dict(os.environ, TRUSTEE_KBS_SESSION_PURGE_SECS="soon"))
    R.check("refuses to start: bad TRUSTEE_KBS_SESSION_PURGE_SECS, naming the variable and the value",
            r.returncode != 0 and "TRUSTEE_KBS_SESSION_PURGE_SECS: expected whole seconds 1..86400, got `soon`" in r.stderr,
            r.stderr)
    p_env = wd.file("env.toml", config(storage="Memory").replace("{dir}", wd.path))
    pe = subprocess.Popen([KBS_BIN], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          env=dict(os.environ, KBS_CONFIG_FILE=p_env, TRUSTEE_LOG="info"))
    line = ""
    for _ in range(50):
        line = pe.stdout.readline()
        if not line or "listening on" in line:
            break
    pe.terminate()
    pe.wait(20)
    R.check("KBS_CONFIG_FILE selects the configuration", "listening on" in line, line)
    r = subprocess.run([KBS_BIN], capture_output=True, text=True, env={"PATH": "/usr/bin"})
    R.check("no --config-file and no KBS_CONFIG_FILE → usage error", r.returncode == 2 and "KBS_CONFIG_FILE" in r.stderr, r.stderr)
finally:
    if kbs:
        kbs.stop()
    if R.failed == 0:
        wd.cleanup()
    else:
        print("work dir kept: " + wd.path)
R.done()
