"""Helpers shared by the SNP/vTPM end-to-end scripts (test_snp_e2e_*.py):
result bookkeeping, a server process on a loopback port it reports in its
log, and JSON POSTs."""
import base64
import http.client
import json
import signal
import subprocess
import time

failures = []


def check(cond, what):
    print(("ok   - " if cond else "FAIL - ") + what)
    if not cond:
        failures.append(what)


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def kbs_port(line):
    """Port from the KBS's "listening on ... (port N)" line."""
    if "listening on" in line and "(port " in line:
        return int(line.split("(port ")[1].split(")")[0])
    return None


def as_port(line):
    """Port from restful-as's "listening on http://127.0.0.1:N" line."""
    return int(line.rsplit(":", 1)[1]) if "listening on http" in line else None


class Proc:
    """A server started with argv whose log (stdout+stderr) names its port."""

    def __init__(self, argv, log, port_of):
        self.log = open(log, "w+")
        self.p = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT)
        self.port = None
        deadline = time.time() + 20
        while time.time() < deadline and self.port is None and self.p.poll() is None:
            with open(log) as f:
                for line in f:
                    self.port = self.port or port_of(line)
            time.sleep(0.05)
        if self.port is None:
            self.stop()
            raise SystemExit("%s did not start:\n%s" % (argv[0], open(log).read()))

    def conn(self):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(15)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        check(self.p.returncode == 0, "%s exits cleanly (%s)" % (self.p.args[0], self.p.returncode))
        if self.p.returncode != 0:
            self.log.seek(0)
            print(self.log.read()[-3000:])
        self.log.close()


def post(conn, path, body, cookie=None):
    """POST JSON; returns (status, body text, Set-Cookie)."""
    h = {"Content-Type": "application/json"}
    if cookie:
        h["Cookie"] = cookie
    conn.request("POST", path, body=json.dumps(body), headers=h)
    r = conn.getresponse()
    return r.status, r.read().decode(errors="replace"), r.getheader("Set-Cookie")


def get(conn, path):
    conn.request("GET", path)
    r = conn.getresponse()
    return r.status, r.read().decode(errors="replace")


def annotated_evidence(token, jwks=None):
    """submods.cpu0 annotated evidence of an EAR token; the signature is
    checked when the AS's JWKS text is given."""
    if jwks is not None:
        from jwcrypto import jwk, jwt
        payload = json.loads(jwt.JWT(jwt=token, key=jwk.JWKSet.from_json(jwks)).claims)
    else:
        payload = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "==="))
    return payload["submods"]["cpu0"]["ear.veraison.annotated-evidence"]
