-- Scenario 3: GET /de/antrag/{draft}/person with that draft's session cookie,
-- rotating through the lines of the FILE.page seed file (first script argument).
scenario = {
  name = "page_get",
  expect = 200,
  seed = true,
  once = false,
  build = function(rec)
    return wrk.format("GET", "/de/antrag/" .. rec.draft .. "/person", {
      ["Cookie"] = "amtsweg_session=" .. rec.cookie,
    })
  end,
}
local here = debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./"
dofile(here .. "common.lua")
