-- PATCH /Users/{id}: replace displayName on random users.
dofile(os.getenv("BENCH_DIR") .. "/common.lua")
local n = 0
function init(args)
  math.randomseed(os.time() + thread_no * 15485863)
  ids = load_lines("IDS_FILE")
  headers = scim_headers()
end
function request()
  n = n + 1
  local body = string.format(
    '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],' ..
    '"Operations":[{"op":"replace","path":"displayName","value":"Patched %d-%d"}]}', thread_no, n)
  return wrk.format("PATCH", "/scim/v2/Users/" .. ids[math.random(#ids)], headers, body)
end
