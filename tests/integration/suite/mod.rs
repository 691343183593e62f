//! One behaviour suite for every store, as actix-session's `acceptance_test_suite` and
//! tower-sessions' `route_tests!`: each behaviour is one async body taking a [`Backend`], and
//! [`suite!`] instantiates every body on every backend, as `<file>::<backend>::<behaviour>`
//! (`suite::timeouts::redis_cluster::session_expires_exactly_at_the_idle_timeout`).
//!
//! The backends: the cookie store, a single Redis node, a Redis Cluster and PostgreSQL. A new
//! store is one more [`Backend`] impl and one more line in [`suite!`]; the bodies stay as they
//! are. What a store cannot do is a capability it declares
//! ([`Backend::REVOCATION`]): the bodies then check that it is really absent, never skip.

use std::time::Duration;

use actix_http::Request;
use actix_session::config::CookieContentSecurity;
use actix_web::{
    body::MessageBody,
    dev::{Service, ServiceResponse},
    web,
};
use session_expiry::{config::SessionExpiryBuilder, registry::SessionRegistry};

use crate::{
    postgres_support::PgTarget,
    redis_support::Target,
    support::{self, Client},
};

mod answers;
mod credentials;
mod ended_means_ended;
mod policies;
mod registry;
mod revocation;
mod step_up;
mod timeouts;
mod valid_from;

/// A store the suite runs on: it builds the fixture app (the routes of [`support::routes`],
/// and, where the store keeps a registry, the example's `/sessions` routes) under a middleware.
pub trait Backend: 'static {
    /// Whether the store lists a user's sessions and revokes one, all or all but the current
    /// one (`/sessions`, `DELETE /sessions/{id}`, `POST /sessions/revoke-{all,others}`).
    const REVOCATION: bool;

    /// The fixture app under the middleware `builder` makes, on this store, with the body's
    /// own `extra` routes first.
    fn app(
        &self,
        builder: SessionExpiryBuilder,
        extra: fn(&mut web::ServiceConfig),
    ) -> impl std::future::Future<
        Output = impl Service<
            Request,
            Response = ServiceResponse<impl MessageBody + 'static>,
            Error = actix_web::Error,
        >,
    >;
}

/// A store with a per-user registry (Redis, a Redis Cluster, PostgreSQL): the bodies of
/// `suite!(server_side: …)` run on each.
pub trait ServerSide: Backend {
    /// One more app instance on this backend's store (the same Redis prefix or PostgreSQL
    /// schema as every other instance of the body), under the middleware `builder` makes, with
    /// the body's own `extra` routes first, and the registry of its store. `patience` bounds
    /// each store operation instead of the fixtures' short timeouts (for bodies that pile up
    /// concurrent log-ins of one user).
    fn instance(
        &self,
        builder: SessionExpiryBuilder,
        extra: fn(&mut web::ServiceConfig),
        patience: Option<Duration>,
    ) -> impl std::future::Future<
        Output = (
            SessionRegistry,
            impl Service<
                Request,
                Response = ServiceResponse<impl MessageBody + 'static>,
                Error = actix_web::Error,
            >,
        ),
    >;
}

/// actix-session's cookie store: the whole state in the cookie; nothing to revoke from elsewhere.
pub struct CookieStore;

impl Backend for CookieStore {
    const REVOCATION: bool = false;

    async fn app(
        &self,
        builder: SessionExpiryBuilder,
        extra: fn(&mut web::ServiceConfig),
    ) -> impl Service<
        Request,
        Response = ServiceResponse<impl MessageBody + 'static>,
        Error = actix_web::Error,
    > {
        support::cookie_app(builder, extra).await
    }
}

/// The Redis store with its per-user registry, on a [`Target`]: a single node or a cluster.
pub struct Redis(pub Target);

impl Backend for Redis {
    const REVOCATION: bool = true;

    async fn app(
        &self,
        builder: SessionExpiryBuilder,
        extra: fn(&mut web::ServiceConfig),
    ) -> impl Service<
        Request,
        Response = ServiceResponse<impl MessageBody + 'static>,
        Error = actix_web::Error,
    > {
        self.instance(builder, extra, None).await.1
    }
}

impl ServerSide for Redis {
    async fn instance(
        &self,
        builder: SessionExpiryBuilder,
        extra: fn(&mut web::ServiceConfig),
        patience: Option<Duration>,
    ) -> (
        SessionRegistry,
        impl Service<
            Request,
            Response = ServiceResponse<impl MessageBody + 'static>,
            Error = actix_web::Error,
        >,
    ) {
        let middleware = builder.build();
        let mut store = self.0.builder_for(&middleware);
        if let Some(patience) = patience {
            store = store.response_timeout(patience);
        }
        let store = store.build().await.unwrap();
        let registry = store.registry();
        let app = crate::redis_support::redis_app_for(
            store,
            middleware,
            CookieContentSecurity::Private,
            extra,
        )
        .await;
        (registry, app)
    }
}

/// The PostgreSQL store with the same registry: the test binary's server (or `DATABASE_URL`),
/// a schema of each test's own, so that tests run in parallel.
pub struct Postgres(pub PgTarget);

impl Backend for Postgres {
    const REVOCATION: bool = true;

    async fn app(
        &self,
        builder: SessionExpiryBuilder,
        extra: fn(&mut web::ServiceConfig),
    ) -> impl Service<
        Request,
        Response = ServiceResponse<impl MessageBody + 'static>,
        Error = actix_web::Error,
    > {
        self.instance(builder, extra, None).await.1
    }
}

impl ServerSide for Postgres {
    async fn instance(
        &self,
        builder: SessionExpiryBuilder,
        extra: fn(&mut web::ServiceConfig),
        patience: Option<Duration>,
    ) -> (
        SessionRegistry,
        impl Service<
            Request,
            Response = ServiceResponse<impl MessageBody + 'static>,
            Error = actix_web::Error,
        >,
    ) {
        let middleware = builder.build();
        let mut store = self.0.builder_for(&middleware);
        if let Some(patience) = patience {
            store = store.timeout(patience);
        }
        let store = store.build().await.unwrap();
        let registry = store.registry();
        let app = crate::postgres_support::pg_app_for(store, middleware, extra).await;
        (registry, app)
    }
}

/// Every body named, on every backend: one module per backend, one test per body. With
/// `redis:` first, bodies of the Redis store's own (taking a [`Target`]), on every deployment;
/// with `server_side:`, bodies of the registry (taking a [`ServerSide`]), on every store that
/// keeps one.
macro_rules! suite {
    (redis: $($body:ident),* $(,)?) => {
        suite!(@on redis_single_node, $crate::redis_support::Target::single(), [$($body),*]);
        suite!(@on redis_cluster, $crate::redis_support::Target::cluster(), [$($body),*]);
    };
    (server_side: $($body:ident),* $(,)?) => {
        suite!(@on redis_single_node, $crate::suite::Redis($crate::redis_support::Target::single()), [$($body),*]);
        suite!(@on redis_cluster, $crate::suite::Redis($crate::redis_support::Target::cluster()), [$($body),*]);
        suite!(@on postgres, $crate::suite::Postgres($crate::postgres_support::PgTarget::shared()), [$($body),*]);
    };
    ($($body:ident),* $(,)?) => {
        suite!(@on cookie_store, $crate::suite::CookieStore, [$($body),*]);
        suite!(@on redis_single_node, $crate::suite::Redis($crate::redis_support::Target::single()), [$($body),*]);
        suite!(@on redis_cluster, $crate::suite::Redis($crate::redis_support::Target::cluster()), [$($body),*]);
        suite!(@on postgres, $crate::suite::Postgres($crate::postgres_support::PgTarget::shared()), [$($body),*]);
    };
    (@on $backend:ident, $fixture:expr, [$($body:ident),*]) => {
        mod $backend {
            $(
                #[actix_web::test]
                async fn $body() {
                    super::$body(&$fixture).await;
                }
            )*
        }
    };
}
pub(crate) use suite;

/// A client on a new fixture app of `backend`.
pub async fn client<'a, B: Backend>(
    backend: &'a B,
    builder: SessionExpiryBuilder,
) -> Client<
    impl Service<
            Request,
            Response = ServiceResponse<impl MessageBody + 'static + use<'a, B>>,
            Error = actix_web::Error,
        > + use<'a, B>,
> {
    client_with(backend, builder, |_| {}).await
}

/// [`client`] with the body's own `extra` routes.
pub async fn client_with<'a, B: Backend>(
    backend: &'a B,
    builder: SessionExpiryBuilder,
    extra: fn(&mut web::ServiceConfig),
) -> Client<
    impl Service<
            Request,
            Response = ServiceResponse<impl MessageBody + 'static + use<'a, B>>,
            Error = actix_web::Error,
        > + use<'a, B>,
> {
    Client::new(backend.app(builder, extra).await)
}
