#!/usr/bin/python3
"""Every upstream kbs-config.toml in $TRUSTEE_SHARED_DIR/vectors/trustee/kbs
either runs or refuses to start with a message naming why. The files they
reference (./work/..., /opt/confidential-containers/...) are generated in a
temp dir; listening sockets are moved to port 0 and network URLs are not
contacted for configs that must refuse earlier."""
import glob
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from kbs_harness import KBS_BIN, SHARED, Results, Workdir, admin_keypair, make_pki

R = Results("kbs/upstream_configs")
wd = Workdir()
root = os.path.join(SHARED, "vectors/trustee/kbs")

# Expected outcome per file: "runs", or a substring of the refusal message.
# The remote gRPC AS client (src/grpc) may connect lazily (runs) or refuse naming it.
GRPC = ("runs-or", "coco_as_grpc")
NO_TRUST = "gives no way to verify a token"  # upstream refuses these too (empty [attestation_token])
expect = {
    "config/kbs-config.toml": "runs",
    "config/kbs-config-grpc.toml": "runs",
    "config/kbs-config-intel-trust-authority.toml": 'type = "intel_ta"',
    "config/docker-compose/kbs-config.toml": "trusted_certs_paths",
    "test/config/kbs.toml": "runs",
    "test/config/resource-kbs.toml": "runs",
    "test/config/external-plugin.toml": "plugin `external` is not supported yet",
    "test/config/external-plugin-tls.toml": "plugin `external` is not supported yet",
    "test/config/external-plugin-attest.toml": "plugin `external` is not supported yet",
    "test/config/external-plugin-resource.toml": "plugin `external` is not supported yet",
    "test/config/external-plugin-resource-tls.toml": "plugin `external` is not supported yet",
    "test_data/configs/coco-as-builtin-1.toml": NO_TRUST,
    "test_data/configs/coco-as-builtin-2.toml": NO_TRUST,
    "test_data/configs/coco-as-builtin-3.toml": NO_TRUST,
    "test_data/configs/coco-as-grpc-1.toml": "trusted_certs_paths",
    "test_data/configs/coco-as-grpc-2.toml": NO_TRUST,
    "test_data/configs/coco-as-grpc-3.toml": NO_TRUST,
    "test_data/configs/intel-ta-1.toml": 'type = "intel_ta"',
    "test_data/configs/intel-ta-2.toml": 'type = "intel_ta"',
    "test_data/configs/intel-ta-3.toml": 'type = "intel_ta"',
    "test_data/configs/tls-profile-old.toml": NO_TRUST,
    "test_data/configs/tls-profile-intermediate.toml": NO_TRUST,
    "test_data/configs/tls-profile-modern.toml": NO_TRUST,
    "test_data/configs/tls-profile-custom.toml": NO_TRUST,
    "test_data/configs/tls-profile-custom-pqc.toml": NO_TRUST,
}
try:
    work = os.path.join(wd.path, "work")
    os.makedirs(work)
    sub = Workdir()
    sub.path = work
    make_pki(sub)
    _, pub = admin_keypair(sub, "kbs")
    os.rename(pub, os.path.join(work, "kbs.pem"))
    opt = os.path.join(wd.path, "opt")
    os.makedirs(os.path.join(opt, "kbs/user-keys"))
    files = sorted(glob.glob(os.path.join(root, "**/*.toml"), recursive=True))
    R.check("found upstream configs", len(files) >= 20, len(files))
    for f in files:
        rel = os.path.relpath(f, root)
        text = open(f).read()
        text = re.sub(r"sockets = \[[^\]]*\]", 'sockets = ["127.0.0.1:0"]', text)
        text = text.replace("/opt/confidential-containers", opt)
        cfg = wd.file("c.toml", text)
        log = open(wd.join("out"), "w")
        p = subprocess.Popen([KBS_BIN, "--config-file", cfg], stdout=log, stderr=subprocess.STDOUT, cwd=wd.path,
                             env=dict(os.environ, TRUSTEE_LOG="info"))
        deadline = time.time() + 15
        out = ""
        while time.time() < deadline:
            out = open(wd.join("out")).read()
            if p.poll() is not None or "listening on" in out:
                break
            time.sleep(0.05)
        running = p.poll() is None
        if running:
            p.terminate()
            p.wait(20)
        log.close()
        out = open(wd.join("out")).read()
        want = expect.get(rel)
        if want is None:
            R.check("%s: has an expectation" % rel, False, out[-300:])
        elif want == "runs":
            R.check("%s runs" % rel, running and "listening on" in out, out[-500:])
        elif isinstance(want, tuple):
            R.check("%s runs or refuses naming %s" % (rel, want[1]),
                    (running and "listening on" in out) or (not running and p.returncode == 1 and want[1] in out),
                    out[-500:])
        else:
            R.check("%s refuses to start naming: %s" % (rel, want), not running and p.returncode == 1 and want in out,
                    out[-500:])
    # Our own examples (deploy/kbs) run as written once their key files exist.
    deploy = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../deploy/kbs")
    _, apub = admin_keypair(sub, "admin")
    os.rename(apub, os.path.join(work, "admin.pub"))
    for f in sorted(glob.glob(os.path.join(deploy, "*.toml"))):
        text = open(f).read()
        text = re.sub(r"sockets = \[[^\]]*\]", 'sockets = ["127.0.0.1:0"]', text)
        text = text.replace("/opt/confidential-containers/kbs/user-keys", work)
        text = text.replace("/opt/confidential-containers", opt)
        cfg = wd.file("deploy.toml", text)
        log = open(wd.join("deploy.out"), "w")
        p = subprocess.Popen([KBS_BIN, "--config-file", cfg], stdout=log, stderr=subprocess.STDOUT, cwd=wd.path,
                             env=dict(os.environ, TRUSTEE_LOG="info"))
        deadline = time.time() + 15
        while time.time() < deadline and p.poll() is None and "listening on" not in open(wd.join("deploy.out")).read():
            time.sleep(0.05)
        out = open(wd.join("deploy.out")).read()
        running = p.poll() is None
        if running:
            p.terminate()
            p.wait(20)
        log.close()
        R.check("deploy/kbs/%s runs" % os.path.basename(f), running and "listening on" in out, out[-500:])

    # The TLS profiles themselves, with the built-in AS instead of the gRPC one:
    # each serves HTTPS, and the version bounds hold.
    import ssl
    for f in sorted(glob.glob(os.path.join(root, "test_data/configs/tls-profile-*.toml"))):
        rel = os.path.relpath(f, root)
        text = open(f).read()
        text = re.sub(r"sockets = \[[^\]]*\]", 'sockets = ["127.0.0.1:0"]', text)
        text = text.replace('type = "coco_as_grpc"', 'type = "coco_as_builtin"')
        text = re.sub(r'as_addr = .*\n', "", text)
        text = text.replace("/etc/kbs-private.key", os.path.join(work, "https.key"))
        text = text.replace("/etc/kbs-cert.pem", os.path.join(work, "https.crt"))
        text += "\n[attestation_token]\ninsecure_header_jwk = true\n"
        cfg = wd.file("tls.toml", text)
        log = open(wd.join("tls.out"), "w")
        p = subprocess.Popen([KBS_BIN, "--config-file", cfg], stdout=log, stderr=subprocess.STDOUT, cwd=wd.path,
                             env=dict(os.environ, TRUSTEE_LOG="info"))
        port = None
        deadline = time.time() + 15
        while time.time() < deadline and p.poll() is None:
            m = re.search(r"\(port (\d+)\)", open(wd.join("tls.out")).read())
            if m:
                port = int(m.group(1))
                break
            time.sleep(0.05)
        results = {}
        for ver in ("TLSv1_2", "TLSv1_3"):
            if not port:
                break
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.load_verify_locations(os.path.join(work, "https.crt"))
            ctx.check_hostname = False
            ctx.minimum_version = ctx.maximum_version = getattr(ssl.TLSVersion, ver)
            import http.client
            try:
                c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=10)
                c.request("GET", "/healthz")
                results[ver] = c.getresponse().status
                c.close()
            except (ssl.SSLError, ConnectionError, OSError):
                results[ver] = "refused"
        if p.poll() is None:
            p.terminate()
            p.wait(20)
        log.close()
        out = open(wd.join("tls.out")).read()
        tls13_only = "modern" in rel or 'tls_min_version = "1.3"' in text
        want = {"TLSv1_2": "refused" if tls13_only else 200, "TLSv1_3": 200}
        R.check("%s (built-in AS): HTTPS versions %s" % (rel, want), results == want, "%s %s" % (results, out[-400:]))
finally:
    if R.failed == 0:
        wd.cleanup()
    else:
        print("work dir kept: " + wd.path)
R.done()
