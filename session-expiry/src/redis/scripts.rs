//! The Lua scripts: every write is one script, so one round trip, and the registry can never
//! drift from the sessions.
//!
//! A signed-in session's script touches only keys under its user's hash tag (the data key, the
//! index, and the data keys of the sessions the index lists), so it runs on one Redis Cluster
//! slot and no call can be refused as CROSSSLOT. On one Redis a script builds the listed
//! sessions' keys from the index with the `base` it is given; on a cluster it touches only the
//! keys it was given in `KEYS` (see [`listed`](super::listed)). Numbers are Unix milliseconds;
//! Lua holds them exactly (below 2^53).

use std::{sync::LazyLock, time::Duration};

use ::redis::Script;

/// How long a user's index outlives the last of its sessions (24 hours).
///
/// A session's data key dies in Redis at the session's deadline, but its index entry (log-in
/// instant, user, policy snapshot) stays this much longer, so a request arriving after the
/// deadline still gets the expired answer with its reason (`idle` or `absolute`) instead of
/// being taken for a visitor without a session. Past the window, such a request is anonymous.
pub(crate) const INDEX_GRACE: Duration = Duration::from_secs(24 * 3600);

/// Helpers every script starts with (after `GRACE`, see [`INDEX_GRACE`]).
const PRELUDE: &str = r"
local MAX_TTL = 3153600000000 -- a hundred years, in ms

-- The TTL for a session with deadline `d` (empty without one) at `now`.
local function ttl_for(d, now, fallback)
  local ttl = tonumber(fallback)
  if d and d ~= '' then ttl = tonumber(d) - tonumber(now) end
  if ttl > MAX_TTL then ttl = MAX_TTL end
  return ttl
end

local function ms(n) return string.format('%d', n) end

-- An index lives as long as its longest-lived session, and GRACE longer: its entries name the
-- reason of a session whose data key Redis already dropped.
local function cover(index, ttl)
  ttl = ttl + GRACE
  if ttl > MAX_TTL then ttl = MAX_TTL end
  local left = redis.call('PTTL', index)
  if left ~= -2 and left < ttl then redis.call('PEXPIRE', index, ms(ttl)) end
end

-- The sessions `index` lists that this call may touch, as {id, key, info} each, and whether it
-- lists others. On one Redis (`declared` is not '1'), every listed one: its key is `base .. id`.
-- On a cluster, only those whose key the caller declared in KEYS, from KEYS[first] on: while
-- the slot moves to another node, Redis Cluster redirects or retries a call whose keys it knows
-- as a whole, where a key it does not know would fail the call halfway (or, on the node the
-- slot moves to, read as missing).
local function listed(index, base, first, declared)
  local allowed = {}
  for i = first, #KEYS do allowed[KEYS[i]] = true end
  local out, others = {}, false
  local all = redis.call('HGETALL', index)
  for i = 1, #all, 2 do
    local key = base .. all[i]
    if declared ~= '1' or allowed[key] then
      out[#out + 1] = {all[i], key, all[i + 1]}
    else
      others = true
    end
  end
  return out, others
end

-- The fields v, t, s, d of the listed session `id` (data key `key`) if it is still live, after
-- pruning one that is not: gone or revoked, it leaves the index; past its deadline, it is ended
-- now.
local function live(index, key, id, now)
  local cur = redis.call('HMGET', key, 'v', 't', 's', 'd')
  if cur[1] and not cur[2] then
    if not cur[4] or cur[4] == '' or tonumber(cur[4]) > tonumber(now) then return cur end
    redis.call('DEL', key)
  end
  redis.call('HDEL', index, id)
  return nil
end

-- Revokes the session `id` (data key `key`) of the index: its key becomes a tombstone until its
-- own deadline.
local function tombstone(index, key, id)
  local cur = redis.call('HMGET', key, 'v', 't')
  redis.call('HDEL', index, id)
  if cur[1] and not cur[2] then
    redis.call('HDEL', key, 'm')
    redis.call('HSET', key, 't', '1')
    return 1
  end
  return 0
end
";

/// KEYS: data key, [index, listed sessions' keys (cluster)]. ARGV: e, s, d, m, now, fallback TTL,
/// id, info, base, declared.
/// Returns -1 if the key is taken, 0 if the session is already past its deadline, 1 once saved.
const SAVE: &str = r"
if redis.call('EXISTS', KEYS[1]) == 1 then return -1 end
local ttl = ttl_for(ARGV[3], ARGV[5], ARGV[6])
if ttl <= 0 then return 0 end
redis.call('HSET', KEYS[1], 'v', '1', 'e', ARGV[1], 's', ARGV[2], 'd', ARGV[3], 'm', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ms(ttl))
if KEYS[2] then
  local sessions = listed(KEYS[2], ARGV[9], 3, ARGV[10])
  for _, s in ipairs(sessions) do live(KEYS[2], s[2], s[1], ARGV[5]) end
  redis.call('HSET', KEYS[2], ARGV[7], ARGV[8])
  cover(KEYS[2], ttl)
end
return 1
";

/// KEYS: data key, [index]. ARGV: e, s, d, m, now, fallback TTL, id.
/// Returns 0 (and writes nothing) if the session is gone or revoked, 1 once written. Of two
/// expiry states, the one seen last is kept.
const UPDATE: &str = r"
local cur = redis.call('HMGET', KEYS[1], 'v', 't', 's', 'd')
if not cur[1] or cur[2] then return 0 end
local d = ARGV[3]
if ARGV[1] ~= '' and ARGV[2] ~= '' and cur[3] and cur[3] ~= ''
    and tonumber(cur[3]) > tonumber(ARGV[2]) then
  d = cur[4]
  redis.call('HSET', KEYS[1], 'm', ARGV[4])
else
  redis.call('HSET', KEYS[1], 'e', ARGV[1], 's', ARGV[2], 'd', ARGV[3], 'm', ARGV[4])
end
local ttl = ttl_for(d, ARGV[5], ARGV[6])
if ttl <= 0 then
  redis.call('DEL', KEYS[1])
  if KEYS[2] then redis.call('HDEL', KEYS[2], ARGV[7]) end
  return 1
end
redis.call('PEXPIRE', KEYS[1], ms(ttl))
if KEYS[2] then
  if ARGV[1] == '' then redis.call('HDEL', KEYS[2], ARGV[7]) else cover(KEYS[2], ttl) end
end
return 1
";

/// KEYS: data key, [index]. ARGV: id.
/// Returns 1 if a live session was deleted; a tombstone stays until its deadline (0).
const DELETE: &str = r"
local cur = redis.call('HMGET', KEYS[1], 'v', 't')
if cur[2] then return 0 end
redis.call('DEL', KEYS[1])
if KEYS[2] then redis.call('HDEL', KEYS[2], ARGV[1]) end
if cur[1] then return 1 end
return 0
";

/// KEYS: data key, [index]. ARGV: TTL.
/// Extends a live session without a deadline of its own; returns 1 if it did.
const EXTEND: &str = r"
local cur = redis.call('HMGET', KEYS[1], 'v', 't', 'd')
if not cur[1] or cur[2] or (cur[3] and cur[3] ~= '') then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
if KEYS[2] then cover(KEYS[2], tonumber(ARGV[1])) end
return 1
";

/// KEYS: index, [listed sessions' keys (cluster)]. ARGV: base, now, declared.
/// Returns id, info, s, d of each live session, flat.
const LIST: &str = r"
local out = {}
for _, s in ipairs((listed(KEYS[1], ARGV[1], 2, ARGV[3]))) do
  local cur = live(KEYS[1], s[2], s[1], ARGV[2])
  if cur then
    out[#out + 1] = s[1]
    out[#out + 1] = s[3]
    out[#out + 1] = cur[3] or ''
    out[#out + 1] = cur[4] or ''
  end
end
return out
";

/// KEYS: index, then the session's key (`one`) or the listed sessions' keys (cluster).
/// ARGV: base, mode (`one`, `all`, `others`), id (the one, or the one to keep), declared.
/// Returns how many live sessions were revoked; -1, having written nothing, if the index lists
/// a session whose key was not declared (saved since the caller read the index): read it again.
const REVOKE: &str = r"
if ARGV[2] == 'one' then return tombstone(KEYS[1], KEYS[2], ARGV[3]) end
local sessions, others = listed(KEYS[1], ARGV[1], 2, ARGV[4])
if others then return -1 end
local n = 0
for _, s in ipairs(sessions) do
  if ARGV[2] == 'all' or s[1] ~= ARGV[3] then n = n + tombstone(KEYS[1], s[2], s[1]) end
end
return n
";

/// The scripts, each with its hash computed once.
pub(crate) struct Scripts {
    pub(crate) save: Script,
    pub(crate) update: Script,
    pub(crate) delete: Script,
    pub(crate) extend: Script,
    pub(crate) list: Script,
    pub(crate) revoke: Script,
}

pub(crate) static SCRIPTS: LazyLock<Scripts> = LazyLock::new(|| {
    let grace = INDEX_GRACE.as_millis();
    let script = |body: &str| Script::new(&format!("local GRACE = {grace}\n{PRELUDE}{body}"));
    Scripts {
        save: script(SAVE),
        update: script(UPDATE),
        delete: script(DELETE),
        extend: script(EXTEND),
        list: script(LIST),
        revoke: script(REVOKE),
    }
});
