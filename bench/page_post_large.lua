-- Scenario: POST /de/antrag/{draft}/{page} of the assistant with the most fields (its page with the most fields),
-- a complete valid form (expects 303), rotating through the lines of FILE.large
-- (`SESSION CSRF DRAFT PAGE FORM-BODY`, written by `amtsweg bench-seed`).
scenario = {
  name = "page_post_large",
  expect = 303,
  seed = true,
  once = false,
  build = function(rec)
    return wrk.format("POST", "/de/antrag/" .. rec.draft .. "/" .. rec.page, {
      ["Cookie"] = "amtsweg_session=" .. rec.cookie,
      ["Content-Type"] = "application/x-www-form-urlencoded",
    }, "_csrf=" .. bench_urlencode(rec.csrf) .. "&" .. rec.body)
  end,
}
local here = debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./"
dofile(here .. "common.lua")
