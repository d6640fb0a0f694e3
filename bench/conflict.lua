-- idem-conflict: many concurrent duplicates of few keys. Each thread uses a key for
-- `group` consecutive requests (default 16, about one per connection of a thread at -c32
-- -t2), so they are in flight together: one executes, the others get 409
-- request-in-progress while it runs and a replay once it is stored. Then the next key.
-- Prints the status counts at the end ("statuses 201=… 409=…").
-- Args: <nonce> [group]
package.path = package.path .. ";" .. debug.getinfo(1, "S").source:match("^@?(.*/)") .. "?.lua"
local c = require("common")

local threads = {}
function setup(thread)
  c.setup(thread)
  table.insert(threads, thread)
end

local prefix, group
statuses = {}
function init(args)
  c.init(args)
  group = tonumber(args[2] or "16")
  prefix = "conflict-" .. c.nonce .. "-" .. c.id .. "-"
end

function request()
  local key = prefix .. math.floor(c.counter / group)
  c.counter = c.counter + 1
  return c.post(key)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses") or {}) do total[status] = (total[status] or 0) + n end
  end
  local parts = {}
  for status, n in pairs(total) do table.insert(parts, status .. "=" .. n) end
  table.sort(parts)
  io.write("statuses " .. table.concat(parts, " ") .. "\n")
end
