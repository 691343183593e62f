-- REVOKE: one session, or a batch of a user's (all of them, or all but one).
-- KEYS: index (4 keys), then the session's data key (`one`), or the data keys of the batch the
-- caller read from the index (`all`, `others`: a bounded step of revoking them all, so that no
-- call runs long whatever the index holds).
-- ARGV: base, mode (`one`, `all`, `others`), id (the one, or the one to keep), the revocation
-- tombstone's mark.
-- Returns how many live sessions were revoked.
local u = user(1)
if ARGV[2] == 'one' then return tombstone(u, KEYS[5], ARGV[3], ARGV[4]) end
local n = 0
for k = 5, #KEYS do
  local id = string.sub(KEYS[k], #ARGV[1] + 1)
  if ARGV[2] == 'all' or id ~= ARGV[3] then n = n + tombstone(u, KEYS[k], id, ARGV[4]) end
end
return n
