-- The options the engine stores with every job it adds (STORED_OPTS in src/core/entities/entity.ts).
local ENGINE_JOB_OPTS = '{"attempts":0}'

-- Deletes a job's hash and the keys BullMQ keeps beside it. A job stored with the engine's
-- options has no flow keys (flows are BullMQ's FlowProducer; the engine adds standalone jobs) and
-- no lock (every path that finishes a job deletes its lock): its hash and its logs (`job.log`)
-- are all it can have. A key that doesn't exist still costs DEL a lookup (~0.8 µs each here,
-- measured): for the job evicted per job finished, 2 keys instead of 7 (docs/PERFORMANCE.md).
-- Any other job (added by a BullMQ tool, or delayed) gets BullMQ's full removal.
local function removeJob(prefix, id)
  local key = prefix .. id
  if rcall("HGET", key, "opts") == ENGINE_JOB_OPTS then
    rcall("DEL", key, key .. ":logs")
  else
    rcall("DEL", key, key .. ":logs", key .. ":dependencies", key .. ":processed",
      key .. ":failed", key .. ":unsuccessful", key .. ":lock")
  end
end

-- Applies BullMQ's keepJobs to a finished set (completed or failed): removes entries older than
-- `age` seconds (at most `limit` of them; `age` "" keeps any age) and all but the newest `count`
-- (-1 keeps any number). Returns nothing.
local function keepJobs(setKey, prefix, count, age, limit, now)
  if age ~= "" then
    local oldest = now - tonumber(age) * 1000
    local ids = rcall("ZREVRANGEBYSCORE", setKey, oldest, "-inf", "LIMIT", 0, limit)
    for _, id in ipairs(ids) do
      removeJob(prefix, id)
    end
    -- In slices: Lua's unpack fails on very long lists (keepJobs.limit may be large).
    for from = 1, #ids, 5000 do
      rcall("ZREM", setKey, unpack(ids, from, math.min(from + 4999, #ids)))
    end
  end
  if count >= 0 then
    local ids = rcall("ZREVRANGE", setKey, count, -1)
    if #ids > 0 then
      for _, id in ipairs(ids) do
        removeJob(prefix, id)
      end
      rcall("ZREMRANGEBYRANK", setKey, 0, -(count + 1))
    end
  end
end
