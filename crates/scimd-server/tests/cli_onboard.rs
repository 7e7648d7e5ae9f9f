//! Onboarding from the command line without an email relay or SMS gateway, as an operator
//! runs it before configuring them: `scimd onboard` prints each link and the secret once
//! (and says why), `onboard messages` lists what was handed over without a secret, `tenant
//! promote` copies the set-up, and `scimd golive list|show|reject|approve` decide a test run
//! a customer submitted to the running server.

use serde_json::{Value, json};

#[path = "support/process.rs"]
mod process;
#[path = "support/serve.rs"]
mod serve;
use process::{run, run_ok};
use serve::{Server, scimd};

#[test]
fn onboarding_without_a_relay_prints_what_it_would_send() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("onboard.db").to_string_lossy().into_owned();
    let made = run_ok(scimd(&db).args(["tenant", "create", "acme", "--preset", "locker"]));
    assert!(made.starts_with("created integration tenant acme"), "{made}");
    run_ok(scimd(&db).args(["group", "create", "--tenant", "acme", "--id", "staff", "Staff"]));

    let printed = run_ok(scimd(&db).args([
        "onboard",
        "--tenant",
        "acme",
        "--api-user-email",
        "svc@acme.test",
        "--secret-mobile",
        "+31612345678",
    ]));
    assert!(printed.contains("API user svc+integration@acme.test (made)"), "{printed}");
    let link_line = printed.lines().find(|l| l.contains("set-password link")).unwrap();
    assert!(
        link_line.contains("no email relay configured") && link_line.contains("/portal/set-password?token="),
        "{printed}"
    );
    let secret_line = printed.lines().find(|l| l.contains("client secret")).unwrap();
    assert!(secret_line.contains("no SMS gateway configured"), "{printed}");
    let secret = secret_line.rsplit(' ').next().unwrap();
    assert!(secret.starts_with("scimd_cs_"), "{printed}");

    let json_out: Value = serde_json::from_str(&run_ok(scimd(&db).args([
        "onboard",
        "--tenant",
        "acme",
        "--json",
        "--system-user-email",
        "jane@acme.test",
    ])))
    .unwrap();
    assert_eq!(json_out["api_user"]["created"], false, "the stored contacts are used: {json_out}");
    assert_eq!(json_out["system_users"][0]["email"], "jane@acme.test");

    let listed = run_ok(scimd(&db).args(["system-user", "list", "--tenant", "acme"]));
    assert!(listed.starts_with("jane@acme.test\t") && listed.trim_end().ends_with("\tinvited"), "{listed}");
    run_ok(scimd(&db).args(["onboard", "revoke", "--tenant", "acme", "--system-user", "jane@acme.test"]));
    let listed = run_ok(scimd(&db).args(["system-user", "list", "--tenant", "acme"]));
    assert!(listed.trim_end().ends_with("\tno-link"), "the signup link revoked: {listed}");

    let log = run_ok(scimd(&db).args(["onboard", "messages", "--tenant", "acme"]));
    assert!(log.contains("\tsms\tclient-secret\t+31…5678\tprinted"), "{log}");
    assert!(!log.contains(secret), "{log}");

    let refused = run(scimd(&db).args(["onboard", "--tenant", "acme", "--secret-mobile", "0612345678"]));
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("+"), "{}", String::from_utf8_lossy(&refused.stderr));

    let promoted = run_ok(scimd(&db).args(["tenant", "promote", "acme"]));
    assert!(promoted.starts_with("promoted acme to production tenant acme-production"), "{promoted}");
    assert!(promoted.contains("1 groups") && promoted.contains("API user svc@acme.test (made)"), "{promoted}");
    let tenants = run_ok(scimd(&db).args(["tenant", "list"]));
    assert!(tenants.lines().any(|l| l.contains("\tacme-production\t") && l.ends_with("production\tacme")), "{tenants}");
    let again = run(scimd(&db).args(["tenant", "promote", "acme"]));
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("promoted already"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
}

/// A relay or gateway that cannot be reached: nothing is lost, the operator is handed
/// what was not sent, and the log says it failed.
#[test]
fn what_cannot_be_sent_is_handed_over_and_logged_as_failed() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("failed.db").to_string_lossy().into_owned();
    run_ok(scimd(&db).args(["tenant", "create", "acme"]));
    let closed = process::free_port().to_string();
    let sms_url = format!("http://127.0.0.1:{closed}/sms");
    let printed = run_ok(
        scimd(&db)
            .env("SCIMD_EMAIL__HOST", "127.0.0.1")
            .env("SCIMD_EMAIL__PORT", &closed)
            .env("SCIMD_EMAIL__TLS", "none")
            .env("SCIMD_SMS__URL", &sms_url)
            .env("SCIMD_SMS__FIELDS", r#"[["To", "{to}"], ["Body", "{text}"]]"#)
            .args([
                "onboard",
                "--tenant",
                "acme",
                "--api-user-email",
                "svc@acme.test",
                "--secret-mobile",
                "+31612345678",
            ]),
    );
    let link = printed.lines().find(|l| l.contains("set-password link:")).unwrap();
    assert!(link.contains("NOT sent") && link.contains("/portal/set-password?token="), "{printed}");
    let secret = printed.lines().find(|l| l.contains("client secret:")).unwrap();
    assert!(secret.contains("NOT sent") && secret.contains("scimd_cs_"), "{printed}");
    let log = run_ok(scimd(&db).args(["onboard", "messages", "--tenant", "acme"]));
    assert_eq!(log.lines().filter(|l| l.ends_with("\tfailed")).count(), 3, "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operator_decides_a_submitted_run_on_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("golive.db").to_string_lossy().into_owned();
    run_ok(scimd(&db).args(["tenant", "create", "acme"]));
    let token = run_ok(scimd(&db).args(["token", "create", "--tenant", "acme"])).lines().last().unwrap().to_string();
    let db2 = db.clone();
    let server = tokio::task::spawn_blocking(move || Server::start(&db2)).await.unwrap();
    let http = reqwest::Client::new();
    let now = chrono::Utc::now();
    let claim = json!({"from": (now - chrono::Duration::minutes(5)).to_rfc3339(), "to": now.to_rfc3339(),
        "created": 4, "updated": 0, "deactivated": 0, "deleted": 0, "errors": 0});
    let r = http
        .post(format!("http://{}/golive/v1/submissions", server.addr))
        .bearer_auth(&token)
        .json(&claim)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);

    let list = run_ok(scimd(&db).args(["golive", "list", "--tenant", "acme"]));
    assert!(list.starts_with("1\tsubmitted\t"), "{list}");
    let show = run_ok(scimd(&db).args(["golive", "show", "--tenant", "acme", "1"]));
    assert!(show.lines().any(|l| l.starts_with("users created") && l.ends_with("<- differs")), "{show}");
    let nofeedback = run(scimd(&db).args(["golive", "reject", "--tenant", "acme", "1", "--feedback", " "]));
    assert!(String::from_utf8_lossy(&nofeedback.stderr).contains("feedback"), "{:?}", nofeedback);
    let rejected =
        run_ok(scimd(&db).args(["golive", "reject", "--tenant", "acme", "1", "--feedback", "No users made."]));
    assert!(rejected.contains("submission 1 rejected"), "{rejected}");
    let twice = run(scimd(&db).args(["golive", "approve", "--tenant", "acme", "1"]));
    assert!(String::from_utf8_lossy(&twice.stderr).contains("rejected already"), "{:?}", twice);
    let events = run_ok(scimd(&db).args(["audit", "events", "--tenant", "acme", "--op", "golive_reject", "--json"]));
    assert!(events.contains("scimd golive reject"), "the command line's decision is audited: {events}");
    server.terminate_and_collect_log();
}
