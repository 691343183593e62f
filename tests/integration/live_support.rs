//! What the live-connection tests share: a real server on a free port, a signed-in HTTP
//! client, a WebSocket (awc) and an event-stream reader, and waits bounded by real time.

use std::time::{Duration, Instant};

use actix_web::{dev::ServerHandle, http::header};
use awc::ws::{CloseCode, Frame};
use futures_util::StreamExt as _;
use session_expiry::MockClock;

/// A real server of the test's own on 127.0.0.1, one worker: its base URL, stopped on drop.
pub struct Server {
    pub base: String,
    handle: ServerHandle,
}

impl Server {
    pub fn new(base: String, handle: ServerHandle) -> Self {
        Self { base, handle }
    }

    pub fn ws_url(&self, path: &str) -> String {
        format!("{}{path}", self.base.replacen("http", "ws", 1))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Stopping is a future; the test's runtime ends with the test either way.
        drop(self.handle.stop(false));
    }
}

/// Serves the app `$app` (an `App` expression, built anew per worker) on a free port.
macro_rules! serve {
    ($app:expr) => {{
        let server = actix_web::HttpServer::new(move || $app)
            .workers(1)
            .disable_signals()
            .bind(("127.0.0.1", 0))
            .unwrap();
        let addr = server.addrs()[0];
        let server = server.run();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        crate::live_support::Server::new(format!("http://{addr}"), handle)
    }};
}
pub(crate) use serve;

/// One instance of the live tests' app on a server-side store: `$middleware` (its own hub),
/// the fixtures' routes and the demo's live routes, served on a free port: a [`Server`].
macro_rules! live_instance {
    ($middleware:expr, $store:expr) => {{
        let (middleware, store) = ($middleware, $store);
        crate::live_support::serve!(actix_web::App::new()
            .configure(crate::support::routes)
            .configure(crate::demo::live::routes)
            .wrap(middleware.clone())
            .wrap(crate::live_support::sessions_on(store.clone()))
            .wrap(session_expiry::redis::RequestScope::new()))
    }};
}
pub(crate) use live_instance;

/// The session middleware of the live tests on a server-side `store` (private cookies over
/// plain HTTP).
pub fn sessions_on<S: actix_session::storage::SessionStore>(
    store: S,
) -> actix_session::SessionMiddleware<S> {
    actix_session::SessionMiddleware::builder(store, crate::redis_support::cookie_key())
        .cookie_secure(false)
        .cookie_content_security(actix_session::config::CookieContentSecurity::Private)
        .build()
}

/// A browser's cookie jar of one session, over real HTTP.
#[derive(Clone)]
pub struct Browser {
    client: awc::Client,
    pub cookie: String,
}

impl Browser {
    /// Signs `user` in at `server` (`POST /login/{user}`).
    pub async fn login(server: &Server, user: &str) -> Self {
        Self::login_at(server, &format!("/login/{user}")).await
    }

    /// Signs in with `POST path`.
    pub async fn login_at(server: &Server, path: &str) -> Self {
        Self::login_with(server, path, None).await
    }

    /// Signs in with `POST path`, `json` as the body if any (the demo's log-in form).
    pub async fn login_with(server: &Server, path: &str, json: Option<serde_json::Value>) -> Self {
        let client = awc::Client::new();
        let request = client.post(format!("{}{path}", server.base));
        let response = match json {
            Some(json) => request.send_json(&json).await,
            None => request.send().await,
        }
        .unwrap();
        assert!(response.status().is_success(), "{response:?}");
        let cookie = response
            .cookies()
            .unwrap()
            .iter()
            .map(|cookie| format!("{}={}", cookie.name(), cookie.value()))
            .collect::<Vec<_>>()
            .join("; ");
        assert!(!cookie.is_empty(), "no session cookie");
        Self { client, cookie }
    }

    /// `method path` with this session's cookie; the status.
    pub async fn send(&self, server: &Server, method: &str, path: &str) -> u16 {
        let url = format!("{}{path}", server.base);
        let request = match method {
            "POST" => self.client.post(url),
            _ => self.client.get(url),
        };
        let response = request
            .insert_header((header::COOKIE, self.cookie.as_str()))
            .insert_header((header::ORIGIN, server.base.as_str()))
            .send()
            .await
            .unwrap();
        response.status().as_u16()
    }

    /// `GET path` with this session's cookie, as JSON.
    pub async fn json(&self, server: &Server, path: &str) -> serde_json::Value {
        let mut response = self
            .client
            .get(format!("{}{path}", server.base))
            .insert_header((header::COOKIE, self.cookie.as_str()))
            .insert_header((header::ACCEPT, "application/json"))
            .send()
            .await
            .unwrap();
        response.json().await.unwrap()
    }

    /// Opens the WebSocket at `path`.
    pub async fn socket(&self, server: &Server, path: &str) -> Socket {
        let (response, frames) = self
            .client
            .ws(server.ws_url(path))
            .set_header(header::COOKIE, self.cookie.as_str())
            .connect()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 101, "{response:?}");
        Socket { frames }
    }

    /// Opens the event stream at `path`.
    pub async fn events(&self, server: &Server, path: &str) -> Events {
        let response = self
            .client
            .get(format!("{}{path}", server.base))
            .insert_header((header::COOKIE, self.cookie.as_str()))
            .insert_header((header::ACCEPT, "text/event-stream"))
            .timeout(Duration::from_secs(3600))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200, "{response:?}");
        Events {
            body: Box::pin(response),
            text: String::new(),
        }
    }
}

/// An open WebSocket.
pub struct Socket {
    frames: actix_codec::Framed<awc::BoxedSocket, awc::ws::Codec>,
}

impl Socket {
    /// Reads frames (skipping the clock's ticks) until the server closes, for at most `within`
    /// of real time: the close code and reason.
    pub async fn closed_within(&mut self, within: Duration) -> (u16, String) {
        let started = Instant::now();
        loop {
            let left = within.saturating_sub(started.elapsed());
            let frame = actix_web::rt::time::timeout(left, self.frames.next())
                .await
                .unwrap_or_else(|_| panic!("still open after {within:?}"));
            match frame {
                Some(Ok(Frame::Close(Some(reason)))) => {
                    return (
                        u16::from(reason.code),
                        reason.description.unwrap_or_default(),
                    )
                }
                Some(Ok(Frame::Close(None))) => {
                    return (u16::from(CloseCode::Normal), String::new())
                }
                Some(Ok(_)) => {}
                other => panic!("the socket ended without a close frame: {other:?}"),
            }
        }
    }

    /// Asserts the server closes it within `within` of real time with code 4401 and the
    /// expired JSON of `reason`.
    pub async fn closes_with(&mut self, reason: &str, within: Duration) {
        let (code, text) = self.closed_within(within).await;
        assert_eq!((code, text), (4401, expired_json(reason)));
    }

    /// Sends a text message.
    pub async fn send_text(&mut self, text: &str) {
        use futures_util::SinkExt as _;
        self.frames
            .send(awc::ws::Message::Text(text.to_owned().into()))
            .await
            .unwrap();
    }

    /// Whether the socket is still open after `for_` of real time (ticks keep coming).
    pub async fn still_open(&mut self, for_: Duration) -> bool {
        let started = Instant::now();
        while started.elapsed() < for_ {
            let left = for_.saturating_sub(started.elapsed());
            match actix_web::rt::time::timeout(left, self.frames.next()).await {
                Err(_) => return true,
                Ok(Some(Ok(Frame::Text(_) | Frame::Ping(_) | Frame::Pong(_)))) => {}
                Ok(_) => return false,
            }
        }
        true
    }
}

/// An open event stream.
pub struct Events {
    body: std::pin::Pin<
        Box<
            dyn futures_util::Stream<
                Item = Result<actix_web::web::Bytes, awc::error::PayloadError>,
            >,
        >,
    >,
    text: String,
}

/// What an event stream ended with.
#[derive(Debug, PartialEq, Eq)]
pub struct Ended {
    /// The data of its last event.
    pub data: String,
    /// The name of its last event.
    pub event: String,
}

impl Events {
    /// Reads until the server ends the stream, for at most `within` of real time: its last
    /// event.
    pub async fn ended_within(&mut self, within: Duration) -> Ended {
        let started = Instant::now();
        loop {
            let left = within.saturating_sub(started.elapsed());
            let chunk = actix_web::rt::time::timeout(left, self.body.next())
                .await
                .unwrap_or_else(|_| panic!("still streaming after {within:?}: {}", self.text));
            match chunk {
                Some(Ok(bytes)) => self.text.push_str(&String::from_utf8_lossy(&bytes)),
                Some(Err(error)) => panic!("the stream failed: {error}"),
                None => break,
            }
        }
        let last = self
            .text
            .trim_end()
            .rsplit("\n\n")
            .next()
            .unwrap_or_default()
            .to_owned();
        let field = |name: &str| {
            last.lines()
                .find_map(|line| line.strip_prefix(name))
                .unwrap_or_default()
                .trim()
                .to_owned()
        };
        Ended {
            data: field("data:"),
            event: field("event:"),
        }
    }
}

/// Signs `user` in at `server` and opens a WebSocket at `/ws`, its timer armed on `clock`.
pub async fn signed_in_socket(server: &Server, clock: &MockClock, user: &str) -> (Browser, Socket) {
    let browser = Browser::login(server, user).await;
    let before = clock.pending_timers();
    let socket = browser.socket(server, "/ws").await;
    timers(clock, before + 1).await;
    (browser, socket)
}

/// Waits (real time, at most 5 s) until `count` timers wait on `clock`: the connections are
/// open and their `SessionEnd`s armed.
pub async fn timers(clock: &MockClock, count: usize) {
    let started = Instant::now();
    while clock.pending_timers() < count {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{} timers, not {count}",
            clock.pending_timers()
        );
        actix_web::rt::time::sleep(Duration::from_millis(5)).await;
    }
}

/// The close reason of a session that ended with `reason`.
pub fn expired_json(reason: &str) -> String {
    serde_json::json!({ "error": "session_expired", "reason": reason }).to_string()
}
