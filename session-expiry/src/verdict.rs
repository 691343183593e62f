//! The verdict on a request's stored state: live, ended and why, unavailable, or anonymous. Pure:
//! it reads the state and the store's marker, changes nothing, and is the one place that
//! decides when a session ends.

use std::time::Duration;

use crate::{
    config::configuration::Configuration,
    context::{EndedSession, Snapshot},
    state::{policy_from_millis, ExpiryState, PolicyMillis, LEGACY_STATE_KEY},
    store::{
        reserved::ENDING_KEY,
        session_api::{self, Session, SessionState},
        StoreMarker,
    },
    unix_ms::UnixMs,
    ExpiryReason, STATE_KEY,
};

/// What the stored state says about a request, before anything is done about it.
pub(crate) enum Verdict {
    Anonymous,
    /// A live session; `true` when its state is under the key of earlier releases, to move.
    Live(Snapshot, bool),
    Expired(Option<EndedSession>, ExpiryReason),
    /// The store could not be reached: the session cannot be checked.
    Unavailable(Duration),
}

pub(crate) fn judge(session: &Session, config: &Configuration, now: UnixMs) -> Verdict {
    // Read in place: the raw state is only borrowed, never copied, on this per-request path.
    let entries = session_api::entries(session);
    let key = &*config.state_key;
    let decode = |raw: &str| ExpiryState::decode(raw, now, config.clock_skew_tolerance);
    // A store's marker never comes with the state under its key: a session that has it (every
    // live one) is judged without looking for one.
    let (raw, legacy) = match session_api::json_text(&entries, key) {
        Some(raw) => (raw, false),
        None => {
            if let Some(marker) = StoreMarker::read(&entries) {
                return marked(marker, &entries, config, now);
            }
            // Earlier releases kept the state under a longer key: read it there too, and move
            // it.
            match session_api::json_text(&entries, LEGACY_STATE_KEY).filter(|_| key == STATE_KEY) {
                Some(raw) => (raw, true),
                None => return Verdict::Anonymous,
            }
        }
    };
    match decode(raw) {
        Err(problem) => {
            tracing::debug!(target: "session_expiry", %problem, "refusing session state");
            Verdict::Expired(None, ExpiryReason::Invalid)
        }
        Ok(state) => {
            let snapshot = Snapshot::new(state, config);
            let state = &snapshot.state;
            match snapshot.policy.reached(state.login, state.seen, now) {
                Some(reason) => Verdict::Expired(Some(EndedSession::from(state)), reason),
                None => Verdict::Live(snapshot, legacy),
            }
        }
    }
}

/// What a store's marker says of the request's session.
fn marked(
    marker: StoreMarker,
    entries: &SessionState,
    config: &Configuration,
    now: UnixMs,
) -> Verdict {
    let ending = || {
        session_api::json_text(entries, ENDING_KEY)
            .and_then(|raw| ExpiryState::decode(raw, now, config.clock_skew_tolerance).ok())
            .map(|state| EndedSession::from(&state))
    };
    match marker {
        StoreMarker::Unavailable { retry_after } => Verdict::Unavailable(retry_after),
        StoreMarker::Revoked => Verdict::Expired(ending(), ExpiryReason::Revoked),
        StoreMarker::Evicted => Verdict::Expired(ending(), ExpiryReason::Evicted),
        StoreMarker::Ended {
            login_ms,
            user,
            policy,
        } => {
            let Some(login) = UnixMs::new(login_ms) else {
                return Verdict::Expired(None, ExpiryReason::Invalid);
            };
            let reason = dropped_reason(config, policy, login, now);
            // A store that keeps the ended session's state (PostgreSQL) tells its last activity.
            let seen = ending()
                .filter(|state| state.user == user && state.login == login)
                .and_then(|state| state.seen);
            let ended = EndedSession { user, login, seen };
            Verdict::Expired(Some(ended), reason)
        }
        StoreMarker::Unknown => Verdict::Expired(None, ExpiryReason::Invalid),
    }
}

/// Why a session the store dropped at its deadline ended, as the state would have said now: one
/// of its deadlines has passed, so `absolute` if the absolute limit of the policy that applies to
/// it (the user's snapshot, else the global one, capped by `max_policy`) has, else `idle`.
fn dropped_reason(
    config: &Configuration,
    snapshot: Option<PolicyMillis>,
    login: UnixMs,
    now: UnixMs,
) -> ExpiryReason {
    let policy = config.effective_policy(snapshot.map(policy_from_millis));
    if policy
        .absolute()
        .is_some_and(|limit| now.since(login) >= limit)
    {
        ExpiryReason::Absolute
    } else {
        ExpiryReason::Idle
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Policy;
    use crate::SessionExpiry;

    const HOUR: Duration = Duration::from_secs(3600);

    fn at(hours: u32) -> UnixMs {
        UnixMs::new(0).unwrap().plus(hours * HOUR)
    }

    #[test]
    fn a_dropped_session_is_named_by_the_policy_that_applies_to_it_now() {
        let global = SessionExpiry::builder()
            .idle_timeout(HOUR)
            .absolute_timeout(8 * HOUR)
            .build();
        let config = global.configuration();
        let (login, ms) = (at(0), |d: Duration| {
            Some(u64::try_from(d.as_millis()).unwrap())
        });
        assert_eq!(
            dropped_reason(config, None, login, at(2)),
            ExpiryReason::Idle
        );
        assert_eq!(
            dropped_reason(config, None, login, at(8)),
            ExpiryReason::Absolute
        );
        // The user's snapshot wins over the global policy, in both directions.
        let short = Some((None, ms(2 * HOUR)));
        assert_eq!(
            dropped_reason(config, short, login, at(2)),
            ExpiryReason::Absolute
        );
        let long = Some((ms(HOUR), ms(48 * HOUR)));
        assert_eq!(
            dropped_reason(config, long, login, at(9)),
            ExpiryReason::Idle
        );
        // ... capped by the ceiling.
        let capped = SessionExpiry::builder()
            .max_policy(Policy::new().with_absolute(4 * HOUR))
            .build();
        let config = capped.configuration();
        assert_eq!(
            dropped_reason(config, long, login, at(5)),
            ExpiryReason::Absolute
        );
        // Without any absolute limit it can only have been idle.
        let idle_only = SessionExpiry::builder().idle_timeout(HOUR).build();
        let no_limit = Some((ms(HOUR), None));
        let config = idle_only.configuration();
        assert_eq!(
            dropped_reason(config, no_limit, login, at(99)),
            ExpiryReason::Idle
        );
    }
}
