#!/usr/bin/python3
"""End to end over gRPC, three processes on free loopback ports:

    kbs-client --HTTP--> kbs ([attestation_service] coco_as_grpc)
                  --gRPC--> grpc-as (rvps_config GrpcRemote)
                  --gRPC--> rvps (LocalJson)

A guest flow with the sample TEE: reference values registered with rvps-tool,
resource policy "not contraindicated", the resource is released; without
reference values it is not; attestation policy and reference values set
through the KBS reach grpc-as and rvps; RVPS down -> precise errors naming it;
rvps restarted on the same file keeps the values and the flow works again.
EAR tokens are signed by grpc-as with a certified key and verified by the KBS
through trusted_certs_paths (upstream's own e2e setup)."""
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "kbs"))
from grpc_common import Proc, check, failures, finish, free_port, rv_message, run_tool  # noqa: E402
from kbs_harness import CLIENT_BIN, Kbs, Workdir, config, make_pki  # noqa: E402

if not os.path.exists(CLIENT_BIN):
    print("kbs-client not built: skipping")
    print("0 passed, 0 failed, 1 skipped")
    sys.exit(0)

NOT_CONTRAINDICATED = """package policy
import rego.v1
default allow := false
allow if {
  input.submods.cpu0["ear.status"] != "contraindicated"
}
"""

wd = Workdir()
make_pki(wd)
rv_file = wd.join("rvps", "reference_values.json")
with open(wd.file("rvps.json", ""), "w") as f:
    json.dump({"store_type": "LocalJson", "store_config": {"file_path": rv_file}}, f)
rport, gport = free_port(), free_port()
raddr = f"127.0.0.1:{rport}"
rvps = Proc("rvps", ["-c", wd.join("rvps.json"), "-a", raddr])
with open(wd.file("as.json", ""), "w") as f:
    json.dump({"rvps_config": {"type": "GrpcRemote", "address": raddr},
               "attestation_token_broker": {"type": "Ear", "signer": {"key_path": wd.join("token.key"),
                                                                      "cert_path": wd.join("token-cert-chain.pem")}}},
              f)
gas = Proc("grpc-as", ["-c", wd.join("as.json"), "-s", f"127.0.0.1:{gport}", "--jwks-socket", "none"])
kbs = Kbs(wd, config(token='trusted_certs_paths = ["{dir}/ca-cert.pem"]',
                     as_section='[attestation_service]\ntype = "coco_as_grpc"\n'
                                f'as_addr = "http://127.0.0.1:{gport}"\npool_size = 4\n'))
procs = [kbs, gas, rvps]


def get_resource():
    return kbs.client("get-resource", "--path", "default/test/key", check=False)


try:
    secret = b"released-over-grpc"
    kbs.client("config", "set-resource", "--path", "default/test/key", "--resource-file",
               wd.file("secret.bin", secret.decode()))
    kbs.client("config", "set-resource-policy", "--policy-file", wd.file("rp.rego", NOT_CONTRAINDICATED))

    # no reference values yet: the default AS policy says contraindicated
    r = get_resource()
    check(r.returncode != 0, f"no RVs -> not released: {r.returncode} {r.stdout} {r.stderr}")

    # reference values through rvps-tool, straight into rvps
    msg = wd.file("msg.json", json.dumps(rv_message({"svn": ["1"], "launch_digest": ["abcde"], "major_version": 1,
                                                     "minimum_minor_version": 1})))
    rc, out, err = run_tool("register", "--path", msg, "--addr", "http://" + raddr)
    check(rc == 0, f"rvps-tool register {err}")
    r = get_resource()
    import base64
    check(r.returncode == 0 and base64.b64decode(r.stdout.strip()) == secret,
          f"resource released: {r.returncode} {r.stdout} {r.stderr}")
    r = kbs.client("attest", check=False)
    check(r.returncode == 0 and r.stdout.count(b".") == 2, f"attest prints a token {r.stderr}")

    # the KBS's reference-value and attestation-policy endpoints are forwarded (KBS -> AS -> RVPS)
    r = kbs.client("config", "get-reference-value", "--id", "svn", check=False)
    # kbs-client prints the body quoted, as upstream's {:?}
    check(r.returncode == 0 and json.loads(json.loads(r.stdout)) == ["1"], f"KBS get-reference-value {r.stdout} {r.stderr}")
    r = kbs.client("config", "set-sample-reference-value", "via_kbs", "42", "--as-integer", check=False)
    check(r.returncode == 0, f"KBS set-sample-reference-value {r.stderr}")
    rc, out, err = run_tool("query", "-r", "via_kbs", "-a", raddr)
    check(rc == 0 and out.strip() in ("42", "[42]"), f"value registered through the KBS reached rvps: {out} {err}")
    deny_cpu = 'package policy\nimport rego.v1\ntrust_claims := {"executables": 97, "hardware": 97, "configuration": 97}\n'
    r = kbs.client("config", "set-attestation-policy", "--id", "default_cpu", "--policy-file",
                   wd.file("deny.rego", deny_cpu), check=False)
    check(r.returncode == 0, f"KBS set-attestation-policy forwarded: {r.stderr}")
    r = get_resource()
    check(r.returncode != 0, "attestation policy set through the KBS applies in grpc-as")
    with open(os.path.join(os.environ.get("TRUSTEE_SHARED_DIR", ""),
                           "vectors/trustee/attestation-service/policies/ear_default_policy_cpu.rego")) as f:
        default_cpu = f.read()
    kbs.client("config", "set-attestation-policy", "--id", "default_cpu", "--policy-file",
               wd.file("default.rego", default_cpu))
    check(get_resource().returncode == 0, "default policy back: released")

    # RVPS down: precise errors
    rvps.stop()
    r = get_resource()
    check(r.returncode != 0, "RVPS down -> not released")
    log = gas.text()
    check(raddr in log and "UNAVAILABLE" in log and "QueryReferenceValue" in log,
          f"grpc-as names the unreachable RVPS: {log[-1500:]}")
    klog = open(kbs.log_path, errors="replace").read()
    check(raddr in klog and "UNAVAILABLE" in klog, f"KBS log names the RVPS failure: {klog[-1500:]}")

    # rvps restarted on the same LocalJson file: values kept, flow works again
    rvps = Proc("rvps", ["-c", wd.join("rvps.json"), "-a", raddr])
    procs[2] = rvps
    rc, out, err = run_tool("query", "-r", "svn", "-a", raddr)
    check(rc == 0 and json.loads(out) == ["1"], f"values kept across rvps restart: {out} {err}")
    ok = False
    for _ in range(20):  # the AS reconnects within its backoff (<= 2 s)
        if get_resource().returncode == 0:
            ok = True
            break
        import time
        time.sleep(0.3)
    check(ok, "released again after rvps restart")

    # grpc-as down: the KBS answers with the AS address
    gas.stop()
    r = get_resource()
    check(r.returncode != 0, "AS down -> not released")
    klog = open(kbs.log_path, errors="replace").read()
    check(f"127.0.0.1:{gport}" in klog, f"KBS log names the unreachable AS: {klog[-1500:]}")
finally:
    kbs.stop()
    for p in procs[1:]:
        if not p.log.closed:
            p.stop()
    from kbs_harness import sanitizer_reports
    for path, excerpt in sanitizer_reports:
        check(False, f"kbs process problem ({path}): {excerpt}")
    if not failures:
        wd.cleanup()  # kept for inspection when something failed
finish()
