//! Configuration of the [`SessionExpiry`](crate::SessionExpiry) middleware: its builder and
//! the choices the builder takes.
//!
//! As in actix-session's and actix-identity's `config` modules, the crate root keeps the
//! middleware and what handlers use; what only the builder takes lives here.
//!
//! # Examples
//! ```
//! use std::time::Duration;
//!
//! use session_expiry::{
//!     config::{ExpiredAction, LogoutBehavior},
//!     SessionExpiry,
//! };
//!
//! let middleware = SessionExpiry::builder()
//!     .idle_timeout(Duration::from_secs(15 * 60))
//!     .logout_behavior(LogoutBehavior::PurgeSession)
//!     .expired_action(ExpiredAction::Continue)
//!     .build();
//! ```

mod adoption;
mod builder;
pub(crate) mod configuration;
mod expired_action;
mod logout_behavior;
mod on_max_sessions;
mod stamp_settings;
mod user_id_logging;

pub use self::{
    adoption::Adoption,
    builder::SessionExpiryBuilder,
    expired_action::ExpiredAction,
    logout_behavior::{KeptKeys, LogoutBehavior},
    on_max_sessions::OnMaxSessions,
    user_id_logging::{HashKey, HashKeyTooShort, UserIdLogging},
};
pub use crate::stamp::{StampFuture, StampLookup, StampLookupError};
