//! Shared helpers of the end-to-end tests: `mcp-authz serve` as the built binary (without `--dev`,
//! its first user's password read from the line it prints), a cookie-keeping "browser" that submits
//! the real login and consent forms, and client commands run as child processes.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::expect_used
)] // test helpers: failing loudly is the point

pub mod oauth;
pub mod pg;
pub mod proxy;
pub mod round_robin;

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// How long a helper waits for a line from a child before giving up (a hang guard, not a timing
/// assertion).
const PATIENCE: Duration = Duration::from_secs(120);

/// The line `serve` prints the first user's password on.
const PASSWORD_LINE: &str = "created user `admin` with password: ";

/// The first user `serve` creates.
pub const ADMIN: &str = "admin";

/// Waits for the `listening on <base>` line a just-spawned `serve` prints first, and returns the base
/// URL; panics with the server's standard error (written to `log`) if the line is anything else.
pub fn listening_base(child: &mut Child, log: &Path) -> String {
    announcements(child, log, 1).remove(0)
}

/// The first `lines` lines a just-spawned `serve` prints (`listening on <base>`, then
/// `metrics on <url>` when asked for), each without its label; panics with the server's standard
/// error (written to `log`) if one is anything else.
fn announcements(child: &mut Child, log: &Path, lines: usize) -> Vec<String> {
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    ["listening on ", "metrics on "]
        .into_iter()
        .take(lines)
        .map(|label| {
            let mut line = String::new();
            stdout.read_line(&mut line).unwrap();
            line.trim()
                .strip_prefix(label)
                .unwrap_or_else(|| {
                    panic!(
                        "expected `{label}…`, got {line:?}; stderr: {}",
                        std::fs::read_to_string(log).unwrap_or_default()
                    )
                })
                .to_owned()
        })
        .collect()
}

/// A running `mcp-authz serve`; killed when dropped (or stopped with SIGTERM by [`Serve::stop`]).
pub struct Serve {
    child: Child,
    /// `http://127.0.0.1:<port>`: the issuer; the demo MCP server is at `<base>/mcp`.
    pub base: String,
    /// The data directory (SQLite).
    pub data_dir: PathBuf,
    /// `http://127.0.0.1:<port>/metrics` when started with `--metrics-bind` (the port `serve`
    /// announced, so a test can ask for port 0 instead of guessing a free one).
    pub metrics: Option<String>,
    log: PathBuf,
}

impl Serve {
    /// `serve --bind 127.0.0.1:0 --data-dir <data_dir> <extra>`, without `--dev`.
    pub fn start(data_dir: &Path, extra: &[&str]) -> Self {
        Self::start_on(data_dir, "127.0.0.1:0", extra)
    }

    /// `serve --bind <bind> ...`: restarting on the address of an earlier run keeps the issuer. With
    /// `--store URL` among `extra`, `data_dir` is not passed (only its parent holds the log).
    pub fn start_on(data_dir: &Path, bind: &str, extra: &[&str]) -> Self {
        let parent = data_dir.parent().unwrap();
        let log = parent.join(format!(
            "serve-{}.log",
            std::fs::read_dir(parent).unwrap().count()
        ));
        let mut command = Command::new(env!("CARGO_BIN_EXE_mcp-authz"));
        command.args(["serve", "--bind", bind]);
        if !extra.contains(&"--store") {
            command.arg("--data-dir").arg(data_dir);
        }
        let mut child = command
            .args(extra)
            // No configuration file of the machine's user.
            .env("XDG_CONFIG_HOME", parent.join("serve-config"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let metrics = extra.contains(&"--metrics-bind");
        let mut lines = announcements(&mut child, &log, 1 + usize::from(metrics)).into_iter();
        let base = lines.next().unwrap();
        Self {
            child,
            base,
            data_dir: data_dir.to_owned(),
            metrics: lines.next(),
            log,
        }
    }

    /// The demo MCP server's URL.
    pub fn mcp_url(&self) -> String {
        format!("{}/mcp", self.base)
    }

    /// The bound address (`127.0.0.1:<port>`).
    pub fn addr(&self) -> String {
        self.base.trim_start_matches("http://").to_owned()
    }

    /// What `serve` wrote on standard error so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap()
    }

    /// The first user's password, from the one line `serve` printed it on at first start.
    pub fn admin_password(&self) -> String {
        let log = self.log();
        log.lines()
            .find_map(|l| {
                l.split_once(PASSWORD_LINE)
                    .map(|(_, p)| p.trim().to_owned())
            })
            .unwrap_or_else(|| panic!("no password line in {log}"))
    }

    /// SIGTERM, then waits; `true` when it exited 0.
    pub fn stop(mut self) -> bool {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        self.child.wait().unwrap().success()
    }

    /// SIGTERM, then waits at most `deadline`: `Some(exited 0)`, or `None` when it is still running
    /// (it is killed when dropped).
    pub fn stop_within(&mut self, deadline: Duration) -> Option<bool> {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let start = std::time::Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status.success());
            }
            if start.elapsed() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Serve {
    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL, then waits: the process gets no chance to flush or close anything.
    pub fn kill(mut self) -> std::process::ExitStatus {
        self.child.kill().unwrap();
        self.child.wait().unwrap()
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Decodes the entities `escape` in the server's pages produces.
fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The value of attribute `name` in the first tag of `html` that starts with `tag_start` and
/// contains `must_contain`.
pub fn attribute(html: &str, tag_start: &str, must_contain: &str, name: &str) -> Option<String> {
    let mut rest = html;
    while let Some(at) = rest.find(tag_start) {
        let tag_end = rest[at..].find('>')? + at;
        let tag = &rest[at..tag_end];
        rest = &rest[tag_end..];
        if !tag.contains(must_contain) {
            continue;
        }
        let marker = format!("{name}=\"");
        let start = tag.find(&marker)? + marker.len();
        let end = tag[start..].find('"')? + start;
        return Some(unescape(&tag[start..end]));
    }
    None
}

/// Every `<input type="hidden">` of `html`, as (name, value).
pub fn hidden_inputs(html: &str) -> Vec<(String, String)> {
    let mut fields = Vec::new();
    let mut rest = html;
    while let Some(at) = rest.find("<input") {
        let end = rest[at..].find('>').unwrap() + at;
        let tag = &rest[at..=end];
        rest = &rest[end..];
        if !tag.contains("type=\"hidden\"") {
            continue;
        }
        let name = attribute(tag, "<input", "", "name").unwrap();
        let value = attribute(tag, "<input", "", "value").unwrap_or_default();
        fields.push((name, value));
    }
    fields
}

/// A user's browser: keeps cookies, follows no redirect by itself, submits the real forms.
pub struct Browser {
    http: reqwest::Client,
}

impl Default for Browser {
    fn default() -> Self {
        Self::new()
    }
}

impl Browser {
    /// A browser with an empty cookie jar.
    pub fn new() -> Self {
        Self {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .cookie_store(true)
                .build()
                .unwrap(),
        }
    }

    /// A browser that opens a new connection for every request: behind a round-robin balancer,
    /// consecutive steps reach different instances.
    pub fn without_keep_alive() -> Self {
        Self {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .cookie_store(true)
                .pool_max_idle_per_host(0)
                .build()
                .unwrap(),
        }
    }

    /// The browser's HTTP client (its cookie jar holds the session), for requests a test makes itself.
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// Submits the first form of `page` (found at `page_url`) with its hidden inputs plus `fields`.
    async fn submit(
        &self,
        page_url: &str,
        page: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let action = attribute(page, "<form", "method=\"post\"", "action")
            .unwrap_or_else(|| panic!("no form in {page}"));
        let target = url::Url::parse(page_url).unwrap().join(&action).unwrap();
        let mut form = hidden_inputs(page);
        form.extend(
            fields
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        self.http.post(target).form(&form).send().await.unwrap()
    }

    /// Opens `authorization_url`, signs in as `user` if the login page shows, approves on the consent
    /// page, and follows the final redirect to the client's loopback listener. Returns the callback
    /// URL and the HTML of the consent page.
    pub async fn authorize(
        &self,
        authorization_url: &str,
        user: &str,
        password: &str,
    ) -> (String, String) {
        self.decide(authorization_url, user, password, "approve")
            .await
    }

    /// Like [`authorize`](Self::authorize), answering the consent page with `decision` (`approve`
    /// or `deny`).
    pub async fn decide(
        &self,
        authorization_url: &str,
        user: &str,
        password: &str,
        decision: &str,
    ) -> (String, String) {
        let mut url = url::Url::parse(authorization_url).unwrap();
        let mut response = self.http.get(url.clone()).send().await.unwrap();
        let mut consent = String::new();
        for _ in 0..6 {
            let status = response.status();
            if status.is_redirection() {
                let location = response.headers()["location"].to_str().unwrap().to_owned();
                let next = url.join(&location).unwrap();
                if next.origin() != url::Url::parse(authorization_url).unwrap().origin() {
                    // The redirect to the client: deliver it like a browser would.
                    let delivered = self.http.get(next.clone()).send().await.unwrap();
                    assert_eq!(delivered.status(), 200, "the loopback listener answered");
                    return (next.to_string(), consent);
                }
                url = next;
                response = self.http.get(url.clone()).send().await.unwrap();
                continue;
            }
            assert_eq!(status, 200, "{url}");
            let page = response.text().await.unwrap();
            response = if page.contains("name=\"password\"") {
                self.submit(
                    url.as_str(),
                    &page,
                    &[("username", user), ("password", password)],
                )
                .await
            } else if page.contains("value=\"approve\"") {
                consent = page.clone();
                self.submit(url.as_str(), &page, &[("decision", decision)])
                    .await
            } else {
                panic!("neither a login nor a consent page at {url}: {page}");
            };
        }
        panic!("too many steps from {authorization_url}");
    }
}

/// A client command (`login`, `call`, ...) running as a child process; standard error is read line
/// by line as it comes.
pub struct Running {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
    reader: Option<std::thread::JoinHandle<()>>,
}

/// `mcp-authz <args>` with `MCP_AUTHZ_CONFIG_DIR=<config_dir>`.
pub fn command(config_dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_mcp-authz"));
    command
        .args(args)
        .env("MCP_AUTHZ_CONFIG_DIR", config_dir)
        // No configuration file of the machine's user reaches admin commands either.
        .env("XDG_CONFIG_HOME", config_dir.with_extension("xdg"))
        .stdin(Stdio::null());
    command
}

/// Starts `mcp-authz <args>` with its standard output and error piped.
pub fn spawn(config_dir: &Path, args: &[&str]) -> Running {
    let mut child = command(config_dir, args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (sender, lines) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    Running {
        child,
        lines,
        seen: Vec::new(),
        reader: Some(reader),
    }
}

/// The outcome of a finished command.
#[derive(Debug)]
pub struct Finished {
    /// Exit status 0.
    pub success: bool,
    /// The exit code (`None` when a signal ended the process).
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Running {
    /// The child's process id (to send it a signal).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits for the first standard-error line starting with `prefix` (blocking; call from a
    /// multi-thread runtime through `block_in_place`).
    pub fn line_starting_with(&mut self, prefix: &str) -> String {
        loop {
            match self.lines.recv_timeout(PATIENCE) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.starts_with(prefix) {
                        return line;
                    }
                }
                Err(_) => panic!(
                    "no line starting with {prefix:?}; standard error so far:\n{}",
                    self.seen.join("\n")
                ),
            }
        }
    }

    /// Waits for the exit and collects both outputs.
    pub fn finish(mut self) -> Finished {
        let mut stdout = String::new();
        std::io::Read::read_to_string(&mut self.child.stdout.take().unwrap(), &mut stdout).unwrap();
        let status = self.child.wait().unwrap();
        if let Some(reader) = self.reader.take() {
            reader.join().unwrap();
        }
        self.seen.extend(self.lines.try_iter());
        Finished {
            success: status.success(),
            code: status.code(),
            stdout,
            stderr: self.seen.join("\n") + "\n",
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `mcp-authz <args>` to the end.
pub fn run(config_dir: &Path, args: &[&str]) -> Finished {
    let output = command(config_dir, args).output().unwrap();
    Finished {
        success: output.status.success(),
        code: output.status.code(),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

/// Runs a command that goes to the browser: waits for the authorization URL it prints, authorizes
/// in `browser` as `user`, then waits for the exit. Returns the outcome and the consent page.
pub async fn run_with_browser(
    config_dir: &Path,
    args: &[&str],
    issuer: &str,
    browser: &Browser,
    user: &str,
    password: &str,
) -> (Finished, String) {
    let mut running = spawn(config_dir, args);
    let prefix = format!("{issuer}/authorize?");
    let url = tokio::task::block_in_place(|| running.line_starting_with(&prefix));
    let (_, consent) = browser.authorize(&url, user, password).await;
    let finished = tokio::task::block_in_place(|| running.finish());
    (finished, consent)
}

/// The token file in `config_dir`, parsed.
pub fn token_file(config_dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(config_dir.join("tokens.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The only grant in the token file.
pub fn only_grant(config_dir: &Path) -> serde_json::Value {
    let file = token_file(config_dir);
    let grants = file["grants"].as_object().unwrap();
    assert_eq!(grants.len(), 1, "{file}");
    grants.values().next().unwrap().clone()
}
