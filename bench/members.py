"""Grows one group to TARGET members by PATCH adds of BATCH members each, over one
keep-alive connection, and prints the latency of each PATCH (ms): p50, p99, max.
Usage: members.py HOST PORT TOKEN IDS_FILE [TARGET=10000] [BATCH=100]"""
import http.client
import json
import sys
import time

host, port, token, ids_file = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
target = int(sys.argv[5]) if len(sys.argv) > 5 else 10000
batch = int(sys.argv[6]) if len(sys.argv) > 6 else 100
ids = [l.strip() for l in open(ids_file) if l.strip()][:target]
headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/scim+json"}
conn = http.client.HTTPConnection(host, port)
conn.request("POST", "/scim/v2/Groups", json.dumps({"displayName": f"bench-group-{time.time()}"}), headers)
r = conn.getresponse()
group = json.loads(r.read())
assert r.status == 201, group
path = f"/scim/v2/Groups/{group['id']}?excludedAttributes=members"
times = []
for i in range(0, len(ids), batch):
    body = json.dumps({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "add", "path": "members", "value": [{"value": v} for v in ids[i:i + batch]]}],
    })
    t0 = time.perf_counter()
    conn.request("PATCH", path, body, headers)
    r = conn.getresponse()
    data = r.read()
    times.append((time.perf_counter() - t0) * 1000)
    assert r.status == 200, data
conn.request("GET", f"/scim/v2/Groups?filter=id%20eq%20%22{group['id']}%22&count=0", headers=headers)
r = conn.getresponse()
r.read()
times.sort()
p = lambda q: times[min(len(times) - 1, int(q * len(times)))]
print(f"{len(times)} PATCHes of {batch} members, group grew to {len(ids)}: "
      f"p50 {p(0.5):.2f} ms, p99 {p(0.99):.2f} ms, max {times[-1]:.2f} ms")
print(f"MEMBERS_P99_MS={p(0.99):.2f}")
