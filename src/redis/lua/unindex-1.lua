#!lua flags=allow-oom
--[[
  Removes an entity from the sweep index only if its score is still the one the sweep saw:
  a claim or an enqueue that touched the entry since then keeps it.

  KEYS[1] index
  ARGV[1] member
  ARGV[2] score as read by the sweep

  Returns 1 removed, 0 kept
]]
local rcall = redis.call
if rcall("ZSCORE", KEYS[1], ARGV[1]) == ARGV[2] then
  return rcall("ZREM", KEYS[1], ARGV[1])
end
return 0
