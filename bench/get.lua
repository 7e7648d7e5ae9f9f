-- GET /Users/{id} on random ids.
dofile(os.getenv("BENCH_DIR") .. "/common.lua")
function init(args)
  math.randomseed(os.time() + thread_no * 7919)
  ids = load_lines("IDS_FILE")
  headers = scim_headers()
end
function request()
  return wrk.format("GET", "/scim/v2/Users/" .. ids[math.random(#ids)], headers)
end
