//! The builder's settings for ending sessions when credentials change: the security stamp, how
//! often it is checked, and a global "sign out everyone".

use std::{sync::Arc, time::Duration};

use chrono::{DateTime, Utc};

use super::SessionExpiryBuilder;
use crate::{stamp::StampLookup, unix_ms::UnixMs};

impl SessionExpiryBuilder {
    /// Ends a user's sessions when their credentials change: `lookup` answers the user's current
    /// security stamp ([`StampLookup`]), any bytes the app changes with the password or second
    /// factor (a counter, a password-changed-at time, the password hash itself); `None` for a
    /// user who no longer exists or is disabled.
    ///
    /// A log-in keeps a short keyed hash of the stamp (never the stamp), under
    /// [`data_owner_key`](Self::data_owner_key): set that key to the same secret on every
    /// instance, or sessions moving between instances end as `credentials_changed`. Each
    /// request of a signed-in session then compares it with the user's current stamp, looked up
    /// at most once per user per [`stamp_check_interval`](Self::stamp_check_interval) in this
    /// process and shared by all of the user's sessions (between lookups a request costs one
    /// look into that cache: no lookup, no store write). Passive requests are checked like any
    /// other, and never count as activity.
    ///
    /// - A changed stamp ends the session with reason `credentials_changed`.
    /// - `None` ends it with reason `revoked`.
    /// - A failed lookup ends nothing: the request is answered `503` with `Retry-After`, the
    ///   session kept and not counted as activity, and [`SessionEvent::StampLookupFailed`]
    ///   reported.
    ///
    /// Call [`Expiry::credentials_changed`](crate::Expiry::credentials_changed) in the handler
    /// that changes the password: that session stays signed in, the others end at their next
    /// request on this instance, and on other instances within the interval (within a second
    /// with the Redis store, which publishes the change).
    ///
    /// On the cookie store, where sessions cannot be listed, this is also "sign out
    /// everywhere": keep a counter column per user, return it as the stamp, and bump it.
    ///
    /// Enabling it ends the sessions signed in before (they hold no stamp), as Django's
    /// session auth hash does.
    ///
    /// # Examples
    /// ```
    /// use actix_web::HttpRequest;
    /// use session_expiry::SessionExpiry;
    ///
    /// let m = SessionExpiry::builder()
    ///     .security_stamp(|user: String, _req: HttpRequest| async move {
    ///         // `SELECT sessions_epoch FROM users WHERE id = $1 AND NOT disabled`
    ///         Ok::<_, std::io::Error>(Some(format!("{user}:epoch-1")))
    ///     })
    ///     .build();
    /// ```
    ///
    /// [`SessionEvent::StampLookupFailed`]: crate::SessionEvent::StampLookupFailed
    pub fn security_stamp(mut self, lookup: impl StampLookup) -> Self {
        self.configuration.stamp_lookup = Some(Arc::new(lookup));
        self
    }

    /// How long a looked-up security stamp is trusted before the next request of that user
    /// looks it up again; `Duration::ZERO` looks it up on every request.
    ///
    /// Defaults to 60 seconds. Within this process a change made through
    /// [`Expiry::credentials_changed`](crate::Expiry::credentials_changed) is seen at once, and
    /// the Redis store tells the other instances within a second, so the interval only bounds
    /// changes made outside the app (an administrator's `UPDATE`) or an instance cut off from
    /// Redis: a minute is well inside what OWASP asks of a password change, at one lookup per
    /// active user per minute (ASP.NET Core's default waits 30 minutes; Django and axum-login
    /// read the user on every request).
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// let m = session_expiry::SessionExpiry::builder()
    ///     .stamp_check_interval(Duration::from_secs(15))
    ///     .build();
    /// ```
    pub fn stamp_check_interval(mut self, interval: Duration) -> Self {
        self.configuration.stamp_check_interval = interval;
        self
    }

    /// Signs out everyone signed in before `instant`: their next request ends with reason
    /// `revoked` (a global "sign out everyone", e.g. after a breach). Works on every store.
    ///
    /// With a server-side store the instant can also be moved at run time, without a restart,
    /// through `SessionRegistry::set_sessions_valid_from` (features `redis`, `postgres`): the
    /// store keeps it, and every instance whose store was built `for_middleware` reads it, on
    /// the first signed-in request due, at most once per
    /// [`stamp_check_interval`](Self::stamp_check_interval), so it sees a new one within the
    /// interval. The later of the two instants holds.
    ///
    /// Defaults to none.
    ///
    /// # Examples
    /// ```
    /// use chrono::{TimeZone as _, Utc};
    /// let m = session_expiry::SessionExpiry::builder()
    ///     .sessions_valid_from(Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap())
    ///     .build();
    /// ```
    pub fn sessions_valid_from(self, instant: DateTime<Utc>) -> Self {
        self.configuration
            .valid_from
            .raise(UnixMs::of(instant).millis());
        self
    }
}
