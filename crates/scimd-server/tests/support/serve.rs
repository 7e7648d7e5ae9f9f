//! `scimd` against a SQLite file, as command-line tests run it: a command (`scimd`), and
//! `scimd serve` as a child process on a free loopback port, stopped by SIGTERM (its log
//! collected) or by SIGKILL.
#![allow(dead_code)] // not every test binary uses every helper

use std::process::{Child, Command};
use std::time::{Duration, Instant};

use crate::process::{self, free_port};

/// `scimd` on the SQLite database `db`, logging at `info` (none of the machine's
/// `SCIMD_` settings: [`process::scimd`]).
pub fn scimd(db: &str) -> Command {
    let mut c = process::scimd();
    c.env("SCIMD_DATABASE_URL", format!("sqlite://{db}")).env("SCIMD_LOG", "info");
    c
}

pub struct Server {
    pub child: Child,
    pub addr: String,
    /// Every line the server writes to stderr (its log).
    pub log: std::sync::mpsc::Receiver<String>,
}

impl Server {
    pub fn start(db: &str) -> Server {
        Self::start_with(db, "info")
    }

    pub fn start_with(db: &str, log_level: &str) -> Server {
        let port = free_port();
        let addr = format!("127.0.0.1:{port}");
        let mut cmd = scimd(db);
        cmd.env("SCIMD_LOG", log_level).args(["serve", "--listen", &addr]);
        let (child, rx) = process::spawn_listening(cmd, &addr, Duration::from_secs(20));
        Server { child, addr, log: rx }
    }

    /// Stops the server (SIGTERM: graceful) and returns what it logged after starting.
    pub fn terminate_and_collect_log(mut self) -> String {
        let status = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.child.try_wait().unwrap().is_none() {
            assert!(Instant::now() < deadline, "the server did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        }
        let mut out = String::new();
        while let Ok(line) = self.log.recv_timeout(Duration::from_secs(2)) {
            out.push_str(&line);
            out.push('\n');
        }
        out
    }

    pub fn kill9(mut self) {
        self.child.kill().unwrap(); // SIGKILL on unix
        self.child.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
