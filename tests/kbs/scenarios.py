#!/usr/bin/python3
"""Upstream's end-to-end scenarios with the real `kbs` and `kbs-client`
binaries (rvps-clients-deployment.md §3.1, §3.2, §3.5):
  - test-bgcheck: HTTPS KBS, AS signer with an x5c chain trusted through
    trusted_certs_paths, Ed25519 admin token, policy requiring plugin
    `resource`, path one/two/three and sample evidence; the secret is a file
    pre-placed at storage/repository/one\\x2Ftwo\\x2Fthree;
  - test-passport: token from the full KBS (RSA TEE key), resource-only KBS
    (`[attestation_service] type = "none"`) verifying it through the CA chain;
  - docker-e2e: default policy refuses the sample TEE, `default allow = true` releases;
  - integration-tests get_resource: allow-all, deny-all ("request unauthorized"),
    contraindicated, not contraindicated (RVs), device contraindicated / not;
  - init-data: digest claim, cdh.toml claim, agent policy claims;
  - nested repository layout (Kubernetes mount) through kbs-client."""
import base64
import hashlib
import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from kbs_harness import Kbs, Results, Workdir, admin_keypair, admin_token, config, make_pki

R = Results("kbs/scenarios")
wd = Workdir()
procs = []

TRUST = """
default hardware := 97
default executables := 33
default configuration := 36
default file_system := 0
default instance_identity := 0
default runtime_opaque := 0
default storage_opaque := 0
default sourced_data := 0

trust_claims := {
\t"executables": executables,
\t"hardware": hardware,
\t"configuration": configuration,
\t"file-system": file_system,
\t"instance-identity": instance_identity,
\t"runtime-opaque": runtime_opaque,
\t"storage-opaque": storage_opaque,
\t"sourced-data": sourced_data,
}
"""
AS_CONTRAINDICATED = "package policy\nimport rego.v1\n" + TRUST
AS_RV = AS_CONTRAINDICATED + '\nhardware := 2 if {\n    input.sample.svn in query_reference_value("svn")\n}\n'
AS_DEVICE_RV = AS_CONTRAINDICATED + '\nhardware := 2 if {\n    input.sampledevice.svn in query_reference_value("device_svn")\n}\n'
AS_AFFIRMING = ("package policy\nimport rego.v1\n\ntrust_claims := {\n\t\"executables\": 2,\n\t\"hardware\": 2,\n"
                "\t\"configuration\": 2,\n}\n")
KBS_NOT_CONTRA = ('package policy\nimport rego.v1\ndefault allow = false\nallow if {\n'
                  '    input["submods"]["cpu0"]["ear.status"] != "contraindicated"\n}\n')
KBS_NOT_CONTRA_DEV = ('package policy\nimport rego.v1\ndefault allow = false\nallow if {\n'
                      '    input["submods"]["cpu0"]["ear.status"] != "contraindicated"\n'
                      '    input["submods"]["gpu0"]["ear.status"] != "contraindicated"\n}\n')


def start(cfg, name, **kw):
    k = Kbs(wd, cfg, name=name, **kw)
    procs.append(k)
    return k


def get(k, path, *extra, env=None):
    r = k.client("get-resource", "--path", path, *extra, check=False, env=env)
    return r.returncode, r.stdout.decode().strip(), r.stderr.decode()


try:
    make_pki(wd)
    key, pub = admin_keypair(wd)
    tokf = wd.file("admin-token", admin_token(key))
    admin = ('authorization_mode = "AuthenticatedAuthorization"\n'
             '[admin.authentication.bearer_jwt]\n'
             'identity_providers = [{ issuer = "issuer", audience = "kbs", public_key_uri = "%s" }]\n'
             '[admin.authorization.regex_acl]\nacls = [{ role = "admin", allowed_endpoints = "^/kbs/.+$" }]\n' % pub)
    signer = ('[attestation_service]\ntype = "coco_as_builtin"\n'
              '[attestation_service.attestation_token_broker]\nduration_min = 5\n'
              '[attestation_service.attestation_token_broker.signer]\nkey_path = "{dir}/token.key"\n'
              'cert_path = "{dir}/token-cert-chain.pem"\n[attestation_service.rvps_config]\ntype = "BuiltIn"\n')
    secret = os.urandom(16)
    wd.file("storage/repository/one\\x2Ftwo\\x2Fthree", secret, mode="wb")

    # ---- test-bgcheck ------------------------------------------------------------------------------------
    full = start(config(admin=admin, token='trusted_certs_paths = ["{dir}/ca-cert.pem"]', as_section=signer, tls=True),
                 "bgcheck", tls_ca=wd.join("https.crt"))
    pol = wd.file("tee-policy.rego", 'package policy\nimport rego.v1\ndefault allow = false\nallow if {\n'
                  '    data.plugin == "resource"\n    data["resource-path"] == ["one", "two", "three"]\n'
                  '    input["submods"]["cpu0"]["ear.veraison.annotated-evidence"]["sample"]\n}\n')
    r = full.client("config", "--admin-token-file", tokf, "set-resource-policy", "--policy-file", pol, check=False)
    R.check("bgcheck: set-resource-policy over HTTPS with Ed25519 admin token", r.returncode == 0, r.stderr)
    rc, out, err = get(full, "one/two/three")
    R.check("bgcheck: get-resource returns the pre-placed flat-layout secret (base64)",
            rc == 0 and base64.b64decode(out) == secret, err)
    rc, out, err = get(full, "one/two/four")
    R.check("bgcheck: another path is refused by the policy → request unauthorized",
            rc != 0 and "request unauthorized" in err, err)

    # ---- test-passport -----------------------------------------------------------------------------------
    wd.file("dummy", "")
    from kbs_harness import openssl
    openssl("genrsa", "-traditional", "-out", "tee.key", "2048", cwd=wd.path)
    r = full.client("attest", "--tee-key-file", wd.join("tee.key"), check=False)
    R.check("passport: attest with an RSA-2048 TEE key → token", r.returncode == 0 and r.stdout.count(b".") == 2, r.stderr)
    tokfile = wd.file("attestation-token", r.stdout.decode())
    passport = start(config(admin=admin, token='trusted_certs_paths = ["{dir}/ca-cert.pem"]',
                            as_section='[attestation_service]\ntype = "none"\n'), "passport")
    r = passport.client("config", "--admin-token-file", tokf, "set-resource-policy", "--policy-file", pol, check=False)
    R.check("passport: set policy on the resource-only KBS", r.returncode == 0, r.stderr)
    rc, out, err = get(passport, "one/two/three", "--attestation-token", tokfile, "--tee-key-file", wd.join("tee.key"))
    R.check("passport: resource-only KBS verifies the token via the CA chain and releases the secret",
            rc == 0 and base64.b64decode(out) == secret, err)
    st, body, _ = passport.request("POST", "/kbs/v0/auth", body={"version": "0.4.0", "tee": "sample", "extra-params": ""})
    R.check("passport: /auth is not served by the resource-only KBS (404)", st == 404 and b"resource-only" in body, body)
    rc, out, err = get(passport, "one/two/three", "--attestation-token", tokfile, "--tee-key-file", wd.join("https.key"))
    R.check("passport: a TEE key that does not match the token cannot decrypt", rc != 0, err)
    passport.stop()
    # kbs-client admin token lookup: ./kbs/config/docker-compose/admin-token, then $HOME/.trustee/admin-token
    r = full.client("config", "get-resource-policy", check=False)
    R.check("client: no admin token anywhere → anonymous request refused", r.returncode != 0 and
            b"Failed to parse HTTP Auth Bearer header" in r.stderr, r.stderr)
    wd.file(".trustee/admin-token", admin_token(key) + "\n")
    r = full.client("config", "get-resource-policy", check=False)
    R.check("client: $HOME/.trustee/admin-token is used", r.returncode == 0 and b"resource-policy" in r.stdout, r.stderr)
    wd.file("kbs/config/docker-compose/admin-token", "garbage\n")
    r = full.client("config", "get-resource-policy", check=False)
    R.check("client: ./kbs/config/docker-compose/admin-token takes precedence", r.returncode != 0, r.stdout)
    os.remove(wd.join("kbs/config/docker-compose/admin-token"))
    os.remove(wd.join(".trustee/admin-token"))
    r = full.client("config", "--admin-token-file", tokf, "set-sample-reference-value", "svn", "1", check=False)
    R.check("client: set-sample-reference-value", r.returncode == 0 and b"Reference Values Updated" in r.stdout, r.stderr)
    r = full.client("config", "--admin-token-file", tokf, "get-reference-value", "--id", "svn", check=False)
    R.check("client: get-reference-value prints the body as upstream ({:?})",
            r.returncode == 0 and r.stdout.decode().strip() == '"[\\"1\\"]"', r.stdout)
    r = full.client("config", "--admin-token-file", tokf, "set-sample-reference-value", "n", "7", "--as-integer",
                    "--as-single-value", check=False)
    r2 = full.client("config", "--admin-token-file", tokf, "get-reference-value", "--id", "n", check=False)
    R.check("client: --as-integer --as-single-value stores 7", r2.stdout.decode().strip() == '"7"', r2.stdout)
    ev = wd.file("evidence.json", json.dumps({"svn": "1", "report_data": base64.b64encode(b"\0" * 48).decode()}))
    r = full.client("attest", "--evidence-file", ev, check=False)
    R.check("client: --evidence-file is what gets sent (unbound evidence → attestation refused)",
            r.returncode != 0 and b"RCAR handshake Attest failed" in r.stderr, r.stderr)
    r = full.client("attest", "--tee-key-type", "P-521", check=False)
    payload = json.loads(base64.urlsafe_b64decode(r.stdout.decode().strip().split(".")[1] + "==")) if r.returncode == 0 else {}
    tpk = payload.get("submods", {}).get("cpu0", {}).get("ear.veraison.annotated-evidence", {}).get(
        "runtime_data_claims", {}).get("tee-pubkey", {})
    R.check("client: --tee-key-type P-521 → token holds a P-521 ECDH-ES+A256KW key",
            tpk.get("crv") == "P-521" and tpk.get("alg") == "ECDH-ES+A256KW", r.stderr)
    r = full.client("get-resource", check=False)
    R.check("client: get-resource without --path → usage error naming --path", r.returncode != 0 and b"--path" in r.stderr, r.stderr)
    full.stop()

    # ---- docker-e2e (§3.2): the default policy refuses the sample TEE --------------------------------------
    k = start(config(), "default")
    res = wd.file("secret.bin", b"test-secret", mode="wb")
    r = k.client("config", "set-resource", "--path", "test-org/test-repo/test-secret", "--resource-file", res, check=False)
    R.check("default: set-resource (InsecureAllowAll, anonymous)", r.returncode == 0, r.stderr)
    rc, out, err = get(k, "test-org/test-repo/test-secret")
    R.check("default: get-resource fails under the default policy (sample TEE)", rc != 0 and "request unauthorized" in err, err)
    p2 = wd.file("policy_2.rego", "package policy\n\ndefault allow = true\n")
    k.client("config", "set-resource-policy", "--policy-file", p2)
    rc, out, err = get(k, "test-org/test-repo/test-secret")
    R.check("default: get-resource succeeds after `default allow = true`", rc == 0 and base64.b64decode(out) == b"test-secret", err)
    rc, out, err = get(k, "test-org/test-repo/test-secret", "--raw")
    R.check("default: --raw prints the bytes", rc == 0 and out == "test-secret", err)
    # nested (mounted) layout served through kbs-client
    os.makedirs(wd.join("storage/repository/default/akv/..2026"), exist_ok=True)
    wd.file("storage/repository/default/akv/..2026/coco_one", "akv-one")
    os.symlink("..2026", wd.join("storage/repository/default/akv/..data"))
    os.symlink("..data/coco_one", wd.join("storage/repository/default/akv/coco_one"))
    wd.file("outside.txt", "do not serve")
    os.symlink(wd.join("outside.txt"), wd.join("storage/repository/default/akv/escape"))
    rc, out, err = get(k, "default/akv/coco_one")
    R.check("nested: Kubernetes-style mount default/akv/coco_one is served", rc == 0 and base64.b64decode(out) == b"akv-one", err)
    rc, out, err = get(k, "default/akv/escape")
    R.check("nested: a symlink leaving the repository is not served", rc != 0 and "not found" in err, err)
    k.client("config", "set-resource-policy", "--deny-all")
    rc, out, err = get(k, "test-org/test-repo/test-secret")
    R.check("deny-all (kbs-client --deny-all) → request unauthorized", rc != 0 and "request unauthorized" in err, err)
    k.stop()

    # ---- integration-tests get_resource (§3.5) -----------------------------------------------------------
    cases = [
        ("basic_ear_allow_all", "--allow-all", None, AS_CONTRAINDICATED, None, {}, False, True),
        ("basic_ear_deny_all", "--deny-all", None, AS_CONTRAINDICATED, None, {}, False, False),
        ("affirming_policy_affirming_token", "--affirming", None, AS_AFFIRMING, None, {}, False, True),
        ("affirming_policy_contraindicated_token", "--affirming", None, AS_CONTRAINDICATED, None, {}, False, False),
        ("policy_contraindicated", None, KBS_NOT_CONTRA, AS_CONTRAINDICATED, None, {}, False, False),
        ("policy_not_contraindicated", None, KBS_NOT_CONTRA, AS_RV, None,
         {"svn": '["1"]', "launch_digest": '["abcde"]'}, False, True),
        ("device_contraindicated", None, KBS_NOT_CONTRA_DEV, AS_RV, AS_RV,
         {"svn": '["1"]', "launch_digest": '["abcde"]'}, True, False),
        ("device_not_contraindicated", None, KBS_NOT_CONTRA_DEV, AS_RV, AS_DEVICE_RV,
         {"svn": '["1"]', "launch_digest": '["abcde"]', "device_svn": '["2"]'}, True, True),
    ]
    for name, flag, kbs_pol, cpu_pol, gpu_pol, rvs, device, expect in cases:
        k = start(config(storage="Memory"), name)
        k.client("config", "set-resource", "--path", "default/test/secret", "--resource-file",
                 wd.file("shh", b"shhhhhhh", mode="wb"))
        if flag:
            k.client("config", "set-resource-policy", flag)
        else:
            k.client("config", "set-resource-policy", "--policy-file", wd.file(name + ".rego", kbs_pol))
        r = k.client("config", "set-attestation-policy", "--id", "default_cpu", "--policy-file",
                     wd.file(name + "-cpu.rego", cpu_pol), check=False)
        ok = r.returncode == 0
        if gpu_pol:
            r2 = k.client("config", "set-attestation-policy", "--id", "default_gpu", "--policy-file",
                          wd.file(name + "-gpu.rego", gpu_pol), check=False)
            ok = ok and r2.returncode == 0
        for n_, v in rvs.items():
            vals = json.loads(v)
            r3 = k.client("config", "set-sample-reference-value", n_, vals[0], check=False)
            ok = ok and r3.returncode == 0
        env = {"ENABLE_SAMPLE_DEVICE": "YES"} if device else None
        rc, out, err = get(k, "default/test/secret", env=env)
        if expect:
            R.check("%s → secret" % name, ok and rc == 0 and base64.b64decode(out) == b"shhhhhhh", err + r.stderr.decode())
        else:
            R.check("%s → exactly `request unauthorized`" % name,
                    ok and rc != 0 and err.strip().endswith("Error: request unauthorized"), err)
        k.stop()

    # ---- init-data (§3.5 init_data.rs) ------------------------------------------------------------------
    cert = "-----BEGIN CERTIFICATE-----\\nMIIBexample\\n-----END CERTIFICATE-----\\n"
    init_data = ('version = "0.1.0"\nalgorithm = "sha256"\n[data]\n"cdh.toml" = \'\'\'\n[image]\n'
                 'extra_root_certificates = ["%s"]\n\'\'\'\n"policy.rego" = \'\'\'\npackage agent_policy\n\n'
                 'policy_data := {\n  "containers": [\n'
                 '    {"OCI": {"Annotations": {"io.kubernetes.cri.image-name": "pause"},\n'
                 '             "Process": {"Args": ["/pause"], "User": {"UID": 65535}}}},\n'
                 '    {"OCI": {"Annotations": {"io.kubernetes.cri.image-name": "bitnami/nginx:latest"},\n'
                 '             "Process": {"Args": ["/opt/bitnami/scripts/nginx/entrypoint.sh"], "User": {"UID": 1001}}}}\n'
                 '  ]\n}\n\'\'\'\n') % cert
    digest = base64.b64encode(hashlib.sha256(init_data.encode()).digest()).decode()
    ann = 'input["submods"]["cpu0"]["ear.veraison.annotated-evidence"]'
    idcases = [
        ("init-data digest claim", '%s["init_data"] == "%s"' % (ann, digest), ("nginx", "apache")),
        ("init-data cdh.toml claim", '%s["init_data_claims"]["cdh.toml"]["image"]["extra_root_certificates"][0] == "%s"'
         % (ann, cert.replace("\\n", "\\n")), ("MIIBexample", "MIIBother")),
        ("init-data agent policy claims",
         '%s["init_data_claims"]["agent_policy_claims"]["containers"][1]["OCI"]["Process"]["Args"][0] = '
         '"/opt/bitnami/scripts/nginx/entrypoint.sh"' % ann, ("nginx", "apache")),
    ]
    k = start(config(storage="Memory"), "initdata")
    k.client("config", "set-resource", "--path", "default/test/secret", "--resource-file", wd.join("shh"))
    for label, cond, (old, new) in idcases:
        k.client("config", "set-resource-policy", "--policy-file",
                 wd.file("id.rego", "package policy\nimport rego.v1\ndefault allow = false\nallow if {\n    %s\n}\n" % cond))
        rc, out, err = get(k, "default/test/secret", init_data)
        R.check("%s → secret" % label, rc == 0 and base64.b64decode(out) == b"shhhhhhh", err)
        rc, out, err = get(k, "default/test/secret", init_data.replace(old, new))
        R.check("%s: other init-data → refused" % label, rc != 0, err)
    r = k.client("attest", init_data, check=False)
    payload = json.loads(base64.urlsafe_b64decode(r.stdout.decode().strip().split(".")[1] + "=="))
    ids = payload.get("submods", {}).get("cpu0", {}).get("ear.trustee.identifiers", {}).get("validated")
    R.check("init-data: token carries ear.trustee.identifiers.validated from the agent policy",
            ids == {"container_images": ["pause", "bitnami/nginx:latest"], "container_uids": [65535, 1001]}, ids)
    k.stop()
finally:
    for p in procs:
        p.stop()
    if R.failed == 0:
        wd.cleanup()
    else:
        print("work dir kept: " + wd.path)
R.done()
