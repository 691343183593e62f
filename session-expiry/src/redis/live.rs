//! The Redis store's half of long-lived connections (see [`live`](crate::live)): a watched
//! session looked up when notices of its end may have been missed (the subscription was lost
//! or has just come back, an eviction that does not say which sessions it took).

use std::sync::Arc;

use super::{connection::Connection, id::SessionId, keys::KeySpace, record::Tombstone};
use crate::{
    live::{Probe, Watch},
    ExpiryReason,
};

/// Looks a watched session up: one `HMGET` of its data key. A key that is gone ended without
/// a tombstone (a log-out: its deadlines are the timer's), a tombstone names a revocation or
/// an eviction; an unreachable Redis says nothing (the next window looks again).
pub(crate) fn probe(connection: Connection, keys: KeySpace) -> Probe {
    Arc::new(move |watch: &Watch| {
        let key = watch
            .id
            .as_deref()
            .and_then(|id| id.parse::<SessionId>().ok())
            .map(|id| keys.data(Some(&keys.tag_of(&watch.user)), &id));
        let connection = connection.clone();
        Box::pin(async move {
            let key = key?;
            let mut cmd = ::redis::cmd("HMGET");
            cmd.arg(&key).arg("v").arg("t");
            let (version, tombstone): (Option<String>, Option<String>) =
                connection.query(&cmd).await.ok()?;
            match (version, tombstone) {
                (_, Some(mark)) => Some(match Tombstone::of_mark(&mark) {
                    Some(Tombstone::Evicted) => ExpiryReason::Evicted,
                    Some(Tombstone::Revoked) | None => ExpiryReason::Revoked,
                }),
                (None, None) => Some(ExpiryReason::LoggedOut),
                (Some(_), None) => None,
            }
        })
    })
}
