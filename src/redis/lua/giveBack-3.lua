#!lua flags=allow-oom
--[[
  Puts back a job this runner took but must not run (its lease turned out to be gone): back to
  the head of wait, lock deleted, so the entity's holder runs it next, in order.

  KEYS[1] active  KEYS[2] wait  KEYS[3] job lock
  ARGV[1] owner token
  ARGV[2] job id

  Returns 1 put back; 0 the lock was not ours (a new holder already recovered it)
]]
local rcall = redis.call
if rcall("GET", KEYS[3]) ~= ARGV[1] then
  return 0
end
rcall("DEL", KEYS[3])
rcall("LREM", KEYS[1], 1, ARGV[2])
rcall("RPUSH", KEYS[2], ARGV[2])
return 1
