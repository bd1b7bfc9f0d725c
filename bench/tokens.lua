-- wrk script: GET timing tokens (GET /f/{form}/token) and append each to the file named by
-- BENCH_TOKENS, one a line, for post.lua and tools.py to send with their answers: a form whose
-- plugins make offers takes no answer without a fresh, unused token.
local out = io.open(os.getenv("BENCH_TOKENS"), "a")
local pending = 0
response = function(status, headers, body)
  local token = body:match('"token":"([^"]+)"')
  if status == 200 and token then
    out:write(token, "\n")
    pending = pending + 1
    if pending >= 100 then
      out:flush()
      pending = 0
    end
  end
end
