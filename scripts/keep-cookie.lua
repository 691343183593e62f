-- wrk script for scripts/bench: send the session cookie the server set last, as a browser does.
-- Without it every request would carry the cookie of the log-in, and once the refresh window
-- passed, every request of the cookie store would look due for a refresh.
--
--   wrk -s scripts/keep-cookie.lua ... URL -- 'id=...'

local cookie

function init(args)
  cookie = args[1]
end

function request()
  return wrk.format("GET", nil, { ["Cookie"] = cookie })
end

function response(status, headers, body)
  -- What went wrong, for the script to show (wrk itself only counts non-2xx answers).
  if status >= 300 then
    io.stderr:write("answer " .. status .. ": " .. string.sub(body or "", 1, 200) .. "\n")
  end
  local set = headers["Set-Cookie"] or headers["set-cookie"]
  local value = set and set:match("^(id=[^;]+)")
  if value then
    cookie = value
  end
end
