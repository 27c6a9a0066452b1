-- wrk script for the status-change workload of bench/postbacks.sh: every postback approves a
-- different pending LeadRock lead, in a scrambled order: `GET /postback/leadrock?token=T&oid=P-<i>&status=approve`
-- with i = (48271 * k) mod N + 1 for k = 0, 1, 2, … split between the threads (k ≡ thread - 1
-- mod threads). 48271 is prime: for any N that is not a multiple of it, every lead comes
-- up once before any comes up twice. Arguments: token, N (seeded leads), threads.
-- Prints `WRK_RESULT ok=… other=… wrapped=…` (wrapped: requests after every lead was used once).
local threads = {}

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  token = args[1] or "T"
  leads = tonumber(args[2] or "1000")
  nthreads = tonumber(args[3] or "2")
  k = tid - 1
  ok = 0
  other = 0
  wrapped = 0
end

function request()
  if k >= leads then wrapped = wrapped + 1 end
  local id = (48271 * (k % leads)) % leads + 1
  k = k + nthreads
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
