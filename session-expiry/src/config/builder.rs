//! Configuration of the [`SessionExpiry`] middleware, built with [`SessionExpiryBuilder`].

use std::{sync::Arc, time::Duration};

use actix_web::cookie::Key;

use crate::{
    config::configuration::{default_configuration, Configuration},
    config::Adoption,
    config::ExpiredAction,
    config::LogoutBehavior,
    config::OnMaxSessions,
    config::UserIdLogging,
    Clock, ExpiryEvent, Policy, PolicyResolver, SessionEvent, SessionExpiry, SystemClock,
};

/// A fluent builder for [`SessionExpiry`]; start with [`SessionExpiry::builder`].
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use session_expiry::SessionExpiry;
///
/// let middleware = SessionExpiry::builder()
///     .idle_timeout(Duration::from_secs(15 * 60))
///     .absolute_timeout(Duration::from_secs(8 * 3600))
///     .login_path("/login")
///     .build();
/// ```
#[must_use]
#[derive(Debug)]
pub struct SessionExpiryBuilder {
    pub(super) configuration: Configuration,
}

impl SessionExpiryBuilder {
    pub(crate) fn new() -> Self {
        Self {
            configuration: default_configuration(),
        }
    }

    /// Ends a session after this long without activity.
    ///
    /// Defaults to 30 minutes. See [`without_idle_timeout`](Self::without_idle_timeout) to turn it off.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// let m = session_expiry::SessionExpiry::builder()
    ///     .idle_timeout(Duration::from_secs(600))
    ///     .build();
    /// ```
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.configuration.policy = self.configuration.policy.with_idle(timeout);
        self
    }

    /// Turns the global idle timeout off: inactivity alone never ends a session.
    ///
    /// # Examples
    /// ```
    /// let m = session_expiry::SessionExpiry::builder().without_idle_timeout().build();
    /// ```
    pub fn without_idle_timeout(mut self) -> Self {
        self.configuration.policy = self.configuration.policy.without_idle();
        self
    }

    /// Ends a session this long after log-in, however active it is.
    ///
    /// Defaults to 5 days. See [`without_absolute_timeout`](Self::without_absolute_timeout) to turn it
    /// off.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// let m = session_expiry::SessionExpiry::builder()
    ///     .absolute_timeout(Duration::from_secs(8 * 3600))
    ///     .build();
    /// ```
    pub fn absolute_timeout(mut self, timeout: Duration) -> Self {
        self.configuration.policy = self.configuration.policy.with_absolute(timeout);
        self
    }

    /// Turns the global absolute timeout off: an active session may last forever.
    ///
    /// # Examples
    /// ```
    /// let m = session_expiry::SessionExpiry::builder().without_absolute_timeout().build();
    /// ```
    pub fn without_absolute_timeout(mut self) -> Self {
        self.configuration.policy = self.configuration.policy.without_absolute();
        self
    }

    /// Replaces the global policy with `policy`; it applies to every user whose log-in did
    /// not set a policy of their own, and fills in what a user's own policy leaves unset. A
    /// timeout it leaves unset is no timeout; a session limit it leaves unset is
    /// [`DEFAULT_MAX_SESSIONS`](crate::DEFAULT_MAX_SESSIONS).
    ///
    /// Defaults to 30 minutes idle, 5 days absolute, at most 100 sessions per user.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use session_expiry::{Policy, SessionExpiry};
    /// let m = SessionExpiry::builder()
    ///     .policy(Policy::new().with_absolute(Duration::from_secs(3600)))
    ///     .build();
    /// ```
    pub fn policy(mut self, policy: Policy) -> Self {
        self.configuration.policy = policy;
        self
    }

    /// The policy of a log-in with "keep me signed in"
    /// ([`Expiry::login_remembered`](crate::Expiry::login_remembered)) for users the
    /// [resolver](Self::policy_resolver) gives no policy of their own; what it leaves unset
    /// comes from the global policy. Users with a role get their role's remember-me policy, or
    /// their plain one: never this one.
    ///
    /// Defaults to none: a remembered log-in gets the global policy (only its cookie outlives
    /// the browser, see [`RememberMeCookie`](crate::RememberMeCookie)).
    ///
    /// # Examples
    /// ```
    /// use session_expiry::{Policy, SessionExpiry};
    /// let m = SessionExpiry::builder()
    ///     .remember_me_policy(Policy::nist_aal1()) // 30 days, no idle limit
    ///     .build();
    /// ```
    pub fn remember_me_policy(mut self, policy: Policy) -> Self {
        self.configuration.remember_me = Some(policy);
        self
    }

    /// At most `max` sessions per user at once (a user's own policy may say otherwise, see
    /// [`Policy::with_max_sessions`]); what a log-in beyond it does is
    /// [`on_max_sessions`](Self::on_max_sessions). Needs a store with a session registry
    /// (the Redis store): the cookie store cannot count sessions.
    ///
    /// Defaults to [`DEFAULT_MAX_SESSIONS`](crate::DEFAULT_MAX_SESSIONS) (100): more devices
    /// than anyone uses, so that only runaway scripts and shared credentials meet it, while it
    /// bounds what one account can make the store keep.
    ///
    /// # Panics
    ///
    /// If `max` is 0, as [`Policy::with_max_sessions`] does: use
    /// [`without_max_sessions`](Self::without_max_sessions) for no limit.
    ///
    /// # Examples
    /// ```
    /// let m = session_expiry::SessionExpiry::builder().max_sessions(5).build();
    /// ```
    #[track_caller]
    pub fn max_sessions(mut self, max: u32) -> Self {
        self.configuration.policy = self.configuration.policy.with_max_sessions(max);
        self
    }

    /// No limit on the number of sessions per user (unless a user's own policy sets one).
    ///
    /// # Examples
    /// ```
    /// let m = session_expiry::SessionExpiry::builder().without_max_sessions().build();
    /// ```
    pub fn without_max_sessions(mut self) -> Self {
        self.configuration.policy = self.configuration.policy.without_max_sessions();
        self
    }

    /// What a log-in beyond the user's session limit does.
    ///
    /// Defaults to [`OnMaxSessions::EvictLeastRecentlyActive`].
    ///
    /// # Examples
    /// ```
    /// use session_expiry::{config::OnMaxSessions, SessionExpiry};
    /// let m = SessionExpiry::builder().on_max_sessions(OnMaxSessions::Refuse).build();
    /// ```
    pub fn on_max_sessions(mut self, action: OnMaxSessions) -> Self {
        self.configuration.on_max_sessions = action;
        self
    }

    /// Caps every policy, the users' own included: each dimension is at most the ceiling's
    /// (a ceiling without a dimension leaves it alone).
    ///
    /// Defaults to none: a user's policy may be longer than the global one (remember-me).
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use session_expiry::{Policy, SessionExpiry};
    /// let m = SessionExpiry::builder()
    ///     .max_policy(Policy::new().with_absolute(Duration::from_secs(30 * 24 * 3600)))
    ///     .build();
    /// ```
    pub fn max_policy(mut self, ceiling: Policy) -> Self {
        self.configuration.max_policy = Some(ceiling);
        self
    }

    /// Looks each user's own policy up once at log-in; see [`PolicyResolver`].
    ///
    /// Defaults to none: [`Expiry::login`](crate::Expiry::login) uses the global policy.
    ///
    /// # Examples
    /// ```
    /// use actix_web::HttpRequest;
    /// use session_expiry::{Policy, SessionExpiry};
    /// let m = SessionExpiry::builder()
    ///     .policy_resolver(|user: String, _: HttpRequest| async move {
    ///         user.starts_with("admin-").then(Policy::high_value)
    ///     })
    ///     .build();
    /// ```
    pub fn policy_resolver(mut self, resolver: impl PolicyResolver) -> Self {
        self.configuration.resolver = Some(Arc::new(resolver));
        self
    }

    /// Chooses what happens to sessions signed in by another mechanism that carry no expiry
    /// state yet; see [`Adoption`].
    ///
    /// Defaults to [`Adoption::ignore`].
    ///
    /// # Examples
    /// ```
    /// use session_expiry::{config::Adoption, SessionExpiry};
    /// let m = SessionExpiry::builder().adoption(Adoption::ignore()).build();
    /// ```
    pub fn adoption(mut self, adoption: Adoption) -> Self {
        self.configuration.adoption = adoption;
        self
    }

    /// Records activity at most once per this window, to save store writes.
    ///
    /// The error is early-only: a session may end up to one window before its idle deadline,
    /// never after it. Keep it well below the idle timeout.
    ///
    /// Defaults to a twentieth of the idle timeout, at most 60 seconds.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// let m = session_expiry::SessionExpiry::builder()
    ///     .refresh_granularity(Duration::from_secs(10))
    ///     .build();
    /// ```
    pub fn refresh_granularity(mut self, granularity: Duration) -> Self {
        self.configuration.refresh_granularity = Some(granularity);
        self
    }

    /// Sends browsers whose session expired to this path, with `next` (the page they asked for,
    /// same-site paths only) and `reason` in the query.
    ///
    /// Defaults to none: every expired request gets the `401` JSON answer.
    ///
    /// # Examples
    /// ```
    /// let m = session_expiry::SessionExpiry::builder().login_path("/login").build();
    /// ```
    pub fn login_path(mut self, path: impl Into<String>) -> Self {
        self.configuration.login_path = Some(path.into());
        self
    }

    /// Sends browsers that need to confirm their password (a route with
    /// [`#[fresh_auth]`](crate::FreshAuth) whose session authenticated too long ago) to this
    /// path, with `next` in the query; the session lives on.
    ///
    /// Defaults to the [log-in path](Self::login_path).
    ///
    /// # Examples
    /// ```
    /// let m = session_expiry::SessionExpiry::builder()
    ///     .login_path("/login")
    ///     .reauth_path("/confirm")
    ///     .build();
    /// ```
    pub fn reauth_path(mut self, path: impl Into<String>) -> Self {
        self.configuration.reauth_path = Some(path.into());
        self
    }

    /// The session key under which this crate keeps its state. The Redis store takes it from
    /// the middleware ([`RedisStoreBuilder::for_middleware`](crate::redis::RedisStoreBuilder::for_middleware)).
    ///
    /// Defaults to [`STATE_KEY`](crate::STATE_KEY) (`_se`).
    ///
    /// # Examples
    /// ```
    /// let m = session_expiry::SessionExpiry::builder().state_key("auth").build();
    /// ```
    pub fn state_key(mut self, key: impl Into<String>) -> Self {
        self.configuration.state_key = Arc::from(key.into());
        self
    }

    /// What log-out and expiry do to the rest of the session.
    ///
    /// Defaults to [`LogoutBehavior::PurgeSession`].
    ///
    /// # Examples
    /// ```
    /// use session_expiry::{config::LogoutBehavior, SessionExpiry};
    /// let m = SessionExpiry::builder()
    ///     .logout_behavior(LogoutBehavior::keep(["cart", "lang"]))
    ///     .build();
    /// ```
    pub fn logout_behavior(mut self, behavior: LogoutBehavior) -> Self {
        self.configuration.logout_behavior = behavior;
        self
    }

    /// The key of the owner tag that data kept across a log-out carries (see
    /// [`LogoutBehavior::keep`]): with it, a user signing in again on any instance, or after a
    /// restart, gets their kept data back. The tag is a keyed hash of the user id, so the
    /// session never names its last user. Any key of your own will do, such as the one given
    /// to `SessionMiddleware`.
    ///
    /// Defaults to a key generated at start-up: kept data then goes back only to a user who
    /// signs in again on the same process, and is dropped elsewhere (never handed to another
    /// user).
    ///
    /// # Examples
    /// ```
    /// use actix_web::cookie::Key;
    /// use session_expiry::{config::LogoutBehavior, SessionExpiry};
    /// let key = Key::generate();
    /// let m = SessionExpiry::builder()
    ///     .logout_behavior(LogoutBehavior::keep(["cart"]))
    ///     .data_owner_key(key.clone())
    ///     .build();
    /// ```
    pub fn data_owner_key(mut self, key: Key) -> Self {
        self.configuration.data_owner_key = key;
        self
    }

    /// Whether only the site's own requests count as activity: with `true` (the default), a
    /// request refreshes the idle clock only if the browser says it comes from this origin
    /// (`Sec-Fetch-Site: same-origin`), from the user themselves (`none`: typed in the address
    /// bar, a bookmark), or if it carries no Fetch Metadata (an old browser, an API client).
    /// Requests from a sibling subdomain (`same-site`) and from other sites (`cross-site`), of
    /// any kind (navigations, images, frames, scripts), are still served, but leave the idle
    /// clock where it was.
    ///
    /// On by default because `SameSite=Lax` cookies come along with another site's top-level
    /// navigations and with every request a sibling subdomain makes: without this, any page
    /// the browser has open elsewhere (a popup it reloads, an `<img>` on a subdomain that hosts
    /// user content) could keep an unattended session alive until its absolute timeout, which
    /// is what the idle timeout is there to prevent. Following a link from an e-mail still
    /// reaches the page signed in; only the next request of the page itself counts.
    ///
    /// Turn it off (`false`) when pages of your own on another origin are what keeps sessions
    /// active, for example a single-page app on `app.example.com` that calls this API on
    /// `api.example.com` with credentials: those requests are `same-site`, and would otherwise
    /// let the session end while the user works.
    ///
    /// # Examples
    /// ```
    /// let m = session_expiry::SessionExpiry::builder()
    ///     .activity_from_same_origin_only(true)
    ///     .build();
    /// ```
    pub fn activity_from_same_origin_only(mut self, only: bool) -> Self {
        self.configuration.activity_from_same_origin_only = only;
        self
    }

    /// How the log lines of expiries and adoptions name the user: the id itself, a keyed hash
    /// of it, or not at all (see [`UserIdLogging`]). The hooks always get the id itself.
    ///
    /// Defaults to [`UserIdLogging::plain`].
    ///
    /// # Examples
    /// ```
    /// use session_expiry::{SessionExpiry, config::UserIdLogging};
    /// # fn main() -> Result<(), session_expiry::config::HashKeyTooShort> {
    /// let m = SessionExpiry::builder()
    ///     .log_user_ids(UserIdLogging::hashed(b"a secret of at least 32 bytes, not this one")?)
    ///     .build();
    /// # Ok(()) }
    /// ```
    pub fn log_user_ids(mut self, logging: UserIdLogging) -> Self {
        self.configuration.events.user_ids = logging;
        self
    }

    /// Reads time from `clock`; tests pass a `MockClock` (feature `test-util`).
    ///
    /// Defaults to [`SystemClock`].
    ///
    /// # Examples
    /// ```
    /// use session_expiry::{SessionExpiry, SystemClock};
    /// let m = SessionExpiry::builder().clock(SystemClock).build();
    /// ```
    pub fn clock<C: Clock>(mut self, clock: C) -> Self {
        let system = std::any::TypeId::of::<C>() == std::any::TypeId::of::<SystemClock>();
        self.configuration.clock = (!system).then(|| Arc::new(clock) as Arc<dyn Clock>);
        self
    }

    /// How far in the future a stored instant may lie (clocks of several app instances
    /// disagree a little) before the state is refused as invalid.
    ///
    /// Defaults to 30 seconds.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// let m = session_expiry::SessionExpiry::builder()
    ///     .clock_skew_tolerance(Duration::from_secs(5))
    ///     .build();
    /// ```
    pub fn clock_skew_tolerance(mut self, tolerance: Duration) -> Self {
        self.configuration.clock_skew_tolerance = tolerance;
        self
    }

    /// Calls `hook` with every [`SessionEvent`]: log-ins, log-outs, expiries,
    /// re-authentications, adoptions (for audit logs or your own metrics). Each event is also
    /// logged with `tracing` and, with the `metrics` feature, counted, hook or not. Several
    /// hooks may be added; each gets every event.
    ///
    /// Defaults to no hook.
    ///
    /// # Examples
    /// ```
    /// use session_expiry::{SessionEvent, SessionExpiry};
    /// let m = SessionExpiry::builder()
    ///     .on_event(|event: &SessionEvent| eprintln!("{}: {:?}", event.name(), event.user()))
    ///     .build();
    /// ```
    pub fn on_event(mut self, hook: impl Fn(&SessionEvent) + Send + Sync + 'static) -> Self {
        self.configuration.events.hooks.push(Arc::new(hook));
        self
    }

    /// Calls `hook` with every session that ended on its own ([`ExpiryEvent`]), after it is
    /// purged: a shorthand for an [`on_event`](Self::on_event) hook that only looks at
    /// [`SessionEvent::Expired`], which carries the same `ExpiryEvent`.
    ///
    /// Defaults to no hook.
    ///
    /// # Examples
    /// ```
    /// let m = session_expiry::SessionExpiry::builder()
    ///     .on_expired(|event| eprintln!("session ended: {}", event.reason))
    ///     .build();
    /// ```
    pub fn on_expired(self, hook: impl Fn(&ExpiryEvent) + Send + Sync + 'static) -> Self {
        self.on_event(move |event| {
            if let SessionEvent::Expired(expired) = event {
                hook(expired);
            }
        })
    }

    /// Chooses between answering an expired request at once and letting it through as
    /// anonymous.
    ///
    /// Defaults to [`ExpiredAction::Respond`].
    ///
    /// # Examples
    /// ```
    /// use session_expiry::{config::ExpiredAction, SessionExpiry};
    /// let m = SessionExpiry::builder().expired_action(ExpiredAction::Continue).build();
    /// ```
    pub fn expired_action(mut self, action: ExpiredAction) -> Self {
        self.configuration.expired_action = action;
        self
    }

    /// Finishes the configuration.
    ///
    /// # Examples
    /// ```
    /// let m = session_expiry::SessionExpiry::builder().build();
    /// ```
    #[must_use]
    pub fn build(mut self) -> SessionExpiry {
        let config = &mut self.configuration;
        config.stamps = config.stamp_lookup.take().map(|lookup| {
            Arc::new(crate::stamp::Stamps::new(
                lookup,
                config.stamp_check_interval,
            ))
        });
        SessionExpiry::from_configuration(self.configuration)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::unix_ms::UnixMs;

    #[test]
    fn a_ceiling_caps_user_and_global_policies_dimension_by_dimension() {
        const H: Duration = Duration::from_secs(3600);
        let config = SessionExpiryBuilder::new()
            .policy(Policy::new().with_idle(H))
            .max_policy(Policy::new().with_absolute(24 * H))
            .configuration;
        let remember_me = Policy::new().with_idle(10 * H).with_absolute(30 * 24 * H);
        assert_eq!(
            config.effective_policy(Some(remember_me)),
            Policy::new().with_idle(10 * H).with_absolute(24 * H)
        );
        assert_eq!(
            config.effective_policy(None),
            Policy::new().with_idle(H).with_absolute(24 * H)
        );
    }

    #[test]
    fn a_log_in_snapshot_fills_what_it_leaves_unset_from_the_global_policy() {
        use crate::login::{self, PolicySource, Proof};
        const M: Duration = Duration::from_secs(60);
        let config = SessionExpiryBuilder::new()
            .idle_timeout(30 * M)
            .absolute_timeout(60 * M)
            .remember_me_policy(Policy::new().with_absolute(600 * M))
            .configuration;
        let at = UnixMs::new(0).unwrap();
        let log_in = |source, remembered| {
            login::state(
                &config,
                "a".into(),
                at,
                source,
                remembered,
                Proof::Credentials,
            )
        };
        let idle_only = Policy::new().with_idle(10 * M);
        let explicit = log_in(PolicySource::Explicit(idle_only), false);
        let snapshot = explicit.policy.unwrap();
        assert_eq!(
            (snapshot.idle(), snapshot.absolute()),
            (Some(10 * M), Some(60 * M))
        );
        // No role: a remembered log-in gets the global remember-me policy ...
        let remembered = log_in(PolicySource::Resolved(None), true);
        let policy = remembered.policy.unwrap();
        assert_eq!(
            (policy.idle(), policy.absolute(), remembered.remembered),
            (Some(30 * M), Some(600 * M), true)
        );
        assert_eq!(log_in(PolicySource::Resolved(None), false).policy, None);
        // ... a role without one gets its own policy, and is not remembered at all.
        let admin = crate::ResolvedPolicy::of(&idle_only);
        let ticked = log_in(PolicySource::Resolved(Some(admin)), true);
        assert_eq!(ticked, log_in(PolicySource::Resolved(Some(admin)), false));
        assert!(!ticked.remembered);
    }

    #[test]
    fn the_builder_can_drop_one_timeout_and_keep_the_other() {
        let config = SessionExpiryBuilder::new()
            .without_idle_timeout()
            .configuration;
        assert_eq!(config.policy.idle(), None);
        assert_eq!(config.policy.absolute(), Some(Duration::from_secs(432_000)));
    }
}
