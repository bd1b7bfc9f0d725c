-- wrk script: POST one JSON answer per request (each with its own body so nothing is cached). With
-- BENCH_TOKENS naming a file of timing tokens (tokens.lua), each answer carries the next unused one.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local counter = 0
local tokens, used = {}, 0
local path = os.getenv("BENCH_TOKENS")
if path and path ~= "" then
  for line in io.lines(path) do tokens[#tokens + 1] = line end
end
request = function()
  counter = counter + 1
  local token = ""
  if used < #tokens then
    used = used + 1
    token = string.format(',"timing_token":"%s"', tokens[used])
  end
  local body = string.format('{"answers":{"reason":"Price","score":%d,"email":"ann%d@example.com"},' ..
    '"meta":{"page":"https://shop.example.com/cart"}%s}', counter % 11, counter, token)
  return wrk.format(nil, wrk.path, nil, body)
end
