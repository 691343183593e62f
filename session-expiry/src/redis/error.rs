//! [`RedisStoreError`]: what can go wrong talking to Redis.

use std::time::Duration;

use actix_web::{http::StatusCode, HttpResponse, ResponseError};

/// An error of the Redis store or the session registry.
///
/// As a handler's error it answers `503` with `Retry-After` when Redis is unavailable, and an
/// opaque `500` otherwise; the cause is logged, never sent.
///
/// # Examples
/// ```
/// use actix_web::ResponseError as _;
/// use session_expiry::redis::RedisStoreError;
///
/// let error = RedisStoreError::InvalidPrefix;
/// assert!(!error.is_unavailable());
/// assert_eq!(error.status_code(), 500);
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RedisStoreError {
    /// Redis could not be reached, or answered with an error that retrying may cure (loading
    /// its data set, read-only replica, cluster down).
    #[error("Redis is unavailable")]
    Unavailable {
        /// What the client reported.
        #[source]
        source: ::redis::RedisError,
        /// How long clients are asked to wait before retrying.
        retry_after: Duration,
    },
    /// Redis did not answer within the configured timeouts.
    #[error("Redis did not answer within {after:?}")]
    TimedOut {
        /// How long the store waited.
        after: Duration,
        /// How long clients are asked to wait before retrying.
        retry_after: Duration,
    },
    /// On a Redis Cluster, sessions of the user kept being saved while all of them were being
    /// revoked (each attempt met one it had not read from the index); retrying may succeed.
    #[error("the user's sessions kept changing while they were being revoked")]
    Contended {
        /// How long clients are asked to wait before retrying.
        retry_after: Duration,
    },
    /// A log-in would exceed the user's session limit and
    /// [`OnMaxSessions::Refuse`](crate::config::OnMaxSessions::Refuse) is set: the session was not
    /// saved. Answers `403` `{"error":"too_many_sessions","max_sessions":…}`, as
    /// [`ExpiryError::TooManySessions`](crate::ExpiryError::TooManySessions) does.
    #[error("the user already holds the most sessions allowed ({max})")]
    TooManySessions {
        /// The user's session limit.
        max: u32,
    },
    /// Redis refused a command in a way retrying will not cure (a bug, or a server this store
    /// cannot use).
    #[error("Redis refused a command")]
    Command(#[source] ::redis::RedisError),
    /// Redis holds data under this store's prefix that the store did not write.
    #[error("Redis holds data this store cannot read: {0}")]
    Corrupt(String),
    /// The connection URL is not a Redis URL.
    #[error("invalid Redis URL")]
    InvalidUrl(#[source] ::redis::RedisError),
    /// The key prefix contains `{` or `}`, which would make Redis Cluster put every key in one
    /// slot.
    #[error("the key prefix must not contain '{{' or '}}'")]
    InvalidPrefix,
}

impl RedisStoreError {
    /// Whether Redis is (for now) out of reach, or too busy with this user: the request may
    /// succeed later.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use session_expiry::redis::RedisStoreError;
    ///
    /// let error = RedisStoreError::TimedOut {
    ///     after: Duration::from_secs(2),
    ///     retry_after: Duration::from_secs(5),
    /// };
    /// assert!(error.is_unavailable());
    /// ```
    #[must_use]
    pub fn is_unavailable(&self) -> bool {
        self.retry_after().is_some()
    }

    /// How long clients should wait before retrying, for an unavailable Redis.
    pub(crate) fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Unavailable { retry_after, .. }
            | Self::TimedOut { retry_after, .. }
            | Self::Contended { retry_after } => Some(*retry_after),
            _ => None,
        }
    }

    /// Classifies a client error: transient ones make Redis unavailable.
    pub(crate) fn from_redis(source: ::redis::RedisError, retry_after: Duration) -> Self {
        let transient = source.is_io_error()
            || source.is_timeout()
            || source.is_connection_dropped()
            || source.is_connection_refusal()
            || !matches!(source.retry_method(), ::redis::RetryMethod::NoRetry);
        if transient {
            Self::Unavailable {
                source,
                retry_after,
            }
        } else {
            Self::Command(source)
        }
    }

    /// The error and its causes on one line, for the log.
    pub(crate) fn chain(&self) -> String {
        crate::store::failure::chain(self)
    }
}

impl crate::store::failure::StoreFailure for RedisStoreError {
    const SERVER: &'static str = "Redis";

    fn retry_after(&self) -> Option<Duration> {
        RedisStoreError::retry_after(self)
    }

    fn refused_beyond(&self) -> Option<u32> {
        match self {
            Self::TooManySessions { max } => Some(*max),
            _ => None,
        }
    }
}

impl ResponseError for RedisStoreError {
    fn status_code(&self) -> StatusCode {
        crate::store::failure::status_code(self)
    }

    fn error_response(&self) -> HttpResponse {
        crate::store::failure::error_response(self)
    }
}
