#!/usr/bin/python3
"""An Intel PCS/PCCS-shaped HTTP server for the DCAP verifier tests.

usage: test_dcap_pcs.py PORT_FILE LOG_FILE BUNDLE_JSON TEE

Serves the collateral of one dcap-qvl bundle (../shared/vectors/dcap-qvl/*_collateral.json)
the way the PCS v4 API does: GET /{tee}/certification/v4/tcb?fmspc=..&update=..
({"tcbInfo":..,"signature":..} + TCB-Info-Issuer-Chain), /{tee}/certification/v4/qe/identity
({"enclaveIdentity":..} + SGX-Enclave-Identity-Issuer-Chain), /sgx/certification/v4/pckcrl?ca=..&encoding=der
(DER + SGX-PCK-CRL-Issuer-Chain), /sgx/certification/v4/rootcacrl (hex text, as a PCCS answers).
Issuer chains are URL-encoded. Other paths, or a wrong fmspc, answer 404. Listens on 127.0.0.1 at a
free port (written to PORT_FILE once listening); every request line is appended to LOG_FILE."""
import http.server
import json
import os
import sys
import urllib.parse

port_file, log_file, bundle_file, tee = sys.argv[1:5]
b = json.load(open(bundle_file))
fmspc = json.loads(b["tcb_info"])["fmspc"].upper()
q = urllib.parse.quote


class Handler(http.server.BaseHTTPRequestHandler):
    def answer(self, body, header=None, value=None, ctype="application/json"):
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        if header:
            self.send_header(header, q(value, safe=""))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        with open(log_file, "a") as f:
            f.write(self.path + "\n")
        path, _, query = self.path.partition("?")
        args = urllib.parse.parse_qs(query)
        if path == "/%s/certification/v4/tcb" % tee and args.get("fmspc", [""])[0].upper() == fmspc:
            body = '{"tcbInfo":%s,"signature":"%s"}' % (b["tcb_info"], b["tcb_info_signature"])
            return self.answer(body.encode(), "TCB-Info-Issuer-Chain", b["tcb_info_issuer_chain"])
        if path == "/%s/certification/v4/qe/identity" % tee:
            body = '{"enclaveIdentity":%s,"signature":"%s"}' % (b["qe_identity"], b["qe_identity_signature"])
            return self.answer(body.encode(), "SGX-Enclave-Identity-Issuer-Chain", b["qe_identity_issuer_chain"])
        if path == "/sgx/certification/v4/pckcrl" and args.get("encoding") == ["der"]:
            return self.answer(bytes.fromhex(b["pck_crl"]), "SGX-PCK-CRL-Issuer-Chain", b["pck_crl_issuer_chain"],
                               "application/pkix-crl")
        if path == "/sgx/certification/v4/rootcacrl":
            return self.answer(b["root_ca_crl"].encode(), ctype="text/plain")
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


srv = http.server.HTTPServer(("127.0.0.1", 0), Handler)
tmp = port_file + ".tmp"
with open(tmp, "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(tmp, port_file)
srv.serve_forever()
