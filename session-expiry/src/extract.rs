//! The extractors handlers use: the [`Expiry`] handle and the [`Passive`] marker.

use std::{future::Ready, rc::Rc};

use crate::store::session_api::{Session, SessionExt as _};
use actix_web::{dev::Payload, FromRequest, HttpRequest};

use crate::{
    context::{RequestContext, Snapshot, StampDue},
    login::{self, PolicySource},
    state::{ExpiryState, SessionCap},
    ExpiryError, ExpiryReason, ExpiryStatus, SessionEvent, ToPolicy,
};

/// The handle for signing users in and out and reading how long their session has left.
///
/// Needs the [`SessionExpiry`](crate::SessionExpiry) middleware; without it extraction fails
/// with a `500` and a log line saying how to register it.
///
/// # Examples
/// ```
/// use actix_web::{post, HttpResponse};
/// use session_expiry::{Expiry, ExpiryError};
///
/// #[post("/login")]
/// async fn login(expiry: Expiry) -> Result<HttpResponse, ExpiryError> {
///     // ... check the credentials first ...
///     expiry.login("alice")?;
///     Ok(HttpResponse::Ok().finish())
/// }
/// ```
pub struct Expiry {
    session: Session,
    context: Rc<RequestContext>,
    /// For a policy resolved before the handler returns (see [`Expiry::resolve_login`]), and
    /// the session's registry id (see [`Expiry::ended`]).
    request: HttpRequest,
}

impl Expiry {
    /// Signs `user` in: starts both clocks now and renews the session ID (so a session fixed
    /// before log-in is worthless after it). The user's policy is the one the
    /// [`PolicyResolver`](crate::PolicyResolver) finds (consulted once, when the handler
    /// returns), else the global one. A log-out earlier in the same request does not stand in
    /// its way (switching user).
    ///
    /// # Errors
    /// [`ExpiryError::EmptyUserId`] for an empty id, [`ExpiryError::UserIdTooLong`] for one
    /// over 1 KiB; [`ExpiryError::Session`] if the session refuses the state.
    ///
    /// # Examples
    /// ```
    /// # fn f(expiry: session_expiry::Expiry) -> Result<(), session_expiry::ExpiryError> {
    /// expiry.login("alice")?;
    /// # Ok(()) }
    /// ```
    pub fn login(&self, user: impl Into<String>) -> Result<(), ExpiryError> {
        self.start(user.into(), PolicySource::Deferred, false)
    }

    /// Signs `user` in with "keep me signed in": as [`login`](Self::login), but the policy is
    /// the one the user's role names for a remembered log-in (see
    /// [`ToPolicy::remember_me_policy`]), or their plain one if it names none, so ticking the
    /// box never takes a user beyond what their role allows; for users without a role of
    /// their own, the builder's
    /// [`remember_me_policy`](crate::config::SessionExpiryBuilder::remember_me_policy). The session is
    /// marked remembered, which [`RememberMeCookie`](crate::RememberMeCookie) reads to keep its
    /// cookie past the browser's closing.
    ///
    /// # Errors
    /// As [`login`](Self::login).
    ///
    /// # Examples
    /// ```
    /// # fn f(expiry: session_expiry::Expiry, remember: bool) -> Result<(), session_expiry::ExpiryError> {
    /// if remember {
    ///     expiry.login_remembered("alice")?;
    /// } else {
    ///     expiry.login("alice")?;
    /// }
    /// # Ok(()) }
    /// ```
    pub fn login_remembered(&self, user: impl Into<String>) -> Result<(), ExpiryError> {
        self.start(user.into(), PolicySource::Deferred, true)
    }

    /// Signs `user` in under an explicit `policy` (a [`Policy`](crate::Policy), or a role enum with
    /// `#[derive(ExpiryPolicy)]`), bypassing the [`PolicyResolver`](crate::PolicyResolver):
    /// the caller answers for it. What it leaves unset comes from the global policy; it may be
    /// longer than the global one, but never beyond the builder's
    /// [`max_policy`](crate::config::SessionExpiryBuilder::max_policy). For "keep me signed in", use
    /// [`login_remembered`](Self::login_remembered), which keeps to the user's role.
    ///
    /// # Errors
    /// As [`login`](Self::login).
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use session_expiry::Policy;
    /// # fn f(expiry: session_expiry::Expiry) -> Result<(), session_expiry::ExpiryError> {
    /// let remember_me = Policy::new().with_absolute(Duration::from_secs(30 * 24 * 3600));
    /// expiry.login_with("alice", remember_me)?;
    /// # Ok(()) }
    /// ```
    pub fn login_with(
        &self,
        user: impl Into<String>,
        policy: impl ToPolicy,
    ) -> Result<(), ExpiryError> {
        self.start(
            user.into(),
            PolicySource::Explicit(policy.to_policy()),
            false,
        )
    }

    fn start(
        &self,
        user: String,
        source: PolicySource,
        remembered: bool,
    ) -> Result<(), ExpiryError> {
        let state = login::with_credentials(&self.context.config, user, source, remembered);
        login::sign_in(&self.context, &self.session, state, source)
    }

    /// Says that the signed-in user's credentials (password, second factor) have just changed,
    /// after the handler stored the new ones and changed the user's
    /// [security stamp](crate::config::SessionExpiryBuilder::security_stamp).
    ///
    /// This session stays signed in: on the way out it is re-stamped from a fresh lookup and
    /// its session ID renewed. Every other session of the user on this instance ends at its
    /// next request with reason `credentials_changed`; on other instances within the stamp
    /// check interval, or within a second with the Redis store, which publishes the change.
    /// If the fresh lookup fails the request is answered `503`.
    ///
    /// # Errors
    /// [`ExpiryError::NotSignedIn`] when nobody is signed in; [`ExpiryError::NoSecurityStamp`]
    /// without a security stamp (the other sessions would live on).
    ///
    /// # Examples
    /// ```
    /// # fn f(expiry: session_expiry::Expiry) -> Result<(), session_expiry::ExpiryError> {
    /// // ... store the new password hash and bump the user's stamp, then:
    /// expiry.credentials_changed()?;
    /// # Ok(()) }
    /// ```
    pub fn credentials_changed(&self) -> Result<(), ExpiryError> {
        if self.context.config.stamps.is_none() {
            return Err(ExpiryError::NoSecurityStamp);
        }
        if !self.context.with_current(|snapshot| snapshot.is_some()) {
            return Err(ExpiryError::NotSignedIn);
        }
        self.context.set_stamp_due(StampDue::Changed);
        Ok(())
    }

    /// Records that the user has just proved who they are again (confirmed their password, a
    /// second factor...), so that routes with [`#[fresh_auth]`](crate::FreshAuth) let them
    /// through for a while. Counts as activity; the log-in instant does not move.
    ///
    /// # Errors
    /// [`ExpiryError::NotSignedIn`] when nobody is signed in; [`ExpiryError::Session`] if the
    /// session refuses the state.
    ///
    /// # Examples
    /// ```
    /// # fn f(expiry: session_expiry::Expiry) -> Result<(), session_expiry::ExpiryError> {
    /// // ... check the password again, then:
    /// expiry.reauthenticated()?;
    /// # Ok(()) }
    /// ```
    pub fn reauthenticated(&self) -> Result<(), ExpiryError> {
        let state = self.context.current().ok_or(ExpiryError::NotSignedIn)?;
        let now = self.context.config.now().max(state.seen);
        let state = ExpiryState {
            seen: now,
            authenticated: Some(now),
            ..state
        };
        let event = SessionEvent::Reauthenticated {
            user: state.user.clone(),
            session_age: now.since(state.login),
        };
        let snapshot = Snapshot::new(state, &self.context.config);
        self.context.store(&self.session, snapshot)?;
        self.context.config.events.emit(&event);
        Ok(())
    }

    /// Signs the user out: by default the whole session is purged, here and in the store
    /// (see [`LogoutBehavior`](crate::config::LogoutBehavior) to keep the rest of it). A log-in later
    /// in the same request signs the new user in.
    ///
    /// # Examples
    /// ```
    /// # fn f(expiry: session_expiry::Expiry) {
    /// expiry.logout();
    /// # }
    /// ```
    pub fn logout(&self) {
        self.context.sign_out(&self.session);
    }

    /// The signed-in user, if any.
    ///
    /// # Examples
    /// ```
    /// # fn f(expiry: session_expiry::Expiry) {
    /// if let Some(user) = expiry.user() {
    ///     println!("hello {user}");
    /// }
    /// # }
    /// ```
    #[must_use]
    pub fn user(&self) -> Option<String> {
        self.context.user()
    }

    /// How long the session has left, without counting as activity; `None` when nobody is
    /// signed in.
    ///
    /// # Examples
    /// ```
    /// # fn f(expiry: session_expiry::Expiry) {
    /// if let Some(status) = expiry.status() {
    ///     println!("{} has {:?} of inactivity left", status.user, status.idle_remaining);
    /// }
    /// # }
    /// ```
    #[must_use]
    pub fn status(&self) -> Option<ExpiryStatus> {
        let now = self.context.config.now();
        self.context.with_current(|snapshot| {
            snapshot.map(|snapshot| ExpiryStatus::of(snapshot, &self.context.config, now))
        })
    }

    /// Records activity now, whatever the refresh granularity (a "stay signed in" button).
    ///
    /// # Errors
    /// [`ExpiryError::NotSignedIn`] when nobody is signed in; [`ExpiryError::Session`] if the
    /// session refuses the state.
    ///
    /// # Examples
    /// ```
    /// # fn f(expiry: session_expiry::Expiry) -> Result<(), session_expiry::ExpiryError> {
    /// expiry.touch()?;
    /// # Ok(()) }
    /// ```
    pub fn touch(&self) -> Result<(), ExpiryError> {
        let state = self.context.current().ok_or(ExpiryError::NotSignedIn)?;
        let now = self.context.config.now().max(state.seen);
        let snapshot = Snapshot::new(ExpiryState { seen: now, ..state }, &self.context.config);
        self.context.store(&self.session, snapshot)
    }

    /// A future that completes, with the reason, when the signed-in session ends, as
    /// [`SignedIn::ended`](crate::SignedIn::ended) (see the [`live`](crate::live) module).
    ///
    /// # Errors
    /// [`ExpiryError::NotSignedIn`] when nobody is signed in.
    ///
    /// # Examples
    /// ```
    /// # async fn f(expiry: session_expiry::Expiry) -> Result<(), session_expiry::ExpiryError> {
    /// let reason = expiry.ended()?.await;
    /// println!("the session ended: {reason}");
    /// # Ok(()) }
    /// ```
    pub fn ended(&self) -> Result<crate::SessionEnd, ExpiryError> {
        self.context
            .live_seed(&self.request)
            .map(crate::SessionEnd::new)
            .ok_or(ExpiryError::NotSignedIn)
    }

    /// Why the session this request came with has ended, if it has (with
    /// [`ExpiredAction::Continue`](crate::config::ExpiredAction::Continue), the handler sees the
    /// request anonymous and can tell the user why).
    ///
    /// # Examples
    /// ```
    /// # fn f(expiry: session_expiry::Expiry) {
    /// if let Some(reason) = expiry.expired_reason() {
    ///     println!("signed out: {reason}");
    /// }
    /// # }
    /// ```
    #[must_use]
    pub fn expired_reason(&self) -> Option<ExpiryReason> {
        self.context.expired()
    }
}

impl FromRequest for Expiry {
    type Error = ExpiryError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(RequestContext::of(req).map(|context| Self {
            session: req.get_session(),
            context,
            request: req.clone(),
        }))
    }
}

/// Eager log-in, for a store that checks the user's session limit before signing them in (the
/// Redis registry's `login`). [`Expiry::login`] leaves the policy to the middleware, which
/// resolves it after the handler returns; this resolves it now (the resolver is still consulted
/// once per log-in), so that the limit it sets can be checked, then signs the user in with it.
#[cfg_attr(not(any(feature = "redis", feature = "postgres")), allow(dead_code))]
impl Expiry {
    /// The state a log-in of `user` would store now: the policy resolved, the session limit set.
    pub(crate) async fn resolve_login(
        &self,
        user: String,
        remembered: bool,
    ) -> Result<ResolvedLogin, ExpiryError> {
        crate::login::check_user_id(&user)?;
        let config = &self.context.config;
        let resolved = match &config.resolver {
            Some(resolver) => resolver.resolve(user.clone(), self.request.clone()).await,
            None => None,
        };
        let state =
            login::with_credentials(config, user, PolicySource::Resolved(resolved), remembered);
        Ok(ResolvedLogin(state))
    }

    /// Signs the user in as [`resolve_login`](Self::resolve_login) prepared it (the session ID
    /// renewed, as [`Expiry::login`] does); nothing is left to resolve on the way out.
    pub(crate) fn finish_login(&self, login: ResolvedLogin) -> Result<(), ExpiryError> {
        login::sign_in(
            &self.context,
            &self.session,
            login.0,
            PolicySource::Resolved(None),
        )
    }
}

/// A log-in whose policy is resolved, not yet stored.
#[cfg_attr(not(any(feature = "redis", feature = "postgres")), allow(dead_code))]
pub(crate) struct ResolvedLogin(ExpiryState);

#[cfg_attr(not(any(feature = "redis", feature = "postgres")), allow(dead_code))]
impl ResolvedLogin {
    /// The user's session limit under the resolved policy.
    pub(crate) fn cap(&self) -> Option<SessionCap> {
        self.0.cap
    }
}

/// Marks a request as not being activity: it does not refresh last-seen (status polls,
/// notification checks).
///
/// # Examples
/// ```
/// use actix_web::{get, HttpResponse};
/// use session_expiry::Passive;
///
/// #[get("/notifications")]
/// async fn notifications(_: Passive) -> HttpResponse {
///     HttpResponse::Ok().json(Vec::<String>::new())
/// }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Passive;

impl FromRequest for Passive {
    type Error = ExpiryError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(RequestContext::of(req).map(|context| {
            context.mark_passive();
            Passive
        }))
    }
}
