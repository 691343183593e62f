-- DELETE: a log-out.
-- KEYS: data key, [index (4 keys)]. ARGV: id.
-- Returns 1 if a live session was deleted; a tombstone stays until its deadline (0).
local cur = redis.call('HMGET', KEYS[1], 'v', 't')
if cur[2] then return 0 end
redis.call('DEL', KEYS[1])
if KEYS[2] then drop(user(2), ARGV[1]) end
if cur[1] then return 1 end
return 0
