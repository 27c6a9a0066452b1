-- wrk script for bench/postbacks.sh: valid LeadRock postbacks
-- `GET /postback/leadrock?token=T&oid=P-<i>&status=approve` for seeded leads P-1 … P-<leads>.
-- Arguments: token, number of seeded leads, order, number of wrk threads.
--   order "rotate" (default): i rotates over the leads (the raw-log workload: after the first
--     round every postback repeats a status the lead already has).
--   order "once": i = (48271 * k) mod leads + 1 for k = 0, 1, 2, … split between the threads
--     (k ≡ thread - 1 mod threads): 48271 is prime, so for any number of leads that is not a
--     multiple of it every lead comes up once, in scrambled order, before any comes up twice
--     (the status-change workload).
-- Prints one line `WRK_RESULT ok=… other=… wrapped=…`: responses with status 200
-- (acknowledged) and any other status, counted in the response hook, requests made after
-- every lead was used once ("once"), plus wrk's own totals and latency.
local threads = {}

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  token = args[1] or "T"
  leads = tonumber(args[2] or "1000")
  once = args[3] == "once"
  nthreads = tonumber(args[4] or "2")
  n = 0
  k = tid - 1
  ok = 0
  other = 0
  wrapped = 0
end

function request()
  local id
  if once then
    if k >= leads then wrapped = wrapped + 1 end
    id = (48271 * (k % leads)) % leads + 1
    k = k + nthreads
  else
    n = n + 1
    id = ((n * 7 + tid * 131) % leads) + 1
  end
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
  local a, o, w = 0, 0, 0
  for _, t in ipairs(threads) do
    a = a + t:get("ok")
    o = o + t:get("other")
    w = w + t:get("wrapped")
  end
  io.write(string.format("WRK_RESULT ok=%d other=%d wrapped=%d requests=%d duration_us=%d socket_errors=%d p50_us=%d p99_us=%d max_us=%d\n",
    a, o, w, summary.requests, summary.duration,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
