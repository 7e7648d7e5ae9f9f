"""What the portal's browser flows stand on: Debian's Chromium driven by Playwright, and a
`Portal` per person (their own browser context: cookies, viewport, JavaScript on or off)
whose every page is checked the same way:

- axe-core finds no violation of impact serious or critical (with JavaScript on: axe is
  a script itself);
- the console shows no Content-Security-Policy violation;
- at phone width (375 x 812) the document does not scroll sideways (a table scrolls
  inside its own `.table-wrap`, the document does not);
- with --screenshots, the pages the book shows are saved as PNG.

A check that fails is recorded and the flow goes on, so one run reports every page's
problems; a flow's own expectation that fails (`expect`) stops the run.
"""

from __future__ import annotations

import http.server
import threading
import time
from html import escape
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pyotp
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, Response

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 812}
BLOCKING = ("serious", "critical")

# The elements sticking out on the right of a phone-width page, outermost first, with
# whether a `.table-wrap` holds them (the stylesheet makes that wrapper scroll).
OVERFLOW_JS = """() => {
  const limit = window.innerWidth + 1;
  const out = [];
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.right <= limit || (el.parentElement && out.some(o => o.el.contains(el)))) continue;
    const name = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
      (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
    out.push({el, name, right: Math.round(r.right), wrapped: !!el.closest('.table-wrap')});
  }
  const outside = out.filter(o => !o.wrapped).length;
  return {
    styled: [...document.styleSheets].some(s => {
      try { return s.href && s.href.includes('/portal/static/') && s.cssRules.length > 0; } catch (e) { return false; }
    }),
    scroll: document.documentElement.scrollWidth,
    inner: window.innerWidth,
    outside,
    offenders: out.slice(0, 8).map(o =>
      `${o.name} (right edge ${o.right}px${o.wrapped ? ', inside .table-wrap' : ''})`),
  };
}"""


class FlowError(AssertionError):
    """A flow's expectation that did not hold."""


def expect(cond: bool, what: str) -> None:
    if not cond:
        raise FlowError(what)


class Run:
    """One browser for the whole run, the tallies of the checks, the operators' keys."""

    def __init__(self, playwright, base: str, screenshots: Path | None):
        self.base = base.rstrip("/")
        self.browser: Browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        self.axe = Axe()
        self.screenshots = screenshots
        if screenshots:
            screenshots.mkdir(parents=True, exist_ok=True)
        self.pages_checked = 0
        self.axe_runs = 0
        self.problems: list[str] = []
        self.notes: list[str] = []
        self.shots: list[str] = []
        # The portal's files a page asked for and did not get.
        self.missing_assets: set[str] = set()
        # An operator's authenticator: its key and the last time step a code was made for
        # (a code is good once, so each sign-in uses a later step than the last).
        self.totp: dict[str, tuple[str, int]] = {}

    def problem(self, where: str, what: str) -> None:
        self.problems.append(f"{where}: {what}")

    def code(self, operator: str) -> str:
        secret, last = self.totp[operator]
        step = max(int(time.time()) // 30, last + 1)
        self.totp[operator] = (secret, step)
        return pyotp.TOTP(secret).at(step * 30)

    def close(self) -> None:
        self.browser.close()


class Portal:
    """A person at their browser: every page they reach goes through `check`."""

    def __init__(self, run: Run, who: str, js: bool = True):
        self.run, self.who, self.js = run, who, js
        self.ctx = run.browser.new_context(base_url=run.base, viewport=DESKTOP, java_script_enabled=js)
        # A step waits this long at most (an element, a navigation): a hang fails quickly.
        self.ctx.set_default_timeout(10_000)
        self.page: Page = self.ctx.new_page()
        self.csp: list[str] = []
        self.failed_assets: set[str] = set()
        self.page.on("console", self._console)
        # A form with data-confirm asks first; the person says yes.
        self.page.on("dialog", lambda d: d.accept())
        self.page.on("requestfailed", lambda r: self._asset_missing(r.url))
        self.page.on("response", lambda r: r.status >= 400 and self._asset_missing(r.url))

    def _console(self, msg) -> None:
        if "Content Security Policy" in msg.text or "Content-Security-Policy" in msg.text:
            self.csp.append(msg.text)

    def _asset_missing(self, url: str) -> None:
        if "/portal/static/" in url:
            self.failed_assets.add(urlsplit(url).path)

    # -- moving around -------------------------------------------------------------

    def url(self, path: str) -> str:
        return urljoin(self.run.base + "/", path)

    def path(self) -> str:
        u = urlsplit(self.page.url)
        return u.path + (f"?{u.query}" if u.query else "")

    def goto(self, path: str, status: int = 200, shot: str | None = None, phone_shot: str | None = None) -> Response:
        res = self.page.goto(self.url(path))
        expect(res is not None, f"{self.who}: no answer for {path}")
        expect(res.status == status, f"{self.who}: GET {path} answered {res.status}, expected {status}")
        self.check(shot, phone_shot)
        return res

    def submit(self, button: str, status: int = 200, shot: str | None = None, form=None) -> Response:
        """Clicks the submit button named `button` (in `form`, a locator, if given) and waits
        for the page the form leads to (after its redirects)."""
        scope = form if form is not None else self.page
        with self.page.expect_navigation() as nav:
            scope.get_by_role("button", name=button, exact=True).click()
        res = nav.value
        expect(res is not None, f"{self.who}: {button}: no answer")
        expect(
            res.status == status,
            f"{self.who}: {button} answered {res.status} at {self.path()}, expected {status}\n{self.main_text()[:500]}",
        )
        self.check(shot)
        return res

    def follow(self, link: str, within=None, shot: str | None = None) -> Response:
        """Clicks the link named `link` (in `within`, a locator, if given); the page it opens."""
        scope = within if within is not None else self.page
        with self.page.expect_navigation() as nav:
            scope.get_by_role("link", name=link, exact=True).click()
        res = nav.value
        expect(res is not None and res.status == 200, f"{self.who}: the link {link} answered {res and res.status}")
        self.check(shot)
        return res

    def fill(self, label: str, value: str) -> None:
        self.page.get_by_label(label, exact=True).fill(value)

    # -- what is on the page -------------------------------------------------------

    def heading(self) -> str:
        return self.page.locator("h1").inner_text().strip()

    def main_text(self) -> str:
        return self.page.locator("main").inner_text()

    def flash(self) -> str:
        f = self.page.locator(".flash")
        return f.inner_text().strip() if f.count() else ""

    # -- signing in and out --------------------------------------------------------

    def sign_in(self, login: str, password: str, status: int = 200, shot: str | None = None) -> Response:
        """The sign-in form; the page it leads to (with its redirects)."""
        if not self.path().startswith("/portal/login"):
            self.goto("/portal/login", shot=shot)
        self.fill("Email or username", login)
        self.fill("Password", password)
        form = self.page.locator("form[action='/portal/login']")
        return self.submit("Sign in", status=status, form=form)

    def sign_in_operator(self, name: str, password: str, shots: bool = False) -> None:
        """Password, then the second step: the enrolment at the first sign-in (the key read
        from the page, as a person types it into their authenticator), a code after."""
        self.sign_in(name, password, shot="portal-sign-in.png" if shots else None)
        expect(self.path().startswith("/portal/login/code"), f"{name}: no second step, at {self.path()}")
        secret = self.page.locator("#totp-secret")
        if secret.count():
            self.run.totp[name] = (secret.inner_text().strip().replace(" ", ""), 0)
            if shots:
                self.screenshot("portal-totp-enrolment.png")
        expect(name in self.run.totp, f"{name}: asked for a code but no key was ever shown")
        self.fill("Code", self.run.code(name))
        self.submit("Verify")

    def sign_out(self) -> None:
        with self.page.expect_navigation() as nav:
            self.page.locator("header").get_by_role("button", name="Sign out").click()
        expect(nav.value is not None and nav.value.status == 200, f"{self.who}: signing out failed")
        expect(self.path().startswith("/portal/login"), f"{self.who}: signed out to {self.path()}")
        self.check()

    def session_cookie(self) -> dict | None:
        return next((c for c in self.ctx.cookies() if c["name"] == "__Host-scimd_session"), None)

    # -- the checks every page gets ------------------------------------------------

    def check(self, shot: str | None = None, phone_shot: str | None = None) -> None:
        where = f"{self.who} {self.path()}" + ("" if self.js else " (no JavaScript)")
        self.run.pages_checked += 1
        # axe-core runs as a script in the page, and waits on timers a page without
        # JavaScript never fires: those pages (the same as with it) are checked with it on.
        if self.js:
            self._axe(where)
        if self.csp:
            for m in self.csp:
                self.run.problem(where, f"Content-Security-Policy violation: {m}")
            self.csp.clear()
        self.run.missing_assets |= self.failed_assets
        self.failed_assets.clear()
        if shot:
            self.screenshot(shot)
        self._phone(where, phone_shot)

    def _axe(self, where: str) -> None:
        self.run.axe_runs += 1
        results = self.run.axe.run(self.page).response
        for v in results["violations"]:
            if v.get("impact") in BLOCKING:
                nodes = "; ".join(" ".join(map(str, n["target"])) for n in v["nodes"][:5])
                self.run.problem(where, f"axe {v['impact']} {v['id']}: {v['help']} [{nodes}]")
            else:
                self.run.notes.append(f"{where}: axe {v.get('impact')} {v['id']}: {v['help']}")

    def _phone(self, where: str, shot: str | None) -> None:
        self.page.set_viewport_size(PHONE)
        try:
            if self.js:
                # What the page does on a resize (a chart takes its new width) runs on the
                # next animation frame: measure after it.
                self.page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
            o = self.page.evaluate(OVERFLOW_JS)
            if o["scroll"] > o["inner"] + 1:
                wide = f"at phone width the page is {o['scroll']}px wide for {o['inner']}px"
                what = f"{wide}: {', '.join(o['offenders'])}"
                # Without the portal's stylesheet a `.table-wrap` does not scroll yet: a
                # table in one is then noted, anything else is a problem.
                if o["outside"] == 0 and not o["styled"]:
                    self.run.notes.append(f"{where}: {what} (no portal stylesheet served)")
                else:
                    self.run.problem(where, what)
            if shot:
                self.screenshot(shot)
        finally:
            self.page.set_viewport_size(DESKTOP)

    def screenshot(self, name: str) -> None:
        if not self.run.screenshots:
            return
        self.page.screenshot(path=str(self.run.screenshots / name), full_page=True)
        self.run.shots.append(name)

    def close(self) -> None:
        self.ctx.close()


class Attacker:
    """Another site (another origin: the same loopback address on another port) whose page
    posts a form to the portal as soon as it opens, as a forged form would. Its page may
    have inline script: it is not the portal."""

    def __init__(self, action: str, fields: dict[str, str]):
        inputs = "".join(f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">' for k, v in fields.items())
        page = (
            "<!doctype html><title>Win a prize</title>"
            f'<form id="f" method="post" action="{escape(action)}">{inputs}</form>'
            "<script>document.getElementById('f').submit()</script>"
        ).encode()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (the standard library's name)
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
