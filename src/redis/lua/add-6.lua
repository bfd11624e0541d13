--[[
  Adds a job to an entity's queue: the engine's enqueue path, in place of BullMQ's
  addStandardJob.

  Why not BullMQ's script: on the benchmark machine it held the enqueue rate of
  `npm run bench -- engine` (prefill, 1,000 entities) to 12,587 jobs/s; with this one, 20,640
  (docs/DESIGN.md). BullMQ's script unpacks its arguments with cmsgpack and re-encodes the
  options with cjson on every call, and handles parents, deduplication and debouncing, which an
  entity queue never uses; the caller builds and packs a Job object for it. This script does the same writes to the same keys, in BullMQ's
  layout, for the one case the engine has: a standalone job, neither delayed nor prioritized
  (delayed jobs still go through BullMQ's addDelayedJob).

  KEYS[1] wait   KEYS[2] meta   KEYS[3] id   KEYS[4] active   KEYS[5] events   KEYS[6] marker

  ARGV[1] job key prefix (BullMQ queue.toKey(''))
  ARGV[2] job id, or "" for the queue's next number
  ARGV[3] job name
  ARGV[4] timestamp, ms
  ARGV[5] data (JSON)
  ARGV[6] options (JSON, as BullMQ stores them)

  Returns the job id. A job id already present is not added again: its id comes back and a
  'duplicated' event is written, as BullMQ does.
]]
local rcall = redis.call
local eventsKey = KEYS[5]
local name = ARGV[3]

-- BullMQ counts every add, with or without a custom id.
local jobCounter = rcall("INCR", KEYS[3])
local maxEvents = rcall("HGET", KEYS[2], "opts.maxLenEvents")
if not maxEvents then
  maxEvents = 10000
  rcall("HSET", KEYS[2], "opts.maxLenEvents", maxEvents)
end

local jobId = ARGV[2]
if jobId == "" then
  jobId = jobCounter .. ""
end
local jobKey = ARGV[1] .. jobId
if ARGV[2] ~= "" and rcall("EXISTS", jobKey) == 1 then
  rcall("XADD", eventsKey, "MAXLEN", "~", maxEvents, "*", "event", "duplicated", "jobId", jobId)
  return jobId
end

rcall("HMSET", jobKey, "name", name, "data", ARGV[5], "opts", ARGV[6], "timestamp", ARGV[4],
  "delay", 0, "priority", 0)
rcall("XADD", eventsKey, "*", "event", "added", "jobId", jobId, "name", name)

-- As BullMQ's isQueuePausedOrMaxed: no marker while paused or at the queue's concurrency.
local meta = rcall("HMGET", KEYS[2], "paused", "concurrency")
local pausedOrMaxed = meta[1] and true or false
if not pausedOrMaxed and meta[2] then
  pausedOrMaxed = rcall("LLEN", KEYS[4]) >= tonumber(meta[2])
end
rcall("LPUSH", KEYS[1], jobId)
if not pausedOrMaxed then
  rcall("ZADD", KEYS[6], 0, "0")
end
rcall("XADD", eventsKey, "MAXLEN", "~", maxEvents, "*", "event", "waiting", "jobId", jobId)
return jobId
