"""Loads N users into a running scimd through Bulk requests of BATCH creates, CONNS
requests in flight (so the writer always has the next batch), and prints the wall time.
Writes each user's id and userName, one per line, to OUT_DIR/ids and OUT_DIR/names.
Usage: load.py HOST PORT TOKEN N OUT_DIR [BATCH=1000] [CONNS=2] [PREFIX=load]"""
import http.client
import json
import sys
import threading
import time

host, port, token, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5]
batch = int(sys.argv[6]) if len(sys.argv) > 6 else 1000
conns = int(sys.argv[7]) if len(sys.argv) > 7 else 2
prefix = sys.argv[8] if len(sys.argv) > 8 else "load"
headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/scim+json"}
chunks = [(s, min(n, s + batch)) for s in range(0, n, batch)]
results = {}
lock = threading.Lock()


def name(i):
    return f"{prefix}-{i}@bench.test"


def body(lo, hi):
    ops = [{"method": "POST", "path": "/Users", "bulkId": str(i), "data": {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": name(i), "externalId": f"ext-{name(i)}",
        "name": {"givenName": "Bench", "familyName": f"User {i}"}, "displayName": f"Bench User {i}",
        "emails": [{"value": name(i), "type": "work", "primary": True}], "active": True}} for i in range(lo, hi)]
    return json.dumps({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": ops})


def worker():
    conn = http.client.HTTPConnection(host, port, timeout=300)
    while True:
        with lock:
            if not chunks:
                return
            lo, hi = chunks.pop(0)
        conn.request("POST", "/scim/v2/Bulk", body(lo, hi), headers)
        r = conn.getresponse()
        data = r.read()
        assert r.status == 200, data[:500]
        ops = json.loads(data)["Operations"]
        for op in ops:
            assert op["status"] == "201", op
        with lock:
            results[lo] = [(int(op["bulkId"]), op["location"].rsplit("/", 1)[1]) for op in ops]


t0 = time.perf_counter()
threads = [threading.Thread(target=worker) for _ in range(conns)]
for t in threads:
    t.start()
for t in threads:
    t.join()
took = time.perf_counter() - t0
with open(f"{out}/ids", "w") as ids, open(f"{out}/names", "w") as names:
    for lo in sorted(results):
        for i, id_ in results[lo]:
            ids.write(id_ + "\n")
            names.write(name(i) + "\n")
loaded = sum(len(v) for v in results.values())
assert loaded == n, (loaded, n)
print(f"loaded {n} users through Bulk ({batch} per request, {conns} in flight) in {took:.1f} s: {n / took:.0f}/s")
print(f"LOAD_SECS={took:.1f}")
