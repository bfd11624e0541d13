#!lua flags=allow-oom
--[[
  Offers entities in the spawn set, or wakes an idle holder through its wake set: adds the
  members, scored with Redis's clock (older offers are popped first), keeping an earlier score.

  KEYS[1] the spawn set, or a pod's wake set
  ARGV[1..] members (entity refs)

  Returns how many were added
]]
local rcall = redis.call
--- @include "includes/now"

local now = nowMs()
local args = {}
for i = 1, #ARGV do
  args[#args + 1] = now
  args[#args + 1] = ARGV[i]
end
return rcall("ZADD", KEYS[1], "NX", unpack(args))
