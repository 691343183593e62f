//! The scripts' replies, parsed with [`FromRedisValue`]: the reply codes of the `.lua` files
//! are read here and nowhere else. A reply that is not what a script answers is an error with
//! the reply's shape in it, never a panic.

use ::redis::{FromRedisValue, ParsingError, Value};

use super::super::{id::SessionId, page::PageCursor, RedisStoreError};
use crate::store::LoginRecord;

/// What `save.lua` answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SaveReply {
    /// Saved, having evicted this many sessions of the user.
    Saved { evicted: usize },
    /// Already past its deadline: nothing was saved.
    PastDeadline,
    /// The fresh key was taken: try another.
    KeyTaken,
    /// Sessions to evict were not declared (the index changed since the plan): declare them too.
    Undeclared(Vec<SessionId>),
    /// The user already holds `max` live sessions and the limit refuses.
    Refused { max: u32 },
}

/// What `list.lua` answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ListReply {
    /// Sessions of the page were not declared (saved since the plan): declare them too.
    Undeclared(Vec<SessionId>),
    /// The page, and where the next one starts (`None` on the last).
    Page {
        next: Option<PageCursor>,
        sessions: Vec<ListedSession>,
    },
}

/// One live session of a listed page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ListedSession {
    pub(crate) id: SessionId,
    /// Its log-in record (empty for a session saved before records were kept).
    pub(crate) login: LoginRecord,
    /// Last seen, Unix ms.
    pub(crate) seen_ms: i64,
    /// Its deadline, Unix ms; `None` without one.
    pub(crate) deadline_ms: Option<i64>,
}

/// What `revoke.lua` answered: how many live sessions it revoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RevokeReply(pub(crate) usize);

/// What `plan.lua` answered: session ids.
pub(super) struct Ids(pub(super) Vec<SessionId>);

fn unexpected(value: &Value) -> ParsingError {
    ParsingError::from(format!("something unexpected: {value:?}"))
}

/// The strings of an array reply.
fn strings(value: Value) -> Result<Vec<String>, ParsingError> {
    match value {
        Value::Array(_) => Vec::<String>::from_redis_value(value),
        other => Err(unexpected(&other)),
    }
}

fn number<T: std::str::FromStr>(text: &str, what: &str) -> Result<T, ParsingError> {
    text.parse()
        .map_err(|_| ParsingError::from(format!("{what} {text:?}, not a number")))
}

fn session_id(id: &str) -> Result<SessionId, ParsingError> {
    id.parse()
        .map_err(|_| ParsingError::from(format!("a malformed session id {id:?}")))
}

fn ids<S: AsRef<str>>(ids: &[S]) -> Result<Vec<SessionId>, ParsingError> {
    ids.iter().map(|id| session_id(id.as_ref())).collect()
}

impl FromRedisValue for SaveReply {
    fn from_redis_value(value: Value) -> Result<Self, ParsingError> {
        let fields = strings(value)?;
        let fields: Vec<&str> = fields.iter().map(String::as_str).collect();
        Ok(match fields.as_slice() {
            ["1", evicted] => Self::Saved {
                evicted: number(evicted, "an eviction count")?,
            },
            ["0"] => Self::PastDeadline,
            ["-1"] => Self::KeyTaken,
            ["-2", rest @ ..] => Self::Undeclared(ids(rest)?),
            ["-3", max] => Self::Refused {
                max: number(max, "a session limit")?,
            },
            _ => {
                return Err(ParsingError::from(format!(
                    "something unexpected: {fields:?}"
                )))
            }
        })
    }
}

impl FromRedisValue for ListReply {
    fn from_redis_value(value: Value) -> Result<Self, ParsingError> {
        let fields = strings(value)?;
        match fields.as_slice() {
            [status, rest @ ..] if status == "-2" => Ok(Self::Undeclared(ids(rest)?)),
            [status, activity, id, entries @ ..] if status == "1" => {
                let next = match (activity.as_str(), id.as_str()) {
                    ("", "") => None,
                    (activity, id) => {
                        Some(PageCursor::from_script(activity, id).ok_or_else(|| {
                            ParsingError::from(format!("a malformed cursor {activity:?}, {id:?}"))
                        })?)
                    }
                };
                let sessions = entries
                    .chunks(4)
                    .map(|entry| match entry {
                        [id, login, seen, deadline] => listed(id, login, seen, deadline),
                        _ => Err(ParsingError::from("an incomplete registry entry")),
                    })
                    .collect::<Result<_, _>>()?;
                Ok(Self::Page { next, sessions })
            }
            _ => Err(ParsingError::from(format!(
                "something unexpected: {fields:?}"
            ))),
        }
    }
}

fn listed(
    id: &str,
    login: &str,
    seen: &str,
    deadline: &str,
) -> Result<ListedSession, ParsingError> {
    let id = session_id(id)?;
    // A session without a log-in record (saved before records were kept) is still listed.
    let login = match login {
        "" => LoginRecord::default(),
        raw => LoginRecord::parse(raw)
            .ok_or_else(|| ParsingError::from(format!("a malformed log-in record {raw:?}")))?,
    };
    Ok(ListedSession {
        id,
        login,
        seen_ms: number(seen, "an instant")?,
        deadline_ms: match deadline {
            "" => None,
            ms => Some(number(ms, "an instant")?),
        },
    })
}

impl FromRedisValue for RevokeReply {
    fn from_redis_value(value: Value) -> Result<Self, ParsingError> {
        match value {
            Value::Int(n) => usize::try_from(n)
                .map(Self)
                .map_err(|_| unexpected(&Value::Int(n))),
            other => Err(unexpected(&other)),
        }
    }
}

impl FromRedisValue for Ids {
    fn from_redis_value(value: Value) -> Result<Self, ParsingError> {
        ids(&strings(value)?).map(Self)
    }
}

/// A reply of 1 or 0, as `update.lua`, `delete.lua` and `extend.lua` answer.
pub(super) fn flag(value: Value, name: &str) -> Result<bool, RedisStoreError> {
    match value {
        Value::Int(1) => Ok(true),
        Value::Int(0) => Ok(false),
        other => Err(RedisStoreError::Corrupt(format!(
            "the {name} script answered {}",
            unexpected(&other)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "0123456789abcdef0123456789abcdef";

    fn reply(fields: &[&str]) -> Value {
        Value::Array(
            fields
                .iter()
                .map(|field| Value::BulkString(field.as_bytes().to_vec()))
                .collect(),
        )
    }

    fn id() -> SessionId {
        ID.parse().unwrap()
    }

    #[test]
    fn each_save_reply_parses() {
        let parse = |fields: &[&str]| SaveReply::from_redis_value(reply(fields));
        assert_eq!(parse(&["1", "2"]), Ok(SaveReply::Saved { evicted: 2 }));
        assert_eq!(parse(&["0"]), Ok(SaveReply::PastDeadline));
        assert_eq!(parse(&["-1"]), Ok(SaveReply::KeyTaken));
        assert_eq!(parse(&["-2", ID]), Ok(SaveReply::Undeclared(vec![id()])));
        assert_eq!(parse(&["-3", "5"]), Ok(SaveReply::Refused { max: 5 }));
    }

    #[test]
    fn each_list_reply_parses() {
        let parse = |fields: &[&str]| ListReply::from_redis_value(reply(fields));
        assert_eq!(parse(&["-2", ID]), Ok(ListReply::Undeclared(vec![id()])));
        assert_eq!(
            parse(&["1", "", ""]),
            Ok(ListReply::Page {
                next: None,
                sessions: vec![]
            })
        );
        let record = r#"{"ip":null,"l":1000,"p":null,"u":"bob","ua":"Firefox"}"#;
        let page = parse(&["1", "7", ID, ID, record, "2000", "9000", ID, "", "3000", ""]).unwrap();
        let ListReply::Page { next, sessions } = page else {
            panic!("not a page: {page:?}");
        };
        assert_eq!(next, PageCursor::from_script("7", ID));
        assert!(next.is_some());
        assert_eq!(sessions.len(), 2);
        assert_eq!(sessions[0].login.user_agent.as_deref(), Some("Firefox"));
        assert_eq!(
            (sessions[0].seen_ms, sessions[0].deadline_ms),
            (2000, Some(9000))
        );
        assert_eq!(sessions[1].login, LoginRecord::default());
        assert_eq!(sessions[1].deadline_ms, None);
    }

    #[test]
    fn each_revoke_and_plan_reply_parses() {
        assert_eq!(
            RevokeReply::from_redis_value(Value::Int(3)),
            Ok(RevokeReply(3))
        );
        let Ids(planned) = Ids::from_redis_value(reply(&[ID, ID])).unwrap();
        assert_eq!(planned, vec![id(), id()]);
        assert!(flag(Value::Int(1), "update").unwrap());
        assert!(!flag(Value::Int(0), "update").unwrap());
    }

    #[test]
    fn a_garbage_reply_is_a_clear_error_not_a_panic() {
        let garbage = [
            Value::Nil,
            Value::Int(7),
            Value::Okay,
            Value::SimpleString("1".into()),
            reply(&[]),
            reply(&["2"]),
            reply(&["1"]),
            reply(&["1", "many"]),
            reply(&["-3", "-5"]),
            reply(&["-2", "not an id"]),
            Value::Array(vec![Value::Array(vec![])]),
        ];
        for value in &garbage {
            let error = SaveReply::from_redis_value(value.clone()).unwrap_err();
            assert!(error.to_string().contains("Incompatible type"), "{error}");
        }
        for fields in [
            &["1", "x", ""][..],
            &["1", "", "", ID, "", "2000"],
            &["1", "", "", "id", "", "2000", ""],
            &["1", "", "", ID, "{", "2000", ""],
            &["1", "", "", ID, "", "soon", ""],
            &["0"],
        ] {
            assert!(
                ListReply::from_redis_value(reply(fields)).is_err(),
                "{fields:?}"
            );
        }
        for value in [Value::Int(-1), Value::Nil, reply(&["1"])] {
            assert!(RevokeReply::from_redis_value(value).is_err());
        }
        assert!(Ids::from_redis_value(reply(&["x"])).is_err());
        let error = flag(Value::Int(2), "update").unwrap_err();
        assert!(matches!(&error, RedisStoreError::Corrupt(what) if what.contains("update")));
    }
}
