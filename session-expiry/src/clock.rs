//! Where "now" comes from: the system clock in production, a settable one in tests; and
//! timers on that clock ([`Clock::sleep_until`]), which `MockClock` fires when it is moved.

use std::{future::Future, pin::Pin};

use chrono::{DateTime, Utc};

/// A timer of a [`Clock`]: completes once the clock reads its deadline or later (see
/// [`Clock::sleep_until`]).
pub type ClockSleep = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// A source of the current time.
///
/// The middleware reads every instant through its clock, so tests can move time with
/// `MockClock` (feature `test-util`) instead of sleeping.
///
/// # Examples
/// ```
/// use chrono::{DateTime, Utc};
/// use session_expiry::Clock;
///
/// /// A clock stuck at the Unix epoch.
/// struct Epoch;
///
/// impl Clock for Epoch {
///     fn now(&self) -> DateTime<Utc> {
///         DateTime::UNIX_EPOCH
///     }
/// }
///
/// assert_eq!(Epoch.now().timestamp(), 0);
/// ```
pub trait Clock: Send + Sync + 'static {
    /// The current wall-clock time.
    fn now(&self) -> DateTime<Utc>;

    /// A timer that completes once this clock reads `deadline`, or later: what a
    /// [`SessionEnd`](crate::SessionEnd) waits on for a session's next deadline.
    ///
    /// Defaults to a Tokio timer on the distance from [`now`](Self::now) to `deadline`
    /// (needs a Tokio runtime, as every actix-web server has). The waiter reads the clock again
    /// when it fires, and waits again if the clock says it is early, so a wall clock that jumps
    /// costs a second timer, never a late end. `MockClock` overrides it: its timers fire when
    /// it is advanced, without sleeping.
    ///
    /// # Examples
    /// ```
    /// use chrono::{DateTime, Utc};
    /// use session_expiry::{Clock, SystemClock};
    ///
    /// # #[actix_web::main] async fn main() {
    /// let now = SystemClock.now();
    /// // A deadline already passed completes at once.
    /// SystemClock.sleep_until(now - chrono::Duration::seconds(1)).await;
    /// # }
    /// ```
    fn sleep_until(&self, deadline: DateTime<Utc>) -> ClockSleep {
        let left = (deadline - self.now()).to_std().unwrap_or_default();
        Box::pin(tokio::time::sleep(left))
    }
}

/// The operating system's wall clock; the default.
///
/// # Examples
/// ```
/// use session_expiry::{Clock, SystemClock};
/// assert!(SystemClock.now().timestamp() > 0);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

#[cfg(any(test, feature = "test-util"))]
pub use self::mock::MockClock;

#[cfg(any(test, feature = "test-util"))]
mod mock {
    use std::{
        future::Future,
        pin::Pin,
        sync::{Arc, Mutex, MutexGuard},
        task::{Context, Poll, Waker},
        time::Duration,
    };

    use chrono::{DateTime, Utc};

    use super::{Clock, ClockSleep};

    /// A clock that only moves when told to, for testing timeouts without sleeping.
    ///
    /// Clones share one time: hand one clone to the middleware and keep another in the test.
    /// Its timers ([`Clock::sleep_until`]) fire when [`advance`](Self::advance) or
    /// [`set`](Self::set) moves it to their deadline, never on their own.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use session_expiry::{Clock, MockClock};
    ///
    /// let clock = MockClock::new();
    /// let middleware_side = clock.clone();
    /// let before = middleware_side.now();
    /// clock.advance(Duration::from_secs(30 * 60));
    /// assert_eq!((middleware_side.now() - before).num_minutes(), 30);
    /// ```
    #[cfg_attr(docsrs, doc(cfg(feature = "test-util")))]
    #[derive(Debug, Clone)]
    pub struct MockClock {
        inner: Arc<Mutex<Inner>>,
    }

    /// The time and the timers waiting on it.
    #[derive(Debug)]
    struct Inner {
        now: DateTime<Utc>,
        /// Pending timers: their deadline and who to wake.
        timers: Vec<(DateTime<Utc>, Waker)>,
    }

    /// A [`MockClock`] timer.
    struct MockSleep {
        clock: MockClock,
        deadline: DateTime<Utc>,
    }

    impl Future for MockSleep {
        type Output = ();

        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            let mut inner = self.clock.lock();
            if inner.now >= self.deadline {
                return Poll::Ready(());
            }
            // One entry per waiting task: a task polled again replaces its own.
            let waker = cx.waker();
            inner.timers.retain(|(_, w)| !w.will_wake(waker));
            inner.timers.push((self.deadline, waker.clone()));
            Poll::Pending
        }
    }

    impl MockClock {
        /// A clock standing at 2025-01-01T00:00:00Z.
        ///
        /// # Examples
        /// ```
        /// use session_expiry::{Clock, MockClock};
        /// assert_eq!(MockClock::new().now().to_rfc3339(), "2025-01-01T00:00:00+00:00");
        /// ```
        #[must_use]
        pub fn new() -> Self {
            // 2025-01-01T00:00:00Z; a fixed start keeps test output reproducible.
            Self::starting_at(
                DateTime::from_timestamp(1_735_689_600, 0).unwrap_or(DateTime::UNIX_EPOCH),
            )
        }

        /// A clock standing at `start`.
        ///
        /// # Examples
        /// ```
        /// use chrono::DateTime;
        /// use session_expiry::{Clock, MockClock};
        /// let clock = MockClock::starting_at(DateTime::UNIX_EPOCH);
        /// assert_eq!(clock.now().timestamp(), 0);
        /// ```
        #[must_use]
        pub fn starting_at(start: DateTime<Utc>) -> Self {
            Self {
                inner: Arc::new(Mutex::new(Inner {
                    now: start,
                    timers: Vec::new(),
                })),
            }
        }

        /// Moves the clock forward by `by`.
        ///
        /// # Panics
        /// If the new time is out of chrono's range (hundreds of thousands of years away).
        ///
        /// # Examples
        /// ```
        /// use std::time::Duration;
        /// use session_expiry::{Clock, MockClock};
        /// let clock = MockClock::new();
        /// let start = clock.now();
        /// clock.advance(Duration::from_millis(1500));
        /// assert_eq!((clock.now() - start).num_milliseconds(), 1500);
        /// ```
        pub fn advance(&self, by: Duration) {
            let by =
                chrono::Duration::from_std(by).expect("MockClock::advance: duration too large");
            let mut inner = self.lock();
            inner.now = inner
                .now
                .checked_add_signed(by)
                .expect("MockClock::advance: time out of range");
            Self::fire(inner);
        }

        /// Sets the clock to `now`; it may move backwards.
        ///
        /// # Examples
        /// ```
        /// use chrono::DateTime;
        /// use session_expiry::{Clock, MockClock};
        /// let clock = MockClock::new();
        /// clock.set(DateTime::UNIX_EPOCH);
        /// assert_eq!(clock.now(), DateTime::UNIX_EPOCH);
        /// ```
        pub fn set(&self, now: DateTime<Utc>) {
            let mut inner = self.lock();
            inner.now = now;
            Self::fire(inner);
        }

        /// How many timers wait on this clock (tasks waiting for a deadline not reached yet).
        ///
        /// # Examples
        /// ```
        /// use session_expiry::MockClock;
        /// assert_eq!(MockClock::new().pending_timers(), 0);
        /// ```
        #[must_use]
        pub fn pending_timers(&self) -> usize {
            self.lock().timers.len()
        }

        /// Wakes the timers whose deadline has come, after the lock is released.
        fn fire(mut inner: MutexGuard<'_, Inner>) {
            let now = inner.now;
            let mut due = Vec::new();
            inner.timers.retain(|(deadline, waker)| {
                let fired = *deadline <= now;
                if fired {
                    due.push(waker.clone());
                }
                !fired
            });
            drop(inner);
            for waker in due {
                waker.wake();
            }
        }

        fn lock(&self) -> MutexGuard<'_, Inner> {
            // A panic while holding the lock cannot leave the time half-written; a timer list
            // at worst holds a waker too many, which wakes a task that then waits again.
            self.inner
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
        }
    }

    impl Default for MockClock {
        fn default() -> Self {
            Self::new()
        }
    }

    impl Clock for MockClock {
        fn now(&self) -> DateTime<Utc> {
            self.lock().now
        }

        fn sleep_until(&self, deadline: DateTime<Utc>) -> ClockSleep {
            Box::pin(MockSleep {
                clock: self.clone(),
                deadline,
            })
        }
    }

    #[cfg(test)]
    mod tests {
        use std::time::Duration;

        use super::{Clock, MockClock};

        #[actix_web::test]
        async fn a_timer_fires_when_the_clock_reaches_its_deadline() {
            let clock = MockClock::new();
            let deadline = clock.now() + chrono::Duration::seconds(60);
            let waiter = tokio::spawn(clock.sleep_until(deadline));
            tokio::task::yield_now().await;
            clock.advance(Duration::from_secs(59));
            tokio::task::yield_now().await;
            assert!(!waiter.is_finished());
            assert_eq!(clock.pending_timers(), 1);
            clock.advance(Duration::from_secs(1));
            assert!(waiter.await.is_ok());
            assert_eq!(clock.pending_timers(), 0);
        }
    }
}
