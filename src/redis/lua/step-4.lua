#!lua flags=allow-oom
--[[
  One step of many runners at once: for each entity, finishes the jobs its runner ran (completed
  or failed), gives back the jobs it took but did not run, pauses the entity after a failure when
  asked, and takes its next jobs (up to K). A pod sends the steps of one turn of its event loop in
  one call (per Redis Cluster slot): the engine's hot path, in place of BullMQ's moveToActive and
  moveToFinished, one call per job each.

  Each entity is checked on its own: a job is finished only if its lock is the runner's token
  (or the lock expired with a lease nobody took since: includes/ownLease.lua); a refusal stops that
  entity's section and leaves the other entities alone.

  allow-oom: finishing frees or keeps memory, and must go on when Redis is out of memory so that
  the backlog drains.

  KEYS[i]   the wait key of entity i (all of an entity's keys share its hash tag; the others are
            built here from its prefix, as BullMQ builds job keys)

  ARGV[1]   pod id            ARGV[2] lease TTL, ms        ARGV[3] reply channel prefix
  then, per entity i, a header of 17 values:
    prefix (`P:Q:`), lease slot, token, fencing token,
    completed keep: count, age ("" none), limit; failed keep: count, age, limit,
    events max length (0: no events), take (K, 0 none), finished n, given back g, pause (0/1),
    after: a job id ("" none) that the runner's step before this one finishes,
    idle (0/1): when this step takes nothing, mark the holder idle as idle-8.lua does (the
    runner sends it only when it runs nothing else and has no other step on its way)
  followed by n finished jobs of 4 to 7 values each (a completed job nobody else awaits, the
  most common, in 4):
    job id, kind, return value JSON or failed reason, attempts made,
    then for a failed job (kind "f" or "F"): error JSON, stacktrace JSON,
    then for kind "C" or "F": the reply message to publish to the awaiting pods (other kinds:
    the caller publishes, if anyone awaits)
    kind: "c" completed, "C" completed with a message, "f" failed, "F" failed with a message
  and the g ids of jobs to give back, in the order they were to run.

  Returns, per entity i, a list:
    {code, waiters of finished job 1, ..., waiters of job n, taken m, then per taken job its id
     and the fields FIELDS below, then, when the step marked the holder idle, dueInMs and watch
     as idle-8.lua returns them}
    code 0 ok; 1 ok, but BullMQ must fetch the next job (a prioritized job or a legacy marker);
    negative: BullMQ's refusal codes (-2 lock missing, -6 lock held by another, -3 not active):
    the lease is gone, nothing after the refused job was written for this entity; or -7, the
    job `after` is not finished: the runner's step before this one has not run yet (refused
    while Redis refused writes, and to be retried), nothing was written for this entity, and the
    runner sends this step again once that one went through. A runner sends a step while the one
    before is on its way; without this check the later one, run first, would take the earlier
    jobs.
    waiters: the pods awaiting the job's result, comma-separated, or "".
]]
local rcall = redis.call
--- @include "includes/now"
--- @include "includes/ownLease"
--- @include "includes/removeJob"
--- @include "includes/putBack"

local FIELDS = {"name", "data", "opts", "timestamp", "processedOn", "atm", "ats", "aqw", "aqt",
  "defa", "stc"}
local PROCESSED_ON, ATS, STC = 5, 7, 11
local podId = ARGV[1]
local ttl = ARGV[2]
local channelPrefix = ARGV[3]
local now = nowMs()
-- Written as a string once: Redis formats every number a script passes it with "%.17g"
-- (glibc's printf, ~5% of Redis's time in this script when done per job, by perf).
local nowText = string.format("%d", now)
local out = {}
local a = 4

-- Moves delayed jobs that are due by Redis's clock to the end of wait (BullMQ's
-- promoteDelayedJobs for the jobs the engine adds: never prioritized).
local function promoteDue(prefix, events)
  local delayed = prefix .. "delayed"
  local jobs = rcall("ZRANGEBYSCORE", delayed, 0, (now + 1) * 0x1000 - 1, "LIMIT", 0, 1000)
  if #jobs == 0 then return end
  local wait = prefix .. "wait"
  rcall("ZREM", delayed, unpack(jobs))
  for _, jobId in ipairs(jobs) do
    rcall("LPUSH", wait, jobId)
    if events > 0 then
      rcall("XADD", prefix .. "events", "*", "event", "waiting", "jobId", jobId, "prev", "delayed")
    end
    rcall("HSET", prefix .. jobId, "delay", 0)
  end
end

for i = 1, #KEYS do
  local prefix = ARGV[a]
  local slot = tonumber(ARGV[a + 1])
  local token = ARGV[a + 2]
  local fence = ARGV[a + 3]
  local keepC = {tonumber(ARGV[a + 4]), ARGV[a + 5], tonumber(ARGV[a + 6])}
  local keepF = {tonumber(ARGV[a + 7]), ARGV[a + 8], tonumber(ARGV[a + 9])}
  local maxEventsText = ARGV[a + 10]
  local maxEvents = tonumber(maxEventsText)
  local takeText = ARGV[a + 11]
  local take = tonumber(takeText)
  local nFinished = tonumber(ARGV[a + 12])
  local nBack = tonumber(ARGV[a + 13])
  local pause = ARGV[a + 14] == "1"
  local after = ARGV[a + 15]
  local idle = ARGV[a + 16] == "1"
  a = a + 17

  local leaseKey = prefix .. "__aq:lease"
  if slot > 0 then leaseKey = leaseKey .. ":" .. slot end
  local fenceKey = prefix .. "__aq:fence"
  local active = prefix .. "active"
  local events = prefix .. "events"
  local reply = {0}
  local code = 0
  if after ~= "" and rcall("HEXISTS", prefix .. after, "finishedOn") == 0
      and rcall("EXISTS", prefix .. after) == 1 then
    code = -7
    reply[1] = code
  end
  local finishedTargets = {}
  -- Written once per entity rather than once per job: the finished jobs' locks (DEL) and their
  -- entries in the completed / failed sets (ZADD now, id, ...).
  local locks = {}
  local finishedIds = {completed = {}, failed = {}}

  -- Finished jobs, in the order they ran.
  for j = 1, nFinished do
    local jobId = ARGV[a]
    local kind = ARGV[a + 1]
    local failed = kind == "f" or kind == "F"
    local size = failed and 6 or 4
    local message = ""
    if kind == "C" or kind == "F" then
      message = ARGV[a + size]
      size = size + 1
    end
    if code < 0 then
      a = a + size
    else
      local jobKey = prefix .. jobId
      local lockKey = jobKey .. ":lock"
      local lock = rcall("GET", lockKey)
      if lock ~= token then
        if lock then
          code = -6
        elseif not ownLease(leaseKey, fenceKey, token, fence, podId, ttl) then
          code = -2
        end
      end
      if code == 0 and rcall("LREM", active, "-1", jobId) < 1 then
        code = -3
      end
      if code < 0 then
        reply[1] = code
        a = a + size
      else
        locks[#locks + 1] = lockKey
        local waiters = rcall("HGET", jobKey, "aqw") or ""
        reply[#reply + 1] = waiters
        local target, field, keep = "completed", "returnvalue", keepC
        if failed then target, field, keep = "failed", "failedReason", keepF end
        if keep[1] ~= 0 then
          if failed then
            rcall("HSET", jobKey, field, ARGV[a + 2], "finishedOn", nowText, "atm", ARGV[a + 3],
              "aqe", ARGV[a + 4], "stacktrace", ARGV[a + 5])
          else
            rcall("HSET", jobKey, field, ARGV[a + 2], "finishedOn", nowText, "atm", ARGV[a + 3])
          end
          local ids = finishedIds[target]
          ids[#ids + 1] = nowText
          ids[#ids + 1] = jobId
          finishedTargets[target] = keep
        else
          removeJob(prefix, jobId)
        end
        if maxEvents > 0 then
          rcall("XADD", events, "*", "event", target, "jobId", jobId, field, ARGV[a + 2],
            "prev", "active")
        end
        if waiters ~= "" and message ~= "" then
          for pod in string.gmatch(waiters, "[^,]+") do
            if pod ~= podId then rcall("PUBLISH", channelPrefix .. pod, message) end
          end
        end
        a = a + size
      end
    end
  end

  if #locks > 0 then rcall("DEL", unpack(locks)) end
  for target, ids in pairs(finishedIds) do
    if #ids > 0 then rcall("ZADD", prefix .. target, unpack(ids)) end
  end
  if code >= 0 then
    for target, keep in pairs(finishedTargets) do
      keepJobs(prefix .. target, prefix, keep[1], keep[2], keep[3], now)
    end
    if maxEvents > 0 and nFinished > 0 then
      rcall("XTRIM", events, "MAXLEN", "~", maxEventsText)
    end
  end

  -- Jobs taken but not run go back to the head of wait, first to run at the taking end. A job
  -- whose lock expired goes back too while the lease is ours: a batch taken ahead has its locks
  -- renewed only once it runs, and left in active it would come back later, as a stalled job,
  -- ahead of the jobs given back here.
  if code >= 0 and nBack > 0 then
    local wait = prefix .. "wait"
    for j = a + nBack - 1, a, -1 do
      local jobId = ARGV[j]
      local lockKey = prefix .. jobId .. ":lock"
      local lock = rcall("GET", lockKey)
      if lock == token or (not lock and ownLease(leaseKey, fenceKey, token, fence, podId, ttl)) then
        rcall("DEL", lockKey)
        if rcall("LREM", active, 1, jobId) > 0 then rcall("RPUSH", wait, jobId) end
      end
    end
  end
  a = a + nBack

  local meta = prefix .. "meta"
  if code >= 0 and pause then
    -- As BullMQ's pause: the flag, no marker, a 'paused' event.
    rcall("HSET", meta, "paused", 1)
    rcall("DEL", prefix .. "marker")
    if maxEvents > 0 then rcall("XADD", events, "*", "event", "paused") end
  end

  -- The next jobs, oldest first (the taking end of wait is its right end).
  local taken = 0
  local takenAt = #reply + 1
  reply[takenAt] = 0
  local owned = false
  if code >= 0 and take > 0 and ownLease(leaseKey, fenceKey, token, fence, podId, ttl) then
    owned = true
    if idle then
      -- As idle-8.lua: the runner runs nothing, so an active job locked with its token (or whose
      -- lock expired) is one whose take reply was lost: back to the taking end, taken below.
      putBack(active, prefix .. "wait", prefix, function(_, lock)
        return not lock or lock == token
      end)
    end
    if rcall("HEXISTS", meta, "paused") == 0 then
      if rcall("ZCARD", prefix .. "prioritized") > 0 then
        reply[1] = 1
      else
        promoteDue(prefix, maxEvents)
        local wait = prefix .. "wait"
        local ids = rcall("LRANGE", wait, "-" .. takeText, "-1")
        local n = #ids
        if n > 0 and string.sub(ids[n], 1, 2) == "0:" then
          reply[1] = 1 -- a legacy priority marker is next: BullMQ's
        elseif n > 0 then
          -- Stop before a legacy marker, and before a job that stalled (its holder died with
          -- it taken: claim-11.lua): such a job is taken alone, so that one that kills its
          -- pod again is recovered by itself and counted (maxStalledCount). Each job's fields
          -- are read once, here: its stall count is the last of them.
          local first = n
          local read = {}
          for j = n, 1, -1 do
            if string.sub(ids[j], 1, 2) == "0:" then break end
            local fields = rcall("HMGET", prefix .. ids[j], unpack(FIELDS))
            if tonumber(fields[STC] or "0") > 0 then
              if j == n then
                first = j
                read[j] = fields
              end
              break
            end
            first = j
            read[j] = fields
          end
          rcall("LTRIM", wait, 0, -(n - first + 2))
          local moved = {}
          for j = n, first, -1 do
            local jobId = ids[j]
            local jobKey = prefix .. jobId
            local fields = read[j]
            moved[#moved + 1] = jobId
            rcall("SET", jobKey .. ":lock", token, "PX", ttl)
            -- As BullMQ's moveToActive: processedOn now, one more attempt started.
            fields[PROCESSED_ON] = nowText
            fields[ATS] = string.format("%d", tonumber(fields[ATS] or "0") + 1)
            rcall("HSET", jobKey, "processedOn", nowText, "ats", fields[ATS])
            if maxEvents > 0 then
              rcall("XADD", events, "*", "event", "active", "jobId", jobId, "prev", "waiting")
            end
            reply[#reply + 1] = jobId
            for f = 1, #FIELDS do reply[#reply + 1] = fields[f] or false end
            taken = taken + 1
          end
          -- One LPUSH, leaving active as one LPUSH per job in the loop's order would.
          rcall("LPUSH", active, unpack(moved))
          rcall("ZADD", prefix .. "marker", "0", "0")
        elseif maxEvents > 0 and rcall("LLEN", active) == 0 then
          rcall("XADD", events, "*", "event", "drained")
        end
      end
    end
  elseif code >= 0 and take > 0 then
    reply[1] = -2
  end
  reply[takenAt] = taken
  -- Nothing taken and nothing BullMQ must fetch: the holder goes idle, marked here as idle-8.lua
  -- marks it (in the same call, atomically with the take: a job added after it wakes the holder,
  -- see claim-11.lua), instead of in a call of its own after this one.
  if idle and owned and taken == 0 and reply[1] == 0 then
    local paused = rcall("HEXISTS", meta, "paused") == 1
    local dueIn = 0
    local first = rcall("ZRANGE", prefix .. "delayed", 0, 0, "WITHSCORES")
    if first[2] then
      -- BullMQ scores delayed jobs as timestamp * 0x1000 + counter.
      dueIn = math.floor(tonumber(first[2]) / 0x1000) - now
    end
    if paused or dueIn > 0 or not first[2] then
      rcall("HSET", leaseKey, "i", "1")
      local watch = 0
      if paused or rcall("ZCARD", prefix .. "failed") > 0 then watch = 1 end
      reply[#reply + 1] = math.max(dueIn, 0)
      reply[#reply + 1] = watch
    end
  end
  out[i] = reply
end
return out
