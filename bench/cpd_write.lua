-- wrk script: POST /api/v1/me/cpd/activities with the practitioner's bearer token (BENCH_TOKEN),
-- logging an activity dated a random day among the BENCH_DAYS days up to BENCH_LAST (YYYY-MM-DD),
-- all in the practitioner's open year, as someone filling in their log would. Any answer but 201
-- shows up in wrk's "Non-2xx or 3xx responses" line, which the benchmark treats as a failure.
local token = os.getenv("BENCH_TOKEN")
local days = tonumber(os.getenv("BENCH_DAYS"))
local y, m, d = os.getenv("BENCH_LAST"):match("(%d+)-(%d+)-(%d+)")
local last = os.time({year = tonumber(y), month = tonumber(m), day = tonumber(d), hour = 12})
local types = {"formal_course", "e_learning", "reading_research", "conference", "supervision"}
local areas = {"risk_assessment", "ethics", "victims", "desistance"}
local counter = 0

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. token

function init(args)
  math.randomseed(os.time() + math.floor(os.clock() * 1000000))
end

function request()
  counter = counter + 1
  local day = os.date("!%Y-%m-%d", last - math.random(0, days - 1) * 86400)
  local body = string.format(
    '{"title":"Bench activity %d","done_on":"%s","hours":"%s","activity_type":"%s",'
      .. '"participatory":%s,"practice_areas":["%s"],"what_happened":"A","what_learned":"B",'
      .. '"practice_changed":"C"}',
    counter, day, tostring(math.random(1, 16) / 4), types[math.random(#types)],
    tostring(math.random(2) == 1), areas[math.random(#areas)])
  return wrk.format("POST", "/api/v1/me/cpd/activities", nil, body)
end
