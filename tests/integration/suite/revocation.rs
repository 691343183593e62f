//! Revoking a user's other sessions, where the store can ([`Backend::REVOCATION`]); where it
//! cannot, the revoke routes are absent and every session lives on.

use actix_web::{http::StatusCode, test::TestRequest};
use session_expiry::MockClock;

use super::{suite, Backend};
use crate::support::{assert_expired, assert_user, expiry, login_from, sessions, whoami, Client};

suite!(revoke_others_keeps_only_the_current_session);

pub async fn revoke_others_keeps_only_the_current_session<B: Backend>(backend: &B) {
    let clock = MockClock::new();
    let app = backend.app(expiry(&clock), |_| {}).await;
    let alices: Vec<_> = (0..3).map(|_| Client::new(&app)).collect();
    for (n, client) in alices.iter().enumerate() {
        client
            .json(login_from("alice", &format!("device {n}"), "10.0.0.1"))
            .await;
    }
    let bob = Client::new(&app);
    bob.json(login_from("bob", "bob", "10.0.0.2")).await;

    let answer = alices[0]
        .json(TestRequest::post().uri("/sessions/revoke-others"))
        .await;
    if !B::REVOCATION {
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{answer:?}");
        for alice in &alices {
            assert_user(&alice.json(whoami()).await, "alice");
        }
        assert_user(&bob.json(whoami()).await, "bob");
        return;
    }
    assert_eq!(answer.json(), serde_json::json!({"revoked": 2}));

    assert_user(&alices[0].json(whoami()).await, "alice");
    assert_expired(&alices[1].json(whoami()).await, "revoked");
    assert_expired(&alices[2].json(whoami()).await, "revoked");
    assert_user(&bob.json(whoami()).await, "bob");
    let listed = alices[0].json(sessions()).await.json()["sessions"].clone();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["current"], true);
    assert_eq!(listed[0]["user_agent"], "device 0");
}
