#!/usr/bin/python3
"""HA end-to-end: two real `kbs` replicas sharing one store (docs/ha.md).

    ha_e2e.py postgres|redis|localfs      (env HA_SESSION_STORE=redis: sessions in Redis)

postgres/redis read the server address from TRUSTEE_TEST_POSTGRES_URL /
TRUSTEE_TEST_REDIS_URL (tests/kv/run_servers.sh starts throwaway servers and
sets them); localfs puts both replicas on one shared directory. With
HA_SESSION_STORE=redis and backend postgres, everything is in Postgres but the
sessions, which go to Redis through session_storage_type (upstream's Helm
valkey-sessions scenario).

Both replicas get identical configurations: the same AS token signer (key +
certificate chain), [attestation_token] trusting the CA, the same admin key,
the same [storage_backend]. The guest is an independent Python client
(jwcrypto) doing RCAR with the sample attester, as tests/kbs/interop_rcar.py.
Checked:
  - /auth on A, /attest on B with A's cookie, GET on A and on B (decrypted);
  - admin writes on one replica seen by the other at once: resource set /
    overwrite / delete, resource policy (deny and allow, both directions),
    attestation policy and reference values (through the guest's verdict);
  - kill -9 of A between /auth and /attest: the guest finishes on B; A
    restarted with the same config has everything (sessions, resources,
    policies);
  - session expiry honoured by both replicas, including the one that has the
    session remembered in-process;
  - a replica with an uncertified (ephemeral) signer: its tokens are refused by
    the others (why the signer must be shared or certified).
"""
import base64
import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "kbs"))
from jwcrypto import jwe, jwk  # noqa: E402

from kbs_harness import Kbs, Results, Workdir, admin_keypair, admin_token, b64u, err_of, make_pki  # noqa: E402

BACKEND = sys.argv[1] if len(sys.argv) > 1 else "postgres"
SESSIONS = os.environ.get("HA_SESSION_STORE") or BACKEND
MIXED = SESSIONS != BACKEND
R = Results("ha/" + BACKEND + ("+%s-sessions" % SESSIONS if MIXED else ""))
wd = Workdir()
procs = []

# AS policy: contraindicated (hardware 97) unless the sample evidence's svn is a
# registered reference value (hardware 2).
AS_RV = ("package policy\nimport rego.v1\n\ndefault hardware := 97\n\n"
         'hardware := 2 if {\n    input.sample.svn in query_reference_value("svn")\n}\n\n'
         'trust_claims := {"hardware": hardware}\n')
POL_ALLOW = 'package policy\ndefault allow = false\nallow if {\n  data.plugin == "resource"\n}\n'
POL_DENY = "package policy\ndefault allow = false\n"
POL_NOT_CONTRA = ('package policy\nimport rego.v1\ndefault allow = false\nallow if {\n'
                  '    input["submods"]["cpu0"]["ear.status"] != "contraindicated"\n}\n')


# ------------------------------------------------------------------ storage


def pg_table():
    u = urllib.parse.urlparse(os.environ["TRUSTEE_TEST_POSTGRES_URL"])
    return ('[storage_backend.backends.postgres]\nhost = "%s"\nport = %d\ndb = "%s"\nusername = "%s"\n' %
            (u.hostname, u.port, u.path.lstrip("/") or "postgres", u.username or "postgres"))


def redis_table():
    return '[storage_backend.backends.redis]\nurl = "%s"\n' % os.environ["TRUSTEE_TEST_REDIS_URL"]


def top_level():
    """Top-level keys (before any table)."""
    return 'session_storage_type = "%s"\n' % {"redis": "Redis", "postgres": "Postgres"}[SESSIONS] if MIXED else ""


def storage_section():
    tables = {"postgres": pg_table, "redis": redis_table}
    if BACKEND in tables:
        s = '[storage_backend]\nstorage_type = "%s"\n' % {"postgres": "Postgres", "redis": "Redis"}[BACKEND]
        s += tables[BACKEND]()
        if MIXED:
            s += tables[SESSIONS]()
        return s
    if BACKEND == "localfs":
        return ('[storage_backend]\nstorage_type = "LocalFs"\n[storage_backend.backends.local_fs]\n'
                'dir_path = "%s"\n' % wd.join("shared-storage"))
    raise SystemExit("unknown backend " + BACKEND)


def session_stored(sid):
    """True while the session record is still in the backend (read directly, not through the KBS)."""
    if SESSIONS == "postgres":
        out = subprocess.run(["psql", os.environ["TRUSTEE_TEST_POSTGRES_URL"], "-At", "-c",
                              "SELECT count(*) FROM kbs_protocol_session WHERE key = '%s'" % sid],
                             capture_output=True, text=True, check=True).stdout.strip()
        return out != "0"
    if SESSIONS == "redis":
        u = urllib.parse.urlparse(os.environ["TRUSTEE_TEST_REDIS_URL"])
        cli = ["redis-cli", "-h", u.hostname, "-p", str(u.port), "--no-auth-warning"]
        if u.password:
            cli += ["-a", u.password]
        out = subprocess.run(cli + ["EXISTS", "kbs_protocol_session:" + sid],
                             capture_output=True, text=True, check=True).stdout.strip()
        return out != "0"
    return os.path.exists(wd.join("shared-storage", "kbs_protocol_session", sid))


def session_rewrite_expiry(sid, expires):
    """Shortens a stored session to expire at `expires` (unix seconds) — as
    if it had been created timeout minutes earlier — in the backend's own
    layout, by hand (psql / redis-cli / a file), not through the KBS."""
    ts = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(expires))
    if SESSIONS == "postgres":
        url = os.environ["TRUSTEE_TEST_POSTGRES_URL"]
        old = subprocess.run(["psql", url, "-At", "-c",
                              "SELECT convert_from(value, 'UTF8') FROM kbs_protocol_session WHERE key = '%s'" % sid],
                             capture_output=True, text=True, check=True).stdout.strip()
    elif SESSIONS == "redis":
        u = urllib.parse.urlparse(os.environ["TRUSTEE_TEST_REDIS_URL"])
        cli = ["redis-cli", "-h", u.hostname, "-p", str(u.port), "--no-auth-warning"]
        if u.password:
            cli += ["-a", u.password]
        old = subprocess.run(cli + ["GET", "kbs_protocol_session:" + sid],
                             capture_output=True, text=True, check=True).stdout.strip()
    else:
        path = wd.join("shared-storage", "kbs_protocol_session", sid)
        raw = open(path, "rb").read()
        old = raw[15:].decode() if raw.startswith(b"\0TRKV1\0") else raw.decode()
    rec = json.loads(old)
    state = next(iter(rec))
    rec[state]["timeout"] = ts
    new = json.dumps(rec, separators=(",", ":"))
    if SESSIONS == "postgres":
        subprocess.run(["psql", url, "-q", "-c",
                        "UPDATE kbs_protocol_session SET value = convert_to($v$%s$v$, 'UTF8'), expires_at = %d "
                        "WHERE key = '%s'" % (new, expires, sid)], capture_output=True, check=True)
    elif SESSIONS == "redis":
        out = subprocess.run(cli + ["SET", "kbs_protocol_session:" + sid, new, "PXAT", str(expires * 1000)],
                             capture_output=True, text=True, check=True).stdout.strip()
        assert out == "OK", out
    else:
        tmp = path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(b"\0TRKV1\0" + expires.to_bytes(8, "big") + new.encode())
        os.replace(tmp, path)
    return state


def drop_store_connections():
    """Closes every client connection of the shared servers, as a database
    failover or restart does; returns how many were closed."""
    n = 0
    if "postgres" in (BACKEND, SESSIONS):
        out = subprocess.run(["psql", os.environ["TRUSTEE_TEST_POSTGRES_URL"], "-At", "-c",
                              "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                              "WHERE pid <> pg_backend_pid() AND backend_type = 'client backend'"],
                             capture_output=True, text=True, check=True).stdout.strip()
        n += int(out)
    if "redis" in (BACKEND, SESSIONS):
        u = urllib.parse.urlparse(os.environ["TRUSTEE_TEST_REDIS_URL"])
        cli = ["redis-cli", "-h", u.hostname, "-p", str(u.port), "--no-auth-warning"]
        if u.password:
            cli += ["-a", u.password]
        out = subprocess.run(cli + ["CLIENT", "KILL", "TYPE", "normal"],
                             capture_output=True, text=True, check=True).stdout.strip()
        n += int(out)
    return n


def store_outage(down):
    """Makes the shared servers refuse every client (down=True) or accept
    them again: Postgres: datallowconn off + terminate backends (admin
    commands through template1); Redis: the default user disabled + CLIENT
    KILL (admin commands as a separate user)."""
    if "postgres" in (BACKEND, SESSIONS):
        u = urllib.parse.urlparse(os.environ["TRUSTEE_TEST_POSTGRES_URL"])
        db = u.path.lstrip("/") or "postgres"
        adm = u._replace(path="/template1").geturl()
        sql = ("ALTER DATABASE %s ALLOW_CONNECTIONS false; SELECT count(pg_terminate_backend(pid)) FROM "
               "pg_stat_activity WHERE datname = '%s'" % (db, db)) if down else \
            "ALTER DATABASE %s ALLOW_CONNECTIONS true" % db
        subprocess.run(["psql", adm, "-q", "-At", "-c", sql], capture_output=True, text=True, check=True)
    if "redis" in (BACKEND, SESSIONS):
        u = urllib.parse.urlparse(os.environ["TRUSTEE_TEST_REDIS_URL"])
        base = ["redis-cli", "-h", u.hostname, "-p", str(u.port), "--no-auth-warning"]
        if down:
            subprocess.run(base + ["-a", u.password or "", "ACL", "SETUSER", "ha-admin", "on", ">ha-admin", "~*",
                                   "&*", "+@all"], capture_output=True, check=True)
        adm = base + ["--user", "ha-admin", "--pass", "ha-admin"]
        for cmd in ([["ACL", "SETUSER", "default", "off"], ["CLIENT", "KILL", "USER", "default"]] if down else
                    [["ACL", "SETUSER", "default", "on"]]):
            subprocess.run(adm + cmd, capture_output=True, check=True)


# ------------------------------------------------------------------ guest


def jcs(v):
    return json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def tee_pubkey(k):
    p = json.loads(k.export_public())
    return {"kty": "EC", "crv": p["crv"], "alg": "ECDH-ES+A256KW", "x": p["x"], "y": p["y"]}


def auth(kbs):
    st, body, r = kbs.request("POST", "/kbs/v0/auth", body={"version": "0.4.0", "tee": "sample", "extra-params": ""})
    assert st == 200, body
    return r.getheader("Set-Cookie").split(";")[0], json.loads(body)["nonce"]


def attest(kbs, cookie, nonce, key):
    rd = {"nonce": nonce, "tee-pubkey": tee_pubkey(key)}
    bind = dict(rd, **{"additional-evidence": ""})
    rdata = base64.b64encode(hashlib.sha384(jcs(bind)).digest()).decode()
    att = {"runtime-data": rd, "tee-evidence": {"primary_evidence": {"svn": "1", "report_data": rdata},
                                                "additional_evidence": ""}}
    return kbs.request("POST", "/kbs/v0/attest", body=att, headers={"Cookie": cookie})


def handshake(auth_kbs, attest_kbs, key):
    cookie, nonce = auth(auth_kbs)
    st, body, _ = attest(attest_kbs, cookie, nonce, key)
    assert st == 200, body
    return cookie, json.loads(body)["token"]


def get(kbs, path, cookie=None, token=None):
    h = {}
    if cookie:
        h["Cookie"] = cookie
    if token:
        h["Authorization"] = "Bearer " + token
    return kbs.request("GET", "/kbs/v0/resource/" + path, headers=h)


def decrypt(key, body):
    t = jwe.JWE()
    t.deserialize(body.decode(), key=key)
    return t.payload


def got(kbs, path, key, want, cookie=None, token=None):
    st, body, _ = get(kbs, path, cookie, token)
    try:
        return st == 200 and decrypt(key, body) == want, (st, body[:300])
    except Exception as ex:  # noqa: BLE001 — reported as a failed check
        return False, (st, body[:300], ex)


def err_type(body):
    try:
        return err_of(body)[0]
    except Exception:  # noqa: BLE001
        return None


# ------------------------------------------------------------------ replicas


def replica_config(signer=True):
    s = ('[attestation_service]\ntype = "coco_as_builtin"\ntimeout = 5\n'
         '[attestation_service.attestation_token_broker]\nduration_min = 5\n')
    if signer:
        s += ('[attestation_service.attestation_token_broker.signer]\nkey_path = "%s"\ncert_path = "%s"\n' %
              (wd.join("token.key"), wd.join("token-cert-chain.pem")))
    s += '[attestation_service.rvps_config]\ntype = "BuiltIn"\n'
    return top_level() + ('[http_server]\nsockets = ["127.0.0.1:0"]\ninsecure_http = true\nworker_count = 2\n\n'
            '[attestation_token]\ntrusted_certs_paths = ["%s"]\n\n%s\n'
            '[admin]\nauthorization_mode = "AuthenticatedAuthorization"\n'
            '[admin.authentication.bearer_jwt]\n'
            'identity_providers = [{ issuer = "issuer", audience = "kbs", public_key_uri = "%s" }]\n'
            '[admin.authorization.regex_acl]\nacls = [{ role = "admin", allowed_endpoints = "^/kbs/.+$" }]\n\n'
            '%s\n[[plugins]]\nname = "resource"\nstorage_backend_type = "kvstorage"\n' %
            (wd.join("ca-cert.pem"), s, wd.join("admin.pub.pem"), storage_section()))


os.environ["TRUSTEE_KBS_SESSION_PURGE_SECS"] = "1"  # inherited by every KBS started below


def start(name, cfg):
    k = Kbs(wd, cfg, name=name)
    procs.append(k)
    return k


def start_pair(cfg):
    """Starts A and B at the same moment (both create tables / install
    default policies concurrently)."""
    out, errs = {}, []

    def run(n):
        try:
            out[n] = start(n, cfg)
        except Exception as ex:  # noqa: BLE001
            errs.append("%s: %s" % (n, ex))
    ts = [threading.Thread(target=run, args=(n,)) for n in ("kbs-a", "kbs-b")]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errs:
        raise RuntimeError("; ".join(errs))
    return out["kbs-a"], out["kbs-b"]


try:
    make_pki(wd)
    akey, _ = admin_keypair(wd)
    H = {"Authorization": "Bearer " + admin_token(akey)}
    cfg = replica_config()
    if BACKEND == "postgres" and not MIXED:
        # tables created beforehand by deploy/ha/postgres-init.sql (the mixed run lets the KBS create them)
        init = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "deploy", "ha", "postgres-init.sql")
        r = subprocess.run(["psql", os.environ["TRUSTEE_TEST_POSTGRES_URL"], "-v", "ON_ERROR_STOP=1", "-q", "-f", init],
                           capture_output=True, text=True)
        R.check("deploy/ha/postgres-init.sql applies", r.returncode == 0, r.stderr)
    A, B = start_pair(cfg)
    R.check("two replicas start at once on one %s store" % BACKEND, A.port and B.port and A.port != B.port)

    def admin(kbs, method, path, body=None):
        st, rb, _ = kbs.request(method, path, body=body, headers=H)
        return st, rb

    def set_policy(kbs, text):
        return admin(kbs, "POST", "/kbs/v0/resource-policy", {"policy": b64u(text)})

    # ---- admin on A, guest across A and B -----------------------------------------------------------------
    st, rb = set_policy(A, POL_ALLOW)
    R.check("A: set resource policy (allow resource plugin)", st == 200, rb)
    s1 = os.urandom(48)
    st, rb = admin(A, "POST", "/kbs/v0/resource/default/ha/one", s1)
    R.check("A: set resource default/ha/one", st == 200, rb)

    gkey = jwk.JWK.generate(kty="EC", crv="P-256")
    cookie, nonce = auth(A)
    st, body, r = attest(B, cookie, nonce, gkey)
    R.check("/auth on A, /attest on B with A's cookie → token", st == 200 and "token" in json.loads(body), body)
    token = json.loads(body)["token"] if st == 200 else None
    R.check("B resends A's cookie unchanged", r.getheader("Set-Cookie", "").split(";")[0] == cookie, r.getheader("Set-Cookie"))
    ok, info = got(A, "default/ha/one", gkey, s1, cookie=cookie)
    R.check("GET on A with the session attested on B → decrypts", ok, info)
    ok, info = got(B, "default/ha/one", gkey, s1, cookie=cookie)
    R.check("GET on B with the same cookie → decrypts", ok, info)
    ok, info = got(A, "default/ha/one", gkey, s1, token=token)
    R.check("GET on A with B's token as Bearer → decrypts", ok, info)

    # ---- admin writes are seen at once by the other replica ------------------------------------------------
    s2 = os.urandom(32)
    st, rb = admin(A, "POST", "/kbs/v0/resource/default/ha/one", s2)
    ok, info = got(B, "default/ha/one", gkey, s2, cookie=cookie)
    R.check("A overwrites the resource → B serves the new value at once", st == 200 and ok, info)
    s3 = os.urandom(20)
    st, rb = admin(B, "POST", "/kbs/v0/resource/default/ha/two", s3)
    ok, info = got(A, "default/ha/two", gkey, s3, cookie=cookie)
    R.check("B sets a new resource → A serves it", st == 200 and ok, info)
    st, rb = admin(A, "DELETE", "/kbs/v0/resource/default/ha/two")
    st2, body, _ = get(B, "default/ha/two", cookie=cookie)
    R.check("A deletes it → B answers 404 at once", st == 200 and st2 == 404, (st, rb, st2, body))

    st, rb = set_policy(A, POL_DENY)
    st2, body, _ = get(B, "default/ha/one", cookie=cookie)
    R.check("A sets a deny-all resource policy → B denies at once (PolicyDeny)",
            st == 200 and st2 == 401 and err_type(body) == "PolicyDeny", (st, rb, st2, body))
    st2, body, _ = get(A, "default/ha/one", cookie=cookie)
    R.check("… and A denies too", st2 == 401 and err_type(body) == "PolicyDeny", body)
    st, rb = set_policy(B, POL_ALLOW)
    ok, info = got(A, "default/ha/one", gkey, s2, cookie=cookie)
    R.check("B sets allow again → A releases at once", st == 200 and ok, info)
    st, rb = admin(B, "GET", "/kbs/v0/resource-policy")
    R.check("GET resource-policy on B → [\"resource-policy\"]", st == 200 and json.loads(rb) == ["resource-policy"], rb)

    # ---- attestation policy and reference values set on A govern /attest on B ------------------------------
    st, rb = set_policy(A, POL_NOT_CONTRA)
    R.check("A: resource policy requiring ear.status != contraindicated", st == 200, rb)
    st, rb = admin(A, "POST", "/kbs/v0/attestation-policy",
                   {"type": "rego", "policy_id": "default_cpu", "policy": b64u(AS_RV)})
    R.check("A: attestation policy default_cpu needing reference value svn", st == 200, rb)
    k2 = jwk.JWK.generate(kty="EC", crv="P-256")
    c2, _ = handshake(A, B, k2)
    st, body, _ = get(A, "default/ha/one", cookie=c2)
    R.check("no reference value yet: guest attested on B is contraindicated → A denies",
            st == 401 and err_type(body) == "PolicyDeny", body)
    rv = {"version": "0.1.0", "type": "sample",
          "payload": base64.b64encode(json.dumps({"svn": ["1"]}).encode()).decode()}
    st, rb = admin(A, "POST", "/kbs/v0/reference-value", json.dumps(rv))
    st2, rb2 = admin(B, "GET", "/kbs/v0/reference-value/svn")
    R.check("reference value svn registered on A is read on B", st == 200 and st2 == 200 and json.loads(rb2) == ["1"],
            (st, rb, st2, rb2))
    k3 = jwk.JWK.generate(kty="EC", crv="P-256")
    c3, t3 = handshake(B, B, k3)
    ok, info = got(A, "default/ha/one", k3, s2, cookie=c3)
    R.check("with the RV registered on A, a guest attested on B is affirmed → A releases", ok, info)
    ear = json.loads(base64.urlsafe_b64decode(t3.split(".")[1] + "=="))
    R.check("… its token names the attestation policy set on A (hardware = 2)",
            ear["submods"]["cpu0"]["ear.trustworthiness-vector"].get("hardware") == 2, ear["submods"]["cpu0"])

    # ---- kill -9 of A mid-flow --------------------------------------------------------------------------
    k4 = jwk.JWK.generate(kty="EC", crv="P-256")
    c4, n4 = auth(A)
    A.stop(signal.SIGKILL)
    st, body, _ = attest(B, c4, n4, k4)
    R.check("A killed (SIGKILL) after /auth: /attest on B completes the handshake", st == 200, body)
    ok, info = got(B, "default/ha/one", k4, s2, cookie=c4)
    R.check("… and B releases the resource to that session", ok, info)
    s4 = os.urandom(24)
    st, rb = admin(B, "POST", "/kbs/v0/resource/default/ha/while-a-down", s4)
    R.check("B accepts admin writes while A is down", st == 200, rb)
    A = start("kbs-a2", cfg)
    ok, info = got(A, "default/ha/one", k3, s2, cookie=c3)
    R.check("A restarted: a session attested on B before the crash works on A", ok, info)
    st, body, _ = get(A, "default/ha/one", cookie=cookie)
    R.check("A restarted: the first session (auth on A, attest on B) is still known on A "
            "(its contraindicated token now meets the stricter policy: PolicyDeny, not TokenNotFound)",
            st == 401 and err_type(body) == "PolicyDeny", body)
    ok, info = got(A, "default/ha/one", k4, s2, cookie=c4)
    R.check("A restarted: the session completed on B while A was down works on A", ok, info)
    ok, info = got(A, "default/ha/while-a-down", k4, s4, cookie=c4)
    R.check("A restarted: the resource written on B while A was down is there", ok, info)
    st, body, _ = get(A, "default/ha/one", cookie=c2)
    R.check("A restarted: the resource policy (not-contraindicated) is the one last set, not the default",
            st == 401 and err_type(body) == "PolicyDeny", body)
    st, rb = admin(A, "GET", "/kbs/v0/reference-value/svn")
    R.check("A restarted: reference values are there", st == 200 and json.loads(rb) == ["1"], rb)

    # ---- the store drops every connection (failover / restart of the database server) -------------------
    if BACKEND != "localfs":
        n = drop_store_connections()
        R.check("store server closed all client connections (%d)" % n, n >= 2, n)
        ok1, info1 = got(A, "default/ha/one", k4, s2, cookie=c4)
        ok2, info2 = got(B, "default/ha/one", k4, s2, cookie=c4)
        R.check("after the store dropped its connections: GET on A and on B still succeed (reconnect)",
                ok1 and ok2, (info1, info2))
        k7 = jwk.JWK.generate(kty="EC", crv="P-256")
        drop_store_connections()
        c7, _ = handshake(B, A, k7)
        s7 = os.urandom(8)
        st, rb = admin(B, "POST", "/kbs/v0/resource/default/ha/after-failover", s7)
        ok, info = got(A, "default/ha/after-failover", k7, s7, cookie=c7)
        R.check("after a second drop: handshake, admin write and GET across replicas succeed", st == 200 and ok,
                (st, rb, info))

    # ---- the store is unreachable for a while ----------------------------------------------------------
    if BACKEND != "localfs":
        store_outage(True)
        try:
            st, body, _ = get(A, "default/ha/one", token=t3)
            R.check("store down: a resource GET by Bearer token fails closed (401 PolicyEngineError naming the read)",
                    st == 401 and err_type(body) == "PolicyEngineError" and b"reading the resource policy" in body
                    if BACKEND == SESSIONS else st == 401, (st, body))
            st, body, _ = get(B, "default/ha/one", cookie=c4)
            R.check("store down: a resource GET by session cookie fails closed (401)", st == 401, (st, body))
            st, body, _ = B.request("POST", "/kbs/v0/auth", body={"version": "0.4.0", "tee": "sample",
                                                                   "extra-params": ""})
            R.check("store down: /auth fails closed naming the session store (401)",
                    st == 401 and b"storing the session" in body, (st, body))
            st, _, _ = A.request("GET", "/healthz")
            R.check("store down: /healthz still 200 (process health)", st == 200, st)
        finally:
            store_outage(False)
        ok1, info1 = got(A, "default/ha/one", k4, s2, cookie=c4)
        ok2, info2 = got(B, "default/ha/one", k3, s2, token=t3)
        R.check("store back: both replicas serve again without restart", ok1 and ok2, (info1, info2))

    # ---- session expiry across replicas ------------------------------------------------------------------
    k5 = jwk.JWK.generate(kty="EC", crv="P-256")
    c5, _ = handshake(A, B, k5)
    sid = c5.split("=", 1)[1]
    ok, info = got(A, "default/ha/one", k5, s2, cookie=c5)  # A now remembers the attested session
    R.check("session for the expiry check works on A", ok, info)
    state = session_rewrite_expiry(sid, int(time.time()) + 2)
    R.check("stored session shortened to expire in 2 s (by hand, in the store)", state == "Attested", state)
    ok, info = got(B, "default/ha/one", k5, s2, cookie=c5)
    R.check("B: session valid before its expiry", ok, info)
    time.sleep(3.2)
    for name, k in (("A (had it in memory)", A), ("B", B)):
        st, body, _ = get(k, "default/ha/one", cookie=c5)
        R.check("%s refuses the expired session (401 TokenNotFound)" % name,
                st == 401 and err_type(body) == "TokenNotFound", (st, body))
    st, body, _ = attest(B, c5, "x", k5)
    R.check("/attest with the expired cookie → 401 naming the expiry",
            st == 401 and b"not found or expired" in body or b"expired" in body, body)
    # The background purge (every TRUSTEE_KBS_SESSION_PURGE_SECS = 1 s here) removes the expired
    # record from the shared store itself, not just hides it.
    deadline = time.time() + 8
    while time.time() < deadline and session_stored(sid):
        time.sleep(0.2)
    R.check("expired session purged from the store by the KBS's periodic cleanup", not session_stored(sid),
            SESSIONS)

    # ---- the example configuration of deploy/ha joins the same cluster ----------------------------------
    if BACKEND != "localfs":
        name = "kbs-postgres-redis-sessions.toml" if MIXED else "kbs-%s.toml" % BACKEND
        text = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "deploy", "ha", name)).read()
        text = text.replace("/opt/confidential-containers/kbs/user-keys/", wd.path + "/")
        text = text.replace("/admin.pub\"", "/admin.pub.pem\"").replace('"0.0.0.0:8080"', '"127.0.0.1:0"')
        env = {}
        if "postgres" in (BACKEND, SESSIONS):
            env["POSTGRES_URL"] = os.environ["TRUSTEE_TEST_POSTGRES_URL"]
        if "redis" in (BACKEND, SESSIONS):
            env["REDIS_URL"] = os.environ["TRUSTEE_TEST_REDIS_URL"]
        D = Kbs(wd, text, name="kbs-deploy-example", env=env, tls_ca=wd.join("https.crt"))
        procs.append(D)
        ok, info = got(D, "default/ha/one", k4, s2, cookie=c4)
        R.check("deploy/ha/%s (HTTPS, env store address) serves a session and resource of the cluster" % name,
                ok, info)
        Hd = {"Authorization": "Bearer " + admin_token(akey, iss="trustee-admin")}
        s8 = os.urandom(8)
        st, rb, _ = D.request("POST", "/kbs/v0/resource/default/ha/from-deploy", body=s8, headers=Hd)
        ok, info = got(A, "default/ha/from-deploy", k4, s8, cookie=c4)
        R.check("… an admin write through it is served by A", st == 200 and ok, (st, rb, info))
        D.stop()

    # ---- a replica with an uncertified signer is not trusted by the others -------------------------------
    C = start("kbs-c-ephemeral", replica_config(signer=False))
    k6 = jwk.JWK.generate(kty="EC", crv="P-256")
    c6, t6 = handshake(C, C, k6)
    ok, info = got(C, "default/ha/one", k6, s2, cookie=c6)
    R.check("replica C with an ephemeral signer serves its own sessions", ok, info)
    st, body, _ = get(A, "default/ha/one", cookie=c6)
    R.check("A refuses the session attested on C: C's token is not signed by a trusted key (TokenVerifierError)",
            st == 401 and err_type(body) == "TokenVerifierError", (st, body))
    C.stop()

    for k in (A, B):
        k.stop()
    R.check("replicas stop cleanly on SIGTERM", all(k.proc.returncode == 0 for k in (A, B)),
            [k.proc.returncode for k in (A, B)])
except Exception as ex:  # noqa: BLE001
    import traceback
    traceback.print_exc()
    R.check("no exception", False, ex)
finally:
    for k in procs:
        k.stop()
    if R.failed == 0:
        wd.cleanup()
    else:
        print("work dir kept: " + wd.path)
        for k in procs:
            print("---- %s\n%s" % (k.log_path, open(k.log_path, errors="replace").read()[-3000:]))
R.done()
