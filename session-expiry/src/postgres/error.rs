//! [`PostgresStoreError`]: what can go wrong talking to PostgreSQL.

use std::time::Duration;

use actix_web::{http::StatusCode, HttpResponse, ResponseError};

/// An error of the PostgreSQL store or of its [`SessionRegistry`](crate::registry::SessionRegistry).
///
/// As a handler's error it answers `503` with `Retry-After` when PostgreSQL is unavailable, and
/// an opaque `500` otherwise; the cause is logged, never sent.
///
/// # Examples
/// ```
/// use actix_web::ResponseError as _;
/// use session_expiry::postgres::PostgresStoreError;
///
/// let error = PostgresStoreError::InvalidName("no spaces".into());
/// assert!(!error.is_unavailable());
/// assert_eq!(error.status_code(), 500);
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PostgresStoreError {
    /// PostgreSQL could not be reached, closed the connection, or answered with an error that
    /// retrying may cure (shutting down, too many connections, a serialization failure).
    #[error("PostgreSQL is unavailable")]
    Unavailable {
        /// What the client reported.
        #[source]
        source: tokio_postgres::Error,
        /// How long clients are asked to wait before retrying.
        retry_after: Duration,
    },
    /// No connection of the pool could be had, or a statement did not finish, within the
    /// store's timeout.
    #[error("PostgreSQL did not answer within {after:?}")]
    TimedOut {
        /// How long the store waited.
        after: Duration,
        /// How long clients are asked to wait before retrying.
        retry_after: Duration,
    },
    /// A log-in would exceed the user's session limit and
    /// [`OnMaxSessions::Refuse`](crate::config::OnMaxSessions::Refuse) is set: the session was not
    /// saved. Answers `403` `{"error":"too_many_sessions","max_sessions":…}`.
    #[error("the user already holds the most sessions allowed ({max})")]
    TooManySessions {
        /// The user's session limit.
        max: u32,
    },
    /// PostgreSQL refused a statement in a way retrying will not cure (a bug, missing
    /// privileges, a schema this store did not create).
    #[error("PostgreSQL refused a statement")]
    Statement(#[source] tokio_postgres::Error),
    /// The pool could not be built (a bad configuration).
    #[error("the connection pool could not be built: {0}")]
    Pool(String),
    /// The database holds a schema version newer than this release knows: it was upgraded by
    /// a later release.
    #[error("the session table is at schema version {found}, newer than this release's {known}")]
    SchemaTooNew {
        /// The version found.
        found: i32,
        /// The newest version this release knows.
        known: i32,
    },
    /// The database holds a row this store did not write.
    #[error("PostgreSQL holds data this store cannot read: {0}")]
    Corrupt(String),
    /// The connection URL is not a PostgreSQL URL.
    #[error("invalid PostgreSQL URL")]
    InvalidUrl(#[source] tokio_postgres::Error),
    /// A schema or table name is not a plain lowercase SQL identifier (`[a-z_][a-z0-9_]*`, at
    /// most 48 bytes, not starting with `pg_`, which PostgreSQL keeps for itself).
    #[error("{0:?} is not a plain lowercase SQL identifier")]
    InvalidName(String),
}

/// SQLSTATE classes and codes that retrying may cure.
const TRANSIENT: [&str; 7] = [
    "57P01", // admin_shutdown
    "57P02", // crash_shutdown
    "57P03", // cannot_connect_now
    "53300", // too_many_connections
    "40001", // serialization_failure
    "40P01", // deadlock_detected
    "08006", // connection_failure
];

impl PostgresStoreError {
    /// Whether PostgreSQL is (for now) out of reach: the request may succeed later.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use session_expiry::postgres::PostgresStoreError;
    ///
    /// let error = PostgresStoreError::TimedOut {
    ///     after: Duration::from_secs(2),
    ///     retry_after: Duration::from_secs(5),
    /// };
    /// assert!(error.is_unavailable());
    /// ```
    #[must_use]
    pub fn is_unavailable(&self) -> bool {
        self.retry_after().is_some()
    }

    /// How long clients should wait before retrying, for an unavailable PostgreSQL.
    pub(crate) fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Unavailable { retry_after, .. } | Self::TimedOut { retry_after, .. } => {
                Some(*retry_after)
            }
            _ => None,
        }
    }

    /// Classifies a client error: a closed connection, an I/O error and the transient SQLSTATEs
    /// make PostgreSQL unavailable; a statement timeout (`57014`) is a timeout.
    pub(crate) fn from_postgres(
        source: tokio_postgres::Error,
        timeout: Duration,
        retry_after: Duration,
    ) -> Self {
        let code = source.code().map(|code| code.code().to_owned());
        let io =
            std::error::Error::source(&source).is_some_and(|cause| cause.is::<std::io::Error>());
        if code.is_none() && !io && !source.is_closed() {
            // The client's own (a value of the wrong type, a protocol error): a bug.
            return Self::Statement(source);
        }
        match code.as_deref() {
            Some("57014") => Self::TimedOut {
                after: timeout,
                retry_after,
            },
            Some(code) if !TRANSIENT.contains(&code) && !code.starts_with("08") => {
                Self::Statement(source)
            }
            _ => Self::Unavailable {
                source,
                retry_after,
            },
        }
    }

    /// The error and its causes on one line, for the log.
    pub(crate) fn chain(&self) -> String {
        crate::store::failure::chain(self)
    }
}

impl crate::store::failure::StoreFailure for PostgresStoreError {
    const SERVER: &'static str = "PostgreSQL";

    fn retry_after(&self) -> Option<Duration> {
        PostgresStoreError::retry_after(self)
    }

    fn refused_beyond(&self) -> Option<u32> {
        match self {
            Self::TooManySessions { max } => Some(*max),
            _ => None,
        }
    }
}

impl ResponseError for PostgresStoreError {
    fn status_code(&self) -> StatusCode {
        crate::store::failure::status_code(self)
    }

    fn error_response(&self) -> HttpResponse {
        crate::store::failure::error_response(self)
    }
}
