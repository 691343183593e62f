-- SAVE: a new session under a fresh key, within its user's session limit.
-- KEYS: data key, [index (4 keys), data keys the plan named (cluster)].
-- ARGV: e, s, d, m, now, fallback TTL, id, log-in record, base, declared, session limit
-- (empty: none), refuse (`1`), the eviction tombstone's mark.
-- Returns {'-1'} if the key is taken, {'0'} if the session is already past its deadline,
-- {'-3', max} if the user already holds `max` live sessions and the limit refuses, {'-2', ids}
-- if sessions to evict were not declared (declare them, read the plan again), {'1', evicted}
-- once saved.
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
  for _, id in ipairs(evict) do tombstone(u, ARGV[9] .. id, id, ARGV[13]) end
  redis.call('HSET', u.i, ARGV[7], ARGV[8])
  if ARGV[2] ~= '' then redis.call('ZADD', u.a, ARGV[2], ARGV[7]) end
  redis.call('ZADD', u.d, ms(tonumber(now) + ttl), ARGV[7])
  cover(u, ttl, true)
end
return {'1', tostring(#evict)}
