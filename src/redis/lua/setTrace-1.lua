#!lua
--[[
  Stores the trace context of a delayed job's enqueue in its hash, beside BullMQ's fields, as
  add-8.lua does for the other jobs. Sent right after BullMQ's addDelayedJob, in the same
  pipeline. Only while the job exists, so that a job already gone leaves no stray hash; and
  only if it has none, so that an id enqueued again keeps its first enqueue's context.

  KEYS[1] the job's hash

  ARGV[1] trace context (`aqt`): the W3C traceparent, then a space and the tracestate if any

  Returns 1 stored, 0 not (no such job, or it has one already)
]]
local rcall = redis.call
if rcall("EXISTS", KEYS[1]) == 0 then
  return 0
end
return rcall("HSETNX", KEYS[1], "aqt", ARGV[1])
