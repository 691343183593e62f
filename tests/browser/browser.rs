//! Headless Chromium under chromedriver, one of each per test, cleaned up however the test ends.

use std::{
    env,
    future::Future,
    net::{TcpListener, TcpStream},
    os::unix::process::CommandExt as _,
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::atomic::{AtomicUsize, Ordering},
    thread,
    time::{Duration, Instant},
};

use fantoccini::{Client, ClientBuilder};
use hyper_util::client::legacy::connect::HttpConnector;

use crate::{
    app::{TestApp, Timeouts},
    page::Page,
};

const INSTALL: &str = "apt-get update && apt-get install -y chromium chromium-driver";

/// Flags that keep a headless Chromium from stalling on Google hosts in a closed network.
const CHROMIUM_FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1000,760",
];

/// Finds `name` on `PATH` (or takes the path in the environment variable `var`), or fails the
/// test with the command that installs it: a browser test is never skipped.
fn require(var: &str, names: &[&str]) -> PathBuf {
    let path = env::var_os("PATH").unwrap_or_default();
    let given = env::var_os(var).map(PathBuf::from);
    given
        .into_iter()
        .chain(env::split_paths(&path).flat_map(|dir| names.iter().map(move |name| dir.join(name))))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| {
            panic!(
                "the browser tests need {} on PATH (or its path in ${var}); install it with: \
                 {INSTALL}",
                names[0]
            )
        })
}

/// A chromedriver process group (chromedriver and the Chromium it starts): killed when dropped.
struct Driver {
    child: Child,
    port: u16,
}

impl Driver {
    fn spawn(chromedriver: &PathBuf, profile: &Profile) -> Self {
        for _ in 0..3 {
            let port = free_port();
            let mut child = Command::new(chromedriver)
                .arg(format!("--port={port}"))
                // Chromium's scratch directories go with the profile, not into /tmp.
                .env("TMPDIR", profile.tmp())
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                // Its own process group, so that Drop can end Chromium's processes with it.
                .process_group(0)
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {}: {e}", chromedriver.display()));
            let deadline = Instant::now() + Duration::from_secs(20);
            while Instant::now() < deadline {
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return Self { child, port };
                }
                if child.try_wait().ok().flatten().is_some() {
                    break; // lost the port to someone else: try another
                }
                thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("chromedriver did not start listening");
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let killed = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
        if !killed {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind(("127.0.0.1", 0))
        .and_then(|listener| listener.local_addr())
        .expect("no free port")
        .port()
}

/// A fresh, empty Chromium profile directory, and one for its temporary files; both removed
/// when dropped.
struct Profile(PathBuf);

impl Profile {
    fn new() -> Self {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let dir = env::temp_dir().join(format!(
            "session-expiry-chromium-{}-{}",
            std::process::id(),
            COUNT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        let profile = Self(dir);
        for sub in [profile.data(), profile.tmp()] {
            std::fs::create_dir_all(sub).expect("create a Chromium profile directory");
        }
        profile
    }

    fn data(&self) -> PathBuf {
        self.0.join("data")
    }

    fn tmp(&self) -> PathBuf {
        self.0.join("tmp")
    }
}

impl Drop for Profile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Serves the demo app with `timeouts` and runs `scenario` on a tab of a new browser.
pub async fn in_browser<F, Fut>(timeouts: Timeouts, scenario: F)
where
    F: FnOnce(Page) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let app = TestApp::start(timeouts);
    let log = app.log.clone();
    with_browser(|client| scenario(Page::new(client, &app.url, log))).await;
}

/// Runs `scenario` in a new headless Chromium with an empty profile, then closes the browser,
/// whether the scenario passed or panicked (and then re-raises its panic).
async fn with_browser<F, Fut>(scenario: F)
where
    F: FnOnce(Client) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let chromium = require("CHROMIUM", &["chromium", "chromium-browser"]);
    let chromedriver = require("CHROMEDRIVER", &["chromedriver"]);
    let profile = Profile::new();
    let driver = Driver::spawn(&chromedriver, &profile);

    let mut args: Vec<String> = CHROMIUM_FLAGS.iter().map(|&flag| flag.to_owned()).collect();
    args.push(format!("--user-data-dir={}", profile.data().display()));
    let capabilities = serde_json::json!({
        "browserName": "chrome",
        "goog:chromeOptions": { "binary": chromium, "args": args },
        "timeouts": { "script": 15_000, "pageLoad": 30_000 },
    });
    let serde_json::Value::Object(capabilities) = capabilities else {
        unreachable!()
    };
    let client = ClientBuilder::new(HttpConnector::new())
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .unwrap_or_else(|e| panic!("chromedriver could not start {}: {e}", chromium.display()));

    let outcome = tokio::spawn(scenario(client.clone())).await;
    let _ = client.close().await;
    drop(driver);
    drop(profile);
    if let Err(error) = outcome {
        match error.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(error) => panic!("the scenario did not finish: {error}"),
        }
    }
}
