-- wrk script: POST one hook request body, rewritten per request.
--
-- Environment:
--   BENCH_BODY   file holding the JSON body (with placeholders, see bench/make_data.py)
--   BENCH_NONCE  "1": replace BENCHNONCE with a token unique to this request, and
--                BENCH_NONCE_B64 (the base64 of the token's place in an attached report,
--                bench/make_data.py) with the token's base64, so every report text is
--                one the service has never read (S1)
--   BENCH_CLOSE  "1": ask for "Connection: close" (a new TCP connection per request)
--   BENCH_OUT    file to write the summary to (JSON)
-- Every request gets a fresh hookInstance (UUID v4) in place of @@HOOK_INSTANCE@@.

local threads = {}
local counter = 0

function setup(thread)
   thread:set("tid", #threads + 1)
   table.insert(threads, thread)
end

function init(args)
   local f = assert(io.open(os.getenv("BENCH_BODY"), "rb"))
   template = f:read("*a")
   f:close()
   nonce_mode = os.getenv("BENCH_NONCE") == "1"
   nonce_b64 = os.getenv("BENCH_NONCE_B64") or ""
   non2xx = 0
   responses = 0
   math.randomseed(os.time() * 1000 + tid * 7919 + math.floor(os.clock() * 1e6))
   path = wrk.path
   headers = {["Content-Type"] = "application/json", ["Accept"] = "application/json"}
   if os.getenv("BENCH_CLOSE") == "1" then
      headers["Connection"] = "close"
   end
   closed = 0
   run_id = math.random(0, 0x7fffffff)
end

local function uuid4()
   local function hex(n)
      local s = ""
      for _ = 1, n do s = s .. string.format("%x", math.random(0, 15)) end
      return s
   end
   return hex(8) .. "-" .. hex(4) .. "-4" .. hex(3) .. "-" ..
      string.format("%x", math.random(8, 11)) .. hex(3) .. "-" .. hex(12)
end

local B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

local function base64(s)  -- s: a multiple of 3 bytes long (no padding needed)
   local out = {}
   for i = 1, #s, 3 do
      local a, b, c = s:byte(i, i + 2)
      local n = a * 65536 + b * 256 + c
      for shift = 18, 0, -6 do
         local k = math.floor(n / 2 ^ shift) % 64
         out[#out + 1] = B64:sub(k + 1, k + 1)
      end
   end
   return table.concat(out)
end

function request()
   counter = counter + 1
   local body = template:gsub("@@HOOK_INSTANCE@@", uuid4())
   if nonce_mode then
      -- 24 characters, as bench/make_data.py NONCE_WIDTH
      local token = string.format("R%08xT%02dN%011d", run_id, tid, counter)
      body = body:gsub("BENCHNONCE", token)
      if nonce_b64 ~= "" then
         body = body:gsub(nonce_b64, base64(token))
      end
   end
   return wrk.format("POST", path, headers, body)
end

function response(status, hdrs, body)
   responses = responses + 1
   local connection = hdrs["Connection"] or hdrs["connection"]
   if connection and connection:lower() == "close" then
      closed = closed + 1
   end
   if status < 200 or status > 299 then
      non2xx = non2xx + 1
   end
end

function done(summary, latency, requests)
   local non = 0
   local seen = 0
   local close = 0
   for _, t in ipairs(threads) do
      non = non + (t:get("non2xx") or 0)
      seen = seen + (t:get("responses") or 0)
      close = close + (t:get("closed") or 0)
   end
   local out = assert(io.open(os.getenv("BENCH_OUT"), "w"))
   out:write(string.format(
      '{"requests":%d,"responses":%d,"closed":%d,"duration_us":%d,"non2xx":%d,' ..
      '"socket_errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d},' ..
      '"latency_us":{"min":%d,"mean":%.1f,"max":%d,"p50":%d,"p90":%d,"p95":%d,"p99":%d}}',
      summary.requests, seen, close, summary.duration, non,
      summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout,
      latency.min, latency.mean, latency.max,
      latency:percentile(50), latency:percentile(90), latency:percentile(95),
      latency:percentile(99)))
   out:close()
end
