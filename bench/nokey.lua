-- POST with a JSON body and no Idempotency-Key: limit-static, limit-c, idem-noop, idem-nokey.
-- The request never changes, so it is built once.
package.path = package.path .. ";" .. debug.getinfo(1, "S").source:match("^@?(.*/)") .. "?.lua"
local c = require("common")
local req
function init(args) req = c.post(nil) end
function request() return req end
