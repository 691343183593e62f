//! The Lua scripts: every write is one script, so one round trip, and the registry can never
//! drift from the sessions.
//!
//! # A user's index
//! Four keys under the user's hash tag, besides each session's data key:
//!
//! | key | type | holds |
//! | --- | --- | --- |
//! | `{tag}:i` | hash | id → what the log-in recorded (JSON): every live session, and the sessions that ended by their deadline less than [`INDEX_GRACE`] ago, the latest [`ENDED_KEPT`] at most |
//! | `{tag}:a` | sorted set | the live sessions by last activity (Unix ms): the listing's order, and eviction's (least recently active first) |
//! | `{tag}:d` | sorted set | the same sessions by the instant their data expires in Redis (their deadline, or the fallback TTL's end without one): what has ended is found with a range query |
//! | `{tag}:g` | sorted set | the sessions that ended by their deadline, by the instant to forget their log-in record ([`INDEX_GRACE`] later) |
//!
//! Every operation on one session, and one page of the list, costs O(log n) in the user's
//! session count n: sorted-set updates and range queries with a `LIMIT`, never a walk of the
//! whole index. Ended sessions are cleared a few at a time ([`PRUNE_BATCH`]) by each log-in and
//! each listing, so the work a session's end causes is done once, spread over later calls.
//! The records of ended sessions are bounded ([`ENDED_KEPT`]), so the index holds about a
//! user's live sessions and no more than that many ended ones, however often they sign in.
//! Revoking all (or all other) sessions walks the log-in records in bounded steps (`HSCAN`):
//! O(n), rare and explicit. The index's keys share one TTL: the longest-lived session's, plus
//! [`INDEX_GRACE`].
//!
//! # Redis Cluster
//! A signed-in session's script touches only keys under its user's hash tag (the data key, the
//! index, and the data keys of the sessions the index lists), so it runs on one Redis Cluster
//! slot and no call can be refused as CROSSSLOT. On one Redis a script builds the listed
//! sessions' data keys from their ids with the `base` it is given; on a cluster it touches only
//! the keys it was given in `KEYS` (see [`listed`](super::listed)): the PLAN script first names
//! the sessions a log-in or a listing will touch, and the script that follows answers `-2` with
//! the ids it was not given, having written nothing, if it meets any (the index changed in
//! between): the caller declares them too and asks again.
//! Numbers are Unix milliseconds; Lua holds them exactly (below 2^53).

//!
//! # Files
//! Each script is a `.lua` file beside this one; every script is one header of numbers from
//! the Rust constants (nothing quoted is spliced in), then `prelude.lua`, then its body. The
//! tombstone marks are passed in `ARGV`. Each script has one wrapper here taking its arguments
//! by name and answering a reply enum ([`reply`]): no `ARGV` index, reply code or mode string
//! is used outside this module.

mod reply;

use std::{sync::LazyLock, time::Duration};

use ::redis::{FromRedisValue, Script, ScriptInvocation, Value};

pub(crate) use self::reply::{ListReply, ListedSession, RevokeReply, SaveReply};
use super::{
    backend::Backend,
    connection::Connection,
    id::SessionId,
    keys::{UserKeys, UserTag},
    listed::Listed,
    page::PageCursor,
    record::{Record, Tombstone},
    RedisStoreError,
};
use crate::state::SessionCap;

/// How long a user's index outlives the last of its sessions (24 hours).
///
/// A session's data key dies in Redis at the session's deadline, but its log-in record (log-in
/// instant, user, policy snapshot) stays this much longer, so a request arriving after the
/// deadline still gets the expired answer with its reason (`idle` or `absolute`) instead of
/// being taken for a visitor without a session. Past the window, such a request is anonymous.
pub(crate) const INDEX_GRACE: Duration = Duration::from_secs(24 * 3600);

/// How many ended sessions one log-in or listing clears from the index at most (and, as many,
/// log-in records past their grace): bounded work per call, and more than the one session a
/// log-in adds, so the index keeps up.
pub(crate) const PRUNE_BATCH: usize = 16;

/// How many records of ended sessions a user's index keeps at most, the latest to end: their
/// next request still learns why they ended (`idle`, `absolute`); an older one is then taken
/// for a visitor without a session. Without a bound, an account signing in over and over (a
/// script, a 40-second idle timeout) would leave hundreds of thousands of records a day.
/// Trimmed [`PRUNE_BATCH`] at a time by each log-in and listing.
pub(crate) const ENDED_KEPT: usize = 256;

/// How many sessions one log-in evicts at most. One makes room for the new session; more are
/// evicted only after the limit was lowered below what a user holds, and then over several
/// log-ins, so that none of them runs long.
pub(crate) const EVICT_BATCH: usize = 16;

/// The longest TTL the scripts set: a hundred years, in ms.
const MAX_TTL_MS: u64 = 3_153_600_000_000;

/// The scripts, each with its hash computed once.
struct Scripts {
    save: Script,
    update: Script,
    delete: Script,
    extend: Script,
    plan: Script,
    list: Script,
    revoke: Script,
    touch: Script,
}

static SCRIPTS: LazyLock<Scripts> = LazyLock::new(|| {
    // Numbers only: a constant can never break the Lua it is put in front of.
    let grace: u128 = INDEX_GRACE.as_millis();
    let header = format!(
        "local GRACE = {grace}\nlocal PRUNE = {PRUNE_BATCH}\nlocal EVICT = {EVICT_BATCH}\n\
         local ENDED_KEPT = {ENDED_KEPT}\nlocal MAX_TTL = {MAX_TTL_MS}\n"
    );
    let prelude = include_str!("prelude.lua");
    let script = |body: &str| Script::new(&format!("{header}{prelude}{body}"));
    Scripts {
        save: script(include_str!("save.lua")),
        update: script(include_str!("update.lua")),
        delete: script(include_str!("delete.lua")),
        extend: script(include_str!("extend.lua")),
        plan: script(include_str!("plan.lua")),
        list: script(include_str!("list.lua")),
        revoke: script(include_str!("revoke.lua")),
        touch: script(include_str!("touch.lua")),
    }
});

/// Runs `invocation` and parses its reply: a reply that does not parse is
/// [`RedisStoreError::Corrupt`] naming the script, never a panic (nor an outage to retry).
async fn run<R: FromRedisValue>(
    connection: &Connection,
    name: &str,
    invocation: &ScriptInvocation<'_>,
) -> Result<R, RedisStoreError> {
    let value: Value = connection.invoke(invocation).await?;
    R::from_redis_value(value)
        .map_err(|error| RedisStoreError::Corrupt(format!("the {name} script answered {error}")))
}

/// The user's index, as the scripts take it in `KEYS`.
fn declare_user(invocation: &mut ScriptInvocation<'_>, user: &UserKeys) {
    for key in [&user.info, &user.activity, &user.expiries, &user.ended] {
        invocation.key(key);
    }
}

/// The sessions `listed` names, after the other keys; and the `declared` argument, `1` when
/// only the declared keys may be touched.
fn declare_listed(invocation: &mut ScriptInvocation<'_>, listed: &Listed) -> &'static str {
    match listed.keys() {
        Some(keys) => {
            for key in keys {
                invocation.key(key);
            }
            "1"
        }
        None => "",
    }
}

/// The keys of a script on one session.
#[derive(Clone, Copy)]
pub(crate) struct SessionKeys<'a> {
    /// Its data key.
    pub(crate) data: &'a str,
    /// Its user's index, for a signed-in session.
    pub(crate) user: Option<&'a UserKeys>,
}

impl SessionKeys<'_> {
    fn invocation<'s>(&self, script: &'s Script) -> ScriptInvocation<'s> {
        let mut invocation = script.prepare_invoke();
        invocation.key(self.data);
        if let Some(user) = self.user {
            declare_user(&mut invocation, user);
        }
        invocation
    }
}

/// What save and update take first: the record's fields, now, and the fallback TTL.
fn record_args(invocation: &mut ScriptInvocation<'_>, record: &Record, now: u64, fallback: u64) {
    for field in record.fields() {
        invocation.arg(field);
    }
    invocation.arg(now).arg(fallback);
}

/// `save.lua`: a new session under a fresh key, within its user's session limit.
pub(crate) struct Save<'a> {
    pub(crate) keys: SessionKeys<'a>,
    /// On a cluster, the sessions the save may prune or evict.
    pub(crate) listed: &'a Listed,
    pub(crate) id: &'a SessionId,
    pub(crate) record: &'a Record,
    pub(crate) now: u64,
    /// The TTL of a session without a deadline, ms.
    pub(crate) fallback_ttl: u64,
    /// The log-in record for the user's index (JSON; empty without a user).
    pub(crate) login: &'a str,
    /// The prefix of the user's data keys, before an id.
    pub(crate) base: &'a str,
    /// The user's session limit, if any.
    pub(crate) cap: Option<SessionCap>,
}

impl Save<'_> {
    pub(crate) async fn run(&self, connection: &Connection) -> Result<SaveReply, RedisStoreError> {
        let mut invocation = self.keys.invocation(&SCRIPTS.save);
        let declared = declare_listed(&mut invocation, self.listed);
        record_args(&mut invocation, self.record, self.now, self.fallback_ttl);
        let (max, refuse) = match self.cap {
            Some(cap) => (cap.max.to_string(), if cap.refuse { "1" } else { "" }),
            None => (String::new(), ""),
        };
        invocation
            .arg(self.id.as_str())
            .arg(self.login)
            .arg(self.base)
            .arg(declared)
            .arg(max)
            .arg(refuse)
            .arg(Tombstone::Evicted.mark());
        run(connection, "save", &invocation).await
    }
}

/// `update.lua`: a request's changes to a live session (the refresh, on the hot path: the
/// invocation is built from borrowed keys, as cheaply as the fields allow).
pub(crate) struct Update<'a> {
    pub(crate) keys: SessionKeys<'a>,
    pub(crate) id: &'a SessionId,
    pub(crate) record: &'a Record,
    pub(crate) now: u64,
    pub(crate) fallback_ttl: u64,
}

impl Update<'_> {
    /// Whether it was written: `false` if the session is gone or revoked.
    pub(crate) async fn run(&self, connection: &Connection) -> Result<bool, RedisStoreError> {
        let mut invocation = self.keys.invocation(&SCRIPTS.update);
        record_args(&mut invocation, self.record, self.now, self.fallback_ttl);
        invocation.arg(self.id.as_str());
        reply::flag(run(connection, "update", &invocation).await?, "update")
    }
}

/// `delete.lua`: a log-out.
pub(crate) struct Delete<'a> {
    pub(crate) keys: SessionKeys<'a>,
    pub(crate) id: &'a SessionId,
}

impl Delete<'_> {
    /// Whether a live session was deleted (a tombstone stays until its deadline).
    pub(crate) async fn run(&self, connection: &Connection) -> Result<bool, RedisStoreError> {
        let mut invocation = self.keys.invocation(&SCRIPTS.delete);
        invocation.arg(self.id.as_str());
        reply::flag(run(connection, "delete", &invocation).await?, "delete")
    }
}

/// `extend.lua`: actix-session's `update_ttl`, for a session without a deadline of its own.
pub(crate) struct Extend<'a> {
    pub(crate) keys: SessionKeys<'a>,
    pub(crate) id: &'a SessionId,
    pub(crate) ttl: u64,
    pub(crate) now: u64,
}

impl Extend<'_> {
    /// Whether it was extended.
    pub(crate) async fn run(&self, connection: &Connection) -> Result<bool, RedisStoreError> {
        let mut invocation = self.keys.invocation(&SCRIPTS.extend);
        invocation.arg(self.ttl).arg(self.now).arg(self.id.as_str());
        reply::flag(run(connection, "extend", &invocation).await?, "extend")
    }
}

/// `touch.lua`: a long-lived connection's activity, on a signed-in session.
pub(crate) struct Touch<'a> {
    pub(crate) keys: SessionKeys<'a>,
    pub(crate) id: &'a SessionId,
    /// The expiry state entry, last seen moved to `seen`.
    pub(crate) expiry: &'a str,
    pub(crate) seen: u64,
    pub(crate) deadline: Option<u64>,
    pub(crate) now: u64,
}

impl Touch<'_> {
    /// Whether it was written: `false` if the session ended, or a request was as recent.
    pub(crate) async fn run(&self, connection: &Connection) -> Result<bool, RedisStoreError> {
        let mut invocation = self.keys.invocation(&SCRIPTS.touch);
        let deadline = self.deadline.map_or(String::new(), |at| at.to_string());
        invocation
            .arg(self.expiry)
            .arg(self.seen)
            .arg(deadline)
            .arg(self.now)
            .arg(self.id.as_str());
        reply::flag(run(connection, "touch", &invocation).await?, "touch")
    }
}

/// What `plan.lua` plans for.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Plan<'a> {
    /// A log-in under this session limit (`None`: no limit, or one that refuses).
    Save { max: Option<u32> },
    /// One page of the list.
    List {
        after: Option<&'a PageCursor>,
        limit: usize,
    },
}

impl Plan<'_> {
    /// The sessions a save or a listing of `tag` at `now` will touch, as this plan names them,
    /// if scripts must declare the keys they touch (a cluster); nothing on one Redis.
    pub(crate) async fn listed(
        &self,
        backend: &Backend,
        tag: &UserTag,
        now: u64,
    ) -> Result<Listed, RedisStoreError> {
        if !backend.connection.declares_keys() {
            return Ok(Listed::default());
        }
        let ids = self
            .run(&backend.connection, &backend.keys.user(tag), now)
            .await?;
        Ok(Listed::of(backend, tag, ids))
    }

    /// The ids of the sessions the save or list script given the same arguments will touch.
    pub(crate) async fn run(
        &self,
        connection: &Connection,
        user: &UserKeys,
        now: u64,
    ) -> Result<Vec<SessionId>, RedisStoreError> {
        let mut invocation = SCRIPTS.plan.prepare_invoke();
        invocation.key(&user.activity).key(&user.expiries).arg(now);
        match *self {
            Plan::Save { max } => {
                invocation
                    .arg("save")
                    .arg(max.map(|max| max.to_string()).unwrap_or_default());
            }
            Plan::List { after, limit } => {
                let (activity, id) = PageCursor::args(after);
                invocation.arg("list").arg(activity).arg(id).arg(limit);
            }
        }
        let reply::Ids(ids) = run(connection, "plan", &invocation).await?;
        Ok(ids)
    }
}

/// `list.lua`: one page of a user's live sessions.
pub(crate) struct List<'a> {
    pub(crate) user: &'a UserKeys,
    pub(crate) listed: &'a Listed,
    pub(crate) base: &'a str,
    pub(crate) now: u64,
    pub(crate) after: Option<&'a PageCursor>,
    pub(crate) limit: usize,
}

impl List<'_> {
    pub(crate) async fn run(&self, connection: &Connection) -> Result<ListReply, RedisStoreError> {
        let mut invocation = SCRIPTS.list.prepare_invoke();
        declare_user(&mut invocation, self.user);
        let declared = declare_listed(&mut invocation, self.listed);
        let (activity, after) = PageCursor::args(self.after);
        invocation
            .arg(self.base)
            .arg(self.now)
            .arg(declared)
            .arg(activity)
            .arg(after)
            .arg(self.limit);
        run(connection, "list", &invocation).await
    }
}

/// Which sessions of a user `revoke.lua` revokes.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Revoke<'a> {
    /// This one.
    One(&'a SessionId),
    /// All of them.
    All,
    /// All but this one.
    Others(&'a SessionId),
}

impl Revoke<'_> {
    /// Revokes: the one session, or the sessions of the batch `ids` (a step of revoking all or
    /// all others), declaring their keys.
    pub(crate) async fn run(
        &self,
        connection: &Connection,
        user: &UserKeys,
        base: &str,
        ids: &[String],
    ) -> Result<usize, RedisStoreError> {
        let mut invocation = SCRIPTS.revoke.prepare_invoke();
        declare_user(&mut invocation, user);
        let (mode, id) = match *self {
            Revoke::One(id) => {
                invocation.key(format!("{base}{id}"));
                ("one", id.as_str())
            }
            Revoke::All => ("all", ""),
            Revoke::Others(id) => ("others", id.as_str()),
        };
        if !matches!(self, Revoke::One(_)) {
            for id in ids {
                invocation.key(format!("{base}{id}"));
            }
        }
        invocation
            .arg(base)
            .arg(mode)
            .arg(id)
            .arg(Tombstone::Revoked.mark());
        let RevokeReply(revoked) = run(connection, "revoke", &invocation).await?;
        Ok(revoked)
    }
}
