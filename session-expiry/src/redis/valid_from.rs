//! The Redis half of the run-time "sign out everyone": the instant lives in one sorted set of
//! one member, which `ZADD GT` moves only forward, and each instance reads it with `ZSCORE`.

use ::redis::Cmd;

use super::{backend::Backend, connection::Connection, RedisStoreError};
use crate::valid_from::Source;

/// The sorted set's one member.
const MEMBER: &str = "instant";

impl Backend {
    /// Moves the instant forward to `millis` (never back); the instant Redis now keeps.
    pub(crate) async fn keep_valid_from(&self, millis: u64) -> Result<u64, RedisStoreError> {
        let key = self.keys.valid_from();
        let mut raise = ::redis::cmd("ZADD");
        raise.arg(&key).arg("GT").arg(millis).arg(MEMBER);
        self.connection.query::<i64>(&raise).await?;
        Ok(read(&self.connection, &key).await?.unwrap_or(millis))
    }

    /// The instant Redis keeps, if any.
    pub(crate) async fn kept_valid_from(&self) -> Result<Option<u64>, RedisStoreError> {
        read(&self.connection, &self.keys.valid_from()).await
    }
}

/// Reads the instant at `key` through `connection`, for the middleware.
pub(crate) fn source(connection: Connection, key: String) -> Source {
    std::sync::Arc::new(move || {
        let (connection, key) = (connection.clone(), key.clone());
        Box::pin(async move { read(&connection, &key).await.map_err(|error| error.chain()) })
    })
}

async fn read(connection: &Connection, key: &str) -> Result<Option<u64>, RedisStoreError> {
    let mut score = Cmd::new();
    score.arg("ZSCORE").arg(key).arg(MEMBER);
    let kept: Option<f64> = connection.query(&score).await?;
    // Whole milliseconds below 2^53: a score holds them exactly.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    Ok(kept
        .filter(|ms| ms.is_finite() && *ms >= 0.0)
        .map(|ms| ms as u64))
}
