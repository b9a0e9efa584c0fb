//! chromedriver on an ephemeral loopback port (`--port=0`, the port read from its start-up line),
//! in its own process group so that the Chromium it starts goes down with it.

use std::fs::File;
use std::os::unix::process::CommandExt as _;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::webdriver::Session;

/// The Debian `chromium-driver` package's binary.
pub(crate) const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// The Debian `chromium` package's binary.
pub(crate) const CHROMIUM: &str = "/usr/bin/chromium";

const STARTED: &str = "started successfully on port ";

/// A running chromedriver; it and every browser it started are killed when dropped.
pub(crate) struct Chromedriver {
    child: Child,
    url: String,
    dir: tempfile::TempDir,
}

fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

impl Chromedriver {
    /// Starts chromedriver. When it or Chromium is not installed: panics under `CI=true`, otherwise
    /// prints a loud notice and returns `None` (the caller returns without passing anything off as
    /// checked).
    pub(crate) fn start() -> Option<Self> {
        if !Path::new(CHROMEDRIVER).exists() || !Path::new(CHROMIUM).exists() {
            let why = format!(
                "{CHROMEDRIVER} or {CHROMIUM} is missing; install the Debian packages \
                 `chromium` and `chromium-driver` (.ci/run does it when /usr/bin/chromedriver is \
                 missing)"
            );
            assert!(
                !under_ci(),
                "CI is set: the real-browser consent tests cannot run: {why}"
            );
            eprintln!("\n!!!!! NOT RUN: the real-browser consent test was skipped: {why} !!!!!\n");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let log_path = dir.path().join("chromedriver.log");
        let log = File::create(&log_path).unwrap();
        let child = Command::new(CHROMEDRIVER)
            .arg("--port=0")
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {CHROMEDRIVER}: {e}"));
        let mut driver = Self {
            child,
            url: String::new(),
            dir,
        };
        for _ in 0..600 {
            let text = std::fs::read_to_string(&log_path).unwrap_or_default();
            if let Some(port) = text
                .split_once(STARTED)
                .and_then(|(_, rest)| rest.split_once('.'))
                .and_then(|(port, _)| port.parse::<u16>().ok())
            {
                driver.url = format!("http://127.0.0.1:{port}");
                return Some(driver);
            }
            if let Ok(Some(status)) = driver.child.try_wait() {
                panic!("chromedriver exited with {status}: {text}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "chromedriver did not report its port: {}",
            std::fs::read_to_string(&log_path).unwrap_or_default()
        );
    }

    /// A new headless Chromium session with a fresh profile.
    pub(crate) async fn session(&self) -> Session {
        let profile = tempfile::tempdir_in(self.dir.path()).unwrap().keep();
        Session::start(&self.url, CHROMIUM, &profile)
            .await
            .unwrap_or_else(|e| panic!("cannot start Chromium through chromedriver: {e}"))
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        // The whole process group: chromedriver and the Chromium processes it started.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .status();
        let _ = self.child.wait();
    }
}
