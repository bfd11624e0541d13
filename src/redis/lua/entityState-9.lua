#!lua flags=no-writes
--[[
  What an operator looks at for one entity: its holder, backlog, pause, and how long its next
  waiting job has waited (by Redis's clock). Reads only.

  KEYS[1] lease (slot 0)  KEYS[2] fence  KEYS[3] wait  KEYS[4] active  KEYS[5] prioritized
  KEYS[6] delayed  KEYS[7] failed  KEYS[8] completed  KEYS[9] meta
  ARGV[1] job key prefix

  Returns {pod or false, lease PTTL ms (-2: no lease), idle flag ("1" idle) or false,
           fencing token or false, waiting, active, prioritized, delayed, failed, completed,
           1 if paused else 0, enqueue time of the next waiting job (ms) or -1, now (ms)}
]]
local rcall = redis.call
--- @include "includes/now"

local lease = rcall("HMGET", KEYS[1], "p", "i")
-- The job taken next is at the tail of wait (BullMQ pushes new jobs at the head).
local nextId = rcall("LINDEX", KEYS[3], -1)
local enqueuedAt = -1
if nextId then
  enqueuedAt = tonumber(rcall("HGET", ARGV[1] .. nextId, "timestamp") or "-1") or -1
end
return {
  lease[1], rcall("PTTL", KEYS[1]), lease[2], rcall("GET", KEYS[2]),
  rcall("LLEN", KEYS[3]), rcall("LLEN", KEYS[4]), rcall("ZCARD", KEYS[5]), rcall("ZCARD", KEYS[6]),
  rcall("ZCARD", KEYS[7]), rcall("ZCARD", KEYS[8]), rcall("HEXISTS", KEYS[9], "paused"),
  enqueuedAt, nowMs()
}
