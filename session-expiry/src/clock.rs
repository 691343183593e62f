//! Where "now" comes from: the system clock in production, a settable one in tests.

use chrono::{DateTime, Utc};

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
        sync::{Arc, Mutex, MutexGuard},
        time::Duration,
    };

    use chrono::{DateTime, Utc};

    use super::Clock;

    /// A clock that only moves when told to, for testing timeouts without sleeping.
    ///
    /// Clones share one time: hand one clone to the middleware and keep another in the test.
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
        now: Arc<Mutex<DateTime<Utc>>>,
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
                now: Arc::new(Mutex::new(start)),
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
            let mut now = self.lock();
            *now = now
                .checked_add_signed(by)
                .expect("MockClock::advance: time out of range");
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
            *self.lock() = now;
        }

        fn lock(&self) -> MutexGuard<'_, DateTime<Utc>> {
            // A panic while holding the lock cannot leave a `DateTime` half-written.
            self.now
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
            *self.lock()
        }
    }
}
