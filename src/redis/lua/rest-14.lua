#!lua flags=allow-oom
--[[
  Looks after an entity at rest (no holder): applies the retention of its finished jobs by
  Redis's clock, deletes what only a live queue needs (events stream, marker, id counter,
  fencing counter, slot tokens, stalled set; the meta hash unless paused), and tells the caller
  when to look again. Finds work that a BullMQ tool put back (a retried failed job): the caller
  then claims the entity or offers it.

  The fencing counter may go: the next token is never below Redis's clock (includes/ownLease).

  KEYS[1] lease (slot 0; slot n is KEYS[1] .. ":" .. n)  KEYS[2] wait  KEYS[3] active
  KEYS[4] prioritized  KEYS[5] delayed  KEYS[6] meta  KEYS[7] completed  KEYS[8] failed
  KEYS[9] events  KEYS[10] marker  KEYS[11] id  KEYS[12] fence  KEYS[13] slots
  KEYS[14] stalled

  ARGV[1] job key prefix
  ARGV[2] number of lease slots
  ARGV[3] completed jobs kept: count (-1 any number)   ARGV[4] age in seconds, or ""
  ARGV[5] failed jobs kept: count (-1 any number)      ARGV[6] age in seconds, or ""
  ARGV[7] at most this many jobs removed by age per set and call

  Returns
    {0, nextMs, failed, watch}  at rest: look again in nextMs (-1: nothing will expire); failed:
                                how many failed jobs it keeps; watch: 1 when a BullMQ tool may
                                put work in it that wakes nobody (it keeps failed jobs, or is
                                paused with jobs waiting for a resume), else 0
    {1}                  held by a pod: its release hands it back
    {2}                  work and no holder: claim it
    {3}                  nothing left: every key of the entity is gone
]]
local rcall = redis.call
--- @include "includes/now"
--- @include "includes/removeJob"

for slot = 0, tonumber(ARGV[2]) - 1 do
  local leaseKey = KEYS[1]
  if slot > 0 then leaseKey = KEYS[1] .. ":" .. slot end
  if rcall("EXISTS", leaseKey) == 1 then
    return {1}
  end
end
local paused = rcall("HEXISTS", KEYS[6], "paused") == 1
local queued = rcall("LLEN", KEYS[2]) + rcall("LLEN", KEYS[3]) + rcall("ZCARD", KEYS[4])
  + rcall("ZCARD", KEYS[5])
if queued > 0 and not paused then
  return {2}
end

local prefix = ARGV[1]
local limit = tonumber(ARGV[7])
local now = nowMs()
keepJobs(KEYS[7], prefix, tonumber(ARGV[3]), ARGV[4], limit, now)
keepJobs(KEYS[8], prefix, tonumber(ARGV[5]), ARGV[6], limit, now)
rcall("DEL", KEYS[9], KEYS[10], KEYS[11], KEYS[12], KEYS[13], KEYS[14])
if not paused then
  rcall("DEL", KEYS[6])
end

local completed = rcall("ZCARD", KEYS[7])
local failed = rcall("ZCARD", KEYS[8])
if completed == 0 and failed == 0 and queued == 0 and not paused then
  return {3}
end

-- When the oldest finished job that has an age limit expires.
local next = -1
local function expiry(setKey, age)
  if age == "" then return end
  local oldest = rcall("ZRANGE", setKey, 0, 0, "WITHSCORES")
  if oldest[2] then
    local at = tonumber(oldest[2]) + tonumber(age) * 1000 - now
    if next < 0 or at < next then next = math.max(at, 0) end
  end
end
expiry(KEYS[7], ARGV[4])
expiry(KEYS[8], ARGV[6])
local watch = 0
if failed > 0 or (paused and queued > 0) then
  watch = 1
end
return {0, next, failed, watch}
