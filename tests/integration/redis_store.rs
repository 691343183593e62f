//! What the Redis store does, one body per behaviour taking a [`Target`], so the same bodies run
//! on every Redis deployment: a single node, and a Redis Cluster of three masters.

use std::{
    cell::Cell,
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use actix_session::SessionExt as _;
use actix_session::{
    config::CookieContentSecurity,
    storage::{SessionKey, SessionStore as _},
};
use actix_web::{
    cookie::time::Duration as CookieDuration, http::StatusCode, test::TestRequest, web,
    HttpRequest, HttpResponse,
};
use chrono::{DateTime, Utc};
use futures_util::future::join_all;
use session_expiry::{
    config::Adoption,
    config::SessionExpiryBuilder,
    redis::{Page, RedisStore},
    Clock as _, ExpiryEvent, ExpiryReason, MockClock, Policy, STATE_KEY,
};
use tokio::sync::Notify;

use crate::{
    // The bodies of the registry with many sessions per user: their own file, run here.
    redis_registry::{
        a_log_in_beyond_the_limit_evicts_the_least_recently_active_session,
        a_session_saved_before_the_index_kept_sorted_sets_joins_them_at_its_first_refresh,
        an_index_keeps_the_records_of_at_most_256_ended_sessions,
        concurrent_log_ins_never_exceed_the_limit,
        each_role_keeps_the_session_limit_its_policy_names,
        ended_sessions_leave_the_index_a_few_at_a_time_and_their_records_a_day_later,
        pages_follow_each_other_while_sessions_come_and_go,
        the_current_session_is_marked_and_a_page_has_no_cursor_past_the_last,
        with_refuse_a_log_in_beyond_the_limit_is_answered_403_and_nothing_is_saved,
    },
    redis_support::{assert_ttl, redis_app, redis_app_with, Inspector, Target},
    support::{
        assert_expired, assert_user, expiry, login_from, sessions, whoami, Answer, Client,
        ABSOLUTE, IDLE, MINUTE,
    },
};

macro_rules! behaviour {
    ($deployment:ident, $target:expr, [$($body:ident),* $(,)?]) => {
        mod $deployment {
            $(
                #[actix_web::test]
                async fn $body() {
                    super::$body(&$target).await;
                }
            )*
        }
    };
}

/// Every behaviour, on every deployment.
macro_rules! on_every_deployment {
    ($($body:ident),* $(,)?) => {
        behaviour!(single_node, crate::redis_support::Target::single(), [$($body),*]);
        behaviour!(cluster, crate::redis_support::Target::cluster(), [$($body),*]);
    };
}

on_every_deployment!(
    each_key_lives_exactly_until_its_sessions_earliest_deadline,
    a_users_own_policy_sets_the_ttl_of_their_keys,
    a_session_without_a_user_gets_actix_sessions_ttl_and_log_in_moves_it_to_the_users_slot,
    a_session_adopted_from_another_sign_in_moves_to_its_users_slot,
    neither_redis_key_names_nor_the_registry_reveal_a_session_key_or_a_user,
    the_registry_lists_each_session_of_a_user_with_where_it_signed_in,
    revoking_one_session_ends_only_that_one_at_its_next_request,
    revoke_all_ends_every_session_of_the_user_on_every_instance_at_once,
    the_registry_forgets_sessions_that_ended,
    an_update_never_brings_back_a_deleted_or_revoked_session,
    a_session_an_earlier_release_saved_is_read_and_rewritten_in_the_new_layout,
    no_request_starting_after_a_revoke_succeeds_and_no_key_reappears,
    a_session_renewed_while_it_is_revoked_is_not_born_again,
    last_seen_never_moves_backwards_under_concurrent_saves,
    a_session_redis_dropped_at_its_idle_deadline_ends_with_reason_idle,
    a_session_redis_dropped_at_its_absolute_deadline_ends_with_reason_absolute,
    a_session_logged_out_before_redis_dropped_it_is_just_anonymous,
    a_revoked_session_still_ends_as_revoked_and_never_as_idle,
    a_log_in_beyond_the_limit_evicts_the_least_recently_active_session,
    with_refuse_a_log_in_beyond_the_limit_is_answered_403_and_nothing_is_saved,
    each_role_keeps_the_session_limit_its_policy_names,
    pages_follow_each_other_while_sessions_come_and_go,
    the_current_session_is_marked_and_a_page_has_no_cursor_past_the_last,
    a_session_saved_before_the_index_kept_sorted_sets_joins_them_at_its_first_refresh,
    concurrent_log_ins_never_exceed_the_limit,
    ended_sessions_leave_the_index_a_few_at_a_time_and_their_records_a_day_later,
    an_index_keeps_the_records_of_at_most_256_ended_sessions,
);

fn instant(value: &serde_json::Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(value.as_str().unwrap())
        .unwrap()
        .with_timezone(&Utc)
}

fn after(clock_start: DateTime<Utc>, elapsed: Duration) -> DateTime<Utc> {
    clock_start + chrono::Duration::from_std(elapsed).unwrap()
}

/// How long a user's index outlives its sessions (the store's `INDEX_GRACE`).
pub const GRACE: Duration = Duration::from_secs(24 * 3600);

#[track_caller]
fn assert_anonymous(answer: &Answer) {
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    assert_eq!(answer.json()["user"], serde_json::Value::Null, "{answer:?}");
    assert_eq!(
        answer.json()["expired_reason"],
        serde_json::Value::Null,
        "{answer:?}"
    );
}

/// The middleware of the tests, with every expiry event it reports.
fn recording(clock: &MockClock) -> (SessionExpiryBuilder, Arc<Mutex<Vec<ExpiryEvent>>>) {
    let events = Arc::new(Mutex::new(Vec::new()));
    let reported = Arc::clone(&events);
    let middleware = expiry(clock).on_expired(move |event: &ExpiryEvent| {
        reported.lock().unwrap().push(event.clone());
    });
    (middleware, events)
}

pub async fn each_key_lives_exactly_until_its_sessions_earliest_deadline(target: &Target) {
    let clock = MockClock::new();
    let start = clock.now();
    let app = redis_app(target.store(&clock).await, expiry(&clock)).await;
    let client = Client::new(&app);
    let mut redis = target.inspect().await;

    client.login().await;
    let keys = redis.session_keys().await;
    assert_eq!(keys.len(), 1, "{keys:?}");
    let key = &keys[0];
    assert_ttl(redis.pttl(key).await, IDLE);
    let index = &redis.index_keys().await[0];
    assert_ttl(redis.pttl(index).await, IDLE + GRACE);

    // Activity moves the idle deadline, until the absolute one is nearer: then the TTL shrinks.
    let mut elapsed = Duration::ZERO;
    for step in std::iter::repeat_n(20 * MINUTE, 23).chain([19 * MINUTE]) {
        clock.advance(step);
        elapsed += step;
        assert_user(&client.json(whoami()).await, "alice");
        let left = IDLE.min(ABSOLUTE - elapsed);
        assert_ttl(redis.pttl(key).await, left);
        assert!(redis.pttl(index).await >= redis.pttl(key).await);
    }
    assert_ttl(redis.pttl(key).await, MINUTE);
    let listed = client.json(sessions()).await.json()["sessions"].clone();
    assert_eq!(instant(&listed[0]["expires_at"]), after(start, ABSOLUTE));

    clock.advance(MINUTE);
    let answer = client.json(whoami()).await;
    assert_eq!(answer.json()["reason"], "absolute");
    assert_eq!(redis.pttl(key).await, -2, "the ended session is deleted");
    assert_eq!(redis.keys().await, Vec::<String>::new());
}

pub async fn a_users_own_policy_sets_the_ttl_of_their_keys(target: &Target) {
    let clock = MockClock::new();
    // Admins get ten idle minutes, whatever the global policy says.
    let resolver = |user: String, _: HttpRequest| async move {
        (user == "admin").then(|| Policy::new().with_idle(10 * MINUTE))
    };
    let middleware = expiry(&clock).policy_resolver(resolver);
    let app = redis_app(target.store(&clock).await, middleware).await;
    let mut redis = target.inspect().await;

    let admin = Client::new(&app);
    admin.json(login_from("admin", "admin", "10.0.0.1")).await;
    let keys = redis.session_keys().await;
    assert_ttl(redis.pttl(&keys[0]).await, 10 * MINUTE);

    // "Keep me signed in" for two days, however idle.
    let remembered = Client::new(&app);
    let two_days = 2 * 24 * 3600;
    let uri = format!("/login-with/alice/{two_days}/{two_days}");
    remembered.json(TestRequest::post().uri(&uri)).await;
    let alices = redis.session_keys().await;
    let alices: Vec<_> = alices.iter().filter(|key| !keys.contains(key)).collect();
    assert_ttl(redis.pttl(alices[0]).await, Duration::from_secs(two_days));
    assert_user(&remembered.json(whoami()).await, "alice");
}

pub async fn a_session_without_a_user_gets_actix_sessions_ttl_and_log_in_moves_it_to_the_users_slot(
    target: &Target,
) {
    let clock = MockClock::new();
    let app = redis_app(target.store(&clock).await, expiry(&clock)).await;
    let client = Client::new(&app);
    let mut redis = target.inspect().await;

    let filled = client.send(TestRequest::post().uri("/cart")).await;
    assert_eq!(filled.status, StatusCode::NO_CONTENT);
    let anonymous = redis.anonymous_keys().await;
    assert_eq!(anonymous.len(), 1, "{:?}", redis.keys().await);
    // actix-session's default state TTL: a day.
    assert_ttl(redis.pttl(&anonymous[0]).await, 24 * 60 * MINUTE);

    client.login().await;
    assert_eq!(redis.anonymous_keys().await, Vec::<String>::new());
    assert_eq!(redis.session_keys().await.len(), 1);
    let cart = client.json(TestRequest::get().uri("/cart")).await;
    assert_eq!(cart.json(), serde_json::json!(["apple", "pear"]), "kept");
}

/// Another mechanism's sign-in, as an app had it before adopting session-expiry.
async fn legacy_login(req: HttpRequest) -> actix_web::Result<HttpResponse> {
    req.get_session().insert("legacy_user", "alice")?;
    Ok(HttpResponse::NoContent().finish())
}

pub async fn a_session_adopted_from_another_sign_in_moves_to_its_users_slot(target: &Target) {
    let clock = MockClock::new();
    let store = target.store(&clock).await;
    let registry = store.registry();
    let middleware = expiry(&clock).adoption(Adoption::adopt(|req| {
        req.get_session()
            .get::<String>("legacy_user")
            .ok()
            .flatten()
    }));
    let private = CookieContentSecurity::Private;
    let routes = |config: &mut web::ServiceConfig| {
        config.route("/legacy-login", web::post().to(legacy_login));
    };
    let app = redis_app_with(store, middleware, private, routes).await;
    let client = Client::new(&app);
    let mut redis = target.inspect().await;

    client.send(TestRequest::post().uri("/legacy-login")).await;
    assert_eq!(redis.anonymous_keys().await.len(), 1);
    // The next request adopts it: the state now names a user, so the session moves to the
    // user's slot under a new key, and joins the registry.
    let adopted = client.json(whoami()).await;
    assert_user(&adopted, "alice");
    assert!(adopted.set_cookie, "a new session key");
    assert_eq!(redis.anonymous_keys().await, Vec::<String>::new());
    assert_eq!(redis.session_keys().await.len(), 1);
    assert_eq!(registry.count("alice").await.unwrap(), 1);
    assert_user(&client.json(whoami()).await, "alice");
    assert_eq!(registry.revoke_all("alice").await.unwrap(), 1);
    assert_expired(&client.json(whoami()).await, "revoked");
}

pub async fn neither_redis_key_names_nor_the_registry_reveal_a_session_key_or_a_user(
    target: &Target,
) {
    let clock = MockClock::new();
    let store = target.store(&clock).await;
    // A signed (not encrypted) cookie shows the session key: `<44 chars of MAC><key>`.
    let signed = CookieContentSecurity::Signed;
    let app = redis_app_with(store, expiry(&clock), signed, |_| {}).await;
    let client = Client::new(&app);
    let mut redis = target.inspect().await;

    client.json(login_from("alice", "phone", "10.0.0.1")).await;
    let cookie = client.cookie().unwrap();
    let session_key = &cookie.value()[44..];
    let (tag, random) = session_key.split_once('.').unwrap();
    assert_eq!((tag.len(), random.len()), (22, 43), "{session_key}");

    let listed = client.json(sessions()).await.body;
    for text in redis.keys().await.iter().chain([&listed]) {
        assert!(!text.contains(random), "{text} shows the session key");
        assert!(!text.contains("alice"), "{text} shows the user");
    }
}

pub async fn the_registry_lists_each_session_of_a_user_with_where_it_signed_in(target: &Target) {
    let clock = MockClock::new();
    let start = clock.now();
    let app = redis_app(target.store(&clock).await, expiry(&clock)).await;
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

pub async fn revoking_one_session_ends_only_that_one_at_its_next_request(target: &Target) {
    let clock = MockClock::new();
    let events = Arc::new(Mutex::new(Vec::new()));
    let reported = Arc::clone(&events);
    let middleware = expiry(&clock).on_expired(move |event: &ExpiryEvent| {
        reported.lock().unwrap().push(event.clone());
    });
    let app = redis_app(target.store(&clock).await, middleware).await;
    let (phone, laptop, bob) = (Client::new(&app), Client::new(&app), Client::new(&app));
    phone.json(login_from("alice", "phone", "10.0.0.1")).await;
    laptop.json(login_from("alice", "laptop", "10.0.0.2")).await;
    bob.json(login_from("bob", "bob", "10.0.0.3")).await;
    let mut redis = target.inspect().await;

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

    let laptop_cookie = laptop.cookie();
    assert_expired(&laptop.json(whoami()).await, "revoked");
    let event = events.lock().unwrap()[0].clone();
    assert_eq!(event.user.as_deref(), Some("alice"));
    assert_eq!(event.reason, ExpiryReason::Revoked);
    assert_eq!(event.session_age, Some(Duration::ZERO));
    laptop.set_cookie(laptop_cookie);
    assert_expired(&laptop.json(whoami()).await, "revoked");
    assert_user(&phone.json(whoami()).await, "alice");
    assert_user(&bob.json(whoami()).await, "bob");

    // The revoked session is a tombstone without its data, until its own deadline.
    let tombstone = redis
        .session_keys()
        .await
        .into_iter()
        .find(|key| key.ends_with(&laptop_id))
        .unwrap();
    assert_eq!(redis.field(&tombstone, "t").await.as_deref(), Some("1"));
    assert_eq!(
        redis
            .field(&tombstone, "r")
            .await
            .unwrap()
            .split(':')
            .next(),
        Some("1")
    );
    assert_eq!(redis.entries(&tombstone).await.as_deref(), Some(""));
    assert_ttl(redis.pttl(&tombstone).await, IDLE);

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

pub async fn revoke_all_ends_every_session_of_the_user_on_every_instance_at_once(target: &Target) {
    let clock = MockClock::new();
    let instance_a = redis_app(target.store(&clock).await, expiry(&clock)).await;
    let instance_b = redis_app(target.store(&clock).await, expiry(&clock)).await;
    let mut redis = target.inspect().await;

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
    let keys = redis.session_keys().await;
    let mut tombstones = 0;
    for key in &keys {
        tombstones += usize::from(redis.field(key, "t").await.is_some());
    }
    assert_eq!((keys.len(), tombstones), (3, 2), "two tombstones and bob's");
}

pub async fn the_registry_forgets_sessions_that_ended(target: &Target) {
    let clock = MockClock::new();
    let app = redis_app(target.store(&clock).await, expiry(&clock)).await;
    let (phone, laptop, tablet) = (Client::new(&app), Client::new(&app), Client::new(&app));
    for (client, agent) in [(&phone, "phone"), (&laptop, "laptop"), (&tablet, "tablet")] {
        client.json(login_from("alice", agent, "10.0.0.1")).await;
    }
    let mut redis = target.inspect().await;
    let index = redis.index_keys().await[0].clone();
    assert_eq!(redis.index_len(&index).await, 3);

    tablet.json(TestRequest::post().uri("/logout")).await;
    assert_eq!(
        redis.index_len(&index).await,
        2,
        "log-out leaves the registry"
    );
    assert_eq!(redis.session_keys().await.len(), 2);

    clock.advance(20 * MINUTE);
    assert_user(&phone.json(whoami()).await, "alice");
    // The laptop passes its idle deadline; its key would expire in Redis at the same moment,
    // here the registry meets it first.
    clock.advance(15 * MINUTE);
    let listed = phone.json(sessions()).await.json()["sessions"].clone();
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed:?}");
    assert_eq!(listed[0]["user_agent"], "phone");
    assert_eq!(redis.index_len(&index).await, 1);
    assert_eq!(
        redis.session_keys().await.len(),
        1,
        "the ended session is deleted"
    );
    let answer = laptop.json(whoami()).await;
    assert_eq!(answer.json()["user"], serde_json::Value::Null, "it is over");
}

/// A state as the middleware writes it (README: "what is stored").
fn state(user: &str, login: u64, seen: u64) -> HashMap<String, String> {
    let idle = u64::try_from(IDLE.as_millis()).unwrap();
    let raw = serde_json::json!([1, user, login, seen, seen + idle, null]);
    HashMap::from([
        (STATE_KEY.to_owned(), raw.to_string()),
        ("cart".to_owned(), "[\"apple\"]".to_owned()),
    ])
}

fn millis(at: DateTime<Utc>) -> u64 {
    u64::try_from(at.timestamp_millis()).unwrap()
}

const DAY: CookieDuration = CookieDuration::days(1);

fn key(raw: &str) -> SessionKey {
    SessionKey::try_from(raw.to_owned()).unwrap()
}

/// The key of a session alice signed in to at `login` (Unix ms), saved through the store.
async fn saved(store: &RedisStore, login: u64) -> String {
    let key = store.save(state("alice", login, login), &DAY).await;
    key.unwrap().into()
}

/// The session under `raw` loads as the revoked marker, without its data.
async fn assert_tombstone(store: &RedisStore, raw: &str) {
    let loaded = store.load(&key(raw)).await.unwrap().unwrap();
    assert_eq!(
        loaded.get("session-expiry.store").map(String::as_str),
        Some("\"revoked\""),
        "a tombstone: {loaded:?}"
    );
    assert!(!loaded.contains_key("cart"), "its data is gone");
}

pub async fn an_update_never_brings_back_a_deleted_or_revoked_session(target: &Target) {
    let clock = MockClock::new();
    let store = target.store(&clock).await;
    let now = millis(clock.now());
    let mut redis = target.inspect().await;

    let deleted = saved(&store, now).await;
    store.delete(&key(&deleted)).await.unwrap();
    let returned = store
        .update(key(&deleted), state("alice", now, now + 1000), &DAY)
        .await
        .unwrap();
    assert_eq!(String::from(returned), deleted, "no new key either");
    assert_eq!(store.load(&key(&deleted)).await.unwrap(), None);
    assert_eq!(redis.keys().await, Vec::<String>::new());

    let revoked = saved(&store, now).await;
    assert_eq!(store.registry().revoke_all("alice").await.unwrap(), 1);
    store
        .update(key(&revoked), state("alice", now, now + 1000), &DAY)
        .await
        .unwrap();
    store.delete(&key(&revoked)).await.unwrap();
    assert_tombstone(&store, &revoked).await;
    assert_eq!(
        store
            .registry()
            .list("alice", Page::default())
            .await
            .unwrap()
            .sessions,
        vec![]
    );
}

/// Puts the session at `data` back in layout 1, as the previous release saved it: the expiry
/// state and the other entries in fields of their own (`e`, `m`), no `r`.
async fn in_layout_1(redis: &mut Inspector, data: &str, state: &HashMap<String, String>) {
    let mut rest = state.clone();
    let expiry = rest.remove(STATE_KEY).unwrap();
    let rest = serde_json::to_string(&rest).unwrap();
    let mut cmd = redis::cmd("HDEL");
    redis.command::<()>(cmd.arg(data).arg("r")).await;
    let mut cmd = redis::cmd("HSET");
    redis
        .command::<()>(cmd.arg(data).arg(&["v", "1", "e", &expiry, "m", &rest]))
        .await;
}

pub async fn a_session_an_earlier_release_saved_is_read_and_rewritten_in_the_new_layout(
    target: &Target,
) {
    let clock = MockClock::new();
    let store = target.store(&clock).await;
    let now = millis(clock.now());
    let mut redis = target.inspect().await;

    let refreshed = saved(&store, now).await;
    let data = redis.session_keys().await.pop().unwrap();
    let loaded = store.load(&key(&refreshed)).await.unwrap().unwrap();
    in_layout_1(&mut redis, &data, &state("alice", now, now)).await;
    assert_eq!(redis.field(&data, "r").await, None);
    assert_eq!(
        store.load(&key(&refreshed)).await.unwrap().as_ref(),
        Some(&loaded),
        "read as it was"
    );
    // Its next write lays it out anew, and a later state is kept.
    let later = state("alice", now, now + 1000);
    store
        .update(key(&refreshed), later.clone(), &DAY)
        .await
        .unwrap();
    assert_eq!(redis.field(&data, "v").await.as_deref(), Some("2"));
    assert_eq!(redis.field(&data, "e").await, None);
    assert_eq!(redis.field(&data, "m").await, None);
    let reloaded = store.load(&key(&refreshed)).await.unwrap().unwrap();
    assert_eq!(reloaded[STATE_KEY], later[STATE_KEY]);
    assert_eq!(reloaded["cart"], later["cart"]);
    // An older state than the stored one keeps the stored one, from either layout.
    in_layout_1(&mut redis, &data, &later).await;
    store
        .update(key(&refreshed), state("alice", now, now + 500), &DAY)
        .await
        .unwrap();
    let kept = store.load(&key(&refreshed)).await.unwrap().unwrap();
    assert_eq!(kept[STATE_KEY], later[STATE_KEY], "the later state stays");
    assert_eq!(redis.field(&data, "e").await, None);

    // A revocation lays a layout-1 session out as a tombstone of the new layout.
    in_layout_1(&mut redis, &data, &later).await;
    assert_eq!(store.registry().revoke_all("alice").await.unwrap(), 1);
    assert_eq!(redis.field(&data, "t").await.as_deref(), Some("1"));
    assert_eq!(redis.field(&data, "e").await, None);
    assert_eq!(redis.entries(&data).await.as_deref(), Some(""));
    assert_tombstone(&store, &refreshed).await;
}

pub async fn no_request_starting_after_a_revoke_succeeds_and_no_key_reappears(target: &Target) {
    let clock = MockClock::new();
    let store = target.store(&clock).await;
    let registry = store.registry();
    let app = redis_app(store, expiry(&clock)).await;
    let client = Client::new(&app);
    client.login().await;
    let cookie = client.cookie().unwrap();
    let mut redis = target.inspect().await;

    let revoked = Cell::new(false);
    let requests = (0..200_u64).map(|n| {
        let (app, cookie, revoked) = (&app, cookie.clone(), &revoked);
        async move {
            actix_web::rt::time::sleep(Duration::from_millis(n)).await;
            let started_after_revoke = revoked.get();
            let one = Client::new(app);
            one.set_cookie(Some(cookie));
            // Half read, half write (keep-alive refreshes last-seen every time).
            let req = if n % 2 == 0 {
                whoami()
            } else {
                TestRequest::post().uri("/session/keepalive")
            };
            (started_after_revoke, one.json(req).await)
        }
    });
    let revoke = async {
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        registry.revoke_all("alice").await.unwrap();
        revoked.set(true);
    };
    let (mut answers, ()) = futures_util::future::join(join_all(requests), revoke).await;
    // However slow the machine (the revoke may end after every request above started), these
    // start after it.
    for n in 0..10 {
        let one = Client::new(&app);
        one.set_cookie(Some(cookie.clone()));
        let req = if n % 2 == 0 {
            whoami()
        } else {
            TestRequest::post().uri("/session/keepalive")
        };
        answers.push((true, one.json(req).await));
    }

    let (mut before, mut after) = (0, 0);
    for (started_after_revoke, answer) in &answers {
        if *started_after_revoke {
            after += 1;
            assert_expired(answer, "revoked");
        } else if answer.status.is_success() {
            before += 1;
        } else {
            assert_expired(answer, "revoked");
        }
    }
    assert!(
        before > 0 && after > 0,
        "{before} succeeded before, {after} after"
    );
    let keys = redis.session_keys().await;
    assert_eq!(keys.len(), 1, "one session, no new key: {keys:?}");
    assert_eq!(redis.field(&keys[0], "t").await.as_deref(), Some("1"));
    assert_eq!(
        redis.entries(&keys[0]).await.as_deref(),
        Some(""),
        "no data written back"
    );
    assert_eq!(redis.keys().await, keys, "no index, no anonymous key");
    let late = Client::new(&app);
    late.set_cookie(Some(cookie));
    assert_expired(&late.json(whoami()).await, "revoked");
}

/// Lets a test revoke a session while a request on it is in its handler.
#[derive(Default)]
struct Gates {
    entered: Notify,
    open: Notify,
}

/// Waits for the test, then renews the session (as an app may on a privilege change).
async fn renew_later(req: HttpRequest, gates: web::Data<Gates>) -> actix_web::Result<HttpResponse> {
    gates.entered.notify_one();
    gates.open.notified().await;
    let session = req.get_session();
    session.renew();
    session.insert("renewed", true)?;
    Ok(HttpResponse::NoContent().finish())
}

pub async fn a_session_renewed_while_it_is_revoked_is_not_born_again(target: &Target) {
    let clock = MockClock::new();
    let store = target.store(&clock).await;
    let registry = store.registry();
    let gates = web::Data::new(Gates::default());
    let routes = {
        let gates = gates.clone();
        move |config: &mut web::ServiceConfig| {
            config
                .app_data(gates)
                .route("/renew-later", web::post().to(renew_later));
        }
    };
    let private = CookieContentSecurity::Private;
    let app = redis_app_with(store, expiry(&clock), private, routes).await;
    let client = Client::new(&app);
    client.login().await;
    let mut redis = target.inspect().await;

    let renewing = client.json(TestRequest::post().uri("/renew-later"));
    let revoking = async {
        gates.entered.notified().await;
        assert_eq!(registry.revoke_all("alice").await.unwrap(), 1);
        gates.open.notify_one();
    };
    futures_util::future::join(renewing, revoking).await;

    assert_eq!(
        registry
            .list("alice", Page::default())
            .await
            .unwrap()
            .sessions,
        vec![]
    );
    let keys = redis.keys().await;
    assert_eq!(keys.len(), 1, "only the tombstone: {keys:?}");
    assert_eq!(redis.field(&keys[0], "t").await.as_deref(), Some("1"));
    let after = client.json(whoami()).await;
    assert_eq!(after.json()["user"], serde_json::Value::Null, "{after:?}");
}

pub async fn last_seen_never_moves_backwards_under_concurrent_saves(target: &Target) {
    let clock = MockClock::new();
    let store = target.store(&clock).await;
    let login = millis(clock.now());
    let mut redis = target.inspect().await;
    let saved = saved(&store, login).await;

    // 50 requests that saw the session at different times, their writes arriving in a shuffled
    // order (37 is coprime with 50).
    let seen: Vec<u64> = (0..50).map(|n| login + (n * 37 % 50 + 1) * 1000).collect();
    let latest = login + 50_000;
    let started = Instant::now();
    let updates = seen
        .iter()
        .map(|&s| store.update(key(&saved), state("alice", login, s), &DAY));
    for result in join_all(updates).await {
        result.unwrap();
    }
    assert!(started.elapsed() < Duration::from_secs(10));
    // And one more, late and stale.
    store
        .update(key(&saved), state("alice", login, login + 1000), &DAY)
        .await
        .unwrap();

    let loaded = store.load(&key(&saved)).await.unwrap().unwrap();
    let stored: serde_json::Value = serde_json::from_str(&loaded[STATE_KEY]).unwrap();
    assert_eq!(stored[3], latest);
    let listed = store
        .registry()
        .list("alice", Page::default())
        .await
        .unwrap()
        .sessions;
    assert_eq!(millis(listed[0].last_seen), latest);
    let idle = u64::try_from(IDLE.as_millis()).unwrap();
    assert_eq!(listed[0].expires_at.map(millis), Some(latest + idle));
    let data_key = &redis.session_keys().await[0];
    assert_ttl(
        redis.pttl(data_key).await,
        Duration::from_millis(latest + idle - login),
    );
}

pub async fn a_session_redis_dropped_at_its_idle_deadline_ends_with_reason_idle(target: &Target) {
    let clock = MockClock::new();
    let (middleware, events) = recording(&clock);
    let app = redis_app(target.store(&clock).await, middleware).await;
    let client = Client::new(&app);
    client.login().await;
    let mut redis = target.inspect().await;
    let key = redis.session_keys().await[0].clone();
    let index = redis.index_keys().await[0].clone();
    let id = key.rsplit(':').next().unwrap().to_owned();

    clock.advance(IDLE);
    // Redis drops the key at the idle deadline (the mock clock does not move Redis's).
    redis.expire_now(&key).await;
    assert!(
        redis.index_lists(&index, &id).await,
        "the index outlives it"
    );
    let cookie = client.cookie();
    assert_expired(&client.json(whoami()).await, "idle");

    let events = events.lock().unwrap().clone();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].user.as_deref(), Some("alice"));
    assert_eq!(events[0].reason, ExpiryReason::Idle);
    assert_eq!(events[0].session_age, Some(IDLE));
    assert_eq!(events[0].idle_for, None, "last seen went with the data");
    assert!(!redis.index_lists(&index, &id).await, "purged");
    assert_eq!(redis.keys().await, Vec::<String>::new());

    // Said once: the same cookie again is just a visitor without a session.
    client.set_cookie(cookie);
    assert_anonymous(&client.json(whoami()).await);
}

pub async fn a_session_redis_dropped_at_its_absolute_deadline_ends_with_reason_absolute(
    target: &Target,
) {
    let clock = MockClock::new();
    let (middleware, events) = recording(&clock);
    let app = redis_app(target.store(&clock).await, middleware).await;
    let mut redis = target.inspect().await;

    // Global policy: one absolute limit; this user's own snapshot: a shorter one, and a longer
    // idle one. Only the snapshot makes this hour `absolute` rather than `idle`.
    let remembered = Client::new(&app);
    let (idle, absolute) = (2 * 24 * 3600, 3600);
    let uri = format!("/login-with/alice/{idle}/{absolute}");
    assert_eq!(
        remembered.json(TestRequest::post().uri(&uri)).await.status,
        StatusCode::OK
    );
    let plain = Client::new(&app);
    plain.json(login_from("bob", "bob", "10.0.0.2")).await;
    let keys = redis.session_keys().await;
    assert_eq!(keys.len(), 2, "{keys:?}");

    // Both active until their keys die: bob at his idle deadline, alice at her absolute one.
    for _ in 0..2 {
        clock.advance(20 * MINUTE);
        assert_user(&remembered.json(whoami()).await, "alice");
        assert_user(&plain.json(whoami()).await, "bob");
    }
    clock.advance(20 * MINUTE);
    for key in &keys {
        redis.expire_now(key).await;
    }
    assert_expired(&remembered.json(whoami()).await, "absolute");
    assert_expired(&plain.json(whoami()).await, "idle");

    let events = events.lock().unwrap().clone();
    let reasons: Vec<_> = events
        .iter()
        .map(|e| (e.user.as_deref(), e.reason, e.session_age))
        .collect();
    assert_eq!(
        reasons,
        [
            (Some("alice"), ExpiryReason::Absolute, Some(60 * MINUTE)),
            (Some("bob"), ExpiryReason::Idle, Some(60 * MINUTE)),
        ]
    );
    assert_eq!(redis.keys().await, Vec::<String>::new(), "indexes purged");
}

pub async fn a_session_logged_out_before_redis_dropped_it_is_just_anonymous(target: &Target) {
    let clock = MockClock::new();
    let (middleware, events) = recording(&clock);
    let app = redis_app(target.store(&clock).await, middleware).await;
    let (client, other) = (Client::new(&app), Client::new(&app));
    client.json(login_from("alice", "phone", "10.0.0.1")).await;
    other.json(login_from("alice", "laptop", "10.0.0.2")).await;
    let cookie = client.cookie();
    let mut redis = target.inspect().await;
    let index = redis.index_keys().await[0].clone();

    client.json(TestRequest::post().uri("/logout")).await;
    assert_eq!(redis.index_len(&index).await, 1, "log-out leaves the index");
    clock.advance(IDLE);
    client.set_cookie(cookie);
    assert_anonymous(&client.json(whoami()).await);
    assert!(events.lock().unwrap().is_empty());
}

pub async fn a_revoked_session_still_ends_as_revoked_and_never_as_idle(target: &Target) {
    let clock = MockClock::new();
    let (middleware, events) = recording(&clock);
    let app = redis_app(target.store(&clock).await, middleware).await;
    let (phone, laptop) = (Client::new(&app), Client::new(&app));
    phone.json(login_from("alice", "phone", "10.0.0.1")).await;
    laptop.json(login_from("alice", "laptop", "10.0.0.2")).await;
    let laptop_cookie = laptop.cookie();
    let answer = phone
        .json(TestRequest::post().uri("/sessions/revoke-others"))
        .await;
    assert!(answer.status.is_success(), "{answer:?}");
    let mut redis = target.inspect().await;

    // Past the idle deadline, while the tombstone is still there: the tombstone wins.
    clock.advance(IDLE);
    assert_expired(&laptop.json(whoami()).await, "revoked");
    // Once Redis dropped the tombstone too, nothing names the session any more.
    laptop.set_cookie(laptop_cookie);
    let mut tombstones = Vec::new();
    for key in redis.session_keys().await {
        if redis.field(&key, "t").await.is_some() {
            tombstones.push(key);
        }
    }
    assert_eq!(tombstones.len(), 1, "{tombstones:?}");
    redis.expire_now(&tombstones[0]).await;
    assert_anonymous(&laptop.json(whoami()).await);
    let reasons: Vec<_> = events.lock().unwrap().iter().map(|e| e.reason).collect();
    assert_eq!(reasons, [ExpiryReason::Revoked]);
}
