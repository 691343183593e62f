//! What a server-side store does when its server fails it, the same for every store: the log
//! line, the counter, the request scope's note, the `unavailable` marker on a load, and the
//! answer a handler's `?` on a store error gives.

use std::time::Duration;

use actix_web::{http::StatusCode, HttpResponse};

use super::{scope, session_api::SessionState, StoreMarker};

/// A store's error, as the shared failure handling needs to see it.
pub(crate) trait StoreFailure: std::error::Error + Send + Sync + 'static {
    /// The server's name in log lines ("Redis", "PostgreSQL").
    const SERVER: &'static str;

    /// How long clients should wait before retrying, when the server is unavailable.
    fn retry_after(&self) -> Option<Duration>;

    /// The user's session limit, when the error is a log-in it refused.
    fn refused_beyond(&self) -> Option<u32>;
}

/// An error and its causes on one line, for the log.
pub(crate) fn chain(error: &dyn std::error::Error) -> String {
    let mut line = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        // Some errors print their source themselves: say it once.
        if !line.ends_with(&cause_text) {
            line.push_str(": ");
            line.push_str(&cause_text);
        }
        source = cause.source();
    }
    line
}

/// Logs a failed `operation`, counts it, and tells the request's scope when the server is
/// unavailable; what the store hands actix-session.
pub(crate) fn failed<E: StoreFailure>(operation: &str, error: E) -> anyhow::Error {
    if error.refused_beyond().is_some() {
        // The session limit at work, logged where it refused: not a failure of the store.
        return anyhow::Error::new(error);
    }
    crate::metrics::store_error();
    tracing::error!(
        target: "session_expiry",
        error = %chain(&error),
        "the {} session store could not {operation}",
        E::SERVER,
    );
    if let Some(retry_after) = error.retry_after() {
        scope::report_outage(retry_after);
    }
    anyhow::Error::new(error)
}

/// What a load that met an unavailable server returns: a state holding only the `unavailable`
/// marker, which the middleware answers `503` (actix-session would make a failed load a `500`).
pub(crate) fn unavailable_on_load<E: StoreFailure>(
    error: &E,
    retry_after: Duration,
) -> SessionState {
    crate::metrics::store_error();
    tracing::error!(
        target: "session_expiry",
        error = %chain(error),
        "{} is unavailable: the session cannot be checked",
        E::SERVER,
    );
    let mut state = SessionState::new();
    StoreMarker::Unavailable { retry_after }.write(&mut state);
    state
}

/// The status of a store error a handler returns.
pub(crate) fn status_code<E: StoreFailure>(error: &E) -> StatusCode {
    if error.retry_after().is_some() {
        StatusCode::SERVICE_UNAVAILABLE
    } else if error.refused_beyond().is_some() {
        StatusCode::FORBIDDEN
    } else {
        StatusCode::INTERNAL_SERVER_ERROR
    }
}

/// The answer to a store error a handler returns: the session limit's `403`, a `503` with
/// `Retry-After`, or an opaque `500` (its cause logged).
pub(crate) fn error_response<E: StoreFailure>(error: &E) -> HttpResponse {
    if let Some(max) = error.refused_beyond() {
        return actix_web::ResponseError::error_response(&crate::ExpiryError::TooManySessions {
            max,
        });
    }
    tracing::error!(target: "session_expiry", error = %chain(error), "session registry failed");
    match error.retry_after() {
        Some(retry_after) => crate::response::Refusal::Unavailable(retry_after).answer(None),
        None => HttpResponse::new(status_code(error)),
    }
}
