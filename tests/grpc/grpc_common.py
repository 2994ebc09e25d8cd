"""Shared helpers of the gRPC tests: stubs generated from the project's own
.proto files into a temp dir, free loopback ports, server processes that are
started, waited for and stopped (a non-zero exit — e.g. a sanitizer report —
fails the test)."""
import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

BUILD = os.environ.get("TRUSTEE_BUILD_DIR", ".")
SOURCE = os.environ.get("TRUSTEE_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
SHARED = os.environ.get("TRUSTEE_SHARED_DIR", os.path.join(SOURCE, "..", "shared"))
PROTOS = os.path.join(SOURCE, "src", "grpc", "protos")

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)
    return cond


def stubs(tmp):
    """Generates the Python stubs of the project's .proto files into tmp."""
    out = os.path.join(tmp, "stubs")
    os.makedirs(out, exist_ok=True)
    subprocess.run(["/usr/bin/python3", "-m", "grpc_tools.protoc", "-I" + PROTOS, "--python_out=" + out,
                    "--grpc_python_out=" + out, "attestation.proto", "reference.proto", "health.proto"], check=True)
    sys.path.insert(0, out)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def b64s(b):
    return base64.b64encode(b).decode()


def unb64u(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def rv_message(values):
    return {"version": "0.1.0", "type": "sample", "payload": b64s(json.dumps(values).encode())}


def sample_evidence(report_data=b"", svn="1"):
    return b64u(json.dumps({"svn": svn, "report_data": b64s(report_data)}).encode())


class Proc:
    """A server executable; waits for its "listening on" line (or `ready`)."""

    def __init__(self, name, args, ready="listening on", expect_fail=False, env=None):
        self.name = name
        self.dir = tempfile.mkdtemp(prefix=name + "-")
        self.logpath = os.path.join(self.dir, "log")
        self.log = open(self.logpath, "w+")
        self.p = subprocess.Popen([os.path.join(BUILD, name), *args], stdout=self.log, stderr=self.log,
                                  env=env)
        deadline = time.time() + 30
        self.ok = False
        while time.time() < deadline:
            if ready in self.text():
                self.ok = True
                break
            if self.p.poll() is not None:
                break
            time.sleep(0.05)
        if not self.ok and not expect_fail:
            print(self.text(), file=sys.stderr)
            self.stop()
            raise SystemExit(f"{name} did not start")

    def text(self):
        self.log.flush()
        with open(self.logpath, errors="replace") as f:
            return f.read()

    def wait_exit(self, timeout=30):
        try:
            return self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            return self.p.wait()

    def stop(self, must_succeed=True):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            self.wait_exit(20)
        if must_succeed and self.p.returncode != 0:
            print(self.text()[-6000:], file=sys.stderr)
            check(False, f"{self.name} exit status {self.p.returncode} (sanitizer report above?)")
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def run_tool(*args, timeout=60):
    p = subprocess.run([os.path.join(BUILD, "rvps-tool"), *args], capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def finish():
    if failures:
        print(f"0 passed, {len(failures)} failed")
        sys.exit(1)
    print("all checks passed")
