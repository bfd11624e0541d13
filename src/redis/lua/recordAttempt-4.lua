#!lua flags=allow-oom
--[[
  Records a failed attempt that will be retried in place (the job stays active, keeping its
  entity's order). Fenced: only the holder of the job's lock writes; a lock that expired with a
  lease nobody else took is taken back (see includes/ownLease.lua).

  KEYS[1] job hash  KEYS[2] job lock  KEYS[3] lease  KEYS[4] fence
  ARGV[1] owner token
  ARGV[2] failure reason
  ARGV[3] the owner's fencing token
  ARGV[4] pod id
  ARGV[5] lease TTL, ms
  ARGV[6] the attempt that failed (1 for the first): attempts made become at least that many,
          so a copy resent after a lost reply does not count it twice

  Returns attempts made so far, or -1 when the lock is not ours
]]
local rcall = redis.call
--- @include "includes/ownLease"

local lock = rcall("GET", KEYS[2])
if lock ~= ARGV[1] then
  if lock or not ownLease(KEYS[3], KEYS[4], ARGV[1], ARGV[3], ARGV[4], ARGV[5]) then
    return -1
  end
  rcall("SET", KEYS[2], ARGV[1], "PX", ARGV[5])
end
rcall("HSET", KEYS[1], "failedReason", ARGV[2])
local made = math.max(tonumber(rcall("HGET", KEYS[1], "atm")) or 0, tonumber(ARGV[6]))
rcall("HSET", KEYS[1], "atm", made)
return made
