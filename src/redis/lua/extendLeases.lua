--[[
  Renews many leases in one call (the pod's heartbeat). Variadic: keys come in pairs.

  KEYS[2i-1] lease of entity i
  KEYS[2i]   lock of the job entity i runs, or its lease key again when it runs none
  ARGV[1]    TTL, ms
  ARGV[i+1]  owner token of entity i

  Returns a list: 1 renewed, 0 lost (the token no longer owns the lease).
  On Redis Cluster the caller groups entities by hash slot.
]]
local rcall = redis.call
local ttl = ARGV[1]
local out = {}
for i = 1, #KEYS / 2 do
  local leaseKey = KEYS[2 * i - 1]
  local lockKey = KEYS[2 * i]
  local token = ARGV[i + 1]
  if rcall("HGET", leaseKey, "t") == token then
    rcall("PEXPIRE", leaseKey, ttl)
    if lockKey ~= leaseKey and rcall("GET", lockKey) == token then
      rcall("PEXPIRE", lockKey, ttl)
    end
    out[i] = 1
  else
    out[i] = 0
  end
end
return out
