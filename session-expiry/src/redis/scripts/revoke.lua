-- REVOKE: one session, all of a user's, or all but one.
-- KEYS: index (4 keys), then the session's data key (`one`) or the listed sessions' data keys
-- (cluster). ARGV: base, mode (`one`, `all`, `others`), id (the one, or the one to keep),
-- declared, the revocation tombstone's mark.
-- Returns how many live sessions were revoked; -1, having written nothing, if the index lists
-- a session whose key was not declared (saved since the caller read the index): read it again.
local u = user(1)
if ARGV[2] == 'one' then return tombstone(u, KEYS[5], ARGV[3], ARGV[5]) end
local sessions, others = listed(u.i, ARGV[1], allowance(5, ARGV[4]))
if others then return -1 end
local n = 0
for _, s in ipairs(sessions) do
  if ARGV[2] == 'all' or s[1] ~= ARGV[3] then n = n + tombstone(u, s[2], s[1], ARGV[5]) end
end
return n
