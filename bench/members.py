"""A group of TARGET members changed as Entra ID and Okta change it: grows the group to
TARGET members (PATCH adds of BATCH, not timed), then times ROUNDS PATCHes adding BATCH
further members and as many removing them again (Entra's removal form), sent with no
query parameters (the identity providers never add excludedAttributes=members), over one
keep-alive connection. Prints p50, p99 and max in ms, and the status the adds got.
Usage: members.py HOST PORT TOKEN IDS_FILE [TARGET=10000] [BATCH=100] [ROUNDS=100]"""
import http.client
import json
import sys
import time

host, port, token, ids_file = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
target = int(sys.argv[5]) if len(sys.argv) > 5 else 10000
batch = int(sys.argv[6]) if len(sys.argv) > 6 else 100
rounds = int(sys.argv[7]) if len(sys.argv) > 7 else 100
ids = [l.strip() for l in open(ids_file) if l.strip()]
assert len(ids) >= target + batch, f"need {target + batch} users, have {len(ids)}"
headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/scim+json"}
conn = http.client.HTTPConnection(host, port)
conn.request("POST", "/scim/v2/Groups", json.dumps({"displayName": f"bench-group-{time.time()}"}), headers)
r = conn.getresponse()
group = json.loads(r.read())
assert r.status == 201, group
path = f"/scim/v2/Groups/{group['id']}"


def patch(op, members, query=""):
    body = json.dumps({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": op, "path": "members", "value": [{"value": v} for v in members]}],
    })
    t0 = time.perf_counter()
    conn.request("PATCH", path + query, body, headers)
    r = conn.getresponse()
    data = r.read()
    took = (time.perf_counter() - t0) * 1000
    assert r.status in (200, 204), data
    return took, r.status


for i in range(0, target, 1000):
    patch("add", ids[i:i + 1000], "?excludedAttributes=members")
extra = ids[target:]
adds, removes, statuses = [], [], set()
for k in range(rounds):
    chunk = extra[(k * batch) % (len(extra) - batch + 1):][:batch]
    took, status = patch("Add", chunk)
    adds.append(took)
    statuses.add(status)
    took, _ = patch("Remove", chunk)
    removes.append(took)
conn.request("GET", f"/scim/v2/Groups?filter=id%20eq%20%22{group['id']}%22&excludedAttributes=members", headers=headers)
r = conn.getresponse()
r.read()


def q(times, f):
    times = sorted(times)
    return times[min(len(times) - 1, int(f * len(times)))]


print(f"group of {target} members, {rounds} PATCHes adding {batch} and {rounds} removing them "
      f"(answered {sorted(statuses)}): add p50 {q(adds, 0.5):.2f} ms, p99 {q(adds, 0.99):.2f} ms, "
      f"max {max(adds):.2f} ms; remove p50 {q(removes, 0.5):.2f} ms, p99 {q(removes, 0.99):.2f} ms")
print(f"MEMBERS_P99_MS={q(adds, 0.99):.2f}")
