-- One kind of request of the mixed load, spread over many signed-in people.
-- MIXED_MODE: me | list | write | progress; MIXED_CALLERS: a file of lines
-- "TOKEN [COUPLE_ID]". Prints one line of figures when done.
local mode = os.getenv("MIXED_MODE")
local callers = {}
for line in io.lines(os.getenv("MIXED_CALLERS")) do
  local token, couple = line:match("^(%S+)%s*(%S*)")
  if token then callers[#callers + 1] = { token = token, couple = couple } end
end
local turn = 0

request = function()
  turn = turn + 1
  local caller = callers[(turn % #callers) + 1]
  local headers = { ["Authorization"] = "Bearer " .. caller.token }
  if mode == "me" then
    return wrk.format("GET", "/api/v1/me", headers)
  elseif mode == "list" then
    return wrk.format("GET", "/api/v1/entries?limit=50", headers)
  elseif mode == "write" then
    headers["Content-Type"] = "application/json"
    return wrk.format("POST", "/api/v1/entries", headers,
      '{"body":"A quieter evening. We talked for a while about the weekend.","audience":"me"}')
  else
    return wrk.format("GET", "/api/v1/couples/" .. caller.couple .. "/progress", headers)
  end
end

done = function(summary, latency, requests)
  io.write(string.format("mode=%s requests=%d errors=%d p50_ms=%.1f p95_ms=%.1f p99_ms=%.1f\n",
    mode, summary.requests,
    summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.status + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000))
end
