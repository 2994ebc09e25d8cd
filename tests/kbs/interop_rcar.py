#!/usr/bin/python3
"""An independent KBS client written from the protocol description only
(kbs.md §2): http.client for HTTP, jwcrypto for keys and JWE, hashlib for
the runtime-data digest. It runs RCAR with the sample attester against a
real `kbs` and decrypts resources for an EC P-256, an EC P-521 and an RSA
TEE key — through the session cookie and through the Bearer token — and
checks the protected header is byte-exact with upstream's."""
import base64
import hashlib
import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from jwcrypto import jwe, jwk

from kbs_harness import Kbs, Results, Workdir, admin_keypair, admin_token, b64u, config, err_of


def jcs(v):
    # RFC 8785 for objects of strings (all the runtime data contains).
    return json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def tee_pubkey(k):
    p = json.loads(k.export_public())
    if p["kty"] == "EC":
        return {"kty": "EC", "crv": p["crv"], "alg": "ECDH-ES+A256KW", "x": p["x"], "y": p["y"]}
    return {"kty": "RSA", "alg": "RSA-OAEP-256", "n": p["n"], "e": p["e"]}


def rcar(kbs, conn, key, tee="sample", init_data=None):
    st, body, r = kbs.request("POST", "/kbs/v0/auth", body={"version": "0.4.0", "tee": tee, "extra-params": {
        "supported-hash-algorithms": ["sha256", "sha384", "sha512", "sm3"]}}, conn=conn)
    assert st == 200, body
    cookie = r.getheader("Set-Cookie").split(";")[0]
    ch = json.loads(body)
    rd = {"nonce": ch["nonce"], "tee-pubkey": tee_pubkey(key)}
    bind = dict(rd)
    bind["additional-evidence"] = ""
    digest = hashlib.sha384(jcs(bind)).digest()
    att = {"runtime-data": rd, "tee-evidence": {"primary_evidence": {"svn": "1", "report_data": base64.b64encode(digest).decode()},
                                                "additional_evidence": ""}}
    if init_data:
        att["init-data"] = {"format": "toml", "body": init_data}
    st, body, r2 = kbs.request("POST", "/kbs/v0/attest", body=att, headers={"Cookie": cookie}, conn=conn)
    assert st == 200, body
    assert r2.getheader("Set-Cookie") == r.getheader("Set-Cookie"), "cookie resent unchanged"
    return cookie, json.loads(body)["token"], ch["nonce"]


def decrypt(key, body):
    obj = json.loads(body)
    assert list(obj.keys()) == ["protected", "encrypted_key", "iv", "ciphertext", "tag"], obj.keys()
    for f in obj.values():
        assert "=" not in f
    hdr = base64.urlsafe_b64decode(obj["protected"] + "=" * (-len(obj["protected"]) % 4))
    t = jwe.JWE()
    t.deserialize(body.decode() if isinstance(body, bytes) else body, key=key)
    return t.payload, hdr


R = Results("kbs/interop_rcar")
wd = Workdir()
kbs = None
try:
    kbs = Kbs(wd, config())
    # allow-all policy, one secret
    st, _, _ = kbs.request("POST", "/kbs/v0/resource-policy", body={"policy": b64u(
        'package policy\ndefault allow = false\nallow if {\n  data.plugin == "resource"\n}\n')})
    R.check("set allow-all resource policy", st == 200)
    secret = os.urandom(100)
    st, _, _ = kbs.request("POST", "/kbs/v0/resource/default/test/secret", body=secret)
    R.check("set resource", st == 200)

    for label, key in [("EC P-256", jwk.JWK.generate(kty="EC", crv="P-256")),
                       ("EC P-521", jwk.JWK.generate(kty="EC", crv="P-521")),
                       ("RSA-2048", jwk.JWK.generate(kty="RSA", size=2048))]:
        conn = kbs.conn()
        try:
            cookie, token, nonce = rcar(kbs, conn, key)
            R.check("%s: RCAR → token" % label, token.count(".") == 2)
            claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
            tpk = claims["submods"]["cpu0"]["ear.veraison.annotated-evidence"]["runtime_data_claims"]["tee-pubkey"]
            R.check("%s: token carries our tee-pubkey" % label, tpk == tee_pubkey(key), tpk)
            st, body, r = kbs.request("GET", "/kbs/v0/resource/default/test/secret", headers={"Cookie": cookie}, conn=conn)
            R.check("%s: GET with session cookie → 200 application/json" % label,
                    st == 200 and r.getheader("Content-Type") == "application/json", body)
            pt, hdr = decrypt(key, body)
            R.check("%s: jwcrypto decrypts the secret" % label, pt == secret)
            if key["kty"] == "EC":
                h = json.loads(hdr)
                exp = json.dumps({"alg": "ECDH-ES+A256KW", "enc": "A256GCM", "epk": {
                    "crv": h["epk"]["crv"], "kty": "EC", "x": h["epk"]["x"], "y": h["epk"]["y"]}}, separators=(",", ":"))
                R.check("%s: protected header byte-exact (alg, enc, epk{crv,kty,x,y})" % label, hdr.decode() == exp, hdr)
            else:
                R.check("%s: protected header byte-exact" % label, hdr == b'{"alg":"RSA-OAEP-256","enc":"A256GCM"}', hdr)
            # Bearer path on a fresh connection without cookie
            st, body, _ = kbs.request("GET", "/kbs/v0/resource/default/test/secret", headers={"Authorization": "Bearer " + token})
            R.check("%s: GET with Bearer token → decrypts" % label, st == 200 and decrypt(key, body)[0] == secret, body)
            # re-attest on an attested session returns the stored token without checking evidence
            st, body, _ = kbs.request("POST", "/kbs/v0/attest", body={"runtime-data": {"nonce": "x", "tee-pubkey": tee_pubkey(key)},
                                                                      "tee-evidence": {"primary_evidence": {}, "additional_evidence": ""}},
                                      headers={"Cookie": cookie}, conn=conn)
            R.check("%s: /attest on an attested session returns the same token" % label,
                    st == 200 and json.loads(body)["token"] == token, body)
            st, body, _ = kbs.request("GET", "/kbs/v0/resource/default/test/missing", headers={"Cookie": cookie}, conn=conn)
            t, d = err_of(body)
            R.check("%s: missing resource (after token+policy) → 404 naming it" % label,
                    st == 404 and "resource not found: default/test/missing" in d, body)
        finally:
            conn.close()

    # evidence not bound to the runtime data
    key = jwk.JWK.generate(kty="EC", crv="P-256")
    conn = kbs.conn()
    st, body, r = kbs.request("POST", "/kbs/v0/auth", body={"version": "0.4.0", "tee": "sample", "extra-params": ""}, conn=conn)
    cookie = r.getheader("Set-Cookie").split(";")[0]
    nonce = json.loads(body)["nonce"]
    att = {"runtime-data": {"nonce": nonce, "tee-pubkey": tee_pubkey(key)},
           "tee-evidence": {"primary_evidence": {"svn": "1", "report_data": base64.b64encode(b"\0" * 48).decode()},
                            "additional_evidence": ""}}
    st, body, _ = kbs.request("POST", "/kbs/v0/attest", body=att, headers={"Cookie": cookie}, conn=conn)
    t, d = err_of(body)
    R.check("evidence not bound to runtime data → 401 AttestationError", st == 401 and t == "AttestationError" and
            d.startswith("Attestation error: RCAR handshake Attest failed"), body)
    # replayed nonce: the session's nonce belongs to it only; a second /auth gives a new one
    st, body, r = kbs.request("POST", "/kbs/v0/auth", body={"version": "0.4.0", "tee": "sample", "extra-params": ""})
    cookie2 = r.getheader("Set-Cookie").split(";")[0]
    bind = {"nonce": nonce, "tee-pubkey": tee_pubkey(key), "additional-evidence": ""}
    att["tee-evidence"]["primary_evidence"]["report_data"] = base64.b64encode(hashlib.sha384(jcs(bind)).digest()).decode()
    st, body, _ = kbs.request("POST", "/kbs/v0/attest", body=att, headers={"Cookie": cookie2})
    t, d = err_of(body)
    R.check("nonce of another session replayed → 401 nonce mismatch", st == 401 and "nonce does not match" in d, body)
    conn.close()

    # deny-all policy → 401 PolicyDeny
    st, _, _ = kbs.request("POST", "/kbs/v0/resource-policy", body={"policy": b64u("package policy\ndefault allow = false\n")})
    conn = kbs.conn()
    cookie, token, _ = rcar(kbs, conn, key)
    st, body, _ = kbs.request("GET", "/kbs/v0/resource/default/test/secret", headers={"Cookie": cookie}, conn=conn)
    t, d = err_of(body)
    R.check("deny-all → 401 PolicyDeny", st == 401 and t == "PolicyDeny" and d.startswith("Access denied by policy"), body)
    st, body, _ = kbs.request("GET", "/kbs/v0/resource/default/test/missing", headers={"Cookie": cookie}, conn=conn)
    t, d = err_of(body)
    R.check("deny-all hides missing resources too (policy before lookup)", st == 401 and t == "PolicyDeny", body)
    conn.close()
    # tampered token
    parts = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=="))
    claims["submods"]["cpu0"]["ear.status"] = "affirming"
    forged = parts[0] + "." + b64u(json.dumps(claims)) + "." + parts[2]
    st, body, _ = kbs.request("GET", "/kbs/v0/resource/default/test/secret", headers={"Authorization": "Bearer " + forged})
    t, d = err_of(body)
    R.check("tampered token → 401 TokenVerifierError", st == 401 and t == "TokenVerifierError", body)
finally:
    if kbs:
        kbs.stop()
    if R.failed == 0:
        wd.cleanup()
    else:
        print("work dir kept: " + wd.path)
R.done()
