//! Records the commit the binary is built from, for `scimd --version` and the
//! `scimd_build_info` metric: `SCIMD_BUILD_COMMIT` if set (a build without `.git`, such as
//! a container's), else `git rev-parse`, else `unknown`.

fn main() {
    println!("cargo:rerun-if-env-changed=SCIMD_BUILD_COMMIT");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let git = root.join(".git");
    // A new commit moves HEAD or the branch it names (watched only where they exist: a
    // missing file would make every build run this again).
    let mut watch = vec![git.join("HEAD"), git.join("packed-refs")];
    if let Ok(head) = std::fs::read_to_string(git.join("HEAD"))
        && let Some(r) = head.trim().strip_prefix("ref: ")
    {
        watch.push(git.join(r));
    }
    for f in watch.iter().filter(|f| f.exists()) {
        println!("cargo:rerun-if-changed={}", f.display());
    }
    let commit = std::env::var("SCIMD_BUILD_COMMIT").ok().filter(|c| !c.trim().is_empty()).or_else(|| {
        let out = std::process::Command::new("git")
            .args(["rev-parse", "--short=12", "HEAD"])
            .current_dir(&root)
            .output()
            .ok()?;
        let c = String::from_utf8(out.stdout).ok()?.trim().to_string();
        (out.status.success() && !c.is_empty()).then_some(c)
    });
    println!("cargo:rustc-env=SCIMD_COMMIT={}", commit.unwrap_or_else(|| "unknown".into()));
}
