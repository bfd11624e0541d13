#!lua flags=no-writes
--[[
  What the safety sweep needs to know about one entity.

  KEYS[1] lease (slot 0; slot n is KEYS[1] .. ":" .. n)
  KEYS[2] wait  KEYS[3] active  KEYS[4] prioritized  KEYS[5] delayed  KEYS[6] meta
  ARGV[1] job key prefix
  ARGV[2] number of slots

  Returns {largest lease PTTL in ms (-2: no lease), 1 if the queue has work else 0,
           1 if an active job has lost its lock (its holder died) else 0}
]]
local rcall = redis.call
--- @include "includes/hasWork"

local work = 0
if hasWork(KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]) then
  work = 1
end
local pttl = -2
for slot = 0, tonumber(ARGV[2]) - 1 do
  local leaseKey = KEYS[1]
  if slot > 0 then leaseKey = KEYS[1] .. ":" .. slot end
  local t = rcall("PTTL", leaseKey)
  if t > pttl then pttl = t end
end
local orphan = 0
for _, jobId in ipairs(rcall("LRANGE", KEYS[3], 0, -1)) do
  if string.sub(jobId, 1, 2) ~= "0:" and rcall("EXISTS", ARGV[1] .. jobId .. ":lock") == 0 then
    orphan = 1
    break
  end
end
return {pttl, work, orphan}
