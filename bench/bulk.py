"""Imports N users three ways into a running scimd and prints the wall time of each:
single POSTs one after another on one keep-alive connection, single POSTs from THREADS
connections at once, and Bulk requests of BATCH creates one after another.
Usage: bulk.py HOST PORT TOKEN [N=10000] [BATCH=1000] [THREADS=16]"""
import http.client
import json
import sys
import threading
import time

host, port, token = sys.argv[1], int(sys.argv[2]), sys.argv[3]
n = int(sys.argv[4]) if len(sys.argv) > 4 else 10000
batch = int(sys.argv[5]) if len(sys.argv) > 5 else 1000
threads = int(sys.argv[6]) if len(sys.argv) > 6 else 16
headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/scim+json"}


def user(prefix, i):
    name = f"{prefix}-{i}@bulk.test"
    return {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": name, "externalId": f"x-{name}",
            "name": {"givenName": "Bulk", "familyName": f"User {i}"},
            "emails": [{"value": name, "type": "work", "primary": True}], "active": True}


def singles(prefix, indices):
    conn = http.client.HTTPConnection(host, port)
    for i in indices:
        conn.request("POST", "/scim/v2/Users", json.dumps(user(prefix, i)), headers)
        r = conn.getresponse()
        r.read()
        assert r.status == 201, r.status


t0 = time.perf_counter()
singles("seq", range(n))
seq = time.perf_counter() - t0

t0 = time.perf_counter()
ts = [threading.Thread(target=singles, args=("par", range(k, n, threads))) for k in range(threads)]
for t in ts:
    t.start()
for t in ts:
    t.join()
par = time.perf_counter() - t0

conn = http.client.HTTPConnection(host, port)
t0 = time.perf_counter()
for start in range(0, n, batch):
    ops = [{"method": "POST", "path": "/Users", "bulkId": f"b{i}", "data": user("bulk", i)} for i in range(start, min(n, start + batch))]
    body = json.dumps({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": ops})
    conn.request("POST", "/scim/v2/Bulk", body, headers)
    r = conn.getresponse()
    data = json.loads(r.read())
    assert r.status == 200, data
    bad = [o for o in data["Operations"] if o["status"] != "201"]
    assert not bad, bad[:3]
bulk = time.perf_counter() - t0
print(f"| {n:,} single POSTs, one connection | {seq:.2f} s | {n / seq:,.0f}/s |")
print(f"| {n:,} single POSTs, {threads} connections | {par:.2f} s | {n / par:,.0f}/s |")
print(f"| {n // batch} Bulk requests of {batch:,}, one connection | {bulk:.2f} s | {n / bulk:,.0f}/s |")
print(f"bulk is {seq / bulk:.1f}x faster than sequential single POSTs, {par / bulk:.1f}x faster than {threads} concurrent connections")
