-- mixed.lua: the soak test's request mix for wrk (tests/soak/soak.sh).
-- Valid searches (some with snippets, facets, sorting), invalid requests (bad parameters,
-- bad JSON, unknown endpoints, bad ids) and expensive ones (wildcards, many terms), in a
-- fixed rotation. done() prints counts by status class for the script to check.
local reqs = {}
local function add(method, path, body)
   table.insert(reqs, wrk.format(method, path, body and {["Content-Type"] = "application/json"} or nil, body))
end
local words = {"oil", "bank", "coffee", "grain", "gold", "yen", "dollar", "trade", "crude", "wheat"}
for i, w in ipairs(words) do
   add("GET", "/search?q=" .. w .. "&limit=10")
   add("GET", "/search?q=" .. w .. "+prices&snippet=0&facets=year,category")
   add("GET", "/search?q=" .. w .. "&sort=date&limit=20")
   add("POST", "/search", '{"q": "' .. w .. ' exports", "limit": 5}')
end
-- invalid: each must be a 4xx with a JSON error
add("GET", "/search?limit=5")
add("GET", "/search?q=a&limit=99999")
add("GET", "/search?q=%ff%fe")
add("POST", "/search", '{"q": ')
add("POST", "/search", '{"q": [1,2]}')
add("GET", "/nope")
add("DELETE", "/search?q=a")
add("GET", "/doc/..%2F..%2Fetc%2Fpasswd")
-- expensive
add("GET", "/search?q=p*&limit=10")
add("GET", "/search?q=" .. string.rep("w ", 300) .. "oil")
add("GET", "/search?q=oil+NEAR/50+prices&limit=10")

local i = 0
request = function()
   i = i + 1
   if i > #reqs then i = 1 end
   return reqs[i]
end

-- Per-thread counts (globals of each thread's Lua state, summed in done()).
ok2, bad4, bad5, notjson = 0, 0, 0, 0
local threads = {}
function setup(thread)
   table.insert(threads, thread)
end

response = function(status, headers, body)
   if status >= 200 and status < 300 then ok2 = ok2 + 1
   elseif status >= 400 and status < 500 then bad4 = bad4 + 1
   else bad5 = bad5 + 1 end
   -- every answer, success or refusal, must be a JSON object
   if string.sub(body, 1, 1) ~= "{" then notjson = notjson + 1 end
end

function done(summary, latency, requests)
   local s = {ok2 = 0, bad4 = 0, bad5 = 0, notjson = 0}
   for _, t in ipairs(threads) do
      for k, _ in pairs(s) do s[k] = s[k] + (t:get(k) or 0) end
   end
   io.write(string.format("soak: requests=%d errors_connect=%d errors_read=%d errors_timeout=%d " ..
      "status_2xx=%d status_4xx=%d status_5xx=%d not_json=%d p99_us=%d\n",
      summary.requests, summary.errors.connect, summary.errors.read, summary.errors.timeout,
      s.ok2, s.bad4, s.bad5, s.notjson, latency:percentile(99)))
end
