-- Shared by the bench/*.lua wrk scripts: a POST with a payment's JSON body, and per-thread
-- state. wrk runs each thread in its own Lua state: setup() (main state, once per thread)
-- hands every thread its id; init() (in the thread) reads it and the run's nonce (the first
-- script argument after `--`), so keys built from nonce, thread id and a per-thread counter
-- never collide, across threads, rounds or runs.
local M = {}

M.body = '{"amount": 100, "currency": "USD"}'
M.headers = { ["Content-Type"] = "application/json" }

local next_id = 0
function M.setup(thread)
  next_id = next_id + 1
  thread:set("id", next_id)
end

function M.init(args)
  M.id = id or 0
  M.nonce = (args and args[1]) or tostring(os.time())
  M.counter = 0
end

function M.post(key)
  local headers = { ["Content-Type"] = "application/json" }
  if key then headers["Idempotency-Key"] = key end
  return wrk.format("POST", nil, headers, M.body)
end

return M
