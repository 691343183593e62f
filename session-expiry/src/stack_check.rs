//! [`StackCheck`]: finds, on the first requests, a middleware stack that would lose sessions.
//!
//! Two mistakes cannot be seen from the state alone:
//! - `SessionMiddleware` registered *inside* `SessionExpiry`: every session looks anonymous on
//!   the way in, and what the way out writes is lost;
//! - no `SessionMiddleware` at all: `login()` succeeds and nothing is ever saved.
//!
//! Until one request has shown the stack to be right, a request that arrives with no session
//! state carries a probe entry. actix-session's `SessionMiddleware` takes the state map away once
//! the inner service answered (`mem::take`, leaving a new map of capacity 0), which is how both
//! are told apart from a handler's `clear()` or `purge()` (they keep the map's allocation):
//! - on the way out, the probe gone with the map's allocation: something inside took the state;
//! - when the request is dropped, after the response, the map's allocation still there: nothing
//!   outside took it.
//!
//! A state loaded on arrival, or a probe request whose state was taken outside, proves the stack;
//! from then on nothing is probed.

use std::{
    cell::Cell,
    sync::{
        atomic::{AtomicU8, Ordering},
        Arc,
    },
};

use crate::store::session_api::{self, Session, SessionExt as _};
use actix_web::HttpRequest;

/// The reserved entry of a probe request (never persisted: removed on the way out).
const PROBE_KEY: &str = "session-expiry.probe";

const UNKNOWN: u8 = 0;
const VERIFIED: u8 = 1;
const INSIDE_OUT: u8 = 2;
const MISSING: u8 = 3;

/// What is known of the middleware stack, shared by every worker.
#[derive(Debug, Default)]
pub(crate) struct StackCheck {
    state: AtomicU8,
}

/// A mistake in the stack, with the fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StackError {
    /// `SessionMiddleware` runs inside `SessionExpiry`.
    InsideOut,
    /// No `SessionMiddleware` at all.
    Missing,
    /// `RememberMeCookie` runs inside `SessionMiddleware`, before any cookie is set.
    RememberMeInside,
}

impl StackError {
    /// Logs the mistake and its fix, once per process and kind.
    fn report(self) {
        match self {
            Self::InsideOut => tracing::error!(
                target: "session_expiry",
                "SessionExpiry is registered outside SessionMiddleware, so it cannot see or save \
                 sessions: call `.wrap(SessionExpiry::..)` *before* `.wrap(SessionMiddleware::..)` \
                 (actix-web runs the last `.wrap` first); answering 500"
            ),
            Self::Missing => tracing::error!(
                target: "session_expiry",
                "SessionExpiry found no actix-session SessionMiddleware around it, so no session \
                 is ever saved: add `.wrap(SessionMiddleware::new(store, key))` right after \
                 `.wrap(SessionExpiry::..)`; answering 500"
            ),
            Self::RememberMeInside => tracing::error!(
                target: "session_expiry",
                "RememberMeCookie is registered inside SessionMiddleware, so it never sees the \
                 session cookie and every cookie keeps actix-session's lifetime: call \
                 `.wrap(RememberMeCookie::new())` *after* `.wrap(SessionMiddleware::..)`"
            ),
        }
    }

    /// [`report`](Self::report), once per process: a layer of every worker may find it.
    pub(crate) fn report_once(self) {
        static REPORTED: AtomicU8 = AtomicU8::new(0);
        let bit = 1 << self as u8;
        if REPORTED.fetch_or(bit, Ordering::Relaxed) & bit == 0 {
            self.report();
        }
    }
}

/// Whether a layer on its way out still finds the request's session state, which a
/// `SessionMiddleware` inside it would have taken: a layer meant to run outside
/// `SessionMiddleware` (`RememberMeCookie`) then runs inside it. A request whose state never
/// held anything tells nothing.
pub(crate) fn state_still_held(req: &HttpRequest) -> bool {
    !session_api::taken_for_saving(&req.get_session())
}

impl StackCheck {
    /// The mistake already found, if any: every request is then answered `500`.
    pub(crate) fn error(&self) -> Option<StackError> {
        match self.state.load(Ordering::Relaxed) {
            INSIDE_OUT => Some(StackError::InsideOut),
            MISSING => Some(StackError::Missing),
            _ => None,
        }
    }

    /// On the way in: a probe for a request that tells nothing by itself, `None` otherwise.
    pub(crate) fn arrive(self: &Arc<Self>, session: &Session) -> Option<Probe> {
        if self.state.load(Ordering::Relaxed) != UNKNOWN {
            return None;
        }
        if !session_api::entries(session).is_empty() {
            // Only a SessionMiddleware outside could have loaded it.
            self.settle(VERIFIED);
            return None;
        }
        session.insert(PROBE_KEY, 1).ok()?;
        Some(Probe {
            session: session.clone(),
            answered: Cell::new(false),
            check: Arc::clone(self),
        })
    }

    /// Records what was found, reporting a mistake the first time it is found.
    fn settle(&self, found: u8) {
        if self
            .state
            .compare_exchange(UNKNOWN, found, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
        {
            if let Some(error) = self.error() {
                error.report();
            }
        }
    }
}

/// A probe request's handle on its session, carried by its context: judged on the way out and
/// again when the request is dropped.
pub(crate) struct Probe {
    session: Session,
    /// The way out ran to its end (a cancelled or failed request tells nothing).
    answered: Cell<bool>,
    check: Arc<StackCheck>,
}

impl std::fmt::Debug for Probe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Probe")
            .field("answered", &self.answered.get())
            .finish_non_exhaustive()
    }
}

impl Probe {
    /// On the way out, before anything else: the probe entry removed; `Err` if the state was
    /// already taken inside (the stack is inside out).
    pub(crate) fn depart(&self) -> Result<(), StackError> {
        if self.session.remove(PROBE_KEY).is_none() && session_api::taken_for_saving(&self.session)
        {
            self.check.settle(INSIDE_OUT);
            return Err(StackError::InsideOut);
        }
        self.answered.set(true);
        Ok(())
    }
}

impl Drop for Probe {
    fn drop(&mut self) {
        // After the response: a SessionMiddleware outside has taken the state by now.
        if self.answered.get() {
            self.check
                .settle(if session_api::taken_for_saving(&self.session) {
                    VERIFIED
                } else {
                    MISSING
                });
        }
    }
}
