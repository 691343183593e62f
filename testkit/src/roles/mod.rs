//! The roles of the `per_user` example, shared with the tests: a role enum with
//! `#[derive(ExpiryPolicy)]`, and a resolver that looks each user's role up once at log-in.
//!
//! alice is an admin (10 idle minutes, 8 hours, even with "keep me signed in"), bob a member
//! (30 idle minutes, 5 days; with "keep me signed in", 30 days without an idle limit). No
//! user's policy may exceed 30 days (the ceiling).

use std::time::Duration;

use actix_web::HttpRequest;
use session_expiry::{config::SessionExpiryBuilder, ExpiryPolicy, Policy};

/// Session policy by role.
#[derive(ExpiryPolicy, Clone, Copy, Debug)]
pub enum Tier {
    /// No remember-me policy: ticking the box changes nothing for an admin.
    #[expiry(idle(minutes = 10), absolute(hours = 8), max_sessions = 3)]
    Admin,
    #[expiry(
        idle(minutes = 30),
        absolute(days = 5),
        remember(idle(unlimited), absolute(days = 30))
    )]
    Member,
}

/// Stands in for a database lookup of the user's role.
pub async fn role_of(user: &str) -> Option<Tier> {
    match user {
        "alice" => Some(Tier::Admin),
        "bob" => Some(Tier::Member),
        _ => None,
    }
}

/// The demo's middleware configuration with the roles: consulted once per log-in, the answer
/// kept in the session.
pub fn expiry(settings: &crate::demo::Settings) -> SessionExpiryBuilder {
    settings
        .expiry()
        .policy_resolver(|user: String, _req: HttpRequest| async move { role_of(&user).await })
        .max_policy(Policy::new().with_absolute(Duration::from_secs(30 * 24 * 3600)))
}
