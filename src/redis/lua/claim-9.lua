--[[
  Claims an entity's lease, or tells who holds it.

  KEYS[1] lease        (hash: t = owner token, p = pod id, i = 1 while the owner is idle)
  KEYS[2] fence        (counter, incremented on every acquisition: the fencing token)
  KEYS[3] wait         KEYS[4] active       KEYS[5] prioritized
  KEYS[6] delayed      KEYS[7] meta         KEYS[8] events       KEYS[9] marker

  ARGV[1] owner token (unique per acquisition)
  ARGV[2] pod id
  ARGV[3] lease TTL, ms
  ARGV[4] job key prefix (BullMQ queue.toKey(''))
  ARGV[5] max stalled count: a recovered job past it is failed by its next runner
  ARGV[6] mode: "claim" claims a free lease; "claim-if-work" only when the queue has work;
          "probe" never claims (producer-only pods)

  Returns
    {1, fence, recovered}  claimed; `recovered` active jobs of a dead owner went back to the
                           head of wait, their locks deleted so the old owner can't ack them
    {0, pod, wake}         held by `pod`; wake = 1 when it was idle, and the idle flag was cleared:
                           the caller must wake that pod
    {2}                    free, not claimed (probe)
    {3}                    free, no work (claim-if-work)
]]
local rcall = redis.call
--- @include "includes/hasWork"

local leaseKey = KEYS[1]
if rcall("EXISTS", leaseKey) == 1 then
  local owner = rcall("HMGET", leaseKey, "p", "i")
  if owner[2] == "1" then
    rcall("HSET", leaseKey, "i", "0")
    return {0, owner[1], 1}
  end
  return {0, owner[1], 0}
end

local mode = ARGV[6]
if mode == "probe" then
  return {2}
end
if mode == "claim-if-work" and not hasWork(KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]) then
  return {3}
end

rcall("HSET", leaseKey, "t", ARGV[1], "p", ARGV[2], "i", "0")
rcall("PEXPIRE", leaseKey, ARGV[3])
local fence = rcall("INCR", KEYS[2])

-- Recover the jobs a previous owner left active. The list's left end is the newest; pushing
-- newest first onto the right (taking) end of wait leaves the oldest to be taken first.
local activeKey = KEYS[4]
local active = rcall("LRANGE", activeKey, 0, -1)
local maxStalled = tonumber(ARGV[5])
local recovered = 0
for _, jobId in ipairs(active) do
  rcall("LREM", activeKey, 1, jobId)
  if string.sub(jobId, 1, 2) ~= "0:" then
    local jobKey = ARGV[4] .. jobId
    rcall("DEL", jobKey .. ":lock")
    if rcall("EXISTS", jobKey) == 1 then
      local stalledCount = rcall("HINCRBY", jobKey, "stc", 1)
      if stalledCount > maxStalled then
        rcall("HSET", jobKey, "defa", "job stalled more than allowable limit")
      end
      rcall("RPUSH", KEYS[3], jobId)
      rcall("ZADD", KEYS[9], 0, "0")
      rcall("XADD", KEYS[8], "*", "event", "stalled", "jobId", jobId)
      rcall("XADD", KEYS[8], "*", "event", "waiting", "jobId", jobId, "prev", "active")
      recovered = recovered + 1
    end
  end
end
return {1, fence, recovered}
