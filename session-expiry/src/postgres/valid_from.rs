//! The PostgreSQL half of the run-time "sign out everyone": the instant lives in the one row
//! of `<table>_settings`, moved only forward (`greatest`).

use std::sync::{Arc, Weak};

use super::{backend::Backend, PostgresStoreError};
use crate::valid_from::Source;

impl Backend {
    /// Moves the instant forward to `millis` (never back); the instant the table now keeps.
    pub(crate) async fn keep_valid_from(&self, millis: u64) -> Result<u64, PostgresStoreError> {
        let wanted = i64::try_from(millis).unwrap_or(i64::MAX);
        let kept: Option<i64> = self
            .with(|client| async move {
                let row = client
                    .query_opt(&self.sql.raise_valid_from, &[&wanted])
                    .await?;
                row.map(|row| row.try_get(0)).transpose()
            })
            .await?;
        Ok(kept
            .and_then(|kept| u64::try_from(kept).ok())
            .unwrap_or(millis))
    }

    /// The instant the table keeps, if any.
    pub(crate) async fn kept_valid_from(&self) -> Result<Option<u64>, PostgresStoreError> {
        let kept: Option<i64> = self
            .with(|client| async move {
                let row = client.query_opt(&self.sql.read_valid_from, &[]).await?;
                row.map(|row| row.try_get(0)).transpose()
            })
            .await?;
        Ok(kept
            .and_then(|kept| u64::try_from(kept).ok())
            .filter(|&kept| kept > 0))
    }
}

/// Reads the instant through `backend`, for the middleware (which the backend points to: held
/// weakly, so that neither keeps the other alive).
pub(crate) fn source(backend: &Arc<Backend>) -> Source {
    let backend: Weak<Backend> = Arc::downgrade(backend);
    Arc::new(move || {
        let backend = backend.clone();
        Box::pin(async move {
            let Some(backend) = backend.upgrade() else {
                return Ok(None);
            };
            backend
                .kept_valid_from()
                .await
                .map_err(|error| error.chain())
        })
    })
}
