#!lua flags=allow-oom
--[[
  Gives up a lease at shutdown (or after a runner error), whatever the queue holds, so that
  another pod can take the entity at once instead of waiting for the TTL.

  KEYS[1] lease  KEYS[2] wait  KEYS[3] active  KEYS[4] prioritized  KEYS[5] delayed  KEYS[6] meta
  KEYS[7] fence
  ARGV[1] owner token
  ARGV[2] the owner's fencing token
  ARGV[3] pod id
  ARGV[4] lease TTL, ms

  Returns -1 the lease was not ours; 0 released, queue empty; 1 released, queue has work (also
  to a resent copy of a call that went through, see includes/spentLease.lua)
]]
local rcall = redis.call
--- @include "includes/hasWork"
--- @include "includes/ownLease"
--- @include "includes/spentLease"

if ownLease(KEYS[1], KEYS[7], ARGV[1], ARGV[2], ARGV[3], ARGV[4]) then
  rcall("DEL", KEYS[1])
  -- Spend the holder's token: a renewal of it still in flight must not take the lease back
  -- (see includes/ownLease.lua), and the next claim takes a larger one anyway.
  rcall("INCR", KEYS[7])
elseif not spentLease(KEYS[1], KEYS[7], ARGV[2]) then
  return -1
end
if hasWork(KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]) then
  return 1
end
return 0
