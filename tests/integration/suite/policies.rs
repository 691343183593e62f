//! Per-user policies: the derive, the resolver, the ceiling, remember-me and roll-out adoption:
//! on every store.

use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::Duration,
};

use actix_session::SessionExt as _;
use actix_web::{get, http::StatusCode, test::TestRequest, web, HttpRequest, HttpResponse};
use session_expiry::{
    config::Adoption, config::SessionExpiryBuilder, idle_timeout, passive, Expiry, ExpiryPolicy,
    MockClock, Policy, SessionExpiry, ToPolicy,
};

use super::{client_with, suite, Backend};
use crate::support::MINUTE;

suite!(
    a_role_enum_drives_different_timeouts_for_two_users_in_one_app,
    the_resolver_is_consulted_once_per_log_in_and_its_answer_kept,
    login_with_overrides_the_resolver,
    precedence_over_every_combination_of_global_user_ceiling_and_route,
    sessions_from_another_mechanism_stay_anonymous_by_default,
    adoption_starts_the_clocks_for_a_session_signed_in_elsewhere,
);

#[derive(ExpiryPolicy, Clone, Copy)]
enum Tier {
    #[expiry(idle(minutes = 10), absolute(hours = 8))]
    Admin,
    #[expiry(idle(minutes = 30), absolute(days = 5))]
    Member,
}

async fn login_as(
    expiry: Expiry,
    path: web::Path<(String, String)>,
) -> actix_web::Result<HttpResponse> {
    let (user, tier) = path.into_inner();
    match tier.as_str() {
        "admin" => expiry.login_with(user, Tier::Admin)?,
        "member" => expiry.login_with(user, Tier::Member)?,
        _ => expiry.login(user)?,
    }
    Ok(HttpResponse::Ok().finish())
}

/// Passive probes: they read the verdict without moving last-seen.
#[passive]
#[get("/probe")]
async fn probe(expiry: Expiry) -> HttpResponse {
    HttpResponse::Ok().json(expiry.user())
}

#[passive]
#[get("/probe-guarded")]
#[idle_timeout(minutes = 5)]
async fn probe_guarded(expiry: Expiry) -> HttpResponse {
    HttpResponse::Ok().json(expiry.user())
}

/// Logs a user in "by another mechanism": a bare key in the session, no expiry state.
async fn legacy_login(
    req: HttpRequest,
    user: web::Path<String>,
) -> actix_web::Result<HttpResponse> {
    req.get_session().insert("legacy_user", user.into_inner())?;
    Ok(HttpResponse::Ok().finish())
}

/// The routes of these bodies, besides the fixture's.
fn routes(config: &mut web::ServiceConfig) {
    config
        .service(probe)
        .service(probe_guarded)
        .route("/login-as/{user}/{tier}", web::post().to(login_as))
        .route("/legacy-login/{user}", web::post().to(legacy_login));
}

fn builder(clock: &MockClock) -> SessionExpiryBuilder {
    SessionExpiry::builder().clock(clock.clone())
}

pub async fn a_role_enum_drives_different_timeouts_for_two_users_in_one_app(
    backend: &impl Backend,
) {
    let clock = MockClock::new();
    let admin = client_with(backend, builder(&clock), routes).await;
    let member = client_with(backend, builder(&clock), routes).await;
    admin
        .json(TestRequest::post().uri("/login-as/alice/admin"))
        .await;
    member
        .json(TestRequest::post().uri("/login-as/bob/member"))
        .await;

    clock.advance(10 * MINUTE - Duration::from_secs(1));
    assert_eq!(
        admin.json(TestRequest::get().uri("/probe")).await.json(),
        "alice"
    );
    clock.advance(Duration::from_secs(1));
    let answer = admin.json(TestRequest::get().uri("/probe")).await;
    assert_eq!(
        answer.json()["reason"],
        "idle",
        "the admin's 10 minutes are up"
    );
    let active = member.json(TestRequest::get().uri("/whoami")).await;
    assert_eq!(active.json()["user"], "bob");

    // The member's snapshot holds across requests: active every 20 minutes for 5 days.
    let mut elapsed = 10 * MINUTE;
    while elapsed + 20 * MINUTE < Duration::from_secs(5 * 24 * 3600) {
        clock.advance(20 * MINUTE);
        elapsed += 20 * MINUTE;
        let answer = member.json(TestRequest::get().uri("/whoami")).await;
        assert_eq!(answer.json()["user"], "bob", "at {elapsed:?}");
    }
    clock.advance(20 * MINUTE);
    assert_eq!(
        member.json(TestRequest::get().uri("/whoami")).await.json()["reason"],
        "absolute"
    );
}

pub async fn the_resolver_is_consulted_once_per_log_in_and_its_answer_kept(backend: &impl Backend) {
    let clock = MockClock::new();
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&calls);
    let resolver = move |user: String, _: HttpRequest| {
        counted.fetch_add(1, Ordering::SeqCst);
        async move { (user == "alice").then(|| Tier::Admin.to_policy()) }
    };
    let alice = client_with(
        backend,
        builder(&clock).policy_resolver(resolver.clone()),
        routes,
    )
    .await;
    let bob = client_with(backend, builder(&clock).policy_resolver(resolver), routes).await;
    alice
        .json(TestRequest::post().uri("/login-as/alice/resolve"))
        .await;
    bob.json(TestRequest::post().uri("/login-as/bob/resolve"))
        .await;
    assert_eq!(calls.load(Ordering::SeqCst), 2);

    for _ in 0..20 {
        clock.advance(Duration::from_secs(20));
        alice.json(TestRequest::get().uri("/whoami")).await;
        bob.json(TestRequest::get().uri("/whoami")).await;
    }
    assert_eq!(calls.load(Ordering::SeqCst), 2, "no lookup after log-in");

    clock.advance(10 * MINUTE);
    assert_eq!(
        alice.json(TestRequest::get().uri("/probe")).await.json()["reason"],
        "idle"
    );
    assert_eq!(
        bob.json(TestRequest::get().uri("/probe")).await.json(),
        "bob",
        "global 30 minutes"
    );

    alice
        .json(TestRequest::post().uri("/login-as/alice/resolve"))
        .await;
    assert_eq!(
        calls.load(Ordering::SeqCst),
        3,
        "a new log-in resolves again"
    );
}

pub async fn login_with_overrides_the_resolver(backend: &impl Backend) {
    let clock = MockClock::new();
    let calls_in = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&calls_in);
    let client = client_with(
        backend,
        builder(&clock).policy_resolver(move |_: String, _: HttpRequest| {
            counted.fetch_add(1, Ordering::SeqCst);
            async { Some(Policy::new().with_idle(MINUTE)) }
        }),
        routes,
    )
    .await;
    client
        .json(TestRequest::post().uri("/login-as/alice/member"))
        .await;
    clock.advance(20 * MINUTE);
    assert_eq!(
        client.json(TestRequest::get().uri("/probe")).await.json(),
        "alice"
    );
    assert_eq!(calls_in.load(Ordering::SeqCst), 0);
}

/// Effective idle limit in minutes for one combination, `None` for no limit.
fn expected(
    global: Option<u32>,
    user: Option<u32>,
    ceiling: Option<u32>,
    route: Option<u32>,
) -> Option<u32> {
    let base = if user.is_some() { user } else { global };
    [base, ceiling, route].into_iter().flatten().min()
}

pub async fn precedence_over_every_combination_of_global_user_ceiling_and_route(
    backend: &impl Backend,
) {
    let mut checked = 0;
    for global in [None, Some(30)] {
        for user in [None, Some(10), Some(120)] {
            for ceiling in [None, Some(60)] {
                for route in [None, Some(5)] {
                    let case = format!(
                        "global {global:?}, user {user:?}, ceiling {ceiling:?}, route {route:?}"
                    );
                    let clock = MockClock::new();
                    let mut b = builder(&clock).without_absolute_timeout();
                    b = match global {
                        Some(mins) => b.idle_timeout(MINUTE * mins),
                        None => b.without_idle_timeout(),
                    };
                    if let Some(mins) = ceiling {
                        b = b.max_policy(Policy::new().with_idle(MINUTE * mins));
                    }
                    let client = client_with(backend, b, routes).await;
                    let login = match user {
                        Some(mins) => {
                            format!("/login-with/alice/{}/{}", mins * 60, 10 * 365 * 24 * 3600)
                        }
                        None => "/login/alice".to_owned(),
                    };
                    assert_eq!(
                        client.json(TestRequest::post().uri(&login)).await.status,
                        StatusCode::OK
                    );
                    let probe_path = if route.is_some() {
                        "/probe-guarded"
                    } else {
                        "/probe"
                    };

                    match expected(global, user, ceiling, route) {
                        Some(mins) => {
                            clock.advance(MINUTE * mins - Duration::from_secs(1));
                            let alive = client.json(TestRequest::get().uri(probe_path)).await;
                            assert_eq!(
                                alive.json(),
                                "alice",
                                "{case}: alive 1 s before {mins} min"
                            );
                            clock.advance(Duration::from_secs(1));
                            let ended = client.json(TestRequest::get().uri(probe_path)).await;
                            assert_eq!(
                                ended.json()["reason"],
                                "idle",
                                "{case}: ended at {mins} min"
                            );
                        }
                        None => {
                            clock.advance(MINUTE * (1000 * 24 * 60));
                            let alive = client.json(TestRequest::get().uri(probe_path)).await;
                            assert_eq!(alive.json(), "alice", "{case}: no limit at all");
                        }
                    }
                    checked += 1;
                }
            }
        }
    }
    assert_eq!(checked, 24);
}

pub async fn sessions_from_another_mechanism_stay_anonymous_by_default(backend: &impl Backend) {
    let clock = MockClock::new();
    let client = client_with(backend, builder(&clock), routes).await;
    client
        .json(TestRequest::post().uri("/legacy-login/carol"))
        .await;
    let answer = client.json(TestRequest::get().uri("/whoami")).await;
    assert_eq!(answer.json()["user"], serde_json::Value::Null);
    assert!(client.stored_state().await.is_none(), "nothing written");
}

pub async fn adoption_starts_the_clocks_for_a_session_signed_in_elsewhere(backend: &impl Backend) {
    let clock = MockClock::new();
    let adoption = Adoption::adopt(|req| {
        req.get_session()
            .get::<String>("legacy_user")
            .ok()
            .flatten()
    });
    let client = client_with(backend, builder(&clock).adoption(adoption), routes).await;
    client
        .json(TestRequest::post().uri("/legacy-login/carol"))
        .await;

    clock.advance(5 * MINUTE);
    let adopted = client.json(TestRequest::get().uri("/whoami")).await;
    assert_eq!(adopted.json()["user"], "carol");
    assert!(adopted.set_cookie, "the new state is saved");

    // The clocks started at adoption (5 minutes in), not at the legacy log-in.
    clock.advance(30 * MINUTE - Duration::from_secs(1));
    assert_eq!(
        client.json(TestRequest::get().uri("/probe")).await.json(),
        "carol"
    );
    clock.advance(Duration::from_secs(1));
    let ended = client.json(TestRequest::get().uri("/probe")).await;
    assert_eq!(ended.json()["reason"], "idle");
    let after = client.json(TestRequest::get().uri("/whoami")).await;
    assert_eq!(
        after.json()["user"],
        serde_json::Value::Null,
        "an expired session is not re-adopted"
    );
}
