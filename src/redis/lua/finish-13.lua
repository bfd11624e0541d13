#!lua flags=allow-oom
--[[
  Finishes a runner's job (completed or failed) and takes the entity's next one: the engine's
  hot path, in place of BullMQ's moveToFinished + fetchNextJob.

  Why not BullMQ's script: it costs Redis ~136 µs per call (SLOWLOG, `npm run bench -- seed`),
  most of it in generic work an entity queue never needs (parent and child dependencies,
  deduplication, rate limiter, metrics, priorities, options unpacked with cmsgpack on every
  call). This script makes the same writes to the same keys, in BullMQ's layout (BullMQ's
  readers, e.g. getJobCounts or a job's state, see what they would have seen), for the one case
  the engine has: a standalone job, finished by the holder of its lock.

  allow-oom: it frees or keeps memory (the job leaves the queue; retention removes old jobs), and
  must go on when Redis is out of memory so that the backlog drains.

  KEYS[1] wait        KEYS[2] active      KEYS[3] stalled     KEYS[4] events
  KEYS[5] completed or failed (the target set)                KEYS[6] job
  KEYS[7] job lock    KEYS[8] meta        KEYS[9] delayed     KEYS[10] prioritized
  KEYS[11] marker     KEYS[12] lease      KEYS[13] fence

  ARGV[1] job id
  ARGV[2] "completed" or "failed"
  ARGV[3] completed: the return value (JSON, as BullMQ stores it); failed: the failed reason
  ARGV[4] lock token (the runner's lease token)
  ARGV[5] keep count: -1 keep all, 0 remove the job now, n keep the last n (keepJobs)
  ARGV[6] keep age in seconds, or ""
  ARGV[7] at most this many jobs removed by age per call (BullMQ's keepJobs.limit)
  ARGV[8] "1": take the next job
  ARGV[9] job key prefix (BullMQ queue.toKey(''))
  ARGV[10] lock duration of the next job, ms (the lease TTL)
  ARGV[11] the runner's fencing token (a lease that expired unclaimed is taken back)
  ARGV[12] pod id of the runner
  ARGV[13] reply channel prefix: the result is published to <prefix><pod> for each awaiting
           pod but this one, when ARGV[14] is not ""
  ARGV[14] reply message, or "" (the caller publishes the result itself)
  ARGV[15] failed: the error as JSON (kept in the job's `aqe` field), or ""
  ARGV[16] failed: BullMQ's stacktrace field (a JSON array), or ""
  ARGV[17] failed: "1" pauses the entity (onFailure: 'pause')

  Returns {code, waiters, job hash, job id}
    code -1 no such job, -2 lock missing, -6 lock held by another token, -3 job not active
         (BullMQ's codes: the runner's lease is gone); nothing was written
    code 0 finished, no job taken (none waiting, fetch not asked, or the entity paused)
    code 1 finished, the next job must be fetched by BullMQ's moveToActive
    code 2 finished, the next job taken: its hash and id follow (BullMQ's fetch reply)
    waiters: the pods awaiting the result (comma-separated), or false
]]
local rcall = redis.call
--- @include "includes/now"
--- @include "includes/ownLease"
--- @include "includes/removeJob"
--- @include "includes/takeNext"

local jobKey = KEYS[6]
local jobId = ARGV[1]
local target = ARGV[2]
local token = ARGV[4]
local prefix = ARGV[9]
local lockMs = ARGV[10]

if rcall("EXISTS", jobKey) == 0 then
  return {-1}
end
local lockToken = rcall("GET", KEYS[7])
if lockToken ~= token then
  if lockToken then
    return {-6}
  end
  -- The lock expired with the lease: the job is still this runner's if nobody took the entity
  -- since (then it is still in active, unlocked, and no claim recovered it).
  if not ownLease(KEYS[12], KEYS[13], token, ARGV[11], ARGV[12], lockMs) then
    return {-2}
  end
end
if rcall("LREM", KEYS[2], -1, jobId) < 1 then
  return {-3}
end
rcall("DEL", KEYS[7])
rcall("SREM", KEYS[3], jobId)

local now = nowMs()
local maxEvents = rcall("HGET", KEYS[8], "opts.maxLenEvents") or 10000
rcall("XTRIM", KEYS[4], "MAXLEN", "~", maxEvents)
rcall("HINCRBY", jobKey, "atm", 1)
local waiters = rcall("HGET", jobKey, "aqw")

local field = "returnvalue"
if target == "failed" then
  field = "failedReason"
end
local keepCount = tonumber(ARGV[5])
if keepCount ~= 0 then
  rcall("ZADD", KEYS[5], now, jobId)
  rcall("HSET", jobKey, field, ARGV[3], "finishedOn", now)
  if target == "failed" then
    if ARGV[15] ~= "" then
      rcall("HSET", jobKey, "aqe", ARGV[15])
    end
    if ARGV[16] ~= "" then
      rcall("HSET", jobKey, "stacktrace", ARGV[16])
    end
  end
  keepJobs(KEYS[5], prefix, keepCount, ARGV[6], tonumber(ARGV[7]), now)
else
  removeJob(prefix, jobId)
end

rcall("XADD", KEYS[4], "*", "event", target, "jobId", jobId, field, ARGV[3], "prev", "active")
if waiters and ARGV[14] ~= "" then
  for pod in string.gmatch(waiters, "[^,]+") do
    if pod ~= ARGV[12] then
      rcall("PUBLISH", ARGV[13] .. pod, ARGV[14])
    end
  end
end

if target == "failed" and ARGV[17] == "1" then
  -- As BullMQ's pause: the flag, no marker, a 'paused' event.
  rcall("HSET", KEYS[8], "paused", 1)
  rcall("DEL", KEYS[11])
  rcall("XADD", KEYS[4], "*", "event", "paused")
  return {0, waiters}
end
if ARGV[8] ~= "1" then
  return {0, waiters}
end
local taken = takeNext(KEYS[1], KEYS[2], KEYS[4], KEYS[8], KEYS[9], KEYS[10], KEYS[11], prefix,
  token, lockMs, now)
if type(taken) == "table" then
  return {2, waiters, taken[1], taken[2]}
end
return {taken, waiters}
