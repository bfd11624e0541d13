-- The failed jobs an operator's call acts on, oldest failure first, as {id, score} pairs, and the
-- ids asked for that are not in the failed set. `limit` ~= "": a page of the whole set, the
-- newest `limit` (fromNewest) or the oldest; else the ids in `ids` (each once).
local function pickFailed(failedKey, limit, fromNewest, ids)
  local picked = {}
  local missing = {}
  if limit ~= "" then
    local n = tonumber(limit)
    local raw
    if fromNewest then
      raw = rcall("ZRANGE", failedKey, -n, -1, "WITHSCORES")
    else
      raw = rcall("ZRANGE", failedKey, 0, n - 1, "WITHSCORES")
    end
    for i = 1, #raw, 2 do
      picked[#picked + 1] = {raw[i], tonumber(raw[i + 1])}
    end
    return picked, missing
  end
  local seen = {}
  for _, id in ipairs(ids) do
    if not seen[id] then
      seen[id] = true
      local score = rcall("ZSCORE", failedKey, id)
      if score then
        picked[#picked + 1] = {id, tonumber(score)}
      else
        missing[#missing + 1] = id
      end
    end
  end
  table.sort(picked, function(a, b)
    return a[2] < b[2] or (a[2] == b[2] and a[1] < b[1])
  end)
  return picked, missing
end
