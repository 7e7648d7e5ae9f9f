//! The book's generated reference pages (`docs/book/src/reference/cli.md` and
//! `configuration.md`), written from the code so that they never drift from it: the
//! command line from `scimd`'s clap definition (each command's long help, as `scimd help
//! COMMAND` prints it), the configuration from the `Config` struct (its sections and keys
//! as serde knows them, its defaults from `Config::default()`, each key's flag and
//! variable from the clap definition, and its text from the commented default
//! `examples/scimd.toml`, which `config.rs` already tests against the struct).
//!
//! A committed page that differs from what the code gives fails the test; after an
//! intended change, rewrite the pages with
//! `SCIMD_BLESS=1 cargo nextest run -p scimd-server --test book_reference`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::CommandFactory;
use scimd_server::cli::Cli;
use scimd_server::config::{Config, DEFAULT_TOML};

/// Wide enough for the help texts as written, fixed so the page does not depend on the
/// terminal of whoever generates it.
const WIDTH: usize = 100;

const BLESS: &str = "SCIMD_BLESS=1 cargo nextest run -p scimd-server --test book_reference";

fn page(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/book/src/reference").join(name)
}

/// Writes the page when blessing, else requires the committed one to be `text`.
fn check(name: &str, text: &str) {
    let path = page(name);
    if std::env::var("SCIMD_BLESS").is_ok_and(|v| v == "1") {
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed != text {
        let line = committed
            .lines()
            .zip(text.lines())
            .position(|(a, b)| a != b)
            .map_or_else(|| committed.lines().count().min(text.lines().count()) + 1, |i| i + 1);
        panic!("{} is stale (first difference at line {line}); regenerate it with `{BLESS}`", path.display());
    }
}

/// The command tree with env values hidden (a variable set where the page is generated
/// must not end up in it) and a fixed width.
fn quiet(mut c: clap::Command) -> clap::Command {
    let ids: Vec<clap::Id> = c.get_arguments().map(|a| a.get_id().clone()).collect();
    for id in ids {
        c = c.mut_arg(id, |a| a.hide_env_values(true));
    }
    let subs: Vec<String> = c.get_subcommands().map(|s| s.get_name().to_string()).collect();
    for s in subs {
        c = c.mut_subcommand(s, quiet);
    }
    c.term_width(WIDTH).max_term_width(WIDTH)
}

/// The command tree as declared: not built, so each command's help shows its own flags
/// (the global ones are shown once, with `scimd`).
fn command() -> clap::Command {
    quiet(Cli::command())
}

/// Every command, depth first, with its full name (`scimd tenant create`).
fn walk<'a>(c: &'a clap::Command, name: String, into: &mut Vec<(String, &'a clap::Command)>) {
    into.push((name.clone(), c));
    for sub in c.get_subcommands() {
        if sub.get_name() == "help" || sub.is_hide_set() {
            continue;
        }
        walk(sub, format!("{name} {}", sub.get_name()), into);
    }
}

fn anchor(name: &str) -> String {
    name.replace(' ', "-")
}

fn cli_page() -> String {
    let root = command();
    let mut all = Vec::new();
    walk(&root, "scimd".to_string(), &mut all);
    let mut out = String::from(
        "# Command line\n\n\
         <!-- Generated from scimd's clap definition by crates/scimd-server/tests/book_reference.rs:\n\
         do not edit; after a change to the command line, regenerate with\n",
    );
    out.push_str(&format!("{BLESS} -->\n\n"));
    out.push_str(
        "Every command of `scimd` with its long help, as `scimd help COMMAND` (or `scimd COMMAND\n\
         --help`) prints it. The flags of `scimd` itself (`--config`, `--database`, …) are global:\n\
         every command takes them. Flags that set a configuration key name it in brackets, with\n\
         its default; the [configuration reference](configuration.md) lists every key.\n\n",
    );
    for (name, c) in &all {
        let depth = name.matches(' ').count();
        if c.has_subcommands() && depth > 0 {
            let subs: Vec<String> = c
                .get_subcommands()
                .filter(|s| s.get_name() != "help" && !s.is_hide_set())
                .map(|s| format!("[`{}`](#{})", s.get_name(), anchor(&format!("{name} {}", s.get_name()))))
                .collect();
            out.push_str(&format!("## `{name}` {{#{}}}\n\n{}\n\n", anchor(name), subs.join(", ")));
        } else {
            let level = if depth <= 1 { "##" } else { "###" };
            out.push_str(&format!("{level} `{name}` {{#{}}}\n\n", anchor(name)));
        }
        let help = (*c).clone().bin_name(name).render_long_help().to_string();
        let mut lines: Vec<&str> = Vec::new();
        for line in help.lines().map(str::trim_end) {
            if !(line.is_empty() && lines.last().is_some_and(|l| l.is_empty())) {
                lines.push(line);
            }
        }
        out.push_str(&format!("```text\n{}\n```\n\n", lines.join("\n").trim_end()));
    }
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}

/// The field names serde's derive knows for the struct behind `probe` (with `__probe`
/// in place of a key): what the error for an unknown field says it expected.
fn fields(probe: &str) -> Vec<String> {
    let err = toml::from_str::<Config>(probe).expect_err("the probe key is unknown").to_string();
    // "expected `a`", "expected `a` or `b`", "expected one of `a`, `b`, `c`".
    let list = err.split_once("expected ").unwrap_or_else(|| panic!("no field list in: {err}")).1;
    let list = list.lines().next().unwrap_or_default();
    list.split('`').skip(1).step_by(2).map(str::to_string).collect()
}

/// The text of each key (`section.key`) in the commented default: the comment lines just
/// above it, and each section's comment before its header. Keys that share the comment
/// of the key before them get none here.
fn default_toml_texts() -> BTreeMap<String, String> {
    let mut texts = BTreeMap::new();
    let (mut section, mut pending) = (String::new(), Vec::<String>::new());
    for line in DEFAULT_TOML.lines() {
        let bare = line.trim_start_matches('#').trim();
        if bare.starts_with('[') && bare.ends_with(']') {
            section = bare.trim_matches(|c| c == '[' || c == ']').to_string();
            if !pending.is_empty() {
                texts.insert(section.clone(), pending.join(" "));
            }
            pending.clear();
            continue;
        }
        let key =
            bare.split_once(" = ").map(|(k, _)| k).filter(|k| k.chars().all(|c| c.is_ascii_lowercase() || c == '_'));
        match key {
            Some(key) if !section.is_empty() => {
                if !pending.is_empty() {
                    texts.entry(format!("{section}.{key}")).or_insert(pending.join(" "));
                }
                pending.clear();
            }
            _ if line.starts_with('#') => pending.push(bare.to_string()),
            _ => pending.clear(),
        }
    }
    texts
}

/// Keys the commented default does not describe one by one (the tenants' keys share one
/// commented example; a secret given itself is shown only as its file).
const TEXTS: &[(&str, &str)] = &[
    ("server.admin_token", "The operator token itself (at least 32 characters); prefer `admin_token_file`."),
    ("secrets.master_key", "The master key itself (`SCIMD_SECRETS__MASTER_KEY`); prefer `master_key_file`."),
    (
        "secrets.previous_master_key",
        "The previous master key itself, during a rotation; prefer `previous_master_key_file`.",
    ),
    ("email.password", "The relay's password itself (`SCIMD_EMAIL__PASSWORD`); prefer `password_file`."),
    ("sms.secret", "The gateway's secret itself (`SCIMD_SMS__SECRET`); prefer `secret_file`."),
    ("tenants.name", "The tenant's name: created if missing when `scimd serve` starts."),
    ("tenants.scim", "The tenant's SCIM feature (default on)."),
    ("tenants.preset", "A built-in preset's profile: `locker`, `staffing`, `visitor` or `workflow`."),
    ("tenants.profile", "A whole profile, inline (a table), instead of a preset."),
    ("tenants.audit_details", "Which payloads the tenant's audit trail keeps: `off`, `changes` or `all`."),
    ("tenants.audit_events_days", "Days the tenant's events are kept."),
    ("tenants.audit_details_days", "Days the tenant's payloads are kept."),
];

/// `section.key` → (flag, the flag's own variable, the flag's help without its note),
/// from the `[config: KEY …]` or `[KEY; …]` note in each flag's help.
fn flags() -> BTreeMap<String, (String, Option<String>, String)> {
    let mut out = BTreeMap::new();
    let root = command();
    let mut all = Vec::new();
    walk(&root, "scimd".to_string(), &mut all);
    for (_, c) in all {
        for a in c.get_arguments() {
            let (Some(long), Some(help)) = (a.get_long(), a.get_long_help().or(a.get_help())) else { continue };
            let help = help.to_string();
            let Some((text, note)) = help.rsplit_once('[') else { continue };
            let note = note.trim_start_matches("config: ");
            let key: String = note.chars().take_while(|c| c.is_ascii_lowercase() || *c == '_' || *c == '.').collect();
            if key.contains('.') {
                let env = a.get_env().map(|e| e.to_string_lossy().into_owned());
                let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
                out.entry(key).or_insert((format!("--{long}"), env, text));
            }
        }
    }
    out
}

fn value_text(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => format!("`\"{s}\"`"),
        other => format!("`{other}`"),
    }
}

fn config_page() -> String {
    let defaults = toml::Value::try_from(Config::default()).expect("the defaults serialize");
    let texts = default_toml_texts();
    let flags = flags();
    let extra: BTreeMap<&str, &str> = TEXTS.iter().copied().collect();
    let mut out = String::from(
        "# Configuration\n\n\
         <!-- Generated from the Config struct (crates/scimd-server/src/config.rs), its defaults,\n\
         the clap flags and the commented default examples/scimd.toml by\n\
         crates/scimd-server/tests/book_reference.rs: do not edit; regenerate with\n",
    );
    out.push_str(&format!("{BLESS} -->\n\n"));
    out.push_str(
        "Every key of the configuration file, by section. Precedence, lowest first: the defaults,\n\
         the file (`--config FILE` or `SCIMD_CONFIG`), `SCIMD_<SECTION>__<KEY>` variables, the flags\n\
         (and the flags' own variables, such as `SCIMD_DATABASE_URL`). An unknown key, in the file\n\
         or in a `SCIMD_…__…` variable, stops scimd with a message naming it. `scimd config\n\
         print-default` prints the commented default; `scimd config show` what scimd would run\n\
         with, secrets hidden. How to use them: [Configuration](../operations/configuration.md).\n\n",
    );
    let mut missing = Vec::new();
    for section in fields("__probe = 0") {
        let probe = if section == "tenants" {
            "[[tenants]]\nname = \"x\"\n__probe = 0".to_string()
        } else {
            format!("[{section}]\n__probe = 0")
        };
        let header = if section == "tenants" { format!("[[{section}]]") } else { format!("[{section}]") };
        out.push_str(&format!("## `{header}` {{#{section}}}\n\n"));
        if let Some(t) = texts.get(&section) {
            out.push_str(&format!("{t}\n\n"));
        }
        out.push_str("| key | default | flag | variables | what it does |\n| --- | --- | --- | --- | --- |\n");
        for key in fields(&probe) {
            let full = format!("{section}.{key}");
            let default =
                defaults.get(&section).and_then(|s| s.get(&key)).map_or_else(|| "none".to_string(), value_text);
            let (flag, flag_env, flag_text) = flags
                .get(&full)
                .cloned()
                .map_or((String::new(), None, None), |(f, e, t)| (format!("`{f}`"), e, Some(t)));
            let mut vars = Vec::new();
            if section != "tenants" {
                vars.push(format!("`SCIMD_{}__{}`", section.to_uppercase(), key.to_uppercase()));
            }
            vars.extend(flag_env.map(|e| format!("`{e}`")));
            let text =
                texts.get(&full).cloned().or(flag_text).or_else(|| extra.get(full.as_str()).map(|t| t.to_string()));
            let text = text.unwrap_or_else(|| {
                missing.push(full.clone());
                String::new()
            });
            out.push_str(&format!(
                "| `{key}` | {default} | {flag} | {} | {} |\n",
                vars.join(", "),
                text.replace('|', "\\|")
            ));
        }
        out.push('\n');
    }
    assert!(
        missing.is_empty(),
        "keys with no text: {missing:?}; describe them in examples/scimd.toml (or, if they cannot be shown \
         there, in TEXTS of tests/book_reference.rs)"
    );
    let stale: Vec<&&str> = extra.keys().filter(|k| texts.contains_key(**k) || flags.contains_key(**k)).collect();
    assert!(stale.is_empty(), "{stale:?} are described in examples/scimd.toml or a flag now: drop them from TEXTS");
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}

#[test]
fn the_command_line_reference_is_current() {
    check("cli.md", &cli_page());
}

#[test]
fn the_configuration_reference_is_current() {
    check("configuration.md", &config_page());
}

#[test]
fn every_configuration_key_has_a_flag_or_is_file_only_by_design() {
    // Not every key has a flag (tenants, a secret given itself, `metrics.enabled`); the
    // ones that do are found by their help's note, so a misspelt note shows up here.
    let keys: Vec<String> = fields("__probe = 0")
        .into_iter()
        .filter(|s| s != "tenants")
        .flat_map(|s| fields(&format!("[{s}]\n__probe = 0")).into_iter().map(move |k| format!("{s}.{k}")))
        .collect();
    for key in flags().keys() {
        assert!(keys.contains(key), "a flag's help names `{key}`, which is no configuration key");
    }
}
