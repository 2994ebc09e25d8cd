#!/usr/bin/python3
"""Adversarial review of the KBS's resource path handling and repository:
encoded slashes must not change what the resource policy sees, the nested
(mounted) layout must not hang on special files nor follow a symlink swapped
outside the repository between check and open, and interrupted writes must
not leave files that are servable resource names."""
import json
import os
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from jwcrypto import jwk, jwt

from kbs_harness import Kbs, Results, Workdir, b64u, config, err_of

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
finally:
    if kbs:
        kbs.stop()
    if R.failed == 0:
        wd.cleanup()
    else:
        print("work dir kept: " + wd.path)
R.done()
