#!lua flags=allow-oom
--[[
  Claims one of an entity's lease slots, or tells who holds them.

  allow-oom: a takeover must go on when Redis is out of memory, so that the backlog drains (a
  lease is a few bytes; the job moves keep memory as it is).

  An entity has `maxWorkersPerEntity` slots (1 by default). Slot 0's lease is KEYS[1]; slot n's
  is KEYS[1] .. ":" .. n (same hash tag, same Cluster slot). A pod holds at most one slot.

  KEYS[1] lease        (hash: t = owner token, p = pod id, i = 1 while the owner is idle)
  KEYS[2] fence        (the last fencing token: each acquisition takes a larger one, never
                        below Redis's clock in microseconds; see includes/ownLease.lua)
  KEYS[3] wait         KEYS[4] active       KEYS[5] prioritized
  KEYS[6] delayed      KEYS[7] meta         KEYS[8] events       KEYS[9] marker
  KEYS[10] slots       (hash: slot -> token of its last holder, kept after the lease expires)

  ARGV[1] owner token (unique per acquisition)
  ARGV[2] pod id
  ARGV[3] lease TTL, ms
  ARGV[4] job key prefix (BullMQ queue.toKey(''))
  ARGV[5] max stalled count: a recovered job past it is failed by its next runner
  ARGV[6] mode: "claim" claims a free slot; "claim-if-work" only when the queue has work;
          "probe" never claims (producer-only pods)
  ARGV[7] number of slots (maxWorkersPerEntity)
  ARGV[8] wake key prefix (`<prefix>:{__aq}:wake:`), or "" on Redis Cluster
  ARGV[9] entity ref (the member of wake sets)

  Returns
    {1, fence, recovered, slot}  claimed; `recovered` jobs of a dead holder went back to the
                                 head of wait, their locks deleted so it can't ack them. Also
                                 the reply to a resent copy of a claim that went through (its
                                 token holds the lease): the first reply was lost, the claim
                                 stands (recovered 0)
    {0, pod, wake}               held by `pod`; wake = 1 when it was idle and the idle flag was
                                 cleared: the caller must wake that pod; wake = 2 when this
                                 script woke it (single Redis only: the wake set is in another
                                 Cluster slot, so this one undeclared key is written only when
                                 the caller passed ARGV[8], which it does off Cluster)
    {2}                          free, not claimed (probe)
    {3}                          free, no work (claim-if-work)
]]
local rcall = redis.call
--- @include "includes/hasWork"
--- @include "includes/ownLease"

local baseKey = KEYS[1]
local podId = ARGV[2]
local slots = tonumber(ARGV[7])
local freeSlot = -1
local firstHolder = nil
for slot = 0, slots - 1 do
  local leaseKey = baseKey
  if slot > 0 then leaseKey = baseKey .. ":" .. slot end
  local holder = rcall("HMGET", leaseKey, "p", "i", "t")
  if holder[1] then
    if holder[3] == ARGV[1] then
      return {1, tonumber(rcall("GET", KEYS[2])), 0, slot}
    end
    if holder[1] == podId then
      return {0, podId, 0}
    end
    if holder[2] == "1" then
      rcall("HSET", leaseKey, "i", "0")
      if ARGV[8] ~= "" then
        -- Saves the caller a round trip before the holder hears of the job (latency).
        rcall("ZADD", ARGV[8] .. holder[1], "NX", nowMs(), ARGV[9])
        return {0, holder[1], 2}
      end
      return {0, holder[1], 1}
    end
    firstHolder = firstHolder or holder[1]
  elseif freeSlot < 0 then
    freeSlot = slot
  end
end

if freeSlot < 0 then
  return {0, firstHolder, 0}
end
local mode = ARGV[6]
if mode == "probe" then
  if firstHolder then return {0, firstHolder, 0} end
  return {2}
end
if mode == "claim-if-work" and not hasWork(KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]) then
  return {3}
end

local leaseKey = baseKey
if freeSlot > 0 then leaseKey = baseKey .. ":" .. freeSlot end
local previousToken = rcall("HGET", KEYS[10], freeSlot)
rcall("HSET", leaseKey, "t", ARGV[1], "p", podId, "i", "0")
rcall("PEXPIRE", leaseKey, ARGV[3])
rcall("HSET", KEYS[10], freeSlot, ARGV[1])
local fence = nextFence(KEYS[2])

-- Recover the jobs this slot's previous holder left active (and any whose lock expired). The
-- list's left end is the newest; pushing newest first onto the right (taking) end of wait
-- leaves the oldest to be taken first.
--
-- A holder takes up to a batch of jobs at once, runs them in order and acknowledges them
-- together (step-4.lua), so which of several recovered jobs was running when it died is unknown:
-- each counts the stall (`stc`), but none is failed for it. The next holder takes a job whose
-- stall count is above 0 alone (step-4.lua), so a job that kills its pod again is recovered by
-- itself, and only a job recovered alone is failed past `maxStalledCount`.
local activeKey = KEYS[4]
local active = rcall("LRANGE", activeKey, 0, -1)
local maxStalled = tonumber(ARGV[5])
local stalled = {}
for _, jobId in ipairs(active) do
  if string.sub(jobId, 1, 2) == "0:" then
    rcall("LREM", activeKey, 1, jobId)
  else
    local jobKey = ARGV[4] .. jobId
    local lock = rcall("GET", jobKey .. ":lock")
    if not lock or lock == previousToken then
      rcall("LREM", activeKey, 1, jobId)
      rcall("DEL", jobKey .. ":lock")
      if rcall("EXISTS", jobKey) == 1 then stalled[#stalled + 1] = jobId end
    end
  end
end
for _, jobId in ipairs(stalled) do
  local jobKey = ARGV[4] .. jobId
  local stalledCount = rcall("HINCRBY", jobKey, "stc", 1)
  if #stalled == 1 and stalledCount > maxStalled then
    rcall("HSET", jobKey, "defa", "job stalled more than allowable limit")
  end
  rcall("RPUSH", KEYS[3], jobId)
  rcall("ZADD", KEYS[9], 0, "0")
  rcall("XADD", KEYS[8], "*", "event", "stalled", "jobId", jobId)
  rcall("XADD", KEYS[8], "*", "event", "waiting", "jobId", jobId, "prev", "active")
end
local recovered = #stalled
return {1, tonumber(fence), recovered, freeSlot}
