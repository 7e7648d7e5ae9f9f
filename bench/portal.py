"""Times the portal's pages as a person opens them, in a tenant a running scimd holds:
signs an operator in (password, then the TOTP code of an authenticator it enrols, like a
browser would), then GETs each page REPEAT times one after another on one connection and
prints p50, p95 and the slowest, in milliseconds.
Usage: portal.py HOST PORT OPERATOR PASSWORD TENANT [REPEAT=20]"""
import http.client
import json
import os
import re
import sys
import time
import urllib.parse

import pyotp

host, port, operator, password, tenant = sys.argv[1:6]
repeat = int(sys.argv[6]) if len(sys.argv) > 6 else 20
conn = http.client.HTTPConnection(host, int(port))
cookies = {}


def request(method, path, fields=None):
    headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()), "Sec-Fetch-Site": "same-origin",
               "Origin": f"http://{host}:{port}"}
    body = None
    if fields is not None:
        body = urllib.parse.urlencode(fields)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    conn.request(method, path, body, headers)
    r = conn.getresponse()
    text = r.read().decode()
    for name, value in r.getheaders():
        if name.lower() == "set-cookie":
            k, _, v = value.split(";")[0].partition("=")
            if v:
                cookies[k] = v
            else:
                cookies.pop(k, None)
    return r.status, r.getheader("Location"), text


def field(page, name):
    return re.search(f'name="{name}" value="([^"]*)"', page).group(1)


_, _, login = request("GET", "/portal/login")
status, to, _ = request("POST", "/portal/login", {"_csrf": field(login, "_csrf"), "login": operator, "password": password})
assert status == 303, status
_, _, second = request("GET", to)
secret = re.search(r'id="totp-secret" class="secret">([A-Z2-7]+)<', second).group(1)
status, _, _ = request("POST", "/portal/login/code", {"_csrf": field(second, "_csrf"), "code": pyotp.TOTP(secret).now()})
assert status == 303, status

t = urllib.parse.quote(tenant)
_, _, users = request("GET", f"/portal/t/{t}/users")
user_link = re.search(rf'href="(/portal/t/{re.escape(t)}/users/[^"?]+)"', users).group(1)
_, _, groups = request("GET", f"/portal/t/{t}/groups")
group_link = re.search(rf'href="(/portal/t/{re.escape(t)}/groups/[^"?/]+)"', groups)
now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
day_ago = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 86400))
# A test run over the last day submitted by the tenant (its token: TOKEN), to time its review.
run = {"from": day_ago, "to": now, "created": 100000, "updated": 0, "deactivated": 0, "deleted": 0, "errors": 0}
conn.request("POST", "/golive/v1/submissions", json.dumps(run),
             {"Authorization": f"Bearer {os.environ['TOKEN']}", "Content-Type": "application/json"})
submitted = conn.getresponse()
run_id = json.loads(submitted.read())["id"]
assert submitted.status == 201, submitted.status
pages = [
    ("tenants", "/portal/tenants"),
    ("tenant overview", f"/portal/t/{t}"),
    ("users (first page)", f"/portal/t/{t}/users"),
    ("users (page at 50,000)", f"/portal/t/{t}/users?start=50001"),
    ("users (filter userName eq)", f"/portal/t/{t}/users?filter=" + urllib.parse.quote('userName eq "bench0-1-500@bench.test"')),
    ("users (filter sw, 3rd page)", f"/portal/t/{t}/users?filter=" + urllib.parse.quote('userName sw "bench0-1-5"') + "&start=101"),
    ("one user", user_link),
    ("groups", f"/portal/t/{t}/groups"),
    ("one group (members)", group_link.group(1) if group_link else f"/portal/t/{t}/groups"),
    ("import", f"/portal/t/{t}/users/import"),
    ("places", f"/portal/t/{t}/places"),
    ("credentials", f"/portal/t/{t}/credentials"),
    ("connect", f"/portal/t/{t}/connect"),
    ("people", f"/portal/t/{t}/people"),
    ("settings", f"/portal/t/{t}/settings"),
    ("audit", f"/portal/t/{t}/audit"),
    ("audit (errors only)", f"/portal/t/{t}/audit?status=4xx"),
    ("error log", f"/portal/t/{t}/audit/errors"),
    ("go-live (last day, chart)", f"/portal/t/{t}/golive?from={day_ago}&to={now}"),
    ("go-live review (last day)", f"/portal/t/{t}/golive/{run_id}"),
    ("onboarding", f"/portal/t/{t}/onboarding"),
    ("event streams", f"/portal/t/{t}/streams"),
    ("account", "/portal/account"),
]
print(f"{'page':32} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
worst = 0.0
for name, path in pages:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        status, _, _ = request("GET", path)
        times.append((time.perf_counter() - start) * 1000)
        assert status == 200, (name, path, status)
    times.sort()
    p50, p95 = times[len(times) // 2], times[min(len(times) - 1, int(len(times) * 0.95))]
    worst = max(worst, times[-1])
    print(f"{name:32} {p50:8.1f} {p95:8.1f} {times[-1]:8.1f}")
print(f"slowest page load: {worst:.1f} ms")
