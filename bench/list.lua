-- GET /Users?startIndex=<random>&count=100: one page of 100 users.
dofile(os.getenv("BENCH_DIR") .. "/common.lua")
function init(args)
  math.randomseed(os.time() + thread_no * 1299709)
  total = tonumber(os.getenv("TOTAL"))
  headers = scim_headers()
end
function request()
  local start = math.random(math.max(1, total - 100))
  return wrk.format("GET", "/scim/v2/Users?startIndex=" .. start .. "&count=100", headers)
end
