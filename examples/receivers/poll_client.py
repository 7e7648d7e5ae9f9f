#!/usr/bin/env python3
"""A product polling scimd for events (RFC 8936): it asks for the next SETs with its stream's
credential, verifies each against scimd's JWKS and acknowledges it in its next poll.

    pip install "pyjwt[crypto]"
    POLL_URL=https://scim.example.com/events/v1/poll POLL_TOKEN=... \
      JWKS_URL=https://scim.example.com/.well-known/jwks.json ISSUER=https://scim.example.com \
      AUDIENCE=https://scim.example.com/events/v1/poll python3 poll_client.py

POLL_URL and POLL_TOKEN are what `scimd events stream add --poll --json` printed. Prints one
line per verified event. What is not acknowledged comes again in the next poll.
"""
import json
import os
import time
import urllib.request

import jwt

keys = jwt.PyJWKClient(os.environ["JWKS_URL"])


def verify(token):
    """The SET's claims, once its type, signature, issuer and audience are right."""
    if jwt.get_unverified_header(token).get("typ") != "secevent+jwt":
        raise jwt.InvalidTokenError("not a Security Event Token")
    key = keys.get_signing_key_from_jwt(token)
    return jwt.decode(token, key, algorithms=["EdDSA"], issuer=os.environ["ISSUER"], audience=os.environ["AUDIENCE"])


def poll(ack):
    """One poll: acknowledges `ack`, waits (up to 25 s) for the next SETs, in order."""
    body = json.dumps({"ack": ack, "maxEvents": 100, "returnImmediately": False}).encode()
    request = urllib.request.Request(os.environ["POLL_URL"], data=body, method="POST", headers={
        "Authorization": "Bearer " + os.environ["POLL_TOKEN"], "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as answer:
        return json.load(answer)


ack = []
while True:
    try:
        answer = poll(ack)
    except OSError as e:  # scimd restarting, the network: ask again (the acks too)
        print("poll failed:", e, flush=True)
        time.sleep(5)
        continue
    ack = []
    for jti, token in answer["sets"].items():  # in the tenant's order
        try:
            claims = verify(token)
        except Exception as e:
            print("refused:", e, flush=True)  # not acknowledged: it comes again
            time.sleep(5)
            break
        (uri,) = claims["events"]
        print("verified", uri, claims["sub_id"]["uri"], "seq", claims["seq"], flush=True)
        ack.append(jti)
