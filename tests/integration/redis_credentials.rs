//! A credentials change seen by every instance sharing Redis: within a second through the
//! store's publish, within the stamp check interval when the subscription is cut (#26).

use std::time::{Duration, Instant};

use actix_session::{config::CookieContentSecurity, SessionMiddleware};
use actix_web::{
    http::StatusCode,
    test::{self, TestRequest},
    web, App,
};
use session_expiry::{redis::RequestScope, MockClock};

use crate::{
    credentials::{change_password, Users},
    redis_server::RedisServer,
    redis_support::{cookie_key, Target},
    support::{
        demo_change_password, demo_instance, demo_log_in, expiry, routes,
        the_new_password_holds_on_the_other_instance, whoami, Client,
    },
};

const INTERVAL: Duration = Duration::from_secs(60);

/// One instance of the app on `target`: its own middleware (its own stamp cache) and store.
macro_rules! instance {
    ($target:expr, $users:expr, $clock:expr) => {{
        let middleware = $users.stamped(expiry($clock)).build();
        let store = $target.store_for(&middleware).await;
        Client::new(
            test::init_service(
                App::new()
                    .app_data(web::Data::new($users.clone()))
                    .configure(routes)
                    .route("/password", web::post().to(change_password))
                    .wrap(middleware)
                    .wrap(
                        SessionMiddleware::builder(store, cookie_key())
                            .cookie_secure(false)
                            .cookie_content_security(CookieContentSecurity::Private)
                            .build(),
                    )
                    .wrap(RequestScope::new()),
            )
            .await,
        )
    }};
}

/// Waits until `count` instances listen for credential changes on the target's own server.
async fn subscribed(target: &Target, count: usize) {
    let mut redis = target.inspect().await;
    redis
        .wait_for_subscribers("*credentials-changed", count)
        .await;
}

/// Polls `uri` on `client` until its session ends with `credentials_changed`, for at most a
/// second.
async fn ended_within_a_second<S, B>(client: &Client<S>, uri: &str)
where
    S: actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<B>,
        Error = actix_web::Error,
    >,
    B: actix_web::body::MessageBody + 'static,
{
    let published = Instant::now();
    // No clock moves: only the publish can end the session.
    loop {
        let answer = client.json(TestRequest::get().uri(uri)).await;
        if answer.status == StatusCode::UNAUTHORIZED {
            assert_eq!(answer.json()["reason"], "credentials_changed", "{answer:?}");
            return;
        }
        assert!(
            published.elapsed() < Duration::from_secs(1),
            "still signed in a second after the change: {answer:?}"
        );
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
}

#[actix_web::test]
async fn another_instance_ends_the_session_within_a_second_through_the_publish() {
    let target = Target::own(RedisServer::start());
    let clock = MockClock::new();
    let users = Users::with(&["alice"]);
    let first = instance!(target, users, &clock);
    let second = instance!(target, users, &clock);
    second.login().await;
    first.login().await;
    subscribed(&target, 2).await;

    let changed = first.json(TestRequest::post().uri("/password")).await;
    assert_eq!(changed.status, StatusCode::NO_CONTENT, "{changed:?}");
    ended_within_a_second(&second, "/whoami").await;
    assert_eq!(first.json(whoami()).await.json()["user"], "alice");
}

#[actix_web::test]
async fn with_the_subscription_cut_the_interval_still_bounds_it_and_the_subscriber_returns() {
    let target = Target::own(RedisServer::start());
    let clock = MockClock::new();
    let users = Users::with(&["alice"]);
    let first = instance!(target, users, &clock);
    let second = instance!(target, users, &clock);
    second.login().await;
    subscribed(&target, 2).await;
    let mut redis = target.inspect().await;
    redis.kill_subscribers().await;
    // A change whose publish this instance missed: only the interval can show it.
    users.bump("alice");
    clock.advance(INTERVAL - Duration::from_secs(1));
    assert_eq!(second.json(whoami()).await.json()["user"], "alice");
    clock.advance(Duration::from_secs(1));
    let answer = second.json(whoami()).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{answer:?}");
    assert_eq!(answer.json()["reason"], "credentials_changed");

    // Both subscribers come back by themselves, and publishes reach them again.
    subscribed(&target, 2).await;
    second.login().await;
    first.login().await;
    let changed = first.json(TestRequest::post().uri("/password")).await;
    assert_eq!(changed.status, StatusCode::NO_CONTENT, "{changed:?}");
    ended_within_a_second(&second, "/whoami").await;
}

#[actix_web::test]
async fn the_redis_examples_password_change_signs_out_the_other_instance_too() {
    let server = RedisServer::start();
    let url = server.url();
    let target = Target::own(server);
    let clock = MockClock::new();
    // The redis example's app: the demo's accounts in Redis.
    let accounts = || async {
        crate::demo::Accounts::on_redis(&url, "test-demo:")
            .await
            .unwrap()
    };
    let first = demo_instance!(target, accounts().await, &clock, |expiry| expiry);
    let second = demo_instance!(target, accounts().await, &clock, |expiry| expiry);
    assert_eq!(
        second.json(demo_log_in("password")).await.status,
        StatusCode::OK
    );
    assert_eq!(
        first.json(demo_log_in("password")).await.status,
        StatusCode::OK
    );
    // A session moves between instances: both hash the stamp under the same key.
    let moved = first.cookie();
    subscribed(&target, 2).await;

    demo_change_password(&first).await;
    ended_within_a_second(&second, "/").await;
    the_new_password_holds_on_the_other_instance(&first, &second, moved).await;
}
