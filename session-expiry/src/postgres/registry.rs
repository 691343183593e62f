//! The PostgreSQL half of the [`SessionRegistry`](crate::registry::SessionRegistry): one
//! statement per operation on the user's rows, found through the `(user_tag, login_ms)` index.

use chrono::DateTime;

use super::{backend::Backend, PostgresStoreError};
use crate::{
    events::Events,
    registry::{self, Page, PageCursor, RegistryError, SessionId, SessionInfo, SessionPage, Which},
    store::LoginRecord,
};

/// How many sessions one step of revoking all (or all others) revokes.
const REVOKE_BATCH: i64 = 64;

impl registry::Backend for Backend {
    fn name(&self) -> &'static str {
        "postgres"
    }

    fn events(&self) -> &Events {
        &self.events
    }

    async fn list(&self, user: &str, page: &Page) -> Result<SessionPage, RegistryError> {
        let tag = self.tag_of(user);
        let now = self.now_ms();
        let (activity, after) = match page.cursor().map(PageCursor::position) {
            Some((activity, id)) => (
                Some(i64::try_from(activity).unwrap_or(i64::MAX)),
                id.bytes().map(|bytes| bytes.to_vec()),
            ),
            None => (None, None),
        };
        // One more than the page, to know whether another follows.
        let limit = i64::try_from(page.limit()).unwrap_or(i64::MAX) + 1;
        let sql = &self.sql.list;
        let rows = self
            .with(|client| async move {
                let statement = client.prepare_cached(sql).await?;
                client
                    .query(&statement, &[&tag, &now, &activity, &after, &limit])
                    .await
            })
            .await?;
        let more = rows.len() > page.limit();
        let mut sessions = Vec::with_capacity(page.limit());
        for row in rows.iter().take(page.limit()) {
            let id: Vec<u8> = row.get(0);
            let login_ms: Option<i64> = row.get(1);
            let seen_ms: i64 = row.get(2);
            let expires_ms: i64 = row.get(3);
            let login: Option<String> = row.get(4);
            let login = login
                .as_deref()
                .and_then(LoginRecord::parse)
                .unwrap_or_default();
            let instant = |ms: i64| {
                DateTime::from_timestamp_millis(ms).ok_or_else(|| {
                    PostgresStoreError::Corrupt("a session's instant is malformed".into())
                })
            };
            let last_seen = instant(seen_ms)?;
            sessions.push(SessionInfo::listed(
                SessionId::of_digest(&id),
                login_ms.map(instant).transpose()?.unwrap_or(last_seen),
                last_seen,
                Some(instant(expires_ms)?),
                login.user_agent,
                login.ip,
                page,
            ));
        }
        let next = if more {
            sessions.last().map(|last| {
                PageCursor::at(
                    u64::try_from(last.last_seen.timestamp_millis()).unwrap_or_default(),
                    last.id.clone(),
                )
            })
        } else {
            None
        };
        Ok(SessionPage { sessions, next })
    }

    async fn count(&self, user: &str) -> Result<usize, RegistryError> {
        let tag = self.tag_of(user);
        let now = self.now_ms();
        let sql = &self.sql.count;
        let count: i64 = self
            .with(|client| async move {
                let statement = client.prepare_cached(sql).await?;
                Ok(client.query_one(&statement, &[&tag, &now]).await?.get(0))
            })
            .await?;
        Ok(usize::try_from(count).unwrap_or_default())
    }

    async fn revoke(&self, user: &str, which: Which<'_>) -> Result<usize, RegistryError> {
        let tag = self.tag_of(user);
        let now = self.now_ms();
        if let Which::One(id) = which {
            let Some(id) = id.bytes() else { return Ok(0) };
            let id = id.to_vec();
            let sql = &self.sql.revoke_one;
            let tag = &tag;
            let revoked = self
                .with(|client| async move {
                    let statement = client.prepare_cached(sql).await?;
                    client.execute(&statement, &[&id, tag, &now]).await
                })
                .await?;
            return Ok(usize::try_from(revoked).unwrap_or_default());
        }
        let keep = match which {
            Which::Others(id) => id.bytes().map(|bytes| bytes.to_vec()),
            _ => None,
        };
        // In bounded steps, each a short statement of its own, so others are served between.
        let mut revoked = 0;
        loop {
            let (sql, tag, keep) = (&self.sql.revoke_batch, &tag, &keep);
            let step = self
                .with(|client| async move {
                    let statement = client.prepare_cached(sql).await?;
                    client
                        .execute(&statement, &[tag, &now, keep, &REVOKE_BATCH])
                        .await
                })
                .await?;
            revoked += usize::try_from(step).unwrap_or_default();
            if step < u64::try_from(REVOKE_BATCH).unwrap_or_default() {
                return Ok(revoked);
            }
        }
    }
}
