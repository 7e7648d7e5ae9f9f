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

fn fails(cmd: &mut Command) -> String {
    let out = cmd.output().expect("run scimd");
    assert!(!out.status.success(), "scimd succeeded: {}", String::from_utf8_lossy(&out.stdout));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn private_key_jwt_clients_and_trusts_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("scimd.db").to_string_lossy().into_owned();
    run_ok(scimd(&db).args(["tenant", "create", "acme"]));
    // The P-256 public key of RFC 7517, appendix A.1.
    let public = serde_json::json!({"kty": "EC", "crv": "P-256", "kid": "1", "use": "sig",
        "x": "MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4", "y": "4Etl6SRW2YiLUrN5vfvVHuhNq3Up4CjkTPZgGZlEtr4"});
    let jwks = dir.path().join("jwks.json");
    std::fs::write(&jwks, serde_json::json!({"keys": [public]}).to_string()).unwrap();
    let jwks = jwks.to_string_lossy().into_owned();
    let args = ["client", "create", "--tenant", "acme", "--auth-method", "private-key-jwt", "--jwks", &jwks, "--json"];
    let created: Value = serde_json::from_str(run_ok(scimd(&db).args(args)).trim()).unwrap();
    assert!(created.get("client_secret").is_none(), "{created}");
    let c = listed(&db, created["client_id"].as_str().unwrap());
    assert_eq!(c["authentication"]["auth_method"], "private_key_jwt");
    assert_eq!(c["authentication"]["jwks"], true);
    assert_eq!(c["secrets"], serde_json::json!([]));

    // A private key in the set, or keys without the method, are refused.
    let mut private = public.clone();
    private["d"] = "870MB6gfuTJ4HtUnUvYMyJpr5eUZNP4Bk43bVdj3eAE".into();
    let bad = dir.path().join("private.json");
    std::fs::write(&bad, serde_json::json!({"keys": [private]}).to_string()).unwrap();
    let bad = bad.to_string_lossy().into_owned();
    let e = fails(scimd(&db).args([
        "client",
        "create",
        "--tenant",
        "acme",
        "--auth-method",
        "private-key-jwt",
        "--jwks",
        &bad,
    ]));
    assert!(e.contains("public keys only"), "{e}");
    assert!(
        fails(scimd(&db).args(["client", "create", "--tenant", "acme", "--jwks", &jwks])).contains("--auth-method")
    );

    // A trust, and a client with a secret bound to it.
    let trust = [
        "trust",
        "add",
        "acme",
        "wif",
        "--issuer",
        "https://idp.example.com",
        "--audience",
        "api://x",
        "--subject",
        "s1",
        "--scope",
        "scim:read",
    ];
    run_ok(scimd(&db).args(trust));
    let table = run_ok(scimd(&db).args(["trust", "list", "acme"]));
    assert_eq!(table.trim_end(), "wif\thttps://idp.example.com\tdiscovered\tapi://x\ts1\t\tscim:read\t-");
    let e = fails(scimd(&db).args([
        "trust",
        "add",
        "acme",
        "loose",
        "--issuer",
        "https://idp.example.com",
        "--audience",
        "a",
    ]));
    assert!(e.contains("subject"), "{e}");
    let made: Value =
        serde_json::from_str(run_ok(scimd(&db).args(["client", "create", "--tenant", "acme", "--json"])).trim())
            .unwrap();
    let id = made["client_id"].as_str().unwrap();
    run_ok(scimd(&db).args(["client", "set", id, "--auth-method", "private-key-jwt", "--trust", "wif"]));
    let c = listed(&db, id);
    assert_eq!(c["authentication"]["trust"], "acme/wif");
    assert!(c["secrets"].as_array().unwrap().iter().all(|s| s["state"] == "revoked"), "{c}");
    fails(scimd(&db).args(["client", "set", id, "--auth-method", "private-key-jwt", "--trust", "nobody"]));

    run_ok(scimd(&db).args(["trust", "remove", "acme", "wif"]));
    assert!(run_ok(scimd(&db).args(["trust", "list", "acme"])).is_empty());
    fails(scimd(&db).args(["trust", "remove", "acme", "wif"]));
}
