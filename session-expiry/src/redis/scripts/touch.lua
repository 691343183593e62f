-- TOUCH: a long-lived connection's activity (`SessionActivity::touch`), the refresh a request
-- would have written, for a live session in layout 2.
-- KEYS: data key, index (4 keys). ARGV: e (the expiry state, seen now), s (now: last seen), d
-- (its deadline, '' for none), now, id.
-- Returns 1 once written; 0 (writing nothing) if the session is gone, ended or in an earlier
-- layout, if a request already recorded activity as late, or if the deadline has passed.
local cur = redis.call('HMGET', KEYS[1], 'v', 't', 's')
if cur[1] ~= '2' or cur[2] then return 0 end
if cur[3] and cur[3] ~= '' and tonumber(cur[3]) >= tonumber(ARGV[2]) then return 0 end
local r = redis.call('HGET', KEYS[1], 'r') or ''
local _, head, n = string.find(r, '^:(%d+):')
if not head then return 0 end
local ttl = nil
if ARGV[3] ~= '' then
  ttl = ttl_for(ARGV[3], ARGV[4], 0)
  if ttl <= 0 then return 0 end
end
-- The other entries stay as the last request left them; only the expiry state moves.
local m = string.sub(r, head + tonumber(n) + 1)
redis.call('HSET', KEYS[1], 's', ARGV[2], 'd', ARGV[3], 'r', view('', ARGV[1], m))
local u = user(2)
redis.call('ZADD', u.a, 'XX', ARGV[2], ARGV[5])
if ttl then
  redis.call('PEXPIRE', KEYS[1], ms(ttl))
  redis.call('ZADD', u.d, 'XX', ms(tonumber(ARGV[4]) + ttl), ARGV[5])
  cover(u, ttl, false)
end
return 1
