//! What a server-side store reads of the stored state without judging it: the user, the log-in
//! instant and the hints (deadline, session limit) that set a key's TTL and file it under its
//! user.

use crate::{
    state::{
        codec::{Fields, FORMAT_VERSION},
        instant, policy_millis, PolicyMillis, Record, SessionCap,
    },
    unix_ms::UnixMs,
};

/// What a server-side store needs from stored state without judging it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(not(any(feature = "redis", feature = "postgres")), allow(dead_code))]
pub(crate) struct Peek {
    pub(crate) user: String,
    pub(crate) login: UnixMs,
    /// Last seen: concurrent writes of one session keep the latest.
    pub(crate) seen: UnixMs,
    /// The deadline hint (a key's TTL), `None` without limits.
    pub(crate) deadline: Option<UnixMs>,
    /// The per-user policy snapshot as stored, `None` when the global default applies.
    pub(crate) policy: Option<PolicyMillis>,
    /// The session limit hint.
    pub(crate) cap: Option<SessionCap>,
}

/// Reads what a server-side store needs from stored state without judging it. `None` if the
/// state is not a well-formed record.
#[cfg_attr(not(any(feature = "redis", feature = "postgres")), allow(dead_code))]
pub(crate) fn peek(raw: &str) -> Option<Peek> {
    let Record { state, deadline } = Record::parse(raw).ok()?;
    Some(Peek {
        policy: state.policy.as_ref().map(policy_millis),
        user: state.user,
        login: state.login,
        seen: state.seen,
        deadline,
        cap: state.cap,
    })
}

/// Only the log-in instant of stored state (Unix ms), without decoding the rest: a store reads
/// it on every load. `None` if the state is not a well-formed record.
#[cfg_attr(not(any(feature = "redis", feature = "postgres")), allow(dead_code))]
pub(crate) fn login_millis(raw: &str) -> Option<u64> {
    let fields = raw
        .strip_prefix('"')
        .and_then(|text| text.strip_prefix(FORMAT_VERSION))
        .and_then(|text| text.strip_prefix('.'));
    match fields {
        Some(fields) => {
            let mut fields = Fields::new(fields);
            let _user = fields.text().ok()?;
            let login = fields.numeric().ok()?.required().ok()?;
            Some(instant(login).ok()?.millis())
        }
        None => peek(raw).map(|peeked| peeked.login.millis()),
    }
}
