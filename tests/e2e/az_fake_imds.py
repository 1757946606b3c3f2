#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A loopback stand-in for an Azure CVM's local endpoints (tests only).

  GET  /metadata/THIM/amd/certification  (header "Metadata: true")
       -> {"vcekCert": PEM of SIM_DIR/snp/vcek.der, "certificateChain": SIM_DIR/snp/ask.pem + ark.pem}
  POST /acc/tdquote  {"report": base64url(TDREPORT)}
       -> {"quote": base64url(SIM_DIR/azure/td_quote.bin)} when the TDREPORT equals
          SIM_DIR/azure/tdreport.bin (written by `veritee sim azure-vtpm --tee az-tdx-vtpm`), else 400

usage: az_fake_imds.py SIM_DIR PORT_FILE   (listens on 127.0.0.1, an ephemeral port written to PORT_FILE)
"""
import base64
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

SIM = sys.argv[1]


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


class H(BaseHTTPRequestHandler):
    def log_message(self, fmt, *args):
        sys.stderr.write("fake-imds: " + (fmt % args) + "\n")

    def reply(self, code, obj):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path != "/metadata/THIM/amd/certification" or self.headers.get("Metadata") != "true":
            return self.reply(404, {"error": "not found"})
        der = open(os.path.join(SIM, "snp", "vcek.der"), "rb").read()
        b = base64.b64encode(der).decode()
        pem = "-----BEGIN CERTIFICATE-----\n" + "\n".join(b[i:i + 64] for i in range(0, len(b), 64)) + \
              "\n-----END CERTIFICATE-----\n"
        chain = open(os.path.join(SIM, "snp", "ask.pem")).read() + open(os.path.join(SIM, "snp", "ark.pem")).read()
        self.reply(200, {"vcekCert": pem, "certificateChain": chain, "tcbm": "sim"})

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        if self.path != "/acc/tdquote" or n > 1 << 16:
            return self.reply(404, {"error": "not found"})
        try:
            report = b64url_decode(json.loads(self.rfile.read(n))["report"])
        except Exception:  # noqa: BLE001 - any malformed request is a 400
            return self.reply(400, {"error": "bad request"})
        want = open(os.path.join(SIM, "azure", "tdreport.bin"), "rb").read()
        if report != want:
            return self.reply(400, {"error": "unknown TDREPORT"})
        quote = open(os.path.join(SIM, "azure", "td_quote.bin"), "rb").read()
        self.reply(200, {"quote": base64.urlsafe_b64encode(quote).decode().rstrip("=")})


srv = HTTPServer(("127.0.0.1", 0), H)
with open(sys.argv[2] + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(sys.argv[2] + ".tmp", sys.argv[2])
srv.serve_forever()
