#!lua flags=allow-oom
--[[
  Puts failed jobs of an entity back at the head of its wait list (an operator's retry): they
  run next, before the jobs already waiting, oldest failure first. Each gets its attempts anew:
  the attempt count, the stall count and a stall failure are cleared, as are the failure's
  fields (finishedOn, processedOn, failedReason, the engine's `aqe`); BullMQ's stacktrace stays.
  A 'waiting' event per job, and BullMQ's marker unless the queue is paused, as BullMQ's own
  retry writes them. Waiters of a job (`aqw`) stay: they hear of its next outcome.

  Why the head and not the end (where BullMQ's job.retry puts it): a failed job comes before
  every job enqueued after it. With onFailure 'pause' those wait behind it, and the retry
  restores the entity's order; otherwise they already ran and the retried job is overdue.

  allow-oom: it moves jobs, it adds nothing (only events, trimmed).

  KEYS[1] failed  KEYS[2] wait  KEYS[3] meta  KEYS[4] events  KEYS[5] marker

  ARGV[1] job key prefix
  ARGV[2] a page of every failed job: at most this many, the newest (so that paging from the
          newest leaves the oldest at the head); "" for the ids that follow
  ARGV[3..] job ids (when ARGV[2] is "")

  Returns {retried ids in the order they run, ids not in the failed set, failed jobs left,
           paused (1/0)}
]]
local rcall = redis.call
--- @include "includes/failedJobs"
--- @include "includes/maxEvents"

local prefix = ARGV[1]
local picked, missing = pickFailed(KEYS[1], ARGV[2], true, {unpack(ARGV, 3)})
local events = maxEvents(KEYS[3])

-- The newest first onto the taking end: the oldest ends up taken first.
local retried = {}
for i = #picked, 1, -1 do
  local id = picked[i][1]
  local jobKey = prefix .. id
  rcall("ZREM", KEYS[1], id)
  if rcall("EXISTS", jobKey) == 1 then
    rcall("HDEL", jobKey, "finishedOn", "processedOn", "failedReason", "aqe", "atm", "stc", "defa")
    rcall("RPUSH", KEYS[2], id)
    rcall("XADD", KEYS[4], "MAXLEN", "~", events, "*", "event", "waiting", "jobId", id,
      "prev", "failed")
    table.insert(retried, 1, id)
  else
    missing[#missing + 1] = id -- listed as failed, but its hash is gone: dropped
  end
end

local paused = rcall("HEXISTS", KEYS[3], "paused")
if #retried > 0 and paused == 0 then
  rcall("ZADD", KEYS[5], 0, "0")
end
return {retried, missing, rcall("ZCARD", KEYS[1]), paused}
