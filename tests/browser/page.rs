//! What a test does in a tab and reads from it: navigation, signing in, the warning dialog,
//! the server's view of the session, drafts in sessionStorage.

use std::time::{Duration, Instant};

use fantoccini::{key::Key, Client, Locator};
use serde::Deserialize;
use serde_json::Value;

use crate::app::RequestLog;

/// A browser tab (the window the client has switched to) on the test app.
#[derive(Clone)]
pub struct Page {
    pub client: Client,
    base: String,
    /// The state-changing requests the app has answered.
    pub log: RequestLog,
}

/// The warning dialog as the user sees it.
#[derive(Debug, Deserialize)]
pub struct Dialog {
    pub role: String,
    pub mode: String,
    pub title: String,
    pub countdown: String,
    pub buttons: Vec<String>,
    /// The text of the focused element.
    pub focused: String,
}

/// What axe-core found: the rules that failed, with their offending nodes, and the ids of the
/// rules that passed.
#[derive(Debug, Deserialize)]
pub struct Axe {
    pub violations: Vec<Value>,
    pub passes: Vec<String>,
}

/// What `GET /session/status` answers now.
#[derive(Debug, Deserialize)]
pub struct Status {
    pub status: u16,
    pub body: Value,
}

const DIALOG: &str = "
    const backdrop = document.querySelector('.session-expiry-backdrop');
    if (!backdrop || backdrop.hidden) return null;
    const dialog = backdrop.querySelector('.session-expiry-dialog');
    return {
        role: dialog.getAttribute('role'),
        mode: backdrop.dataset.mode,
        title: dialog.querySelector('h2').textContent,
        countdown: dialog.querySelector('[role=timer]').textContent,
        buttons: [...dialog.querySelectorAll('button')].map(b => b.textContent),
        focused: document.activeElement ? document.activeElement.textContent : '',
    };";

const STATUS: &str = "
    const done = arguments[arguments.length - 1];
    fetch('/session/status', {
        headers: { 'X-Requested-With': 'XMLHttpRequest' },
        credentials: 'same-origin',
        cache: 'no-store',
    })
        .then(r => r.json().then(body => done({ status: r.status, body })))
        .catch(e => done({ status: 0, body: String(e) }));";

impl Page {
    pub fn new(client: Client, base: &str, log: RequestLog) -> Self {
        Self {
            client,
            base: base.to_owned(),
            log,
        }
    }

    pub async fn open(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .unwrap_or_else(|e| panic!("cannot open {path}: {e}"));
    }

    /// Path and query of the current location.
    pub async fn location(&self) -> String {
        let url = self.client.current_url().await.unwrap();
        match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        }
    }

    pub async fn js(&self, script: &str) -> Value {
        self.client
            .execute(script, vec![])
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// Polls `script` until it returns something other than `null`, `false` or `""`, and
    /// returns that; fails the test after `within`.
    pub async fn wait_for(&self, what: &str, within: Duration, script: &str) -> Value {
        let deadline = Instant::now() + within;
        loop {
            // A navigation in progress can fail a script: that is "not yet".
            if let Ok(value) = self.client.execute(script, vec![]).await {
                let unset = matches!(&value, Value::Null | Value::Bool(false))
                    || value.as_str() == Some("");
                if !unset {
                    return value;
                }
            }
            if Instant::now() >= deadline {
                let at = self.client.current_url().await.map(|u| u.to_string());
                panic!("waited {within:?} for {what}, in vain (at {at:?})");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn wait_for_location(&self, prefix: &str, within: Duration) -> String {
        let script = format!(
            "const here = location.pathname + location.search; \
             return here.startsWith({prefix:?}) && document.readyState === 'complete' && here;"
        );
        let what = format!("the location {prefix}…");
        let found = self.wait_for(&what, within, &script).await;
        found.as_str().unwrap().to_owned()
    }

    /// Signs in on the log-in page the tab shows.
    pub async fn sign_in(&self, user: &str) {
        let form = self.client.form(Locator::Css("form")).await.unwrap();
        form.set_by_name("username", user).await.unwrap();
        form.set_by_name("password", "password").await.unwrap();
        self.client
            .find(Locator::Css("form button"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        self.wait_for(
            "the page after signing in",
            Duration::from_secs(15),
            "return !location.pathname.startsWith('/login') && document.readyState === 'complete';",
        )
        .await;
    }

    /// Opens `path` and signs in as `user` on the way.
    pub async fn sign_in_to(&self, user: &str, path: &str) {
        self.open(path).await;
        self.wait_for_location("/login", Duration::from_secs(10))
            .await;
        self.sign_in(user).await;
        self.wait_for_location(path, Duration::from_secs(10)).await;
    }

    /// Waits until the script has learned about the session (the status request answered).
    pub async fn wait_for_script(&self) {
        self.wait_for(
            "the script to load",
            Duration::from_secs(10),
            "return typeof window.SessionExpiry === 'object';",
        )
        .await;
    }

    pub async fn dialog(&self) -> Option<Dialog> {
        let value = self.js(DIALOG).await;
        serde_json::from_value(value).unwrap()
    }

    pub async fn wait_for_dialog(&self, within: Duration) -> Dialog {
        let value = self.wait_for("the warning dialog", within, DIALOG).await;
        serde_json::from_value(value).unwrap()
    }

    pub async fn wait_for_no_dialog(&self, within: Duration) {
        let script = format!("return (function () {{ {DIALOG} }})() === null;");
        self.wait_for("the warning dialog to close", within, &script)
            .await;
    }

    /// Presses `key` on the focused element.
    pub async fn press(&self, key: Key) {
        let focused = self.client.active_element().await.unwrap();
        focused.send_keys(&key.to_string()).await.unwrap();
    }

    pub async fn click(&self, selector: &str) {
        self.client
            .find(Locator::Css(selector))
            .await
            .unwrap_or_else(|e| panic!("no {selector}: {e}"))
            .click()
            .await
            .unwrap();
    }

    pub async fn type_into(&self, name: &str, text: &str) {
        self.client
            .find(Locator::Css(&format!("[name={name:?}]")))
            .await
            .unwrap_or_else(|e| panic!("no field {name}: {e}"))
            .send_keys(text)
            .await
            .unwrap();
    }

    /// Keeps typing into the field `name`, a few keys every 150 ms, for `during`.
    pub async fn keep_typing(&self, name: &str, during: Duration) {
        let start = Instant::now();
        while start.elapsed() < during {
            self.type_into(name, "ab ").await;
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    }

    /// Waits until the app has answered at least `count` keep-alives.
    pub async fn wait_for_keepalives(&self, count: usize, within: Duration) {
        let deadline = Instant::now() + within;
        while self.log.keepalives().len() < count {
            assert!(
                Instant::now() < deadline,
                "waited {within:?} for {count} keep-alives, in vain: {:?}",
                self.log.keepalives()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Minimizes the window: its page is then hidden (`document.hidden`), and WebDriver still
    /// delivers keys to it.
    pub async fn hide(&self) {
        self.client.minimize_window().await.unwrap();
        self.wait_for(
            "the page to be hidden",
            Duration::from_secs(5),
            "return document.hidden;",
        )
        .await;
    }

    /// Shows the window again, at the size the tests use.
    pub async fn show(&self) {
        self.client.maximize_window().await.unwrap();
        self.client.set_window_size(1000, 760).await.unwrap();
        self.wait_for(
            "the page to be visible",
            Duration::from_secs(5),
            "return !document.hidden;",
        )
        .await;
    }

    /// What axe-core finds in the page as it is now, with every rule it runs by default (WCAG
    /// 2.x A and AA, and best practices).
    pub async fn axe(&self) -> Axe {
        // Loaded from the vendored copy: the tests never need the network.
        let axe = include_str!("assets/axe.min.js");
        let loaded = self.js(&format!("{axe}\n;return typeof window.axe;")).await;
        assert_eq!(loaded, "object", "axe-core did not load");
        let value = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document)
                     .then(r => done({
                         violations: r.violations.map(v => ({
                             id: v.id,
                             impact: v.impact,
                             help: v.help,
                             nodes: v.nodes.map(n => n.html + ' — ' + n.failureSummary),
                         })),
                         passes: r.passes.map(p => p.id),
                     }))
                     .catch(e => done({ violations: [{ id: 'axe-error', help: String(e) }],
                                        passes: [] }));",
                vec![],
            )
            .await
            .unwrap();
        serde_json::from_value(value).unwrap()
    }

    /// `GET /session/status` from the page (passive: it is not activity).
    pub async fn server_status(&self) -> Status {
        let value = self.client.execute_async(STATUS, vec![]).await.unwrap();
        serde_json::from_value(value).unwrap()
    }

    /// The session-expiry drafts this tab's sessionStorage holds, as raw key and value.
    pub async fn drafts(&self) -> Vec<(String, String)> {
        let value = self
            .js("return Object.keys(sessionStorage)
                    .filter(k => k.startsWith('session-expiry:draft:'))
                    .map(k => [k, sessionStorage.getItem(k)]);")
            .await;
        serde_json::from_value(value).unwrap()
    }

    /// The page's visible text.
    pub async fn text(&self) -> String {
        let value = self.js("return document.body.innerText;").await;
        value.as_str().unwrap_or_default().to_owned()
    }
}
