-- POST with a unique Idempotency-Key per request: idem-first (claim, handler, store).
-- Key = bench-<nonce>-<thread id>-<per-thread counter>.
package.path = package.path .. ";" .. debug.getinfo(1, "S").source:match("^@?(.*/)") .. "?.lua"
local c = require("common")
setup = c.setup
local prefix
function init(args)
  c.init(args)
  prefix = "bench-" .. c.nonce .. "-" .. c.id .. "-"
end
function request()
  c.counter = c.counter + 1
  return c.post(prefix .. c.counter)
end
