#!/usr/bin/python3
"""Attestation tokens from outside ([attestation_token]) on a resource-only KBS:
trusted_jwk_sets from a file and from https (direct JWKS, and OpenID
discovery), kid selection, JWK `alg` requirement, `exp` with 60 s leeway,
extra_teekey_paths; admin bearer_jwt with a JWKS (jwk_set_uri) provider."""
import base64
import http.server
import json
import os
import ssl
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from jwcrypto import jwe, jwk, jwt

from kbs_harness import Kbs, Results, Workdir, b64u, config, err_of, make_pki

R = Results("kbs/token_sources")
wd = Workdir()
procs = []


def mint(key, kid, claims, alg="ES256", header_extra=None):
    h = {"alg": alg, "typ": "JWT"}
    if kid:
        h["kid"] = kid
    if header_extra:
        h.update(header_extra)
    t = jwt.JWT(header=h, claims=claims)
    t.make_signed_token(key)
    return t.serialize()


def tee_jwk(k):
    p = json.loads(k.export_public())
    return {"kty": "EC", "crv": p["crv"], "alg": "ECDH-ES+A256KW", "x": p["x"], "y": p["y"]}


def get(kbs, tok, path="default/test/secret"):
    return kbs.request("GET", "/kbs/v0/resource/" + path, headers={"Authorization": "Bearer " + tok})


class Handler(http.server.BaseHTTPRequestHandler):
    routes = {}

    def do_GET(self):
        body = self.routes.get(self.path)
        if body is None:
            self.send_response(404)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *a):
        pass


try:
    make_pki(wd)
    signer = jwk.JWK.generate(kty="EC", crv="P-256", kid="k1")
    pubset = {"keys": [dict(json.loads(signer.export_public()), alg="ES256", kid="k1")]}
    noalg = jwk.JWK.generate(kty="EC", crv="P-256", kid="k2")
    pubset["keys"].append(dict(json.loads(noalg.export_public()), kid="k2"))
    jwks_file = wd.file("jwks.json", json.dumps(pubset))
    tee = jwk.JWK.generate(kty="EC", crv="P-256")
    now = int(time.time())
    claims = {"exp": now + 600, "tee-pubkey": tee_jwk(tee), "custom": {"k": tee_jwk(tee)}}

    # https server for JWKS / OpenID discovery (test CA = the harness's https.crt)
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(wd.join("https.crt"), wd.join("https.key"))
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    port = srv.server_address[1]
    Handler.routes = {
        "/jwks": json.dumps(pubset),
        "/issuer/.well-known/openid-configuration": json.dumps({"issuer": "x", "jwks_uri": "https://127.0.0.1:%d/jwks" % port}),
    }
    threading.Thread(target=srv.serve_forever, daemon=True).start()

    passport = '[attestation_service]\ntype = "none"\n'
    for label, token_cfg in [
        ("file JWKS", 'trusted_jwk_sets = ["file://%s"]' % jwks_file),
        ("https JWKS", 'trusted_jwk_sets = ["https://127.0.0.1:%d/jwks"]' % port),
        ("https OpenID discovery", 'trusted_jwk_sets = ["https://127.0.0.1:%d/issuer"]' % port),
    ]:
        k = Kbs(wd, config(storage="Memory", token=token_cfg, as_section=passport), name="ts",
                env={"KBS_FETCH_CA_FILE": wd.join("https.crt")})
        procs.append(k)
        k.request("POST", "/kbs/v0/resource-policy", body={"policy": b64u("package policy\ndefault allow = true\n")})
        k.request("POST", "/kbs/v0/resource/default/test/secret", body=b"s3cret")
        st, body, _ = get(k, mint(signer, "k1", claims))
        ok = st == 200
        if ok:
            t = jwe.JWE()
            t.deserialize(body.decode(), key=tee)
            ok = t.payload == b"s3cret"
        R.check("%s: token with kid k1 → resource decrypts" % label, ok, body)
        if label != "file JWKS":
            k.stop()
            continue
        st, body, _ = get(k, mint(signer, None, claims))
        t_, d = err_of(body)
        R.check("no kid and no header jwk → 401 TokenVerifierError", st == 401 and t_ == "TokenVerifierError" and "kid" in d, body)
        st, body, _ = get(k, mint(signer, "nope", claims))
        t_, d = err_of(body)
        R.check("unknown kid → 401 naming it", st == 401 and "nope" in d, body)
        st, body, _ = get(k, mint(noalg, "k2", claims))
        t_, d = err_of(body)
        R.check("trusted JWK without alg → 401", st == 401 and "alg" in d, body)
        other = jwk.JWK.generate(kty="EC", crv="P-256")
        st, body, _ = get(k, mint(other, "k1", claims))
        R.check("signature by another key under kid k1 → 401", st == 401, body)
        st, body, _ = get(k, mint(signer, "k1", dict(claims, exp=now - 30)))
        R.check("exp 30 s ago (within 60 s leeway) → accepted", st == 200, body)
        st, body, _ = get(k, mint(signer, "k1", dict(claims, exp=now - 120)))
        t_, d = err_of(body)
        R.check("exp 120 s ago → 401 TokenVerifierError", st == 401 and t_ == "TokenVerifierError", body)
        c2 = dict(claims)
        del c2["exp"]
        st, body, _ = get(k, mint(signer, "k1", c2))
        R.check("no exp → 401", st == 401, body)
        c3 = dict(claims)
        del c3["tee-pubkey"]
        del c3["custom"]
        st, body, _ = get(k, mint(signer, "k1", c3))
        t_, d = err_of(body)
        R.check("token without tee-pubkey → 401 TokenVerifierError naming it", st == 401 and "tee-pubkey" in d, body)
        st, body, _ = get(k, mint(signer, "k1", claims, header_extra={"jwk": json.loads(other.export_public())}))
        R.check("untrusted header jwk (insecure_header_jwk=false, no CA) → 401", st == 401, body)
        k.stop()

    # extra_teekey_paths: the key is found at a custom pointer first
    c4 = {"exp": now + 600, "custom": {"k": tee_jwk(tee)}}
    k = Kbs(wd, config(storage="Memory", as_section=passport,
                       token='trusted_jwk_sets = ["%s"]\nextra_teekey_paths = ["/custom/k"]' % jwks_file), name="xt")
    procs.append(k)
    k.request("POST", "/kbs/v0/resource-policy", body={"policy": b64u("package policy\ndefault allow = true\n")})
    k.request("POST", "/kbs/v0/resource/default/test/secret", body=b"s3cret")
    st, body, _ = get(k, mint(signer, "k1", c4))
    R.check("extra_teekey_paths /custom/k → resource encrypted to that key", st == 200, body)
    k.stop()

    # admin bearer_jwt provider with a JWKS (kid + alg) instead of a PEM key
    admin = ('authorization_mode = "AuthenticatedAuthorization"\n[admin.authentication.bearer_jwt]\n'
             'identity_providers = [{ issuer = "idp", jwk_set_uri = "%s" }]\n'
             '[admin.authorization.regex_acl]\nacls = [{ role = "admin", allowed_endpoints = "^/kbs/v0/resource/.*$" }]\n'
             % jwks_file)
    k = Kbs(wd, config(storage="Memory", admin=admin, token="insecure_header_jwk = true", as_section=passport), name="adm")
    procs.append(k)
    good = mint(signer, "k1", {"iss": "idp", "role": "admin", "exp": now + 600})
    st, body, _ = k.request("POST", "/kbs/v0/resource/a/b/c", body=b"x", headers={"Authorization": "Bearer " + good})
    R.check("admin JWKS provider: kid k1 token → 200", st == 200, body)
    st, body, _ = k.request("POST", "/kbs/v0/resource/a/b/c?x=1", body=b"x", headers={"Authorization": "Bearer " + good})
    R.check("ACL matches path plus query: /kbs/v0/resource/a/b/c?x=1 allowed by ^/kbs/v0/resource/.*$", st == 200, body)
    st, body, _ = k.request("POST", "/kbs/v0/resource-policy", body="{}", headers={"Authorization": "Bearer " + good})
    R.check("ACL refuses resource-policy for role admin here", st == 401 and b"Role admin not allowed for path /kbs/v0/resource-policy" in body, body)
    bad = mint(jwk.JWK.generate(kty="EC", crv="P-256"), None, {"iss": "idp", "role": "admin", "exp": now + 600},
               header_extra={"jwk": json.loads(jwk.JWK.generate(kty="EC", crv="P-256").export_public())})
    st, body, _ = k.request("POST", "/kbs/v0/resource/a/b/c", body=b"x", headers={"Authorization": "Bearer " + bad})
    R.check("admin: a header jwk is never trusted", st == 401 and b"Cannot verify token with any of the issuers" in body, body)
    k.stop()
    srv.shutdown()
finally:
    for p in procs:
        p.stop()
    if R.failed == 0:
        wd.cleanup()
    else:
        print("work dir kept: " + wd.path)
R.done()
