//! Per-user policies looked up at log-in: [`PolicyResolver`].

use std::{future::Future, pin::Pin};

use actix_web::HttpRequest;

use crate::{Policy, ToPolicy};

/// The future a [`PolicyResolver`] returns.
pub type ResolveFuture = Pin<Box<dyn Future<Output = Option<ResolvedPolicy>>>>;

/// What a [`PolicyResolver`] found for a user: the policy of a plain log-in and, if the user's
/// role has one, the policy of a "keep me signed in" log-in.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use session_expiry::{Policy, ResolvedPolicy, ToPolicy};
///
/// let admin = Policy::new().with_idle(Duration::from_secs(600));
/// let resolved = ResolvedPolicy::of(&admin);
/// // No remember-me policy of its own: ticking the box changes nothing.
/// assert_eq!(resolved.policy_for(true), admin);
/// assert_eq!(resolved.remember_me_policy(), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResolvedPolicy {
    policy: Policy,
    remember_me: Option<Policy>,
}

impl ResolvedPolicy {
    /// The policies `role` names (see [`ToPolicy`]).
    ///
    /// # Examples
    /// ```
    /// use session_expiry::{Policy, ResolvedPolicy, ToPolicy};
    /// let resolved = ResolvedPolicy::of(&Policy::nist_aal2());
    /// assert_eq!(resolved.policy_for(false), Policy::nist_aal2());
    /// ```
    #[must_use]
    pub fn of(role: &(impl ToPolicy + ?Sized)) -> Self {
        Self {
            policy: role.to_policy(),
            remember_me: role.remember_me_policy(),
        }
    }
}

/// A resolved policy is a role of its own: it can be passed wherever a [`ToPolicy`] is taken.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use session_expiry::{Policy, ResolvedPolicy, ToPolicy};
/// let admin = Policy::new().with_idle(Duration::from_secs(600));
/// assert_eq!(ResolvedPolicy::of(&admin).to_policy(), admin);
/// ```
impl ToPolicy for ResolvedPolicy {
    fn to_policy(&self) -> Policy {
        self.policy
    }

    fn remember_me_policy(&self) -> Option<Policy> {
        self.remember_me
    }
}

/// Finds a user's own policy (by role, tier, tenant...) when they log in.
///
/// It is consulted once per log-in through [`Expiry::login`](crate::Expiry::login) and
/// [`Expiry::login_remembered`](crate::Expiry::login_remembered), after the handler returns;
/// the policy for that log-in is stored in the session as the user's policy snapshot, so no
/// request after the log-in looks it up again. What the answer leaves unset comes from the
/// global policy; `None` means the global policy (or, for a remembered log-in, the builder's
/// [`remember_me_policy`](crate::config::SessionExpiryBuilder::remember_me_policy)).
/// [`Expiry::login_with`](crate::Expiry::login_with) bypasses it.
///
/// Any `Fn(String, HttpRequest) -> impl Future<Output = Option<R>>` is a resolver, where `R` is
/// a [`Policy`] or a role that names its policies ([`ToPolicy`], e.g. an enum with
/// `#[derive(ExpiryPolicy)]`): answer the role, and a remembered log-in gets the role's
/// remember-me policy, or its plain one if it has none, never more than the role allows.
///
/// A snapshot holds until the session ends: to force a new policy on a signed-in user, end
/// their sessions (log them out, or revoke them with the Redis store's registry) so that the
/// next log-in resolves again.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use actix_web::HttpRequest;
/// use session_expiry::{Policy, SessionExpiry};
///
/// let middleware = SessionExpiry::builder()
///     .policy_resolver(|user: String, _req: HttpRequest| async move {
///         // e.g. look the user's role up in the database
///         (user == "root").then(|| Policy::new().with_idle(Duration::from_secs(300)))
///     })
///     .build();
/// ```
pub trait PolicyResolver: Send + Sync + 'static {
    /// The policies of `user`, who is logging in with `req`.
    fn resolve(&self, user: String, req: HttpRequest) -> ResolveFuture;
}

impl<F, Fut, R> PolicyResolver for F
where
    F: Fn(String, HttpRequest) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Option<R>> + 'static,
    R: ToPolicy,
{
    fn resolve(&self, user: String, req: HttpRequest) -> ResolveFuture {
        let answer = self(user, req);
        Box::pin(async move { answer.await.map(|role| ResolvedPolicy::of(&role)) })
    }
}
