#!lua flags=allow-oom
--[[
  Releases an idle entity's lease, only if its queue is empty. Enqueue adds the job and then
  runs claim-11.lua on the same hash slot, so either this script sees the job and keeps the lease,
  or the enqueuer finds the lease gone and claims it: a job can't be stranded.

  KEYS[1] lease  KEYS[2] wait  KEYS[3] active  KEYS[4] prioritized  KEYS[5] delayed  KEYS[6] meta
  KEYS[7] fence
  ARGV[1] owner token
  ARGV[2] the owner's fencing token
  ARGV[3] pod id
  ARGV[4] lease TTL, ms

  Returns -1 lease lost; 0 kept (the queue has work); 1 released
]]
local rcall = redis.call
--- @include "includes/hasWork"
--- @include "includes/ownLease"

if not ownLease(KEYS[1], KEYS[7], ARGV[1], ARGV[2], ARGV[3], ARGV[4]) then
  return -1
end
if hasWork(KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]) then
  return 0
end
rcall("DEL", KEYS[1])
-- Spend the holder's token: a renewal of it still in flight must not take the lease back
-- (see includes/ownLease.lua), and the next claim takes a larger one anyway.
rcall("INCR", KEYS[7])
return 1
