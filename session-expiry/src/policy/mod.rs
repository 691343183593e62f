//! How long a session may live: the idle and absolute timeouts.

use std::time::Duration;

mod presets;
mod to_policy;

pub use self::to_policy::ToPolicy;
use crate::{unix_ms::UnixMs, ExpiryReason};

/// The limits of a session: an idle timeout, an absolute timeout, and how many sessions one
/// user may hold at once.
///
/// Each dimension is *unset* (inherit it from the policy underneath), set to a limit, or
/// explicitly *unlimited*. A user's policy (from [`login_with`](crate::Expiry::login_with) or
/// the [`PolicyResolver`](crate::PolicyResolver)) inherits what it leaves unset from the global
/// one, so a resolver that only shortens the idle timeout keeps the global absolute timeout;
/// dropping a limit takes [`without_idle`](Self::without_idle) or
/// [`without_absolute`](Self::without_absolute). In the global policy itself, an unset timeout
/// means none.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use session_expiry::Policy;
///
/// let policy = Policy::new()
///     .with_idle(Duration::from_secs(30 * 60))
///     .with_absolute(Duration::from_secs(8 * 3600));
/// assert_eq!(policy.idle(), Some(Duration::from_secs(1800)));
///
/// // "Keep me signed in": 30 days, and explicitly no idle limit.
/// let remember_me = Policy::new()
///     .without_idle()
///     .with_absolute(Duration::from_secs(30 * 24 * 3600));
/// assert_eq!(remember_me.or(policy).idle(), None);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Policy {
    idle: Setting<Duration>,
    absolute: Setting<Duration>,
    max_sessions: Setting<u32>,
}

/// One dimension of a [`Policy`], as [`Policy::idle_setting`] and its siblings report it.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use session_expiry::{Policy, Setting};
///
/// let policy = Policy::new().with_idle(Duration::from_secs(900)).without_absolute();
/// assert_eq!(policy.idle_setting(), Setting::Limit(Duration::from_secs(900)));
/// assert_eq!(policy.absolute_setting(), Setting::Unlimited);
/// assert_eq!(policy.max_sessions_setting(), Setting::Inherit);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Setting<T> {
    /// Unset: whatever the policy underneath says (in the global policy: no timeout, and
    /// [`DEFAULT_MAX_SESSIONS`] sessions).
    #[default]
    Inherit,
    /// Explicitly no limit, whatever the policy underneath says.
    Unlimited,
    /// This limit.
    Limit(T),
}

impl<T: Copy> Setting<T> {
    const fn limit(self) -> Option<T> {
        match self {
            Self::Limit(limit) => Some(limit),
            _ => None,
        }
    }

    fn or(self, fallback: Self) -> Self {
        match self {
            Self::Inherit => fallback,
            set => set,
        }
    }

    /// The stricter of two settings: the smaller limit; "no limit" only where neither has one.
    fn stricter(self, other: Self, min: fn(T, T) -> T) -> Self {
        match (self, other) {
            (Self::Limit(a), Self::Limit(b)) => Self::Limit(min(a, b)),
            (Self::Limit(a), _) | (_, Self::Limit(a)) => Self::Limit(a),
            (Self::Unlimited, _) | (_, Self::Unlimited) => Self::Unlimited,
            _ => Self::Inherit,
        }
    }
}

/// How many sessions a user may hold at once when no policy says otherwise: far more devices
/// than anyone signs in from, so only runaway scripts and shared or stolen credentials meet it,
/// while it bounds what one account can make a server-side store keep (and a user's session
/// list fits one page). Only a store with a session registry (the Redis store) can enforce it:
/// the cookie store cannot count sessions.
pub const DEFAULT_MAX_SESSIONS: u32 = 100;

impl Policy {
    /// A policy that sets nothing: every dimension is inherited (as the global policy: no
    /// timeout, and at most [`DEFAULT_MAX_SESSIONS`] sessions per user).
    ///
    /// # Examples
    /// ```
    /// let policy = session_expiry::Policy::new();
    /// assert_eq!((policy.idle(), policy.absolute()), (None, None));
    /// ```
    #[must_use]
    pub const fn new() -> Self {
        Self {
            idle: Setting::Inherit,
            absolute: Setting::Inherit,
            max_sessions: Setting::Inherit,
        }
    }

    /// A policy with explicitly no timeout of either kind (the session-count limit is still
    /// inherited).
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use session_expiry::Policy;
    ///
    /// let global = Policy::new().with_idle(Duration::from_secs(900));
    /// assert_eq!(Policy::unlimited().or(global).idle(), None);
    /// ```
    #[must_use]
    pub const fn unlimited() -> Self {
        Self::new().without_idle().without_absolute()
    }

    /// Sets the idle timeout: the session ends once this long has passed without activity.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// let policy = session_expiry::Policy::new().with_idle(Duration::from_secs(900));
    /// assert_eq!(policy.idle(), Some(Duration::from_secs(900)));
    /// ```
    #[must_use]
    pub const fn with_idle(mut self, timeout: Duration) -> Self {
        self.idle = Setting::Limit(timeout);
        self
    }

    /// Explicitly no idle timeout, whatever the policy underneath says: inactivity alone never
    /// ends the session.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use session_expiry::Policy;
    ///
    /// let global = Policy::new().with_idle(Duration::from_secs(900));
    /// assert_eq!(Policy::new().without_idle().or(global).idle(), None);
    /// assert_eq!(Policy::new().or(global).idle(), Some(Duration::from_secs(900)));
    /// ```
    #[must_use]
    pub const fn without_idle(mut self) -> Self {
        self.idle = Setting::Unlimited;
        self
    }

    /// Sets the absolute timeout: the session ends once this long has passed since log-in,
    /// whatever the activity.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// let policy = session_expiry::Policy::new().with_absolute(Duration::from_secs(3600));
    /// assert_eq!(policy.absolute(), Some(Duration::from_secs(3600)));
    /// ```
    #[must_use]
    pub const fn with_absolute(mut self, timeout: Duration) -> Self {
        self.absolute = Setting::Limit(timeout);
        self
    }

    /// Explicitly no absolute timeout, whatever the policy underneath says: an active session
    /// may last forever.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use session_expiry::Policy;
    ///
    /// let global = Policy::new().with_absolute(Duration::from_secs(3600));
    /// assert_eq!(Policy::new().without_absolute().or(global).absolute(), None);
    /// ```
    #[must_use]
    pub const fn without_absolute(mut self) -> Self {
        self.absolute = Setting::Unlimited;
        self
    }

    /// At most `max` sessions per user at once; a log-in beyond it evicts the user's least
    /// recently active session, or is refused (see
    /// [`on_max_sessions`](crate::config::SessionExpiryBuilder::on_max_sessions)). Needs a store
    /// with a session registry (the Redis store): the cookie store cannot count sessions.
    ///
    /// # Panics
    ///
    /// If `max` is 0: no user could ever sign in. Use
    /// [`without_max_sessions`](Self::without_max_sessions) for no limit. In a `const` item
    /// the panic is a compile error, as `#[expiry(max_sessions = 0)]` is in the derive; check a
    /// number read at run time (from a database, say) before passing it.
    ///
    /// # Examples
    /// ```
    /// let policy = session_expiry::Policy::new().with_max_sessions(3);
    /// assert_eq!(policy.max_sessions(), Some(3));
    /// ```
    ///
    /// ```compile_fail
    /// const NONE: session_expiry::Policy = session_expiry::Policy::new().with_max_sessions(0);
    /// # let _ = NONE;
    /// ```
    #[must_use]
    #[track_caller]
    pub const fn with_max_sessions(mut self, max: u32) -> Self {
        assert!(
            max > 0,
            "with_max_sessions(0): a user needs at least one session; use without_max_sessions()"
        );
        self.max_sessions = Setting::Limit(max);
        self
    }

    /// Explicitly no limit on the number of sessions per user.
    ///
    /// # Examples
    /// ```
    /// let policy = session_expiry::Policy::new().without_max_sessions();
    /// assert_eq!(policy.max_sessions(), None);
    /// ```
    #[must_use]
    pub const fn without_max_sessions(mut self) -> Self {
        self.max_sessions = Setting::Unlimited;
        self
    }

    /// The idle timeout this policy sets, if any (`None` when unset or unlimited).
    ///
    /// # Examples
    /// ```
    /// assert_eq!(session_expiry::Policy::new().idle(), None);
    /// ```
    #[must_use]
    pub const fn idle(&self) -> Option<Duration> {
        self.idle.limit()
    }

    /// The absolute timeout this policy sets, if any (`None` when unset or unlimited).
    ///
    /// # Examples
    /// ```
    /// assert_eq!(session_expiry::Policy::new().absolute(), None);
    /// ```
    #[must_use]
    pub const fn absolute(&self) -> Option<Duration> {
        self.absolute.limit()
    }

    /// The session-count limit this policy sets, if any (`None` when unset or unlimited).
    ///
    /// # Examples
    /// ```
    /// assert_eq!(session_expiry::Policy::new().max_sessions(), None);
    /// ```
    #[must_use]
    pub const fn max_sessions(&self) -> Option<u32> {
        self.max_sessions.limit()
    }

    /// How this policy sets the idle timeout: inherited, explicitly unlimited, or a limit.
    ///
    /// # Examples
    /// ```
    /// use session_expiry::{Policy, Setting};
    /// assert_eq!(Policy::new().without_idle().idle_setting(), Setting::Unlimited);
    /// ```
    #[must_use]
    pub const fn idle_setting(&self) -> Setting<Duration> {
        self.idle
    }

    /// How this policy sets the absolute timeout: inherited, explicitly unlimited, or a limit.
    ///
    /// # Examples
    /// ```
    /// use session_expiry::{Policy, Setting};
    /// assert_eq!(Policy::new().absolute_setting(), Setting::Inherit);
    /// ```
    #[must_use]
    pub const fn absolute_setting(&self) -> Setting<Duration> {
        self.absolute
    }

    /// How this policy sets the session limit: inherited, explicitly unlimited, or a limit.
    ///
    /// # Examples
    /// ```
    /// use session_expiry::{Policy, Setting};
    /// let policy = Policy::new().with_max_sessions(3);
    /// assert_eq!(policy.max_sessions_setting(), Setting::Limit(3));
    /// ```
    #[must_use]
    pub const fn max_sessions_setting(&self) -> Setting<u32> {
        self.max_sessions
    }

    /// This policy, with what it leaves unset taken from `fallback`.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use session_expiry::Policy;
    ///
    /// let global = Policy::new()
    ///     .with_idle(Duration::from_secs(1800))
    ///     .with_absolute(Duration::from_secs(3600));
    /// let admin = Policy::new().with_idle(Duration::from_secs(600)).or(global);
    /// assert_eq!(admin.idle(), Some(Duration::from_secs(600)));
    /// assert_eq!(admin.absolute(), Some(Duration::from_secs(3600)));
    /// ```
    #[must_use]
    pub fn or(self, fallback: Policy) -> Policy {
        Policy {
            idle: self.idle.or(fallback.idle),
            absolute: self.absolute.or(fallback.absolute),
            max_sessions: self.max_sessions.or(fallback.max_sessions),
        }
    }

    /// Combines two policies by taking the stricter value of each dimension: the shorter
    /// timeout (or smaller session limit) where both set one, the one that is set where only
    /// one does.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use session_expiry::Policy;
    ///
    /// let global = Policy::new().with_idle(Duration::from_secs(1800));
    /// let route = Policy::new()
    ///     .with_idle(Duration::from_secs(300))
    ///     .with_absolute(Duration::from_secs(3600));
    /// let both = global.stricter(route);
    /// assert_eq!(both.idle(), Some(Duration::from_secs(300)));
    /// assert_eq!(both.absolute(), Some(Duration::from_secs(3600)));
    /// ```
    #[must_use]
    pub fn stricter(self, other: Policy) -> Policy {
        Policy {
            idle: self.idle.stricter(other.idle, Duration::min),
            absolute: self.absolute.stricter(other.absolute, Duration::min),
            max_sessions: self.max_sessions.stricter(other.max_sessions, u32::min),
        }
    }

    /// The session limit of this policy as the global one: unset means
    /// [`DEFAULT_MAX_SESSIONS`].
    pub(crate) fn session_limit(&self) -> Option<u32> {
        match self.max_sessions {
            Setting::Inherit => Some(DEFAULT_MAX_SESSIONS),
            Setting::Unlimited => None,
            Setting::Limit(max) => Some(max),
        }
    }
}

impl Policy {
    /// Which limit, if any, a session has reached at `now`: absolute first, then idle; a
    /// session is expired once the elapsed time *equals* the timeout.
    pub(crate) fn reached(&self, login: UnixMs, seen: UnixMs, now: UnixMs) -> Option<ExpiryReason> {
        if self
            .absolute()
            .is_some_and(|limit| now.since(login) >= limit)
        {
            Some(ExpiryReason::Absolute)
        } else if self.idle().is_some_and(|limit| now.since(seen) >= limit) {
            Some(ExpiryReason::Idle)
        } else {
            None
        }
    }

    /// The instant the first limit is reached, if any limit is set.
    pub(crate) fn deadline(&self, login: UnixMs, seen: UnixMs) -> Option<UnixMs> {
        let absolute = self.absolute().map(|limit| login.plus(limit));
        let idle = self.idle().map(|limit| seen.plus(limit));
        match (absolute, idle) {
            (Some(a), Some(i)) => Some(a.min(i)),
            (a, i) => a.or(i),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: Duration = Duration::from_secs(60);

    #[test]
    fn stricter_takes_the_shorter_limit_of_each_dimension() {
        let a = Policy::new().with_idle(5 * MIN).with_absolute(60 * MIN);
        let b = Policy::new().with_idle(30 * MIN).with_absolute(10 * MIN);
        assert_eq!(
            a.stricter(b),
            Policy::new().with_idle(5 * MIN).with_absolute(10 * MIN)
        );
        assert_eq!(a.stricter(b), b.stricter(a));
    }

    #[test]
    fn a_limit_is_reached_exactly_at_the_timeout_and_absolute_wins() {
        let t0 = UnixMs::new(1_000_000_000).unwrap();
        let at = |mins: u32| t0.plus(mins * MIN);
        let policy = Policy::new().with_idle(5 * MIN).with_absolute(60 * MIN);
        assert_eq!(policy.reached(t0, t0, at(4)), None);
        assert_eq!(policy.reached(t0, t0, at(5)), Some(ExpiryReason::Idle));
        assert_eq!(
            policy.reached(t0, at(56), at(60)),
            Some(ExpiryReason::Absolute)
        );
        assert_eq!(
            policy.reached(t0, at(0), at(60)),
            Some(ExpiryReason::Absolute)
        );
        assert_eq!(policy.deadline(t0, at(50)), Some(at(55)));
        assert_eq!(policy.deadline(t0, at(58)), Some(at(60)));
        assert_eq!(Policy::new().deadline(t0, t0), None);
    }

    #[test]
    #[should_panic(expected = "use without_max_sessions()")]
    fn zero_sessions_is_refused() {
        let _ = Policy::new().with_max_sessions(0);
    }

    #[test]
    fn an_unset_dimension_inherits_and_an_unlimited_one_does_not() {
        let global = Policy::new()
            .with_idle(30 * MIN)
            .with_absolute(60 * MIN)
            .with_max_sessions(5);
        let idle_only = Policy::new().with_idle(10 * MIN).or(global);
        assert_eq!(idle_only.absolute(), Some(60 * MIN));
        assert_eq!(idle_only.max_sessions(), Some(5));
        let dropped = Policy::new().without_absolute().or(global);
        assert_eq!((dropped.idle(), dropped.absolute()), (Some(30 * MIN), None));
        assert_eq!(Policy::unlimited().or(global).idle(), None);
        assert_eq!(Policy::new().session_limit(), Some(DEFAULT_MAX_SESSIONS));
        assert_eq!(Policy::new().without_max_sessions().session_limit(), None);
    }

    #[test]
    fn an_unset_dimension_never_loosens_a_set_one() {
        let idle_only = Policy::new().with_idle(5 * MIN);
        let absolute_only = Policy::new().with_absolute(MIN);
        let both = idle_only.stricter(absolute_only);
        assert_eq!((both.idle(), both.absolute()), (Some(5 * MIN), Some(MIN)));
        assert_eq!(Policy::new().stricter(Policy::new()), Policy::new());
    }
}
