-- UPDATE: a request's changes to a live session (the refresh).
-- KEYS: data key, [index (4 keys)]. ARGV: e, s, d, m, now, fallback TTL, id.
-- Returns 0 (and writes nothing) if the session is gone or revoked, 1 once written. Of two
-- expiry states, the one seen last is kept.
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
