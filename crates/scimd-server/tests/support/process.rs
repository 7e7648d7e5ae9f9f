//! Running `scimd` as a process in tests: the command with none of the machine's
//! `SCIMD_` settings, a free loopback port, waiting until the server logs that it listens
//! (its log lines kept for the test), and a fresh PostgreSQL database for it.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

/// The `scimd` binary, with nothing of the machine's environment leaking into its
/// configuration.
#[allow(dead_code)] // not every test binary runs commands
pub fn scimd() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_scimd"));
    for (k, _) in std::env::vars() {
        if k.starts_with("SCIMD_") {
            c.env_remove(k);
        }
    }
    c
}

#[allow(dead_code)]
pub fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("run scimd")
}

/// Runs a command that must succeed; its standard output.
#[allow(dead_code)]
pub fn run_ok(cmd: &mut Command) -> String {
    let out = run(cmd);
    assert!(out.status.success(), "scimd failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Spawns `cmd` (a `scimd serve … --listen addr`) with its log on a channel, and waits (at
/// most `within`) for the line saying it listens on `addr`.
pub fn spawn_listening(mut cmd: Command, addr: &str, within: Duration) -> (Child, Receiver<String>) {
    let mut child = cmd.stdout(Stdio::null()).stderr(Stdio::piped()).spawn().expect("spawn serve");
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + within;
    loop {
        let line = rx.recv_timeout(deadline.saturating_duration_since(Instant::now())).expect("server log line");
        if line.contains("listening") && line.contains(addr) {
            break;
        }
    }
    (child, rx)
}

/// The URL of a new, empty database on the PostgreSQL server `admin_url` names.
#[allow(dead_code)] // not every test binary uses PostgreSQL
pub async fn fresh_database(admin_url: &str) -> String {
    let (client, conn) = tokio_postgres::connect(admin_url, tokio_postgres::NoTls).await.expect("connect");
    let task = tokio::spawn(conn);
    let name = format!("scimd_p_{}", uuid::Uuid::new_v4().simple());
    client.batch_execute(&format!("CREATE DATABASE {name}")).await.expect("create database");
    drop(client);
    let _ = task.await;
    let (server, _) = admin_url.rsplit_once('/').expect("a database URL");
    format!("{server}/{name}")
}
