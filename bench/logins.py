"""Password-check load on a running scimd: N token requests at once, on N connections,
then the server's peak memory. Scenarios:
  users    N password-grant logins with N different unknown usernames (each must be
           checked: nothing is locked out);
  client   N client_credentials requests with one client id and wrong secrets, from one
           address (the lockout applies);
  bulk     one Bulk request of N creates with passwords.
Usage: logins.py HOST PORT PID SCENARIO N CLIENT_ID CLIENT_SECRET TOKEN
Prints one line: scenario, requests, seconds, statuses, peak RSS (MiB) of the process."""
import asyncio, base64, collections, json, sys, time

host, port, pid, scenario, n = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5])
client_id, client_secret, token = sys.argv[6], sys.argv[7], sys.argv[8]


def rss_mib():
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


async def request(method, path, headers, body, timeout=120):
    reader, writer = await asyncio.open_connection(host, port)
    head = f"{method} {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\nContent-Length: {len(body)}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    writer.write(head.encode() + body)
    await writer.drain()
    data = await asyncio.wait_for(reader.read(), timeout)
    writer.close()
    return int(data.split(b" ", 2)[1]) if data else 0


def form(pairs):
    from urllib.parse import urlencode
    return urlencode(pairs).encode()


async def main():
    peak = rss_mib()
    done = False

    async def sample():
        nonlocal peak
        while not done:
            peak = max(peak, rss_mib())
            await asyncio.sleep(0.005)

    sampler = asyncio.create_task(sample())
    basic = "Basic " + base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
    ctype = {"Content-Type": "application/x-www-form-urlencoded"}
    if scenario == "users":
        jobs = [request("POST", "/oauth2/token", {**ctype, "Authorization": basic},
                        form({"grant_type": "password", "username": f"nobody-{i}", "password": f"guess-{i}"}))
                for i in range(n)]
    elif scenario == "client":
        jobs = [request("POST", "/oauth2/token",
                        {**ctype, "Authorization": "Basic " + base64.b64encode(f"{client_id}:wrong-{i}".encode()).decode()},
                        form({"grant_type": "client_credentials"}))
                for i in range(n)]
    else:
        ops = [{"method": "POST", "path": "/Users", "bulkId": f"b{i}",
                "data": {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": f"bulk-{i}-{time.time()}",
                         "password": f"a password of user {i}"}} for i in range(n)]
        body = json.dumps({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": ops}).encode()
        jobs = [request("POST", "/scim/v2/Bulk", {"Content-Type": "application/scim+json",
                                                  "Authorization": f"Bearer {token}"}, body, timeout=600)]
    start = time.monotonic()
    statuses = await asyncio.gather(*jobs, return_exceptions=True)
    took = time.monotonic() - start
    done = True
    await sampler
    counts = collections.Counter(s if isinstance(s, int) else type(s).__name__ for s in statuses)
    shown = " ".join(f"{k}:{v}" for k, v in sorted(counts.items(), key=lambda kv: str(kv[0])))
    print(f"| {scenario} | {n} | {took:.1f} s | {shown} | {peak:.0f} MiB |")


asyncio.run(main())
