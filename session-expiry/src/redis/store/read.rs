//! The read path of [`RedisStore`](super::RedisStore): a session's record, and what the index
//! still says of one whose data Redis dropped at its deadline.

use super::RedisStore;
use crate::{
    redis::{
        id::SessionId,
        keys::{ParsedKey, UserTag},
        record::{assemble, assemble_layout_1, Unreadable, LAYOUT_1_FIELDS, VIEW_FIELD},
        RedisStoreError,
    },
    store::{session_api::SessionState, LoginRecord, StoreMarker},
};

impl RedisStore {
    /// What the user's index still says about a signed-in session whose data key is gone:
    /// Redis dropped it at its deadline, and the index, which outlives its sessions by
    /// [`INDEX_GRACE`](super::scripts::INDEX_GRACE), names whose it was. `None` if the index no
    /// longer lists it (logged out, revoked, pruned, or saved before entries named their user).
    pub(super) async fn ended(
        &self,
        tag: &UserTag,
        id: &SessionId,
    ) -> Result<Option<StoreMarker>, RedisStoreError> {
        let mut cmd = ::redis::cmd("HGET");
        cmd.arg(self.backend.keys.index(tag)).arg(id.as_str());
        let info: Option<String> = self.backend.connection.query(&cmd).await?;
        let Some((login_ms, user, policy)) = info
            .and_then(|raw| LoginRecord::parse(&raw))
            .and_then(LoginRecord::ended)
        else {
            return Ok(None);
        };
        if self.backend.keys.tag_of(&user) != *tag {
            return Ok(None);
        }
        Ok(Some(StoreMarker::Ended {
            login_ms,
            user,
            policy,
        }))
    }

    /// Reads the state of the session `parsed` names: `None` for no session.
    pub(super) async fn read(
        &self,
        parsed: &ParsedKey,
    ) -> Result<Result<Option<SessionState>, Unreadable>, RedisStoreError> {
        let key = self.data_key(parsed);
        // One field, one bulk reply: parsing a reply costs the connection's task per element.
        let mut cmd = ::redis::Cmd::with_capacity(3, "HGET".len() + key.len() + VIEW_FIELD.len());
        cmd.arg("HGET").arg(&key).arg(VIEW_FIELD);
        let view: Option<String> = self.backend.connection.query(&cmd).await?;
        match view {
            Some(view) => Ok(assemble(&view, &parsed.id, &self.backend.state_key).map(Some)),
            // Boxed: the rare path's futures would make every request's future larger to move.
            None => Box::pin(self.read_without_view(parsed, &key)).await,
        }
    }

    /// No session, or one an earlier release saved (layout 1): the rare path, so its extra round
    /// trips (same slot) are only taken here.
    pub(super) async fn read_without_view(
        &self,
        parsed: &ParsedKey,
        key: &str,
    ) -> Result<Result<Option<SessionState>, Unreadable>, RedisStoreError> {
        let mut cmd = ::redis::cmd("HMGET");
        cmd.arg(key).arg(&LAYOUT_1_FIELDS);
        let fields = self.backend.connection.query(&cmd).await?;
        match (
            assemble_layout_1(fields, &parsed.id, &self.backend.state_key),
            &parsed.tag,
        ) {
            // A signed-in session without data: Redis dropped it at its deadline.
            (Ok(None), Some(tag)) => Ok(Ok(self.ended(tag, &parsed.id).await?.map(|marker| {
                let mut state = SessionState::new();
                marker.write(&mut state);
                state
            }))),
            (assembled, _) => Ok(assembled),
        }
    }
}
