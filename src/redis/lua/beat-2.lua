#!lua flags=allow-oom
--[[
  One heartbeat of a pod in the registry: records its entry with Redis's clock, drops entries
  gone for good, and returns everything the pod needs to compute its fair share. Staleness is
  judged by Redis's clock alone.

  KEYS[1] pods (hash: pod id -> `owned|processing|time`)
  KEYS[2] spawn set
  ARGV[1] pod id
  ARGV[2] entities the pod holds
  ARGV[3] "1" when the pod processes jobs
  ARGV[4] entries older than this many ms are deleted (a pod gone for good)

  Returns {now, entities waiting in the spawn set, pod, entry, pod, entry, ...}
]]
local rcall = redis.call
--- @include "includes/now"

local now = nowMs()
rcall("HSET", KEYS[1], ARGV[1], ARGV[2] .. "|" .. ARGV[3] .. "|" .. now)
local all = rcall("HGETALL", KEYS[1])
local out = {now, rcall("ZCARD", KEYS[2])}
local goneBefore = now - tonumber(ARGV[4])
for i = 1, #all, 2 do
  local at = tonumber(string.match(all[i + 1], "|(%d+)$") or "0")
  if at < goneBefore then
    rcall("HDEL", KEYS[1], all[i])
  else
    out[#out + 1] = all[i]
    out[#out + 1] = all[i + 1]
  end
end
return out
