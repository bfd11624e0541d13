-- Moves the active jobs that take(jobId, lock) accepts (lock: the job's lock token, false when
-- it has none) back to the taking end of wait, lock deleted. The active list's left end is the
-- newest: pushing newest first leaves the oldest to be taken first, so order is kept.
-- Returns how many moved.
local function putBack(activeKey, waitKey, jobKeyPrefix, take)
  local back = 0
  for _, jobId in ipairs(rcall("LRANGE", activeKey, 0, -1)) do
    if string.sub(jobId, 1, 2) ~= "0:" then
      local lockKey = jobKeyPrefix .. jobId .. ":lock"
      if take(jobId, rcall("GET", lockKey)) then
        rcall("DEL", lockKey)
        rcall("LREM", activeKey, 1, jobId)
        rcall("RPUSH", waitKey, jobId)
        back = back + 1
      end
    end
  end
  return back
end
