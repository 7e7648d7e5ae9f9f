"""The portal in a real browser: Debian's Chromium, headless, driven by Playwright, against a
scimd the caller started (crates/scimd-server/tests/api/portal_browser.rs starts one, with
an operator and a local OpenID Connect provider, and runs this script).

    .venv/bin/python tests/browser/portal_flows.py --base http://127.0.0.1:PORT \\
        --operator alice --password '...' [--invite-tenant acme] \\
        [--oidc-issuer URL --oidc-client-id ID --oidc-client-secret S] [--screenshots DIR]

Each flow is a small function of a `Run` (the browser, the checks' tally) and the people
(`Portal`s) it needs; every page reached is checked (portal_kit.py: axe-core, the
Content-Security-Policy, phone width). Exit status 0 when every flow and every check
passed; otherwise the problems are listed and the status is 1.
"""

from __future__ import annotations

import argparse
import base64
import json
import re
import sys
import tempfile
import time
import traceback
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.error import HTTPError
from urllib.parse import urlencode, urlsplit
from urllib.request import Request, urlopen

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


def operator_issues_a_client_secret(run: Run, op: Portal, tenant: str) -> None:
    """The Credentials page: a new OAuth client for the tenant, its secret shown once with a
    copy button; the secret then gets an access token from the authorization server."""
    op.goto(f"/portal/t/{tenant}/credentials")
    form = op.page.locator("form[action$='/credentials/clients']")
    op.fill("Scopes", "scim")
    op.submit("Create a client", form=form, shot="portal-credentials-secret.png")
    shown = op.page.locator(".secret-once")
    expect(shown.count() == 1, "the new client's secret is not shown")
    secret = shown.locator("#shown-secret").inner_text().strip()
    client_id = shown.locator("dd code").first.inner_text().strip()
    expect(len(secret) >= 20 and client_id != "", f"client {client_id!r}, secret of {len(secret)} characters")
    copy = shown.get_by_role("button", name="Copy")
    expect(copy.is_visible(), "no copy button beside the secret")
    copy.click()
    status = shown.locator(".copy-status")
    status.filter(has_text="Cop").wait_for()
    expect(status.inner_text().startswith(("Copied", "Copy failed")), f"copy said {status.inner_text()!r}")
    # The page is not cached and the secret is gone from the next one.
    op.goto(f"/portal/t/{tenant}/credentials")
    expect(secret not in op.page.content(), "the secret is shown again")
    expect(f"<code>{client_id}</code>" in op.page.content(), f"the client {client_id} is not listed")

    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    req = Request(
        run.base + "/oauth2/token",
        data=urlencode({"grant_type": "client_credentials"}).encode(),
        headers={"Authorization": f"Basic {basic}", "Content-Type": "application/x-www-form-urlencoded"},
    )
    try:
        with urlopen(req, timeout=10) as res:
            status_code, body = res.status, json.load(res)
    except HTTPError as e:
        status_code, body = e.code, e.read().decode(errors="replace")
    expect(status_code == 200, f"the new secret got no token: {status_code} {body}")
    expect(isinstance(body, dict) and body.get("access_token"), f"no access token in {body}")


def invitation_link(run: Run, op: Portal, tenant: str, email: str) -> str:
    """The People page: the operator invites a system user; the one-time link is shown once."""
    op.goto(f"/portal/t/{tenant}/people")
    op.fill("Email", email)
    op.submit("Invite", form=op.page.locator("form[action$='/people/invite']"), shot="portal-people-invitation.png")
    shown = op.page.locator(".secret-once")
    expect(shown.count() == 1, "the invitation link is not shown")
    expect(email in shown.inner_text(), "the invitation does not name the person")
    link = shown.locator("#shown-secret").inner_text().strip()
    expect("/portal/invite" in link, f"the invitation link: {link!r}")
    expect(email in op.main_text(), f"{email} is not listed among the tenant's people")
    return link


def operator_sets_up_sso(run: Run, op: Portal, tenant: str, issuer: str, client_id: str, secret: str) -> None:
    """The People page's single sign-on form: the tenant's provider, its people by domain."""
    op.goto(f"/portal/t/{tenant}/people")
    form = op.page.locator("form[action$='/people/sso']")
    op.fill("Issuer", issuer)
    op.fill("Client id", client_id)
    op.fill("Client secret", secret)
    op.fill("Allowed email domains", "example.com")
    op.submit("Save single sign-on", form=form)
    expect("Single sign-on is set up." in op.main_text(), f"SSO not set up:\n{op.main_text()[:800]}")


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


IMPORT_CSV = (
    "id,userName,givenName,familyName,email,active\n"
    "imp-1,ada.lovelace,Ada,Lovelace,ada@acme.test,true\n"
    "imp-2,alan.turing,Alan,Turing,alan@acme.test,true\n"
    "imp-3,grace.hopper,Grace,Hopper,grace@acme.test,true\n"
)


def system_user_imports_csv(run: Run, su: Portal, tenant: str) -> None:
    """Users → Import: a CSV file read into the form (by the page's script), a preview
    listing the rows, the import confirmed; the users found with a SCIM filter."""
    su.goto(f"/portal/t/{tenant}/users")
    su.follow("Import a CSV file")
    # The page's script shows the file input once it has bound it.
    su.page.locator("#csv-file").wait_for(state="visible")
    with tempfile.TemporaryDirectory() as d:
        f = Path(d) / "users.csv"
        f.write_text(IMPORT_CSV)
        su.page.get_by_label("Read a CSV file into the box below").set_input_files(str(f))
    box = su.page.get_by_label("CSV", exact=True)
    su.page.wait_for_function("() => document.querySelector('#csv').value.includes('imp-3')")
    expect(box.input_value() == IMPORT_CSV, "the file was not read into the form")
    su.submit("Preview", form=su.page.locator("form[action$='/users/import']"), shot="portal-import-preview.png")
    text = su.main_text()
    expect("Nothing has been written yet" in text and "3 to create" in text, f"the preview says:\n{text[:800]}")
    for name in ("ada.lovelace", "alan.turing", "grace.hopper"):
        expect(name in text, f"{name} is not in the preview")
    su.submit("Import 3 users")
    expect("3 users imported." in su.flash(), f"after the import: {su.flash()!r}")
    su.goto(f"/portal/t/{tenant}/users")
    su.fill("Filter", 'userName sw "a"')
    su.submit("Search", form=su.page.locator("form[role='search']"), shot="portal-users.png")
    rows = su.page.locator("table.data tbody").inner_text()
    expect("ada.lovelace" in rows and "alan.turing" in rows, f"the filter found:\n{rows}")
    expect("grace.hopper" not in rows, "the filter did not filter")


def system_user_grants_a_bank(run: Run, su: Portal, tenant: str) -> None:
    """Places: a location, a section and a bank added; Groups: a group with a member;
    Places: the group granted the bank; the member's effective access shows it."""
    su.goto(f"/portal/t/{tenant}/places")
    add = su.page.locator("form[action$='/places/add']")
    for level, key, name, parent in (
        ("location", "hq", "Head office", ""),
        ("section", "s1", "First floor", "hq"),
        ("bank", "b1", "Bank by the lifts", "s1"),
    ):
        add.get_by_label("Level", exact=True).select_option(level)
        add.get_by_label("Key", exact=True).fill(key)
        su.fill("Name", name)
        su.fill("Under (the key of its location, section or bank)", parent)
        su.submit("Add", form=add)
    expect("1 location · 1 section · 1 bank" in su.main_text(), f"the tree:\n{su.main_text()[:600]}")

    su.goto(f"/portal/t/{tenant}/groups")
    su.fill("displayName", "Crew")
    su.submit("Create group", form=su.page.locator("form[action$='/groups']"))
    expect(su.heading() == "Crew", f"after creating the group: {su.heading()!r}")
    su.fill("Add a member (userName)", "ada.lovelace")
    su.submit("Add", form=su.page.locator("form[action$='/members']"))
    expect("ada.lovelace" in su.main_text(), "the member is not listed")

    su.goto(f"/portal/t/{tenant}/places")
    grant = su.page.locator("form[action$='/places/grant']")
    su.fill("Group (displayName or id)", "Crew")
    grant.get_by_label("Level").select_option("bank")
    su.fill("Place key", "b1")
    su.submit("Grant", form=grant, shot="portal-places.png")
    expect("Crew may use b1 now." in su.flash(), f"after the grant: {su.flash()!r}")
    su.fill("User (userName or id)", "ada.lovelace")
    su.submit("Show access", shot="portal-access.png")
    expect(su.heading() == "Access of ada.lovelace", f"the access page: {su.heading()!r}")
    banks = su.page.locator("section[aria-labelledby='banks-h']").inner_text()
    expect("b1" in banks and "Banks (1)" in banks, f"ada's banks:\n{banks}")


def golive_submitted_and_approved(run: Run, su: Portal, op: Portal, tenant: str) -> None:
    """Go-live: the system user submits a test run (its UTC window typed, its figures); the
    review shows claimed beside computed and no decision forms to them. The operator
    approves it: the production tenant is made, linked from the answer, and the system
    user then opens that tenant too."""
    utc = lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ")  # noqa: E731
    now = datetime.now(timezone.utc)
    su.goto(f"/portal/t/{tenant}/golive")
    form = su.page.locator(f"form[method='post'][action='/portal/t/{tenant}/golive']")
    su.fill("Started (UTC)", utc(now - timedelta(minutes=30)))
    su.fill("Finished (UTC)", utc(now))
    su.fill("Users created", "3")
    su.submit("Submit the test run", form=form, shot="portal-golive-submitted.png")
    expect(re.match(rf"/portal/t/{tenant}/golive/\d+(\?|$)", su.path()) is not None, f"submitted to {su.path()}")
    expect("submitted" in su.flash(), f"no confirmation: {su.flash()!r}")
    expect(su.page.locator("table#compare tbody tr").count() == 5, "the review does not list the five figures")
    expect(su.page.get_by_role("button", name="Approve").count() == 0, "a system user is offered to approve")
    review = su.path().split("?")[0]

    op.goto(review, shot="portal-golive-review.png")
    expect(op.page.locator("#agreement").inner_text().strip() != "", "the review says nothing of the agreement")
    op.submit("Approve", form=op.page.locator("form[action$='/approve']"), shot="portal-golive-approved.png")
    decision = op.page.locator("#decision")
    expect(decision.get_by_role("heading", name="Approved").count() == 1, f"after approving:\n{op.main_text()[:600]}")
    production = f"{tenant}-production"
    op.follow(production, within=decision)
    expect(op.heading() == production, f"the production tenant's page: {op.heading()!r}")
    expect("production" in op.main_text(), "the production tenant does not say its stage")

    su.goto(f"/portal/t/{tenant}")
    su.follow(production, within=su.page.locator("main"))
    expect(su.heading() == production, f"the system user's other stage: {su.heading()!r}")


def refresh_target(page) -> str:
    """Where a page's `<meta http-equiv="refresh">` moves on to."""
    content = page.locator("meta[http-equiv='refresh']").get_attribute("content") or ""
    return content.split("url=", 1)[1] if "url=" in content else ""


def sso_sign_in(run: Run, tenant: str, issuer: str) -> None:
    """The sign-in page's "Continue with SSO": a page moving on to the tenant's provider,
    the local provider answering at once (Ann of example.com), the portal's callback page
    moving on to the tenant."""
    # The two pages that move on by themselves are checked first: their moves are stopped
    # (an aborted navigation leaves the page in place) while they are checked.
    pages = Portal(run, "SSO pages")
    pages.goto("/portal/login")
    at_provider = lambda u: u.startswith(issuer)  # noqa: E731
    home = lambda u: urlsplit(u).path == "/portal/"  # noqa: E731
    pages.page.route(at_provider, lambda route: route.abort("aborted"))
    pages.fill("Your company's tenant name", tenant)
    with pages.page.expect_event("requestfailed", predicate=lambda r: at_provider(r.url)):
        pages.submit("Continue with SSO")
    expect(pages.path().startswith("/portal/sso?"), f"the SSO form led to {pages.path()}")
    provider = refresh_target(pages.page)
    expect(provider.startswith(issuer), f"the start page moves on to {provider!r}")
    pages.page.unroute(at_provider)
    pages.page.route(home, lambda route: route.abort("aborted"))
    with pages.page.expect_event("requestfailed", predicate=lambda r: home(r.url)):
        res = pages.page.goto(provider)
    expect(res is not None and res.status == 200, f"the callback answered {res and res.status}")
    expect(pages.path().startswith("/portal/sso/callback"), f"the provider sent back to {pages.path()}")
    pages.check()
    expect(pages.heading() == "Signed in", f"the callback page: {pages.heading()!r}")
    pages.close()

    # Then the whole trip as a person makes it, every move the browser's own.
    sso = Portal(run, "SSO user ann@example.com")
    sso.goto("/portal/login")
    sso.fill("Your company's tenant name", tenant)
    with sso.page.expect_navigation(url=lambda u: urlsplit(u).path == f"/portal/t/{tenant}") as nav:
        sso.page.get_by_role("button", name="Continue with SSO").click()
    expect(nav.value is not None and nav.value.status == 200, "the portal after SSO did not open")
    sso.check()
    expect(sso.heading() == tenant, f"after SSO: heading {sso.heading()!r}")
    expect(sso.page.locator("nav.main").get_by_role("link", name="Tenants").count() == 0, "SSO user sees Tenants")
    sso.close()


def operator_views_the_audit(run: Run, op: Portal, tenant: str) -> None:
    """The tenant's go-live summary (with its chart) and audit events, for the book."""
    op.goto(f"/portal/t/{tenant}/golive", shot="portal-golive.png")
    op.page.locator(".chart canvas").first.wait_for()
    op.goto(f"/portal/t/{tenant}/audit", shot="portal-audit.png")
    expect(op.page.locator("table.data tbody tr").count() > 0, "no audit event listed")


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
    # The import's file input needs the page's script: without it, the person pastes.
    su.goto(f"/portal/t/{tenant}/users/import")
    expect(not su.page.locator("#csv-file").is_visible(), "a file input that does nothing without JavaScript")
    expect(su.page.get_by_label("CSV", exact=True).is_visible(), "no box to paste the CSV in")
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
    ap.add_argument("--invite-tenant", default="acme", help="the tenant the system users work in")
    ap.add_argument("--invite-email", default="jane@acme.test", help="the email the operator invites")
    ap.add_argument("--oidc-issuer", help="an OpenID Connect provider for the tenant's SSO (skipped without)")
    ap.add_argument("--oidc-client-id", default="scimd-portal")
    ap.add_argument("--oidc-client-secret", default="")
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
            tenant = args.invite_tenant
            step(start, "the operator issues a client secret")
            operator_issues_a_client_secret(run, op, tenant)
            step(start, "the operator invites a system user")
            link = invitation_link(run, op, tenant, args.invite_email)
            if args.oidc_issuer:
                operator_sets_up_sso(run, op, tenant, args.oidc_issuer, args.oidc_client_id, args.oidc_client_secret)
            step(start, "the system user joins")
            su = system_user_joins(run, link, args.invite_email, tenant)
            system_user_stays_in_their_tenant(run, su, tenant, NEW_TENANT)
            step(start, "the system user imports a CSV")
            system_user_imports_csv(run, su, tenant)
            step(start, "the system user grants a group a bank")
            system_user_grants_a_bank(run, su, tenant)
            # The go-live flow runs in the tenant made above: a new tenant is in the
            # integration stage (the test server's own tenant is production already).
            step(start, "go-live: a test run submitted, reviewed and approved")
            kim = "kim@globex.test"
            su2 = system_user_joins(run, invitation_link(run, op, NEW_TENANT, kim), kim, NEW_TENANT)
            golive_submitted_and_approved(run, su2, op, NEW_TENANT)
            su2.close()
            if args.oidc_issuer:
                step(start, "single sign-on")
                sso_sign_in(run, tenant, args.oidc_issuer)
            else:
                run.notes.append("single sign-on not tried: no --oidc-issuer")
            operator_views_the_audit(run, op, tenant)
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
