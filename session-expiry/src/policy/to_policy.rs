//! [`ToPolicy`]: anything that names a [`Policy`].

use super::Policy;

/// Anything that names a policy: a [`Policy`], or a role enum with `#[derive(ExpiryPolicy)]`.
/// [`Expiry::login_with`](crate::Expiry::login_with) accepts it, and a
/// [`PolicyResolver`](crate::PolicyResolver) may answer it.
///
/// A role may also name the policy of a "keep me signed in" log-in
/// ([`Expiry::login_remembered`](crate::Expiry::login_remembered)), which inherits what it
/// leaves unset from the role's own policy; a role without one gets its own policy either way,
/// so ticking the box never takes a user beyond what their role allows.
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

    /// The policy of a "keep me signed in" log-in, if it differs; what it leaves unset comes
    /// from [`to_policy`](Self::to_policy). Defaults to none: the same policy.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use session_expiry::{Policy, ToPolicy};
    ///
    /// struct Member;
    /// impl ToPolicy for Member {
    ///     fn to_policy(&self) -> Policy {
    ///         Policy::new().with_idle(Duration::from_secs(1800))
    ///     }
    ///     fn remember_me_policy(&self) -> Option<Policy> {
    ///         Some(Policy::new().without_idle().with_absolute(Duration::from_secs(30 * 86_400)))
    ///     }
    /// }
    /// assert_eq!(Member.policy_for(true).idle(), None);
    /// assert_eq!(Member.policy_for(false).idle(), Some(Duration::from_secs(1800)));
    /// ```
    fn remember_me_policy(&self) -> Option<Policy> {
        None
    }

    /// The policy for a log-in, remembered (`remember_me`) or not.
    ///
    /// # Examples
    /// ```
    /// use session_expiry::{Policy, ToPolicy};
    /// assert_eq!(Policy::nist_aal2().policy_for(true), Policy::nist_aal2());
    /// ```
    fn policy_for(&self, remember_me: bool) -> Policy {
        let policy = self.to_policy();
        match self.remember_me_policy() {
            Some(remembered) if remember_me => remembered.or(policy),
            _ => policy,
        }
    }
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

    fn remember_me_policy(&self) -> Option<Policy> {
        (**self).remember_me_policy()
    }
}
