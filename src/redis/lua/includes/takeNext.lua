-- Moves delayed jobs that are due by Redis's clock to the end of wait, as BullMQ's
-- promoteDelayedJobs does (at most 1000 a call; the engine adds no prioritized jobs).
local function promoteDue(delayedKey, waitKey, eventsKey, prefix, now)
  -- BullMQ scores delayed jobs as timestamp * 0x1000 + a counter: due below (now+1)*0x1000.
  local jobs = rcall("ZRANGEBYSCORE", delayedKey, 0, (now + 1) * 0x1000 - 1, "LIMIT", 0, 1000)
  if #jobs == 0 then
    return
  end
  rcall("ZREM", delayedKey, unpack(jobs))
  for _, jobId in ipairs(jobs) do
    rcall("LPUSH", waitKey, jobId)
    rcall("XADD", eventsKey, "*", "event", "waiting", "jobId", jobId, "prev", "delayed")
    rcall("HSET", prefix .. jobId, "delay", 0)
  end
end

-- Takes the entity's next job for `token`, as BullMQ's moveToActive would for a standalone job
-- (delayed jobs due by Redis's clock first join the end of wait): returns {job hash, job id},
-- 0 when there is none (or the queue is paused), or 1 when BullMQ must fetch it (a prioritized
-- job, or a legacy priority marker, neither of which the engine writes).
local function takeNext(waitKey, activeKey, eventsKey, metaKey, delayedKey, prioritizedKey,
                        markerKey, prefix, token, lockMs, now)
  if rcall("HEXISTS", metaKey, "paused") == 1 then
    return 0
  end
  if rcall("ZCARD", prioritizedKey) > 0 then
    return 1
  end
  promoteDue(delayedKey, waitKey, eventsKey, prefix, now)
  local nextId = rcall("RPOPLPUSH", waitKey, activeKey)
  if not nextId then
    if rcall("LLEN", activeKey) == 0 then
      rcall("XADD", eventsKey, "*", "event", "drained")
    end
    return 0
  end
  if string.sub(nextId, 1, 2) == "0:" then
    rcall("LREM", activeKey, 1, nextId)
    rcall("RPUSH", waitKey, nextId)
    return 1
  end
  local nextKey = prefix .. nextId
  rcall("SET", nextKey .. ":lock", token, "PX", lockMs)
  rcall("XADD", eventsKey, "*", "event", "active", "jobId", nextId, "prev", "waiting")
  rcall("HSET", nextKey, "processedOn", now)
  rcall("HINCRBY", nextKey, "ats", 1)
  rcall("ZADD", markerKey, 0, "0")
  return {rcall("HGETALL", nextKey), nextId}
end
