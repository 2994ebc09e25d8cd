#!/usr/bin/python3
"""Adversarial review of the KBS: encoded slashes must not change what the
resource policy sees; the nested (mounted) layout must not hang on special
files nor read a symlink swapped outside the repository between check and
open; writes in progress must never sit under a servable resource name; a
policy evaluation error denies; tokens from outside: alg none, HS256 keyed
with a public key, header jwk without / with foreign / self-signed x5c."""
import base64
import hashlib
import hmac
import json
import os
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from jwcrypto import jwk, jwt

from kbs_harness import Kbs, Results, Workdir, b64u, config, err_of, make_pki, openssl

R = Results("kbs/security")
wd = Workdir()
kbs = None


def tee_jwk(k):
    p = json.loads(k.export_public())
    return {"kty": "EC", "crv": p["crv"], "alg": "ECDH-ES+A256KW", "x": p["x"], "y": p["y"]}


def header_jwk_token(signer, claims):
    pub = dict(json.loads(signer.export_public()), alg="ES256")
    t = jwt.JWT(header={"alg": "ES256", "typ": "JWT", "jwk": pub}, claims=claims)
    t.make_signed_token(signer)
    return t.serialize()


def raw_token(header, claims, sig=b""):
    return "%s.%s.%s" % (b64u(json.dumps(header)), b64u(json.dumps(claims)), b64u(sig))


def x5c_of(*pems):
    out = []
    for p in pems:
        text = open(p).read()
        body = text.split("-----BEGIN CERTIFICATE-----")[1].split("-----END CERTIFICATE-----")[0]
        out.append("".join(body.split()))
    return out


try:
    kbs = Kbs(wd, config())  # insecure_header_jwk = true, InsecureAllowAll admin, LocalFs
    signer = jwk.JWK.generate(kty="EC", crv="P-256")
    tee = jwk.JWK.generate(kty="EC", crv="P-256")
    tok = header_jwk_token(signer, {"exp": int(time.time()) + 600, "tee-pubkey": tee_jwk(tee)})
    B = {"Authorization": "Bearer " + tok}
    repo = wd.join("storage", "repository")

    def set_policy(text):
        st, body, _ = kbs.request("POST", "/kbs/v0/resource-policy", body={"policy": b64u(text)})
        assert st == 200, body

    # --- an encoded slash must not turn 2 policy segments into 3 resource segments ------------------------
    st, _, _ = kbs.request("POST", "/kbs/v0/resource/secret/keys/public", body=b"top secret")
    R.check("admin stores secret/keys/public", st == 200)
    set_policy('package policy\nimport rego.v1\ndefault allow = false\n'
               'allow if {\n  data.plugin == "resource"\n  data["resource-path"][1] == "public"\n}\n')
    st, body, _ = kbs.request("GET", "/kbs/v0/resource/pub/public/x", headers=B)
    R.check("policy allows type `public` (missing resource → 404)", st == 404, body)
    st, body, _ = kbs.request("GET", "/kbs/v0/resource/secret%2Fkeys/public", headers=B)
    R.check("GET resource/secret%2Fkeys/public is not served as secret/keys/public", st != 200, (st, body))
    if st != 200:
        t, d = err_of(body)
        R.check("…and is refused as an invalid resource path (literal %2F, as upstream)",
                st == 401 and "invalid resource path" in d and "%2F" in d, body)
    st, body, _ = kbs.request("POST", "/kbs/v0/resource/a%2Fb/c", body=b"x")
    R.check("admin POST resource/a%2Fb/c is refused (not written as a/b/c)",
            st == 401 and not os.path.exists(os.path.join(repo, "a\\x2Fb\\x2Fc")), (st, body))
    set_policy('package policy\ndefault allow = true\n')

    # --- overlong names: clear errors, no server paths in `detail` ----------------------------------------
    long_tag = "x" * 300
    st, body, _ = kbs.request("POST", "/kbs/v0/resource/a/b/" + long_tag, body=b"v")
    d = err_of(body)[1] if body else ""
    R.check("POST with a 300-byte tag → 401 naming the file-name limit, no server path",
            st == 401 and "too long" in d and "/storage/" not in d, body[:300])
    st, body, _ = kbs.request("GET", "/kbs/v0/resource/a/b/" + long_tag, headers=B)
    d = err_of(body)[1] if body else ""
    R.check("GET with a 300-byte tag → 404 resource not found, no server path",
            st == 404 and "resource not found" in d and "/storage/" not in d, body[:300])
    os.makedirs(os.path.join(repo, "d", "dir", "sub"), exist_ok=True)
    st, body, _ = kbs.request("DELETE", "/kbs/v0/resource/d/dir/sub")
    d = err_of(body)[1] if body else ""
    R.check("DELETE of a nested directory → refused as not a regular file (not called a mount link)",
            st == 401 and "not a regular file" in d, body)

    # --- malformed session cookies: refused, and (under ASan) nothing leaks ---------------------------------
    c = kbs.conn()
    for v in ["bad!cookie", "x" * 80, "a b", "../../etc/passwd"]:
        for _ in range(20):
            st, body, _ = kbs.request("GET", "/kbs/v0/resource/secret/keys/public",
                                      headers={"Cookie": "kbs-session-id=" + v}, conn=c)
        R.check("GET with cookie %r and no Bearer → 401 TokenNotFound" % v[:20],
                st == 401 and err_of(body)[0] == "TokenNotFound", body)
        st, body, _ = kbs.request("POST", "/kbs/v0/attest", body=b"{}", headers={"Cookie": "kbs-session-id=" + v},
                                  conn=c)
        R.check("/attest with cookie %r → 401 AttestationError" % v[:20],
                st == 401 and err_of(body)[0] == "AttestationError", body)

    # --- special files in the nested layout do not hang a worker ---------------------------------------------
    os.makedirs(os.path.join(repo, "default", "pipe"), exist_ok=True)
    os.mkfifo(os.path.join(repo, "default", "pipe", "fifo"))
    res = {}

    def get_fifo():
        try:
            c = kbs.conn()
            c.timeout = 10
            res["r"] = kbs.request("GET", "/kbs/v0/resource/default/pipe/fifo", headers=B)
        except Exception as ex:  # timeout
            res["r"] = ex

    th = threading.Thread(target=get_fifo)
    th.start()
    th.join(5)
    if th.is_alive():
        # unblock the worker so the KBS can stop
        fd = os.open(os.path.join(repo, "default", "pipe", "fifo"), os.O_WRONLY | os.O_NONBLOCK)
        os.close(fd)
        th.join(10)
        R.check("GET of a FIFO in the repository answers at once (no blocked worker)", False, "hung > 5 s")
    else:
        r = res.get("r")
        R.check("GET of a FIFO in the repository answers at once, not found",
                isinstance(r, tuple) and r[0] == 404, r)

    # --- symlink swapped between check and open never serves the outside file -------------------------------
    outside = wd.join("outside-secret")
    with open(outside, "w") as f:
        f.write("OUTSIDE")
    os.makedirs(os.path.join(repo, "default", "race"), exist_ok=True)
    with open(os.path.join(repo, "default", "race", "inside"), "w") as f:
        f.write("inside")
    link = os.path.join(repo, "default", "race", "x")
    os.symlink("inside", link)
    stop = [False]

    def swapper():
        a, b = link + ".a", link + ".b"
        while not stop[0]:
            for tgt, tmp in (("inside", a), (outside, b)):
                try:
                    os.symlink(tgt, tmp)
                    os.replace(tmp, link)
                except FileExistsError:
                    os.unlink(tmp)

    sw = threading.Thread(target=swapper)
    sw.start()
    leaked = 0
    served = 0
    c = kbs.conn()
    deadline = time.time() + 3
    n = 0
    while time.time() < deadline:
        st, body, _ = kbs.request("GET", "/kbs/v0/resource/default/race/x", headers=B, conn=c)
        n += 1
        if st == 200:
            served += 1
            from jwcrypto import jwe as _jwe
            j = _jwe.JWE()
            j.deserialize(body.decode(), key=tee)
            if j.payload == b"OUTSIDE":
                leaked += 1
    stop[0] = True
    sw.join()
    R.check("symlink swap race (%d GETs, %d served): the outside file is never served" % (n, served),
            leaked == 0, "leaked %d times" % leaked)

    # --- a write in progress (or interrupted by kill -9) is never under a servable resource name ------------
    stop2 = [False]

    def writer(i):
        while not stop2[0]:
            try:
                kbs.request("POST", "/kbs/v0/resource/crash/big/blob%d" % i, body=os.urandom(4 << 20))
            except Exception:
                return

    kbs.stop()
    kbs = Kbs(wd, config(http_extra="payload_request_size = 16\n"), name="kbs2")
    ths = [threading.Thread(target=writer, args=(i,)) for i in range(2)]
    for t_ in ths:
        t_.start()
    seen = set()
    deadline = time.time() + 1.5
    while time.time() < deadline:
        seen.update(os.listdir(repo))
    kbs.stop(signal.SIGKILL)
    stop2[0] = True
    for t_ in ths:
        t_.join()
    seen.update(os.listdir(repo))
    temps = [f for f in seen if "tmp" in f]
    bad = [f for f in temps if not f.startswith(".")]
    R.check("temporary files seen during writes (%d) all have names no resource can have" % len(temps),
            temps and not bad, bad)
    kbs = Kbs(wd, config(), name="kbs3")
    for f in bad[:3]:
        tag = f.split("\\x2F")[-1]
        st, body, _ = kbs.request("GET", "/kbs/v0/resource/crash/big/" + tag, headers=B)
        R.check("temporary file %s is not served" % tag, st != 200, st)
    kbs.stop()
    kbs = None

    # --- policy evaluation error denies -----------------------------------------------------------------------
    kbs = Kbs(wd, config(storage="Memory"), name="kbs-pol")
    kbs.request("POST", "/kbs/v0/resource/default/test/x", body=b"x")
    set_policy('package policy\nimport rego.v1\nallow if {\n  to_number("not a number") > 0\n}\n')
    st, body, _ = kbs.request("GET", "/kbs/v0/resource/default/test/x", headers=B)
    t, d = err_of(body) if st != 200 else ("", "")
    R.check("policy evaluation error → 401 PolicyEngineError, nothing released",
            st == 401 and t == "PolicyEngineError", (st, body))
    set_policy('package policy\nallow := "yes"\n')
    st, body, _ = kbs.request("GET", "/kbs/v0/resource/default/test/x", headers=B)
    R.check("non-boolean allow → 401 PolicyDeny", st == 401 and err_of(body)[0] == "PolicyDeny", (st, body))
    kbs.stop()
    kbs = None

    # --- tokens from outside: alg confusion, alg none, x5c chains ---------------------------------------------
    make_pki(wd)
    jk = jwk.JWK.generate(kty="EC", crv="P-256", kid="k1")
    pubjwk = dict(json.loads(jk.export_public()), alg="ES256", kid="k1")
    jwks_file = wd.file("jwks.json", json.dumps({"keys": [pubjwk]}))
    tok_cfg = 'trusted_jwk_sets = ["file://%s"]\ntrusted_certs_paths = ["%s"]' % (jwks_file, wd.join("ca-cert.pem"))
    kbs = Kbs(wd, config(storage="Memory", token=tok_cfg, as_section='[attestation_service]\ntype = "none"\n'),
              name="kbs-tok")
    kbs.request("POST", "/kbs/v0/resource/default/test/x", body=b"x")
    set_policy('package policy\ndefault allow = true\n')
    claims = {"exp": int(time.time()) + 600, "tee-pubkey": tee_jwk(tee)}

    def get_with(t):
        return kbs.request("GET", "/kbs/v0/resource/default/test/x", headers={"Authorization": "Bearer " + t})

    good = jwt.JWT(header={"alg": "ES256", "kid": "k1"}, claims=claims)
    good.make_signed_token(jk)
    st, body, _ = get_with(good.serialize())
    R.check("kid k1, ES256 → 200", st == 200, body)
    st, body, _ = get_with(raw_token({"alg": "none", "kid": "k1"}, claims))
    R.check("alg none → 401 TokenVerifierError", st == 401 and err_of(body)[0] == "TokenVerifierError", body)
    for secret_label, secret in [("public JWK JSON", json.dumps(pubjwk).encode()),
                                 ("x coordinate", base64.urlsafe_b64decode(pubjwk["x"] + "=="))]:
        hdr = {"alg": "HS256", "kid": "k1"}
        si = "%s.%s" % (b64u(json.dumps(hdr)), b64u(json.dumps(claims)))
        sig = hmac.new(secret, si.encode(), hashlib.sha256).digest()
        st, body, _ = get_with(si + "." + b64u(sig))
        R.check("HS256 keyed with the EC key's %s → 401" % secret_label, st == 401, body)
    # header jwk certified by the trusted CA (token signer of make_pki)
    signer = jwk.JWK.from_pem(open(wd.join("token.key"), "rb").read())
    spub = dict(json.loads(signer.export_public()), alg="ES256")
    chain = x5c_of(wd.join("token-cert.pem"), wd.join("ca-cert.pem"))

    def hj_token(key, pub, x5c):
        h = {"alg": "ES256", "jwk": dict(pub, x5c=x5c) if x5c is not None else pub}
        t = jwt.JWT(header=h, claims=claims)
        t.make_signed_token(key)
        return t.serialize()

    st, body, _ = get_with(hj_token(signer, spub, chain))
    R.check("header jwk with x5c chain to trusted_certs_paths → 200", st == 200, body)
    # x5c entries are base64 of DER (RFC 7515 §4.1.6, upstream X509::from_der): base64 of the PEM text of the
    # very same certificates is refused, for the leaf and for an intermediate.
    pem_b64 = [base64.b64encode(open(wd.join(n), "rb").read()).decode() for n in ("token-cert.pem", "ca-cert.pem")]
    st, body, _ = get_with(hj_token(signer, spub, [pem_b64[0], chain[1]]))
    R.check("x5c[0] = base64 of PEM (not DER) → 401 naming x5c[0]", st == 401 and b"x5c[0]" in body, body)
    st, body, _ = get_with(hj_token(signer, spub, [chain[0], pem_b64[1]]))
    R.check("x5c[1] = base64 of PEM (not DER) → 401 naming x5c[1]", st == 401 and b"x5c[1]" in body, body)
    st, body, _ = get_with(hj_token(signer, spub, None))
    R.check("header jwk without x5c (insecure_header_jwk=false) → 401", st == 401, body)
    rogue = jwk.JWK.generate(kty="EC", crv="P-256")
    rpub = dict(json.loads(rogue.export_public()), alg="ES256")
    st, body, _ = get_with(hj_token(rogue, rpub, chain))
    R.check("rogue header jwk with someone else's valid x5c → 401", st == 401 and b"does not hold" in body, body)
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
            "self.key", "-out", "self.pem", "-days", "1", "-subj", "/CN=self", cwd=wd.path)
    selfk = jwk.JWK.from_pem(open(wd.join("self.key"), "rb").read())
    st, body, _ = get_with(hj_token(selfk, dict(json.loads(selfk.export_public()), alg="ES256"),
                                    x5c_of(wd.join("self.pem"))))
    R.check("self-signed x5c not under the trusted CA → 401", st == 401, body)
    st, body, _ = get_with(hj_token(signer, dict(spub, alg="HS256"), chain))
    R.check("header jwk claiming alg HS256 for an EC key → 401", st == 401, body)
finally:
    if kbs:
        kbs.stop()
    if R.failed == 0:
        wd.cleanup()
    else:
        print("work dir kept: " + wd.path)
R.done()
