#!lua flags=allow-oom
--[[
  Scores members of one of the pods' shared sorted sets (the sweep index, the rest set) with a
  time by Redis's clock: now + a delay each. Scores are compared with Redis's clock by the cron
  manager (due-1.lua), so no pod's clock decides when an entity is looked at.

  KEYS[1] the sorted set
  ARGV[1] "" (add or update), "XX" (update only) or "NX" (add only)
  ARGV[2i], ARGV[2i+1]  delay in ms, member

  Returns now (ms): member i is scored now + its delay.
]]
local rcall = redis.call
--- @include "includes/now"

local now = nowMs()
local args = {}
for i = 2, #ARGV, 2 do
  args[#args + 1] = now + tonumber(ARGV[i])
  args[#args + 1] = ARGV[i + 1]
end
if #args > 0 then
  if ARGV[1] == "" then
    rcall("ZADD", KEYS[1], unpack(args))
  else
    rcall("ZADD", KEYS[1], ARGV[1], unpack(args))
  end
end
return now
