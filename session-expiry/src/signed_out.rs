//! [`SignedOut`]: the sessions signed out lately in this process.
//!
//! With the cookie store a session lives in its cookie, so a request that started before the
//! user signed out in another tab still carries the old session, and if it refreshed last-seen
//! on its way out it would set that cookie again: the user would be signed back in. This
//! process remembers its recent log-outs for a while, and such a request skips the refresh.
//! It is best effort: another app instance does not know, and a handler that changes other
//! session data still writes the cookie (a server-side store, which can revoke, has neither
//! gap).

use std::{
    collections::VecDeque,
    hash::{DefaultHasher, Hash as _, Hasher as _},
    sync::Mutex,
    time::Duration,
};

use crate::{state::ExpiryState, unix_ms::UnixMs};

/// How long a log-out is remembered: longer than any sane request runs.
const REMEMBERED_FOR: Duration = Duration::from_secs(10 * 60);
/// At most this many log-outs are remembered (16 bytes each): the oldest go first.
const CAPACITY: usize = 4096;

/// One signed-in session: its user and log-in instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Fingerprint {
    user: u64,
    login: UnixMs,
}

impl Fingerprint {
    fn of(state: &ExpiryState) -> Self {
        let mut hasher = DefaultHasher::new();
        state.user.hash(&mut hasher);
        Self {
            user: hasher.finish(),
            login: state.login,
        }
    }
}

/// Recent log-outs, oldest first.
#[derive(Debug, Default)]
pub(crate) struct SignedOut {
    recent: Mutex<VecDeque<(Fingerprint, UnixMs)>>,
}

impl SignedOut {
    /// Remembers that the session of `state` was signed out at `now`.
    pub(crate) fn record(&self, state: &ExpiryState, now: UnixMs) {
        let mut recent = self.lock();
        prune(&mut recent, now);
        if recent.len() == CAPACITY {
            recent.pop_front();
        }
        recent.push_back((Fingerprint::of(state), now));
    }

    /// Whether the session of `state` was signed out lately.
    pub(crate) fn contains(&self, state: &ExpiryState, now: UnixMs) -> bool {
        let wanted = Fingerprint::of(state);
        let mut recent = self.lock();
        prune(&mut recent, now);
        recent.iter().any(|(fingerprint, _)| *fingerprint == wanted)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<(Fingerprint, UnixMs)>> {
        // A panic while holding the lock leaves a queue that is still a valid queue.
        self.recent
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn prune(recent: &mut VecDeque<(Fingerprint, UnixMs)>, now: UnixMs) {
    while recent
        .front()
        .is_some_and(|(_, at)| now.since(*at) >= REMEMBERED_FOR)
    {
        recent.pop_front();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_log_out_is_remembered_for_a_while_and_within_capacity() {
        let t0 = UnixMs::new(1_000_000_000).unwrap();
        let minutes = |n: u64| t0.plus(Duration::from_secs(60 * n));
        let alice = ExpiryState::new("alice".into(), t0, None);
        let again = ExpiryState::new("alice".into(), t0.plus(Duration::from_secs(1)), None);
        let signed_out = SignedOut::default();
        signed_out.record(&alice, t0);
        assert!(signed_out.contains(&alice, minutes(9)));
        assert!(
            !signed_out.contains(&again, t0),
            "another log-in of the same user"
        );
        assert!(!signed_out.contains(&alice, minutes(10)));

        for n in 0..=CAPACITY {
            let user = ExpiryState::new(format!("u{n}"), t0, None);
            signed_out.record(&user, t0);
        }
        assert_eq!(signed_out.lock().len(), CAPACITY);
        assert!(!signed_out.contains(&ExpiryState::new("u0".into(), t0, None), t0));
    }
}
