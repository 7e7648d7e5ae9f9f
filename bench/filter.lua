-- GET /Users?filter=userName eq "<random existing userName>".
dofile(os.getenv("BENCH_DIR") .. "/common.lua")
function init(args)
  math.randomseed(os.time() + thread_no * 104729)
  names = load_lines("NAMES_FILE")
  headers = scim_headers()
end
local function enc(s)
  return (s:gsub("[^%w%-%._~@]", function(c) return string.format("%%%02X", string.byte(c)) end))
end
function request()
  local f = 'userName eq "' .. names[math.random(#names)] .. '"'
  return wrk.format("GET", "/scim/v2/Users?filter=" .. enc(f), headers)
end
