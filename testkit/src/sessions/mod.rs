//! The session-management routes of the Redis and PostgreSQL examples, shared with the tests: the signed-in
//! user's sessions, and revoking them.
//!
//! - `GET /sessions`: the first page of the user's sessions, most recently active first:
//!   `{"sessions":[{"id":…,"device":"Firefox 128 on Linux","logged_in_at":…,"last_seen":…,
//!   "expires_at":…,"user_agent":…,"ip":…,"current":true}, …],"next":"<cursor>"}`; `next` is
//!   `null` on the last page, else `GET /sessions?cursor=<cursor>` gives the page after
//!   (`400` `{"error":"invalid_cursor"}` for a cursor it did not give).
//! - `POST /sessions/revoke-all`: every session of the user, this one included: `{"revoked":n}`.
//! - `POST /sessions/revoke-others`: all but this one: `{"revoked":n}`.
//! - `DELETE /sessions/{id}`: `204`, or `404` when there is no such live session.
//!
//! Each answers `401` `{"error":"unauthenticated"}` when nobody is signed in, and the
//! state-changing ones `403` `{"error":"cross_site_request"}` when another origin sent them.

use actix_web::web;

/// Registers the routes (the crate's own [`session_expiry::web::sessions`]); the app needs
/// `web::Data<SessionRegistry>`.
pub fn routes(config: &mut web::ServiceConfig) {
    config.service(session_expiry::web::sessions("/sessions"));
}
