//! Redis going away and coming back, under a running app: always on a server of the test's own.

use std::time::{Duration, Instant};

use actix_web::{http::StatusCode, test::TestRequest};
use session_expiry::MockClock;

use crate::{
    redis_server::RedisServer,
    redis_support::{redis_app, Target},
    support::{capture_logs, expiry, logs, whoami, Answer, Client, MINUTE},
};

/// The answer to `/whoami` once Redis serves the app again (retrying for at most 10 s).
async fn once_served<S, B>(client: &Client<S>) -> Answer
where
    S: actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<B>,
        Error = actix_web::Error,
    >,
    B: actix_web::body::MessageBody + 'static,
{
    let started = Instant::now();
    loop {
        let answer = client.json(whoami()).await;
        if answer.status != StatusCode::SERVICE_UNAVAILABLE
            || started.elapsed() > Duration::from_secs(10)
        {
            return answer;
        }
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
}

#[track_caller]
fn assert_unavailable(answer: &Answer) {
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE, "{answer:?}");
    assert_eq!(answer.header("retry-after"), Some("2"));
    assert_eq!(answer.header("cache-control"), Some("no-store"));
    assert_eq!(
        answer.json(),
        serde_json::json!({"error": "session_store_unavailable"})
    );
}

#[track_caller]
fn assert_unavailable_page(answer: &Answer) {
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE, "{answer:?}");
    assert_eq!(answer.header("retry-after"), Some("2"));
    assert_eq!(answer.header("cache-control"), Some("no-store"));
    assert_eq!(
        answer.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert!(answer.body.contains("<h1>"), "{answer:?}");
}

#[actix_web::test]
async fn redis_stopped_mid_traffic_answers_503_then_serves_again_and_nothing_outlives_its_deadline()
{
    let (_guard, buffer) = capture_logs();
    let mut target = Target::own(RedisServer::start());
    let clock = MockClock::new();
    let app = redis_app(target.store(&clock).await, expiry(&clock)).await;
    let (alice, bob) = (Client::new(&app), Client::new(&app));
    alice.json(TestRequest::post().uri("/login/alice")).await;
    assert_eq!(alice.json(whoami()).await.json()["user"], "alice");
    clock.advance(15 * MINUTE);
    bob.json(TestRequest::post().uri("/login/bob")).await;

    let server = target.server();
    server.stop();
    for _ in 0..3 {
        assert_unavailable(&bob.json(whoami()).await);
    }
    // A browser's navigation gets the same answer as a page.
    let navigation = |req: TestRequest| {
        req.insert_header(("Accept", "text/html,*/*;q=0.8"))
            .insert_header(("Sec-Fetch-Mode", "navigate"))
    };
    assert_unavailable_page(&bob.send(navigation(whoami())).await);
    assert_unavailable_page(
        &Client::new(&app)
            .send(navigation(TestRequest::post().uri("/login/carol")))
            .await,
    );
    // Nothing is accepted unchecked: no log-in, no log-out; a request without a session runs.
    let newcomer = Client::new(&app);
    assert_unavailable(&newcomer.json(TestRequest::post().uri("/login/carol")).await);
    assert!(newcomer.cookie().is_none());
    assert_unavailable(&bob.json(TestRequest::post().uri("/logout")).await);
    let anonymous = newcomer.json(whoami()).await;
    assert_eq!(anonymous.status, StatusCode::OK);
    assert_eq!(anonymous.json()["user"], serde_json::Value::Null);
    let logged = logs(&buffer);
    assert!(
        logged.contains("Redis is unavailable") && logged.contains("answering 503"),
        "{logged}"
    );

    // Alice's idle deadline passes during the outage; bob's does not.
    clock.advance(20 * MINUTE);
    server.restart();
    let answer = once_served(&bob).await;
    assert_eq!(answer.json()["user"], "bob", "served again, no restart");
    let alice_answer = alice.json(whoami()).await;
    assert_eq!(alice_answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(alice_answer.json()["reason"], "idle");
    assert_eq!(
        newcomer
            .json(TestRequest::post().uri("/login/carol"))
            .await
            .status,
        StatusCode::OK
    );
}

#[actix_web::test]
async fn a_hung_redis_answers_503_within_the_timeouts_and_recovers() {
    let mut target = Target::own(RedisServer::start());
    let clock = MockClock::new();
    let app = redis_app(target.store(&clock).await, expiry(&clock)).await;
    let alice = Client::new(&app);
    alice.json(TestRequest::post().uri("/login/alice")).await;

    let server = target.server();
    server.pause();
    let started = Instant::now();
    let answer = alice.json(whoami()).await;
    let waited = started.elapsed();
    server.resume();
    assert_unavailable(&answer);
    // The fixtures' connection and response timeouts: 300 ms each.
    assert!(waited < Duration::from_millis(1500), "waited {waited:?}");

    assert_eq!(once_served(&alice).await.json()["user"], "alice");
}
