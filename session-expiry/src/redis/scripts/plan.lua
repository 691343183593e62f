-- PLAN: the sessions a save or a listing will touch, to declare them on a cluster.
-- KEYS: the user's activity and expiry sets. ARGV: now, then `save` and the session limit
-- (empty: none), or `list`, the cursor's activity and id (empty: the first page) and the limit.
-- Returns the ids whose data keys the save or list script given the same arguments will touch.
-- It writes nothing (a listing's cursor is put back at once).
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
