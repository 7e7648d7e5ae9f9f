-- GET /healthz: the HTTP stack and one pooled SELECT 1, for reference.
function request()
  return wrk.format("GET", "/healthz")
end
