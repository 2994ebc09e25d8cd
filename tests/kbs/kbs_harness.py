"""Test harness for the KBS end-to-end tests (run with /usr/bin/python3).

Starts real `kbs` processes on loopback (port 0: the KBS reports the port it
bound), in their own temporary directories, and stops them (SIGTERM, or
SIGKILL for crash tests). Helpers build admin tokens (EdDSA, as upstream's
e2e), do plain HTTP with http.client, and generate keys/certificates with
the openssl CLI."""
import base64
import http.client
import json
import os
import re
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time

from jwcrypto import jwk, jwt

BUILD = os.environ.get("TRUSTEE_BUILD_DIR") or os.path.join(os.path.dirname(__file__), "../../build")
KBS_BIN = os.path.join(BUILD, "kbs")
CLIENT_BIN = os.path.join(BUILD, "kbs-client")
SHARED = os.environ.get("TRUSTEE_SHARED_DIR") or os.path.join(os.path.dirname(__file__), "../../../shared")

ERR = "https://github.com/confidential-containers/kbs/errors/"
SANITIZER = re.compile(r"ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:")
sanitizer_reports = []  # (log path, excerpt) of every KBS whose log shows a sanitizer finding


def b64u(b):
    if isinstance(b, str):
        b = b.encode()
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


class Workdir:
    def __init__(self):
        self.path = tempfile.mkdtemp(prefix="kbs-test-")

    def file(self, name, content, mode="w"):
        p = os.path.join(self.path, name)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, mode) as f:
            f.write(content)
        return p

    def join(self, *a):
        return os.path.join(self.path, *a)

    def cleanup(self):
        shutil.rmtree(self.path, ignore_errors=True)


class Kbs:
    """A running KBS. `config` is kbs-config.toml text; `{dir}` in it is
    replaced with the work directory."""

    def __init__(self, wd, config, name="kbs", env=None, tls_ca=None):
        self.wd = wd
        self.cfg_path = wd.file(name + "-config.toml", config.replace("{dir}", wd.path))
        self.log_path = wd.join(name + ".log")
        self.tls_ca = tls_ca
        e = dict(os.environ)
        e["TRUSTEE_LOG"] = "info"
        if env:
            e.update(env)
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen([KBS_BIN, "--config-file", self.cfg_path], stdout=self.log,
                                     stderr=subprocess.STDOUT, env=e, cwd=wd.path)
        self.port = None
        deadline = time.time() + 20
        while time.time() < deadline:
            with open(self.log_path) as f:
                m = re.search(r"listening on \S+ \(port (\d+)\)", f.read())
            if m:
                self.port = int(m.group(1))
                break
            if self.proc.poll() is not None:
                raise RuntimeError("kbs exited (%d): %s" % (self.proc.returncode, open(self.log_path).read()))
            time.sleep(0.05)
        if not self.port:
            self.stop()
            raise RuntimeError("kbs did not start: " + open(self.log_path).read())
        self.url = ("https" if tls_ca else "http") + "://127.0.0.1:%d" % self.port

    def conn(self):
        if self.tls_ca:
            ctx = ssl.create_default_context(cafile=self.tls_ca)
            ctx.check_hostname = False
            return http.client.HTTPSConnection("127.0.0.1", self.port, context=ctx, timeout=30)
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)

    def request(self, method, path, body=None, headers=None, conn=None):
        c = conn or self.conn()
        h = dict(headers or {})
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
            h.setdefault("Content-Type", "application/json")
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        data = r.read()
        out = (r.status, data, r)
        if conn is None:
            c.close()
        return out

    def stop(self, sig=signal.SIGTERM):
        if self.log.closed:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        text = open(self.log_path, errors="replace").read()
        m = SANITIZER.search(text)
        if m:
            sanitizer_reports.append((self.log_path, text[max(0, m.start() - 200):m.start() + 3000]))
        elif sig == signal.SIGTERM and self.proc.returncode != 0:
            sanitizer_reports.append((self.log_path, "kbs exited with status %d on SIGTERM" % self.proc.returncode))

    def client(self, *args, env=None, check=True, input=None):
        cmd = [CLIENT_BIN, "--url", self.url]
        if self.tls_ca:
            cmd += ["--cert-file", self.tls_ca]
        cmd += list(args)
        e = dict(os.environ)
        e["TRUSTEE_LOG"] = "warn"
        e["HOME"] = self.wd.path  # no stray ~/.trustee/admin-token
        if env:
            e.update(env)
        r = subprocess.run(cmd, capture_output=True, env=e, cwd=self.wd.path, input=input)
        if check and r.returncode != 0:
            raise AssertionError("kbs-client %s failed (%d): %s" % (args, r.returncode, r.stderr.decode()))
        return r


def err_of(data):
    j = json.loads(data)
    assert list(j.keys()) == ["type", "detail"], j
    assert j["type"].startswith(ERR), j
    return j["type"][len(ERR):], j["detail"]


def admin_keypair(wd, name="admin"):
    """Ed25519 key: private JWK object and the public PEM file path."""
    k = jwk.JWK.generate(kty="OKP", crv="Ed25519")
    pub = wd.file(name + ".pub.pem", k.export_to_pem(private_key=False, password=None).decode())
    return k, pub


def admin_token(key, iss="issuer", aud=("kbs",), role="admin", exp=3600):
    now = int(time.time())
    claims = {"iss": iss, "role": role, "aud": list(aud), "iat": now, "exp": now + exp}
    if role is None:
        del claims["role"]
    t = jwt.JWT(header={"alg": "EdDSA", "typ": "JWT"}, claims=claims)
    t.make_signed_token(key)
    return t.serialize()


def openssl(*args, cwd=None):
    r = subprocess.run(["openssl"] + list(args), capture_output=True, text=True, cwd=cwd)
    if r.returncode != 0:
        raise RuntimeError("openssl %s: %s" % (args, r.stderr))
    return r.stdout


def make_pki(wd):
    """CA (RSA-2048), AS token signer (EC P-256) certified by it, and an HTTPS
    certificate for 127.0.0.1 — like upstream's kbs/test/Makefile."""
    d = wd.path
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca-cert.pem",
            "-days", "2", "-subj", "/CN=Test CA", "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)
    openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "token.key.sec1", cwd=d)
    openssl("pkcs8", "-topk8", "-nocrypt", "-in", "token.key.sec1", "-out", "token.key", cwd=d)
    openssl("req", "-new", "-key", "token.key", "-out", "token.csr", "-subj", "/CN=CoCo AS", cwd=d)
    wd.file("token.ext", "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\n")
    openssl("x509", "-req", "-in", "token.csr", "-CA", "ca-cert.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", "token-cert.pem", "-days", "2", "-extfile", "token.ext", cwd=d)
    with open(wd.join("token-cert-chain.pem"), "w") as f:
        f.write(open(wd.join("token-cert.pem")).read() + open(wd.join("ca-cert.pem")).read())
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "https.key", "-out", "https.crt",
            "-days", "2", "-subj", "/CN=kbs.coco", "-addext", "subjectAltName=IP:127.0.0.1", cwd=d)


def config(storage="LocalFs", admin='authorization_mode = "InsecureAllowAll"', token="insecure_header_jwk = true",
           as_section="", http_extra="", plugins='[[plugins]]\nname = "resource"\nstorage_backend_type = "kvstorage"\n',
           tls=False, extra=""):
    http = ('[http_server]\nsockets = ["127.0.0.1:0"]\nworker_count = 2\n' +
            ('insecure_http = false\ncertificate = "{dir}/https.crt"\nprivate_key = "{dir}/https.key"\n'
             if tls else "insecure_http = true\n") + http_extra)
    st = '[storage_backend]\nstorage_type = "%s"\n' % storage
    if storage == "LocalFs":
        st += '[storage_backend.backends.local_fs]\ndir_path = "{dir}/storage"\n'
    return "%s\n[attestation_token]\n%s\n%s\n[admin]\n%s\n%s\n%s\n%s\n" % (http, token, as_section, admin, st,
                                                                           plugins, extra)


def sample_policy_text(kind):
    """The four built-in resource policies' behaviour, as kbs-client sends them."""
    return {
        "allow": 'package policy\ndefault allow = false\nallow if {\n  data.plugin == "resource"\n}\n',
        "deny": "package policy\ndefault allow = false\n",
    }[kind]


class Results:
    def __init__(self, name):
        self.name = name
        self.failed = 0
        self.passed = 0

    def check(self, label, cond, info=""):
        if cond:
            self.passed += 1
            print("ok   - %s" % label)
        else:
            self.failed += 1
            print("FAIL - %s %s" % (label, info))
        sys.stdout.flush()

    def done(self):
        for path, excerpt in sanitizer_reports:
            self.failed += 1
            print("FAIL - kbs process problem (%s):\n%s" % (path, excerpt))
        print("%s: %d passed, %d failed" % (self.name, self.passed, self.failed))
        sys.exit(1 if self.failed else 0)
