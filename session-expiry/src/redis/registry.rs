//! The Redis half of the [`SessionRegistry`](crate::registry::SessionRegistry): every session of
//! a user, to list and revoke ("log out everywhere"), read from and written to the user's index.
//!
//! Each operation is one round trip to Redis (one script, on the user's hash slot). On a Redis
//! Cluster, `list`, `revoke_all` and `revoke_others` first read the user's index, to declare
//! the keys the script touches: two round trips. Listing one page, counting and revoking one
//! session cost O(log n) in the user's session count n; revoking all (or all other) sessions
//! walks them all, in steps of 64.

use chrono::DateTime;

use super::{
    backend::Backend,
    listed::backoff,
    scripts::{List, ListReply, ListedSession, Plan, Revoke},
    RedisStoreError,
};
use crate::{
    events::Events,
    registry::{self, Page, RegistryError, SessionInfo, SessionPage, Which},
};

/// How many times listing or revoking all (or all other) sessions of a user on a Redis Cluster
/// reads the index again when a session was saved meanwhile, before giving up.
const REVOKE_ATTEMPTS: usize = 5;

impl registry::Backend for Backend {
    fn name(&self) -> &'static str {
        "redis"
    }

    fn events(&self) -> &Events {
        &self.events
    }

    async fn list(&self, user: &str, page: &Page) -> Result<SessionPage, RegistryError> {
        Ok(self.list_page(user, page).await?)
    }

    async fn count(&self, user: &str) -> Result<usize, RegistryError> {
        let keys = self.keys.user(&self.keys.tag_of(user));
        let mut cmd = ::redis::cmd("ZCOUNT");
        cmd.arg(&keys.expiries)
            .arg(format!("({}", self.now_ms()))
            .arg("+inf");
        Ok(self.connection.query(&cmd).await?)
    }

    async fn revoke(&self, user: &str, which: Which<'_>) -> Result<usize, RegistryError> {
        let which = match which {
            Which::One(id) => Revoke::One(id),
            Which::All => Revoke::All,
            Which::Others(id) => Revoke::Others(id),
        };
        Ok(self.revoke_where(user, which).await?)
    }
}

impl Backend {
    /// One page of the user's sessions: one script on the user's hash slot (two round trips on
    /// a Redis Cluster), O(log n + limit); it also clears a few sessions that ended from the
    /// index.
    async fn list_page(&self, user: &str, page: &Page) -> Result<SessionPage, RedisStoreError> {
        let tag = self.keys.tag_of(user);
        let keys = self.keys.user(&tag);
        let base = self.keys.sessions_of(&tag);
        let now = self.now_ms();
        let mut missed = Vec::new();
        for _ in 0..REVOKE_ATTEMPTS {
            let plan = Plan::List {
                after: page.cursor(),
                limit: page.limit(),
            };
            let listed = plan.listed(self, &tag, now).await?.and(self, &tag, &missed);
            let list = List {
                user: &keys,
                listed: &listed,
                base: &base,
                now,
                after: page.cursor(),
                limit: page.limit(),
            };
            match list.run(&self.connection).await? {
                // Sessions of the page were saved after the plan was read: read it again.
                ListReply::Undeclared(ids) => {
                    missed.extend(ids);
                    backoff().await;
                }
                ListReply::Page { next, sessions } => {
                    let sessions = sessions
                        .into_iter()
                        .map(|listed| session_info(listed, page))
                        .collect::<Result<_, _>>()?;
                    return Ok(SessionPage { sessions, next });
                }
            }
        }
        Err(RedisStoreError::Contended {
            retry_after: self.connection.retry_after(),
        })
    }

    async fn revoke_where(&self, user: &str, which: Revoke<'_>) -> Result<usize, RedisStoreError> {
        let tag = self.keys.tag_of(user);
        let keys = self.keys.user(&tag);
        let base = self.keys.sessions_of(&tag);
        match which {
            Revoke::One(_) => which.run(&self.connection, &keys, &base, &[]).await,
            // In bounded steps: a batch of the index read, then revoked, until the index has
            // been walked. No call runs long whatever the index holds (ended sessions' records
            // stay in it for a day), so other users are served in between.
            Revoke::All | Revoke::Others(_) => {
                let mut batches = IndexBatches::new(&keys.info);
                let mut revoked = 0;
                while let Some(ids) = batches.next(self).await? {
                    if !ids.is_empty() {
                        revoked += which.run(&self.connection, &keys, &base, &ids).await?;
                    }
                }
                Ok(revoked)
            }
        }
    }
}

/// How many of an index's records one step of revoking all reads (and its script then walks).
const REVOKE_BATCH: usize = 64;

/// A user's index read in batches with `HSCAN`: every session it holds the whole time is met
/// (one may be met twice, which revoking twice does not mind).
struct IndexBatches<'a> {
    index: &'a str,
    cursor: Option<u64>,
}

impl<'a> IndexBatches<'a> {
    fn new(index: &'a str) -> Self {
        Self {
            index,
            cursor: Some(0),
        }
    }

    /// The next batch of session ids; `None` once the index has been walked.
    async fn next(&mut self, backend: &Backend) -> Result<Option<Vec<String>>, RedisStoreError> {
        let Some(cursor) = self.cursor else {
            return Ok(None);
        };
        let mut cmd = ::redis::cmd("HSCAN");
        cmd.arg(self.index)
            .arg(cursor)
            .arg("COUNT")
            .arg(REVOKE_BATCH);
        let (next, pairs): (u64, Vec<String>) = backend.connection.query(&cmd).await?;
        self.cursor = (next != 0).then_some(next);
        // Field, value, field, value: the fields are the session ids.
        Ok(Some(pairs.into_iter().step_by(2).collect()))
    }
}

/// A listed session as the registry reports it.
fn session_info(listed: ListedSession, page: &Page) -> Result<SessionInfo, RedisStoreError> {
    let instant = |ms: i64| {
        DateTime::from_timestamp_millis(ms)
            .ok_or_else(|| corrupt("a session's instant is malformed"))
    };
    let last_seen = instant(listed.seen_ms)?;
    let login = listed.login;
    let logged_in_at = match login.login_ms.map(i64::try_from) {
        Some(Ok(ms)) => instant(ms)?,
        Some(Err(_)) => return Err(corrupt("a session's instant is malformed")),
        None => last_seen,
    };
    Ok(SessionInfo::listed(
        listed.id,
        logged_in_at,
        last_seen,
        listed.deadline_ms.map(instant).transpose()?,
        login.user_agent,
        login.ip,
        page,
    ))
}

fn corrupt(what: &str) -> RedisStoreError {
    RedisStoreError::Corrupt(what.to_owned())
}
