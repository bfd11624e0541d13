--[[
  Marks the owner idle when its queue has nothing to take now, so that the next enqueue from
  another pod wakes it (see claim-10.lua). Checked and set atomically: no wake-up is lost.

  The owner calls it only when it runs no job, so an active job locked with its token, or whose
  lock expired, is one it never knew it had (a reply lost with the connection): it goes back to
  the head of wait, in order, and counts as work. Nothing can stay stranded under a live lease.

  KEYS[1] lease  KEYS[2] wait  KEYS[3] prioritized  KEYS[4] delayed  KEYS[5] meta  KEYS[6] active
  ARGV[1] owner token
  ARGV[2] now, ms
  ARGV[3] job key prefix

  Returns {-1} lease lost; {1} work is ready; {0, nextDelayedMs} idle now (0: no delayed job)
]]
local rcall = redis.call
--- @include "includes/putBack"

local leaseKey = KEYS[1]
if rcall("HGET", leaseKey, "t") ~= ARGV[1] then
  return {-1}
end
putBack(KEYS[6], KEYS[2], ARGV[3], function(_, lock)
  return not lock or lock == ARGV[1]
end)
local paused = rcall("HEXISTS", KEYS[5], "paused") == 1
if not paused and (rcall("LLEN", KEYS[2]) > 0 or rcall("ZCARD", KEYS[3]) > 0) then
  return {1}
end
local nextDelayed = 0
local first = rcall("ZRANGE", KEYS[4], 0, 0, "WITHSCORES")
if first[2] then
  -- BullMQ scores delayed jobs as timestamp * 0x1000 + counter.
  nextDelayed = math.floor(tonumber(first[2]) / 0x1000)
  if not paused and nextDelayed <= tonumber(ARGV[2]) then
    return {1}
  end
end
rcall("HSET", leaseKey, "i", "1")
return {0, nextDelayed}
