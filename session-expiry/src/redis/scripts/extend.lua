-- EXTEND: actix-session's `update_ttl`.
-- KEYS: data key, [index (4 keys)]. ARGV: TTL, now, id.
-- Extends a live session without a deadline of its own; returns 1 if it did.
local cur = redis.call('HMGET', KEYS[1], 'v', 't', 'd')
if not cur[1] or cur[2] or (cur[3] and cur[3] ~= '') then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
if KEYS[2] then
  local u = user(2)
  redis.call('ZADD', u.d, 'XX', ms(tonumber(ARGV[2]) + tonumber(ARGV[1])), ARGV[3])
  cover(u, tonumber(ARGV[1]), false)
end
return 1
