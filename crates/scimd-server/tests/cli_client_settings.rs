//! `scimd client create|set|list` and a client's login expiry, as operators use them: the
//! same settings as the admin API's (`admin` use cases shared by both).

use std::process::Command;

use serde_json::Value;

fn scimd(db: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_scimd"));
    c.env("SCIMD_DATABASE_URL", format!("sqlite://{db}")).env("SCIMD_LOG", "warn");
    c
}

fn run_ok(cmd: &mut Command) -> String {
    let out = cmd.output().expect("run scimd");
    assert!(out.status.success(), "scimd failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn listed(db: &str, id: &str) -> Value {
    run_ok(scimd(db).args(["client", "list", "--json"]))
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|c| c["client_id"] == id)
        .expect("the client is listed")
}

#[test]
fn refresh_expiry_is_set_at_creation_and_changed_with_client_set() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("scimd.db").to_string_lossy().into_owned();
    run_ok(scimd(&db).args(["tenant", "create", "lockers-inc", "--preset", "locker"]));
    let created: Value = serde_json::from_str(
        run_ok(scimd(&db).args(["client", "create", "--tenant", "lockers-inc", "--grant", "password", "--json"]))
            .trim(),
    )
    .unwrap();
    let id = created["client_id"].as_str().unwrap().to_string();
    // Unset: the tenant profile's choice (the locker preset's absolute), shown as null.
    let c = listed(&db, &id);
    assert_eq!((c["refresh_expiry"].clone(), c["refresh_ttl"].as_i64()), (Value::Null, Some(30 * 86400)));

    run_ok(scimd(&db).args(["client", "set", &id, "--refresh-expiry", "sliding", "--refresh-ttl", "7d"]));
    let c = listed(&db, &id);
    assert_eq!((c["refresh_expiry"].as_str(), c["refresh_ttl"].as_i64()), (Some("sliding"), Some(7 * 86400)));
    run_ok(scimd(&db).args(["client", "set", &id, "--refresh-expiry", "profile"]));
    assert_eq!(listed(&db, &id)["refresh_expiry"], Value::Null);

    let created: Value = serde_json::from_str(
        run_ok(scimd(&db).args([
            "client",
            "create",
            "--tenant",
            "lockers-inc",
            "--grant",
            "password",
            "--refresh-expiry",
            "absolute",
            "--json",
        ]))
        .trim(),
    )
    .unwrap();
    assert_eq!(listed(&db, created["client_id"].as_str().unwrap())["refresh_expiry"], "absolute");
    // Mistakes are refused and change nothing.
    for args in [
        vec!["client", "set", "no-such-client", "--refresh-expiry", "absolute"],
        vec!["client", "set", &id, "--refresh-expiry", "forever"],
        vec!["client", "set", &id, "--refresh-ttl", "0s"],
    ] {
        let out = scimd(&db).args(&args).output().unwrap();
        assert!(!out.status.success(), "{args:?} should fail");
        assert!(!String::from_utf8_lossy(&out.stderr).trim().is_empty(), "{args:?} says why");
    }
    assert_eq!(listed(&db, &id)["refresh_ttl"], 7 * 86400);
}
