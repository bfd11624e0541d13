#!lua flags=allow-oom
--[[
  Removes failed jobs of an entity (an operator's call): each job's hash and the keys BullMQ
  keeps beside it, and its entry in the failed set, with a 'removed' event as BullMQ's
  removeJob writes.

  allow-oom: it frees memory.

  KEYS[1] failed  KEYS[2] meta  KEYS[3] events

  ARGV[1] job key prefix
  ARGV[2] a page of every failed job: at most this many, the oldest; "" for the ids that follow
  ARGV[3..] job ids (when ARGV[2] is "")

  Returns {removed ids, oldest failure first; ids not in the failed set; failed jobs left}
]]
local rcall = redis.call
--- @include "includes/failedJobs"
--- @include "includes/maxEvents"
--- @include "includes/removeJob"

local prefix = ARGV[1]
local picked, missing = pickFailed(KEYS[1], ARGV[2], false, {unpack(ARGV, 3)})
local events = maxEvents(KEYS[2])

local removed = {}
for _, job in ipairs(picked) do
  local id = job[1]
  rcall("ZREM", KEYS[1], id)
  removeJob(prefix, id)
  rcall("XADD", KEYS[3], "MAXLEN", "~", events, "*", "event", "removed", "jobId", id,
    "prev", "failed")
  removed[#removed + 1] = id
end
return {removed, missing, rcall("ZCARD", KEYS[1])}
