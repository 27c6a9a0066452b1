-- wrk script for bench/send.sh: valid KMA `POST /lead/add` requests (form + bearer, the bytes
-- `leadbridge send kma` sends), each one a new lead (own order id and phone) so the emulator
-- accepts every one. Arguments: the concurrency level (keeps ids unique across levels) and
-- the number of answers each thread waits for before it stops, so wrk does the same number of
-- sends as leadbridge. The time those took is measured here (monotonic clock through LuaJIT's
-- FFI, first request to last answer), since wrk itself always runs for its whole -d.
-- Prints one line `WRK_RESULT accepted=… other=… elapsed_us=…`.
local ffi = require("ffi")
ffi.cdef[[
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clock, bench_timespec *t);
]]
local function now_us()
  local t = ffi.new("bench_timespec")
  ffi.C.clock_gettime(1, t)  -- CLOCK_MONOTONIC
  return tonumber(t.tv_sec) * 1000000 + math.floor(tonumber(t.tv_nsec) / 1000)
end

local threads = {}

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  level = tonumber(args[1] or "0")
  quota = tonumber(args[2] or "0")
  n = 0
  accepted = 0
  other = 0
  first_us = 0
  last_us = 0
end

wrk.method = "POST"
wrk.headers["Host"] = "api.kma.biz"
wrk.headers["Authorization"] = "Bearer KMA-TEST-TOKEN-0001"
wrk.headers["Accept"] = "application/json"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["User-Agent"] = "leadbridge/0.1"

function request()
  n = n + 1
  if first_us == 0 then first_us = now_us() end
  local body = string.format("channel=aB3dE9&name=Bench+User&phone=%%2B72%02d%d%07d&data1=W%d-%d-%d", level, tid, n, level, tid, n)
  return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
  if quota > 0 and accepted + other >= quota then return end
  if status == 200 and string.find(body, '"code":0', 1, true) then
    accepted = accepted + 1
  else
    other = other + 1
  end
  last_us = now_us()
  if quota > 0 and accepted + other >= quota then
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local a, o, first, last = 0, 0, nil, 0
  for _, t in ipairs(threads) do
    a = a + t:get("accepted")
    o = o + t:get("other")
    local f, l = t:get("first_us"), t:get("last_us")
    if f > 0 and (first == nil or f < first) then first = f end
    if l > last then last = l end
  end
  io.write(string.format("WRK_RESULT accepted=%d other=%d elapsed_us=%d requests=%d socket_errors=%d p50_us=%d p99_us=%d\n",
    a, o, last - (first or last), summary.requests,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(99)))
end
