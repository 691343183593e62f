//! Signing a user in: the one routine behind [`Expiry::login`](crate::Expiry::login) and its
//! variants, the Redis registry's checked log-in, adoption, and the policy resolution on the
//! way out.

use crate::store::session_api::Session;

use crate::{
    config::configuration::Configuration,
    config::OnMaxSessions,
    context::{RequestContext, Snapshot, StampDue},
    session_data,
    state::{ExpiryState, SessionCap, MAX_USER_ID_BYTES},
    unix_ms::UnixMs,
    ExpiryError, Policy, ResolvedPolicy, ToPolicy as _,
};

/// Checks a user id that a log-in is about to store: not empty, at most
/// [`MAX_USER_ID_BYTES`]. Every log-in path calls it, so that no session is written that its
/// next request would read as invalid.
pub(crate) fn check_user_id(user: &str) -> Result<(), ExpiryError> {
    if user.is_empty() {
        return Err(ExpiryError::EmptyUserId);
    }
    if user.len() > MAX_USER_ID_BYTES {
        return Err(ExpiryError::UserIdTooLong { len: user.len() });
    }
    Ok(())
}

/// Where a log-in's policy comes from.
#[derive(Debug, Clone, Copy)]
pub(crate) enum PolicySource {
    /// The handler named it ([`Expiry::login_with`](crate::Expiry::login_with)).
    Explicit(Policy),
    /// The resolver answered (or found no role: `None`).
    Resolved(Option<ResolvedPolicy>),
    /// The resolver is consulted on the way out; until then the global policy applies.
    Deferred,
}

/// How the user proved who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Proof {
    /// Credentials the app checked: the log-in counts as a fresh authentication.
    Credentials,
    /// Adopted from another mechanism: no credentials were presented, so `#[fresh_auth]` asks
    /// for the password until [`Expiry::reauthenticated`](crate::Expiry::reauthenticated).
    Adopted,
}

/// The state a log-in of `user` at `at` stores.
pub(crate) fn state(
    config: &Configuration,
    user: String,
    at: UnixMs,
    source: PolicySource,
    remembered: bool,
    proof: Proof,
) -> ExpiryState {
    let authenticated = (proof == Proof::Credentials).then_some(at);
    with_policy(
        config,
        ExpiryState::new(user, at, authenticated),
        source,
        remembered,
    )
}

/// The state a log-in with checked credentials stores now (the handler's `login*` calls and the
/// registry's eager log-in).
pub(crate) fn with_credentials(
    config: &Configuration,
    user: String,
    source: PolicySource,
    remembered: bool,
) -> ExpiryState {
    state(
        config,
        user,
        config.now(),
        source,
        remembered,
        Proof::Credentials,
    )
}

/// `state` under the policy `source` gives it, with its session limit; its instants are kept.
///
/// A remembered log-in takes the role's remember-me policy; a role without one is not
/// remembered at all (its cookie ends with the browser), so ticking the box never takes a user
/// beyond what their role allows. Users without a role of their own take the builder's
/// remember-me policy, if any.
pub(crate) fn with_policy(
    config: &Configuration,
    state: ExpiryState,
    source: PolicySource,
    remembered: bool,
) -> ExpiryState {
    let (own, remembered) = match source {
        PolicySource::Explicit(policy) => (Some(policy), remembered),
        PolicySource::Resolved(Some(role)) => {
            let remembered = remembered && role.remember_me_policy().is_some();
            (Some(role.policy_for(remembered)), remembered)
        }
        PolicySource::Resolved(None) | PolicySource::Deferred => {
            (config.remember_me.filter(|_| remembered), remembered)
        }
    };
    let policy = own.map(|own| own.or(config.policy));
    let cap = config
        .effective_policy(policy)
        .session_limit()
        .map(|max| SessionCap {
            max,
            refuse: config.on_max_sessions == OnMaxSessions::Refuse,
        });
    ExpiryState {
        policy,
        remembered,
        cap,
        ..state
    }
}

/// Signs the user of `state` in on this request's session: data another user left goes, the
/// session ID is renewed (unless adopted: that session keeps its ID, as no credentials were
/// presented), and the log-in is reported on the way out, after a `Deferred` policy is
/// resolved.
pub(crate) fn sign_in(
    context: &RequestContext,
    session: &Session,
    state: ExpiryState,
    source: PolicySource,
) -> Result<(), ExpiryError> {
    check_user_id(&state.user)?;
    let previous = context.user();
    session_data::hand_over(session, &context.config, previous.as_deref(), &state.user);
    let state_adopted = state.authenticated.is_none();
    if !state_adopted {
        session.renew();
    }
    let deferred = matches!(source, PolicySource::Deferred) && context.config.resolver.is_some();
    context.store(session, Snapshot::new(state, &context.config))?;
    context.set_login_pending(deferred, state_adopted);
    if context.config.stamps.is_some() {
        context.set_stamp_due(StampDue::LogIn);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_log_in_refuses_an_empty_or_an_oversize_user_id() {
        assert!(matches!(check_user_id(""), Err(ExpiryError::EmptyUserId)));
        assert!(check_user_id(&"é".repeat(MAX_USER_ID_BYTES / 2)).is_ok());
        assert!(matches!(
            check_user_id(&"é".repeat(MAX_USER_ID_BYTES / 2 + 1)),
            Err(ExpiryError::UserIdTooLong { len: 1026 })
        ));
    }
}
