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

/// Presets from published guidance.
impl Policy {
    const HOUR: Duration = Duration::from_secs(3600);

    /// NIST SP 800-63B rev. 4, authenticator assurance level 1: reauthenticate at least every
    /// 30 days, no inactivity limit required.
    ///
    /// Source: NIST SP 800-63B-4, "Authenticator Assurance Level 1", reauthentication
    /// (<https://pages.nist.gov/800-63-4/sp800-63b.html>).
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// let aal1 = session_expiry::Policy::nist_aal1();
    /// assert_eq!(aal1.absolute(), Some(Duration::from_secs(30 * 24 * 3600)));
    /// assert_eq!(aal1.idle(), None);
    /// ```
    #[must_use]
    pub const fn nist_aal1() -> Self {
        Self::new().with_absolute(Duration::from_secs(30 * 24 * 3600))
    }

    /// NIST SP 800-63B rev. 4, authenticator assurance level 2: reauthenticate at least every
    /// 24 hours overall and after 1 hour of inactivity.
    ///
    /// Source: NIST SP 800-63B-4, "Authenticator Assurance Level 2", reauthentication
    /// (<https://pages.nist.gov/800-63-4/sp800-63b.html>).
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// let aal2 = session_expiry::Policy::nist_aal2();
    /// assert_eq!(aal2.absolute(), Some(Duration::from_secs(24 * 3600)));
    /// assert_eq!(aal2.idle(), Some(Duration::from_secs(3600)));
    /// ```
    #[must_use]
    pub const fn nist_aal2() -> Self {
        Self::new()
            .with_absolute(Duration::from_secs(24 * 3600))
            .with_idle(Self::HOUR)
    }

    /// NIST SP 800-63B rev. 4, authenticator assurance level 3: reauthenticate at least every
    /// 12 hours overall and after 15 minutes of inactivity.
    ///
    /// Source: NIST SP 800-63B-4, "Authenticator Assurance Level 3", reauthentication
    /// (<https://pages.nist.gov/800-63-4/sp800-63b.html>).
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// let aal3 = session_expiry::Policy::nist_aal3();
    /// assert_eq!(aal3.absolute(), Some(Duration::from_secs(12 * 3600)));
    /// assert_eq!(aal3.idle(), Some(Duration::from_secs(15 * 60)));
    /// ```
    #[must_use]
    pub const fn nist_aal3() -> Self {
        Self::new()
            .with_absolute(Duration::from_secs(12 * 3600))
            .with_idle(Duration::from_secs(15 * 60))
    }

    /// For high-value applications, after the OWASP Session Management Cheat Sheet ("2-5
    /// minutes for high-value applications" idle; an absolute limit of a working day): 5 minutes
    /// idle, 8 hours absolute.
    ///
    /// Source: OWASP Session Management Cheat Sheet, "Session Expiration"
    /// (<https://cheatsheetseries.owasp.org/cheatsheets/Session_Management_Cheat_Sheet.html>).
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// let strict = session_expiry::Policy::high_value();
    /// assert_eq!(strict.idle(), Some(Duration::from_secs(300)));
    /// assert_eq!(strict.absolute(), Some(Duration::from_secs(8 * 3600)));
    /// ```
    #[must_use]
    pub const fn high_value() -> Self {
        Self::new()
            .with_idle(Duration::from_secs(5 * 60))
            .with_absolute(Duration::from_secs(8 * 3600))
    }
}

/// Anything that names a policy: a [`Policy`], or a role enum with
/// `#[derive(ExpiryPolicy)]`. [`Expiry::login_with`](crate::Expiry::login_with) accepts it.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use session_expiry::{Policy, ToPolicy};
///
/// enum Plan { Free, Pro }
///
/// impl ToPolicy for Plan {
///     fn to_policy(&self) -> Policy {
///         match self {
///             Plan::Free => Policy::new().with_idle(Duration::from_secs(900)),
///             Plan::Pro => Policy::nist_aal2(),
///         }
///     }
/// }
/// assert_eq!(Plan::Pro.to_policy(), Policy::nist_aal2());
/// ```
pub trait ToPolicy {
    /// The policy this value stands for.
    fn to_policy(&self) -> Policy;
}

impl ToPolicy for Policy {
    fn to_policy(&self) -> Policy {
        *self
    }
}

impl<T: ToPolicy + ?Sized> ToPolicy for &T {
    fn to_policy(&self) -> Policy {
        (**self).to_policy()
    }
}

impl Policy {
    /// A policy from whole seconds, for generated code.
    #[doc(hidden)]
    #[must_use]
    pub const fn __from_secs(idle: Option<u64>, absolute: Option<u64>) -> Self {
        Self {
            idle: match idle {
                Some(secs) => Some(Duration::from_secs(secs)),
                None => None,
            },
            absolute: match absolute {
                Some(secs) => Some(Duration::from_secs(secs)),
                None => None,
            },
        }
    }

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
