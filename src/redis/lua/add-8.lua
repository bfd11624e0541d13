#!lua
--[[
  Adds a job to an entity's queue: the engine's enqueue path, in place of BullMQ's
  addStandardJob.

  The writes are in includes/addJobs.lua, shared with addMany-7.lua (many jobs of one entity in
  one call). Why not BullMQ's script: on the benchmark machine it held the enqueue rate of
  `npm run bench -- engine` (prefill, 1,000 entities) to 12,587 jobs/s; with this one, 20,640
  (docs/DESIGN.md). BullMQ's script unpacks its arguments with cmsgpack and re-encodes the
  options with cjson on every call, and handles parents, deduplication and debouncing, which an
  entity queue never uses. This script makes the same writes to the same keys, in BullMQ's
  layout, for the one case the engine has: a standalone job, neither delayed nor prioritized
  (delayed jobs still go through BullMQ's addDelayedJob). Job ids are the engine's (or the
  caller's): the queue's id counter is not used.

  No allow-oom flag: when Redis is out of memory the whole call is refused, nothing written.

  KEYS[1] wait   KEYS[2] meta   KEYS[3] completed   KEYS[4] active   KEYS[5] events
  KEYS[6] marker KEYS[7] failed KEYS[8] job (the job's hash)

  ARGV[1] job id
  ARGV[2] job name
  ARGV[3] data (JSON)
  ARGV[4] options (JSON, as BullMQ stores them)
  ARGV[5] pod awaiting the result (enqueueAndWait), or ""
  ARGV[6] events stream length (BullMQ's maxLenEvents); "0": no events
  ARGV[7] (optional) trace context of the enqueue, stored as `aqt`: the W3C traceparent, then a
          space and the tracestate if any

  Returns {0} added. A job id already present is not added again (a 'duplicated' event is
  written, as BullMQ does), and the awaiting pod, if any, is added to its waiters:
    {1} it has not finished; {2, return value} it completed; {3, error JSON} it failed.
]]
local rcall = redis.call
--- @include "includes/now"
--- @include "includes/awaitJob"
--- @include "includes/addJobs"

-- KEYS[1] is `<prefix>wait`: every other key of the queue is the prefix and its name.
local prefix = string.sub(KEYS[1], 1, -5)
return addJobs(prefix, ARGV[6], {{ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[7]}})[1]
