//! The connection to Redis: one server or a cluster, a client that reconnects by itself, and a
//! bound on every wait.

use std::time::Duration;

use ::redis::{
    aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig},
    Cmd, FromRedisValue, Pipeline, RedisFuture, ScriptInvocation, Value,
};

use super::RedisStoreError;

/// How long to wait for Redis.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timeouts {
    /// One connection attempt.
    pub(crate) connection: Duration,
    /// One command.
    pub(crate) response: Duration,
    /// What clients are told to wait when Redis is unavailable.
    pub(crate) retry_after: Duration,
}

impl Timeouts {
    /// The longest one operation may take, waiting for a reconnection (or, on a cluster, a
    /// redirection or a retry) included.
    fn deadline(self) -> Duration {
        self.connection + self.response
    }

    fn timed_out(self) -> RedisStoreError {
        RedisStoreError::TimedOut {
            after: self.deadline(),
            retry_after: self.retry_after,
        }
    }
}

/// A cheap-to-clone handle on the Redis connection, shared by the store and the registry.
#[derive(Clone)]
pub(crate) struct Connection {
    link: Link,
    timeouts: Timeouts,
}

/// The client: one multiplexed connection to one server, or one to each master of a cluster
/// with commands routed by their keys' slot (and redirected, or retried, while a slot moves).
#[derive(Clone)]
enum Link {
    Single(ConnectionManager),
    #[cfg(feature = "redis-cluster")]
    Cluster(::redis::cluster_async::ClusterConnection),
}

impl Connection {
    /// Connects to the one Redis at `url`.
    pub(crate) async fn single(url: &str, timeouts: Timeouts) -> Result<Self, RedisStoreError> {
        let client = ::redis::Client::open(url).map_err(RedisStoreError::InvalidUrl)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeouts.connection))
            // One timer per command, not two: `bounded` gives each operation its deadline, a
            // reconnection it waits for included.
            .set_response_timeout(None)
            // Retry a lost connection a little in the background, never for long: every new
            // command after a failed reconnection starts another.
            .set_number_of_retries(2)
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(timeouts.connection);
        let manager = bounded(timeouts, ConnectionManager::new_with_config(client, config)).await?;
        Ok(Self {
            link: Link::Single(manager),
            timeouts,
        })
    }

    /// Connects to the Redis Cluster that `urls` (some of its masters) belong to.
    #[cfg(feature = "redis-cluster")]
    pub(crate) async fn cluster(
        urls: &[String],
        timeouts: Timeouts,
    ) -> Result<Self, RedisStoreError> {
        let client = ::redis::cluster::ClusterClient::builder(urls.iter().map(String::as_str))
            .connection_timeout(timeouts.connection)
            .response_timeout(timeouts.response)
            .overall_response_timeout(Some(timeouts.deadline()))
            // While a slot moves, a script on it is answered TRYAGAIN until all its keys are on
            // one node: retry every 10 to 100 ms (not the client's default 1.3 s and up), as
            // long as the deadline allows.
            .retries(CLUSTER_RETRIES)
            .min_retry_wait(10)
            .max_retry_wait(100)
            .build()
            .map_err(RedisStoreError::InvalidUrl)?;
        let connection = bounded(timeouts, client.get_async_connection()).await?;
        Ok(Self {
            link: Link::Cluster(connection),
            timeouts,
        })
    }

    /// Whether scripts must declare every key they touch: on a cluster, so that a script on a
    /// slot being moved is redirected or retried as a whole instead of failing halfway.
    pub(crate) fn declares_keys(&self) -> bool {
        match self.link {
            Link::Single(_) => false,
            #[cfg(feature = "redis-cluster")]
            Link::Cluster(_) => true,
        }
    }

    /// How long clients are told to wait when Redis is unavailable.
    pub(crate) fn retry_after(&self) -> Duration {
        self.timeouts.retry_after
    }

    /// Runs one command.
    pub(crate) async fn query<T: FromRedisValue>(&self, cmd: &Cmd) -> Result<T, RedisStoreError> {
        let mut link = self.link.clone();
        bounded(
            self.timeouts,
            async move { cmd.query_async(&mut link).await },
        )
        .await
    }

    /// Runs one script (by its hash; a server that lost its script cache gets it once more).
    pub(crate) async fn invoke<T: FromRedisValue>(
        &self,
        invocation: &ScriptInvocation<'_>,
    ) -> Result<T, RedisStoreError> {
        let mut link = self.link.clone();
        bounded(self.timeouts, async move {
            invocation.invoke_async(&mut link).await
        })
        .await
    }
}

/// On a cluster, how many times one command is redirected or retried at most: more than the
/// deadline lets happen with the default timeouts (about 2.5 s of waits), and below the count
/// where the client's exponential backoff would overflow (about 60).
#[cfg(feature = "redis-cluster")]
const CLUSTER_RETRIES: u32 = 50;

/// Waits for `operation` at most the deadline of `timeouts`.
async fn bounded<T>(
    timeouts: Timeouts,
    operation: impl std::future::Future<Output = ::redis::RedisResult<T>>,
) -> Result<T, RedisStoreError> {
    match tokio::time::timeout(timeouts.deadline(), operation).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(RedisStoreError::from_redis(error, timeouts.retry_after)),
        Err(_) => Err(timeouts.timed_out()),
    }
}

impl ConnectionLike for Link {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Self::Single(manager) => manager.req_packed_command(cmd),
            #[cfg(feature = "redis-cluster")]
            Self::Cluster(cluster) => cluster.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Self::Single(manager) => manager.req_packed_commands(pipeline, offset, count),
            #[cfg(feature = "redis-cluster")]
            Self::Cluster(cluster) => cluster.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Self::Single(manager) => manager.get_db(),
            #[cfg(feature = "redis-cluster")]
            Self::Cluster(cluster) => cluster.get_db(),
        }
    }
}
