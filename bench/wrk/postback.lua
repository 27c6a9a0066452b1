-- wrk script for bench/postbacks.sh: valid LeadRock postbacks
-- `GET /postback/leadrock?token=T&oid=P-<i>&status=approve`, the order id rotating over the
-- seeded leads P-1 … P-<leads>. Arguments: token, number of seeded leads.
-- Prints one line `WRK_RESULT ok=… other=…`: responses with status 200 (acknowledged) and
-- any other status, counted in the response hook, plus wrk's own totals and latency.
local threads = {}

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  token = args[1] or "T"
  leads = tonumber(args[2] or "1000")
  n = 0
  ok = 0
  other = 0
end

function request()
  n = n + 1
  local id = ((n * 7 + tid * 131) % leads) + 1
  return wrk.format("GET", "/postback/leadrock?token=" .. token .. "&oid=P-" .. id .. "&status=approve")
end

function response(status, headers, body)
  if status == 200 then
    ok = ok + 1
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local a, o = 0, 0
  for _, t in ipairs(threads) do
    a = a + t:get("ok")
    o = o + t:get("other")
  end
  io.write(string.format("WRK_RESULT ok=%d other=%d requests=%d duration_us=%d socket_errors=%d p50_us=%d p99_us=%d max_us=%d\n",
    a, o, summary.requests, summary.duration,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
