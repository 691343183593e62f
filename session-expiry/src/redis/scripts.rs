//! The Lua scripts: every write is one script, so one round trip, and the registry can never
//! drift from the sessions.
//!
//! # A user's index
//! Four keys under the user's hash tag, besides each session's data key:
//!
//! | key | type | holds |
//! | --- | --- | --- |
//! | `{tag}:i` | hash | id → what the log-in recorded (JSON): every live session, and every session that ended by its deadline less than [`INDEX_GRACE`] ago |
//! | `{tag}:a` | sorted set | the live sessions by last activity (Unix ms): the listing's order, and eviction's (least recently active first) |
//! | `{tag}:d` | sorted set | the same sessions by the instant their data expires in Redis (their deadline, or the fallback TTL's end without one): what has ended is found with a range query |
//! | `{tag}:g` | sorted set | the sessions that ended by their deadline, by the instant to forget their log-in record ([`INDEX_GRACE`] later) |
//!
//! Every operation on one session, and one page of the list, costs O(log n) in the user's
//! session count n: sorted-set updates and range queries with a `LIMIT`, never a walk of the
//! whole index. Ended sessions are cleared a few at a time ([`PRUNE_BATCH`]) by each log-in and
//! each listing, so the work a session's end causes is done once, spread over later calls.
//! Revoking all (or all other) sessions walks the log-in records (`HKEYS`): O(n), rare and
//! explicit. The index's keys share one TTL: the longest-lived session's, plus [`INDEX_GRACE`].
//!
//! # Redis Cluster
//! A signed-in session's script touches only keys under its user's hash tag (the data key, the
//! index, and the data keys of the sessions the index lists), so it runs on one Redis Cluster
//! slot and no call can be refused as CROSSSLOT. On one Redis a script builds the listed
//! sessions' data keys from their ids with the `base` it is given; on a cluster it touches only
//! the keys it was given in `KEYS` (see [`listed`](super::listed)): the `PLAN` script first names
//! the sessions a log-in or a listing will touch, and the script that follows answers `-2` with
//! the ids it was not given, having written nothing, if it meets any (the index changed in
//! between): the caller declares them too and asks again.
//! Numbers are Unix milliseconds; Lua holds them exactly (below 2^53).

use std::{sync::LazyLock, time::Duration};

use ::redis::Script;

use super::record::{EVICTED, REVOKED};

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

/// How many sessions one log-in evicts at most. One makes room for the new session; more are
/// evicted only after the limit was lowered below what a user holds, and then over several
/// log-ins, so that none of them runs long.
pub(crate) const EVICT_BATCH: usize = 16;

/// Helpers every script starts with (after `GRACE`, `PRUNE` and `EVICT`, see the constants, and
/// the tombstone marks `REVOKED` and `EVICTED`, see [`record`](super::record)).
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

-- The user's index, from KEYS[first] on: log-in records, and the sessions by activity, by
-- expiry, and (ended) by the instant to forget them.
local function user(first)
  return {i = KEYS[first], a = KEYS[first + 1], d = KEYS[first + 2], g = KEYS[first + 3]}
end

-- Whether this call may touch the data key `key`. On one Redis (`declared` is not '1'), any:
-- it builds them from ids. On a cluster, only those the caller declared in KEYS, from
-- KEYS[first] on: while the slot moves to another node, Redis Cluster redirects or retries a
-- call whose keys it knows as a whole, where a key it does not know would fail the call halfway
-- (or, on the node the slot moves to, read as missing).
local function allowance(first, declared)
  if declared ~= '1' then return function() return true end end
  local allowed = {}
  for n = first, #KEYS do allowed[KEYS[n]] = true end
  return function(key) return allowed[key] == true end
end

-- The log-in records, the activity set and the expiry set live as long as the longest-lived
-- session, and GRACE longer: the records name the reason of a session whose data Redis already
-- dropped. They share one TTL that only grows: one PTTL tells whether all three need more.
-- `fresh`: a sorted set may have just been created (without a TTL).
local function cover(u, ttl, fresh)
  ttl = ttl + GRACE
  if ttl > MAX_TTL then ttl = MAX_TTL end
  local left = redis.call('PTTL', u.i)
  if fresh or (left ~= -2 and left < ttl) then
    if left > ttl then ttl = left end
    for _, key in ipairs({u.i, u.a, u.d}) do redis.call('PEXPIRE', key, ms(ttl)) end
  end
end

-- A session's `r` field (see `record`): its tombstone mark (empty while live), its expiry
-- state `e` (length-prefixed: it may hold any character) and its other entries `m`.
local function view(mark, e, m)
  return mark .. ':' .. #e .. ':' .. e .. m
end

-- The expiry state the session's key `key` holds in layout `v`: `1` (an earlier release's, in
-- a field of its own) or `2` (in `r`).
local function stored_expiry(key, v)
  if v == '1' then return redis.call('HGET', key, 'e') or '' end
  local r = redis.call('HGET', key, 'r') or ''
  local _, head, n = string.find(r, '^[^:]*:(%d+):')
  if not head then return '' end
  return string.sub(r, head + 1, head + tonumber(n))
end

-- Forgets the session `id` everywhere in the index (logged out, revoked, evicted).
local function drop(u, id)
  redis.call('HDEL', u.i, id)
  redis.call('ZREM', u.a, id)
  redis.call('ZREM', u.d, id)
  redis.call('ZREM', u.g, id)
end

-- The session `id` (data key `key`, which this call may touch if `may`) has ended by its
-- deadline or TTL at `at`: it leaves the live sets, its log-in record stays until GRACE after
-- `at` (its next request still learns why it ended), and its data goes if it is still there
-- (the app's clock ran ahead of Redis's). Returns when the record is to be forgotten.
local function expire(u, key, id, at, may)
  redis.call('ZREM', u.a, id)
  redis.call('ZREM', u.d, id)
  if may(key) and redis.call('HEXISTS', key, 't') == 0 then redis.call('DEL', key) end
  local forget = at + GRACE
  redis.call('ZADD', u.g, ms(forget), id)
  return forget
end

-- The set of ended sessions lives until its last log-in record is to be forgotten, at `forget`.
local function cover_ended(u, forget, now)
  local ttl = forget - tonumber(now)
  if redis.call('PTTL', u.g) < ttl then redis.call('PEXPIRE', u.g, ms(ttl)) end
end

-- The ended sessions a prune meets: at most PRUNE, as {id, at, id, at, ...}.
local function ended(d, now)
  return redis.call('ZRANGEBYSCORE', d, '-inf', now, 'WITHSCORES', 'LIMIT', 0, PRUNE)
end

-- Bounded clean-up: ends (see `expire`) the sessions whose data expired by `now`, and forgets
-- the log-in records whose grace is over; at most PRUNE of each.
local function prune(u, base, may, now)
  local last = 0
  local gone = ended(u.d, now)
  for n = 1, #gone, 2 do
    local forget = expire(u, base .. gone[n], gone[n], tonumber(gone[n + 1]), may)
    if forget > last then last = forget end
  end
  if last > 0 then cover_ended(u, last, now) end
  local forgotten = redis.call('ZRANGEBYSCORE', u.g, '-inf', now, 'LIMIT', 0, PRUNE)
  for _, id in ipairs(forgotten) do
    redis.call('HDEL', u.i, id)
    redis.call('ZREM', u.g, id)
  end
end

-- How many sessions of the user are live at `now` (their data has not expired): O(log n).
local function live_count(d, now)
  return redis.call('ZCOUNT', d, '(' .. now, '+inf')
end

-- The sessions to evict so that one more fits under `max` with `live` live ones: the least
-- recently active, at most EVICT, skipping sessions that have ended (a prune's, and they make
-- no room). Looks at no more than EVICT + PRUNE entries.
local function victims(u, now, max, live)
  local want = live - max + 1
  if want <= 0 then return {} end
  if want > EVICT then want = EVICT end
  local out = {}
  for _, id in ipairs(redis.call('ZRANGE', u.a, 0, want + PRUNE - 1)) do
    local at = redis.call('ZSCORE', u.d, id)
    if at and tonumber(at) > tonumber(now) then
      out[#out + 1] = id
      if #out == want then break end
    end
  end
  return out
end

-- One page of the activity set `a`, most recently active first: up to `limit` entries after
-- the cursor (activity `s`, id `c`; from the top when `s` is empty), as {id, score, ...}, and
-- whether more follow. The cursor's place is found by putting it back in the set for a moment
-- (at the activity it had on the page before): the page then starts right after it even if
-- that session has ended or been active again since, in O(log n + limit), without repeating or
-- skipping a session that stayed where it was.
local function page_of(a, s, c, limit)
  local start, was = 0, false
  if s ~= '' then
    was = redis.call('ZSCORE', a, c)
    redis.call('ZADD', a, s, c)
    start = redis.call('ZREVRANK', a, c) + 1
  end
  local got = redis.call('ZREVRANGE', a, start, start + limit, 'WITHSCORES')
  if s ~= '' then
    if was then redis.call('ZADD', a, was, c) else redis.call('ZREM', a, c) end
  end
  local more = #got > 2 * limit
  if more then
    got[#got] = nil
    got[#got] = nil
  end
  return got, more
end

-- The sessions whose log-in records `index` holds that this call may touch, as {id, key} each,
-- and whether it holds others (see `allowance`): what revoking all or all other sessions walks.
local function listed(index, base, may)
  local out, others = {}, false
  for _, id in ipairs(redis.call('HKEYS', index)) do
    local key = base .. id
    if may(key) then
      out[#out + 1] = {id, key}
    else
      others = true
    end
  end
  return out, others
end

-- Ends the session `id` (data key `key`) by the store's decision: its key becomes a tombstone
-- until its own deadline, marked `why` (REVOKED or EVICTED), and it leaves the index.
-- Returns 1 if it was live.
local function tombstone(u, key, id, why)
  local cur = redis.call('HMGET', key, 'v', 't')
  drop(u, id)
  if cur[1] and not cur[2] then
    local e = stored_expiry(key, cur[1])
    redis.call('HDEL', key, 'e', 'm') -- layout 1's
    redis.call('HSET', key, 'v', '2', 't', why, 'r', view(why, e, ''))
    return 1
  end
  return 0
end
";

/// KEYS: data key, [index (4 keys), data keys the plan named (cluster)]. ARGV: e, s, d, m, now,
/// fallback TTL, id, info, base, declared, session limit (empty: none), refuse (`1`).
/// Returns {'-1'} if the key is taken, {'0'} if the session is already past its deadline,
/// {'-3', max} if the user already holds `max` live sessions and the limit refuses, {'-2', ids}
/// if sessions to evict were not declared (declare them, read the plan again), {'1', evicted}
/// once saved.
const SAVE: &str = r"
if redis.call('EXISTS', KEYS[1]) == 1 then return {'-1'} end
local now = ARGV[5]
local ttl = ttl_for(ARGV[3], now, ARGV[6])
if ttl <= 0 then return {'0'} end
local u, may, evict = nil, nil, {}
if KEYS[2] then
  u = user(2)
  may = allowance(6, ARGV[10])
  if ARGV[11] ~= '' then
    local max = tonumber(ARGV[11])
    local live = live_count(u.d, now)
    if live >= max and ARGV[12] == '1' then return {'-3', ARGV[11]} end
    -- Chosen before the prune below, which only takes ended sessions: the plan saw the same.
    evict = victims(u, now, max, live)
    local missing = {'-2'}
    for _, id in ipairs(evict) do
      if not may(ARGV[9] .. id) then missing[#missing + 1] = id end
    end
    if #missing > 1 then return missing end
  end
end
redis.call('HSET', KEYS[1], 'v', '2', 's', ARGV[2], 'd', ARGV[3], 'r', view('', ARGV[1], ARGV[4]))
redis.call('PEXPIRE', KEYS[1], ms(ttl))
if u then
  prune(u, ARGV[9], may, now)
  for _, id in ipairs(evict) do tombstone(u, ARGV[9] .. id, id, EVICTED) end
  redis.call('HSET', u.i, ARGV[7], ARGV[8])
  if ARGV[2] ~= '' then redis.call('ZADD', u.a, ARGV[2], ARGV[7]) end
  redis.call('ZADD', u.d, ms(tonumber(now) + ttl), ARGV[7])
  cover(u, ttl, true)
end
return {'1', tostring(#evict)}
";

/// KEYS: data key, [index (4 keys)]. ARGV: e, s, d, m, now, fallback TTL, id.
/// Returns 0 (and writes nothing) if the session is gone or revoked, 1 once written. Of two
/// expiry states, the one seen last is kept.
const UPDATE: &str = r"
local cur = redis.call('HMGET', KEYS[1], 'v', 't', 's', 'd')
if not cur[1] or cur[2] then return 0 end
local e, s, d = ARGV[1], ARGV[2], ARGV[3]
if ARGV[1] ~= '' and ARGV[2] ~= '' and cur[3] and cur[3] ~= ''
    and tonumber(cur[3]) > tonumber(ARGV[2]) then
  e, s, d = stored_expiry(KEYS[1], cur[1]), cur[3], cur[4] or ''
end
redis.call('HSET', KEYS[1], 'v', '2', 's', s, 'd', d, 'r', view('', e, ARGV[4]))
if cur[1] == '1' then redis.call('HDEL', KEYS[1], 'e', 'm') end
local ttl = ttl_for(d, ARGV[5], ARGV[6])
local u = KEYS[2] and user(2)
if ttl <= 0 then
  redis.call('DEL', KEYS[1])
  if u then drop(u, ARGV[7]) end
  return 1
end
redis.call('PEXPIRE', KEYS[1], ms(ttl))
if u then
  if ARGV[1] == '' then
    drop(u, ARGV[7])
  else
    -- Not `XX`: the session is live (checked above), and a session saved by an earlier release
    -- of this store, which kept no sorted sets, joins them at its first refresh.
    local fresh = redis.call('ZADD', u.d, ms(tonumber(ARGV[5]) + ttl), ARGV[7]) == 1
    if s and s ~= '' then redis.call('ZADD', u.a, s, ARGV[7]) end
    -- A prune whose clock ran ahead may have taken it for ended: its record must stay.
    if fresh then redis.call('ZREM', u.g, ARGV[7]) end
    cover(u, ttl, fresh)
  end
end
return 1
";

/// KEYS: data key, [index (4 keys)]. ARGV: id.
/// Returns 1 if a live session was deleted; a tombstone stays until its deadline (0).
const DELETE: &str = r"
local cur = redis.call('HMGET', KEYS[1], 'v', 't')
if cur[2] then return 0 end
redis.call('DEL', KEYS[1])
if KEYS[2] then drop(user(2), ARGV[1]) end
if cur[1] then return 1 end
return 0
";

/// KEYS: data key, [index (4 keys)]. ARGV: TTL, now, id.
/// Extends a live session without a deadline of its own; returns 1 if it did.
const EXTEND: &str = r"
local cur = redis.call('HMGET', KEYS[1], 'v', 't', 'd')
if not cur[1] or cur[2] or (cur[3] and cur[3] ~= '') then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
if KEYS[2] then
  local u = user(2)
  redis.call('ZADD', u.d, 'XX', ms(tonumber(ARGV[2]) + tonumber(ARGV[1])), ARGV[3])
  cover(u, tonumber(ARGV[1]), false)
end
return 1
";

/// KEYS: the user's activity and expiry sets. ARGV: now, then `save` and the session limit
/// (empty: none), or `list`, the cursor's activity and id (empty: the first page) and the limit.
/// Returns the ids whose data keys the save or list script given the same arguments will touch:
/// on a cluster they must be declared. It writes nothing (a listing's cursor is put back at
/// once).
const PLAN: &str = r"
local u = {a = KEYS[1], d = KEYS[2]}
local now = ARGV[1]
local ids = {}
local gone = ended(u.d, now)
for n = 1, #gone, 2 do ids[#ids + 1] = gone[n] end
if ARGV[2] == 'save' and ARGV[3] ~= '' then
  local max = tonumber(ARGV[3])
  if #victims(u, now, max, live_count(u.d, now)) > 0 then
    -- Not only the victims: every session they may be chosen from (the save looks no
    -- further), so that log-ins of the same user at the same moment, each evicting one, do
    -- not keep sending one another back to the plan.
    for _, id in ipairs(redis.call('ZRANGE', u.a, 0, EVICT + PRUNE - 1)) do ids[#ids + 1] = id end
  end
elseif ARGV[2] == 'list' then
  local page = page_of(u.a, ARGV[3], ARGV[4], tonumber(ARGV[5]))
  for n = 1, #page, 2 do ids[#ids + 1] = page[n] end
end
return ids
";

/// KEYS: index (4 keys), [data keys the plan named (cluster)]. ARGV: base, now, declared, the
/// cursor's activity and id (empty: the first page), limit.
/// Returns {'-2', ids} if sessions of the page were not declared (declare them, read the plan
/// again); else {'1',
/// next activity, next id (both empty on the last page), then id, log-in record, s, d of each
/// live session of the page}. A session of the page that has ended is pruned, not returned, so
/// a page may hold fewer than `limit` sessions with more to follow.
const LIST: &str = r"
local u = user(1)
local base, now = ARGV[1], ARGV[2]
local may = allowance(5, ARGV[3])
local page, more = page_of(u.a, ARGV[4], ARGV[5], tonumber(ARGV[6]))
local missing = {'-2'}
for n = 1, #page, 2 do
  if not may(base .. page[n]) then missing[#missing + 1] = page[n] end
end
if #missing > 1 then return missing end
local out, last = {'1', '', ''}, 0
if more then
  out[2] = page[#page]
  out[3] = page[#page - 1]
end
prune(u, base, may, now)
for n = 1, #page, 2 do
  local id = page[n]
  local key = base .. id
  local cur = redis.call('HMGET', key, 'v', 't', 's', 'd')
  if cur[1] and not cur[2] and (not cur[4] or cur[4] == '' or tonumber(cur[4]) > tonumber(now)) then
    out[#out + 1] = id
    out[#out + 1] = redis.call('HGET', u.i, id) or ''
    out[#out + 1] = cur[3] or ''
    out[#out + 1] = cur[4] or ''
  elseif cur[2] then
    drop(u, id) -- a tombstone has no business in the index
  else
    local at = redis.call('ZSCORE', u.d, id)
    if at then
      local forget = expire(u, key, id, tonumber(at), may)
      if forget > last then last = forget end
    else
      redis.call('ZREM', u.a, id) -- ended by the prune above already
    end
  end
end
if last > 0 then cover_ended(u, last, now) end
return out
";

/// KEYS: index (4 keys), then the session's data key (`one`) or the listed sessions' data keys
/// (cluster). ARGV: base, mode (`one`, `all`, `others`), id (the one, or the one to keep),
/// declared.
/// Returns how many live sessions were revoked; -1, having written nothing, if the index lists
/// a session whose key was not declared (saved since the caller read the index): read it again.
const REVOKE: &str = r"
local u = user(1)
if ARGV[2] == 'one' then return tombstone(u, KEYS[5], ARGV[3], REVOKED) end
local sessions, others = listed(u.i, ARGV[1], allowance(5, ARGV[4]))
if others then return -1 end
local n = 0
for _, s in ipairs(sessions) do
  if ARGV[2] == 'all' or s[1] ~= ARGV[3] then n = n + tombstone(u, s[2], s[1], REVOKED) end
end
return n
";

/// The scripts, each with its hash computed once.
pub(crate) struct Scripts {
    pub(crate) save: Script,
    pub(crate) update: Script,
    pub(crate) delete: Script,
    pub(crate) extend: Script,
    pub(crate) plan: Script,
    pub(crate) list: Script,
    pub(crate) revoke: Script,
}

pub(crate) static SCRIPTS: LazyLock<Scripts> = LazyLock::new(|| {
    let grace = INDEX_GRACE.as_millis();
    let script = |body: &str| {
        Script::new(&format!(
            "local GRACE = {grace}\nlocal PRUNE = {PRUNE_BATCH}\nlocal EVICT = {EVICT_BATCH}\n\
             local REVOKED, EVICTED = '{REVOKED}', '{EVICTED}'\n{PRELUDE}{body}"
        ))
    };
    Scripts {
        save: script(SAVE),
        update: script(UPDATE),
        delete: script(DELETE),
        extend: script(EXTEND),
        plan: script(PLAN),
        list: script(LIST),
        revoke: script(REVOKE),
    }
});
