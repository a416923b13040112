-- Scenario 5: complete submissions. POST /de/antrag/{draft}/absenden  _csrf=TOKEN
-- with the draft's session cookie, every line of the seed file (first script
-- argument) used once. Only 303 counts as a successful submission; if the lines run
-- out, wrk wraps around and the RESULT line reports wrapped > 0 (invalid run).
scenario = {
  name = "submit",
  expect = 303,
  seed = true,
  once = true,
  build = function(rec)
    return wrk.format("POST", "/de/antrag/" .. rec.draft .. "/absenden", {
      ["Cookie"] = "amtsweg_session=" .. rec.cookie,
      ["Content-Type"] = "application/x-www-form-urlencoded",
    }, "_csrf=" .. bench_urlencode(rec.csrf))
  end,
}
local here = debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./"
dofile(here .. "common.lua")
