//! The PostgreSQL store's half of long-lived connections (see [`live`](crate::live)): a
//! watched session looked up (when notices of its end may have been missed, for an eviction,
//! and before it ends for inactivity). Its activity is not written here (yet): on this store,
//! requests and the browser script's keep-alive keep a session alive.

use std::{sync::Arc, time::Duration};

use deadpool_postgres::Pool;

use crate::{
    live::{Probe, Probed, Watch},
    registry::SessionId,
    ExpiryReason,
};

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
