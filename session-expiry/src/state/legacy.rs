//! Version 1 of the stored state, which earlier releases wrote: a JSON array. Still read, never
//! written.

use super::{
    instant, policy_from_millis, ExpiryState, InvalidState, PolicyMillis, Record, MAX_USER_ID_BYTES,
};

const LEGACY_VERSION: u64 = 1;
/// The longest version-1 record earlier releases wrote: JSON escapes a control character in
/// six bytes (`\u001f`), and five numbers of at most 20 digits.
pub(super) const MAX_LEGACY_RECORD_BYTES: usize = 6 * MAX_USER_ID_BYTES + 5 * 20 + 32;

impl Record {
    /// Version 1: `[1,"alice",login_ms,seen_ms,deadline_ms,[idle_ms,absolute_ms]]`. Its
    /// sessions count their log-in as their last authentication.
    pub(super) fn parse_legacy(raw: &str) -> Result<Self, InvalidState> {
        #[derive(serde::Deserialize)]
        struct Wire(u64, String, u64, u64, Option<u64>, Option<PolicyMillis>);

        if raw.len() > MAX_LEGACY_RECORD_BYTES {
            return Err(InvalidState::Oversize);
        }
        let Wire(version, user, login, seen, deadline, policy) = serde_json::from_str(raw)?;
        if version != LEGACY_VERSION {
            return Err(InvalidState::UnknownVersion);
        }
        if user.len() > MAX_USER_ID_BYTES {
            return Err(InvalidState::Oversize);
        }
        let login = instant(login)?;
        let seen = instant(seen)?;
        if seen < login {
            return Err(InvalidState::SeenBeforeLogin);
        }
        Ok(Self {
            state: ExpiryState {
                user,
                login,
                seen,
                authenticated: Some(login),
                policy: policy.map(policy_from_millis),
                remembered: false,
                cap: None,
                stamp: None,
            },
            deadline: deadline.map(instant).transpose()?,
        })
    }
}
