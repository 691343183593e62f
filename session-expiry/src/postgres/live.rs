//! The PostgreSQL store's half of long-lived connections (see [`live`](crate::live)): a
//! watched session looked up (when notices of its end may have been missed, for an eviction,
//! and before it ends for inactivity), and a connection's activity written as a request's
//! refresh would be.

use std::{sync::Arc, time::Duration};

use deadpool_postgres::Pool;

use crate::{
    live::{Activity, Keeper, Probe, Probed, Watch},
    registry::SessionId,
    store::peek::peek,
    unix_ms::UnixMs,
    Clock, ExpiryReason,
};

/// Writes a connection's activity with one `UPDATE` of its row (its own task, within
/// `timeout`): last seen, the deadline and the expiry state, as a refresh does; never back in
/// time (a request's later refresh wins), never for a session ended or past its deadline. A
/// failure is logged, and the session then ends at the deadline it had.
pub(crate) fn keeper(pool: Pool, table: &str, timeout: Duration, clock: Arc<dyn Clock>) -> Keeper {
    let update: Arc<str> = Arc::from(format!(
        "UPDATE {table} SET seen_ms = $2, expires_ms = $3, state = $4 \
         WHERE id = $1 AND ended IS NULL AND expires_ms > $5 AND seen_ms < $2"
    ));
    Arc::new(move |activity: Activity| {
        let id = activity
            .id
            .as_deref()
            .and_then(|id| id.parse::<SessionId>().ok())
            .and_then(|id| id.bytes());
        let peeked = peek(&activity.entry);
        // Without a deadline there is nothing for activity to move.
        let (Some(id), Some(peeked)) = (id, peeked) else {
            return;
        };
        let Some(deadline) = peeked.deadline else {
            return;
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let ms = |at: UnixMs| i64::try_from(at.millis()).unwrap_or(i64::MAX);
        let (seen, expires, now) = (ms(peeked.seen), ms(deadline), ms(UnixMs::of(clock.now())));
        let (pool, update) = (pool.clone(), Arc::clone(&update));
        runtime.spawn(async move {
            let write = async {
                let client = pool.get().await.map_err(|error| error.to_string())?;
                let values: [&(dyn tokio_postgres::types::ToSql + Sync); 5] =
                    [&&id[..], &seen, &expires, &activity.entry, &now];
                client
                    .execute(&*update, &values)
                    .await
                    .map_err(|error| error.to_string())
            };
            let lost = "could not record a connection's activity: the session keeps its deadline";
            super::notify::bounded(timeout, write, lost).await;
        });
    })
}

/// Looks a watched session up: one primary-key `SELECT` of its row, within `timeout`. No row:
/// it ended without a reason kept (a log-out; its deadlines are the timer's); `ended` names a
/// revocation or an eviction; a live row says when it was last seen. An unreachable database
/// says nothing (the next window looks again).
pub(crate) fn probe(pool: Pool, table: String, timeout: Duration) -> Probe {
    let select: Arc<str> = Arc::from(format!("SELECT seen_ms, ended FROM {table} WHERE id = $1"));
    Arc::new(move |watch: &Watch| {
        let id = watch
            .id()
            .as_deref()
            .and_then(|id| id.parse::<SessionId>().ok())
            .and_then(|id| id.bytes());
        let (pool, select) = (pool.clone(), Arc::clone(&select));
        Box::pin(async move {
            let Some(id) = id else {
                return Probed::default();
            };
            let look = async {
                let client = pool.get().await.ok()?;
                client.query_opt(&*select, &[&&id[..]]).await.ok()
            };
            let Ok(Some(row)) = tokio::time::timeout(timeout, look).await else {
                return Probed::default();
            };
            let Some(row) = row else {
                return Probed {
                    ended: Some(ExpiryReason::LoggedOut),
                    seen: None,
                };
            };
            let seen: Option<i64> = row.try_get(0).ok();
            let ended: Option<String> = row.try_get(1).ok().flatten();
            Probed {
                ended: ended.map(|why| match why.as_str() {
                    "evicted" => ExpiryReason::Evicted,
                    _ => ExpiryReason::Revoked,
                }),
                seen: seen.and_then(|ms| u64::try_from(ms).ok()),
            }
        })
    })
}
