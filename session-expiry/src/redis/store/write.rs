//! The write path of [`RedisStore`](super::RedisStore): a log-in's save within the user's
//! session limit, a refresh, a removal. Every write is one script.

use super::{session_key, RedisStore};
use crate::{
    redis::{
        backend::Backend,
        id::SessionId,
        keys::{id_of, new_session_key, parse_session_key, ParsedKey, UserKeys, UserTag},
        listed::{backoff, Listed},
        record::Record,
        scripts::{Delete, Plan, Save, SaveReply, SessionKeys, Update},
        RedisStoreError,
    },
    store::{scope, session_api::SessionKey, LoginRecord},
    SessionEvent,
};

/// How many fresh keys `save` tries before giving up (a collision of 256 random bits means a
/// broken random source, not bad luck).
const SAVE_ATTEMPTS: usize = 3;

/// On a Redis Cluster, how many times a log-in reads its plan again when the user's index
/// changed between the plan and the save (another log-in of the user meanwhile), before giving
/// up.
const PLAN_ATTEMPTS: usize = 5;

impl RedisStore {
    /// Saves `record` under a fresh key, in its user's slot when it has a user, within the
    /// user's session limit: evicting their least recently active sessions, or refusing
    /// ([`RedisStoreError::TooManySessions`]). Each attempt plans (on a cluster, what the save
    /// will touch), invokes the save, and interprets its reply.
    pub(super) async fn create(
        &self,
        record: &Record,
        fallback_ttl: u64,
    ) -> Result<SessionKey, RedisStoreError> {
        if record.is_empty() {
            // Nothing to keep: a key that leads nowhere is the same empty session.
            return session_key(new_session_key(None));
        }
        if scope::renews_an_ended_session(record.login_ms()) {
            tracing::debug!(
                target: "session_expiry",
                "the session ended while this request ran: it is not renewed"
            );
            return session_key(new_session_key(None));
        }
        let login = LogIn::of(&self.backend, record);
        // One instant for the plan and the save, so both pick the same sessions.
        let now = self.backend.now_ms();
        let mut key = new_session_key(login.tag.as_ref());
        let (mut collisions, mut plans) = (0, 0);
        let mut missed = Vec::new();
        while collisions < SAVE_ATTEMPTS && plans < PLAN_ATTEMPTS {
            let listed = self
                .plan_save(login.tag.as_ref(), record, now, &missed)
                .await?;
            match self.save(&login, &key, &listed, now, fallback_ttl).await? {
                SaveReply::Saved { evicted } => {
                    self.evicted(record, evicted);
                    return session_key(key);
                }
                // Already past its deadline: nothing was saved, the key leads nowhere.
                SaveReply::PastDeadline => return session_key(key),
                SaveReply::KeyTaken => {
                    collisions += 1;
                    key = new_session_key(login.tag.as_ref());
                }
                // The index changed since the plan was read.
                SaveReply::Undeclared(ids) => {
                    plans += 1;
                    missed.extend(ids);
                    backoff().await;
                }
                SaveReply::Refused { max } => return Err(self.refused(record, max)),
            }
        }
        if plans >= PLAN_ATTEMPTS {
            return Err(RedisStoreError::Contended {
                retry_after: self.backend.connection.retry_after(),
            });
        }
        Err(RedisStoreError::Corrupt(
            "every fresh session key tried was already taken".into(),
        ))
    }

    /// One attempt at saving `login` under `key`.
    async fn save(
        &self,
        login: &LogIn<'_>,
        key: &str,
        listed: &Listed,
        now: u64,
        fallback_ttl: u64,
    ) -> Result<SaveReply, RedisStoreError> {
        let id = id_of(key);
        let data = self.backend.keys.data(login.tag.as_ref(), &id);
        Save {
            keys: SessionKeys {
                data: &data,
                user: login.user.as_ref(),
            },
            listed,
            id: &id,
            record: login.record,
            now,
            fallback_ttl,
            login: &login.json,
            base: &login.base,
            cap: login.record.cap(),
        }
        .run(&self.backend.connection)
        .await
    }

    /// On a cluster, the sessions a save of `record` will prune or evict, to declare them, and
    /// those a save met undeclared before (`missed`).
    async fn plan_save(
        &self,
        tag: Option<&UserTag>,
        record: &Record,
        now: u64,
        missed: &[SessionId],
    ) -> Result<Listed, RedisStoreError> {
        let Some(tag) = tag else {
            return Ok(Listed::default());
        };
        let plan = Plan::Save {
            max: record.cap().filter(|cap| !cap.refuse).map(|cap| cap.max),
        };
        Ok(plan
            .listed(&self.backend, tag, now)
            .await?
            .and(&self.backend, tag, missed))
    }

    /// Reports the sessions a log-in evicted.
    fn evicted(&self, record: &Record, evicted: usize) {
        if let (Some(user), 1..) = (record.user(), evicted) {
            self.backend.events.emit(&SessionEvent::Evicted {
                user: user.to_owned(),
                sessions: evicted,
            });
            // Their connections look them up (here and elsewhere) and close.
            let notice = crate::live::Notice::evicted(user);
            self.backend.events.live.end_now(notice);
        }
    }

    /// A log-in the session limit `max` refused: logged, and told to the request's scope.
    fn refused(&self, record: &Record, max: u32) -> RedisStoreError {
        let user = record
            .user()
            .and_then(|user| self.backend.events.user_ids.name(user));
        tracing::info!(
            target: "session_expiry",
            user,
            max,
            "log-in refused: the user already holds as many sessions as their limit allows"
        );
        scope::refused(max);
        RedisStoreError::TooManySessions { max }
    }

    /// Deletes a live session (a tombstone stays until its deadline); whether one was deleted.
    pub(super) async fn remove(&self, parsed: &ParsedKey) -> Result<bool, RedisStoreError> {
        let (data, user) = self.session_keys(parsed.tag.as_ref(), &parsed.id);
        let delete = Delete {
            keys: SessionKeys {
                data: &data,
                user: user.as_ref(),
            },
            id: &parsed.id,
        };
        let deleted = delete.run(&self.backend.connection).await?;
        if !deleted {
            scope::ended_meanwhile();
        }
        Ok(deleted)
    }

    pub(super) async fn rewrite(
        &self,
        session_key: SessionKey,
        record: &Record,
        fallback_ttl: u64,
    ) -> Result<SessionKey, RedisStoreError> {
        let Some(parsed) = parse_session_key(session_key.as_ref()) else {
            // `load` found nothing under such a key, so actix-session saves instead: unreachable.
            return Ok(session_key);
        };
        let wanted = record.user().map(|user| self.backend.keys.tag_of(user));
        if wanted.is_some() && wanted != parsed.tag {
            // The state names a user the key is not tagged for (it was signed in without
            // renewing the session): move it to that user's slot, unless it ended meanwhile.
            if !self.remove(&parsed).await? {
                return Ok(session_key);
            }
            return self.create(record, fallback_ttl).await;
        }
        let (data, user) = self.session_keys(parsed.tag.as_ref(), &parsed.id);
        let update = Update {
            keys: SessionKeys {
                data: &data,
                user: user.as_ref(),
            },
            id: &parsed.id,
            record,
            now: self.backend.now_ms(),
            fallback_ttl,
        };
        if !update.run(&self.backend.connection).await? {
            tracing::debug!(
                target: "session_expiry",
                session = %parsed.id,
                "the session ended while this request ran: its changes are dropped"
            );
        }
        Ok(session_key)
    }
}

/// What every attempt at saving one record shares: its user's slot and index, and the log-in
/// record for the index (all empty without a user).
struct LogIn<'r> {
    record: &'r Record,
    tag: Option<UserTag>,
    user: Option<UserKeys>,
    /// The log-in record, as JSON.
    json: String,
    /// The prefix of the user's data keys.
    base: String,
}

impl<'r> LogIn<'r> {
    fn of(backend: &Backend, record: &'r Record) -> Self {
        let tag = record.user().map(|user| backend.keys.tag_of(user));
        Self {
            record,
            user: tag.as_ref().map(|tag| backend.keys.user(tag)),
            json: tag
                .as_ref()
                .map(|_| login_record(record))
                .unwrap_or_default(),
            base: tag
                .as_ref()
                .map(|tag| backend.keys.sessions_of(tag))
                .unwrap_or_default(),
            tag,
        }
    }
}

/// What the registry keeps about a session from its log-in: where it signed in (for the
/// listing), and whose it is under which policy snapshot (to name the reason it ended once Redis
/// has dropped its data, see [`RedisStore::ended`]).
fn login_record(record: &Record) -> String {
    let (user_agent, ip) = scope::client();
    LoginRecord {
        ip,
        login_ms: record.login_ms(),
        policy: record.policy(),
        user: record.user().map(str::to_owned),
        user_agent,
    }
    .to_json()
}
