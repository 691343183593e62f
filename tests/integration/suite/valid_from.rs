//! A global "sign out everyone" moved at run time through the registry (#26): the instance
//! that moves it sees it at once, every other one within the stamp check interval (read from
//! the store once per interval, driven by the clock), and it only moves forward. The cookie
//! store keeps no registry: there the route is absent and every session lives on.

use std::time::Duration;

use actix_web::{http::StatusCode, test::TestRequest, web, HttpResponse};
use chrono::{DateTime, Utc};
use session_expiry::{registry::SessionRegistry, Clock as _, MockClock};

use super::{suite, Backend};
use crate::support::{assert_expired, assert_user, expiry, whoami, Client};

suite!(a_run_time_valid_from_reaches_every_instance_within_the_check_interval);

const INTERVAL: Duration = Duration::from_secs(60);

fn valid_from_route(config: &mut web::ServiceConfig) {
    config.route("/valid-from", web::post().to(set_valid_from));
}

/// Signs out everyone signed in before the instant in the body (Unix ms): the kept instant.
async fn set_valid_from(
    registry: Option<web::Data<SessionRegistry>>,
    body: web::Json<i64>,
) -> actix_web::Result<HttpResponse> {
    let Some(registry) = registry else {
        return Ok(HttpResponse::NotFound().finish());
    };
    let instant = DateTime::<Utc>::from_timestamp_millis(*body)
        .ok_or_else(|| actix_web::error::ErrorBadRequest("no such instant"))?;
    let kept = registry.set_sessions_valid_from(instant).await?;
    let read = registry.sessions_valid_from().await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "kept": kept.timestamp_millis(),
        "read": read.map(|read| read.timestamp_millis()),
    })))
}

fn login() -> TestRequest {
    TestRequest::post().uri("/login/alice")
}

pub async fn a_run_time_valid_from_reaches_every_instance_within_the_check_interval<B: Backend>(
    backend: &B,
) {
    let clock = MockClock::new();
    let builder = || expiry(&clock).stamp_check_interval(INTERVAL);
    let here = Client::new(backend.app(builder(), valid_from_route).await);
    let there = Client::new(backend.app(builder(), valid_from_route).await);
    here.json(login()).await;
    there.json(login()).await;
    // The other instance reads the kept instant (none yet) on its first signed-in request.
    assert_user(&there.json(whoami()).await, "alice");

    clock.advance(Duration::from_secs(1));
    let instant = clock.now().timestamp_millis();
    let answer = here
        .json(TestRequest::post().uri("/valid-from").set_json(instant))
        .await;
    if !B::REVOCATION {
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{answer:?}");
        clock.advance(INTERVAL);
        assert_user(&here.json(whoami()).await, "alice");
        assert_user(&there.json(whoami()).await, "alice");
        return;
    }
    assert_eq!(
        answer.json(),
        serde_json::json!({"kept": instant, "read": instant}),
        "{answer:?}"
    );
    assert_expired(&here.json(whoami()).await, "revoked");

    // Within the interval the other instance has not read it again; then it has.
    clock.advance(INTERVAL / 2);
    assert_user(&there.json(whoami()).await, "alice");
    clock.advance(INTERVAL / 2);
    assert_expired(&there.json(whoami()).await, "revoked");

    // A log-in after the instant holds on both, and an earlier instant changes nothing.
    there.json(login()).await;
    assert_user(&there.json(whoami()).await, "alice");
    here.json(login()).await;
    let earlier = here
        .json(
            TestRequest::post()
                .uri("/valid-from")
                .set_json(instant - 1_000),
        )
        .await;
    assert_eq!(
        earlier.json(),
        serde_json::json!({"kept": instant, "read": instant})
    );
    assert_user(&here.json(whoami()).await, "alice");
    clock.advance(INTERVAL);
    assert_user(&there.json(whoami()).await, "alice");
}
