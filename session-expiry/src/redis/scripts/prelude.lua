-- Helpers every script starts with. The header before it (see `mod.rs`) defines, from the
-- Rust constants and as numbers only: GRACE (ms a log-in record outlives its session), PRUNE
-- (ended sessions one call clears at most), EVICT (sessions one log-in evicts at most),
-- ENDED_KEPT (records of ended sessions an index keeps at most) and MAX_TTL (the longest TTL
-- set, a hundred years in ms).
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

-- Bounded clean-up: ends (see `expire`) the sessions whose data expired by `now`, forgets the
-- log-in records whose grace is over, and those of ended sessions beyond ENDED_KEPT (the
-- oldest first); at most PRUNE of each.
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
  local over = math.min(redis.call('ZCARD', u.g) - ENDED_KEPT, PRUNE)
  if over > 0 then
    for _, id in ipairs(redis.call('ZRANGE', u.g, 0, over - 1)) do
      redis.call('HDEL', u.i, id)
      redis.call('ZREM', u.g, id)
    end
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

-- Ends the session `id` (data key `key`) by the store's decision: its key becomes a tombstone
-- until its own deadline, marked `why` (a `Tombstone`'s mark, passed in ARGV), and it leaves
-- the index.
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
