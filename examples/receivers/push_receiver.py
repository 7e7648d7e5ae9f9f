#!/usr/bin/env python3
"""A product receiving scimd's push stream (RFC 8935): each POST is one Security Event Token,
a JWT signed with scimd's keys, checked against its JWKS.

    pip install "pyjwt[crypto]"
    JWKS_URL=https://scim.example.com/.well-known/jwks.json ISSUER=https://scim.example.com \
      AUDIENCE=https://product.example.com/scim-events PORT=9002 python3 push_receiver.py

AUDIENCE is the stream's audience (its receiver URL unless one was given). Prints one line
per verified event and answers 202. A SET that does not verify gets 401: scimd keeps it
and tries again (the stream shows as failing) instead of dropping it.
"""
import os
from http.server import BaseHTTPRequestHandler, HTTPServer

import jwt

keys = jwt.PyJWKClient(os.environ["JWKS_URL"])  # caches the keys, fetches again for an unknown kid


def verify(token):
    """The SET's claims, once its type, signature, issuer and audience are right."""
    if jwt.get_unverified_header(token).get("typ") != "secevent+jwt":
        raise jwt.InvalidTokenError("not a Security Event Token")
    key = keys.get_signing_key_from_jwt(token)
    return jwt.decode(token, key, algorithms=["EdDSA"], issuer=os.environ["ISSUER"], audience=os.environ["AUDIENCE"])


seen = set()  # a real receiver keeps the jtis it handled with what it did (at least once: duplicates come)


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        token = self.rfile.read(int(self.headers["Content-Length"])).decode()
        try:
            claims = verify(token)
        except Exception as e:
            print("refused:", e, flush=True)
            return self.answer(401)
        if claims["jti"] not in seen:
            seen.add(claims["jti"])
            (uri,) = claims["events"]  # one event per SET
            print("verified", uri, claims["sub_id"]["uri"], "seq", claims["seq"], flush=True)
        self.answer(202)

    def answer(self, status):
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


server = HTTPServer(("127.0.0.1", int(os.environ.get("PORT", "0"))), Handler)
print(f"listening on http://127.0.0.1:{server.server_port}/", flush=True)
server.serve_forever()
