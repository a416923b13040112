-- Scenario 4: POST /de/antrag/{draft}/copies  _csrf=…&copies=2  (expects 303),
-- rotating through the lines of the FILE.page seed file (first script argument).
scenario = {
  name = "page_post",
  expect = 303,
  seed = true,
  once = false,
  build = function(rec)
    return wrk.format("POST", "/de/antrag/" .. rec.draft .. "/copies", {
      ["Cookie"] = "amtsweg_session=" .. rec.cookie,
      ["Content-Type"] = "application/x-www-form-urlencoded",
    }, "_csrf=" .. bench_urlencode(rec.csrf) .. "&copies=2")
  end,
}
local here = debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./"
dofile(here .. "common.lua")
