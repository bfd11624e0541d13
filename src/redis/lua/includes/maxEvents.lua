-- BullMQ's events stream length (the queue's `opts.maxLenEvents`, 10,000 when unset).
local function maxEvents(metaKey)
  return rcall("HGET", metaKey, "opts.maxLenEvents") or 10000
end
