-- wrk script: POST /api/v1/concerns, a member of the public raising a concern (no account), each
-- request from an address of its own. The service counts concerns per client address (10 an
-- hour); the benchmark's server trusts 127.0.0.1 as its load balancer (REGISTRY_TRUSTED_PROXIES,
-- the setting a deployment behind one uses), so the address is the X-Forwarded-For this script
-- sends, as a proxy in front of many people would. Any answer but 201 shows up in wrk's
-- "Non-2xx or 3xx responses" line, which the benchmark treats as a failure.
local kinds = {"dishonesty", "violence", "professional_boundaries", "competence"}
local relationships = {"public", "employer", "colleague", "police"}
local counter = 0
local thread_number = 0

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

function init(args)
  math.randomseed(os.time() + math.floor(os.clock() * 1000000))
  thread_number = math.random(0, 63)
end

function request()
  counter = counter + 1
  local address = string.format("10.%d.%d.%d", thread_number, math.floor(counter / 250) % 250,
    counter % 250 + 1)
  local body = string.format(
    '{"about_name":"Sam Bench %d","about_workplace":"Bench probation office",'
      .. '"what_happened":"They shared a client\'s address with someone who should not have it.",'
      .. '"happened_when":"Last month","categories":["%s"],"relationship":"%s",'
      .. '"raiser_name":"Alex Bench","raiser_email":"alex%d@bench.example"}',
    counter, kinds[math.random(#kinds)], relationships[math.random(#relationships)], counter)
  -- wrk.format takes these headers instead of wrk.headers, not as well as them.
  local headers = {["Content-Type"] = "application/json", ["X-Forwarded-For"] = address}
  return wrk.format("POST", "/api/v1/concerns", headers, body)
end
