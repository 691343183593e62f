//! The connection to Redis: one multiplexed connection that reconnects by itself, and a bound on
//! every wait.

use std::time::Duration;

use ::redis::{aio::ConnectionManager, Cmd, FromRedisValue, ScriptInvocation};

use super::RedisStoreError;

/// A cheap-to-clone handle on the Redis connection, shared by the store and the registry.
#[derive(Clone)]
pub(crate) struct Connection {
    manager: ConnectionManager,
    /// The longest one operation may take, waiting for a reconnection included.
    deadline: Duration,
    retry_after: Duration,
}

impl Connection {
    pub(crate) fn new(
        manager: ConnectionManager,
        deadline: Duration,
        retry_after: Duration,
    ) -> Self {
        Self {
            manager,
            deadline,
            retry_after,
        }
    }

    /// Runs one command.
    pub(crate) async fn query<T: FromRedisValue>(&self, cmd: &Cmd) -> Result<T, RedisStoreError> {
        let mut manager = self.manager.clone();
        self.bounded(async move { cmd.query_async(&mut manager).await })
            .await
    }

    /// Runs one script (by its hash; a server that lost its script cache gets it once more).
    pub(crate) async fn invoke<T: FromRedisValue>(
        &self,
        invocation: &ScriptInvocation<'_>,
    ) -> Result<T, RedisStoreError> {
        let mut manager = self.manager.clone();
        self.bounded(async move { invocation.invoke_async(&mut manager).await })
            .await
    }

    async fn bounded<T>(
        &self,
        operation: impl std::future::Future<Output = ::redis::RedisResult<T>>,
    ) -> Result<T, RedisStoreError> {
        match tokio::time::timeout(self.deadline, operation).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => Err(RedisStoreError::from_redis(error, self.retry_after)),
            Err(_) => Err(RedisStoreError::TimedOut {
                after: self.deadline,
                retry_after: self.retry_after,
            }),
        }
    }
}
