--[[
  Publishes an awaited job's result straight after the complete that precedes it on the same
  connection: the waiting pod hears of it one round trip sooner than if the holder published it
  on reading the complete's reply. Only a result Redis holds as committed goes out: the job must
  be finished with exactly this return value (a refused complete, e.g. after the lease was lost,
  leaves it unfinished, and nothing is published).

  KEYS[1] job key
  ARGV[1] return value as BullMQ stores it (JSON)
  ARGV[2] reply channel of the awaiting pod
  ARGV[3] message

  Returns 1 published; 0 not (the holder publishes after the complete's reply if it succeeded,
  e.g. when removeOnComplete already deleted the job)
]]
local job = redis.call("HMGET", KEYS[1], "finishedOn", "returnvalue")
if job[1] and job[2] == ARGV[1] then
  redis.call("PUBLISH", ARGV[2], ARGV[3])
  return 1
end
return 0
