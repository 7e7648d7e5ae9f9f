//! The onboarding guide walked end to end, as the people in it would, on a fresh server
//! (`scimd serve` with an SMTP relay and an SMS gateway, both test servers on loopback):
//! the operator creates the integration tenant and onboards the customer; the API system
//! user's email brings the set-password link (followed like a browser would) and the
//! client id with the URLs; the client secret arrives by text message; the customer runs
//! `scimd sync` against the integration tenant and submits its report with `scimd golive
//! submit`; the operator rejects it with feedback, which reaches the customer by email; the
//! customer corrects its run and submits again; the operator sees the figures agree and
//! approves; the production tenant is
//! made (with the operator's group and places), its credentials arrive the same way, and
//! it serves the customer's sync. Nothing secret is in the message log.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};

#[path = "support/process.rs"]
mod process;
#[path = "support/receiver.rs"]
mod receiver;
#[path = "support/smtp.rs"]
mod smtp;

const ADMIN_TOKEN: &str = "walk-operator-token-0123456789-abcdef";
const SMS_SECRET: &str = "gateway-secret-42";

/// `scimd` with the walk's configuration file.
fn scimd(config: &Path) -> Command {
    let mut c = process::scimd();
    c.env("SCIMD_CONFIG", config);
    c
}

async fn run_ok(mut cmd: Command) -> String {
    tokio::task::spawn_blocking(move || process::run_ok(&mut cmd)).await.unwrap()
}

/// The newest email to `to` whose subject contains `about`, waiting for it.
async fn email(sink: &smtp::Sink, to: &str, about: &str, seen: usize) -> String {
    for _ in 0..200 {
        let got = sink.received.lock().unwrap().clone();
        let found = got.iter().skip(seen).rev().find(|m| m.to.iter().any(|t| t == to) && m.raw.contains(about));
        if let Some(m) = found {
            return m.text();
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("no email to {to} about {about}");
}

/// The value after `label` on its line.
fn field(text: &str, label: &str) -> String {
    let line = text.lines().find(|l| l.trim_start().starts_with(label)).unwrap_or_else(|| panic!("{label}: {text}"));
    line.trim_start()[label.len()..].trim().to_string()
}

/// The first `http://…` link in a text.
fn link(text: &str) -> String {
    let start = text.find("http://").unwrap_or_else(|| panic!("no link in {text}"));
    text[start..].split_whitespace().next().unwrap().to_string()
}

/// Follows a set-password link as a browser would: the page, then its form posted.
async fn set_password(origin: &str, link: &str, password: &str) -> String {
    let http = reqwest::Client::new();
    let page = http.get(link).send().await.unwrap();
    assert_eq!(page.status(), 200, "{link}");
    // The form's token is the pre-session cookie's: the browser sends the cookie back.
    let cookies: Vec<String> = page
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok()?.split(';').next().map(str::to_string))
        .collect();
    let html = page.text().await.unwrap();
    let value = |name: &str| -> String {
        let at = html.find(&format!("name=\"{name}\" value=\"")).unwrap_or_else(|| panic!("{name} in {html}"));
        let rest = &html[at + name.len() + 15..];
        rest[..rest.find('"').unwrap()].to_string()
    };
    let form = [
        ("_csrf", value("_csrf")),
        ("token", value("token")),
        ("password", password.into()),
        ("confirm", password.into()),
    ];
    let res = http
        .post(format!("{origin}/portal/set-password"))
        .header("origin", origin)
        .header("cookie", cookies.join("; "))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let done = res.text().await.unwrap();
    assert!(done.contains("Password set"), "{done}");
    // Once: the link no longer works.
    assert_eq!(http.get(link).send().await.unwrap().status(), 404);
    value("username")
}

/// The client secret in the newest text message to `to` (form field `Body`).
async fn texted_secret(gateway: &receiver::Receiver, n: usize) -> (String, String) {
    let got = gateway.wait_for(n, Duration::from_secs(10)).await;
    assert_eq!(got.len(), n, "text messages");
    let m = &got[n - 1];
    assert_eq!(m.header("authorization"), Some(&*format!("Basic {}", b64(&format!("gw-account:{SMS_SECRET}")))));
    let fields: Vec<(String, String)> = form_urlencoded::parse(&m.body).into_owned().collect();
    let get = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap();
    let body = get("Body");
    assert!(body.starts_with("Lockers Inc:"), "{body}");
    (get("To"), body.rsplit(' ').next().unwrap().to_string())
}

fn b64(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}

struct Customer {
    /// Its own folder: the secret and password files, its source and reports.
    dir: std::path::PathBuf,
    client_id: String,
    username: String,
    scim_url: String,
    token_url: String,
}

impl Customer {
    /// The credentials flags of `scimd sync` and `scimd golive submit`.
    fn auth(&self, cmd: &mut Command) {
        cmd.args(["--client-id", &self.client_id, "--username", &self.username, "--token-url", &self.token_url])
            .arg("--client-secret-file")
            .arg(self.dir.join("secret"))
            .arg("--password-file")
            .arg(self.dir.join("password"));
    }

    async fn sync(&self, config: &Path, rows: &[&str], report: &Path) -> Value {
        std::fs::write(
            self.dir.join("users.csv"),
            format!("userName,givenName,familyName,email,active,externalId\n{}\n", rows.join("\n")),
        )
        .unwrap();
        let mut cmd = scimd(config);
        cmd.args(["sync", "--quiet", "--target", &self.scim_url]).arg("--source").arg(self.dir.join("users.csv"));
        cmd.arg("--report").arg(report);
        self.auth(&mut cmd);
        run_ok(cmd).await;
        serde_json::from_str(&std::fs::read_to_string(report).unwrap()).unwrap()
    }
}

async fn admin(http: &reqwest::Client, method: reqwest::Method, url: String, body: Option<Value>) -> (u16, Value) {
    let mut req = http.request(method, url).bearer_auth(ADMIN_TOKEN);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// Reads the customer's credentials from its messages and sets the API user's password.
async fn credentials(
    sink: &smtp::Sink,
    gateway: &receiver::Receiver,
    texts: usize,
    seen: usize,
    origin: &str,
    dir: &Path,
    password: &str,
) -> Customer {
    let welcome = email(sink, "svc@acme.test", "set the password", seen).await;
    assert!(welcome.contains("Lockers Inc"), "the operator's product name: {welcome}");
    let username = field(&welcome, "Username:");
    let set_link = link(&welcome);
    assert!(set_link.starts_with(&format!("{origin}/portal/set-password?token=")), "{set_link}");
    assert_eq!(set_password(origin, &set_link, password).await, username);
    let client = email(sink, "svc@acme.test", "OAuth client", seen).await;
    assert!(client.contains("+31…5678"), "where the secret went, masked: {client}");
    let (to, secret) = texted_secret(gateway, texts).await;
    assert_eq!(to, "+31612345678");
    let dir = dir.join(username.replace('@', "-at-"));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("secret"), &secret).unwrap();
    std::fs::write(dir.join("password"), password).unwrap();
    Customer {
        dir,
        client_id: field(&client, "Client id:"),
        username,
        scim_url: field(&client, "SCIM base URL:"),
        token_url: field(&client, "Token URL:"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_onboarding_guide_walked_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let sink = smtp::start().await;
    let gateway = receiver::Receiver::start().await;
    gateway.script([(201, None, None), (201, None, None)]);
    let port = process::free_port();
    let origin = format!("http://127.0.0.1:{port}");
    let config = dir.path().join("scimd.toml");
    let db = dir.path().join("scimd.db");
    std::fs::write(
        &config,
        format!(
            r#"
[database]
url = "sqlite://{db}"
[server]
listen = "127.0.0.1:{port}"
admin_token = "{ADMIN_TOKEN}"
[email]
host = "127.0.0.1"
port = {smtp}
tls = "none"
username = "relay"
password = "relay-password"
from = "Lockers Inc <noreply@lockers.test>"
[sms]
url = "{sms}"
fields = [["To", "{{to}}"], ["From", "Lockers"], ["Body", "{{text}}"]]
auth_header = "Authorization"
auth_value = "Basic {{secret_basic}}"
username = "gw-account"
secret = "{SMS_SECRET}"
[onboarding]
product_name = "Lockers Inc"
support_email = "integration@lockers.test"
"#,
            db = db.display(),
            smtp = sink.port,
            sms = gateway.url,
        ),
    )
    .unwrap();
    let mut serve = scimd(&config);
    serve.env("SCIMD_LOG", "info").arg("serve");
    let addr = format!("127.0.0.1:{port}");
    let (server, _log) =
        tokio::task::spawn_blocking(move || process::spawn_listening(serve, &addr, Duration::from_secs(30)))
            .await
            .unwrap();
    let _server = KillOnDrop(server);
    let http = reqwest::Client::new();
    let api = |path: &str| format!("{origin}/admin/v1{path}");

    // The operator: the integration company with the locker product's profile, its
    // places, a group the identity provider may not create, and the group's access.
    let (status, t) =
        admin(&http, reqwest::Method::POST, api("/tenants"), Some(json!({"name": "acme", "preset": "locker"}))).await;
    assert_eq!((status, t["stage"].as_str()), (201, Some("integration")), "{t}");
    let tree = json!({"locations": [{"key": "ams", "name": "Amsterdam", "sections": [{"key": "f1", "name": "Floor 1",
        "banks": [{"key": "b1", "name": "Bank 1", "lockers": [{"key": "l1"}]}]}]}]});
    assert_eq!(admin(&http, reqwest::Method::PUT, api("/tenants/acme/places"), Some(tree)).await.0, 200);
    let (status, g) = admin(
        &http,
        reqwest::Method::POST,
        api("/tenants/acme/groups"),
        Some(json!({"displayName": "Staff", "id": "staff"})),
    )
    .await;
    assert_eq!(status, 201, "{g}");
    let grant = json!({"group": "staff", "bank": "b1"});
    assert_eq!(admin(&http, reqwest::Method::POST, api("/tenants/acme/access"), Some(grant)).await.0, 201);

    // Onboarding: the customer gave the API user's email, a mobile number, and one person
    // for the website.
    let mut onboard = scimd(&config);
    onboard.args([
        "onboard",
        "--tenant",
        "acme",
        "--api-user-email",
        "svc@acme.test",
        "--secret-mobile",
        "+31 6 12345678",
    ]);
    onboard.args(["--system-user-email", "jane@acme.test"]);
    let printed = run_ok(onboard).await;
    assert!(printed.contains("sent by email to svc@acme.test") && printed.contains("sent by sms"), "{printed}");
    assert!(!printed.contains("scimd_cs_"), "the secret went by text message, not to the terminal: {printed}");
    let signup = email(&sink, "jane@acme.test", "website", 0).await;
    assert!(link(&signup).starts_with(&format!("{origin}/portal/invite?token=")), "{signup}");

    let customer = credentials(&sink, &gateway, 1, 0, &origin, dir.path(), "integration passphrase 1").await;
    assert_eq!(customer.username, "svc+integration@acme.test");
    assert_eq!(customer.scim_url, format!("{origin}/api"), "the locker product's base path");

    // The customer's realistic test run against integration, and its report submitted.
    let report_path = dir.path().join("run.json");
    let report = customer
        .sync(&config, &["ann,Ann,A,ann@acme.test,true,e-ann", "bob,Bob,B,bob@acme.test,true,e-bob"], &report_path)
        .await;
    assert_eq!(report["created"], 2, "{report}");
    let mut submit = scimd(&config);
    submit.args(["golive", "submit"]).arg("--report").arg(&report_path);
    customer.auth(&mut submit);
    let submitted = run_ok(submit).await;
    assert!(submitted.contains("submitted go-live check"), "{submitted}");

    // The first review: the operator rejects it with feedback, which reaches the customer.
    let (_, list) = admin(&http, reqwest::Method::GET, api("/tenants/acme/golive"), None).await;
    let first = list[0]["id"].as_i64().unwrap();
    assert_eq!(list[0]["source"], "report");
    let feedback = json!({"feedback": "Leavers must be deactivated too: include them with active=false."});
    let (status, rejected) =
        admin(&http, reqwest::Method::POST, api(&format!("/tenants/acme/golive/{first}/reject")), Some(feedback)).await;
    assert_eq!(status, 200, "{rejected}");
    let told = email(&sink, "svc@acme.test", "another round", 0).await;
    assert!(told.contains("Leavers must be deactivated too"), "{told}");
    email(&sink, "jane@acme.test", "another round", 0).await;

    // The customer corrects its run and submits again.
    let report_path = dir.path().join("run2.json");
    let rows = ["ann,Ann,A,ann@acme.test,true,e-ann", "bob,Bob,B,bob@acme.test,false,e-bob"];
    let report = customer.sync(&config, &rows, &report_path).await;
    assert_eq!((report["updated"].as_u64(), report["deactivated"].as_u64()), (Some(1), Some(1)), "{report}");
    let mut submit = scimd(&config);
    submit.args(["golive", "submit"]).arg("--report").arg(&report_path);
    customer.auth(&mut submit);
    run_ok(submit).await;

    // The operator's review: the audit trail's figures beside the claimed ones.
    let (_, list) = admin(&http, reqwest::Method::GET, api("/tenants/acme/golive"), None).await;
    let id = list[0]["id"].as_i64().unwrap();
    assert_ne!(id, first);
    let (status, review) = admin(&http, reqwest::Method::GET, api(&format!("/tenants/acme/golive/{id}")), None).await;
    assert_eq!(status, 200, "{review}");
    assert_eq!(review["agrees"], true, "{review}");
    assert_eq!(review["rows"][2]["computed"], 1, "one user deactivated: {review}");

    // Approved: production is made from integration, and its credentials are sent.
    let seen = sink.received.lock().unwrap().len();
    let (status, decided) =
        admin(&http, reqwest::Method::POST, api(&format!("/tenants/acme/golive/{id}/approve")), None).await;
    assert_eq!(status, 200, "{decided}");
    let production = decided["promoted"]["production"]["name"].as_str().unwrap().to_string();
    assert_eq!(production, "acme-production");
    assert_eq!((decided["promoted"]["groups"].as_u64(), decided["promoted"]["places"].as_u64()), (Some(1), Some(4)));
    let granted = email(&sink, "svc@acme.test", "production access", seen).await;
    assert!(granted.contains("acme-production"), "{granted}");
    let prod = credentials(&sink, &gateway, 2, seen, &origin, dir.path(), "production passphrase 2").await;
    assert_eq!(prod.username, "svc@acme.test");
    assert_ne!(prod.client_id, customer.client_id);

    // Production serves: empty of users, with the operator's group and its access.
    let prod_report = prod.sync(&config, &["ann,Ann,A,ann@acme.test,true,e-ann"], &dir.path().join("prod.json")).await;
    assert_eq!(prod_report["created"], 1, "{prod_report}");
    let (_, links) = admin(&http, reqwest::Method::GET, api("/tenants/acme-production/access"), None).await;
    assert_eq!(links.as_array().map(Vec::len), Some(1), "{links}");
    let (_, tenants) = admin(&http, reqwest::Method::GET, api("/tenants"), None).await;
    let acme = tenants.as_array().unwrap().iter().find(|t| t["name"] == "acme").unwrap().clone();
    assert_eq!(acme["counterpart"], "acme-production", "{acme}");
    let listed = run_ok({
        let mut c = scimd(&config);
        c.args(["tenant", "list"]);
        c
    })
    .await;
    assert!(listed.lines().any(|l| l.ends_with("integration\tacme-production")), "{listed}");

    // Integration stays for the customer's tests.
    let later = customer.sync(&config, &["cid,Cid,C,cid@acme.test,true,e-cid"], &dir.path().join("again.json")).await;
    assert_eq!(later["created"], 1, "{later}");

    // The history, and a message log without a secret or a link.
    let (_, history) = admin(&http, reqwest::Method::GET, api("/tenants/acme/golive"), None).await;
    let states: Vec<&str> = history.as_array().unwrap().iter().map(|h| h["state"].as_str().unwrap()).collect();
    assert_eq!(states, ["approved", "rejected"]);
    let (_, log) = admin(&http, reqwest::Method::GET, api("/tenants/acme/messages"), None).await;
    let text = log.to_string();
    assert!(text.contains("client-secret") && text.contains("[secret]") && text.contains("[link]"), "{text}");
    assert!(!text.contains("scimd_cs_") && !text.contains("token="), "{text}");
}

/// Stops the server however the test ends (a failed assertion included).
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
