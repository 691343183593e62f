-- LIST: one page of a user's live sessions.
-- KEYS: index (4 keys), [data keys the plan named (cluster)]. ARGV: base, now, declared, the
-- cursor's activity and id (empty: the first page), limit.
-- Returns {'-2', ids} if sessions of the page were not declared (declare them, read the plan
-- again); else {'1', next activity, next id (both empty on the last page), then id, log-in
-- record, s, d of each live session of the page}. A session of the page that has ended is
-- pruned, not returned, so a page may hold fewer than `limit` sessions with more to follow.
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
