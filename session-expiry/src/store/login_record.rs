//! [`LoginRecord`]: what a server-side store keeps about a session from its log-in, as JSON.
//!
//! One type for every place that writes or reads it: the Redis store writes it into its user's
//! index at log-in (`{tag}:i`, see `redis/scripts`), reads it back to list the user's sessions
//! and to name the reason of a session whose data is gone, and hands that part to the
//! middleware in the `ended` store marker (`store::reserved::ENDED_KEY`).

use crate::state::PolicyMillis;

/// A log-in record. The one-letter field names are the stored format: records written by
/// earlier releases must still read, so a field is never renamed (a renamed Rust field keeps
/// its `serde` name), and every field may be missing (records from before it was kept).
///
/// The fields are declared in the order of their JSON names, so that a record is written byte
/// for byte as the `serde_json::json!` object earlier releases wrote (a sorted map, `null` for
/// what is unknown).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(not(any(feature = "redis", feature = "postgres")), allow(dead_code))]
pub(crate) struct LoginRecord {
    /// The client IP of the log-in request.
    #[serde(default)]
    pub(crate) ip: Option<String>,
    /// Log-in instant, Unix ms.
    #[serde(rename = "l", default)]
    pub(crate) login_ms: Option<u64>,
    /// The user's policy snapshot, `None` when the global default applied.
    #[serde(rename = "p", default)]
    pub(crate) policy: Option<PolicyMillis>,
    /// The signed-in user.
    #[serde(rename = "u", default)]
    pub(crate) user: Option<String>,
    /// The `User-Agent` of the log-in request.
    #[serde(rename = "ua", default)]
    pub(crate) user_agent: Option<String>,
}

impl LoginRecord {
    /// The record as JSON. Serializing plain strings, numbers and options cannot fail, so an
    /// error (which would be a bug) gives an empty record rather than a panic.
    #[cfg_attr(not(any(feature = "redis", feature = "postgres")), allow(dead_code))]
    pub(crate) fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| String::from("{}"))
    }

    /// The record stored as `raw`; `None` if it is not one.
    pub(crate) fn parse(raw: &str) -> Option<Self> {
        serde_json::from_str(raw).ok()
    }

    /// Whose session ended, when, under which policy: what the middleware needs to name the
    /// reason of a session whose data is gone. `None` without a log-in instant or a user.
    pub(crate) fn ended(self) -> Option<(u64, String, Option<PolicyMillis>)> {
        let user = self.user.filter(|user| !user.is_empty())?;
        Some((self.login_ms?, user, self.policy))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full() -> LoginRecord {
        LoginRecord {
            ip: Some("192.0.2.7".into()),
            login_ms: Some(1_000),
            policy: Some((Some(60_000), None)),
            user: Some("alice".into()),
            user_agent: Some("Firefox".into()),
        }
    }

    #[test]
    fn a_record_is_written_as_earlier_releases_wrote_it() {
        // What `serde_json::json!` wrote before this type existed.
        let old = serde_json::json!({
            "l": 1_000,
            "ua": "Firefox",
            "ip": "192.0.2.7",
            "u": "alice",
            "p": [60_000, null],
        })
        .to_string();
        assert_eq!(full().to_json(), old);
        let unknown = serde_json::json!({
            "l": 1_000, "ua": null, "ip": null, "u": "bob", "p": null,
        })
        .to_string();
        let record = LoginRecord {
            login_ms: Some(1_000),
            user: Some("bob".into()),
            ..LoginRecord::default()
        };
        assert_eq!(record.to_json(), unknown);
        assert_eq!(
            unknown,
            r#"{"ip":null,"l":1000,"p":null,"u":"bob","ua":null}"#
        );
    }

    #[test]
    fn records_of_earlier_releases_still_read() {
        assert_eq!(LoginRecord::parse(&full().to_json()), Some(full()));
        // Before records named their user and policy: listed, but names no ended session.
        let oldest = LoginRecord::parse(r#"{"l":1000,"ua":"Firefox","ip":"192.0.2.7"}"#).unwrap();
        assert_eq!(oldest.login_ms, Some(1_000));
        assert_eq!(oldest.user_agent.as_deref(), Some("Firefox"));
        assert_eq!(oldest.clone().ended(), None);
        // Before the policy was kept.
        let no_policy = LoginRecord::parse(r#"{"l":5,"ua":null,"ip":null,"u":"bob"}"#).unwrap();
        assert_eq!(no_policy.ended(), Some((5, "bob".to_owned(), None)));
        // The `ended` store marker's entry, which holds the same fields but these three.
        let ended = LoginRecord::parse(r#"{"l":5,"u":"bob","p":[null,9]}"#).unwrap();
        assert_eq!(
            ended.ended(),
            Some((5, "bob".to_owned(), Some((None, Some(9)))))
        );
    }

    #[test]
    fn a_record_without_user_or_log_in_names_no_ended_session() {
        for raw in [r#"{"u":"","l":5}"#, r#"{"u":"bob"}"#, "{}"] {
            assert_eq!(LoginRecord::parse(raw).unwrap().ended(), None, "{raw}");
        }
        // (serde also reads a struct from an array, as the structs before this one did.)
        for raw in ["", "1", "\"x\"", r#"{"l":"5"}"#, r#"{"l":-1}"#] {
            assert_eq!(LoginRecord::parse(raw), None, "{raw}");
        }
    }
}
