#!lua
--[[
  Awaits the result of a job enqueued earlier (`waitForJob`, and `enqueueAndWait` of a delayed
  job): answers at once when the job has finished, else adds the pod to the job's waiters, whom
  step-4.lua answers when the job finishes. Atomic with the finish: no result is missed.

  KEYS[1] job  KEYS[2] completed  KEYS[3] failed
  ARGV[1] job id
  ARGV[2] pod id

  Returns {4} no such job; {1} waiting; {2, return value JSON} completed; {3, error JSON} failed
]]
local rcall = redis.call
--- @include "includes/awaitJob"

return awaitJob(KEYS[1], KEYS[2], KEYS[3], ARGV[1], ARGV[2])
