-- Adds standalone jobs (neither delayed nor prioritized) to the entity queue whose keys start
-- with `prefix`, in order, making BullMQ's writes (addStandardJob's) to BullMQ's keys. `jobs` is
-- a list of {id, name, data JSON, options JSON, awaiting pod or "", trace context or nil}.
-- Returns one reply per job: {0} added; for an id present already (added before, or earlier in
-- this list) a 'duplicated' event and awaitJob's reply, the awaiting pod joining its waiters.
-- What is per queue (the paused flag, the push, the marker) is written once for the list.
-- `maxEventsText`: the events stream length as its caller got it, a string ("0": no events).
-- Numbers go to Redis as strings made once: Redis formats every number a script passes it with
-- "%.17g", per job otherwise (see step-4.lua).
local function addJobs(prefix, maxEventsText, jobs)
  local maxEvents = tonumber(maxEventsText)
  local events = prefix .. "events"
  local replies = {}
  local added = {}
  local now = string.format("%d", nowMs())
  for i, job in ipairs(jobs) do
    local jobId = job[1]
    local jobKey = prefix .. jobId
    if rcall("EXISTS", jobKey) == 1 then
      if maxEvents > 0 then
        rcall("XADD", events, "MAXLEN", "~", maxEventsText, "*", "event", "duplicated", "jobId",
          jobId)
      end
      replies[i] = awaitJob(jobKey, prefix .. "completed", prefix .. "failed", jobId, job[5])
    else
      local fields = {"name", job[2], "data", job[3], "opts", job[4], "timestamp", now,
        "delay", "0", "priority", "0"}
      if job[5] ~= "" then
        fields[#fields + 1] = "aqw"
        fields[#fields + 1] = job[5]
      end
      if job[6] and job[6] ~= "" then
        fields[#fields + 1] = "aqt"
        fields[#fields + 1] = job[6]
      end
      rcall("HSET", jobKey, unpack(fields))
      if maxEvents > 0 then
        rcall("XADD", events, "*", "event", "added", "jobId", jobId, "name", job[2])
        rcall("XADD", events, "MAXLEN", "~", maxEventsText, "*", "event", "waiting", "jobId", jobId)
      end
      added[#added + 1] = jobId
      replies[i] = {0}
    end
  end
  if #added == 0 then return replies end
  -- As BullMQ's isQueuePausedOrMaxed: no marker while paused or at the queue's concurrency.
  local meta = rcall("HMGET", prefix .. "meta", "paused", "concurrency")
  local pausedOrMaxed = meta[1] and true or false
  if not pausedOrMaxed and meta[2] then
    pausedOrMaxed = rcall("LLEN", prefix .. "active") >= tonumber(meta[2])
  end
  -- One LPUSH per 1,000 ids (Lua's unpack has a stack limit); each pushes its ids in order.
  local wait = prefix .. "wait"
  for from = 1, #added, 1000 do
    rcall("LPUSH", wait, unpack(added, from, math.min(from + 999, #added)))
  end
  if not pausedOrMaxed then
    rcall("ZADD", prefix .. "marker", 0, "0")
  end
  return replies
end
