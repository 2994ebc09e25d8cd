#!/usr/bin/python3
"""A KDS-shaped HTTP server for the SNP verifier tests.

usage: test_snp_kds.py PORT_FILE LOG_FILE DER_FILE PATH_PREFIX FAIL_FIRST

Listens on 127.0.0.1 at a free port (written to PORT_FILE once listening),
answers GET PATH_PREFIX?... with the bytes of DER_FILE as
application/pkix-cert after answering the first FAIL_FIRST requests with 503,
and 404 for any other path. Every request line is appended to LOG_FILE."""
import http.server
import os
import sys

port_file, log_file, der_file, prefix, fail_first = sys.argv[1:6]
fail_left = int(fail_first)
der = open(der_file, "rb").read()


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        global fail_left
        with open(log_file, "a") as f:
            f.write(self.path + "\n")
        path, _, query = self.path.partition("?")
        if path != prefix:
            self.send_response(404)
            self.end_headers()
            return
        if fail_left > 0:
            fail_left -= 1
            self.send_response(503)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/pkix-cert")
        self.send_header("Content-Length", str(len(der)))
        self.end_headers()
        self.wfile.write(der)

    def log_message(self, *args):
        pass


srv = http.server.HTTPServer(("127.0.0.1", 0), Handler)
tmp = port_file + ".tmp"
with open(tmp, "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(tmp, port_file)
srv.serve_forever()
