//! [`SessionEnd`]: the future a long-lived connection selects on, and [`SessionActivity`], how
//! its messages count as activity.

use std::{
    future::Future,
    pin::Pin,
    sync::{atomic::Ordering, Arc},
    task::{Context, Poll},
    time::Duration,
};

use super::hub::{Activity, Hub, Probed, Watch};
use crate::{
    clock::ClockSleep, config::configuration::Configuration, state::ExpiryState, unix_ms::UnixMs,
    Clock, ExpiryReason, Policy, SystemClock,
};

/// What a [`SessionEnd`] is made of, taken from the request that opened the connection.
#[derive(Clone)]
pub(crate) struct Seed {
    pub(crate) config: Arc<Configuration>,
    /// The state as the request saw it (what a connection's activity writes back, seen moved).
    pub(crate) state: ExpiryState,
    pub(crate) policy: Policy,
    /// The registry id of the session, on a server-side store.
    pub(crate) id: Option<String>,
}

impl std::fmt::Debug for Seed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Seed")
            .field("login", &self.state.login)
            .field("seen", &self.state.seen)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

/// A future that completes, with the reason, when the session of the request that opened a
/// WebSocket or a server-sent-event stream ends: select on it next to the connection's
/// messages, then close (see the [`live`](crate::live) module).
///
/// It completes at the earliest of:
/// - the absolute deadline;
/// - the idle deadline, counted from the last activity (the request's, or a message's through
///   [`SessionActivity::touch`]);
/// - a revocation or eviction through the registry (its "sign out everyone",
///   `set_sessions_valid_from`, included), a credentials change
///   ([`Expiry::credentials_changed`](crate::Expiry::credentials_changed)) by another session
///   of the user, or a log-out of this same session (in another tab): at once within the
///   process, and from other instances through the server-side store's notifications;
///
/// with reason `absolute`, `idle`, `revoked`, `evicted`, `credentials_changed` or
/// `logged_out`. Nothing polls: one timer waits on the earliest deadline (on the middleware's
/// [`Clock`], so `MockClock` fires it when advanced), and one subscription per process
/// carries other instances' notices. While that subscription is lost, the timer also wakes at
/// each refresh window, so an end is missed for at most one window, never for the life of the
/// connection.
///
/// The deadlines are the session's own policy's (the user's, else the global one), not a
/// route's `#[idle_timeout]`. Requests of the same session (another tab) move the idle
/// deadline: at once on this instance; with a server-side store the store is also asked, once,
/// before a connection ends for inactivity. What this cannot see: on the cookie store, which
/// has no channel between instances, a log-out, a credentials change or a busy tab served by
/// *another* instance (the connection then ends at its own deadlines, early rather than late).
/// Dropping it stops the watch.
///
/// # Examples
/// ```
/// use std::time::Duration;
///
/// use actix_web::{get, web::Bytes, HttpResponse};
/// use session_expiry::{live, SignedIn};
///
/// /// A server-sent-event stream that ends with the session.
/// #[get("/events")]
/// async fn events(who: SignedIn) -> HttpResponse {
///     let ticks = futures_util::stream::unfold(0u32, |n| async move {
///         actix_web::rt::time::sleep(Duration::from_secs(1)).await;
///         Some((Ok::<_, actix_web::Error>(Bytes::from(format!("data: {n}\n\n"))), n + 1))
///     });
///     HttpResponse::Ok()
///         .content_type("text/event-stream")
///         .streaming(live::sse_until_end(ticks, who.ended()))
/// }
/// ```
#[must_use = "a SessionEnd does nothing unless awaited or polled"]
pub struct SessionEnd {
    watch: Arc<Watch>,
    hub: Arc<Hub>,
    clock: Arc<dyn Clock>,
    policy: Policy,
    login: UnixMs,
    /// The state as the request saw it, for [`SessionActivity`].
    state: ExpiryState,
    granularity: Duration,
    timer: Option<(UnixMs, ClockSleep)>,
    /// A look-up of the session in the store, while one runs.
    probing: Option<Pin<Box<dyn Future<Output = Probed> + Send>>>,
    /// The last-seen instant the store was last asked about before an idle end.
    idle_asked: Option<UnixMs>,
    /// While notices may be missed, when the store is next asked.
    window: Option<UnixMs>,
}

impl std::fmt::Debug for SessionEnd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionEnd")
            .field("policy", &self.policy)
            .field("ended", &self.watch.ended())
            .field("timer", &self.timer.as_ref().map(|(at, _)| at))
            .finish_non_exhaustive()
    }
}

impl SessionEnd {
    /// The WebSocket close code of a connection whose session ended: 4401, in the range RFC
    /// 6455 leaves to applications, after HTTP's 401. The browser script's
    /// `SessionExpiry.watch` knows it.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(session_expiry::SessionEnd::CLOSE_CODE, 4401);
    /// ```
    pub const CLOSE_CODE: u16 = 4401;

    pub(crate) fn new(seed: Seed) -> Self {
        let Seed {
            config,
            state,
            policy,
            id,
        } = seed;
        let (login, seen) = (state.login, state.seen);
        let hub = Arc::clone(&config.events.live);
        let watch = hub.watch(state.user.clone(), login.millis(), id, seen.millis());
        let clock = config
            .clock
            .clone()
            .unwrap_or_else(|| Arc::new(SystemClock));
        Self {
            watch,
            hub,
            clock,
            policy,
            login,
            state,
            granularity: config.granularity(&policy),
            timer: None,
            probing: None,
            idle_asked: None,
            window: None,
        }
    }

    /// The handle that counts the connection's messages as activity (opt-in: by default only
    /// HTTP requests do).
    ///
    /// # Examples
    /// ```
    /// # fn f(end: session_expiry::SessionEnd) {
    /// let activity = end.activity();
    /// // On each message the user sent (not on pings):
    /// activity.touch();
    /// # }
    /// ```
    pub fn activity(&self) -> SessionActivity {
        SessionActivity {
            watch: Arc::clone(&self.watch),
            hub: Arc::clone(&self.hub),
            clock: Arc::clone(&self.clock),
            granularity: self.granularity,
            policy: self.policy,
            login: self.login,
            state: Arc::new(self.state.clone()),
        }
    }

    /// Why the session ended, if it has (without waiting).
    ///
    /// # Examples
    /// ```
    /// # fn f(end: session_expiry::SessionEnd) {
    /// if let Some(reason) = end.reason() {
    ///     println!("ended: {reason}");
    /// }
    /// # }
    /// ```
    #[must_use]
    pub fn reason(&self) -> Option<ExpiryReason> {
        self.watch.ended()
    }

    fn now(&self) -> UnixMs {
        UnixMs::of(self.clock.now())
    }

    /// The last activity the connection knows of.
    fn seen(&self) -> UnixMs {
        UnixMs::new(self.watch.seen.load(Ordering::Relaxed)).unwrap_or(self.login)
    }
}

impl Future for SessionEnd {
    type Output = ExpiryReason;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<ExpiryReason> {
        let this = self.get_mut();
        this.watch.register(cx.waker());
        loop {
            if let Some(reason) = this.watch.ended() {
                this.timer = None;
                this.probing = None;
                return Poll::Ready(reason);
            }
            if this.probing.is_none() && this.watch.recheck.swap(false, Ordering::Relaxed) {
                this.probing = this.hub.probe().map(|probe| probe(&this.watch));
            }
            if let Some(probing) = &mut this.probing {
                if let Poll::Ready(probed) = probing.as_mut().poll(cx) {
                    this.probing = None;
                    if let Some(seen) = probed.seen {
                        this.watch.saw(seen);
                    }
                    if let Some(reason) = probed.ended {
                        // A key Redis dropped at a deadline the timer has not seen yet.
                        let reached = this.policy.reached(this.login, this.seen(), this.now());
                        this.watch.end(reached.unwrap_or(reason));
                        continue;
                    }
                }
            }
            let now = this.now();
            let seen = this.seen();
            match this.policy.reached(this.login, seen, now) {
                // Before ending for inactivity, the store is asked once: requests of the same
                // session (another tab) may have kept it alive.
                Some(ExpiryReason::Idle)
                    if this.hub.probe().is_some()
                        && (this.probing.is_some() || this.idle_asked != Some(seen)) =>
                {
                    if this.probing.is_none() {
                        this.idle_asked = Some(seen);
                        this.probing = this.hub.probe().map(|probe| probe(&this.watch));
                        continue;
                    }
                    // Its answer wakes this task.
                    return Poll::Pending;
                }
                Some(reason) => {
                    this.watch.end(reason);
                    continue;
                }
                None => {}
            }
            let mut next = this.policy.deadline(this.login, seen);
            if this.hub.deaf() {
                // Notices may be missed: the store is asked once per refresh window.
                let due = *this.window.get_or_insert(now.plus(this.granularity));
                if now >= due {
                    this.window = Some(now.plus(this.granularity));
                    this.watch.recheck.store(true, Ordering::Relaxed);
                    continue;
                }
                next = Some(next.map_or(due, |at| at.min(due)));
            } else {
                this.window = None;
            }
            let Some(next) = next else {
                // No deadline: only a notice ends it.
                this.timer = None;
                return Poll::Pending;
            };
            let timer = match &mut this.timer {
                Some((at, timer)) if *at == next => timer,
                slot => {
                    let timer = this.clock.sleep_until(next.to_datetime());
                    &mut slot.insert((next, timer)).1
                }
            };
            match timer.as_mut().poll(cx) {
                Poll::Pending => return Poll::Pending,
                // A deadline, or a refresh window while deaf: look again.
                Poll::Ready(()) => this.timer = None,
            }
        }
    }
}

impl Drop for SessionEnd {
    fn drop(&mut self) {
        self.hub.unwatch(&self.watch);
    }
}

/// Counts a long-lived connection's messages as activity: opt-in, at most once per refresh
/// window, and never past the absolute deadline (that only a new log-in moves).
///
/// A server-side store writes it as a request's refresh would, in one command of its own task
/// (Redis: one script; PostgreSQL: one `UPDATE`), never moving last-seen back. On the cookie store a connection cannot rewrite the cookie, so it cannot extend the idle
/// deadline there: [`touch`](Self::touch) says `false`, and the session ends at its idle
/// deadline unless the page makes requests. The browser script's keep-alive covers an open
/// page (`POST .../keepalive` on the user's activity).
///
/// # Examples
/// ```
/// # fn f(end: &session_expiry::SessionEnd) {
/// let activity = end.activity();
/// let counted: bool = activity.touch();
/// # }
/// ```
#[derive(Clone)]
pub struct SessionActivity {
    watch: Arc<Watch>,
    hub: Arc<Hub>,
    clock: Arc<dyn Clock>,
    granularity: Duration,
    policy: Policy,
    login: UnixMs,
    state: Arc<ExpiryState>,
}

impl std::fmt::Debug for SessionActivity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionActivity")
            .field("granularity", &self.granularity)
            .finish_non_exhaustive()
    }
}

impl SessionActivity {
    /// Records activity now, if the store can keep it and the last was a refresh window ago or
    /// more; whether it did. The idle deadline then counts from now (within the absolute one),
    /// for the connection and for the session's next requests alike.
    ///
    /// # Examples
    /// ```
    /// # fn f(activity: session_expiry::SessionActivity) {
    /// if !activity.touch() {
    ///     // Within the window of the last one, or the cookie store: nothing to write.
    /// }
    /// # }
    /// ```
    pub fn touch(&self) -> bool {
        let Some(keep) = self.hub.keeper() else {
            return false;
        };
        if self.watch.id().is_none() {
            // Renewed since the connection opened: the store's record of it is not known here.
            return false;
        }
        if self.watch.ended().is_some() {
            return false;
        }
        let now = UnixMs::of(self.clock.now());
        let seen = UnixMs::new(self.watch.seen.load(Ordering::Relaxed)).unwrap_or(self.login);
        if now <= seen || now.since(seen) < self.granularity {
            return false;
        }
        if self.policy.reached(self.login, seen, now).is_some() {
            return false;
        }
        self.watch.seen.store(now.millis(), Ordering::Relaxed);
        let state = ExpiryState {
            seen: now,
            ..ExpiryState::clone(&self.state)
        };
        keep(Activity {
            user: self.watch.user.clone(),
            id: self.watch.id(),
            // A string always serializes.
            entry: serde_json::to_string(&state.encode(&self.policy)).unwrap_or_default(),
        });
        // The waiter moves its timer to the new idle deadline.
        self.watch.wake();
        true
    }
}

#[cfg(test)]
mod tests {
    use std::{
        mem::size_of,
        sync::{atomic::AtomicUsize, Mutex},
    };

    use super::*;
    use crate::{config::configuration::default_configuration, live::hub::Probed, MockClock};

    const WINDOW: Duration = Duration::from_secs(60);

    /// A connection of alice's on a hub whose store broadcasts and answers look-ups with
    /// `answer`; how many look-ups ran.
    fn connection(
        clock: &MockClock,
        answer: &Arc<Mutex<Probed>>,
    ) -> (SessionEnd, Arc<Hub>, Arc<AtomicUsize>) {
        let mut config = default_configuration();
        config.clock = Some(Arc::new(clock.clone()));
        let config = Arc::new(config);
        let hub = Arc::clone(&config.events.live);
        hub.broadcast_with(Arc::new(|_| Box::pin(async {})));
        let asked = Arc::new(AtomicUsize::new(0));
        let (counter, answer) = (Arc::clone(&asked), Arc::clone(answer));
        hub.probe_with(Arc::new(move |_: &Watch| {
            counter.fetch_add(1, Ordering::SeqCst);
            let probed = *answer
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            Box::pin(async move { probed })
        }));
        let state = ExpiryState::new("alice".into(), UnixMs::of(clock.now()), None);
        // 30 minutes idle: a refresh window of a minute.
        let policy = config.effective_policy(None);
        let seed = Seed {
            config,
            state,
            policy,
            id: Some("0123456789abcdef0123456789abcdef".into()),
        };
        (SessionEnd::new(seed), hub, asked)
    }

    async fn settle() {
        for _ in 0..20 {
            tokio::task::yield_now().await;
        }
    }

    #[actix_web::test]
    async fn while_deaf_it_asks_the_store_each_refresh_window_and_once_when_the_subscription_is_back(
    ) {
        let clock = MockClock::new();
        let answer = Arc::new(Mutex::new(Probed::default()));
        let (end, hub, asked) = connection(&clock, &answer);
        let task = actix_web::rt::spawn(end);
        settle().await;
        // Not subscribed yet: deaf.
        assert_eq!(asked.load(Ordering::SeqCst), 0);
        assert!(hub.deaf());
        assert_eq!(clock.pending_timers(), 1);
        clock.advance(WINDOW);
        settle().await;
        assert_eq!(asked.load(Ordering::SeqCst), 1);
        clock.advance(WINDOW);
        settle().await;
        assert_eq!(asked.load(Ordering::SeqCst), 2);

        hub.set_listening(true);
        settle().await;
        assert_eq!(asked.load(Ordering::SeqCst), 3, "once when it is back");
        clock.advance(5 * WINDOW);
        settle().await;
        assert_eq!(
            asked.load(Ordering::SeqCst),
            3,
            "listening: no look-up per window"
        );
        assert_eq!(clock.pending_timers(), 1, "one timer, on the idle deadline");

        // Lost again, and meanwhile revoked: the next window finds it.
        *answer.lock().unwrap() = Probed {
            ended: Some(ExpiryReason::Revoked),
            seen: None,
        };
        hub.set_listening(false);
        settle().await;
        clock.advance(WINDOW);
        assert_eq!(task.await.ok(), Some(ExpiryReason::Revoked));
        assert_eq!(hub.watched(), 0, "the watch went with the connection");
    }

    #[actix_web::test]
    async fn at_the_idle_deadline_it_asks_the_store_and_lives_on_if_the_session_was_seen_since() {
        let clock = MockClock::new();
        let answer = Arc::new(Mutex::new(Probed::default()));
        let (end, hub, asked) = connection(&clock, &answer);
        hub.set_listening(true);
        let task = actix_web::rt::spawn(end);
        settle().await;
        let asked_before = asked.load(Ordering::SeqCst);
        let idle = Duration::from_secs(30 * 60);
        // Another instance's request ten minutes in.
        let seen = UnixMs::of(clock.now()).plus(Duration::from_secs(600));
        *answer.lock().unwrap() = Probed {
            ended: None,
            seen: Some(seen.millis()),
        };
        clock.advance(idle);
        settle().await;
        assert_eq!(asked.load(Ordering::SeqCst), asked_before + 1);
        assert!(!task.is_finished(), "seen since: the deadline moved");
        clock.advance(Duration::from_secs(600));
        assert_eq!(task.await.ok(), Some(ExpiryReason::Idle));
        assert_eq!(asked.load(Ordering::SeqCst), asked_before + 2);
    }

    /// What one watched connection holds beyond the connection itself: the future, its
    /// `Watch` (shared with the hub, whose list holds one pointer more) and its timer.
    #[test]
    fn a_watched_connection_costs_about_half_a_kilobyte() {
        let future = size_of::<SessionEnd>();
        let watch = size_of::<Watch>() + 2 * size_of::<usize>(); // the Arc's counts
        let timer = size_of::<tokio::time::Sleep>();
        let hub_entry = size_of::<Arc<Watch>>();
        let total = future + watch + timer + hub_entry;
        eprintln!(
            "SessionEnd {future} B, Watch {watch} B, timer {timer} B, hub {hub_entry} B: {total} B"
        );
        assert!(total < 768, "{total} bytes");
    }
}
