-- Scenario 2: GET /de/ (start page, full middleware + template rendering).
-- Sends the URL given on the wrk command line; counts statuses (expects 200).
scenario = { name = "start_page", expect = 200, seed = false }
local here = debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./"
dofile(here .. "common.lua")
