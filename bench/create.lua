-- POST /Users with unique userNames (RUN prefix + thread + counter).
dofile(os.getenv("BENCH_DIR") .. "/common.lua")
local n = 0
function init(args)
  math.randomseed(os.time() + thread_no)
  prefix = os.getenv("RUN") or "u"
  headers = scim_headers()
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
