"""The portal in a real browser: Debian's Chromium, headless, driven by Playwright, against a
scimd the caller started (crates/scimd-server/tests/api/portal_browser.rs starts one, with
an operator and an invitation, and runs this script).

    .venv/bin/python tests/browser/portal_flows.py --base http://127.0.0.1:PORT \\
        --operator alice --password '...' --invite-url '/portal/invite?token=...' \\
        [--invite-tenant acme] [--screenshots DIR]

Each flow is a small function of a `Run` (the browser, the checks' tally) and the people
(`Portal`s) it needs; every page reached is checked (portal_kit.py: axe-core, the
Content-Security-Policy, phone width). Exit status 0 when every flow and every check
passed; otherwise the problems are listed and the status is 1.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from pathlib import Path

from playwright.sync_api import sync_playwright

# This script's folder is on the path (Python runs it as a script).
from portal_kit import Attacker, FlowError, Portal, Run, expect

NEW_TENANT = "Globex"
SYSTEM_USER_PASSWORD = "a long enough password for jane"


def operator_signs_in(run: Run, name: str, password: str) -> Portal:
    """Password, the authenticator enrolled at the first sign-in, then the tenants."""
    op = Portal(run, f"operator {name}")
    op.sign_in_operator(name, password, shots=True)
    expect(op.path() == "/portal/tenants", f"{name} landed on {op.path()}, not the tenants")
    expect(op.heading() == "Tenants", f"tenants page heading: {op.heading()!r}")
    return op


def operator_creates_tenant(run: Run, op: Portal, name: str, preset: str = "locker") -> None:
    """The tenants page's form: a name and a preset; the tenant's overview after."""
    op.goto("/portal/tenants")
    form = op.page.locator("form[action='/portal/tenants']")
    op.fill("Name", name)
    op.page.get_by_label("Preset", exact=True).select_option(preset)
    op.submit("Create tenant", form=form)
    expect(op.heading() == name, f"after creating {name}: heading {op.heading()!r}")
    expect(f"Tenant {name} created." in op.flash(), f"no confirmation: {op.flash()!r}")
    expect(preset in op.main_text(), f"the overview does not name the preset {preset}")
    op.goto(f"/portal/t/{name}", shot="portal-tenant-overview.png", phone_shot="portal-phone-tenant.png")
    op.goto("/portal/tenants", shot="portal-tenants.png")
    expect(op.page.get_by_role("link", name=name, exact=True).count() == 1, f"{name} is not in the list")


def operator_account(run: Run, op: Portal, name: str) -> None:
    op.follow(name, within=op.page.locator("nav.main"), shot="portal-account.png")
    expect(op.path() == "/portal/account", f"the account link led to {op.path()}")
    expect("Your sessions" in op.main_text(), "the account page lists no sessions")


def invitation_link(run: Run, op: Portal, tenant: str, email: str, given: str | None) -> str:
    """The one-time link a system user gets. Until the tenant's People page exists, the
    caller makes it beforehand (as `scimd system-user invite` does) and passes it; once it
    does, the operator invites through that page here and reads the link shown once."""
    expect(given is not None, "no --invite-url given (and no People page to invite from)")
    return given


def system_user_joins(run: Run, link: str, email: str, tenant: str) -> Portal:
    """The invitation: a password set once; then signing in lands on their tenant."""
    su = Portal(run, f"system user {email}")
    su.goto(link, shot="portal-invitation.png")
    expect(email in su.main_text(), "the invitation page does not name the person invited")
    su.fill("New password", SYSTEM_USER_PASSWORD)
    su.fill("Repeat the password", SYSTEM_USER_PASSWORD)
    su.submit("Set password")
    expect(su.path().startswith("/portal/login"), f"after setting the password: {su.path()}")
    expect("password is set" in su.flash(), f"no confirmation: {su.flash()!r}")
    # The link works once.
    su.goto(link, status=404)
    su.sign_in(email, SYSTEM_USER_PASSWORD)
    expect(su.path() == f"/portal/t/{tenant}", f"{email} landed on {su.path()}")
    expect(su.heading() == tenant, f"their home's heading: {su.heading()!r}")
    return su


def system_user_stays_in_their_tenant(run: Run, su: Portal, own: str, other: str) -> None:
    """Another tenant does not exist for them; the operators' list is refused."""
    su.goto(f"/portal/t/{other}", status=404)
    text = su.main_text()
    expect("SCIM base URL" not in text and "locker" not in text, f"the 404 page shows {other}'s data:\n{text}")
    expect(su.page.locator("nav.tabs").count() == 0, "the 404 page shows the other tenant's sections")
    su.goto("/portal/tenants", status=403)
    expect(su.page.locator("table").count() == 0, "the refused list of tenants shows a table")
    expect(su.page.locator("nav.main").get_by_role("link", name="Tenants").count() == 0, "a Tenants link for them")
    su.goto("/portal/")
    expect(su.path() == f"/portal/t/{own}", f"their home is {su.path()}")


def forged_forms_are_refused(run: Run, op: Portal) -> None:
    """Another site's page posts the form creating a tenant while the operator is signed
    in: without the form's token, then with a stolen one (the origin check alone). The
    portal refuses both; no tenant is made."""
    op.goto("/portal/tenants")
    stolen = op.page.locator("form[action='/portal/tenants'] input[name='_csrf']").get_attribute("value")
    attempts = [("no token", "ForgedGuess", "guessed"), ("a stolen token", "ForgedStolen", stolen or "")]
    for label, name, token in attempts:
        evil = Attacker(run.base + "/portal/tenants", {"_csrf": token, "name": name, "preset": "", "scim": "on"})
        try:
            the_post = lambda r: r.url.endswith("/portal/tenants") and r.request.method == "POST"  # noqa: E731
            with op.page.expect_response(the_post) as posted:
                op.page.goto(evil.url)
            res = posted.value
            expect(res.status == 403, f"forged form ({label}): answered {res.status}, expected 403")
            op.page.wait_for_url(lambda u: u.startswith(run.base))
            op.page.wait_for_load_state()
            refusal = op.main_text()
            expect("cannot be accepted" in refusal, f"forged form ({label}): the refusal says\n{refusal}")
            op.check()
        finally:
            evil.close()
        op.goto("/portal/tenants")
        expect(op.page.get_by_role("link", name=name).count() == 0, f"forged form ({label}) created {name}")


def signing_out_ends_the_session(run: Run, op: Portal) -> None:
    """Signed out, the session's old cookie opens nothing: the server ended it."""
    old = op.session_cookie()
    expect(old is not None, "no session cookie while signed in")
    op.sign_out()
    op.ctx.add_cookies([old])
    expect(op.session_cookie() is not None, "the old session cookie could not be put back")
    op.page.goto(op.url("/portal/tenants"))
    expect(op.path().startswith("/portal/login"), f"the ended session still opens {op.path()}")
    op.check()


def without_javascript(run: Run, operator: str, password: str, email: str, tenant: str) -> None:
    """The basic flows with JavaScript off: plain forms and redirects."""
    su = Portal(run, f"system user {email}", js=False)
    su.sign_in(email, SYSTEM_USER_PASSWORD)
    expect(su.path() == f"/portal/t/{tenant}", f"no-JS sign-in landed on {su.path()}")
    su.goto("/portal/account")
    su.submit("End every other session")
    expect(su.path() == "/portal/account", f"ending sessions led to {su.path()}")
    expect(su.page.locator("form[action='/portal/account/sessions/end'] input[name='id']").count() == 0,
           "other sessions are still listed")
    su.close()

    op = Portal(run, f"operator {operator}", js=False)
    op.sign_in_operator(operator, password)
    expect(op.path() == "/portal/tenants", f"no-JS operator landed on {op.path()}")
    form = op.page.locator("form[action='/portal/tenants']")
    op.fill("Name", "NoScript")
    op.submit("Create tenant", form=form)
    expect(op.heading() == "NoScript", f"no-JS tenant: heading {op.heading()!r}")
    op.sign_out()
    op.close()


def step(start: float, what: str) -> None:
    print(f"{time.monotonic() - start:5.1f}s {what}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", required=True, help="the server's root, http://127.0.0.1:PORT")
    ap.add_argument("--operator", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--invite-url", help="a system user's invitation link (a path or a URL)")
    ap.add_argument("--invite-tenant", default="acme", help="the tenant of the invitation")
    ap.add_argument("--invite-email", default="jane@acme.test", help="the email of the invitation")
    ap.add_argument("--screenshots", type=Path, help="save the book's screenshots here")
    args = ap.parse_args()

    start = time.monotonic()
    with sync_playwright() as pw:
        run = Run(pw, args.base, args.screenshots)
        try:
            step(start, "an operator signs in")
            op = operator_signs_in(run, args.operator, args.password)
            step(start, "the operator creates a tenant")
            operator_creates_tenant(run, op, NEW_TENANT)
            operator_account(run, op, args.operator)
            step(start, "a system user joins")
            link = invitation_link(run, op, args.invite_tenant, args.invite_email, args.invite_url)
            su = system_user_joins(run, link, args.invite_email, args.invite_tenant)
            system_user_stays_in_their_tenant(run, su, args.invite_tenant, NEW_TENANT)
            step(start, "forged forms")
            forged_forms_are_refused(run, op)
            step(start, "signing out")
            signing_out_ends_the_session(run, op)
            step(start, "without JavaScript")
            without_javascript(run, args.operator, args.password, args.invite_email, args.invite_tenant)
        except FlowError as e:
            run.problem("flow", str(e))
        except Exception:  # a step that could not run (a missing element, a timeout)
            run.problem("flow", traceback.format_exc())
        finally:
            run.close()

    for n in run.notes:
        print(f"note: {n}")
    if run.missing_assets:
        print(f"note: the portal's files not served: {', '.join(sorted(run.missing_assets))}")
    for s in run.shots:
        print(f"screenshot: {args.screenshots / s}")
    took = time.monotonic() - start
    checked = f"pages checked: {run.pages_checked} (axe-core on {run.axe_runs}, the others without JavaScript)"
    print(f"{checked}, problems: {len(run.problems)}, took {took:.1f}s")
    for p in run.problems:
        print(f"PROBLEM {p}")
    return 1 if run.problems else 0


if __name__ == "__main__":
    sys.exit(main())
