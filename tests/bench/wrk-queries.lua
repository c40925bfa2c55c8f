-- wrk-queries.lua: drives quired with the benchmark's query file (tests/bench/run.sh).
--
--   wrk -t2 -c4 -d10s -s wrk-queries.lua http://127.0.0.1:PORT -- QUERIES SNIPPET [OP]
--
-- Each wrk thread cycles through the queries from its own starting point, asking
-- GET /search?q=...&op=OP&limit=10&snippet=SNIPPET on keep-alive connections (OP "and",
-- the default, or "or"). done() prints one
-- line of key=value pairs (queries/s, latency p50/p99 in µs, errors) for run.sh; wrk's
-- own summary goes before it.

local threads = {}
local next_id = 0

function setup(thread)
   thread:set("id", next_id)
   next_id = next_id + 1
   table.insert(threads, thread)
end

local function urlencode(s)
   return (s:gsub("[^%w%-%._~ ]", function(c)
      return string.format("%%%02X", string.byte(c))
   end):gsub(" ", "+"))
end

local requests = {}
local pos = 1

function init(args)
   local path, snippet, op = args[1], args[2] or "0", args[3] or "and"
   local f = assert(io.open(path, "r"), "cannot open the query file " .. tostring(path))
   for line in f:lines() do
      if line ~= "" then
         -- op=and: every system in the benchmark runs the same AND-of-all-words queries
         -- (op=or for the OR rows, quired's default, beside raw Xapian's OR).
         local uri = "/search?q=" .. urlencode(line) .. "&op=" .. op .. "&limit=10&snippet=" .. snippet
         table.insert(requests, wrk.format("GET", uri))
      end
   end
   f:close()
   assert(#requests > 0, "no queries in " .. path)
   -- Spread the threads over the file (thread 1 starts half-way for 500 queries), as the
   -- other clients of the benchmark do.
   pos = 1 + (id * 251) % #requests
end

function request()
   local r = requests[pos]
   pos = pos + 1
   if pos > #requests then pos = 1 end
   return r
end

function done(summary, latency, _)
   local e = summary.errors
   local secs = summary.duration / 1e6
   io.write(string.format(
      "queries=%d seconds=%.3f qps=%.1f p50_us=%d p99_us=%d errors=%d non2xx=%d\n",
      summary.requests, secs, summary.requests / secs,
      latency:percentile(50), latency:percentile(99),
      e.connect + e.read + e.write + e.timeout, e.status))
end
