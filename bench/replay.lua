-- POST with one fixed Idempotency-Key: idem-replay. The first request of the run executes
-- (run.sh primes the key with one request before measuring); every other one is a replay.
package.path = package.path .. ";" .. debug.getinfo(1, "S").source:match("^@?(.*/)") .. "?.lua"
local c = require("common")
local req
function init(args)
  c.init(args)
  req = c.post("replay-" .. c.nonce)
end
function request() return req end
