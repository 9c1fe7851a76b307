-- wrk script of the side-by-side benchmark (docs/performance.md): every request is the same non-streamed chat
-- completion, with the gateway's subscription key (the backend and bare YARP ignore it).
--   BENCH_API_KEY    the subscription key
--   BENCH_DELAY_MS   think time after each response, per connection (the paced load); 0 or unset: none
-- done() prints one line, "BENCH {json}": requests, duration, socket errors, latency p50/p99 (microseconds) and the
-- count of each status code seen (summed over wrk's threads).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["api-key"] = os.getenv("BENCH_API_KEY") or ""
wrk.body = '{"messages":[{"role":"user","content":"Hello!"}],"max_tokens":16}'

local delay_ms = tonumber(os.getenv("BENCH_DELAY_MS") or "0") or 0
if delay_ms > 0 then
  function delay()
    return delay_ms
  end
end

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  statuses = {}
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local mix = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses") or {}) do
      mix[status] = (mix[status] or 0) + count
    end
  end
  local parts = {}
  for status, count in pairs(mix) do
    parts[#parts + 1] = string.format('"%d":%d', status, count)
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests":%d,"durationUs":%d,"connectErrors":%d,"readErrors":%d,"writeErrors":%d,"timeouts":%d,"p50Us":%d,"p99Us":%d,"statuses":{%s}}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.timeout,
    math.floor(latency:percentile(50)), math.floor(latency:percentile(99)), table.concat(parts, ",")))
end
