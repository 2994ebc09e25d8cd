#!/usr/bin/python3
"""End to end: SNP evidence through the KBS protocol (RCAR: /auth, /attest)
with a test-only trust anchor, and the same evidence through restful-as.

Real SNP vectors cannot bind a fresh KBS nonce, so the test makes its own
AMD-shaped chain (ARK, ASK, ASVK, a VCEK with SPL and hwID extensions) and
installs it through `snp_verifier.vendor_certs` (Milan). It then builds a
raw v3 Milan SNP report whose REPORT_DATA is SHA-384 of the JCS-canonical
runtime data {"additional-evidence": "", "nonce": <challenge>, "tee-pubkey":
<JWK>}, signs it with the VCEK key (r, s little-endian), and attests. The
token's `snp` claims must equal those restful-as issues for the same
evidence and runtime data, and a report bound to another nonce is refused.
Exit 77 (skipped) when kbs or restful-as is not built."""
import base64
import datetime
import hashlib
import json
import os
import shutil
import struct
import sys
import tempfile

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID
from jwcrypto import jwk

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_snp_e2e_util import Proc, annotated_evidence, as_port, b64u, check, failures, kbs_port, post  # noqa: E402

BUILD = os.environ.get("TRUSTEE_BUILD_DIR", ".")


# ---- a test-only AMD-shaped chain -------------------------------------------------------------------------

def cert(cn, pub, issuer_name, issuer_key, exts=()):
    now = datetime.datetime.utcnow()
    b = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
         .issuer_name(issuer_name or x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
         .public_key(pub).serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(hours=1)))
    for oid, value in exts:
        b = b.add_extension(x509.UnrecognizedExtension(x509.ObjectIdentifier(oid), value), critical=False)
    return b.sign(issuer_key, hashes.SHA384())


def der_int(v):
    return bytes([0x02, 0x01, v]) if v < 0x80 else bytes([0x02, 0x02, 0x00, v])


CHIP = bytes(range(0x40, 0x80))
TCB = dict(bl=4, tee=1, snp=20, ucode=210)


def make_chain(d):
    ark_key = rsa.generate_private_key(65537, 2048)
    ask_key = rsa.generate_private_key(65537, 2048)
    vcek_key = ec.generate_private_key(ec.SECP384R1())
    ark = cert("ARK-Test", ark_key.public_key(), None, ark_key)
    ask = cert("SEV-Test", ask_key.public_key(), ark.subject, ark_key)
    asvk = cert("SEV-VLEK-Test", ask_key.public_key(), ark.subject, ark_key)
    p = "1.3.6.1.4.1.3704.1."
    vcek = cert("SEV-VCEK", vcek_key.public_key(), ask.subject, ask_key, [
        (p + "3.1", der_int(TCB["bl"])), (p + "3.2", der_int(TCB["tee"])), (p + "3.3", der_int(TCB["snp"])),
        (p + "3.8", der_int(TCB["ucode"])), (p + "4", bytes([0x04, 0x40]) + CHIP)])
    bundle = os.path.join(d, "milan_ask_ark_asvk.pem")
    with open(bundle, "wb") as f:
        for c in (ask, ark, asvk):
            f.write(c.public_bytes(serialization.Encoding.PEM))
    return bundle, vcek, vcek_key


def snp_report(vcek_key, report_data, host_data=bytes(32)):
    r = bytearray(1184)
    struct.pack_into("<IIQ", r, 0, 3, 1, 0x30000)  # version, guest_svn, policy (SMT allowed)
    struct.pack_into("<II", r, 0x30, 0, 1)  # VMPL 0, sig_algo
    tcb = bytes([TCB["bl"], TCB["tee"], 0, 0, 0, 0, TCB["snp"], TCB["ucode"]])  # Milan layout
    for off in (0x38, 0x180, 0x1E0, 0x1F0):
        r[off:off + 8] = tcb
    struct.pack_into("<Q", r, 0x40, 1)  # SMT enabled
    r[0x50:0x90] = report_data.ljust(64, b"\0")[:64]
    r[0x90:0xC0] = hashlib.sha384(b"guest image").digest()
    r[0xC0:0xE0] = host_data
    r[0x188:0x18B] = bytes([0x19, 0x01, 0x01])  # Milan CPUID
    r[0x1A0:0x1E0] = CHIP
    der = vcek_key.sign(bytes(r[:0x2A0]), ec.ECDSA(hashes.SHA384()))
    rr, ss = decode_dss_signature(der)
    r[0x2A0:0x2E8] = rr.to_bytes(72, "little")
    r[0x2E8:0x330] = ss.to_bytes(72, "little")
    return bytes(r)


def evidence(report, vcek):
    return {"attestation_report": base64.b64encode(report).decode(),
            "cert_chain": [{"cert_type": "VCEK", "data": list(vcek.public_bytes(serialization.Encoding.DER))}]}


def jcs(obj):
    # ASCII keys, strings and objects only: sorted compact JSON is RFC 8785
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


# ---- processes ---------------------------------------------------------------------------------------------

def main():
    kbs_bin, as_bin = os.path.join(BUILD, "kbs"), os.path.join(BUILD, "restful-as")
    if not (os.path.exists(kbs_bin) and os.path.exists(as_bin)):
        print("kbs or restful-as not built; skipping")
        return 77
    d = tempfile.mkdtemp(prefix="snp-kbs-e2e-")
    procs = []
    try:
        bundle, vcek, vcek_key = make_chain(d)
        cfg = os.path.join(d, "kbs-config.toml")
        with open(cfg, "w") as f:
            f.write('[http_server]\nsockets = ["127.0.0.1:0"]\ninsecure_http = true\n'
                    '[attestation_token]\ninsecure_header_jwk = true\n'
                    '[admin]\nauthorization_mode = "InsecureAllowAll"\n'
                    '[attestation_service]\ntype = "coco_as_builtin"\n'
                    '[attestation_service.verifier_config.snp_verifier]\nvcek_sources = []\n'
                    '[attestation_service.verifier_config.snp_verifier.vendor_certs]\nMilan = "%s"\n' % bundle)
        kbs = Proc([kbs_bin, "--config-file", cfg], os.path.join(d, "kbs.log"), kbs_port)
        procs.append(kbs)
        c = kbs.conn()
        status, body, cookie = post(c, "/kbs/v0/auth", {"version": "0.4.0", "tee": "snp", "extra-params": ""})
        check(status == 200 and cookie, "auth: %s %s" % (status, body))
        nonce = json.loads(body)["nonce"]
        cookie = cookie.split(";")[0]
        tee_key = json.loads(jwk.JWK.generate(kty="EC", crv="P-256").export_public())
        tee_pubkey = {"kty": "EC", "crv": "P-256", "alg": "ECDH-ES+A256KW", "x": tee_key["x"], "y": tee_key["y"]}
        runtime = {"additional-evidence": "", "nonce": nonce, "tee-pubkey": tee_pubkey}
        digest = hashlib.sha384(jcs(runtime)).digest()
        ev = evidence(snp_report(vcek_key, digest), vcek)

        # A report bound to another nonce is refused.
        wrong = evidence(snp_report(vcek_key, hashlib.sha384(b"other").digest()), vcek)
        status, body, _ = post(c, "/kbs/v0/attest", {"runtime-data": {"nonce": nonce, "tee-pubkey": tee_pubkey},
                                                     "tee-evidence": {"primary_evidence": wrong,
                                                                      "additional_evidence": ""}}, cookie)
        check(status == 401, "attest with a report bound elsewhere → 401 (%s %s)" % (status, body[:200]))

        status, body, _ = post(c, "/kbs/v0/attest", {"runtime-data": {"nonce": nonce, "tee-pubkey": tee_pubkey},
                                                     "tee-evidence": {"primary_evidence": ev,
                                                                      "additional_evidence": ""}}, cookie)
        check(status == 200, "attest: %s %s" % (status, body[:300]))
        kbs_ae = annotated_evidence(json.loads(body)["token"]) if status == 200 else {}
        check(kbs_ae.get("report_data") == digest.ljust(64, b"\0").hex(), "KBS token: report_data = SHA-384 of the runtime data")
        check(kbs_ae.get("runtime_data_claims", {}).get("tee-pubkey") == tee_pubkey, "KBS token: tee-pubkey claims")
        snp = kbs_ae.get("snp", {})
        check(snp.get("chip_id") == CHIP.hex() and snp.get("reported_tcb_microcode") == 210, "KBS token: snp claims %s" % snp)

        # The same evidence through restful-as: the same snp claims.
        as_cfg = os.path.join(d, "as.json")
        with open(as_cfg, "w") as f:
            json.dump({"verifier_config": {"snp_verifier": {"vcek_sources": [], "vendor_certs": {"Milan": bundle}}}}, f)
        ras = Proc([as_bin, "-c", as_cfg, "-s", "127.0.0.1:0"], os.path.join(d, "as.log"), as_port)
        procs.append(ras)
        status, tok, _ = post(ras.conn(), "/attestation", {"verification_requests": [
            {"tee": "snp", "evidence": b64u(json.dumps(ev).encode()), "runtime_data": {"structured": runtime}}],
            "policy_ids": []})
        check(status == 200, "restful-as: %s %s" % (status, tok[:300]))
        if status == 200:
            as_ae = annotated_evidence(tok)
            check(as_ae.get("snp") == snp, "restful-as and KBS tokens carry the same snp claims")
            check(as_ae.get("report_data") == kbs_ae.get("report_data"), "same report_data")
    finally:
        for p in procs:
            p.stop()
        shutil.rmtree(d, ignore_errors=True)
    print("%d failure(s)" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
