-- POST /Users with unique userNames (RUN prefix + thread + counter). With PER_THREAD set,
-- each thread stops after that many responses (to seed an exact number of users).
dofile(os.getenv("BENCH_DIR") .. "/common.lua")
local n = 0
local done = 0
function init(args)
  math.randomseed(os.time() + thread_no)
  prefix = os.getenv("RUN") or "u"
  headers = scim_headers()
  limit = tonumber(os.getenv("PER_THREAD") or "0")
end
function request()
  n = n + 1
  local name = string.format("%s-%d-%d@bench.test", prefix, thread_no, n)
  local body = string.format(
    '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"%s","externalId":"ext-%s",' ..
    '"name":{"givenName":"Bench","familyName":"User %d"},"displayName":"Bench User %d",' ..
    '"emails":[{"value":"%s","type":"work","primary":true}],"active":true}',
    name, name, n, n, name)
  return wrk.format("POST", "/scim/v2/Users", headers, body)
end
function response(status, headers, body)
  done = done + 1
  if limit > 0 and done >= limit then wrk.thread:stop() end
end
