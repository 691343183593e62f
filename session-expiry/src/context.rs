//! What the middleware knows about one request, shared with the extractors through the
//! request extensions.

use std::{
    cell::{Cell, RefCell},
    rc::Rc,
    sync::Arc,
};

use actix_session::Session;
use actix_web::{HttpMessage as _, HttpRequest};

use crate::{
    config::{Configuration, ExpiredAction, LogoutBehavior},
    remember_me_cookie::CookieLifetime,
    state::ExpiryState,
    unix_ms::UnixMs,
    ExpiryError, ExpiryEvent, ExpiryReason, Policy, SessionEvent,
};

/// A signed-in session as it was when the request arrived, with the policy that applies to it.
///
/// Route guards judge the request by this, never by state a handler changed meanwhile.
#[derive(Debug, Clone)]
pub(crate) struct Snapshot {
    pub(crate) state: ExpiryState,
    pub(crate) policy: Policy,
}

/// What is known of a session that ends, for its [`ExpiryEvent`].
#[derive(Debug, Clone)]
pub(crate) struct Ending {
    pub(crate) user: String,
    pub(crate) login: UnixMs,
    /// Last seen; unknown for a session its store already dropped.
    pub(crate) seen: Option<UnixMs>,
}

impl From<&ExpiryState> for Ending {
    fn from(state: &ExpiryState) -> Self {
        Self {
            user: state.user.clone(),
            login: state.login,
            seen: Some(state.seen),
        }
    }
}

#[derive(Debug)]
pub(crate) struct RequestContext {
    pub(crate) config: Arc<Configuration>,
    pub(crate) now: UnixMs,
    pub(crate) snapshot: Option<Snapshot>,
    /// The state as handlers changed it (log-in, log-out, touch); `None` while it is still the
    /// snapshot's, which saves a copy on every request that changes nothing.
    changed: RefCell<Option<Option<ExpiryState>>>,
    /// Why the session that came with this request ended, if it did.
    expired: Cell<Option<ExpiryReason>>,
    /// The session ended inside the handler (a route limit) and the answer must replace the
    /// handler's response.
    answer_expired: Cell<bool>,
    passive: Cell<bool>,
    /// Limits the route's guards added; they also shorten the refresh granularity.
    route_limits: Cell<Policy>,
    /// A handler wrote the state itself (log-in, log-out, touch): nothing to refresh.
    handled: Cell<bool>,
    /// A log-in without its own policy: the resolver is to be consulted on the way out.
    resolve_pending: Cell<bool>,
    /// Something wrote the state during this request (to detect a wrong middleware order).
    wrote: Cell<bool>,
    /// A log-out cleared the session; it is purged on the way out unless a log-in followed
    /// (actix-session ignores everything after a purge, so it cannot happen at once).
    purge_pending: Cell<bool>,
    /// A handler signed a user in: reported on the way out, once the policy is resolved.
    logged_in: Cell<bool>,
}

impl RequestContext {
    pub(crate) fn new(
        config: Arc<Configuration>,
        now: UnixMs,
        snapshot: Option<Snapshot>,
        expired: Option<ExpiryReason>,
    ) -> Self {
        Self {
            config,
            now,
            snapshot,
            changed: RefCell::new(None),
            expired: Cell::new(expired),
            answer_expired: Cell::new(false),
            passive: Cell::new(false),
            route_limits: Cell::new(Policy::new()),
            handled: Cell::new(false),
            resolve_pending: Cell::new(false),
            wrote: Cell::new(false),
            purge_pending: Cell::new(false),
            logged_in: Cell::new(false),
        }
    }

    /// The context the middleware left for this request.
    pub(crate) fn of(req: &HttpRequest) -> Result<Rc<Self>, ExpiryError> {
        req.extensions()
            .get::<Rc<Self>>()
            .cloned()
            .ok_or(ExpiryError::MiddlewareMissing)
    }

    pub(crate) fn current(&self) -> Option<ExpiryState> {
        match &*self.changed.borrow() {
            Some(changed) => changed.clone(),
            None => self.snapshot.as_ref().map(|s| s.state.clone()),
        }
    }

    /// How long the session cookie may outlive the browser (see
    /// [`RememberMeCookie`](crate::RememberMeCookie)), `None` without a signed-in session now.
    pub(crate) fn cookie_lifetime(&self) -> Option<CookieLifetime> {
        let lifetime = |state: &ExpiryState| {
            let policy = self.config.effective_policy(state.policy);
            let now = self.config.now();
            let absolute_left = policy
                .absolute()
                .map(|limit| limit.saturating_sub(now.since(state.login)));
            CookieLifetime::of(state.remembered, absolute_left)
        };
        match &*self.changed.borrow() {
            Some(changed) => changed.as_ref().map(lifetime),
            None => self.snapshot.as_ref().map(|s| lifetime(&s.state)),
        }
    }

    /// The signed-in user now, without copying the whole state.
    pub(crate) fn user(&self) -> Option<String> {
        match &*self.changed.borrow() {
            Some(changed) => changed.as_ref().map(|s| s.user.clone()),
            None => self.snapshot.as_ref().map(|s| s.state.user.clone()),
        }
    }

    pub(crate) fn expired(&self) -> Option<ExpiryReason> {
        self.expired.get()
    }

    pub(crate) fn answer_expired(&self) -> bool {
        self.answer_expired.get()
    }

    pub(crate) fn mark_passive(&self) {
        self.passive.set(true);
    }

    /// Records a route limit that this request passed.
    pub(crate) fn add_route_limit(&self, limit: Policy) {
        self.route_limits
            .set(self.route_limits.get().stricter(limit));
    }

    /// Whether last-seen should be refreshed on the way out, and to what.
    pub(crate) fn refresh_due(&self, now: UnixMs) -> Option<ExpiryState> {
        if self.passive.get() || self.handled.get() || self.expired.get().is_some() {
            return None;
        }
        let snapshot = self.snapshot.as_ref()?;
        let policy = snapshot.policy.stricter(self.route_limits.get());
        let granularity = self.config.granularity(&policy);
        let seen = snapshot.state.seen;
        // Never move last-seen backwards, even if the clock did.
        (now > seen && now.since(seen) >= granularity).then(|| ExpiryState {
            seen: now,
            ..snapshot.state.clone()
        })
    }

    /// Whether the way out has a log-in's policy to resolve.
    pub(crate) fn resolution_pending(&self) -> bool {
        self.resolve_pending.get() && self.config.resolver.is_some()
    }

    pub(crate) fn set_resolve_pending(&self, pending: bool) {
        self.resolve_pending.set(pending);
    }

    /// The state of a log-in whose policy is still to be resolved, if any.
    pub(crate) fn take_unresolved(&self) -> Option<ExpiryState> {
        if self.resolve_pending.replace(false) {
            self.current()
        } else {
            None
        }
    }

    pub(crate) fn wrote(&self) -> bool {
        self.wrote.get()
    }

    /// Stores `state` in the session (log-in, touch, refresh).
    pub(crate) fn store(
        &self,
        session: &Session,
        state: ExpiryState,
        by_handler: bool,
    ) -> Result<(), ExpiryError> {
        let policy = self.config.effective_policy(state.policy);
        session.insert(&*self.config.state_key, state.encode(&policy))?;
        self.wrote.set(true);
        self.purge_pending.set(false);
        self.handled.set(self.handled.get() || by_handler);
        *self.changed.borrow_mut() = Some(Some(state));
        Ok(())
    }

    /// Records a log-in, reported on the way out.
    pub(crate) fn set_logged_in(&self) {
        self.logged_in.set(true);
    }

    /// Reports the log-in of this request, if it still stands.
    pub(crate) fn report_log_in(&self) {
        if !self.logged_in.replace(false) {
            return;
        }
        if let Some(state) = self.current() {
            self.config.events.emit(&SessionEvent::LoggedIn {
                policy: self.config.effective_policy(state.policy),
                remembered: state.remembered,
                user: state.user,
            });
        }
    }

    /// Forgets the state at a log-out, and the rest of the session per the
    /// [`LogoutBehavior`].
    pub(crate) fn sign_out(&self, session: &Session) {
        if let Some(state) = self.current() {
            let now = self.config.now();
            self.config.signed_out.record(&state, now);
            self.config.events.emit(&SessionEvent::LoggedOut {
                session_age: now.since(state.login),
                user: state.user,
            });
        }
        self.logged_in.set(false);
        match self.config.logout_behavior {
            LogoutBehavior::PurgeSession => {
                session.clear();
                self.purge_pending.set(true);
            }
            _ => {
                session.remove(&self.config.state_key);
                session.renew();
            }
        }
        self.resolve_pending.set(false);
        self.handled.set(true);
        *self.changed.borrow_mut() = Some(None);
    }

    /// Purges the session if a log-out asked for it and no log-in followed; whether it did.
    pub(crate) fn purge_if_signed_out(&self, session: &Session) -> bool {
        let purge = self.purge_pending.replace(false);
        if purge {
            session.purge();
        }
        purge
    }

    /// Ends the session that came with this request: removes it (per the
    /// [`LogoutBehavior`]), reports the event and records the reason. With
    /// [`ExpiredAction::Continue`] the request goes on anonymous in a fresh session (so a
    /// log-in page can sign the user in again at once).
    pub(crate) fn end(&self, session: &Session, ending: Option<&Ending>, reason: ExpiryReason) {
        match (self.config.logout_behavior, self.config.expired_action) {
            (LogoutBehavior::PurgeSession, ExpiredAction::Respond) => session.purge(),
            (LogoutBehavior::PurgeSession, _) => {
                session.clear();
                session.renew();
            }
            _ => {
                session.remove(&self.config.state_key);
                session.renew();
            }
        }
        *self.changed.borrow_mut() = Some(None);
        self.expired.set(Some(reason));
        report(&self.config, expiry_event(ending, reason, self.now));
    }

    /// Ends the session because a route's own limit was reached; the middleware then answers
    /// as for any expiry.
    pub(crate) fn end_by_route(&self, session: &Session, reason: ExpiryReason) {
        let ending = self.snapshot.as_ref().map(|s| Ending::from(&s.state));
        self.end(session, ending.as_ref(), reason);
        self.answer_expired
            .set(self.config.expired_action == ExpiredAction::Respond);
    }
}

fn expiry_event(ending: Option<&Ending>, reason: ExpiryReason, now: UnixMs) -> ExpiryEvent {
    ExpiryEvent {
        user: ending.map(|e| e.user.clone()),
        reason,
        session_age: ending.map(|e| now.since(e.login)),
        idle_for: ending.and_then(|e| e.seen).map(|seen| now.since(seen)),
    }
}

fn report(config: &Configuration, event: ExpiryEvent) {
    config.events.emit(&SessionEvent::expired(&event));
}
