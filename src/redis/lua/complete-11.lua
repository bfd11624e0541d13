--[[
  Completes a runner's job and takes the entity's next one: the engine's hot path, in place of
  BullMQ's moveToFinished + fetchNextJob.

  Why not BullMQ's script: measured on the benchmark machine it costs Redis ~136 µs per call
  (SLOWLOG, `npm run bench -- seed`), most of it in generic work an entity queue never needs (parent and
  child dependencies, deduplication, rate limiter, metrics, priorities, opts unpacked with
  cmsgpack on every call). Redis CPU was the first limit of the throughput benchmarks. This
  script does the same writes to the same keys, in BullMQ's layout (so BullMQ's readers, e.g.
  getJobCounts or a job's state, see what they would have seen), for the one case the engine
  has: a standalone job, completed by the holder of its lock. Anything unusual (a prioritized
  job, a delayed job now due, the queue paused) is left to BullMQ: the script returns 1 and the
  runner fetches with BullMQ's moveToActive, as before.

  KEYS[1] wait        KEYS[2] active      KEYS[3] stalled     KEYS[4] events
  KEYS[5] completed   KEYS[6] job         KEYS[7] job lock    KEYS[8] meta
  KEYS[9] delayed     KEYS[10] prioritized KEYS[11] marker

  ARGV[1] job id
  ARGV[2] now, ms
  ARGV[3] return value (JSON, as BullMQ stores it)
  ARGV[4] lock token (the runner's lease token)
  ARGV[5] keep count: -1 keep all, 0 remove the job now, n keep the last n (removeOnComplete)
  ARGV[6] keep age in seconds, or ""
  ARGV[7] at most this many jobs removed by age per call (BullMQ's keepJobs.limit)
  ARGV[8] "1": take the next job
  ARGV[9] job key prefix (BullMQ queue.toKey(''))
  ARGV[10] lock duration, ms
  ARGV[11] reply channel, or "" (an awaiting pod's result is published with the complete)
  ARGV[12] reply message

  Returns
    -1 no such job, -2 lock missing, -6 lock held by another token, -3 job not active
       (as BullMQ's moveToFinished: the runner's lease is gone)
    0  completed, no job taken (none waiting, or fetch not asked)
    1  completed, the next job must be fetched by BullMQ's moveToActive
    {job hash, job id, 0, 0} completed and the next job taken (BullMQ's fetch reply)
]]
local rcall = redis.call
local jobKey = KEYS[6]
local jobId = ARGV[1]
local now = ARGV[2]
local prefix = ARGV[9]

if rcall("EXISTS", jobKey) == 0 then
  return -1
end
local lockToken = rcall("GET", KEYS[7])
if lockToken ~= ARGV[4] then
  if lockToken then
    return -6
  end
  return -2
end
if rcall("LREM", KEYS[2], -1, jobId) < 1 then
  return -3
end
rcall("DEL", KEYS[7])
rcall("SREM", KEYS[3], jobId)

local maxEvents = rcall("HGET", KEYS[8], "opts.maxLenEvents") or 10000
rcall("XTRIM", KEYS[4], "MAXLEN", "~", maxEvents)
rcall("HINCRBY", jobKey, "atm", 1)

local function removeJob(id)
  local key = prefix .. id
  rcall("DEL", key, key .. ":logs", key .. ":dependencies", key .. ":processed",
    key .. ":failed", key .. ":unsuccessful")
end

local keepCount = tonumber(ARGV[5])
if keepCount ~= 0 then
  rcall("ZADD", KEYS[5], now, jobId)
  rcall("HSET", jobKey, "returnvalue", ARGV[3], "finishedOn", now)
  if ARGV[6] ~= "" then
    local limit = tonumber(ARGV[7])
    local oldest = tonumber(now) - tonumber(ARGV[6]) * 1000
    local ids = rcall("ZREVRANGEBYSCORE", KEYS[5], oldest, "-inf", "LIMIT", 0, limit)
    for _, id in ipairs(ids) do
      removeJob(id)
    end
    -- In slices: Lua's unpack fails on very long lists (keepJobs.limit may be large).
    for from = 1, #ids, 5000 do
      rcall("ZREM", KEYS[5], unpack(ids, from, math.min(from + 4999, #ids)))
    end
  end
  if keepCount > 0 then
    local ids = rcall("ZREVRANGE", KEYS[5], keepCount, -1)
    if #ids > 0 then
      for _, id in ipairs(ids) do
        removeJob(id)
      end
      rcall("ZREMRANGEBYRANK", KEYS[5], 0, -(keepCount + 1))
    end
  end
else
  removeJob(jobId)
end

rcall("XADD", KEYS[4], "*", "event", "completed", "jobId", jobId, "returnvalue", ARGV[3],
  "prev", "active")
if ARGV[11] ~= "" then
  rcall("PUBLISH", ARGV[11], ARGV[12])
end

if ARGV[8] ~= "1" then
  return 0
end
if rcall("HEXISTS", KEYS[8], "paused") == 1 or rcall("ZCARD", KEYS[10]) > 0 then
  return 1
end
-- BullMQ's delayed scores are timestamp * 0x1000 + a counter: a job is due below (now+1)*0x1000.
local due = rcall("ZRANGEBYSCORE", KEYS[9], 0, (tonumber(now) + 1) * 0x1000 - 1, "LIMIT", 0, 1)
if #due > 0 then
  return 1
end
local nextId = rcall("RPOPLPUSH", KEYS[1], KEYS[2])
if not nextId then
  if rcall("LLEN", KEYS[2]) == 0 then
    rcall("XADD", KEYS[4], "*", "event", "drained")
  end
  return 0
end
if string.sub(nextId, 1, 2) == "0:" then
  -- A legacy priority marker: put it back where it was and let BullMQ handle it.
  rcall("LREM", KEYS[2], 1, nextId)
  rcall("RPUSH", KEYS[1], nextId)
  return 1
end
local nextKey = prefix .. nextId
rcall("SET", nextKey .. ":lock", ARGV[4], "PX", ARGV[10])
rcall("XADD", KEYS[4], "*", "event", "active", "jobId", nextId, "prev", "waiting")
rcall("HSET", nextKey, "processedOn", now)
rcall("HINCRBY", nextKey, "ats", 1)
rcall("ZADD", KEYS[11], 0, "0")
return {rcall("HGETALL", nextKey), nextId, 0, 0}
