//! The Redis store's half of long-lived connections (see [`live`](crate::live)): a watched
//! session looked up (when notices of its end may have been missed, and before it ends for
//! inactivity), and a connection's activity written as a request's refresh would be.

use std::sync::Arc;

use super::{
    connection::Connection,
    id::SessionId,
    keys::KeySpace,
    record::Tombstone,
    scripts::{SessionKeys, Touch},
};
use crate::{
    live::{Activity, Keeper, Probe, Probed, Watch},
    store::peek::peek,
    unix_ms::UnixMs,
    Clock, ExpiryReason,
};

/// Writes a connection's activity with one `touch.lua` (its own task: the connection does not
/// wait); a failure is logged, and the session then ends at the deadline it had.
pub(crate) fn keeper(connection: Connection, keys: KeySpace, clock: Arc<dyn Clock>) -> Keeper {
    Arc::new(move |activity: Activity| {
        let Some(id) = activity
            .id
            .as_deref()
            .and_then(|id| id.parse::<SessionId>().ok())
        else {
            return;
        };
        let Some(peeked) = peek(&activity.entry) else {
            return;
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let tag = keys.tag_of(&activity.user);
        let (data, user) = (keys.data(Some(&tag), &id), keys.user(&tag));
        let (connection, now) = (connection.clone(), UnixMs::of(clock.now()).millis());
        runtime.spawn(async move {
            let touch = Touch {
                keys: SessionKeys {
                    data: &data,
                    user: Some(&user),
                },
                id: &id,
                expiry: &activity.entry,
                seen: peeked.seen.millis(),
                deadline: peeked.deadline.map(UnixMs::millis),
                now,
            };
            if let Err(error) = touch.run(&connection).await {
                tracing::warn!(
                    target: "session_expiry",
                    %error,
                    "could not record a connection's activity: the session keeps its deadline"
                );
            }
        });
    })
}

/// Looks a watched session up: one `HMGET` of its data key. A key that is gone ended without
/// a tombstone (a log-out: its deadlines are the timer's), a tombstone names a revocation or
/// an eviction, and a live one says when it was last seen; an unreachable Redis says nothing
/// (the next window looks again).
pub(crate) fn probe(connection: Connection, keys: KeySpace) -> Probe {
    Arc::new(move |watch: &Watch| {
        let key = watch
            .id()
            .as_deref()
            .and_then(|id| id.parse::<SessionId>().ok())
            .map(|id| keys.data(Some(&keys.tag_of(&watch.user)), &id));
        let connection = connection.clone();
        Box::pin(async move {
            let Some(key) = key else {
                return Probed::default();
            };
            let mut cmd = ::redis::cmd("HMGET");
            cmd.arg(&key).arg("v").arg("t").arg("s");
            let Ok((version, tombstone, seen)) = connection
                .query::<(Option<String>, Option<String>, Option<String>)>(&cmd)
                .await
            else {
                return Probed::default();
            };
            let ended = match (version, tombstone) {
                (_, Some(mark)) => Some(match Tombstone::of_mark(&mark) {
                    Some(Tombstone::Evicted) => ExpiryReason::Evicted,
                    Some(Tombstone::Revoked) | None => ExpiryReason::Revoked,
                }),
                (None, None) => Some(ExpiryReason::LoggedOut),
                (Some(_), None) => None,
            };
            Probed {
                ended,
                seen: seen.and_then(|seen| seen.parse().ok()),
            }
        })
    })
}
