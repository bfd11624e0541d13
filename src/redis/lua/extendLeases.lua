#!lua flags=allow-oom
--[[
  Renews many leases in one call (the pod's heartbeat). Variadic: keys come in triples.

  A lease that expired while no other pod took the entity (its fencing counter still holds the
  holder's token) is taken back, with its running job's lock: the holder only paused.

  allow-oom: renewals keep memory as it is and must go on when Redis is out of memory.

  KEYS[3i-2] lease of entity i
  KEYS[3i-1] lock of the job entity i runs, or its lease key again when it runs none
  KEYS[3i]   fence of entity i
  ARGV[1]    TTL, ms
  ARGV[2]    pod id
  ARGV[2i+1] owner token of entity i
  ARGV[2i+2] fencing token of entity i

  Returns a list: 1 renewed, 0 lost (another holder took the entity).
  On Redis Cluster the caller groups entities by hash slot.
]]
local rcall = redis.call
--- @include "includes/ownLease"

local ttl = ARGV[1]
local podId = ARGV[2]
local out = {}
for i = 1, #KEYS / 3 do
  local leaseKey = KEYS[3 * i - 2]
  local lockKey = KEYS[3 * i - 1]
  local token = ARGV[2 * i + 1]
  if ownLease(leaseKey, KEYS[3 * i], token, ARGV[2 * i + 2], podId, ttl) then
    rcall("PEXPIRE", leaseKey, ttl)
    if lockKey ~= leaseKey then
      local lock = rcall("GET", lockKey)
      if lock == token then
        rcall("PEXPIRE", lockKey, ttl)
      elseif not lock then
        rcall("SET", lockKey, token, "PX", ttl)
      end
    end
    out[i] = 1
  else
    out[i] = 0
  end
end
return out
