-- Scenario 1: GET /bench/baseline (bare route, the reference for all ratios).
-- wrk sends the URL given on its command line; no request()/response() callback is
-- installed so the client side stays on wrk's fastest path and the baseline is not
-- limited by Lua work on the load generator. Non-2xx/3xx come from wrk's own count.
scenario = { name = "baseline", expect = 200, seed = false, count_status = false }
local here = debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./"
dofile(here .. "common.lua")
