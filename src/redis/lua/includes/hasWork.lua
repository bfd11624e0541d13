-- True when the entity's queue holds a job a runner could take now or later: waiting,
-- prioritized, delayed or active (an active job of a dead runner must be recovered).
-- A paused queue has no work: its jobs wait for `resume`.
local function hasWork(waitKey, activeKey, prioritizedKey, delayedKey, metaKey)
  if rcall("HEXISTS", metaKey, "paused") == 1 then
    return false
  end
  return rcall("LLEN", waitKey) > 0 or rcall("LLEN", activeKey) > 0
    or rcall("ZCARD", prioritizedKey) > 0 or rcall("ZCARD", delayedKey) > 0
end
