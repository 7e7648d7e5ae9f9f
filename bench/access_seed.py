"""Seeds the places and access of the access benchmark over the admin and SCIM APIs:
LOCATIONS x 10 sections x 10 banks (1,000 banks with 10 lockers each by default), GROUPS
groups of which the first 20 hold the COHORT users (each of them in 20 groups) and the
others 500 users each, and every group linked to 5 banks. Prints the cohort's userNames
to COHORT_FILE.
Usage: access_seed.py HOST PORT TOKEN OPERATOR NAMES_FILE IDS_FILE COHORT_FILE [LOCATIONS=10] [GROUPS=200] [COHORT=1000]"""
import http.client
import json
import random
import sys

host, port, token, operator, names_file, ids_file, cohort_file = sys.argv[1:8]
locations = int(sys.argv[8]) if len(sys.argv) > 8 else 10
groups = int(sys.argv[9]) if len(sys.argv) > 9 else 200
cohort = int(sys.argv[10]) if len(sys.argv) > 10 else 1000
names = [l.strip() for l in open(names_file) if l.strip()]
ids = [l.strip() for l in open(ids_file) if l.strip()]
conn = http.client.HTTPConnection(host, int(port))
scim = {"Authorization": f"Bearer {token}", "Content-Type": "application/scim+json"}
admin = {"Authorization": f"Bearer {operator}", "Content-Type": "application/json"}


def call(method, path, body, headers, want):
    conn.request(method, path, json.dumps(body) if body is not None else None, headers)
    r = conn.getresponse()
    data = r.read()
    assert r.status in want, (method, path, r.status, data[:300])
    return json.loads(data) if data else None


tree = {"locations": [
    {"key": f"loc{l}", "sections": [
        {"key": f"sec{l}-{s}", "banks": [
            {"key": f"bank{l}-{s}-{b}", "lockers": [{"key": f"locker{l}-{s}-{b}-{k}"} for k in range(10)]}
            for b in range(10)]}
        for s in range(10)]}
    for l in range(locations)]}
call("PUT", "/admin/v1/tenants/bench/places", tree, admin, (200,))
banks = [b["key"] for l in tree["locations"] for s in l["sections"] for b in s["banks"]]
random.seed(7)
cohort_idx = random.sample(range(len(ids)), cohort)
for g in range(groups):
    group = call("POST", "/scim/v2/Groups", {"displayName": f"access-group-{g}"}, scim, (201,))
    members = [ids[i] for i in cohort_idx] if g < 20 else random.sample(ids, 500)
    for i in range(0, len(members), 500):
        ops = [{"op": "add", "path": "members", "value": [{"value": v} for v in members[i:i + 500]]}]
        call("PATCH", f"/scim/v2/Groups/{group['id']}?excludedAttributes=members",
             {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops}, scim, (200,))
    for k in range(5):
        bank = banks[(g * 5 + k) % len(banks)]
        call("POST", "/admin/v1/tenants/bench/access", {"group": group["id"], "bank": bank}, admin, (200, 201))
with open(cohort_file, "w") as f:
    for i in cohort_idx:
        f.write(names[i] + "\n")
# A sanity check: a cohort user has 20 groups' banks (100) and their lockers.
a = call("GET", f"/admin/v1/tenants/bench/users/{names[cohort_idx[0]]}/access", None, admin, (200,))
print(f"{len(banks)} banks, {groups} groups; a cohort user may use {len(a['banks'])} banks, {len(a['lockers'])} lockers")
