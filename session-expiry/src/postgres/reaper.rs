//! The reaper: deletes rows a day past their session's deadline, in bounded batches, one
//! instance per deployment at a time.

use std::time::Duration;

use rand::Rng as _;

use super::{Backend, PostgresStore, PostgresStoreError};
use crate::{state::policy_from_millis, store::LoginRecord, SessionEvent};

/// Heap pages one DELETE walks: each statement touches at most this many pages (8 KiB each),
/// whatever the table holds.
const PAGES_PER_BATCH: i64 = 32;

/// What one run of the reaper deleted, by why each session had ended. The same sums reach the
/// middleware's hooks as one [`SessionEvent::Reaped`] per run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Reaped {
    /// Whether this instance ran the reaper (another one holding the lock: `false`).
    pub ran: bool,
    /// Rows of sessions that ended by their idle timeout.
    pub idle: usize,
    /// Rows of sessions that ended by their absolute timeout.
    pub absolute: usize,
    /// Rows of sessions revoked through the registry.
    pub revoked: usize,
    /// Rows of sessions evicted beyond their user's session limit.
    pub evicted: usize,
    /// Rows of sessions without a user (a cart before log-in) whose time ran out.
    pub anonymous: usize,
    /// How many DELETE statements the run took.
    pub batches: usize,
}

impl Reaped {
    /// Every row deleted.
    ///
    /// # Examples
    /// ```
    /// let reaped = session_expiry::postgres::Reaped::default();
    /// assert_eq!(reaped.total(), 0);
    /// ```
    #[must_use]
    pub fn total(&self) -> usize {
        self.idle + self.absolute + self.revoked + self.evicted + self.anonymous
    }

    /// Counts one deleted row: its `ended` mark, log-in instant, deadline and log-in record.
    fn count(&mut self, backend: &Backend, row: &tokio_postgres::Row) {
        let ended: Option<&str> = row.get(0);
        let login_ms: Option<i64> = row.get(1);
        let expires_ms: i64 = row.get(2);
        let login: Option<&str> = row.get(3);
        match ended {
            Some("revoked") => self.revoked += 1,
            Some("evicted") => self.evicted += 1,
            _ => match login
                .and_then(LoginRecord::parse)
                .and_then(LoginRecord::ended)
            {
                Some((_, _, policy)) => {
                    // Which limit the deadline was: the absolute one if the log-in was as old
                    // as it allows when the session ended (as the middleware would have said).
                    let policy = backend
                        .middleware
                        .configuration()
                        .effective_policy(policy.map(policy_from_millis));
                    let age = login_ms.map_or(0, |login| expires_ms.saturating_sub(login));
                    let absolute = policy.absolute().is_some_and(|limit| {
                        u64::try_from(age).is_ok_and(|age| u128::from(age) >= limit.as_millis())
                    });
                    if absolute {
                        self.absolute += 1;
                    } else {
                        self.idle += 1;
                    }
                }
                None => self.anonymous += 1,
            },
        }
    }
}

impl PostgresStore {
    /// One run of the reaper: unless another instance holds the table's reaper lock
    /// (`pg_try_advisory_lock`, then `ran` is `false`), deletes every row whose session ended
    /// more than a day ago (the day its reason is kept), walking the table a range of
    /// 32 heap pages (256 KiB) per statement so that no statement runs long and
    /// requests are served in between. Reports the run as one [`SessionEvent::Reaped`] summing
    /// the reasons (to the middleware's hooks given with
    /// [`for_middleware`](super::PostgresStoreBuilder::for_middleware), an `info` line with
    /// target `session_expiry`, and with the `metrics` feature the counter
    /// `session_expiry_reaped_total{reason}`). A run skipped because another instance holds the
    /// lock reports nothing.
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
                for row in &rows {
                    reaped.count(backend, row);
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
        backend.events.emit(&SessionEvent::Reaped {
            idle: reaped.idle,
            absolute: reaped.absolute,
            revoked: reaped.revoked,
            evicted: reaped.evicted,
            anonymous: reaped.anonymous,
            batches: reaped.batches,
        });
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
