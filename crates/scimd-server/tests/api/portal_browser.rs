//! The portal in a real browser: Debian's Chromium, driven by Playwright from
//! `tests/browser/portal_flows.py` (at the repository's root), against this test server.
//! The flows: an operator signs in and enrols their authenticator, creates a tenant from a
//! preset, issues an OAuth client's secret (which then gets a token), invites a system user
//! and sets up the tenant's single sign-on on the People page; the system user sets a
//! password through the invitation, signs in, sees only their tenant, imports a CSV file,
//! grants a group a bank and sees a member's access, submits a go-live test run that the
//! operator reviews and approves (the production tenant, which the system user then opens
//! too); a person signs in through the local
//! OpenID Connect provider; a form posted by another site is refused; signing out ends the
//! session; the basic flows again with JavaScript off. Every page is checked with axe-core (no
//! serious or critical violation), for Content-Security-Policy violations, and at phone
//! width for sideways scrolling.
//!
//! Needs `/usr/bin/chromium` and the virtualenv of `scripts/setup-venv` (or `SCIMD_PYTHON`).
//! Without them the test is skipped with a message, except in CI (`CI` set), where it
//! fails. `SCIMD_PORTAL_SCREENSHOTS=DIR` saves the book's screenshots of the portal there.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::common::TestServer;
use super::oidc_client::mock;
use super::portal::{OPERATOR_PASSWORD, operator};

const CHROMIUM: &str = "/usr/bin/chromium";
/// The flows take seconds; this bounds a browser that hangs.
const LIMIT: Duration = Duration::from_secs(180);

fn root() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    root.canonicalize().unwrap_or(root)
}

fn python() -> PathBuf {
    std::env::var_os("SCIMD_PYTHON").map(PathBuf::from).unwrap_or_else(|| root().join(".venv/bin/python"))
}

/// Why the browser tests cannot run here, if they cannot.
fn missing(py: &Path) -> Option<String> {
    if !Path::new(CHROMIUM).exists() {
        return Some(format!("{CHROMIUM} is missing (apt-get install chromium chromium-driver)"));
    }
    let imports = Command::new(py)
        .args(["-c", "import playwright, axe_playwright_python, pyotp"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    match imports {
        Ok(s) if s.success() => None,
        _ => Some(format!("{} lacks Playwright, axe or pyotp (run scripts/setup-venv)", py.display())),
    }
}

/// Runs the flows script to its end (killed past `LIMIT`): its exit status and output.
fn run_flows(py: &Path, args: &[String]) -> (Option<i32>, String) {
    let out = tempfile::NamedTempFile::new().unwrap();
    let mut child = Command::new(py)
        .arg("-u")
        .arg(root().join("tests/browser/portal_flows.py"))
        .args(args)
        .current_dir(root())
        .stdout(out.reopen().unwrap())
        .stderr(out.reopen().unwrap())
        .spawn()
        .expect("start the browser flows");
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s.code();
        }
        if start.elapsed() > LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    (status, std::fs::read_to_string(out.path()).unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_portal_works_in_a_real_browser() {
    let py = python();
    if let Some(why) = missing(&py) {
        assert!(std::env::var_os("CI").is_none(), "the portal's browser tests must run in CI: {why}");
        eprintln!("skipped: the portal's browser tests need Chromium and Playwright: {why}");
        return;
    }
    let s = TestServer::start().await;
    operator(&s, "alice").await;
    // The tenant's OpenID Connect provider (on loopback; it signs Ann of example.com in at once).
    let oidc = mock::start().await;
    oidc.allow_redirect_uri(&s.root("/portal/sso/callback"));

    let mut args: Vec<String> = vec![
        "--base".into(),
        s.root(""),
        "--operator".into(),
        "alice".into(),
        "--password".into(),
        OPERATOR_PASSWORD.into(),
        "--invite-tenant".into(),
        "acme".into(),
        "--invite-email".into(),
        "jane@acme.test".into(),
        "--oidc-issuer".into(),
        oidc.issuer().into(),
        "--oidc-client-id".into(),
        mock::CLIENT_ID.into(),
        "--oidc-client-secret".into(),
        mock::CLIENT_SECRET.into(),
    ];
    if let Some(dir) = std::env::var_os("SCIMD_PORTAL_SCREENSHOTS") {
        args.extend(["--screenshots".into(), dir.to_string_lossy().into_owned()]);
    }
    let (status, output) = tokio::task::spawn_blocking(move || run_flows(&py, &args)).await.unwrap();
    match status {
        Some(0) => println!("{output}"),
        Some(code) => panic!("the browser flows failed (exit status {code}):\n{output}"),
        None => panic!("the browser flows did not finish within {LIMIT:?} (or were killed):\n{output}"),
    }
}
