-- Shared wrk logic for the Amtsweg benchmark scenarios (bench/*.lua).
--
-- A scenario script defines a global table `scenario` and then loads this file:
--
--   scenario = {
--     name   = "submit",          -- label used in the RESULT line
--     expect = 303,               -- the only status that counts as success
--     seed   = true,              -- needs a seed file (first script argument)
--     once   = true,              -- use every seed line at most once per run
--     build  = function(rec) return wrk.format(...) end,  -- request for one seed line
--   }
--
-- Script arguments (after `--` on the wrk command line):
--   args[1]  seed file (lines `SESSION_COOKIE_VALUE CSRF_TOKEN DRAFT_ID`), "-" if unused
--   args[2]  number of wrk threads (needed to split the seed lines between threads)
--
-- Every thread counts response statuses in its own Lua state; `done()` runs in the
-- main state and collects the counters with thread:get() (threads were remembered in
-- setup()). It prints one machine-readable line:
--
--   RESULT <name> <rps> <p99_ms> <bad> <ok> <requests> <wrapped> <socket_errors> <duration_s>
--
--   rps            completed requests per second (all statuses)
--   p99_ms         99th percentile latency in milliseconds
--   bad            responses whose status was not `expect`
--   ok             responses whose status was `expect`
--   requests       completed requests
--   wrapped        requests built after a `once` scenario ran out of seed lines
--                  (must be 0 for a valid submission measurement)
--   socket_errors  connect + read + write + timeout errors reported by wrk
--   duration_s     measured duration in seconds
--
-- and a diagnostic line `STATUS <name> <status>=<count> ...`.
--
-- If a scenario sets `count_status = false`, no response() callback is installed
-- (wrk then runs its fast static path) and `bad` falls back to wrk's own count of
-- responses with status >= 400 (summary.errors.status); `ok` is requests - bad.

local S = assert(scenario, "define the global `scenario` table before loading common.lua")
S.count_status = S.count_status ~= false

-- ---------------------------------------------------------------- helpers

local function urlencode(s)
  return (tostring(s):gsub("[^%w%-%._~]", function(c)
    return string.format("%%%02X", string.byte(c))
  end))
end
bench_urlencode = urlencode

local function read_seed(path, index, nthreads)
  local f = io.open(path, "r")
  if not f then
    error("cannot open seed file " .. tostring(path))
  end
  local recs, lineno = {}, 0
  for line in f:lines() do
    local cookie, csrf, draft, rest = line:match("^%s*(%S+)%s+(%S+)%s+(%S+)%s*(.*)$")
    if cookie then
      local page, body = rest:match("^(%S+)%s+(%S+)")
      -- split lines between threads: thread i takes lines i, i+n, i+2n, ...
      if lineno % nthreads == index then
        recs[#recs + 1] = { cookie = cookie, csrf = csrf, draft = draft, page = page, body = body }
      end
      lineno = lineno + 1
    elseif line:match("%S") then
      f:close()
      error("malformed seed line " .. (lineno + 1) .. " in " .. path)
    end
  end
  f:close()
  return recs
end

-- ---------------------------------------------------------------- main state

local threads = {}

function setup(thread)
  thread:set("thread_index", #threads)
  threads[#threads + 1] = thread
end

-- ---------------------------------------------------------------- thread state

-- globals read back by done() via thread:get()
statuses = {}
ok_count = 0
bad_count = 0
wrapped_count = 0

local records, cursor, built

function init(args)
  if S.seed then
    local path = args[1]
    if not path or path == "-" or path == "" then
      error("scenario " .. S.name .. " needs a seed file as first script argument")
    end
    local nthreads = tonumber(args[2]) or 1
    records = read_seed(path, thread_index or 0, nthreads)
    if #records == 0 then
      error("seed file " .. path .. " has no lines for thread " .. tostring(thread_index))
    end
    cursor = 0
    -- Pre-build requests for rotating scenarios; `once` scenarios build lazily so
    -- every line is formatted exactly when it is first used.
    if not S.once then
      built = {}
      for i, rec in ipairs(records) do
        built[i] = S.build(rec)
      end
    end
  end
end

if S.seed then
  function request()
    cursor = cursor + 1
    local i = cursor
    if i > #records then
      if S.once then
        -- out of unused lines: reuse them, but record every reused request
        wrapped_count = wrapped_count + 1
      end
      i = (i - 1) % #records + 1
      if not S.once then
        cursor = i
      end
    end
    if S.once then
      return S.build(records[i])
    end
    return built[i]
  end
end

if S.count_status then
  function response(status, headers, body)
    statuses[status] = (statuses[status] or 0) + 1
    if status == S.expect then
      ok_count = ok_count + 1
    else
      bad_count = bad_count + 1
    end
  end
end

-- ---------------------------------------------------------------- main state, end

function done(summary, latency, requests)
  local ok, bad, wrapped = 0, 0, 0
  local merged = {}
  for _, thread in ipairs(threads) do
    ok = ok + (thread:get("ok_count") or 0)
    bad = bad + (thread:get("bad_count") or 0)
    wrapped = wrapped + (thread:get("wrapped_count") or 0)
    local st = thread:get("statuses") or {}
    for code, n in pairs(st) do
      merged[code] = (merged[code] or 0) + n
    end
  end
  local e = summary.errors
  local socket_errors = e.connect + e.read + e.write + e.timeout
  if not S.count_status then
    bad = e.status
    ok = summary.requests - bad
  end
  local duration_s = summary.duration / 1e6
  local rps = duration_s > 0 and summary.requests / duration_s or 0
  local p99_ms = latency:percentile(99) / 1000
  io.write(string.format("RESULT %s %.1f %.3f %d %d %d %d %d %.3f\n",
    S.name, rps, p99_ms, bad, ok, summary.requests, wrapped, socket_errors, duration_s))
  local codes = {}
  for code in pairs(merged) do codes[#codes + 1] = code end
  table.sort(codes)
  local parts = {}
  for _, code in ipairs(codes) do parts[#parts + 1] = code .. "=" .. merged[code] end
  if not S.count_status then parts[#parts + 1] = "(not counted per status)" end
  io.write("STATUS " .. S.name .. " " .. table.concat(parts, " ") .. "\n")
end
