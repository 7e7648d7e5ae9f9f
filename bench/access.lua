-- GET /admin/v1/tenants/bench/users/{userName}/access for random users of the cohort
-- that is in 20 groups (the badge-swipe question).
dofile(os.getenv("BENCH_DIR") .. "/common.lua")
function init(args)
  math.randomseed(os.time() + thread_no * 7919)
  names = load_lines("COHORT_FILE")
  headers = {["Authorization"] = "Bearer " .. os.getenv("OPERATOR")}
end
function request()
  return wrk.format("GET", "/admin/v1/tenants/bench/users/" .. names[math.random(#names)] .. "/access", headers)
end
