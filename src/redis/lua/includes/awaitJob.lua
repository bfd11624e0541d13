-- The state of job `jobId` for a pod that awaits its result: {2, return value} completed,
-- {3, error JSON} failed, {4} gone (never added, or removed), else {1} and the pod joins the
-- job's waiters (its `aqw` field, comma-separated pod ids), whom the finishing script answers.
local function awaitJob(jobKey, completedKey, failedKey, jobId, podId)
  if rcall("ZSCORE", completedKey, jobId) then
    return {2, rcall("HGET", jobKey, "returnvalue") or "null"}
  end
  if rcall("ZSCORE", failedKey, jobId) then
    local fields = rcall("HMGET", jobKey, "aqe", "failedReason")
    return {3, fields[1] or cjson.encode({ name = "Error", message = fields[2] or "" })}
  end
  if rcall("EXISTS", jobKey) == 0 then
    return {4}
  end
  if podId ~= "" then
    local waiters = rcall("HGET", jobKey, "aqw")
    if not waiters then
      rcall("HSET", jobKey, "aqw", podId)
    elseif not string.find("," .. waiters .. ",", "," .. podId .. ",", 1, true) then
      rcall("HSET", jobKey, "aqw", waiters .. "," .. podId)
    end
  end
  return {1}
end
