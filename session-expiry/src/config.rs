//! Configuration of the [`SessionExpiry`] middleware, built with [`SessionExpiryBuilder`].

use std::{fmt, sync::Arc, time::Duration};

use crate::{Adoption, Clock, ExpiryEvent, Policy, PolicyResolver, SessionExpiry, SystemClock};

/// What the middleware does with a request whose session has just expired.
///
/// # Examples
/// ```
/// use session_expiry::{ExpiredAction, SessionExpiry};
/// let middleware = SessionExpiry::builder()
///     .expired_action(ExpiredAction::Continue)
///     .build();
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExpiredAction {
    /// Answer at once: `401` JSON for API clients, `303` to the log-in path for browsers.
    #[default]
    Respond,
    /// Let the request through as anonymous; the handler reads the reason with
    /// [`Expiry::expired_reason`](crate::Expiry::expired_reason).
    Continue,
}

pub(crate) type ExpiryHook = Arc<dyn Fn(&ExpiryEvent) + Send + Sync>;

/// Everything the middleware and its extractors need, shared by every worker.
#[derive(Clone)]
pub(crate) struct Configuration {
    pub(crate) policy: Policy,
    pub(crate) max_policy: Option<Policy>,
    pub(crate) resolver: Option<Arc<dyn PolicyResolver>>,
    pub(crate) adoption: Adoption,
    pub(crate) refresh_granularity: Option<Duration>,
    pub(crate) login_path: Option<String>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) clock_skew_tolerance: Duration,
    pub(crate) on_expired: Option<ExpiryHook>,
    pub(crate) expired_action: ExpiredAction,
}

/// The longest time last-seen may lag behind real activity.
const MAX_GRANULARITY: Duration = Duration::from_secs(60);

impl Configuration {
    /// The policy for a session: the user's snapshot if log-in set one, else the global
    /// default; capped by the ceiling, if any. (Route limits tighten it further, per request.)
    pub(crate) fn effective_policy(&self, user_policy: Option<Policy>) -> Policy {
        let policy = user_policy.unwrap_or(self.policy);
        self.max_policy
            .map_or(policy, |ceiling| policy.stricter(ceiling))
    }

    /// How stale last-seen may get before it is written again.
    ///
    /// Writing at most once per window only ever ends a session early (by less than one window),
    /// never late.
    pub(crate) fn granularity(&self, policy: &Policy) -> Duration {
        self.refresh_granularity.unwrap_or_else(|| {
            policy
                .idle()
                .map_or(MAX_GRANULARITY, |idle| (idle / 20).min(MAX_GRANULARITY))
        })
    }
}

impl fmt::Debug for Configuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Configuration")
            .field("policy", &self.policy)
            .field("max_policy", &self.max_policy)
            .field("resolver", &self.resolver.as_ref().map(|_| ".."))
            .field("adoption", &self.adoption)
            .field("refresh_granularity", &self.refresh_granularity)
            .field("login_path", &self.login_path)
            .field("clock_skew_tolerance", &self.clock_skew_tolerance)
            .field("on_expired", &self.on_expired.as_ref().map(|_| ".."))
            .field("expired_action", &self.expired_action)
            .finish_non_exhaustive()
    }
}

pub(crate) fn default_configuration() -> Configuration {
    Configuration {
        policy: Policy::new()
            .with_idle(Duration::from_secs(30 * 60))
            .with_absolute(Duration::from_secs(5 * 24 * 3600)),
        max_policy: None,
        resolver: None,
        adoption: Adoption::Ignore,
        refresh_granularity: None,
        login_path: None,
        clock: Arc::new(SystemClock),
        clock_skew_tolerance: Duration::from_secs(30),
        on_expired: None,
        expired_action: ExpiredAction::Respond,
    }
}

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
    configuration: Configuration,
}

impl SessionExpiryBuilder {
    pub(crate) fn new() -> Self {
        Self {
            configuration: default_configuration(),
        }
    }

    /// Ends a session after this long without activity.
    ///
    /// Defaults to 30 minutes. See [`no_idle_timeout`](Self::no_idle_timeout) to turn it off.
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
    /// let m = session_expiry::SessionExpiry::builder().no_idle_timeout().build();
    /// ```
    pub fn no_idle_timeout(mut self) -> Self {
        let absolute = self.configuration.policy.absolute();
        self.configuration.policy =
            absolute.map_or(Policy::new(), |a| Policy::new().with_absolute(a));
        self
    }

    /// Ends a session this long after log-in, however active it is.
    ///
    /// Defaults to 5 days. See [`no_absolute_timeout`](Self::no_absolute_timeout) to turn it
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
    /// let m = session_expiry::SessionExpiry::builder().no_absolute_timeout().build();
    /// ```
    pub fn no_absolute_timeout(mut self) -> Self {
        let idle = self.configuration.policy.idle();
        self.configuration.policy = idle.map_or(Policy::new(), |i| Policy::new().with_idle(i));
        self
    }

    /// Replaces both global timeouts with `policy`; it applies to every user whose log-in did
    /// not set a policy of their own.
    ///
    /// Defaults to 30 minutes idle and 5 days absolute.
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
    /// Defaults to [`Adoption::Ignore`].
    ///
    /// # Examples
    /// ```
    /// use session_expiry::{Adoption, SessionExpiry};
    /// let m = SessionExpiry::builder().adoption(Adoption::Ignore).build();
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

    /// Reads time from `clock`; tests pass a [`MockClock`](crate::MockClock).
    ///
    /// Defaults to [`SystemClock`].
    ///
    /// # Examples
    /// ```
    /// use session_expiry::{SessionExpiry, SystemClock};
    /// let m = SessionExpiry::builder().clock(SystemClock).build();
    /// ```
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.configuration.clock = Arc::new(clock);
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

    /// Calls `hook` with every [`ExpiryEvent`], after the session is purged (for metrics or
    /// audit logs). The event is also logged with `tracing` at info level either way.
    ///
    /// Defaults to no hook.
    ///
    /// # Examples
    /// ```
    /// let m = session_expiry::SessionExpiry::builder()
    ///     .on_expired(|event| eprintln!("session ended: {}", event.reason))
    ///     .build();
    /// ```
    pub fn on_expired(mut self, hook: impl Fn(&ExpiryEvent) + Send + Sync + 'static) -> Self {
        self.configuration.on_expired = Some(Arc::new(hook));
        self
    }

    /// Chooses between answering an expired request at once and letting it through as
    /// anonymous.
    ///
    /// Defaults to [`ExpiredAction::Respond`].
    ///
    /// # Examples
    /// ```
    /// use session_expiry::{ExpiredAction, SessionExpiry};
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
    pub fn build(self) -> SessionExpiry {
        SessionExpiry::from_configuration(self.configuration)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn granularity_defaults_to_a_twentieth_of_idle_capped_at_a_minute() {
        let config = default_configuration();
        let idle = |secs| Policy::new().with_idle(Duration::from_secs(secs));
        assert_eq!(config.granularity(&idle(30 * 60)), MAX_GRANULARITY);
        assert_eq!(config.granularity(&idle(5 * 60)), Duration::from_secs(15));
        assert_eq!(config.granularity(&Policy::new()), MAX_GRANULARITY);
    }

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
    fn the_builder_can_drop_one_timeout_and_keep_the_other() {
        let config = SessionExpiryBuilder::new().no_idle_timeout().configuration;
        assert_eq!(config.policy.idle(), None);
        assert_eq!(config.policy.absolute(), Some(Duration::from_secs(432_000)));
    }
}
