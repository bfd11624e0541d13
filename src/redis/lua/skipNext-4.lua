#!lua flags=allow-oom
--[[
  Skips the next job of a paused entity (an operator's call): the job at the head of wait goes
  to failed without running, failedReason "skipped", as a failure does (finishedOn, the engine's
  `aqe`, a 'failed' event, the entity type's retention). The entity stays paused.

  allow-oom: it moves a job and applies retention.

  KEYS[1] wait  KEYS[2] meta  KEYS[3] failed  KEYS[4] events

  ARGV[1] job key prefix
  ARGV[2] failed reason ("skipped")
  ARGV[3] the error as JSON (the job's `aqe`)
  ARGV[4] keep count: -1 keep all, 0 remove the job now, n keep the last n (keepJobs)
  ARGV[5] keep age in seconds, or ""
  ARGV[6] at most this many jobs removed by age per call

  Returns {-1} not paused (nothing done); {0} nothing waits;
          {1, job id, waiters (comma-separated pods, or false), kept (1/0)} skipped
]]
local rcall = redis.call
--- @include "includes/now"
--- @include "includes/removeJob"
--- @include "includes/maxEvents"

if rcall("HEXISTS", KEYS[2], "paused") == 0 then
  return {-1}
end
local prefix = ARGV[1]
local jobId
repeat
  jobId = rcall("RPOP", KEYS[1])
  -- BullMQ's legacy markers ("0:<ts>") and entries whose job is gone are not jobs: dropped.
until not jobId or (string.sub(jobId, 1, 2) ~= "0:" and rcall("EXISTS", prefix .. jobId) == 1)
if not jobId then
  return {0}
end

local jobKey = prefix .. jobId
local now = nowMs()
local waiters = rcall("HGET", jobKey, "aqw")
local keepCount = tonumber(ARGV[4])
local kept = 0
if keepCount ~= 0 then
  rcall("ZADD", KEYS[3], now, jobId)
  rcall("HSET", jobKey, "failedReason", ARGV[2], "finishedOn", now, "aqe", ARGV[3])
  keepJobs(KEYS[3], prefix, keepCount, ARGV[5], tonumber(ARGV[6]), now)
  if rcall("ZSCORE", KEYS[3], jobId) then kept = 1 end
else
  removeJob(prefix, jobId)
end
rcall("XADD", KEYS[4], "MAXLEN", "~", maxEvents(KEYS[2]), "*", "event", "failed", "jobId", jobId,
  "failedReason", ARGV[2], "prev", "waiting")
return {1, jobId, waiters, kept}
