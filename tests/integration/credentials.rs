//! Sessions end when credentials change: the security stamp over HTTP on the cookie store, with
//! `MockClock` (#26).

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use actix_web::{
    http::{header, StatusCode},
    test::{self, TestRequest},
    web, App, HttpRequest, HttpResponse,
};
use session_expiry::{
    config::SessionExpiryBuilder, Clock as _, Expiry, ExpiryReason, MockClock, SessionEvent,
};

use crate::support::{
    assert_expired, assert_user, expiry, routes, session_middleware, whoami, Client,
};

const INTERVAL: Duration = Duration::from_secs(60);
const BROWSER: &str = "text/html,application/xhtml+xml";

/// The app's users: each one's stamp (a counter), whether lookups fail, and how many ran.
#[derive(Clone, Default)]
pub struct Users {
    stamps: Arc<Mutex<HashMap<String, u64>>>,
    failing: Arc<AtomicBool>,
    lookups: Arc<AtomicUsize>,
}

impl Users {
    pub fn with(users: &[&str]) -> Self {
        let this = Self::default();
        for user in users {
            this.stamps.lock().unwrap().insert((*user).to_owned(), 1);
        }
        this
    }

    /// What the app does when a password changes (or an administrator edits the row).
    pub fn bump(&self, user: &str) {
        *self.stamps.lock().unwrap().get_mut(user).unwrap() += 1;
    }

    pub fn lookups(&self) -> usize {
        self.lookups.load(Ordering::SeqCst)
    }

    pub fn stamped(&self, builder: SessionExpiryBuilder) -> SessionExpiryBuilder {
        let users = self.clone();
        builder.security_stamp(move |user: String, _: HttpRequest| {
            let users = users.clone();
            async move {
                users.lookups.fetch_add(1, Ordering::SeqCst);
                if users.failing.load(Ordering::SeqCst) {
                    return Err(std::io::Error::other("the user database is down"));
                }
                let stamp = users.stamps.lock().unwrap().get(&user).copied();
                Ok(stamp.map(u64::to_be_bytes))
            }
        })
    }
}

/// `POST /password`: stores a new password (bumps the stamp) and signs out the other sessions.
pub async fn change_password(
    expiry: Expiry,
    users: web::Data<Users>,
) -> actix_web::Result<HttpResponse> {
    let user = expiry
        .user()
        .ok_or(session_expiry::ExpiryError::NotSignedIn)?;
    users.bump(&user);
    expiry.credentials_changed()?;
    Ok(HttpResponse::NoContent().finish())
}

macro_rules! stamped_app {
    ($users:expr, $builder:expr) => {
        Client::new(
            test::init_service(
                App::new()
                    .app_data(web::Data::new($users.clone()))
                    .configure(routes)
                    .route("/password", web::post().to(change_password))
                    .wrap($users.stamped($builder).build())
                    .wrap(session_middleware()),
            )
            .await,
        )
    };
}

fn recorder() -> (
    Arc<Mutex<Vec<SessionEvent>>>,
    impl Fn(&SessionEvent) + Send + Sync,
) {
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&events);
    (events, move |event: &SessionEvent| {
        sink.lock().unwrap().push(event.clone());
    })
}

#[actix_web::test]
async fn a_password_change_ends_the_other_session_and_keeps_this_one() {
    let clock = MockClock::new();
    let users = Users::with(&["alice"]);
    let (events, hook) = recorder();
    let client = stamped_app!(users, expiry(&clock).on_event(hook));
    client.login().await;
    let other = client.cookie();
    client.set_cookie(None);
    client.login().await;
    let this = client.cookie();

    let changed = client.json(TestRequest::post().uri("/password")).await;
    assert_eq!(changed.status, StatusCode::NO_CONTENT, "{changed:?}");
    assert!(changed.set_cookie, "the session ID is renewed");
    assert_ne!(client.cookie(), this);
    assert_user(&client.json(whoami()).await, "alice");

    client.set_cookie(other);
    assert_expired(&client.json(whoami()).await, "credentials_changed");
    let events = events.lock().unwrap();
    assert!(events
        .iter()
        .any(|e| matches!(e, SessionEvent::CredentialsChanged { user, .. } if user == "alice")));
    assert!(events.iter().any(|e| matches!(
        e,
        SessionEvent::Expired(expired) if expired.reason == ExpiryReason::CredentialsChanged
    )));
}

#[actix_web::test]
async fn a_browser_is_sent_to_the_log_in_page_with_reason_credentials_changed() {
    let clock = MockClock::new();
    let users = Users::with(&["alice"]);
    let client = stamped_app!(users, expiry(&clock));
    client.login().await;
    users.bump("alice");
    clock.advance(INTERVAL);
    let answer = client
        .send(whoami().insert_header((header::ACCEPT, BROWSER)))
        .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{answer:?}");
    assert_eq!(
        answer.header("location"),
        Some("/login?next=/whoami&reason=credentials_changed")
    );
}

#[actix_web::test]
async fn a_change_made_outside_the_app_is_seen_after_the_interval_and_not_before() {
    let clock = MockClock::new();
    let users = Users::with(&["alice"]);
    let client = stamped_app!(users, expiry(&clock));
    client.login().await;
    users.bump("alice");
    clock.advance(INTERVAL - Duration::from_secs(1));
    assert_user(&client.json(whoami()).await, "alice");
    clock.advance(Duration::from_secs(1));
    assert_expired(&client.json(whoami()).await, "credentials_changed");
}

#[actix_web::test]
async fn passive_requests_are_checked_too() {
    let clock = MockClock::new();
    let users = Users::with(&["alice"]);
    let client = stamped_app!(users, expiry(&clock));
    client.login().await;
    users.bump("alice");
    clock.advance(INTERVAL);
    assert_expired(
        &client.json(TestRequest::get().uri("/passive")).await,
        "credentials_changed",
    );
}

#[actix_web::test]
async fn a_disabled_user_is_signed_out_as_revoked_and_cannot_sign_in() {
    let clock = MockClock::new();
    let users = Users::with(&["alice"]);
    let client = stamped_app!(users, expiry(&clock));
    client.login().await;
    users.stamps.lock().unwrap().remove("alice");
    clock.advance(INTERVAL);
    assert_expired(&client.json(whoami()).await, "revoked");

    let login = client.json(TestRequest::post().uri("/login/alice")).await;
    assert_expired(&login, "revoked");
    let after = client.json(whoami()).await;
    assert_eq!(after.status, StatusCode::OK, "{after:?}");
    assert_eq!(after.json()["user"], serde_json::Value::Null);
}

#[actix_web::test]
async fn a_failing_lookup_answers_503_and_keeps_the_session_without_counting_activity() {
    let clock = MockClock::new();
    let users = Users::with(&["alice"]);
    let (events, hook) = recorder();
    let client = stamped_app!(users, expiry(&clock).on_event(hook));
    client.login().await;
    let seen_before = client.stored_state().await.unwrap().seen_after_login_ms();
    users.failing.store(true, Ordering::SeqCst);
    clock.advance(INTERVAL);

    let answer = client.json(whoami()).await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE, "{answer:?}");
    assert!(answer.header("retry-after").is_some(), "{answer:?}");
    assert!(!answer.set_cookie, "nothing about the session changed");
    assert!(events
        .lock()
        .unwrap()
        .iter()
        .any(|e| matches!(e, SessionEvent::StampLookupFailed { user, .. } if user == "alice")));

    users.failing.store(false, Ordering::SeqCst);
    // The state as the next request finds it: the failed one wrote nothing (no activity).
    let seen_after = client.stored_state().await.unwrap().seen_after_login_ms();
    assert_eq!(seen_after, seen_before);
    assert_user(&client.json(whoami()).await, "alice");
    assert!(!events
        .lock()
        .unwrap()
        .iter()
        .any(|e| matches!(e, SessionEvent::Expired(_))));
}

#[actix_web::test]
async fn a_failing_lookup_at_log_in_signs_nobody_in() {
    let clock = MockClock::new();
    let users = Users::with(&["alice"]);
    let client = stamped_app!(users, expiry(&clock));
    users.failing.store(true, Ordering::SeqCst);
    let login = client.json(TestRequest::post().uri("/login/alice")).await;
    assert_eq!(login.status, StatusCode::SERVICE_UNAVAILABLE, "{login:?}");
    users.failing.store(false, Ordering::SeqCst);
    let after = client.json(whoami()).await;
    assert_eq!(after.json()["user"], serde_json::Value::Null, "{after:?}");
}

#[actix_web::test]
async fn a_lookup_runs_at_most_once_per_user_per_interval() {
    let clock = MockClock::new();
    let users = Users::with(&["alice", "bob"]);
    let client = stamped_app!(users, expiry(&clock));
    let mut sessions = Vec::new();
    for user in ["alice", "alice", "alice", "bob"] {
        client.set_cookie(None);
        let login = client
            .json(TestRequest::post().uri(&format!("/login/{user}")))
            .await;
        assert_eq!(login.status, StatusCode::OK, "{login:?}");
        sessions.push((user, client.cookie()));
    }
    // One lookup per user for their log-ins, shared by alice's three sessions.
    assert_eq!(users.lookups(), 2);
    for round in 0..3 {
        for _ in 0..10 {
            for (user, cookie) in &sessions {
                client.set_cookie(cookie.clone());
                assert_user(&client.json(whoami()).await, user);
            }
            clock.advance(Duration::from_secs(5));
        }
        // 50 seconds of requests on four sessions: no lookup until the interval is over.
        assert_eq!(users.lookups(), 2 + 2 * round, "round {round}");
        clock.advance(Duration::from_secs(10));
    }
}

#[actix_web::test]
async fn with_interval_zero_every_request_looks_the_stamp_up() {
    let clock = MockClock::new();
    let users = Users::with(&["alice"]);
    let client = stamped_app!(users, expiry(&clock).stamp_check_interval(Duration::ZERO));
    client.login().await;
    let after_login = users.lookups();
    for _ in 0..5 {
        assert_user(&client.json(whoami()).await, "alice");
    }
    assert_eq!(users.lookups(), after_login + 5);
}

#[actix_web::test]
async fn credentials_changed_without_a_stamp_is_an_error_not_a_silent_no_op() {
    let clock = MockClock::new();
    let users = Users::with(&["alice"]);
    let client = Client::new(
        test::init_service(
            App::new()
                .app_data(web::Data::new(users.clone()))
                .configure(routes)
                .route("/password", web::post().to(change_password))
                .wrap(expiry(&clock).build())
                .wrap(session_middleware()),
        )
        .await,
    );
    client.login().await;
    let answer = client.json(TestRequest::post().uri("/password")).await;
    assert_eq!(
        answer.status,
        StatusCode::INTERNAL_SERVER_ERROR,
        "{answer:?}"
    );
}

#[actix_web::test]
async fn sessions_signed_in_before_valid_from_end_as_revoked() {
    let clock = MockClock::new();
    let valid_from = clock.now() + chrono::Duration::hours(1);
    let client = crate::support::app(expiry(&clock).sessions_valid_from(valid_from)).await;
    client.login().await;
    assert_expired(&client.json(whoami()).await, "revoked");
    clock.advance(Duration::from_secs(2 * 3600));
    client.login().await;
    assert_user(&client.json(whoami()).await, "alice");
}
