-- wrk script: GET /api/v1/register/{number} for a number picked at random, uniformly, among the
-- seeded entries. Numbers are PR + six digits + an ISO 7064 MOD 11-2 check character, worked out
-- here as registry/register/numbers.py does; a wrong one would answer 422 and show up in wrk's
-- "Non-2xx or 3xx responses" line, which the benchmark treats as a failure.
local first = tonumber(os.getenv("BENCH_FIRST_SERIAL"))
local count = tonumber(os.getenv("BENCH_COUNT"))
local prefix = os.getenv("BENCH_PATH") or "/api/v1/register/"

local function check_character(digits)
  local total = 0
  for i = 1, #digits do
    total = ((total + tonumber(digits:sub(i, i))) * 2) % 11
  end
  local check = (12 - total) % 11
  if check == 10 then
    return "X"
  end
  return tostring(check)
end

function init(args)
  math.randomseed(os.time() + math.floor(os.clock() * 1000000))
end

function request()
  local digits = string.format("%06d", first + math.random(0, count - 1))
  return wrk.format("GET", prefix .. "PR" .. digits .. check_character(digits))
end
