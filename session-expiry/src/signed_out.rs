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
    collections::{BTreeSet, HashMap},
    hash::{BuildHasher as _, BuildHasherDefault, Hasher, RandomState},
    sync::{
        atomic::{AtomicBool, Ordering},
        Mutex, MutexGuard, PoisonError,
    },
    time::Duration,
};

use crate::{state::ExpiryState, unix_ms::UnixMs};

/// How long a log-out is remembered: longer than any sane request runs.
const REMEMBERED_FOR: Duration = Duration::from_secs(10 * 60);
/// At most this many sessions of one user are remembered; their own oldest go first.
const PER_USER: usize = 8;
/// At most this many users are remembered; the one who signed out least recently goes first.
const USERS: usize = 4096;

/// Recent log-outs, in one bucket per user, so that what one account does can only push out
/// that account's own log-outs.
///
/// A session is its user and its log-in instant (its fingerprint). The same session signed out
/// again (a cookie replayed to the log-out route, which the cookie store cannot refuse) is the
/// same entry, remembered from its latest log-out. Bounds:
///
/// - per user, [`PER_USER`] sessions: a user's further log-outs push out that user's own
///   oldest;
/// - overall, [`USERS`] users, so at most `USERS * PER_USER` entries (under 1 MiB at the
///   worst: a user is kept as a 64-bit hash, never as the id): a log-out of a user not yet
///   remembered, with every bucket taken, pushes out the bucket of the user whose latest
///   log-out is the oldest;
/// - in time, [`REMEMBERED_FOR`]: older log-outs are forgotten.
///
/// What remains: whoever holds [`USERS`] accounts, each signed in, and signs all of them out
/// after the victim's log-out and before the victim's slow request finishes, pushes the
/// victim's log-out out (and with it the protection, for that one request). One account can no
/// longer do it; an app where accounts can be made in bulk should use a server-side store,
/// which revokes.
///
/// The check that every due refresh makes is one lookup in a hash map, without allocating, and
/// skips the lock altogether while nothing is remembered.
#[derive(Debug, Default)]
pub(crate) struct SignedOut {
    /// Whether any log-out is remembered; only written while holding `registry`.
    any: AtomicBool,
    /// The key of the users' hashes: a secret of this process, so that nobody can choose a
    /// user id whose hash lands in another user's bucket.
    user_hashes: RandomState,
    registry: Mutex<Registry>,
}

/// The buckets, and their order by latest log-out.
#[derive(Debug, Default)]
struct Registry {
    buckets: HashMap<u64, Bucket, BuildHasherDefault<AlreadyHashed>>,
    /// `(latest log-out, user)` of every bucket, oldest first.
    by_latest: BTreeSet<(UnixMs, u64)>,
}

/// One user's recent log-outs.
#[derive(Debug)]
struct Bucket {
    /// The latest of `sessions`' log-outs (never earlier than one already seen).
    latest: UnixMs,
    /// `(log-in instant, signed out at)`, at most [`PER_USER`].
    sessions: Vec<(UnixMs, UnixMs)>,
}

impl SignedOut {
    /// Remembers that the session of `state` was signed out at `now`.
    pub(crate) fn record(&self, state: &ExpiryState, now: UnixMs) {
        let user = self.user_hashes.hash_one(state.user.as_str());
        let mut registry = self.lock();
        registry.forget_before(now);
        registry.record(user, state.login, now);
        self.any.store(true, Ordering::Release);
    }

    /// Whether the session of `state` was signed out lately.
    pub(crate) fn contains(&self, state: &ExpiryState, now: UnixMs) -> bool {
        if !self.any.load(Ordering::Acquire) {
            return false;
        }
        let user = self.user_hashes.hash_one(state.user.as_str());
        let mut registry = self.lock();
        registry.forget_before(now);
        if registry.buckets.is_empty() {
            self.any.store(false, Ordering::Release);
            return false;
        }
        registry.buckets.get(&user).is_some_and(|bucket| {
            bucket
                .sessions
                .iter()
                .any(|&(login, at)| login == state.login && remembered(at, now))
        })
    }

    fn lock(&self) -> MutexGuard<'_, Registry> {
        // A panic while holding the lock leaves buckets that are still valid buckets.
        self.registry.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Registry {
    /// Drops the buckets whose latest log-out is no longer remembered at `now`.
    fn forget_before(&mut self, now: UnixMs) {
        while let Some(&(latest, user)) = self.by_latest.first() {
            if remembered(latest, now) {
                break;
            }
            self.by_latest.pop_first();
            self.buckets.remove(&user);
        }
    }

    fn record(&mut self, user: u64, login: UnixMs, now: UnixMs) {
        if !self.buckets.contains_key(&user) && self.buckets.len() >= USERS {
            if let Some((_, least_recent)) = self.by_latest.pop_first() {
                self.buckets.remove(&least_recent);
            }
        }
        let bucket = self.buckets.entry(user).or_insert_with(|| Bucket {
            latest: now,
            sessions: Vec::new(),
        });
        self.by_latest.remove(&(bucket.latest, user));
        bucket.latest = bucket.latest.max(now);
        self.by_latest.insert((bucket.latest, user));
        bucket.remember(login, now);
    }
}

impl Bucket {
    fn remember(&mut self, login: UnixMs, now: UnixMs) {
        self.sessions.retain(|&(_, at)| remembered(at, now));
        // A session signed out again is no new entry: it is remembered from now.
        if let Some(known) = self.sessions.iter_mut().find(|(known, _)| *known == login) {
            known.1 = known.1.max(now);
            return;
        }
        if self.sessions.len() >= PER_USER {
            let oldest = (self.sessions.iter().enumerate())
                .min_by_key(|(_, &(_, at))| at)
                .map(|(i, _)| i);
            if let Some(oldest) = oldest {
                self.sessions.swap_remove(oldest);
            }
        }
        self.sessions.push((login, now));
    }
}

/// Whether a log-out at `at` is still remembered at `now`.
fn remembered(at: UnixMs, now: UnixMs) -> bool {
    now.since(at) < REMEMBERED_FOR
}

/// The hasher of the buckets' map: its keys are already keyed hashes, so hashing them again
/// would only cost time.
#[derive(Debug, Default)]
struct AlreadyHashed(u64);

impl Hasher for AlreadyHashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u64` is ever called (the keys are `u64`); this keeps any other input
        // spread all the same.
        for &byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(byte);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    fn t0() -> UnixMs {
        UnixMs::new(1_000_000_000).unwrap()
    }

    fn session(user: &str, login: UnixMs) -> ExpiryState {
        ExpiryState::new(user.into(), login, None)
    }

    impl SignedOut {
        fn entries(&self) -> usize {
            let registry = self.lock();
            assert_eq!(registry.buckets.len(), registry.by_latest.len());
            registry.buckets.values().map(|b| b.sessions.len()).sum()
        }

        fn users(&self) -> usize {
            self.lock().buckets.len()
        }
    }

    #[test]
    fn a_log_out_is_remembered_for_a_while_and_only_for_its_session() {
        let minutes = |n: u64| t0().plus(Duration::from_secs(60 * n));
        let alice = session("alice", t0());
        let signed_out = SignedOut::default();
        assert!(!signed_out.contains(&alice, t0()), "nothing yet");
        signed_out.record(&alice, t0());
        assert!(signed_out.contains(&alice, minutes(9)));
        assert!(
            !signed_out.contains(&session("alice", t0().plus(SECOND)), t0()),
            "another log-in of the same user"
        );
        assert!(!signed_out.contains(&session("bob", t0()), t0()));
        assert!(!signed_out.contains(&alice, minutes(10)));
        assert_eq!(signed_out.users(), 0, "forgotten, not only hidden");
        assert!(!signed_out.any.load(Ordering::Acquire));
    }

    #[test]
    fn ten_thousand_replays_of_one_log_out_are_one_entry() {
        let signed_out = SignedOut::default();
        let alice = session("alice", t0());
        signed_out.record(&alice, t0());
        let mallory = session("mallory", t0());
        for n in 0..10_000 {
            signed_out.record(&mallory, t0().plus(Duration::from_millis(n)));
        }
        assert_eq!(signed_out.entries(), 2);
        assert!(signed_out.contains(&alice, t0().plus(5 * SECOND)));
        // A replay counts from its own time: the latest log-out is remembered for the full
        // while.
        let later = t0().plus(REMEMBERED_FOR).plus(5 * SECOND);
        assert!(signed_out.contains(&mallory, later));
        assert!(!signed_out.contains(&alice, later));
    }

    #[test]
    fn one_users_many_sessions_push_out_only_their_own() {
        let signed_out = SignedOut::default();
        let alice = session("alice", t0());
        signed_out.record(&alice, t0());
        let now = t0().plus(SECOND);
        for n in 0..10_000 {
            let login = t0().plus(Duration::from_millis(n));
            signed_out.record(
                &session("mallory", login),
                now.plus(Duration::from_millis(n)),
            );
        }
        assert_eq!(signed_out.entries(), 1 + PER_USER);
        assert!(signed_out.contains(&alice, now));
        let newest = session("mallory", t0().plus(Duration::from_millis(9_999)));
        assert!(signed_out.contains(&newest, now));
        assert!(!signed_out.contains(&session("mallory", t0()), now));
    }

    #[test]
    fn with_every_bucket_taken_the_user_signed_out_least_recently_goes() {
        let signed_out = SignedOut::default();
        let (alice, bob) = (session("alice", t0()), session("bob", t0()));
        signed_out.record(&alice, t0());
        signed_out.record(&bob, t0());
        // alice signs out another session later: her bucket is now the more recent.
        let alice_again = session("alice", t0().plus(SECOND));
        signed_out.record(&alice_again, t0().plus(SECOND));
        let now = t0().plus(2 * SECOND);
        for n in 0..USERS - 2 {
            signed_out.record(&session(&format!("u{n}"), t0()), now);
        }
        assert_eq!(signed_out.users(), USERS);
        assert!(signed_out.contains(&bob, now), "not yet: a bucket was free");
        signed_out.record(&session("newcomer", t0()), now);
        assert_eq!(signed_out.users(), USERS);
        assert!(!signed_out.contains(&bob, now));
        assert!(signed_out.contains(&alice, now) && signed_out.contains(&alice_again, now));
        assert!(signed_out.contains(&session("newcomer", t0()), now));

        // However many users and sessions, the bounds hold.
        for n in 0..2 * USERS {
            for k in 0..3 {
                let login = t0().plus(Duration::from_millis(k));
                signed_out.record(&session(&format!("v{}", n % (USERS + 7)), login), now);
            }
        }
        assert_eq!(signed_out.users(), USERS);
        assert!(signed_out.entries() <= USERS * PER_USER);
    }

    #[test]
    fn a_clock_that_steps_back_neither_loses_nor_breaks_a_bucket() {
        let signed_out = SignedOut::default();
        let alice = session("alice", t0());
        signed_out.record(&alice, t0().plus(60 * SECOND));
        signed_out.record(&alice, t0());
        assert_eq!(signed_out.entries(), 1);
        assert!(signed_out.contains(&alice, t0().plus(REMEMBERED_FOR)));
    }
}
