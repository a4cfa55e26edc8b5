-- Drives wrk over a list of URL paths instead of one fixed URL.
--
-- wrk <url> -s paths.lua -- <paths-file> <mode> <nonce> <threads> <connection>
--   paths-file    one path per line ("/bench/photo-kite.jpg?w=400&fm=jpg&q=80")
--   mode          "plain": cycle through the paths as they are (hits, and peers without a result cache)
--                 "bust":  append v=<nonce>-<thread>-<counter> so every request is a new cache key
--   nonce         unique per run, so keys never repeat across runs that share a result store
--   threads       wrk's -t, to start each thread at a different place in the list
--   connection    "close": one request per connection (see bench/wrk.py); "keep-alive": reuse them
--   host          optional: the Host header to send (a custom domain), instead of the URL's
--   originals     optional: "each" or "burst" replace "{origin}" in every path with a tag, so the server must
--                 fetch a new original: "each" a new one per request, "burst" one per pass over the list
--                 (a srcset's widths, listed together, then share one original, as a browser asks for them)
--
-- Every non-2xx answer is counted (wrk itself counts only >= 400). The response() hook that needs
-- makes wrk parse each answer: about 5% fewer requests/s against nginx at ~40k/s, the same cost
-- for every server, accepted so that a redirect or 304 can never pass as a served image.
--
-- done() prints one line "BENCH_JSON {...}" that the harness parses; latencies are microseconds.

local threads = {}
local next_id = 1

function setup(thread)
  thread:set("id", next_id)
  table.insert(threads, thread)
  next_id = next_id + 1
end

local paths = {}
local prepared = {}
local cursor = 1
local counter = 0
local bust = false
local prefix = ""
local headers = {}
local originals = ""
local start = 1
local passes = 0
non2xx = 0

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then
      table.insert(paths, line)
    end
  end
  if #paths == 0 then
    error("no paths in " .. args[1])
  end
  bust = args[2] == "bust"
  prefix = args[3] .. "-" .. id .. "-"
  local nthreads = tonumber(args[4])
  if args[5] == "close" then
    headers["Connection"] = "close"
  end
  if args[6] and #args[6] > 0 then
    headers["Host"] = args[6]
  end
  -- Spread the threads over the list so they do not all start on the same image.
  cursor = ((id - 1) * math.floor(#paths / nthreads)) % #paths + 1
  start = cursor
  originals = args[7] or ""
  if not bust then
    for i, path in ipairs(paths) do
      prepared[i] = wrk.format("GET", path, headers)
    end
  end
end

function request()
  local i = cursor
  cursor = cursor % #paths + 1
  if originals ~= "" then
    counter = counter + 1
    if i == start then
      passes = passes + 1
    end
    local tag = prefix .. (originals == "each" and counter or passes)
    local path = string.gsub(paths[i], "{origin}", tag)
    return wrk.format("GET", path, headers)
  end
  if not bust then
    return prepared[i]
  end
  counter = counter + 1
  local path = paths[i]
  local sep = "?"
  if string.find(path, "?", 1, true) then
    sep = "&"
  end
  return wrk.format("GET", path .. sep .. "v=" .. prefix .. counter, headers)
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  end
end

function done(summary, latency, requests)
  local non2xx_total = 0
  for _, thread in ipairs(threads) do
    non2xx_total = non2xx_total + (thread:get("non2xx") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"duration_us":%d,"requests":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,'
      .. '"status":%d,"timeout":%d,"non2xx":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.duration, summary.requests, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    non2xx_total, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
