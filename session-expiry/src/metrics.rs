//! Counters and a histogram through the `metrics` facade (feature `metrics`); without the
//! feature these functions are empty and compile to nothing. Names and labels are listed on
//! [`SessionEvent`].

use crate::SessionEvent;

/// Counts `event`, and the age of a session that ends.
pub(crate) fn event(event: &SessionEvent) {
    #[cfg(feature = "metrics")]
    match event {
        SessionEvent::LoggedIn { .. } => {
            metrics::counter!("session_expiry_logins_total").increment(1);
        }
        SessionEvent::LoggedOut { session_age, .. } => {
            metrics::counter!("session_expiry_logouts_total").increment(1);
            metrics::histogram!("session_expiry_session_duration_seconds", "reason" => "logout")
                .record(session_age.as_secs_f64());
        }
        SessionEvent::Expired(crate::ExpiryEvent {
            reason,
            session_age,
            ..
        }) => {
            let reason = reason.as_str();
            metrics::counter!("session_expiry_expired_total", "reason" => reason).increment(1);
            if let Some(age) = session_age {
                metrics::histogram!("session_expiry_session_duration_seconds", "reason" => reason)
                    .record(age.as_secs_f64());
            }
        }
        SessionEvent::StampLookupFailed { .. } => {
            metrics::counter!("session_expiry_stamp_lookup_errors_total").increment(1);
        }
        SessionEvent::Reaped {
            idle,
            absolute,
            revoked,
            evicted,
            anonymous,
            ..
        } => {
            for (reason, rows) in [
                ("idle", idle),
                ("absolute", absolute),
                ("revoked", revoked),
                ("evicted", evicted),
                ("anonymous", anonymous),
            ] {
                metrics::counter!("session_expiry_reaped_total", "reason" => reason)
                    .increment(u64::try_from(*rows).unwrap_or(u64::MAX));
            }
        }
        _ => {}
    }
    #[cfg(not(feature = "metrics"))]
    let _ = event;
}

/// Counts a write of last-seen.
pub(crate) fn refresh() {
    #[cfg(feature = "metrics")]
    metrics::counter!("session_expiry_refreshes_total").increment(1);
}

/// Counts a failure of the session store.
#[cfg_attr(not(any(feature = "redis", feature = "postgres")), allow(dead_code))]
pub(crate) fn store_error() {
    #[cfg(feature = "metrics")]
    metrics::counter!("session_expiry_store_errors_total").increment(1);
}
