//! Neither key names nor the registry reveal a session key or a user.

use actix_session::config::CookieContentSecurity;
use session_expiry::MockClock;

use crate::{
    redis_support::{redis_app_with, Target},
    suite::suite,
    support::{expiry, login_from, sessions, Client},
};

suite!(redis:
    neither_redis_key_names_nor_the_registry_reveal_a_session_key_or_a_user,
);

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
