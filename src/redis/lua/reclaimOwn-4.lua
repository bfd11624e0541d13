#!lua flags=allow-oom
--[[
  Puts back, to the head of wait and in their order, the active jobs locked with this runner's
  token that it is not running: jobs a command moved to active but whose reply was lost with the
  connection (ioredis then resent the command, which took the next job too). The holder runs
  them next, oldest first, so the entity's order is kept.

  KEYS[1] active  KEYS[2] wait  KEYS[3] lease  KEYS[4] fence
  ARGV[1] owner token
  ARGV[2] job key prefix
  ARGV[3] the owner's fencing token
  ARGV[4] pod id
  ARGV[5] lease TTL, ms
  ARGV[6..] ids of the jobs the runner is running (kept)

  Returns the number of jobs put back; -1 when the lease is no longer this token's.
]]
local rcall = redis.call
--- @include "includes/putBack"
--- @include "includes/ownLease"

if not ownLease(KEYS[3], KEYS[4], ARGV[1], ARGV[3], ARGV[4], ARGV[5]) then
  return -1
end
local running = {}
for i = 6, #ARGV do
  running[ARGV[i]] = true
end
return putBack(KEYS[1], KEYS[2], ARGV[2], function(jobId, lock)
  return lock == ARGV[1] and not running[jobId]
end)
