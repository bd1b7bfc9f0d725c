-- wrk script: POST one JSON answer per request (each with its own body so nothing is cached).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local counter = 0
request = function()
  counter = counter + 1
  local body = string.format('{"answers":{"reason":"Price","score":%d,"email":"ann%d@example.com"},' ..
    '"meta":{"page":"https://shop.example.com/cart"}}', counter % 11, counter)
  return wrk.format(nil, wrk.path, nil, body)
end
