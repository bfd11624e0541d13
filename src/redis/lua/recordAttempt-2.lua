--[[
  Records a failed attempt that will be retried in place (the job stays active, keeping its
  entity's order). Fenced: only the lock holder can write.

  KEYS[1] job hash  KEYS[2] job lock
  ARGV[1] owner token
  ARGV[2] failure reason

  Returns attempts made so far, or -1 when the lock is not ours
]]
local rcall = redis.call
if rcall("GET", KEYS[2]) ~= ARGV[1] then
  return -1
end
rcall("HSET", KEYS[1], "failedReason", ARGV[2])
return rcall("HINCRBY", KEYS[1], "atm", 1)
