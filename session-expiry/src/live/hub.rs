//! [`Hub`]: the sessions this process watches for long-lived connections, by user, and how a
//! [`Notice`] reaches them: at once within the process, through the store's broadcast to the
//! other instances.

use std::{
    collections::HashMap,
    future::Future,
    pin::Pin,
    sync::{
        atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering},
        Arc, Mutex, MutexGuard, OnceLock,
    },
    task::Waker,
};

use super::notice::{Notice, Target};
use crate::ExpiryReason;

/// Sends a notice's text to the other instances (Redis `PUBLISH`, PostgreSQL `NOTIFY`).
pub(crate) type Broadcast =
    Arc<dyn Fn(String) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// Writes a watched session's activity (a connection's message) to the store, on its own.
pub(crate) type Keeper = Arc<dyn Fn(Activity) + Send + Sync>;

/// A connection's activity for the store to keep.
#[derive(Debug)]
#[cfg_attr(not(any(feature = "redis", feature = "postgres")), allow(dead_code))]
pub(crate) struct Activity {
    /// Whose session (the Redis store's keys are named by user).
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) user: String,
    /// The session's registry id (without one there is nothing to write).
    pub(crate) id: Option<String>,
    /// The session's state entry with last-seen moved to now, as the store holds entries.
    pub(crate) entry: String,
}

/// Looks a watched session up in the store: when notices may have been missed, and before it
/// ends for inactivity (other tabs' requests may have kept it alive).
pub(crate) type Probe =
    Arc<dyn Fn(&Watch) -> Pin<Box<dyn Future<Output = Probed> + Send>> + Send + Sync>;

/// What the store said of a watched session; nothing when it cannot say (unreachable).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Probed {
    /// Why it ended, if it has.
    pub(crate) ended: Option<ExpiryReason>,
    /// Its last activity as the store holds it (Unix ms).
    pub(crate) seen: Option<u64>,
}

/// One watched session: what names it, and how far it got.
#[derive(Debug)]
pub(crate) struct Watch {
    pub(crate) user: String,
    /// When it signed in (Unix ms).
    pub(crate) login: u64,
    /// Its registry id, on a server-side store; forgotten when its session ID is renewed (a
    /// credentials change), as the new one is not known here.
    id: Mutex<Option<String>>,
    /// Its last activity (Unix ms), as the socket knows it.
    pub(crate) seen: AtomicU64,
    ended: OnceLock<ExpiryReason>,
    waker: Mutex<Option<Waker>>,
    /// Whether to look it up in the store (an eviction, a subscription lost or regained).
    pub(crate) recheck: AtomicBool,
}

impl Watch {
    /// Its registry id, if it has one still.
    pub(crate) fn id(&self) -> Option<String> {
        lock(&self.id).clone()
    }

    /// Why the session ended, once it has.
    pub(crate) fn ended(&self) -> Option<ExpiryReason> {
        self.ended.get().copied()
    }

    /// Ends the session for `reason` (the first reason stands) and wakes its waiter.
    pub(crate) fn end(&self, reason: ExpiryReason) {
        if self.ended.set(reason).is_ok() {
            self.wake();
        }
    }

    /// Wakes the waiter, to look at its deadlines again.
    pub(crate) fn wake(&self) {
        if let Some(waker) = lock(&self.waker).take() {
            waker.wake();
        }
    }

    /// Records activity at `seen` (Unix ms) that the connection did not see (a request of
    /// the same session); whether it is later than what it knew.
    pub(crate) fn saw(&self, seen: u64) -> bool {
        let later = self.seen.fetch_max(seen, Ordering::Relaxed) < seen;
        if later {
            self.wake();
        }
        later
    }

    /// Who to wake when something happens.
    pub(crate) fn register(&self, waker: &Waker) {
        let mut slot = lock(&self.waker);
        match &*slot {
            Some(known) if known.will_wake(waker) => {}
            _ => *slot = Some(waker.clone()),
        }
    }
}

/// The sessions this process watches; shared by every worker (one per middleware, in its
/// [`Events`](crate::events::Events), which every store built for it shares too).
#[derive(Default)]
pub(crate) struct Hub {
    watched: Mutex<HashMap<String, Vec<Arc<Watch>>>>,
    /// How many sessions are watched, read without the lock (most requests find none).
    count: AtomicUsize,
    /// Set by a server-side store built for the middleware.
    broadcast: OnceLock<Broadcast>,
    /// Whether the store's subscription to other instances' notices is up.
    listening: AtomicBool,
    /// Set by a server-side store that can keep a connection's activity.
    keeper: OnceLock<Keeper>,
    /// Set by a server-side store that can look a session up.
    probe: OnceLock<Probe>,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub")
            .field("watched", &self.watched())
            .field("broadcasts", &self.broadcast.get().is_some())
            .field("listening", &self.listening.load(Ordering::Relaxed))
            .finish()
    }
}

impl Hub {
    /// Starts watching the session of `user` signed in at `login`, last seen at `seen`.
    pub(crate) fn watch(
        &self,
        user: String,
        login: u64,
        id: Option<String>,
        seen: u64,
    ) -> Arc<Watch> {
        let watch = Arc::new(Watch {
            user: user.clone(),
            login,
            id: Mutex::new(id),
            seen: AtomicU64::new(seen),
            ended: OnceLock::new(),
            waker: Mutex::new(None),
            recheck: AtomicBool::new(false),
        });
        lock(&self.watched)
            .entry(user)
            .or_default()
            .push(Arc::clone(&watch));
        self.count.fetch_add(1, Ordering::Relaxed);
        watch
    }

    /// The session of `user` signed in at `login` was renewed (a new session ID, a new
    /// registry id this process does not learn): its connections forget the old id, so that
    /// they are not taken for ended when it is looked up.
    pub(crate) fn renewed(&self, user: &str, login: u64) {
        if self.count.load(Ordering::Relaxed) == 0 {
            return;
        }
        if let Some(sessions) = lock(&self.watched).get(user) {
            for watch in sessions.iter().filter(|watch| watch.login == login) {
                *lock(&watch.id) = None;
            }
        }
    }

    /// A request of the session of `user` signed in at `login` recorded activity at `seen`
    /// (Unix ms): its connections' idle deadlines move (this process only).
    pub(crate) fn saw(&self, user: &str, login: u64, seen: u64) {
        if self.count.load(Ordering::Relaxed) == 0 {
            return;
        }
        if let Some(sessions) = lock(&self.watched).get(user) {
            for watch in sessions.iter().filter(|watch| watch.login == login) {
                watch.saw(seen);
            }
        }
    }

    /// Stops watching `watch` (its connection is gone).
    pub(crate) fn unwatch(&self, watch: &Arc<Watch>) {
        let mut watched = lock(&self.watched);
        if let Some(sessions) = watched.get_mut(&watch.user) {
            let before = sessions.len();
            sessions.retain(|other| !Arc::ptr_eq(other, watch));
            self.count
                .fetch_sub(before - sessions.len(), Ordering::Relaxed);
            if sessions.is_empty() {
                watched.remove(&watch.user);
            }
        }
    }

    /// How many sessions are watched.
    pub(crate) fn watched(&self) -> usize {
        lock(&self.watched).values().map(Vec::len).sum()
    }

    /// Ends the watched sessions `notice` names, in this process only (a notice from another
    /// instance, or one no other instance needs).
    pub(crate) fn deliver(&self, notice: &Notice) {
        if notice.target == Target::Check {
            if self.probe.get().is_some() {
                self.recheck(lock(&self.watched).get(&notice.user).into_iter().flatten());
            }
            return;
        }
        if let Target::Before(_) = notice.target {
            let watched = lock(&self.watched);
            let ending = watched.values().flatten();
            let ending: Vec<Arc<Watch>> = ending
                .filter(|watch| notice.ends(watch.login, watch.id().as_deref()))
                .cloned()
                .collect();
            drop(watched);
            for watch in ending {
                watch.end(notice.reason);
            }
            return;
        }
        let ending: Vec<Arc<Watch>> = match lock(&self.watched).get(&notice.user) {
            Some(sessions) => sessions
                .iter()
                .filter(|watch| notice.ends(watch.login, watch.id().as_deref()))
                .cloned()
                .collect(),
            None => return,
        };
        for watch in ending {
            watch.end(notice.reason);
        }
    }

    /// Ends the sessions `notice` names here at once, and on the other instances through the
    /// store's broadcast, if there is one (awaited: one store command).
    pub(crate) async fn end(&self, notice: Notice) {
        self.deliver(&notice);
        if let Some(broadcast) = self.broadcast.get() {
            broadcast(notice.encode()).await;
        }
    }

    /// [`end`](Self::end) from code that cannot wait: the broadcast, if any, runs as a task of
    /// its own (there is one only with a server-side store, which runs on Tokio).
    pub(crate) fn end_now(&self, notice: Notice) {
        self.deliver(&notice);
        #[cfg(any(feature = "redis", feature = "postgres"))]
        if let Some(broadcast) = self.broadcast.get() {
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                runtime.spawn(broadcast(notice.encode()));
            }
        }
    }

    /// Whether a server-side store is wired to this hub (then sessions have registry ids).
    pub(crate) fn has_store(&self) -> bool {
        self.broadcast.get().is_some()
    }

    /// Lets a server-side store tell other instances (the first store built for the
    /// middleware does).
    #[cfg_attr(not(any(feature = "redis", feature = "postgres")), allow(dead_code))]
    pub(crate) fn broadcast_with(&self, broadcast: Broadcast) {
        let _set_once = self.broadcast.set(broadcast);
    }

    /// Lets a server-side store keep connections' activity.
    #[cfg_attr(not(any(feature = "redis", feature = "postgres")), allow(dead_code))]
    pub(crate) fn keep_activity_with(&self, keeper: Keeper) {
        let _set_once = self.keeper.set(keeper);
    }

    /// What keeps a connection's activity, if the store can.
    pub(crate) fn keeper(&self) -> Option<&Keeper> {
        self.keeper.get()
    }

    /// Lets a server-side store look sessions up when notices may have been missed.
    #[cfg_attr(not(any(feature = "redis", feature = "postgres")), allow(dead_code))]
    pub(crate) fn probe_with(&self, probe: Probe) {
        let _set_once = self.probe.set(probe);
    }

    /// What looks a session up in the store, if the store can.
    pub(crate) fn probe(&self) -> Option<&Probe> {
        self.probe.get()
    }

    /// Records whether other instances' notices arrive now.
    #[cfg_attr(not(any(feature = "redis", feature = "postgres")), allow(dead_code))]
    pub(crate) fn set_listening(&self, listening: bool) {
        let was = self.listening.swap(listening, Ordering::Relaxed);
        let watched = lock(&self.watched);
        if listening && !was {
            // Back (or up for the first time): what was published meanwhile is lost, so every
            // watched session is looked up once.
            self.recheck(watched.values().flatten());
        } else if !listening {
            // Watchers re-arm their timers to look again at each refresh window.
            for watch in watched.values().flatten() {
                watch.wake();
            }
        }
    }

    /// Has `watches` looked up in the store once.
    fn recheck<'a>(&self, watches: impl Iterator<Item = &'a Arc<Watch>>) {
        if self.probe.get().is_none() {
            return;
        }
        for watch in watches {
            watch.recheck.store(true, Ordering::Relaxed);
            watch.wake();
        }
    }

    /// Whether notices of other instances may be missed now: a store broadcasts them, but its
    /// subscription is down. Watchers then look again at each refresh window.
    pub(crate) fn deaf(&self) -> bool {
        self.broadcast.get().is_some() && !self.listening.load(Ordering::Relaxed)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every critical section here leaves its data whole: a panic elsewhere cannot tear it.
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::notice::Which;

    #[test]
    fn a_notice_ends_the_sessions_it_names_and_no_other() {
        let hub = Hub::default();
        let first = hub.watch("alice".into(), 1, None, 1);
        let second = hub.watch("alice".into(), 2, None, 2);
        let bob = hub.watch("bob".into(), 1, None, 1);
        hub.deliver(&Notice {
            user: "alice".into(),
            reason: ExpiryReason::CredentialsChanged,
            target: Target::Others(Which::Login(2)),
        });
        assert_eq!(first.ended(), Some(ExpiryReason::CredentialsChanged));
        assert_eq!(second.ended(), None);
        assert_eq!(bob.ended(), None);
        assert_eq!(hub.watched(), 3);
        hub.unwatch(&first);
        hub.unwatch(&second);
        assert_eq!(hub.watched(), 1);
    }
}
