--[[
  Puts back, to the head of wait and in their order, the active jobs locked with this runner's
  token that it is not running: jobs a command moved to active but whose reply was lost with the
  connection (ioredis then resent the command, which took the next job too). The holder runs
  them next, oldest first, so the entity's order is kept.

  KEYS[1] active  KEYS[2] wait  KEYS[3] lease
  ARGV[1] owner token
  ARGV[2] job key prefix
  ARGV[3..] ids of the jobs the runner is running (kept)

  Returns the number of jobs put back; -1 when the lease is no longer this token's.
]]
local rcall = redis.call
if rcall("HGET", KEYS[3], "t") ~= ARGV[1] then
  return -1
end
local running = {}
for i = 3, #ARGV do
  running[ARGV[i]] = true
end
local back = 0
-- The list's left end is the newest: pushing newest first onto the taking end of wait leaves
-- the oldest to be taken first.
for _, jobId in ipairs(rcall("LRANGE", KEYS[1], 0, -1)) do
  if not running[jobId] and string.sub(jobId, 1, 2) ~= "0:" then
    local lockKey = ARGV[2] .. jobId .. ":lock"
    if rcall("GET", lockKey) == ARGV[1] then
      rcall("DEL", lockKey)
      rcall("LREM", KEYS[1], 1, jobId)
      rcall("RPUSH", KEYS[2], jobId)
      back = back + 1
    end
  end
end
return back
