--[[
  Gives up a lease at shutdown (or after a runner error), whatever the queue holds, so that
  another pod can take the entity at once instead of waiting for the TTL.

  KEYS[1] lease  KEYS[2] wait  KEYS[3] active  KEYS[4] prioritized  KEYS[5] delayed  KEYS[6] meta
  ARGV[1] owner token

  Returns -1 the lease was not ours; 0 released, queue empty; 1 released, queue has work
]]
local rcall = redis.call
--- @include "includes/hasWork"

if rcall("HGET", KEYS[1], "t") ~= ARGV[1] then
  return -1
end
rcall("DEL", KEYS[1])
if hasWork(KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]) then
  return 1
end
return 0
