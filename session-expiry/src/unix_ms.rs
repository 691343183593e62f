//! [`UnixMs`]: an instant as sessions store it, Unix milliseconds.
//!
//! Every request compares a few instants; chrono's calendar types cost more to build and
//! subtract than the integers they come from, so the hot path works on these and converts to
//! `DateTime` only at the API.

use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};

/// An instant, in milliseconds since the Unix epoch; always within chrono's range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct UnixMs(u64);

impl UnixMs {
    /// The latest instant chrono can represent (in the year 262142).
    const MAX: u64 = 8_210_266_876_799_999;

    /// `ms` milliseconds after the epoch, `None` beyond chrono's range.
    pub(crate) const fn new(ms: u64) -> Option<Self> {
        if ms <= Self::MAX {
            Some(Self(ms))
        } else {
            None
        }
    }

    /// The instant `at`; instants before the epoch (never produced by a sane clock) are the
    /// epoch.
    pub(crate) fn of(at: DateTime<Utc>) -> Self {
        Self(u64::try_from(at.timestamp_millis()).unwrap_or(0))
    }

    /// Now, by the operating system's clock (what [`SystemClock`](crate::SystemClock) says),
    /// without building a calendar date.
    pub(crate) fn system_now() -> Self {
        let ms = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |since| {
                u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
            });
        Self(ms.min(Self::MAX))
    }

    /// Milliseconds since the epoch.
    pub(crate) const fn millis(self) -> u64 {
        self.0
    }

    pub(crate) fn to_datetime(self) -> DateTime<Utc> {
        i64::try_from(self.0)
            .ok()
            .and_then(DateTime::from_timestamp_millis)
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }

    /// `by` later, at most the latest instant.
    pub(crate) fn plus(self, by: Duration) -> Self {
        let by = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
        Self(self.0.saturating_add(by).min(Self::MAX))
    }

    /// The time from `earlier` to this instant, zero if this one is not later.
    pub(crate) fn since(self, earlier: Self) -> Duration {
        Duration::from_millis(self.0.saturating_sub(earlier.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_convert_and_subtract() {
        let at = DateTime::from_timestamp_millis(1_735_689_600_123).unwrap();
        let ms = UnixMs::of(at);
        assert_eq!(ms.millis(), 1_735_689_600_123);
        assert_eq!(ms.to_datetime(), at);
        assert_eq!(
            ms.plus(Duration::from_secs(1)).since(ms),
            Duration::from_secs(1)
        );
        assert_eq!(ms.since(ms.plus(Duration::from_secs(1))), Duration::ZERO);
        let max = DateTime::<Utc>::MAX_UTC.timestamp_millis();
        assert_eq!(u64::try_from(max).unwrap(), UnixMs::MAX);
        assert_eq!(
            UnixMs::new(UnixMs::MAX)
                .unwrap()
                .to_datetime()
                .timestamp_millis(),
            max
        );
        assert_eq!(UnixMs::new(UnixMs::MAX + 1), None);
        assert_eq!(ms.plus(Duration::MAX).millis(), UnixMs::MAX);
    }

    #[test]
    fn the_system_clock_read_directly_says_what_chrono_says() {
        use crate::Clock as _;

        let before = UnixMs::of(crate::SystemClock.now());
        let now = UnixMs::system_now();
        let after = UnixMs::of(crate::SystemClock.now());
        assert!(
            before <= now && now <= after,
            "{before:?} {now:?} {after:?}"
        );
    }
}
