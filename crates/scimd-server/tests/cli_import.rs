//! `scimd user import` and `scimd group create --id` as an operator runs them: a product's
//! existing users and groups keep their ids; a file with a refused row imports nothing
//! and names each row; the import is in the tenant's audit trail as the operator's work.

use std::process::Command;

use serde_json::Value;

// Only its `scimd()` command is used here (no server is started).
#[path = "support/process.rs"]
#[allow(dead_code)]
mod process;

fn scimd(db: &str) -> Command {
    let mut c = process::scimd();
    c.env("SCIMD_DATABASE_URL", format!("sqlite://{db}"));
    c
}

fn run_ok(cmd: &mut Command) -> String {
    let out = cmd.output().expect("run scimd");
    assert!(out.status.success(), "scimd failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// Runs a command that must fail; returns its standard error.
fn run_err(cmd: &mut Command) -> String {
    let out = cmd.output().expect("run scimd");
    assert!(!out.status.success(), "scimd succeeded: {}", String::from_utf8_lossy(&out.stdout));
    String::from_utf8(out.stderr).unwrap()
}

#[test]
fn users_and_groups_are_imported_with_their_ids_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("import.db").to_string_lossy().into_owned();
    run_ok(scimd(&db).args(["tenant", "create", "assignments", "--preset", "staffing"]));
    let csv = dir.path().join("staff.csv");
    std::fs::write(
        &csv,
        "id,userName,givenName,familyName,email,active,password\n\
         AP-1001,temp.worker,Tess,Worker,tess@example.com,yes,Cli-Pass-1001\n\
         AP-1002,shift.lead,Sam,Lead,sam@example.com,no,\n",
    )
    .unwrap();
    let csv = csv.to_string_lossy().into_owned();

    let checked = run_ok(scimd(&db).args(["user", "import", "--tenant", "assignments", &csv, "--check"]));
    assert!(checked.contains("2 users of") && checked.contains("can be imported"), "{checked}");
    let out = run_ok(scimd(&db).args(["user", "import", "--tenant", "assignments", &csv]));
    assert_eq!(out.trim(), "imported 2 users into tenant assignments");
    // Again: every row names its id as taken, and nothing changes.
    let again = run_err(scimd(&db).args(["user", "import", "--tenant", "assignments", &csv]));
    assert!(again.contains("line 2 (id AP-1001)") && again.contains("line 3 (id AP-1002)"), "{again}");
    assert!(again.contains("imported before") && again.contains("nothing was imported"), "{again}");

    // JSON Lines, one bad row among good ones: nothing imported, the row named.
    let jsonl = dir.path().join("more.jsonl");
    std::fs::write(
        &jsonl,
        "{\"id\": \"AP-2001\", \"userName\": \"new.hire\"}\n{\"id\": \"AP-2002\", \"userName\": \"temp.worker\"}\n",
    )
    .unwrap();
    let jsonl = jsonl.to_string_lossy().into_owned();
    let bad = run_err(scimd(&db).args(["user", "import", "--tenant", "assignments", &jsonl]));
    assert!(bad.contains("line 2 (id AP-2002): the userName 'temp.worker' is user AP-1001's"), "{bad}");
    let report = scimd(&db).args(["user", "import", "--tenant", "assignments", &jsonl, "--json"]).output().unwrap();
    let report: Value = serde_json::from_slice(&report.stdout).unwrap();
    assert_eq!((report["rows"].as_u64(), report["imported"].as_u64()), (Some(2), Some(0)), "{report}");
    let unknown = run_err(scimd(&db).args(["user", "import", "--tenant", "assignments", &db]));
    assert!(unknown.contains("--format"), "{unknown}");

    // The operator's work in the tenant's audit trail, one event per user.
    let events = run_ok(scimd(&db).args(["audit", "events", "--tenant", "assignments", "--op", "import", "--json"]));
    let events: Vec<Value> = events.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let mut ids: Vec<&str> = events.iter().filter_map(|e| e["resource_id"].as_str()).collect();
    ids.sort();
    assert_eq!(ids, ["AP-1001", "AP-1002"], "{events:?}");
    assert!(events.iter().all(|e| e["method"] == "CLI" && e["status"] == 201), "{events:?}");
    assert!(events[0]["request_id"].as_str().unwrap().starts_with("cli-"));
    // The password is stored hashed only.
    let raw: Vec<u8> = ["", "-wal", "-audit", "-audit-wal"]
        .iter()
        .flat_map(|s| std::fs::read(format!("{db}{s}")).unwrap_or_default())
        .collect();
    assert!(!raw.windows(13).any(|w| w == b"Cli-Pass-1001"));

    // Groups: the id given, a clash refused, a bad id refused.
    let made = run_ok(scimd(&db).args(["group", "create", "--tenant", "assignments", "Night shift", "--id", "G-7"]));
    assert_eq!(made.trim(), "G-7\tNight shift");
    let clash = run_err(scimd(&db).args(["group", "create", "--tenant", "assignments", "Day", "--id", "G-7"]));
    assert!(clash.contains("the id 'G-7'"), "{clash}");
    let clash = run_err(scimd(&db).args(["group", "create", "--tenant", "assignments", "Day", "--id", "AP-1001"]));
    assert!(clash.contains("the id 'AP-1001'"), "{clash}");
    let bad = run_err(scimd(&db).args(["group", "create", "--tenant", "assignments", "Day", "--id", "a/b"]));
    assert!(bad.contains("'/'"), "{bad}");
    let list = run_ok(scimd(&db).args(["group", "list", "--tenant", "assignments"]));
    assert_eq!(list.trim(), "G-7\tNight shift\t-");
}
