//! The reaper: deletes rows a day past their session's deadline, in bounded batches, one
//! instance per deployment at a time.

use std::time::Duration;

use rand::Rng as _;

use super::{PostgresStore, PostgresStoreError};

/// Heap pages one DELETE walks: each statement touches at most this many pages (8 KiB each),
/// whatever the table holds.
const PAGES_PER_BATCH: i64 = 128;

/// What one run of the reaper deleted, by why each session had ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Reaped {
    /// Whether this instance ran the reaper (another one holding the lock: `false`).
    pub ran: bool,
    /// Rows of sessions revoked through the registry.
    pub revoked: usize,
    /// Rows of sessions evicted beyond their user's session limit.
    pub evicted: usize,
    /// Rows of sessions that ended by their deadline (idle or absolute), or never had a user.
    pub deadline: usize,
    /// How many DELETE statements the run took.
    pub batches: usize,
}

impl Reaped {
    /// Every row deleted.
    #[must_use]
    pub fn total(&self) -> usize {
        self.revoked + self.evicted + self.deadline
    }
}

impl PostgresStore {
    /// One run of the reaper: unless another instance holds the table's reaper lock
    /// (`pg_try_advisory_lock`, then `ran` is `false`), deletes every row whose session ended
    /// more than a day ago (the day its reason is kept), walking the table a range of
    /// 128 heap pages (1 MiB) per statement so that no statement runs long and
    /// requests are served in between. Reports the run as one `info` event (`session_expiry`
    /// target) summing the reasons, and, with the `metrics` feature, in the counter
    /// `session_expiry_reaped_total`.
    ///
    /// # Errors
    /// [`PostgresStoreError`] if PostgreSQL is unavailable.
    ///
    /// # Examples
    /// ```no_run
    /// # async fn run(store: session_expiry::postgres::PostgresStore) -> Result<(), session_expiry::postgres::PostgresStoreError> {
    /// let reaped = store.reap().await?;
    /// println!("{} rows reaped", reaped.total());
    /// # Ok(()) }
    /// ```
    pub async fn reap(&self) -> Result<Reaped, PostgresStoreError> {
        let backend = self.backend();
        let client = tokio::time::timeout(backend.timeout, backend.pool.get())
            .await
            .map_err(|_| PostgresStoreError::TimedOut {
                after: backend.timeout,
                retry_after: backend.retry_after,
            })?
            .map_err(|error| PostgresStoreError::Pool(error.to_string()))?;
        let sql = &backend.sql;
        let locked: bool = client
            .query_one("SELECT pg_try_advisory_lock($1, 1)", &[&sql.lock_class])
            .await
            .map_err(|error| backend.error(error))?
            .get(0);
        if !locked {
            return Ok(Reaped::default());
        }
        let result = async {
            let mut reaped = Reaped {
                ran: true,
                ..Reaped::default()
            };
            let pages: i64 = client
                .query_one(&sql.pages, &[])
                .await
                .map_err(|error| backend.error(error))?
                .get(0);
            let delete = client
                .prepare_cached(&sql.reap)
                .await
                .map_err(|error| backend.error(error))?;
            let now = backend.now_ms();
            let mut start = 0;
            while start < pages {
                let end = start + PAGES_PER_BATCH;
                let rows = client
                    .query(&delete, &[&start, &end, &now])
                    .await
                    .map_err(|error| backend.error(error))?;
                reaped.batches += 1;
                for row in rows {
                    match row.get::<_, Option<String>>(0).as_deref() {
                        Some("revoked") => reaped.revoked += 1,
                        Some("evicted") => reaped.evicted += 1,
                        _ => reaped.deadline += 1,
                    }
                }
                start = end;
            }
            Ok(reaped)
        }
        .await;
        // Also released when the connection closes.
        let _unlocked = client
            .execute("SELECT pg_advisory_unlock($1, 1)", &[&sql.lock_class])
            .await;
        let reaped = result?;
        tracing::info!(
            target: "session_expiry",
            revoked = reaped.revoked,
            evicted = reaped.evicted,
            deadline = reaped.deadline,
            batches = reaped.batches,
            "reaped {} ended sessions",
            reaped.total()
        );
        #[cfg(feature = "metrics")]
        metrics::counter!("session_expiry_reaped_total")
            .increment(u64::try_from(reaped.total()).unwrap_or(u64::MAX));
        Ok(reaped)
    }

    /// Runs [`reap`](Self::reap) forever on the current Tokio runtime, about every `every`
    /// (each wait drawn between 80 % and 120 % of it, so instances started together do not
    /// contend in step); a failed run is logged and retried at the next turn. Every instance
    /// may start it: one at a time runs.
    ///
    /// # Examples
    /// ```no_run
    /// # async fn run(store: session_expiry::postgres::PostgresStore) {
    /// let reaper = store.spawn_reaper(std::time::Duration::from_secs(300));
    /// # }
    /// ```
    pub fn spawn_reaper(&self, every: Duration) -> tokio::task::JoinHandle<()> {
        let store = self.clone();
        tokio::spawn(async move {
            loop {
                let factor = rand::rng().random_range(0.8..1.2);
                tokio::time::sleep(every.mul_f64(factor)).await;
                if let Err(error) = store.reap().await {
                    tracing::warn!(
                        target: "session_expiry",
                        error = %error.chain(),
                        "the session reaper failed: retried at its next turn"
                    );
                }
            }
        })
    }
}
