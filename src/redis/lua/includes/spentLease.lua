-- True when this holder's own release already went through: the lease is gone and the fencing
-- counter is still the one its release spent (one more than the holder's `fence`; a claim since
-- would have taken a larger one, see includes/ownLease.lua). That is a resent copy of a release
-- whose reply was lost with the connection: it answers as the first copy did.
local function spentLease(leaseKey, fenceKey, fence)
  if fence == "" or rcall("EXISTS", leaseKey) == 1 then
    return false
  end
  local last = tonumber(rcall("GET", fenceKey))
  return last ~= nil and last == tonumber(fence) + 1
end
