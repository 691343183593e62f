//! What the Redis tests share: where Redis is, the app on it, and a look inside.

use std::{
    sync::atomic::{AtomicUsize, Ordering},
    time::Duration,
};

use actix_http::Request;
use actix_session::{config::CookieContentSecurity, SessionExt as _, SessionMiddleware};
use actix_web::{
    body::MessageBody,
    cookie::Key,
    dev::{Service, ServiceResponse},
    test, web, App, HttpRequest, HttpResponse,
};
use redis::AsyncCommands as _;
use session_expiry::{
    redis::{RedisStore, RedisStoreBuilder, RequestScope},
    MockClock, SessionExpiryBuilder,
};

use crate::{redis_server::RedisServer, sessions, support};

/// Where a behavioural test runs: a Redis deployment, and a key prefix of the test's own.
pub struct Target {
    url: String,
    prefix: String,
    server: Option<RedisServer>,
}

impl Target {
    /// A single Redis node: the one at `REDIS_URL` when set (shared, so each test gets its own
    /// prefix), else a `redis-server` of the test's own.
    pub fn single() -> Self {
        static TESTS: AtomicUsize = AtomicUsize::new(0);
        match std::env::var("REDIS_URL") {
            Ok(url) => Self {
                url,
                prefix: format!(
                    "session-expiry-test:{}:{}:",
                    std::process::id(),
                    TESTS.fetch_add(1, Ordering::Relaxed)
                ),
                server: None,
            },
            Err(_) => Self::own(RedisServer::start()),
        }
    }

    /// A Redis server the test controls (to stop and restart it).
    pub fn own(server: RedisServer) -> Self {
        Self {
            url: server.url(),
            prefix: "test:".into(),
            server: Some(server),
        }
    }

    /// The server of a target made with [`own`](Self::own).
    pub fn server(&mut self) -> &mut RedisServer {
        self.server
            .as_mut()
            .expect("not a server of the test's own")
    }

    /// A store builder for this target, reading time from `clock`, with short timeouts.
    pub fn builder(&self, clock: &MockClock) -> RedisStoreBuilder {
        RedisStore::builder(self.url.as_str())
            .key_prefix(self.prefix.as_str())
            .clock(clock.clone())
            .connection_timeout(Duration::from_millis(300))
            .response_timeout(Duration::from_millis(300))
            .retry_after(Duration::from_secs(2))
    }

    pub async fn store(&self, clock: &MockClock) -> RedisStore {
        self.builder(clock).build().await.unwrap()
    }

    /// A plain connection to look at what the store wrote.
    pub async fn inspect(&self) -> Inspector {
        let client = redis::Client::open(self.url.as_str()).unwrap();
        Inspector {
            connection: client.get_multiplexed_async_connection().await.unwrap(),
            prefix: self.prefix.clone(),
        }
    }
}

/// Reads Redis directly, under the test's prefix only.
pub struct Inspector {
    connection: redis::aio::MultiplexedConnection,
    prefix: String,
}

impl Inspector {
    /// Every key of the test, sorted.
    pub async fn keys(&mut self) -> Vec<String> {
        let mut keys: Vec<String> = self
            .connection
            .keys(format!("{}*", self.prefix))
            .await
            .unwrap();
        keys.sort();
        keys
    }

    /// The data keys of signed-in sessions.
    pub async fn session_keys(&mut self) -> Vec<String> {
        let keys = self.keys().await;
        keys.into_iter().filter(|k| k.contains("}:s:")).collect()
    }

    /// The user indexes.
    pub async fn index_keys(&mut self) -> Vec<String> {
        let keys = self.keys().await;
        keys.into_iter().filter(|k| k.ends_with("}:i")).collect()
    }

    /// The data keys of sessions without a user.
    pub async fn anonymous_keys(&mut self) -> Vec<String> {
        let anonymous = format!("{}a:", self.prefix);
        let keys = self.keys().await;
        keys.into_iter()
            .filter(|k| k.starts_with(&anonymous))
            .collect()
    }

    /// Milliseconds left to live (-2: no such key).
    pub async fn pttl(&mut self, key: &str) -> i64 {
        self.connection.pttl(key).await.unwrap()
    }

    pub async fn field(&mut self, key: &str, field: &str) -> Option<String> {
        self.connection.hget(key, field).await.unwrap()
    }

    pub async fn index_len(&mut self, index: &str) -> usize {
        self.connection.hlen(index).await.unwrap()
    }
}

/// The same cookie key on every instance, so each reads the others' cookies.
pub fn cookie_key() -> Key {
    Key::from(&[7; 64])
}

/// The Redis fixture app: the common test routes, the example's `/sessions` routes and a cart
/// for sessions without a user, on `store`.
pub async fn redis_app(
    store: RedisStore,
    expiry: SessionExpiryBuilder,
) -> impl Service<Request, Response = ServiceResponse<impl MessageBody>, Error = actix_web::Error> {
    redis_app_with(store, expiry, CookieContentSecurity::Private, |_| {}).await
}

/// [`redis_app`] with the cookie signed or encrypted, and `extra` routes.
pub async fn redis_app_with(
    store: RedisStore,
    expiry: SessionExpiryBuilder,
    security: CookieContentSecurity,
    extra: impl FnOnce(&mut web::ServiceConfig),
) -> impl Service<Request, Response = ServiceResponse<impl MessageBody>, Error = actix_web::Error> {
    test::init_service(
        App::new()
            .app_data(web::Data::new(store.registry()))
            .configure(extra)
            .configure(support::routes)
            .configure(sessions::routes)
            .route("/cart", web::post().to(fill_cart))
            .route("/cart", web::get().to(cart))
            .wrap(expiry.build())
            .wrap(
                SessionMiddleware::builder(store, cookie_key())
                    .cookie_secure(false)
                    .cookie_content_security(security)
                    .build(),
            )
            .wrap(RequestScope::new()),
    )
    .await
}

async fn fill_cart(req: HttpRequest) -> actix_web::Result<HttpResponse> {
    req.get_session().insert("cart", ["apple", "pear"])?;
    Ok(HttpResponse::NoContent().finish())
}

async fn cart(req: HttpRequest) -> actix_web::Result<HttpResponse> {
    let cart: Option<Vec<String>> = req.get_session().get("cart")?;
    Ok(HttpResponse::Ok().json(cart))
}

/// Asserts `actual` is `expected` less at most the little real time the test took.
pub fn assert_ttl(actual: i64, expected: Duration) {
    let expected = i64::try_from(expected.as_millis()).unwrap();
    assert!(
        actual <= expected && actual > expected - 2_000,
        "TTL {actual} ms, expected just under {expected} ms"
    );
}
