//! What the middleware knows about one request, shared with the extractors through the
//! request extensions.
//!
//! One lifecycle, as actix-session's `SessionStatus` is one: the session as it arrived
//! ([`Snapshot`]), what handlers made of it since ([`Current`]), how it ended if it did
//! ([`Ending`]), and a log-in to report ([`PendingLogin`]).

use std::{
    cell::{Cell, OnceCell, RefCell},
    rc::Rc,
    sync::Arc,
};

use crate::store::session_api::Session;
use actix_web::{HttpMessage as _, HttpRequest};

use crate::{
    config::configuration::Configuration,
    config::ExpiredAction,
    cookie_lifetime::CookieLifetime,
    session_data::{self, Left},
    stack_check::Probe,
    state::ExpiryState,
    unix_ms::UnixMs,
    ExpiryError, ExpiryEvent, ExpiryReason, Policy, SessionEvent,
};

/// A signed-in session's state with the policy that applies to it, computed once.
///
/// Route guards judge the request by the snapshot it arrived with, never by state a handler
/// changed meanwhile.
#[derive(Debug, Clone)]
pub(crate) struct Snapshot {
    pub(crate) state: ExpiryState,
    pub(crate) policy: Policy,
}

impl Snapshot {
    /// `state` under the policy in force for it (the user's own or the global one, capped).
    pub(crate) fn new(state: ExpiryState, config: &Configuration) -> Self {
        let policy = config.effective_policy(state.policy);
        Self { state, policy }
    }
}

/// What is known of a session that ends, for its [`ExpiryEvent`].
#[derive(Debug, Clone)]
pub(crate) struct EndedSession {
    pub(crate) user: String,
    pub(crate) login: UnixMs,
    /// Last seen; unknown for a session its store already dropped.
    pub(crate) seen: Option<UnixMs>,
}

impl From<&ExpiryState> for EndedSession {
    fn from(state: &ExpiryState) -> Self {
        Self {
            user: state.user.clone(),
            login: state.login,
            seen: Some(state.seen),
        }
    }
}

/// What the request's session is now, as handlers left it.
#[derive(Debug)]
enum Current {
    /// As it arrived: the snapshot, or anonymous.
    AsArrived,
    /// Written during this request: a log-in, adoption, touch, re-authentication, refresh, or
    /// a state moved from the legacy key.
    Set(Snapshot),
    /// Signed out or ended during this request. `purge`: the whole session goes on the way
    /// out, unless a log-in follows (actix-session ignores everything after a purge, so it
    /// cannot happen at once).
    Gone { purge: bool },
}

/// How the session that came with this request ended, if it did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    Not,
    /// Ended on the way in, or by a route whose handler then runs anonymous.
    Ended(ExpiryReason),
    /// Ended by a route's own limit: the expired answer replaces the handler's response.
    Answer(ExpiryReason),
}

/// What the way out owes the session's security stamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StampDue {
    None,
    /// A log-in: stamp it with the user's current stamp.
    LogIn,
    /// The handler changed the user's credentials: forget the cached stamp, re-stamp this
    /// session under the new one, renew its ID and tell other instances.
    Changed,
}

/// A log-in during this request, reported on the way out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PendingLogin {
    None,
    Report,
    /// The resolver is to be consulted for its policy first.
    ResolveThenReport,
    /// An adoption: its policy is resolved as a log-in's, but it is reported as adopted.
    ResolveOnly,
}

#[derive(Debug)]
pub(crate) struct RequestContext {
    pub(crate) config: Arc<Configuration>,
    /// When the request arrived: what the session is judged by.
    pub(crate) arrived: UnixMs,
    /// The session as it arrived, if signed in and live.
    pub(crate) snapshot: Option<Snapshot>,
    current: RefCell<Current>,
    ending: Cell<Ending>,
    passive: Cell<bool>,
    /// Limits the route's guards added; they also shorten the refresh granularity.
    route_limits: Cell<Policy>,
    login: Cell<PendingLogin>,
    stamp_due: Cell<StampDue>,
    /// When the way out read the clock (the arrival until then).
    departed: Cell<UnixMs>,
    /// The stack check's probe, while the first requests are checking the middleware stack;
    /// dropped with the request, after the response.
    probe: OnceCell<Probe>,
}

impl RequestContext {
    pub(crate) fn new(
        config: Arc<Configuration>,
        arrived: UnixMs,
        snapshot: Option<Snapshot>,
    ) -> Self {
        Self {
            config,
            arrived,
            snapshot,
            current: RefCell::new(Current::AsArrived),
            ending: Cell::new(Ending::Not),
            passive: Cell::new(false),
            route_limits: Cell::new(Policy::new()),
            login: Cell::new(PendingLogin::None),
            stamp_due: Cell::new(StampDue::None),
            departed: Cell::new(arrived),
            probe: OnceCell::new(),
        }
    }

    /// Carries the stack check's `probe` to the way out.
    pub(crate) fn carry_probe(&self, probe: Probe) {
        let _set_once = self.probe.set(probe);
    }

    /// The stack check's probe, if this request carries one.
    pub(crate) fn probe(&self) -> Option<&Probe> {
        self.probe.get()
    }

    /// The context the middleware left for this request.
    pub(crate) fn of(req: &HttpRequest) -> Result<Rc<Self>, ExpiryError> {
        req.extensions()
            .get::<Rc<Self>>()
            .cloned()
            .ok_or(ExpiryError::MiddlewareMissing)
    }

    /// Reads the signed-in session as it is now (`None`: nobody is signed in).
    pub(crate) fn with_current<R>(&self, read: impl FnOnce(Option<&Snapshot>) -> R) -> R {
        match &*self.current.borrow() {
            Current::AsArrived => read(self.snapshot.as_ref()),
            Current::Set(snapshot) => read(Some(snapshot)),
            Current::Gone { .. } => read(None),
        }
    }

    /// The signed-in state now, copied (for a handler's change of it).
    pub(crate) fn current(&self) -> Option<ExpiryState> {
        self.with_current(|snapshot| snapshot.map(|s| s.state.clone()))
    }

    /// The signed-in user now, without copying the whole state.
    pub(crate) fn user(&self) -> Option<String> {
        self.with_current(|snapshot| snapshot.map(|s| s.state.user.clone()))
    }

    /// What a [`SessionEnd`](crate::SessionEnd) of the signed-in session is made of; `None`
    /// when nobody is signed in.
    pub(crate) fn live_seed(&self, req: &HttpRequest) -> Option<crate::live::Seed> {
        // Only a server-side store names sessions by id (read from the session, so not for
        // the cookie store's requests).
        let id = if self.config.events.live.has_store() {
            session_id(req)
        } else {
            None
        };
        self.with_current(|snapshot| {
            snapshot.map(|Snapshot { state, policy }| crate::live::Seed {
                config: Arc::clone(&self.config),
                state: state.clone(),
                policy: *policy,
                id,
            })
        })
    }

    /// How long the session cookie may outlive the browser (see
    /// [`RememberMeCookie`](crate::RememberMeCookie)), `None` without a signed-in session now.
    pub(crate) fn cookie_lifetime(&self) -> Option<CookieLifetime> {
        let now = self.departed.get();
        self.with_current(|snapshot| {
            snapshot.map(|Snapshot { state, policy }| {
                let absolute_left = policy
                    .absolute()
                    .map(|limit| limit.saturating_sub(now.since(state.login)));
                CookieLifetime::of(state.remembered, absolute_left)
            })
        })
    }

    /// Why the session that came with this request ended, if it did.
    pub(crate) fn expired(&self) -> Option<ExpiryReason> {
        match self.ending.get() {
            Ending::Not => None,
            Ending::Ended(reason) | Ending::Answer(reason) => Some(reason),
        }
    }

    /// The reason to answer with instead of the handler's response, if a route ended it.
    pub(crate) fn answer_expired(&self) -> Option<ExpiryReason> {
        match self.ending.get() {
            Ending::Answer(reason) => Some(reason),
            _ => None,
        }
    }

    pub(crate) fn mark_passive(&self) {
        self.passive.set(true);
    }

    /// Records a route limit that this request passed.
    pub(crate) fn add_route_limit(&self, limit: Policy) {
        self.route_limits
            .set(self.route_limits.get().stricter(limit));
    }

    /// Records when the way out read the clock: what the cookie's lifetime is counted from.
    pub(crate) fn depart(&self, now: UnixMs) {
        self.departed.set(now);
    }

    /// Whether last-seen should be refreshed on the way out at `now`, and to what. Only for a
    /// session no handler wrote: a log-in, touch or log-out already said what to store.
    pub(crate) fn refresh_due(&self, now: UnixMs) -> Option<Snapshot> {
        if self.passive.get()
            || self.ending.get() != Ending::Not
            || !matches!(*self.current.borrow(), Current::AsArrived)
        {
            return None;
        }
        let snapshot = self.snapshot.as_ref()?;
        let policy = snapshot.policy.stricter(self.route_limits.get());
        let granularity = self.config.granularity(&policy);
        let seen = snapshot.state.seen;
        // Never move last-seen backwards, even if the clock did.
        (now > seen && now.since(seen) >= granularity).then(|| Snapshot {
            state: ExpiryState {
                seen: now,
                ..snapshot.state.clone()
            },
            policy: snapshot.policy,
        })
    }

    /// Stores `snapshot` in the session as what it is now.
    pub(crate) fn store(&self, session: &Session, snapshot: Snapshot) -> Result<(), ExpiryError> {
        session.insert(
            &*self.config.state_key,
            snapshot.state.encode(&snapshot.policy),
        )?;
        // This session's connections in this process count its activity too.
        let state = &snapshot.state;
        let live = &self.config.events.live;
        live.saw(&state.user, state.login.millis(), state.seen.millis());
        *self.current.borrow_mut() = Current::Set(snapshot);
        Ok(())
    }

    /// Records a log-in, reported on the way out unless `adopted` (reported when adopted);
    /// `deferred`: its policy is still to resolve.
    pub(crate) fn set_login_pending(&self, deferred: bool, adopted: bool) {
        self.login.set(match (deferred, adopted) {
            (true, false) => PendingLogin::ResolveThenReport,
            (true, true) => PendingLogin::ResolveOnly,
            (false, false) => PendingLogin::Report,
            (false, true) => PendingLogin::None,
        });
    }

    pub(crate) fn set_stamp_due(&self, due: StampDue) {
        self.stamp_due.set(due);
    }

    pub(crate) fn take_stamp_due(&self) -> StampDue {
        self.stamp_due.replace(StampDue::None)
    }

    /// Whether the way out has to await something: a policy to resolve, a stamp to look up.
    pub(crate) fn awaits_on_the_way_out(&self) -> bool {
        self.resolution_pending() || self.stamp_due.get() != StampDue::None
    }

    /// Drops a log-in of this request that cannot stand (its stamp could not be taken): the
    /// session is purged on the way out and nothing is reported.
    pub(crate) fn abandon_log_in(&self, session: &Session) {
        self.login.set(PendingLogin::None);
        session.purge();
        *self.current.borrow_mut() = Current::Gone { purge: true };
    }

    /// Whether the way out has a log-in's policy to resolve.
    pub(crate) fn resolution_pending(&self) -> bool {
        matches!(
            self.login.get(),
            PendingLogin::ResolveThenReport | PendingLogin::ResolveOnly
        )
    }

    /// The state of a log-in whose policy is still to resolve, if any (a log-in is then
    /// reported as any other).
    pub(crate) fn take_unresolved(&self) -> Option<ExpiryState> {
        match self.login.get() {
            PendingLogin::ResolveThenReport => self.login.set(PendingLogin::Report),
            PendingLogin::ResolveOnly => self.login.set(PendingLogin::None),
            PendingLogin::Report | PendingLogin::None => return None,
        }
        self.current()
    }

    /// Reports the log-in of this request, if it still stands.
    pub(crate) fn report_log_in(&self) {
        if self.login.replace(PendingLogin::None) == PendingLogin::None {
            return;
        }
        let event = self.with_current(|snapshot| {
            snapshot.map(|Snapshot { state, policy }| SessionEvent::LoggedIn {
                policy: *policy,
                remembered: state.remembered,
                user: state.user.clone(),
            })
        });
        if let Some(event) = event {
            self.config.events.emit(&event);
        }
    }

    /// Signs the user out: forgets the state, and the rest of the session but what the
    /// [`LogoutBehavior`](crate::config::LogoutBehavior) keeps.
    pub(crate) fn sign_out(&self, session: &Session) {
        let leaving = self.current();
        if let Some(state) = &leaving {
            let now = self.config.now();
            self.config.signed_out.record(state, now);
            self.config.events.emit(&SessionEvent::LoggedOut {
                session_age: now.since(state.login),
                user: state.user.clone(),
            });
            // This session's connections (in other tabs, on other instances) close.
            self.config.events.live.end_now(crate::live::Notice {
                user: state.user.clone(),
                reason: ExpiryReason::LoggedOut,
                target: crate::live::Target::One(crate::live::Which::Login(state.login.millis())),
            });
        }
        self.login.set(PendingLogin::None);
        let user = leaving.as_ref().map(|state| state.user.as_str());
        let purge = match session_data::leave(session, &self.config, user) {
            Left::Purge => {
                session.clear();
                true
            }
            Left::Kept => false,
        };
        *self.current.borrow_mut() = Current::Gone { purge };
    }

    /// Purges the session if a log-out asked for it and no log-in followed; whether it did.
    pub(crate) fn purge_if_signed_out(&self, session: &Session) -> bool {
        let purge = matches!(*self.current.borrow(), Current::Gone { purge: true });
        if purge {
            session.purge();
        }
        purge
    }

    /// Ends the session that came with this request: removes it (all but what the
    /// [`LogoutBehavior`](crate::config::LogoutBehavior) keeps), reports the event and records the
    /// reason. With [`ExpiredAction::Continue`] the request goes on anonymous in a fresh
    /// session (so a log-in page can sign the user in again at once).
    pub(crate) fn end(
        &self,
        session: &Session,
        ended: Option<&EndedSession>,
        reason: ExpiryReason,
    ) {
        let user = ended.map(|ended| ended.user.as_str());
        if session_data::leave(session, &self.config, user) == Left::Purge {
            if self.config.expired_action == ExpiredAction::Respond {
                session.purge();
            } else {
                session.clear();
                session.renew();
            }
        }
        *self.current.borrow_mut() = Current::Gone { purge: false };
        self.ending.set(Ending::Ended(reason));
        self.config.events.emit(&SessionEvent::Expired(expiry_event(
            ended,
            reason,
            self.arrived,
        )));
    }

    /// Ends the session because a route's own limit was reached; the middleware then answers
    /// as for any expiry.
    pub(crate) fn end_by_route(&self, session: &Session, reason: ExpiryReason) {
        let ended = self.snapshot.as_ref().map(|s| EndedSession::from(&s.state));
        self.end(session, ended.as_ref(), reason);
        if self.config.expired_action == ExpiredAction::Respond {
            self.ending.set(Ending::Answer(reason));
        }
    }
}

/// The registry id of the request's session, on a server-side store.
#[cfg(any(feature = "redis", feature = "postgres"))]
fn session_id(req: &HttpRequest) -> Option<String> {
    use crate::store::{reserved::ID_KEY, session_api::SessionExt as _};
    req.get_session().get::<String>(ID_KEY).ok().flatten()
}

/// No registry ids without a server-side store.
#[cfg(not(any(feature = "redis", feature = "postgres")))]
fn session_id(_: &HttpRequest) -> Option<String> {
    None
}

fn expiry_event(ended: Option<&EndedSession>, reason: ExpiryReason, now: UnixMs) -> ExpiryEvent {
    ExpiryEvent {
        user: ended.map(|e| e.user.clone()),
        reason,
        session_age: ended.map(|e| now.since(e.login)),
        idle_for: ended.and_then(|e| e.seen).map(|seen| now.since(seen)),
    }
}
