//! The external conformance checker `scim2-tester` (PyPI; nobody here wrote it) runs every
//! one of its checks against the live server; all must pass.
//!
//! Needs the virtualenv made by `scripts/setup-venv` (or `SCIMD_PYTHON` pointing at a Python
//! that has scim2-tester installed). A missing checker is a failure, not a skip.

use std::path::PathBuf;

use crate::common::TestServer;

fn python() -> PathBuf {
    if let Ok(p) = std::env::var("SCIMD_PYTHON") {
        return PathBuf::from(p);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scim2_tester_passes_every_check() {
    let s = TestServer::start().await;
    let py = python();
    assert!(py.exists(), "scim2-tester is not installed: run scripts/setup-venv (looked for {})", py.display());
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/conformance/run_scim2_tester.py");
    let url = format!("http://{}/scim/v2", s.addr);
    let token = s.token.clone();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(py).arg(script).args(["--url", &url, "--token", &token]).output()
    })
    .await
    .unwrap()
    .expect("run scim2-tester");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let summary = stdout.lines().last().unwrap_or_default().to_string();
    assert!(
        out.status.success(),
        "scim2-tester reported failures ({summary}):\n{}\n{stderr}",
        stdout.lines().filter(|l| !l.starts_with("ok")).collect::<Vec<_>>().join("\n")
    );
    let passed: u32 = summary.split(' ').next().and_then(|n| n.parse().ok()).unwrap_or(0);
    assert!(passed >= 100, "scim2-tester ran too few checks: {summary}");
    println!("scim2-tester: {summary}");
}
