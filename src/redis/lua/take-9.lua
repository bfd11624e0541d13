#!lua flags=allow-oom
--[[
  Takes an entity's next job for its lease holder, in place of BullMQ's moveToActive for the
  case the engine has (a standalone job); anything unusual is left to BullMQ (code 1). Checked
  against the lease, so a holder whose lease moved on takes nothing.

  allow-oom: moving a job to active keeps memory as it is; the backlog must drain when Redis is
  out of memory.

  KEYS[1] wait  KEYS[2] active  KEYS[3] events  KEYS[4] meta  KEYS[5] delayed
  KEYS[6] prioritized  KEYS[7] marker  KEYS[8] lease  KEYS[9] fence

  ARGV[1] job key prefix
  ARGV[2] lease token (the job's lock)
  ARGV[3] lock duration, ms (the lease TTL)
  ARGV[4] the holder's fencing token
  ARGV[5] pod id

  Returns {-1} the lease is not this token's; {0} nothing to take; {1} BullMQ must fetch;
          {2, job hash, job id} taken
]]
local rcall = redis.call
--- @include "includes/now"
--- @include "includes/ownLease"
--- @include "includes/takeNext"

if not ownLease(KEYS[8], KEYS[9], ARGV[2], ARGV[4], ARGV[5], ARGV[3]) then
  return {-1}
end
local taken = takeNext(KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], ARGV[1],
  ARGV[2], ARGV[3], nowMs())
if type(taken) == "table" then
  return {2, taken[1], taken[2]}
end
return {taken}
