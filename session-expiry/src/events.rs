//! [`Events`]: where a [`SessionEvent`] goes: the log, the counters (feature `metrics`) and the
//! hooks.

use std::{sync::Arc, time::Duration};

use crate::{config::UserIdLogging, ExpiryEvent, SessionEvent};

/// A hook that receives events.
pub(crate) type EventHook = Arc<dyn Fn(&SessionEvent) + Send + Sync>;

/// Where events go: the log, the counters, and the hooks.
#[derive(Clone, Default)]
pub(crate) struct Events {
    pub(crate) hooks: Vec<EventHook>,
    pub(crate) user_ids: UserIdLogging,
    /// The sessions long-lived connections watch (see [`live`](crate::live)).
    pub(crate) live: Arc<crate::live::Hub>,
}

impl std::fmt::Debug for Events {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Events")
            .field("hooks", &self.hooks.len())
            .field("user_ids", &self.user_ids)
            .finish()
    }
}

impl Events {
    /// Reports `event` to the log, the counters and every hook.
    pub(crate) fn emit(&self, event: &SessionEvent) {
        log(event, &self.user_ids);
        crate::metrics::event(event);
        for hook in &self.hooks {
            hook(event);
        }
    }
}

fn log(event: &SessionEvent, user_ids: &UserIdLogging) {
    let secs = |d: Option<Duration>| d.map(|d| d.as_secs());
    let user = event.user().and_then(|user| user_ids.name(user));
    let name = event.name();
    match event {
        SessionEvent::LoggedIn { remembered, .. } => tracing::info!(
            target: "session_expiry", event = name, user, remembered, "signed in"
        ),
        SessionEvent::LoggedOut { session_age, .. } => tracing::info!(
            target: "session_expiry",
            event = name,
            user,
            session_age_secs = session_age.as_secs(),
            "signed out"
        ),
        SessionEvent::Expired(ExpiryEvent {
            reason,
            session_age,
            idle_for,
            ..
        }) => tracing::info!(
            target: "session_expiry",
            event = name,
            user,
            reason = %reason,
            session_age_secs = secs(*session_age),
            idle_for_secs = secs(*idle_for),
            "session expired"
        ),
        SessionEvent::Reauthenticated { session_age, .. } => tracing::info!(
            target: "session_expiry",
            event = name,
            user,
            session_age_secs = session_age.as_secs(),
            "confirmed who they are again"
        ),
        SessionEvent::Revoked { sessions, .. } => tracing::info!(
            target: "session_expiry", event = name, user, sessions, "sessions revoked"
        ),
        SessionEvent::Evicted { sessions, .. } => tracing::info!(
            target: "session_expiry",
            event = name,
            user,
            sessions,
            "sessions evicted beyond the user's session limit"
        ),
        SessionEvent::Adopted { .. } => tracing::info!(
            target: "session_expiry",
            event = name,
            user,
            "adopted a session signed in by another mechanism: clocks start now"
        ),
        SessionEvent::CredentialsChanged { .. } => tracing::info!(
            target: "session_expiry",
            event = name,
            user,
            "credentials changed: the user's other sessions end"
        ),
        SessionEvent::StampLookupFailed { error, .. } => tracing::error!(
            target: "session_expiry",
            event = name,
            user,
            %error,
            "the security stamp lookup failed: answering 503, the session is kept"
        ),
        SessionEvent::Reaped {
            idle,
            absolute,
            revoked,
            evicted,
            anonymous,
            batches,
        } => tracing::info!(
            target: "session_expiry",
            event = name,
            idle,
            absolute,
            revoked,
            evicted,
            anonymous,
            batches,
            "reaped {} ended sessions",
            idle + absolute + revoked + evicted + anonymous
        ),
    }
}
