#!lua flags=allow-oom
--[[
  Marks the owner idle when its queue has nothing to take now, so that the next enqueue from
  another pod wakes it (see claim-11.lua). Checked and set atomically: no wake-up is lost.

  The owner calls it only when it runs no job, so an active job locked with its token, or whose
  lock expired, is one it never knew it had (a reply lost with the connection): it goes back to
  the head of wait, in order, and counts as work. Nothing can stay stranded under a live lease.

  An entity that keeps failed jobs, or is paused, may get work from a BullMQ tool (a retried job,
  a resume), which wakes nobody: `watch` tells the holder to call again after a while.

  KEYS[1] lease  KEYS[2] wait  KEYS[3] prioritized  KEYS[4] delayed  KEYS[5] meta  KEYS[6] active
  KEYS[7] fence  KEYS[8] failed
  ARGV[1] owner token
  ARGV[2] job key prefix
  ARGV[3] the owner's fencing token
  ARGV[4] pod id
  ARGV[5] lease TTL, ms

  Returns {-1} lease lost; {1} work is ready; {0, dueInMs, watch} idle now; dueInMs: milliseconds
  until the next delayed job is due, by Redis's clock (0: no delayed job); watch: 1 when the
  queue keeps failed jobs or is paused, else 0
]]
local rcall = redis.call
--- @include "includes/putBack"
--- @include "includes/ownLease"

local leaseKey = KEYS[1]
if not ownLease(leaseKey, KEYS[7], ARGV[1], ARGV[3], ARGV[4], ARGV[5]) then
  return {-1}
end
putBack(KEYS[6], KEYS[2], ARGV[2], function(_, lock)
  return not lock or lock == ARGV[1]
end)
local paused = rcall("HEXISTS", KEYS[5], "paused") == 1
if not paused and (rcall("LLEN", KEYS[2]) > 0 or rcall("ZCARD", KEYS[3]) > 0) then
  return {1}
end
local dueIn = 0
local first = rcall("ZRANGE", KEYS[4], 0, 0, "WITHSCORES")
if first[2] then
  -- BullMQ scores delayed jobs as timestamp * 0x1000 + counter.
  dueIn = math.floor(tonumber(first[2]) / 0x1000) - nowMs()
  if not paused and dueIn <= 0 then
    return {1}
  end
end
rcall("HSET", leaseKey, "i", "1")
local watch = 0
if paused or rcall("ZCARD", KEYS[8]) > 0 then
  watch = 1
end
return {0, math.max(dueIn, 0), watch}
