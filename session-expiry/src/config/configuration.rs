//! [`Configuration`]: what a built [`SessionExpiry`](crate::SessionExpiry) knows, shared by the
//! middleware, the extractors and a server-side store.

use std::{fmt, sync::Arc, time::Duration};

use actix_web::cookie::Key;

use crate::{
    config::Adoption,
    config::ExpiredAction,
    config::LogoutBehavior,
    config::OnMaxSessions,
    events::Events,
    signed_out::SignedOut,
    stack_check::StackCheck,
    stamp::{StampLookup, Stamps, DEFAULT_CHECK_INTERVAL},
    unix_ms::UnixMs,
    valid_from::ValidFrom,
    Clock, Policy, PolicyResolver, STATE_KEY,
};

/// Everything the middleware and its extractors need, shared by every worker.
#[derive(Clone)]
pub(crate) struct Configuration {
    pub(crate) policy: Policy,
    /// The global policy of a remembered log-in; what it leaves unset comes from `policy`.
    pub(crate) remember_me: Option<Policy>,
    pub(crate) max_policy: Option<Policy>,
    pub(crate) on_max_sessions: OnMaxSessions,
    pub(crate) resolver: Option<Arc<dyn PolicyResolver>>,
    pub(crate) adoption: Adoption,
    pub(crate) refresh_granularity: Option<Duration>,
    pub(crate) login_path: Option<String>,
    pub(crate) reauth_path: Option<String>,
    pub(crate) state_key: Arc<str>,
    pub(crate) logout_behavior: LogoutBehavior,
    /// Keys the owner tag of data kept across a log-out (see [`LogoutBehavior::Keep`]).
    pub(crate) data_owner_key: Key,
    /// Whether only the site's own requests refresh the idle clock (see
    /// [`SessionExpiryBuilder::activity_from_same_origin_only`]).
    pub(crate) activity_from_same_origin_only: bool,
    /// Sessions signed out lately in this process, so that a request still running on one
    /// does not write it back (cookie store).
    pub(crate) signed_out: Arc<SignedOut>,
    /// What the first requests showed of the middleware stack (shared by every worker).
    pub(crate) stack: Arc<StackCheck>,
    /// `None` for the system clock, which is then read without chrono's calendar types (every
    /// request reads the clock twice).
    pub(crate) clock: Option<Arc<dyn Clock>>,
    pub(crate) clock_skew_tolerance: Duration,
    /// Where session events go: the log, the counters, the hooks.
    pub(crate) events: Events,
    pub(crate) expired_action: ExpiredAction,
    /// The app's security stamp lookup, until `build` makes [`Self::stamps`] of it.
    pub(crate) stamp_lookup: Option<Arc<dyn StampLookup>>,
    pub(crate) stamp_check_interval: Duration,
    pub(crate) stamps: Option<Arc<Stamps>>,
    /// Sessions signed in before this instant end with reason `revoked`; shared with the
    /// store that keeps the run-time one.
    pub(crate) valid_from: Arc<ValidFrom>,
}

/// The longest time last-seen may lag behind real activity.
const MAX_GRANULARITY: Duration = Duration::from_secs(60);

impl Configuration {
    /// The policy for a session: the user's snapshot if log-in set one, else the global
    /// default; capped by the ceiling, if any. (Route limits tighten it further, per request.)
    pub(crate) fn effective_policy(&self, user_policy: Option<Policy>) -> Policy {
        let policy = user_policy.map_or(self.policy, |own| own.or(self.policy));
        self.max_policy
            .map_or(policy, |ceiling| policy.stricter(ceiling))
    }

    /// Now, by the configured clock.
    pub(crate) fn now(&self) -> UnixMs {
        match &self.clock {
            None => UnixMs::system_now(),
            Some(clock) => UnixMs::of(clock.now()),
        }
    }

    /// How stale last-seen may get before it is written again.
    ///
    /// Writing at most once per window only ever ends a session early (by less than one window),
    /// never late.
    pub(crate) fn granularity(&self, policy: &Policy) -> Duration {
        self.refresh_granularity.unwrap_or_else(|| {
            policy
                .idle()
                .map_or(MAX_GRANULARITY, |idle| (idle / 20).min(MAX_GRANULARITY))
        })
    }
}

impl fmt::Debug for Configuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Configuration")
            .field("policy", &self.policy)
            .field("max_policy", &self.max_policy)
            .field("resolver", &self.resolver.as_ref().map(|_| ".."))
            .field("adoption", &self.adoption)
            .field("refresh_granularity", &self.refresh_granularity)
            .field("login_path", &self.login_path)
            .field("reauth_path", &self.reauth_path)
            .field("state_key", &self.state_key)
            .field("logout_behavior", &self.logout_behavior)
            .field("remember_me", &self.remember_me)
            .field("on_max_sessions", &self.on_max_sessions)
            .field(
                "activity_from_same_origin_only",
                &self.activity_from_same_origin_only,
            )
            .field("clock_skew_tolerance", &self.clock_skew_tolerance)
            .field("events", &self.events)
            .field("expired_action", &self.expired_action)
            .field("stamps", &self.stamps)
            .finish_non_exhaustive()
    }
}

pub(crate) fn default_configuration() -> Configuration {
    Configuration {
        policy: Policy::new()
            .with_idle(Duration::from_secs(30 * 60))
            .with_absolute(Duration::from_secs(5 * 24 * 3600)),
        remember_me: None,
        max_policy: None,
        on_max_sessions: OnMaxSessions::EvictLeastRecentlyActive,
        resolver: None,
        adoption: Adoption::ignore(),
        refresh_granularity: None,
        login_path: None,
        reauth_path: None,
        state_key: Arc::from(STATE_KEY),
        logout_behavior: LogoutBehavior::PurgeSession,
        data_owner_key: Key::generate(),
        activity_from_same_origin_only: true,
        signed_out: Arc::default(),
        stack: Arc::default(),
        clock: None,
        clock_skew_tolerance: Duration::from_secs(30),
        events: Events::default(),
        expired_action: ExpiredAction::Respond,
        stamp_lookup: None,
        stamp_check_interval: DEFAULT_CHECK_INTERVAL,
        stamps: None,
        valid_from: Arc::new(ValidFrom::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn granularity_defaults_to_a_twentieth_of_idle_capped_at_a_minute() {
        let config = default_configuration();
        let idle = |secs| Policy::new().with_idle(Duration::from_secs(secs));
        assert_eq!(config.granularity(&idle(30 * 60)), MAX_GRANULARITY);
        assert_eq!(config.granularity(&idle(5 * 60)), Duration::from_secs(15));
        assert_eq!(config.granularity(&Policy::new()), MAX_GRANULARITY);
    }
}
