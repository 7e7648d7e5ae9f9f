"""Run every check of scim2-tester (PyPI) against a live scimd server.

Usage: run_scim2_tester.py --url http://127.0.0.1:PORT/scim/v2 --token TOKEN

Prints one line per check, then "N passed, M failed[, K skipped]". Exits 0 only when no
check reported an ERROR or CRITICAL status (RFC MUST violations) and, unless
--allow-deviation is given, no DEVIATION (SHOULD violations) either.
"""

import argparse
import sys

from httpx2 import Client
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server

PASSING = {Status.SUCCESS, Status.COMPLIANT, Status.ACCEPTABLE}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--allow-deviation", action="store_true")
    args = parser.parse_args()

    http = Client(base_url=args.url, headers={"Authorization": f"Bearer {args.token}"}, timeout=30)
    client = SyncSCIMClient(http)
    results = check_server(client)

    passed = failed = skipped = 0
    for r in results:
        status = r.status
        if status == Status.SKIPPED:
            skipped += 1
            mark = "SKIP"
        elif status in PASSING or (status == Status.DEVIATION and args.allow_deviation):
            passed += 1
            mark = "ok  "
        else:
            failed += 1
            mark = "FAIL"
        rt = f"[{r.resource_type}] " if getattr(r, "resource_type", None) else ""
        reason = f" -- {r.reason}" if r.reason and mark != "ok  " else ""
        print(f"{mark} {status.name:<10} {rt}{r.title}{reason}")
    summary = f"{passed} passed, {failed} failed"
    if skipped:
        summary += f", {skipped} skipped"
    print(summary)
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
