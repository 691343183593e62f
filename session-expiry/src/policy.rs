//! How long a session may live: the idle and absolute timeouts.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::{state::elapsed, ExpiryReason};

/// The timeouts that apply to a session.
///
/// Each dimension is optional: an unset idle timeout means inactivity never ends the session, an
/// unset absolute timeout means the time since log-in never does.
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
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Policy {
    idle: Option<Duration>,
    absolute: Option<Duration>,
}

impl Policy {
    /// A policy with no limit of either kind.
    ///
    /// # Examples
    /// ```
    /// let policy = session_expiry::Policy::new();
    /// assert_eq!((policy.idle(), policy.absolute()), (None, None));
    /// ```
    #[must_use]
    pub const fn new() -> Self {
        Self {
            idle: None,
            absolute: None,
        }
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
        self.idle = Some(timeout);
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
        self.absolute = Some(timeout);
        self
    }

    /// The idle timeout, if any.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(session_expiry::Policy::new().idle(), None);
    /// ```
    #[must_use]
    pub const fn idle(&self) -> Option<Duration> {
        self.idle
    }

    /// The absolute timeout, if any.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(session_expiry::Policy::new().absolute(), None);
    /// ```
    #[must_use]
    pub const fn absolute(&self) -> Option<Duration> {
        self.absolute
    }

    /// Combines two policies by taking the stricter value of each dimension: the shorter
    /// timeout where both set one, the one that is set where only one does.
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
            idle: shorter(self.idle, other.idle),
            absolute: shorter(self.absolute, other.absolute),
        }
    }
}

impl Policy {
    /// Which limit, if any, a session has reached at `now`: absolute first, then idle; a
    /// session is expired once the elapsed time *equals* the timeout.
    pub(crate) fn reached(
        &self,
        login: DateTime<Utc>,
        seen: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Option<ExpiryReason> {
        if self
            .absolute
            .is_some_and(|limit| elapsed(login, now) >= limit)
        {
            Some(ExpiryReason::Absolute)
        } else if self.idle.is_some_and(|limit| elapsed(seen, now) >= limit) {
            Some(ExpiryReason::Idle)
        } else {
            None
        }
    }

    /// The instant the first limit is reached, if any limit is set.
    pub(crate) fn deadline(
        &self,
        login: DateTime<Utc>,
        seen: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        let after = |from: DateTime<Utc>, limit: Duration| {
            chrono::Duration::from_std(limit)
                .ok()
                .and_then(|limit| from.checked_add_signed(limit))
                .unwrap_or(DateTime::<Utc>::MAX_UTC)
        };
        let absolute = self.absolute.map(|limit| after(login, limit));
        let idle = self.idle.map(|limit| after(seen, limit));
        match (absolute, idle) {
            (Some(a), Some(i)) => Some(a.min(i)),
            (a, i) => a.or(i),
        }
    }
}

/// The shorter of two optional limits, where `None` means "no limit".
fn shorter(a: Option<Duration>, b: Option<Duration>) -> Option<Duration> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
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
        let t0 = DateTime::from_timestamp(1_000_000, 0).unwrap();
        let at = |mins: i64| t0 + chrono::Duration::minutes(mins);
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
    fn an_unset_dimension_never_loosens_a_set_one() {
        let idle_only = Policy::new().with_idle(5 * MIN);
        let absolute_only = Policy::new().with_absolute(MIN);
        let both = idle_only.stricter(absolute_only);
        assert_eq!((both.idle(), both.absolute()), (Some(5 * MIN), Some(MIN)));
        assert_eq!(Policy::new().stricter(Policy::new()), Policy::new());
    }
}
