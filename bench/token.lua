-- POST /oauth2/token, client_credentials with HTTP Basic (BASIC = base64(id:secret)).
function init(args)
  headers = {
    ["Authorization"] = "Basic " .. os.getenv("BASIC"),
    ["Content-Type"] = "application/x-www-form-urlencoded",
  }
end
function request()
  return wrk.format("POST", "/oauth2/token", headers, "grant_type=client_credentials")
end
