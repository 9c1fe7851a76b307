-- wrk script of the soak run (bench/soak/soak.sh, docs/reliability.md): each connection cycles through a chat
-- completion, a streamed one and an embeddings call, alternating the two subscriptions' keys, with a think time.
--   SOAK_KEYS       the subscription keys, comma-separated
--   SOAK_DELAY_MS   think time after each response, per connection
-- done() prints one line, "SOAK {json}": requests, socket errors and the count of each status code.
local keys = {}
for key in string.gmatch(os.getenv("SOAK_KEYS") or "", "[^,]+") do
  keys[#keys + 1] = key
end
local delay_ms = tonumber(os.getenv("SOAK_DELAY_MS") or "500") or 500

local calls = {
  { path = "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21",
    body = '{"messages":[{"role":"user","content":"Soak: say hello"}],"max_completion_tokens":8}' },
  { path = "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21",
    body = '{"messages":[{"role":"user","content":"Soak: stream hello"}],"max_completion_tokens":8,"stream":true,"stream_options":{"include_usage":true}}' },
  { path = "/openai/deployments/text-embedding-3-small/embeddings?api-version=2024-10-21",
    body = '{"input":"soak embeds this sentence"}' },
}

local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("offset", counter)
  table.insert(threads, thread)
end

function init(args)
  statuses = {}
  n = offset or 0
end

function request()
  n = n + 1
  local call = calls[(n % #calls) + 1]
  local headers = { ["Content-Type"] = "application/json", ["api-key"] = keys[(n % #keys) + 1] }
  return wrk.format("POST", call.path, headers, call.body)
end

function delay()
  return delay_ms
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
  io.write(string.format('SOAK {"requests":%d,"connectErrors":%d,"readErrors":%d,"writeErrors":%d,"timeouts":%d,"p50Us":%d,"p99Us":%d,"statuses":{%s}}\n',
    summary.requests, e.connect, e.read, e.write, e.timeout,
    math.floor(latency:percentile(50)), math.floor(latency:percentile(99)), table.concat(parts, ",")))
end
