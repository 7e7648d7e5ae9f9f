-- Shared by the wrk scripts: auth headers and per-thread ids.
local counter = 0
local thread_no = 0

function setup(thread)
  thread:set("thread_no", thread_no)
  thread_no = thread_no + 1
end

function scim_headers()
  return {
    ["Authorization"] = "Bearer " .. os.getenv("TOKEN"),
    ["Content-Type"] = "application/scim+json",
  }
end

function load_lines(var)
  local t = {}
  for line in io.lines(os.getenv(var)) do t[#t + 1] = line end
  return t
end
