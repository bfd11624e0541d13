--- @include "includes/now"
-- The next fencing token of an entity: one more than the last, and never below Redis's clock
-- in microseconds, so tokens keep growing when Redis loses the counter (a restart without
-- persistence, a failover to a replica that missed the last writes). docs/DESIGN.md argues the
-- bound.
local function nextFence(fenceKey)
  local last = tonumber(rcall("GET", fenceKey)) or 0
  local fence = math.max(last + 1, nowUs())
  local text = string.format("%.0f", fence)
  rcall("SET", fenceKey, text)
  return text
end

-- True while `token` owns the entity's lease. A lease that expired while no other pod took the
-- entity (the fencing counter still holds this holder's `fence`) is taken back: the holder
-- only paused (a Redis stall, a process pause), nothing ran in its place, so its work stands.
-- A lease its holder gave up is not: releasing spends the token (release-7.lua increments the
-- counter), so a renewal still in flight finds the counter moved on.
local function ownLease(leaseKey, fenceKey, token, fence, podId, ttl)
  local holder = rcall("HGET", leaseKey, "t")
  if holder == token then
    return true
  end
  if holder or fence == "" or rcall("GET", fenceKey) ~= fence then
    return false
  end
  rcall("HSET", leaseKey, "t", token, "p", podId, "i", "0")
  rcall("PEXPIRE", leaseKey, ttl)
  return true
end
