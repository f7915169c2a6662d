-- wrk script: POST /api/v1/verify with a body picked at random, uniformly, from BENCH_BODIES (one
-- JSON body a line: {"serial": ...} or {"credential": {...}}), written by certificate_verify.py.
local bodies = {}
for line in io.lines(os.getenv("BENCH_BODIES")) do
  bodies[#bodies + 1] = line
end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

function init(args)
  math.randomseed(os.time() + math.floor(os.clock() * 1000000))
end

function request()
  return wrk.format("POST", "/api/v1/verify", nil, bodies[math.random(#bodies)])
end
