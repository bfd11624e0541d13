--[[
  What the safety sweep needs to know about one entity.

  KEYS[1] lease  KEYS[2] wait  KEYS[3] active  KEYS[4] prioritized  KEYS[5] delayed  KEYS[6] meta

  Returns {lease PTTL in ms (-2: no lease), 1 if the queue has work else 0}
]]
local rcall = redis.call
--- @include "includes/hasWork"

local work = 0
if hasWork(KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]) then
  work = 1
end
return {rcall("PTTL", KEYS[1]), work}
