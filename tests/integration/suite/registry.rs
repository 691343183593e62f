//! The registry on every store that keeps one (Redis, a Redis Cluster, PostgreSQL), through the
//! same handlers: pages of a user's sessions with device labels and `current`, the count,
//! revoking one, all or all others on every instance at once, and the session limit (evict the
//! least recently active, or refuse; per role; never exceeded by concurrent log-ins). What only
//! one store does (Redis' index layout, PostgreSQL's statements) stays in `redis/` and
//! `postgres_store.rs`.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use actix_web::{
    http::{header, StatusCode},
    test::TestRequest,
    web, HttpRequest, HttpResponse,
};
use session_expiry::{
    config::{OnMaxSessions, SessionExpiryBuilder},
    registry::{Page, SessionId, SessionInfo, SessionRegistry},
    Clock as _, Expiry, ExpiryError, ExpiryEvent, ExpiryReason, MockClock,
};

use super::{suite, ServerSide};
use crate::{
    roles,
    support::{
        after, assert_expired, assert_user, expiry, instant, login_from, sessions, whoami, Client,
        IDLE, MINUTE,
    },
};

suite!(server_side:
    the_registry_lists_each_session_of_a_user_with_where_it_signed_in,
    revoking_one_session_ends_only_that_one_at_its_next_request,
    revoke_all_ends_every_session_of_the_user_on_every_instance_at_once,
    the_registry_forgets_sessions_that_ended,
    a_log_in_beyond_the_limit_evicts_the_least_recently_active_session,
    with_refuse_a_log_in_beyond_the_limit_is_answered_403_and_nothing_is_saved,
    each_role_keeps_the_session_limit_its_policy_names,
    pages_follow_each_other_while_sessions_come_and_go,
    the_current_session_is_marked_and_a_page_has_no_cursor_past_the_last,
    forty_concurrent_log_ins_never_exceed_the_limit,
);

fn no_routes(_: &mut web::ServiceConfig) {}

fn login(user: &str, agent: &str) -> TestRequest {
    TestRequest::post()
        .uri(&format!("/login/{user}"))
        .insert_header((header::USER_AGENT, agent))
}

/// Who is signed in, without counting as activity.
fn passive() -> TestRequest {
    TestRequest::get().uri("/passive")
}

/// The middleware of the tests, with every expiry event it reports.
fn recording(
    builder: SessionExpiryBuilder,
) -> (SessionExpiryBuilder, Arc<Mutex<Vec<ExpiryEvent>>>) {
    let events = Arc::new(Mutex::new(Vec::new()));
    let reported = Arc::clone(&events);
    let middleware = builder.on_expired(move |event: &ExpiryEvent| {
        reported.lock().unwrap().push(event.clone());
    });
    (middleware, events)
}

/// The user agents of the sessions on `page`, in order.
fn agents(page: &[SessionInfo]) -> Vec<String> {
    page.iter()
        .map(|s| s.user_agent.clone().unwrap_or_default())
        .collect()
}

pub async fn the_registry_lists_each_session_of_a_user_with_where_it_signed_in(
    backend: &impl ServerSide,
) {
    let clock = MockClock::new();
    let start = clock.now();
    let (_, app) = backend.instance(expiry(&clock), no_routes, None).await;
    let (phone, laptop, bob) = (Client::new(&app), Client::new(&app), Client::new(&app));

    phone
        .json(login_from("alice", "Phone/1.0", "10.0.0.1"))
        .await;
    clock.advance(5 * MINUTE);
    laptop
        .json(login_from("alice", "Laptop/2.0", "10.0.0.2"))
        .await;
    bob.json(login_from("bob", "Bob/1.0", "10.0.0.3")).await;
    clock.advance(2 * MINUTE);
    assert_user(&phone.json(whoami()).await, "alice");

    let listed = phone.json(sessions()).await.json()["sessions"].clone();
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 2, "{listed:?}");
    let (mine, other) = (&listed[0], &listed[1]);
    assert_eq!(mine["current"], true);
    assert_eq!(mine["user_agent"], "Phone/1.0");
    assert_eq!(mine["ip"], "10.0.0.1");
    assert_eq!(instant(&mine["logged_in_at"]), start);
    assert_eq!(instant(&mine["last_seen"]), after(start, 7 * MINUTE));
    assert_eq!(
        instant(&mine["expires_at"]),
        after(start, 7 * MINUTE + IDLE)
    );
    assert_eq!(other["current"], false);
    assert_eq!(other["user_agent"], "Laptop/2.0");
    assert_eq!(other["ip"], "10.0.0.2");
    assert_eq!(instant(&other["logged_in_at"]), after(start, 5 * MINUTE));
    assert_ne!(mine["id"], other["id"]);

    // Listed before this request's own activity is recorded: still second.
    let from_laptop = laptop.json(sessions()).await.json()["sessions"].clone();
    assert_eq!(from_laptop[1]["id"], other["id"]);
    assert_eq!(from_laptop[1]["current"], true);
    assert_eq!(from_laptop[0]["current"], false);
    let bobs = bob.json(sessions()).await.json()["sessions"].clone();
    assert_eq!(bobs.as_array().unwrap().len(), 1);
    assert_eq!(bobs[0]["user_agent"], "Bob/1.0");

    let anonymous = Client::new(&app).json(sessions()).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}

pub async fn revoking_one_session_ends_only_that_one_at_its_next_request(
    backend: &impl ServerSide,
) {
    let clock = MockClock::new();
    let (middleware, events) = recording(expiry(&clock));
    let (registry, app) = backend.instance(middleware, no_routes, None).await;
    let (phone, laptop, bob) = (Client::new(&app), Client::new(&app), Client::new(&app));
    phone.json(login_from("alice", "phone", "10.0.0.1")).await;
    laptop.json(login_from("alice", "laptop", "10.0.0.2")).await;
    bob.json(login_from("bob", "bob", "10.0.0.3")).await;

    let listed = phone.json(sessions()).await.json()["sessions"].clone();
    let laptop_entry = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|entry| entry["user_agent"] == "laptop")
        .unwrap();
    let laptop_id = laptop_entry["id"].as_str().unwrap().to_owned();
    let delete = |id: &str| TestRequest::delete().uri(&format!("/sessions/{id}"));
    let answer = phone.json(delete(&laptop_id)).await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT, "{answer:?}");
    assert_eq!(registry.count("alice").await.unwrap(), 1);

    let laptop_cookie = laptop.cookie();
    assert_expired(&laptop.json(whoami()).await, "revoked");
    let event = events.lock().unwrap()[0].clone();
    assert_eq!(event.user.as_deref(), Some("alice"));
    assert_eq!(event.reason, ExpiryReason::Revoked);
    assert_eq!(event.session_age, Some(Duration::ZERO));
    // The old cookie again: still revoked, never adopted.
    laptop.set_cookie(laptop_cookie);
    assert_expired(&laptop.json(whoami()).await, "revoked");
    assert_user(&phone.json(whoami()).await, "alice");
    assert_user(&bob.json(whoami()).await, "bob");

    assert_eq!(
        phone.json(delete(&laptop_id)).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        phone.json(delete("nonsense")).await.status,
        StatusCode::NOT_FOUND
    );
    let bobs_id = bob.json(sessions()).await.json()["sessions"].clone()[0]["id"].clone();
    let answer = phone.json(delete(bobs_id.as_str().unwrap())).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND, "ids are per user");
    assert_user(&bob.json(whoami()).await, "bob");
    assert_eq!(
        phone.json(sessions()).await.json()["sessions"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

pub async fn revoke_all_ends_every_session_of_the_user_on_every_instance_at_once(
    backend: &impl ServerSide,
) {
    let clock = MockClock::new();
    let (registry, instance_a) = backend.instance(expiry(&clock), no_routes, None).await;
    let (_, instance_b) = backend.instance(expiry(&clock), no_routes, None).await;

    let on_a = Client::new(&instance_a);
    on_a.json(login_from("alice", "phone", "10.0.0.1")).await;
    let on_b = Client::new(&instance_b);
    on_b.set_cookie(on_a.cookie());
    assert_user(&on_b.json(whoami()).await, "alice");
    let tablet = Client::new(&instance_b);
    tablet.json(login_from("alice", "tablet", "10.0.0.2")).await;
    let bob = Client::new(&instance_a);
    bob.json(login_from("bob", "bob", "10.0.0.3")).await;

    let answer = on_a
        .json(TestRequest::post().uri("/sessions/revoke-all"))
        .await;
    assert_eq!(answer.json(), serde_json::json!({"revoked": 2}));

    assert_expired(&on_b.json(whoami()).await, "revoked");
    assert_expired(&tablet.json(whoami()).await, "revoked");
    assert_expired(&on_a.json(whoami()).await, "revoked");
    assert_user(&bob.json(whoami()).await, "bob");
    assert_eq!(registry.count("alice").await.unwrap(), 0);
    assert_eq!(registry.count("bob").await.unwrap(), 1);
    assert_eq!(
        registry.revoke_all("alice").await.unwrap(),
        0,
        "nothing left"
    );
}

pub async fn the_registry_forgets_sessions_that_ended(backend: &impl ServerSide) {
    let clock = MockClock::new();
    let (registry, app) = backend.instance(expiry(&clock), no_routes, None).await;
    let (phone, laptop, tablet) = (Client::new(&app), Client::new(&app), Client::new(&app));
    for (client, agent) in [(&phone, "phone"), (&laptop, "laptop"), (&tablet, "tablet")] {
        client.json(login_from("alice", agent, "10.0.0.1")).await;
    }
    assert_eq!(registry.count("alice").await.unwrap(), 3);

    tablet.json(TestRequest::post().uri("/logout")).await;
    assert_eq!(
        registry.count("alice").await.unwrap(),
        2,
        "log-out leaves the registry"
    );

    clock.advance(20 * MINUTE);
    assert_user(&phone.json(whoami()).await, "alice");
    // The laptop passes its idle deadline: the registry no longer lists or counts it.
    clock.advance(15 * MINUTE);
    let listed = phone.json(sessions()).await.json()["sessions"].clone();
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed:?}");
    assert_eq!(listed[0]["user_agent"], "phone");
    assert_eq!(registry.count("alice").await.unwrap(), 1);
    assert_expired(&laptop.json(whoami()).await, "idle");
    let answer = laptop.json(whoami()).await;
    assert_eq!(answer.json()["user"], serde_json::Value::Null, "it is over");
}

pub async fn a_log_in_beyond_the_limit_evicts_the_least_recently_active_session(
    backend: &impl ServerSide,
) {
    let clock = MockClock::new();
    let (middleware, events) = recording(expiry(&clock).max_sessions(3));
    let (registry, one) = backend.instance(middleware, no_routes, None).await;
    let (_, two) = backend
        .instance(expiry(&clock).max_sessions(3), no_routes, None)
        .await;
    let (phone, laptop, tablet) = (Client::new(&one), Client::new(&one), Client::new(&one));
    for (client, agent) in [(&phone, "phone"), (&laptop, "laptop"), (&tablet, "tablet")] {
        assert_eq!(
            client.json(login("alice", agent)).await.status,
            StatusCode::OK
        );
        clock.advance(MINUTE);
    }
    // The phone is used again: the laptop is now the least recently active.
    assert_user(&phone.json(whoami()).await, "alice");
    clock.advance(MINUTE);

    // A fourth device signs in, on the other instance: room is made at once.
    let desktop = Client::new(&two);
    assert_eq!(
        desktop.json(login("alice", "desktop")).await.status,
        StatusCode::OK
    );
    assert_eq!(registry.count("alice").await.unwrap(), 3);

    // The laptop's next request ends it with reason `evicted`; the others go on (passive
    // requests, which leave their activity as it was).
    assert_expired(&laptop.json(whoami()).await, "evicted");
    for client in [&phone, &tablet] {
        assert_user(&client.json(passive()).await, "alice");
    }
    assert_user(&desktop.json(passive()).await, "alice");
    let events = events.lock().unwrap().clone();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].user.as_deref(), Some("alice"));
    assert_eq!(events[0].reason, ExpiryReason::Evicted);

    // A fifth: the tablet goes (the least recently active now); a browser is sent to sign in.
    clock.advance(MINUTE);
    let fifth = Client::new(&two);
    assert_eq!(
        fifth.json(login("alice", "fifth")).await.status,
        StatusCode::OK
    );
    let page = tablet
        .send(whoami().insert_header((header::ACCEPT, "text/html")))
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{page:?}");
    assert_eq!(
        page.header("location"),
        Some("/login?next=/whoami&reason=evicted")
    );
    let listed = phone.json(TestRequest::get().uri("/sessions")).await.json();
    let listed: Vec<_> = listed["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["user_agent"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(listed, ["fifth", "desktop", "phone"]);
}

/// Signs in with [`SessionRegistry::login`], which tells the handler about the limit first.
async fn checked_login(
    expiry: Expiry,
    user: web::Path<String>,
    registry: web::Data<SessionRegistry>,
) -> actix_web::Result<HttpResponse> {
    match registry.login(&expiry, user.into_inner()).await {
        Ok(()) => Ok(HttpResponse::Ok().json(serde_json::json!({ "ok": true }))),
        Err(ExpiryError::TooManySessions { max }) => Ok(HttpResponse::Conflict()
            .json(serde_json::json!({ "message": format!("signed in on {max} devices already") }))),
        Err(error) => Err(error.into()),
    }
}

/// The refused log-in's way out: signs the user's other devices out, then signs in.
async fn login_signing_out_others(
    expiry: Expiry,
    user: web::Path<String>,
    registry: web::Data<SessionRegistry>,
) -> actix_web::Result<HttpResponse> {
    let revoked = registry
        .login_signing_out_others(&expiry, user.into_inner())
        .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "revoked": revoked })))
}

fn limit_routes(config: &mut web::ServiceConfig) {
    config
        .route("/checked-login/{user}", web::post().to(checked_login))
        .route(
            "/login-signing-out-others/{user}",
            web::post().to(login_signing_out_others),
        );
}

pub async fn with_refuse_a_log_in_beyond_the_limit_is_answered_403_and_nothing_is_saved(
    backend: &impl ServerSide,
) {
    let clock = MockClock::new();
    let middleware = expiry(&clock)
        .max_sessions(2)
        .on_max_sessions(OnMaxSessions::Refuse);
    let (registry, app) = backend.instance(middleware, limit_routes, None).await;
    let (phone, laptop, tablet) = (Client::new(&app), Client::new(&app), Client::new(&app));
    for (client, agent) in [(&phone, "phone"), (&laptop, "laptop")] {
        assert_eq!(
            client.json(login("alice", agent)).await.status,
            StatusCode::OK
        );
    }

    // The store refuses to save a third: 403, no cookie, nothing saved.
    let refused = tablet.json(login("alice", "tablet")).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{refused:?}");
    assert_eq!(
        refused.json(),
        serde_json::json!({"error": "too_many_sessions", "max_sessions": 2})
    );
    assert_eq!(tablet.cookie(), None);
    // A browser's log-in form gets the refusal as a page.
    let page = tablet
        .send(
            login("alice", "tablet")
                .insert_header(("Accept", "text/html"))
                .insert_header(("Sec-Fetch-Mode", "navigate")),
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN, "{page:?}");
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert!(page.body.contains("Too many sessions"), "{page:?}");
    assert_eq!(tablet.cookie(), None);
    assert_eq!(registry.count("alice").await.unwrap(), 2);
    for client in [&phone, &laptop] {
        assert_user(&client.json(whoami()).await, "alice");
    }

    // A handler that signs in through the registry learns it first, and says it its own way.
    let checked = tablet
        .json(TestRequest::post().uri("/checked-login/alice"))
        .await;
    assert_eq!(checked.status, StatusCode::CONFLICT, "{checked:?}");
    assert_eq!(checked.json()["message"], "signed in on 2 devices already");
    assert_eq!(tablet.cookie(), None);

    // The way out for the owner: sign the others out and continue.
    let locked_out = Client::new(&app);
    let continued = locked_out
        .json(TestRequest::post().uri("/login-signing-out-others/alice"))
        .await;
    assert_eq!(continued.status, StatusCode::OK, "{continued:?}");
    assert_eq!(continued.json()["revoked"], 2);
    assert_user(&locked_out.json(whoami()).await, "alice");
    assert_eq!(registry.count("alice").await.unwrap(), 1);
    for client in [&phone, &laptop] {
        let answer = client.json(whoami()).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{answer:?}");
        assert_eq!(answer.json()["reason"], "revoked");
    }
    locked_out.json(TestRequest::post().uri("/logout")).await;
    for (client, agent) in [(&phone, "phone"), (&laptop, "laptop")] {
        assert_eq!(
            client.json(login("alice", agent)).await.status,
            StatusCode::OK
        );
    }

    // Once a device signs out, there is room again.
    phone.json(TestRequest::post().uri("/logout")).await;
    let checked = tablet
        .json(TestRequest::post().uri("/checked-login/alice"))
        .await;
    assert_eq!(checked.status, StatusCode::OK, "{checked:?}");
    assert_user(&tablet.json(whoami()).await, "alice");
    assert_user(&laptop.json(whoami()).await, "alice");
    assert_eq!(registry.count("alice").await.unwrap(), 2);
    // Other users are not counted against alice's limit.
    assert_eq!(
        Client::new(&app).json(login("bob", "bob")).await.status,
        StatusCode::OK
    );
}

pub async fn each_role_keeps_the_session_limit_its_policy_names(backend: &impl ServerSide) {
    let clock = MockClock::new();
    // alice is an admin (`#[expiry(.., max_sessions = 3)]`), bob a member (the global 4).
    let middleware = expiry(&clock)
        .max_sessions(4)
        .policy_resolver(|user: String, _: HttpRequest| async move { roles::role_of(&user).await });
    let (registry, app) = backend.instance(middleware, no_routes, None).await;
    for (user, signed_in, kept) in [("alice", 4, 3), ("bob", 5, 4)] {
        let clients: Vec<_> = (0..signed_in).map(|_| Client::new(&app)).collect();
        for (n, client) in clients.iter().enumerate() {
            let answer = client.json(login(user, &format!("{user} {n}"))).await;
            assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
            clock.advance(MINUTE);
        }
        assert_eq!(registry.count(user).await.unwrap(), kept, "{user}");
        // The first one was the least recently active.
        assert_expired(&clients[0].json(whoami()).await, "evicted");
        for client in &clients[1..] {
            assert_user(&client.json(whoami()).await, user);
        }
    }
}

pub async fn pages_follow_each_other_while_sessions_come_and_go(backend: &impl ServerSide) {
    let clock = MockClock::new();
    let (registry, app) = backend.instance(expiry(&clock), no_routes, None).await;
    // Nine sessions, a minute apart, but three of them signed in at the same instant: the
    // cursor must find its place among equal activities too.
    let mut clients = Vec::new();
    for (n, at_once) in [
        (0, false),
        (1, false),
        (2, false),
        (3, true),
        (4, true),
        (5, false),
    ]
    .into_iter()
    .chain([(6, false), (7, false), (8, false)])
    {
        let client = Client::new(&app);
        let answer = client.json(login("alice", &format!("s{n}"))).await;
        assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
        clients.push(client);
        if !at_once {
            clock.advance(MINUTE);
        }
    }
    let everything = registry.list("alice", Page::new(50)).await.unwrap();
    assert_eq!(everything.next, None);
    let order = agents(&everything.sessions);
    assert_eq!(order.len(), 9);
    assert_eq!(
        &order[..3],
        ["s8", "s7", "s6"],
        "most recently active first"
    );
    assert_eq!(order[8], "s0");
    let id_of = |agent: &str| -> SessionId {
        everything
            .sessions
            .iter()
            .find(|s| s.user_agent.as_deref() == Some(agent))
            .unwrap()
            .id
            .clone()
    };

    // Two at a time; between pages, sessions come and go.
    let mut seen = Vec::new();
    let mut next = None;
    let mut pages = 0;
    loop {
        let page = registry
            .list("alice", Page::new(2).after(next.clone()))
            .await
            .unwrap();
        assert!(page.sessions.len() <= 2);
        seen.extend(agents(&page.sessions));
        pages += 1;
        match pages {
            1 => {
                // A new session signs in, and an old one is used again: both move to the top,
                // before the cursor.
                let late = Client::new(&app);
                late.json(login("alice", "late")).await;
                clock.advance(MINUTE);
                assert_user(&clients[1].json(whoami()).await, "alice");
            }
            2 => {
                // The cursor's own session (inside the group signed in at once) is revoked,
                // and one further down logs out.
                let cursor_agent = seen.last().unwrap().clone();
                assert!(registry
                    .revoke("alice", &id_of(&cursor_agent))
                    .await
                    .unwrap());
                clients[0].json(TestRequest::post().uri("/logout")).await;
            }
            _ => {}
        }
        match page.next {
            Some(cursor) => next = Some(cursor),
            None => break,
        }
    }
    // Every session that stayed put is listed once, in order; s0 left before its page came,
    // s1 moved up behind the cursor, "late" signed in behind it.
    let expected: Vec<_> = order
        .iter()
        .filter(|agent| !["s0", "s1"].contains(&agent.as_str()))
        .cloned()
        .collect();
    assert_eq!(seen, expected, "pages: {pages}");

    // The first page now starts with what moved.
    let first = registry.list("alice", Page::new(2)).await.unwrap();
    assert_eq!(agents(&first.sessions), ["s1", "late"]);
    assert!(first.next.is_some());
}

pub async fn the_current_session_is_marked_and_a_page_has_no_cursor_past_the_last(
    backend: &impl ServerSide,
) {
    let clock = MockClock::new();
    let (registry, app) = backend.instance(expiry(&clock), no_routes, None).await;
    let firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
    let (mine, other) = (Client::new(&app), Client::new(&app));
    mine.json(login("alice", firefox)).await;
    other.json(login("alice", "laptop")).await;
    let listed = mine.json(TestRequest::get().uri("/sessions")).await.json();
    let sessions = listed["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 2, "{listed}");
    let own = sessions.iter().find(|s| s["current"] == true).unwrap();
    assert_eq!(own["device"], "Firefox 128 on Linux");
    let others: Vec<_> = sessions.iter().filter(|s| s["current"] == false).collect();
    assert_eq!(others.len(), 1);
    assert_eq!(
        others[0]["device"],
        serde_json::Value::Null,
        "unknown agent"
    );
    assert_eq!(listed["next"], serde_json::Value::Null);
    // Without the caller's id, nothing is marked.
    let page = registry.list("alice", Page::new(1)).await.unwrap();
    assert!(page.sessions.iter().all(|s| !s.current));
    assert!(page.next.is_some());
    let rest = registry
        .list("alice", Page::new(1).after(page.next))
        .await
        .unwrap();
    assert_eq!(rest.sessions.len(), 1);
    assert_eq!(rest.next, None);
    let bad = mine
        .json(TestRequest::get().uri("/sessions?cursor=page-2"))
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.json(), serde_json::json!({"error": "invalid_cursor"}));
}

/// `user` signs in on every one of `clients` at once (as `device <n>`).
async fn all_at_once<S, B>(clients: &[Client<S>], user: &str) -> Vec<crate::support::Answer>
where
    S: actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<B>,
        Error = actix_web::Error,
    >,
    B: actix_web::body::MessageBody + 'static,
{
    futures_util::future::join_all(
        clients
            .iter()
            .enumerate()
            .map(|(n, client)| client.json(login(user, &format!("device {n}")))),
    )
    .await
}

/// Forty log-ins of one user at once, evicting and refusing: never more sessions than the
/// limit. They meet in one place (a cluster slot, a user's advisory lock): on a loaded machine
/// one may wait longer than the fixtures' short timeouts, or (on a cluster) find the index
/// changed under it at every attempt. Either is a 503 with Retry-After, which a client retries;
/// each store operation may take 5 s here.
pub async fn forty_concurrent_log_ins_never_exceed_the_limit(backend: &impl ServerSide) {
    let clock = MockClock::new();
    let patience = Some(Duration::from_secs(5));
    let (registry, evicting) = backend
        .instance(expiry(&clock).max_sessions(3), no_routes, patience)
        .await;
    let clients: Vec<_> = (0..40).map(|_| Client::new(&evicting)).collect();
    let answers = all_at_once(&clients, "alice").await;
    for ((n, client), answer) in clients.iter().enumerate().zip(&answers) {
        let mut answer = answer.status;
        for _ in 0..5 {
            if answer != StatusCode::SERVICE_UNAVAILABLE {
                break;
            }
            answer = client
                .json(login("alice", &format!("device {n}")))
                .await
                .status;
        }
        assert_eq!(answer, StatusCode::OK, "device {n}");
    }
    assert_eq!(registry.count("alice").await.unwrap(), 3);
    let mut live = 0;
    for client in &clients {
        let answer = client.json(passive()).await;
        if answer.status == StatusCode::OK && answer.json()["user"] == "alice" {
            live += 1;
        } else {
            assert_expired(&answer, "evicted");
        }
    }
    assert_eq!(live, 3);

    let refusing = expiry(&clock)
        .max_sessions(3)
        .on_max_sessions(OnMaxSessions::Refuse);
    let (_, refusing) = backend.instance(refusing, no_routes, patience).await;
    let clients: Vec<_> = (0..40).map(|_| Client::new(&refusing)).collect();
    let answers = all_at_once(&clients, "bob").await;
    let statuses: Vec<_> = answers.iter().map(|a| a.status.as_u16()).collect();
    assert_eq!(
        statuses.iter().filter(|&&s| s == 200).count(),
        3,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|&&s| s == 403).count(),
        37,
        "{statuses:?}"
    );
    assert_eq!(registry.count("bob").await.unwrap(), 3);
}
