//! What the Redis tests share: where Redis is, the app on it, and a look inside.

use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        OnceLock,
    },
    time::Duration,
};

use actix_http::Request;
use actix_session::{
    config::{CookieContentSecurity, SessionMiddlewareBuilder},
    storage::SessionStore,
    SessionExt as _, SessionMiddleware,
};
use actix_web::{
    body::MessageBody,
    cookie::Key,
    dev::{Service, ServiceResponse},
    test, web, App, HttpRequest, HttpResponse,
};
use session_expiry::{
    config::SessionExpiryBuilder,
    redis::{RedisStore, RedisStoreBuilder, RequestScope},
    registry::SessionRegistry,
    MockClock, RememberMeCookie, SessionExpiry,
};

use crate::{
    redis_cluster::RedisCluster, redis_plant::PlantedUser, redis_server::RedisServer, sessions,
    support,
};

/// Where a behavioural test runs: a Redis deployment, and a key prefix of the test's own.
pub struct Target {
    deployment: Deployment,
    prefix: String,
    server: Option<RedisServer>,
}

enum Deployment {
    Single(String),
    Cluster(Vec<String>),
}

/// A key prefix no other test of this process uses.
fn own_prefix() -> String {
    static TESTS: AtomicUsize = AtomicUsize::new(0);
    format!(
        "session-expiry-test:{}:{}:",
        std::process::id(),
        TESTS.fetch_add(1, Ordering::Relaxed)
    )
}

impl Target {
    /// A single Redis node: the one at `REDIS_URL` when set (shared, so each test gets its own
    /// prefix), else a `redis-server` of the test's own.
    pub fn single() -> Self {
        match std::env::var("REDIS_URL") {
            Ok(url) => Self {
                deployment: Deployment::Single(url),
                prefix: own_prefix(),
                server: None,
            },
            Err(_) => Self::own(RedisServer::start()),
        }
    }

    /// A Redis Cluster of three masters, shared by every cluster test of this process (starting
    /// one takes seconds), each test under a prefix of its own.
    pub fn cluster() -> Self {
        static CLUSTER: OnceLock<RedisCluster> = OnceLock::new();
        let mut target = Self::on_cluster(CLUSTER.get_or_init(RedisCluster::start));
        target.prefix = own_prefix();
        target
    }

    /// The cluster `cluster`, for a test that owns it.
    pub fn on_cluster(cluster: &RedisCluster) -> Self {
        Self {
            deployment: Deployment::Cluster(cluster.urls()),
            prefix: "test:".into(),
            server: None,
        }
    }

    /// A Redis server the test controls (to stop and restart it).
    pub fn own(server: RedisServer) -> Self {
        Self {
            deployment: Deployment::Single(server.url()),
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
        self.builder_for(&SessionExpiry::builder().clock(clock.clone()).build())
    }

    /// A store builder for this target serving `middleware`, with short timeouts.
    pub fn builder_for(&self, middleware: &SessionExpiry) -> RedisStoreBuilder {
        let builder = match &self.deployment {
            Deployment::Single(url) => RedisStore::builder(url.as_str()),
            Deployment::Cluster(urls) => RedisStore::cluster_builder(urls),
        };
        builder
            .key_prefix(self.prefix.as_str())
            .for_middleware(middleware)
            .connection_timeout(Duration::from_millis(300))
            .response_timeout(Duration::from_millis(300))
            .retry_after(Duration::from_secs(2))
    }

    pub async fn store(&self, clock: &MockClock) -> RedisStore {
        self.builder(clock).build().await.unwrap()
    }

    /// A store serving `middleware` (its clock, state key, log settings and hooks).
    pub async fn store_for(&self, middleware: &SessionExpiry) -> RedisStore {
        self.builder_for(middleware).build().await.unwrap()
    }

    /// A plain connection to look at what the store wrote.
    pub async fn inspect(&self) -> Inspector {
        let connection = match &self.deployment {
            Deployment::Single(url) => {
                let client = redis::Client::open(url.as_str()).unwrap();
                Peek::Single(client.get_multiplexed_async_connection().await.unwrap())
            }
            Deployment::Cluster(urls) => {
                let client = redis::cluster::ClusterClient::new(urls.clone()).unwrap();
                Peek::Cluster(client.get_async_connection().await.unwrap())
            }
        };
        Inspector {
            connection,
            prefix: self.prefix.clone(),
        }
    }
}

/// Reads Redis directly, under the test's prefix only.
pub struct Inspector {
    connection: Peek,
    prefix: String,
}

/// A client of the test's own: `KEYS` on a cluster asks every master.
enum Peek {
    Single(redis::aio::MultiplexedConnection),
    Cluster(redis::cluster_async::ClusterConnection),
}

impl Inspector {
    async fn query<T: redis::FromRedisValue>(&mut self, cmd: &mut redis::Cmd) -> T {
        match &mut self.connection {
            Peek::Single(connection) => cmd.query_async(connection).await.unwrap(),
            Peek::Cluster(connection) => cmd.query_async(connection).await.unwrap(),
        }
    }

    /// Every key of the test, sorted.
    pub async fn keys(&mut self) -> Vec<String> {
        let pattern = format!("{}*", self.prefix);
        let mut keys: Vec<String> = self.query(redis::cmd("KEYS").arg(pattern)).await;
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
        self.query(redis::cmd("PTTL").arg(key)).await
    }

    pub async fn field(&mut self, key: &str, field: &str) -> Option<String> {
        self.query(redis::cmd("HGET").arg(key).arg(field)).await
    }

    /// The session entries other than the expiry state that the data key `key` holds, as the
    /// store laid them out (`r` is `<mark>:<length of the state>:<state><entries>`): empty for
    /// a tombstone.
    pub async fn entries(&mut self, key: &str) -> Option<String> {
        let view = self.field(key, "r").await?;
        let (_, rest) = view.split_once(':')?;
        let (length, rest) = rest.split_once(':')?;
        rest.get(length.parse::<usize>().ok()?..).map(str::to_owned)
    }

    /// Deletes `key`, as Redis does when its TTL runs out.
    pub async fn expire_now(&mut self, key: &str) {
        let deleted: i64 = self.query(redis::cmd("DEL").arg(key)).await;
        assert_eq!(deleted, 1, "{key} was there");
    }

    /// Whether the index `index` lists the session `id`.
    pub async fn index_lists(&mut self, index: &str, id: &str) -> bool {
        self.query(redis::cmd("HEXISTS").arg(index).arg(id)).await
    }

    /// How many live sessions the index `index` (its `:i` key) lists: the size of its activity
    /// set (`:a`). A session that ended by its deadline leaves it, though its log-in record
    /// stays a day longer.
    /// Runs `cmd` (a look, or a change the test makes behind the store's back).
    pub async fn command<T: redis::FromRedisValue>(&mut self, cmd: &mut redis::Cmd) -> T {
        self.query(cmd).await
    }

    /// Cuts every subscriber's connection (`CLIENT KILL TYPE pubsub`): a lost subscription.
    pub async fn kill_subscribers(&mut self) {
        let _: redis::Value = self
            .query(redis::cmd("CLIENT").arg("KILL").arg("TYPE").arg("pubsub"))
            .await;
    }

    /// How many clients subscribe to the first channel matching `pattern` (`PUBSUB`).
    pub async fn subscribers(&mut self, pattern: &str) -> usize {
        let channels: Vec<String> = self
            .query(redis::cmd("PUBSUB").arg("CHANNELS").arg(pattern))
            .await;
        match channels.first() {
            Some(channel) => {
                let (_, n): (String, usize) = self
                    .query(redis::cmd("PUBSUB").arg("NUMSUB").arg(channel))
                    .await;
                n
            }
            None => 0,
        }
    }

    /// Waits (at most 5 s) until `count` clients subscribe to a channel matching `pattern`;
    /// how many do.
    pub async fn wait_for_subscribers(&mut self, pattern: &str, count: usize) -> usize {
        let started = std::time::Instant::now();
        loop {
            let listeners = self.subscribers(pattern).await;
            if listeners >= count {
                return listeners;
            }
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "{listeners} subscribed to {pattern}, not {count}"
            );
            actix_web::rt::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Plants sessions of `user` straight into Redis (see [`PlantedUser::plant`]).
    pub async fn plant(
        &mut self,
        user: &PlantedUser,
        from: usize,
        count: usize,
        seen_ms: u64,
        deadline_ms: u64,
    ) {
        let planted = match &mut self.connection {
            Peek::Single(connection) => {
                user.plant(connection, from, count, seen_ms, deadline_ms)
                    .await
            }
            Peek::Cluster(connection) => {
                user.plant(connection, from, count, seen_ms, deadline_ms)
                    .await
            }
        };
        planted.unwrap();
    }

    pub async fn index_len(&mut self, index: &str) -> usize {
        let activity = format!("{}a", index.trim_end_matches('i'));
        self.query(redis::cmd("ZCARD").arg(activity)).await
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
    redis_app_for(store, expiry.build(), security, extra).await
}

/// [`redis_app_with`] under a middleware already built (the one `store` was built for).
pub async fn redis_app_for(
    store: RedisStore,
    expiry: SessionExpiry,
    security: CookieContentSecurity,
    extra: impl FnOnce(&mut web::ServiceConfig),
) -> impl Service<Request, Response = ServiceResponse<impl MessageBody>, Error = actix_web::Error> {
    let registry = store.registry();
    server_side_app(
        store,
        registry,
        expiry,
        move |session| session.cookie_content_security(security),
        extra,
    )
    .await
}

/// The fixture app on a server-side store (Redis or PostgreSQL) with its `registry`: the
/// body's own `extra` routes first, the common test routes, the example's `/sessions` routes
/// and a cart for sessions without a user, under `expiry`, remember-me and the stores'
/// `RequestScope`; `session` sets what the store needs of actix-session's middleware.
pub async fn server_side_app<S: SessionStore + 'static>(
    store: S,
    registry: SessionRegistry,
    expiry: SessionExpiry,
    session: impl FnOnce(SessionMiddlewareBuilder<S>) -> SessionMiddlewareBuilder<S>,
    extra: impl FnOnce(&mut web::ServiceConfig),
) -> impl Service<Request, Response = ServiceResponse<impl MessageBody>, Error = actix_web::Error> {
    test::init_service(
        App::new()
            .app_data(web::Data::new(registry))
            .configure(extra)
            .configure(support::routes)
            .configure(sessions::routes)
            .configure(cart_routes)
            .wrap(expiry)
            .wrap(
                session(SessionMiddleware::builder(store, cookie_key()).cookie_secure(false))
                    .build(),
            )
            .wrap(RememberMeCookie::new())
            .wrap(RequestScope::new()),
    )
    .await
}

/// A cart for sessions without a user: `POST /cart` fills it, `GET /cart` shows it.
pub fn cart_routes(config: &mut web::ServiceConfig) {
    config
        .route("/cart", web::post().to(fill_cart))
        .route("/cart", web::get().to(cart));
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

/// The Redis example's app (`testkit::demo`'s and `testkit::sessions`' routes) under `expiry`,
/// on `store`.
pub async fn redis_demo_app(
    store: RedisStore,
    expiry: SessionExpiryBuilder,
) -> impl Service<Request, Response = ServiceResponse<impl MessageBody>, Error = actix_web::Error> {
    test::init_service(
        App::new()
            .app_data(web::Data::new(store.registry()))
            .configure(crate::demo::routes)
            .configure(sessions::routes)
            .wrap(expiry.build())
            .wrap(
                SessionMiddleware::builder(store, cookie_key())
                    .cookie_secure(false)
                    .build(),
            )
            .wrap(RequestScope::new()),
    )
    .await
}
