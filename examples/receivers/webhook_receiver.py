#!/usr/bin/env python3
"""A product receiving scimd's webhook stream: plain JSON, signed the Standard Webhooks way.

    pip install standardwebhooks
    WEBHOOK_SECRET=whsec_... PORT=9001 python3 webhook_receiver.py

WEBHOOK_SECRET is the secret `scimd events stream add --webhook` printed once. Prints one
line per verified event. A message whose signature does not verify gets 401: scimd keeps
it and tries again (the stream shows as failing) instead of dropping it.
"""
import os
from http.server import BaseHTTPRequestHandler, HTTPServer

from standardwebhooks import Webhook

webhook = Webhook(os.environ["WEBHOOK_SECRET"])
seen = set()  # a real receiver keeps the jtis it handled with what it did (at least once: duplicates come)


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        try:
            message = webhook.verify(body, dict(self.headers))  # checks signature and timestamp
        except Exception as e:
            print("refused:", e, flush=True)
            return self.answer(401)
        event = message["data"]  # the SET's claims: jti, seq, sub_id, events, ...
        if event["jti"] not in seen:
            seen.add(event["jti"])
            print("verified", message["type"], event["sub_id"]["uri"], "seq", event["seq"], flush=True)
        self.answer(204)

    def answer(self, status):
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


server = HTTPServer(("127.0.0.1", int(os.environ.get("PORT", "0"))), Handler)
print(f"listening on http://127.0.0.1:{server.server_port}/", flush=True)
server.serve_forever()
